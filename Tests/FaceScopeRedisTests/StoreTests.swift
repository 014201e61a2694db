import FaceScopeCore
import FaceScopeRedis
import Foundation
import Testing

@Suite("Store against a real Redis Stack", .enabled(if: TestRedis.available), .serialized)
struct StoreTests {
    static let hostileNames = [
        "plain.jpg", "with space.jpg", " leading and trailing .jpg", "dash-name.jpg", "dots.in.name.jpg",
        "user@host.jpg", "colon:name.jpg", "pipe|name.jpg", "{braces}.jpg", "question?.jpg", "back`tick.jpg",
        "double\"quote.jpg", "single'quote.jpg", "percent%20.jpg", "star*.jpg", "ünïcödé.jpg", "日本語.jpg",
        "emoji 😀🎉.jpg", "back\\slash.jpg", "dir/sub/file.jpg", "tab\tname.jpg", "esc\u{1B}[31m.jpg",
        "semi;comma,.jpg", "(paren)[bracket]<angle>.jpg", "hash#bang!.jpg", "plus+equals=tilde~.jpg",
        "$dollar^caret&.jpg",
        "CaseName.JPG", "casename.jpg", "-", "a", "new\nline.jpg", "bell\u{7}.jpg", "cr\rlf\r\n.jpg", "   ",
    ]

