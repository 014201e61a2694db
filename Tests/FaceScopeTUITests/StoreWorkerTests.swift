import FaceScopeCore
import FaceScopeTesting
import Foundation
import Synchronization
import Testing

@testable import FaceScopeTUI

/// The browser's store worker through the in-memory library: its thread, its messages, its
/// reconnecting after a failure. No Redis.
@Suite("The browser's store worker through the in-memory library")
struct StoreWorkerTests {
    static func document(_ name: String, labels: [Int?] = [], embeddings: [[Float]]? = nil) -> ImageDocument {
        let faces = labels.enumerated().map { i, label in
            var face = Face(
                pk: "\(name)#\(i)", bbox: BoundingBox(pk: "", x1: 10 * i, y1: 0, x2: 10 * i + 8, y2: 8),
                probability: 90 - i, label: label)
            face.embedding = embeddings?[i]
            return face
        }
        return ImageDocument(pk: "pk-\(name)", filename: name, faces: faces, channels: 3, height: 8, width: 80)
    }

    final class Counter: Sendable {
        private let value = Atomic(0)
        func add() { value.wrappingAdd(1, ordering: .relaxed) }
        var count: Int { value.load(ordering: .relaxed) }
    }

    /// A worker on `library`, counting how often it opens it.
    static func worker(_ library: InMemoryLibrary) -> (StoreWorker, Mailbox, opens: Counter) {
        let mailbox = Mailbox()
        let opens = Counter()
        let worker = StoreWorker(mailbox: mailbox) { () throws(StoreError) -> any PhotoLibrary in
            opens.add()
            return library
        }
        return (worker, mailbox, opens)
    }

    /// Waits (on the mailbox's descriptor) until `done` holds for what came, or 5 seconds pass.
    static func collect(_ mailbox: Mailbox, until done: ([WorkResult]) -> Bool) -> [WorkResult] {
        var all: [WorkResult] = []
        let deadline = ContinuousClock.now + .seconds(5)
        while !done(all), ContinuousClock.now < deadline {
            var fd = pollfd(fd: mailbox.readDescriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&fd, 1, 100)
            all += mailbox.drain()
        }
        return all
    }

    static func pages(_ results: [WorkResult]) -> [(rows: [String], total: Int)] {
        results.compactMap {
            if case .page(_, _, let rows, let total, _) = $0 { return (rows.map(\.filename), total) }
            return nil
        }
    }

    @Test("a page of every image comes in byte order, after the people's names")
    func page() {
        let library = InMemoryLibrary(
            [Self.document("b.jpg"), Self.document("B.jpg"), Self.document("a.jpg", labels: [1])], names: [1: "Ada"])
        let (worker, mailbox, _) = Self.worker(library)
        worker.loadPage(
            PageRequest(token: 1, page: 0, offset: 0, limit: 2, source: .all(order: .filename, descending: false)))
        let results = Self.collect(mailbox) { !Self.pages($0).isEmpty }
        let names = results.firstIndex { if case .names(let n) = $0 { return n == [1: "Ada"] } else { return false } }
        let page = results.firstIndex { if case .page = $0 { return true } else { return false } }
        #expect(names != nil && page != nil && (names ?? 0) < (page ?? 0))
        #expect(Self.pages(results).first?.rows == ["B.jpg", "a.jpg"])
        #expect(Self.pages(results).first?.total == 3)
    }

    @Test("a search matches the words of filenames")
    func search() {
        let library = InMemoryLibrary([Self.document("trip/obama_and_biden.jpg"), Self.document("x/IMG_000123.jpg")])
        let (worker, mailbox, _) = Self.worker(library)
        worker.loadPage(PageRequest(token: 2, page: 0, offset: 0, limit: 50, source: .search("biden")))
        let results = Self.collect(mailbox) { !Self.pages($0).isEmpty }
        #expect(Self.pages(results).first?.rows == ["trip/obama_and_biden.jpg"])
    }

    @Test("the library going away fails the request with the cause; the next one opens it again")
    func reconnects() {
        let library = InMemoryLibrary([Self.document("a.jpg")])
        let (worker, mailbox, opens) = Self.worker(library)
        library.failNext(1)
        let request = PageRequest(
            token: 3, page: 0, offset: 0, limit: 10, source: .all(order: .filename, descending: false))
        worker.loadPage(request)
        let failed = Self.collect(mailbox) { $0.contains { if case .pageFailed = $0 { true } else { false } } }
        let error = failed.compactMap { result -> String? in
            if case .pageFailed(_, _, let error) = result { error } else { nil }
        }.first
        #expect(error?.contains("not reachable") == true)
        worker.loadPage(request)
        let again = Self.collect(mailbox) { !Self.pages($0).isEmpty }
        #expect(Self.pages(again).first?.rows == ["a.jpg"])
        #expect(opens.count == 2)
    }

    @Test("renames and merges show in the next read of the people")
    func people() {
        let library = InMemoryLibrary([
            Self.document("a.jpg", labels: [3, 4]), Self.document("b.jpg", labels: [3]),
            Self.document("c.jpg", labels: [5]),
        ])
        let (worker, mailbox, _) = Self.worker(library)
        worker.changePeople(token: 1, change: .rename(label: 5, name: "Ada"))
        worker.changePeople(token: 2, change: .merge(label: 3, into: 5))
        let changed = Self.collect(mailbox) {
            $0.filter { if case .peopleChanged = $0 { true } else { false } }.count == 2
        }
        let messages = changed.compactMap { result -> String? in
            if case .peopleChanged(_, let m, nil) = result { m } else { nil }
        }
        #expect(messages == ["person 5 renamed", "2 faces moved from person 3 to 5"])
        worker.loadPeople(token: 3)
        let read = Self.collect(mailbox) { $0.contains { if case .people = $0 { true } else { false } } }
        let people =
            read.compactMap { result -> [Person]? in if case .people(_, let p) = result { p } else { nil } }
            .first ?? []
        #expect(people.map(\.label) == [5, 4] && people.first?.name == "Ada" && people.first?.faces == 3)
    }

    @Test("more like this: the nearest faces first, the face itself left out")
    func similar() {
        let near: [Float] = [0.1] + Array(repeating: 0, count: 127)
        let far: [Float] = [0.9] + Array(repeating: 0, count: 127)
        let me: [Float] = Array(repeating: 0, count: 128)
        let library = InMemoryLibrary([
            Self.document("far.jpg", labels: [nil], embeddings: [far]),
            Self.document("me.jpg", labels: [nil], embeddings: [me]),
            Self.document("near.jpg", labels: [nil], embeddings: [near]),
        ])
        let (worker, mailbox, _) = Self.worker(library)
        worker.findSimilar(SimilarRequest(token: 9, embedding: me, facePK: "me.jpg#0", limit: 5))
        let results = Self.collect(mailbox) { $0.contains { if case .similar = $0 { true } else { false } } }
        let faces =
            results.compactMap { result -> [SimilarFace]? in if case .similar(_, let f) = result { f } else { nil } }
            .first ?? []
        #expect(faces.map(\.stored.filename) == ["near.jpg", "far.jpg"])
    }

    @Test("a ping counts the images")
    func ping() {
        let library = InMemoryLibrary([Self.document("a.jpg"), Self.document("b.jpg")])
        let (worker, mailbox, _) = Self.worker(library)
        worker.ping()
        let results = Self.collect(mailbox) { $0.contains { if case .redisPing = $0 { true } else { false } } }
        #expect(results.contains { if case .redisPing(2, nil) = $0 { true } else { false } })
    }
}
