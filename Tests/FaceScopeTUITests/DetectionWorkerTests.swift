import FaceScopeCore
import FaceScopeTesting
import Foundation
import Testing

@testable import FaceScopeTUI

/// The browser's re-detection worker through the in-memory library and a scripted analyzer: its
/// thread, its messages, labels kept, new faces given people. No Triton, no Redis.
@Suite("The browser's detection worker through the twins")
struct DetectionWorkerTests {
    static func vector(_ axis: Int) -> [Float] {
        var v = [Float](repeating: 0, count: 128)
        v[axis] = 0.7
        return v
    }

    static func face(_ x: Int, label: Int? = nil, axis: Int) -> Face {
        var face = Face(
            pk: "", bbox: BoundingBox(pk: "", x1: x, y1: 0, x2: x + 50, y2: 50), probability: 90, label: label)
        face.embedding = vector(axis)
        return face
    }

    static func document(_ name: String, _ faces: [Face]) -> ImageDocument {
        ImageDocument(pk: "", filename: name, faces: faces, channels: 3, height: 100, width: 400)
    }

    static func labels(_ library: InMemoryLibrary, _ name: String) -> [Int?] {
        library.documents.first { $0.filename == name }?.faces?.map(\.label) ?? []
    }

    static func run(_ worker: DetectionWorker, _ mailbox: Mailbox, _ request: DetectionRequest) -> [WorkResult] {
        worker.start(request)
        return StoreWorkerTests.collect(mailbox) { results in
            results.contains { if case .detectionFinished = $0 { true } else { false } }
                && results.contains { if case .notice = $0 { true } else { false } }
        }
    }

    @Test("a re-detection keeps the people of faces found again and gives the new faces people")
    func keepsPeople() {
        let library = InMemoryLibrary([
            Self.document("a.jpg", [Self.face(0, label: 7, axis: 1)]), Self.document("b.jpg", []),
            Self.document("c.jpg", [Self.face(0, label: 3, axis: 2)]),
        ])
        let analyzer = ScriptedAnalyzer { file in
            switch file.filename {
            case "a.jpg": return Self.document("a.jpg", [Self.face(2, axis: 1), Self.face(200, axis: 2)])
            default: return Self.document(file.filename, [Self.face(100, axis: 5)])
            }
        }
        let mailbox = Mailbox()
        let worker = DetectionWorker(
            backend: DetectionBackend(store: { library }, analyzer: { analyzer }), mailbox: mailbox)
        let results = Self.run(
            worker, mailbox, DetectionRequest(token: 4, target: .files(["a.jpg", "b.jpg"]), mode: .keepLabels))
        #expect(results.contains { if case .detectionStarted(4, 2) = $0 { true } else { false } })
        #expect(results.filter { if case .detectionImage(4, _) = $0 { true } else { false } }.count == 2)
        #expect(results.contains { if case .detectionFinished(4, false, nil) = $0 { true } else { false } })
        #expect(
            results.contains { if case .notice(let text, false) = $0 { text.hasPrefix("2 new faces") } else { false } })
        // The face on its old box kept 7; the new one near person 3 joined them; b's is new (8).
        #expect(Self.labels(library, "a.jpg") == [7, 3])
        #expect(Self.labels(library, "b.jpg") == [8])
        #expect(analyzer.analysed == ["a.jpg", "b.jpg"])
    }

    @Test("replacing drops the labels of the faces found again; the new faces get people again")
    func replaces() {
        let library = InMemoryLibrary([Self.document("a.jpg", [Self.face(0, label: 7, axis: 1)])])
        let analyzer = ScriptedAnalyzer { _ in Self.document("a.jpg", [Self.face(2, axis: 1)]) }
        let mailbox = Mailbox()
        let worker = DetectionWorker(
            backend: DetectionBackend(store: { library }, analyzer: { analyzer }), mailbox: mailbox)
        _ = Self.run(worker, mailbox, DetectionRequest(token: 1, target: .files(["a.jpg"]), mode: .replace))
        // Label 7 was dropped with the old face: nobody has a label now, and the face found again
        // is the first person, 0.
        #expect(Self.labels(library, "a.jpg") == [0])
    }

    @Test("Triton staying away ends the run with the reason; nothing stored changes")
    func unavailable() {
        let library = InMemoryLibrary([Self.document("a.jpg", [Self.face(0, label: 7, axis: 1)])])
        let analyzer = ScriptedAnalyzer { _ throws(AnalysisError) -> ImageDocument in
            throw .inference(.unavailable("Triton is not ready (503)"))
        }
        let mailbox = Mailbox()
        let worker = DetectionWorker(
            backend: DetectionBackend(store: { library }, analyzer: { analyzer }), mailbox: mailbox)
        worker.start(DetectionRequest(token: 2, target: .files(["a.jpg"]), mode: .keepLabels))
        let results = StoreWorkerTests.collect(mailbox) { results in
            results.contains { if case .detectionFinished = $0 { true } else { false } }
        }
        let error = results.compactMap { result -> String? in
            if case .detectionFinished(2, _, let error?) = result { error } else { nil }
        }.first
        #expect(error?.contains("503") == true)
        #expect(Self.labels(library, "a.jpg") == [7])
    }
}