    @Test("every hostile filename is stored once and found by exact match, text and prefix")
    func hostileFilenames() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let results = try store.saveAll(Self.hostileNames.map { document($0, faces: 1) })
        #expect(results.allSatisfy { (try? $0.get()) != nil })
        #expect(try store.count() == Self.hostileNames.count)
        for name in Self.hostileNames {
            let found = try store.get(filename: name)
            #expect(found?.filename == name, "get(filename:) \(name.debugDescription)")
            let exact = try store.search(.exact(name), limit: 10)
            #expect(exact.documents.map(\.filename) == [name], "exact \(name.debugDescription)")
            // Full text never errors, and finds the file when its words are searchable.
            let text = try store.search(.text(name), limit: 100)
            if !SearchPlan(name).isEmpty {
                #expect(
                    text.documents.contains { $0.filename == name },
                    "text \(name.debugDescription) \(SearchPlan(name))")
            }
            let prefix = try store.search(.prefix(String(name.prefix(2))), limit: 100)
            #expect(prefix.documents.contains { $0.filename == name }, "prefix \(name.debugDescription)")
        }
        // Exact match is case-sensitive and byte-exact.
        #expect(try store.get(filename: "CASENAME.JPG") == nil)
        #expect(try store.get(filename: "leading and trailing .jpg") == nil)
    }

    @Test(
        "user search text never produces a syntax error",
        arguments: [
            "\"", "'", "-", "--", "@", "@filename:{x}", "|", "a|b", "*", "**", "(", ")", "{", "}", "[", "]", "~a",
            "%", "%%x%%", "\\", "`", "a -b", "-a", "$", "^", "&&", ":", "::", "user@host", "a-b:c", "100%", "?",
            "holi*", "h*", "*x", "ab*cd*", "😀*", "NOT", "AND OR", "\t\n",
        ])
    func hostileSearchText(text: String) throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        try store.save(document("user@host-a-b:c 100%.jpg"))
        _ = try store.search(.text(text), limit: 10)
        _ = try store.search(.exact(text), limit: 10)
        _ = try store.search(.prefix(text), limit: 10)
    }

    @Test("saving a stored filename updates it in place")
    func upsert() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let first = try store.save(document("same.jpg", faces: 1))
        var second = document("same.jpg", faces: 3)
        second.pk = ""
        let updated = try store.save(second)
        #expect(updated.pk == first.pk)
        #expect(try store.count() == 1)
        #expect(try store.get(pk: first.pk)?.faceCount == 3)
        #expect(try store.list(order: .faces).map(\.faceCount) == [3])
    }

    @Test("two writers racing on the same filenames never duplicate a document")
    func race() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let other = try RedisStore.open(settings: try TestRedis.settings(prefix: store.layout.prefix))
        let names = (0..<200).map { "race/\($0).jpg" }
        let failures = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 4) { worker in
            let s = worker % 2 == 0 ? store : other
            for batch in stride(from: 0, to: names.count, by: 25) {
                let docs = names[batch..<batch + 25].map { document($0, faces: worker) }
                let results = (try? s.saveAll(docs, batchSize: 7)) ?? []
                failures.add(docs.count - results.filter { (try? $0.get()) != nil }.count)
            }
        }
        #expect(failures.value == 0)
        #expect(try store.count() == names.count)
        let listed = try store.list()
        #expect(listed.map(\.filename) == names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
    }

    @Test("listing pages by filename and by face count, both directions")
    func listing() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let docs = (0..<30).map { document(String(format: "img-%02d.jpg", $0), faces: $0 % 4) }
        _ = try store.saveAll(docs.shuffled())
        let all = try store.list()
        #expect(all.map(\.filename) == docs.map(\.filename))
        #expect(try store.list(offset: 10, limit: 5).map(\.filename) == Array(docs[10..<15].map(\.filename)))
        #expect(
            try store.list(descending: true, limit: 3).map(\.filename) == ["img-29.jpg", "img-28.jpg", "img-27.jpg"])
        let byFaces = try store.list(order: .faces)
        #expect(byFaces.map(\.faceCount) == byFaces.map(\.faceCount).sorted())
        #expect(try store.list(order: .faces, descending: true, limit: 1).first?.faceCount == 3)
        #expect(try store.list(offset: 100, limit: 5).isEmpty)
    }

    @Test("delete removes the document")
    func delete() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let a = try store.save(document("a.jpg"))
        try store.save(document("b.jpg"))
        #expect(try store.delete(pk: a.pk))
        #expect(try store.delete(pk: a.pk) == false)
        #expect(try store.list().map(\.filename) == ["b.jpg"])
        #expect(try store.get(filename: "a.jpg") == nil)
    }

    @Test("listing and search go past RediSearch's 10,000-result cap")
    func pastTheCap() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let count = 10_050
        let names = (0..<count).map { String(format: "cap/photo-%05d.jpg", $0) }
        let results = try store.saveAll(names.map { document($0) }, batchSize: 1000)
        #expect(results.count == count)
        #expect(try store.count() == count)
        #expect(try store.list().count == count)
        #expect(try store.list(offset: 10_020, limit: 5).map(\.filename) == Array(names[10_020..<10_025]))
        let search = try store.search(.text("photo"), offset: 10_040, limit: 20)
        #expect(search.total == count)
        #expect(search.documents.map(\.filename) == Array(names[10_040..<10_050]))
        #expect(try store.search(.prefix("cap/photo-100")).documents.count == 50)
    }

    @Test("documents written by another tool are found at once, and a save of their filename keeps their pk")
    func foreignDocuments() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        try store.save(document("ours.jpg"))
        let pk = "01ARZ3NDEKTSV4RRFFQ69G5FAV"
        let foreign =
            #"{"pk":"01ARZ3NDEKTSV4RRFFQ69G5FAV","filename":"theirs.jpg","faces":null,"channels":null,"height":null,"width":null,"portrait":null}"#
        try store.connection.call(["JSON.SET", store.layout.key(pk: pk), "$", foreign])
        #expect(try store.list().map(\.filename) == ["ours.jpg", "theirs.jpg"])
        #expect(try store.get(filename: "theirs.jpg")?.pk == pk)
        #expect(try store.existing(filenames: ["theirs.jpg", "ours.jpg", "nobody.jpg"]) == ["theirs.jpg", "ours.jpg"])
        // Saving the foreign file's name updates the foreign document, keeping its pk.
        let saved = try store.save(document("theirs.jpg", faces: 2))
        #expect(saved.pk == pk)
        #expect(try store.count() == 2)
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var total = 0
    func add(_ n: Int) { lock.withLock { total += n } }
    var value: Int { lock.withLock { total } }
}
