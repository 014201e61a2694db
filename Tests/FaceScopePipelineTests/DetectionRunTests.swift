import FaceScopeCore
import FaceScopePipeline
import FaceScopeTesting
import Foundation
import Synchronization
import Testing

/// The run logic (skipping, forcing, changed files, merging labels, batches, cancelling, errors of
/// the analyzer and the store) through the in-memory twins: no Triton, no Redis.
@Suite("Detection runs through the in-memory twins")
struct DetectionRunTests {
    /// A folder of small files standing in for images (the scripted analyzer never decodes them).
    final class Folder {
        let path: String
        init(_ names: [String]) throws {
            path = NSTemporaryDirectory() + "facescope-run-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            for name in names { try write(name, "pixels of \(name)") }
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }

        func write(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + name))
        }

        /// Sets the modification time `seconds` later than it is.
        func touch(_ name: String, later seconds: Double) throws {
            let url = URL(fileURLWithPath: path + "/" + name)
            let date = try FileManager.default.attributesOfItem(atPath: url.path)[.modificationDate] as? Date ?? Date()
            try FileManager.default.setAttributes(
                [.modificationDate: date.addingTimeInterval(seconds)], ofItemAtPath: url.path)
        }

        func files(_ names: [String]) -> [ImageFile] {
            names.map { ImageFile(path: path + "/" + $0, filename: $0) }
        }
    }

    /// One face at a fixed box per image; `label` as given.
    static func document(_ file: ImageFile, label: Int? = nil) -> ImageDocument {
        let face = Face(
            pk: "", bbox: BoundingBox(pk: "", x1: 10, y1: 10, x2: 60, y2: 70), probability: 90, label: label)
        return ImageDocument(pk: "", filename: file.filename, faces: [face], channels: 3, height: 100, width: 100)
    }

    static let names = ["a.jpg", "b.jpg", "c.jpg", "d.jpg", "e.jpg"]

    func run(
        _ analyzer: ScriptedAnalyzer, _ store: InMemoryDocumentStore, _ files: [ImageFile], force: Bool = false,
        batch: Int = 32, mode: FaceMergeMode = .keepLabels, cancel: CancellationFlag = CancellationFlag(),
        outageWait: Double = 0.05
    ) throws -> (DetectionSummary, failed: [String]) {
        let failed = Mutex<[String]>([])
        let runner = DetectionRun(
            pipeline: analyzer, store: store, concurrency: 1, storeBatch: batch, mergeMode: mode,
            outageWait: outageWait)
        let summary = try runner.run(files, force: force, cancel: cancel) { event in
            if case .failed(let file, _) = event { failed.withLock { $0.append(file) } }
        }
        return (summary, failed.withLock { $0 })
    }

    @Test("new files are analysed once each and stored in batches of the batch size")
    func batches() throws {
        let folder = try Folder(Self.names)
        let store = InMemoryDocumentStore()
        let analyzer = ScriptedAnalyzer { Self.document($0) }
        let (summary, failed) = try run(analyzer, store, folder.files(Self.names), batch: 2)
        #expect(summary.images == 5 && summary.faces == 5 && summary.new == 5 && failed.isEmpty)
        #expect(store.saveBatches.map(\.count) == [2, 2, 1])
        #expect(store.all.map(\.filename) == Self.names)
        #expect(store.all.allSatisfy { ULIDGenerator.isValid($0.pk) && $0.source != nil })
    }

    @Test("a second run skips unchanged files; force analyses them again without duplicates")
    func skipAndForce() throws {
        let folder = try Folder(Self.names)
        let store = InMemoryDocumentStore()
        let analyzer = ScriptedAnalyzer { Self.document($0) }
        _ = try run(analyzer, store, folder.files(Self.names))
        let pks = store.all.map(\.pk)
        let (again, _) = try run(analyzer, store, folder.files(Self.names))
        #expect(again.skipped == 5 && again.unchanged == 5 && again.images == 0)
        #expect(analyzer.analysed.count == 5)
        let (forced, _) = try run(analyzer, store, folder.files(Self.names), force: true)
        #expect(forced.images == 5 && forced.skipped == 0)
        #expect(analyzer.analysed.count == 10)
        #expect(store.all.map(\.pk) == pks)
    }

    @Test("a touched file with the same content is not analysed; its new time is recorded")
    func touched() throws {
        let folder = try Folder(["a.jpg"])
        let store = InMemoryDocumentStore()
        let analyzer = ScriptedAnalyzer { Self.document($0) }
        _ = try run(analyzer, store, folder.files(["a.jpg"]))
        let before = store.all.first?.source
        try folder.touch("a.jpg", later: 60)
        let (summary, _) = try run(analyzer, store, folder.files(["a.jpg"]))
        #expect(summary.touched == 1 && summary.images == 0 && analyzer.analysed.count == 1)
        let after = store.all.first?.source
        #expect(after?.sha256 == before?.sha256 && after?.mtimeNanoseconds != before?.mtimeNanoseconds)
    }

    @Test("a changed file is analysed again and keeps the labels of faces that still overlap (unless replaced)")
    func changedKeepsLabels() throws {
        let folder = try Folder(["a.jpg", "b.jpg"])
        let store = InMemoryDocumentStore()
        let analyzer = ScriptedAnalyzer { Self.document($0) }
        _ = try run(analyzer, store, folder.files(["a.jpg", "b.jpg"]))
        var labelled = store.all
        for i in labelled.indices { labelled[i].faces?[0].label = 7 }
        _ = try store.saveAll(labelled)
        try folder.write("a.jpg", "new pixels, another size")
        try folder.write("b.jpg", "other pixels, another size")
        let (summary, _) = try run(analyzer, store, folder.files(["a.jpg"]))
        #expect(summary.changed == 1 && summary.images == 1)
        #expect(store.all.first { $0.filename == "a.jpg" }?.faces?.first?.label == 7)
        let (replaced, _) = try run(analyzer, store, folder.files(["b.jpg"]), mode: .replace)
        #expect(replaced.changed == 1)
        #expect(store.all.first { $0.filename == "b.jpg" }?.faces?.first?.label == nil)
        #expect(store.all.map(\.pk) == labelled.map(\.pk))
    }

    @Test("a file the analyzer refuses is reported by name; the rest of the batch is stored")
    func analyzerFailure() throws {
        let folder = try Folder(Self.names)
        let store = InMemoryDocumentStore()
        let analyzer = ScriptedAnalyzer { file throws(AnalysisError) in
            if file.filename == "c.jpg" { throw .image(ImageError(path: file.path, reason: "not an image")) }
            return Self.document(file)
        }
        let (summary, failed) = try run(analyzer, store, folder.files(Self.names), batch: 2)
        #expect(failed == ["c.jpg"] && summary.failed == 1 && summary.images == 4)
        #expect(store.all.map(\.filename) == ["a.jpg", "b.jpg", "d.jpg", "e.jpg"])
    }

    @Test("a document the store refuses fails that file only")
    func storeRefusesOne() throws {
        let folder = try Folder(Self.names)
        let store = InMemoryDocumentStore()
        store.failSaving("b.jpg", with: .refused("b.jpg: Redis refused the document: too big"))
        let (summary, failed) = try run(ScriptedAnalyzer { Self.document($0) }, store, folder.files(Self.names))
        #expect(failed == ["b.jpg"] && summary.failed == 1 && summary.images == 4)
        #expect(!store.all.map(\.filename).contains("b.jpg") && store.all.count == 4)
    }

    @Test("Redis out of memory stops the run with the count left; a rerun stores the rest once")
    func storeOutOfMemory() throws {
        let folder = try Folder(Self.names)
        let store = InMemoryDocumentStore()
        let analyzer = ScriptedAnalyzer { Self.document($0) }
        _ = try store.saveAll([Self.document(ImageFile(path: "/elsewhere/z.jpg", filename: "z.jpg"))])
        store.failNextSave(with: .unavailable("Redis is out of memory (maxmemory), not stored"))
        let (summary, failed) = try run(analyzer, store, folder.files(Self.names), batch: 2)
        #expect(summary.stopped != nil && failed.isEmpty)
        #expect(summary.left > 0 && summary.images + summary.left == 5)
        let (rerun, _) = try run(analyzer, store, folder.files(Self.names), batch: 2)
        #expect(rerun.stopped == nil)
        #expect(store.all.map(\.filename) == Self.names + ["z.jpg"])
    }

    @Test("cancelling stores what finished; a rerun does only the rest")
    func cancel() throws {
        let folder = try Folder(Self.names)
        let store = InMemoryDocumentStore()
        let flag = CancellationFlag()
        let analyzer = ScriptedAnalyzer { file in
            if file.filename == "c.jpg" { flag.cancel() }
            return Self.document(file)
        }
        let (summary, _) = try run(analyzer, store, folder.files(Self.names), batch: 1, cancel: flag)
        #expect(summary.cancelled && summary.left == 2 && summary.images == 3)
        #expect(store.all.map(\.filename) == ["a.jpg", "b.jpg", "c.jpg"])
        let (rerun, _) = try run(analyzer, store, folder.files(Self.names))
        #expect(rerun.images == 2 && rerun.skipped == 3)
        #expect(analyzer.analysed == Self.names)
    }

    @Test("Triton unavailable for a moment: the file is tried again, nothing fails")
    func outageThenBack() throws {
        let folder = try Folder(Self.names)
        let store = InMemoryDocumentStore()
        let outages = Mutex(1)
        let analyzer = ScriptedAnalyzer { file throws(AnalysisError) in
            let down = outages.withLock { left in
                defer { left = max(0, left - 1) }
                return left > 0
            }
            if down { throw .inference(.unavailable("Triton is not ready (503)")) }
            return Self.document(file)
        }
        let (summary, failed) = try run(analyzer, store, folder.files(Self.names))
        #expect(failed.isEmpty && summary.stopped == nil && summary.images == 5)
        #expect(analyzer.analysed.count == 6 && store.all.count == 5)
    }

    @Test("Triton staying away stops the run; nothing is marked failed")
    func outageStays() throws {
        let folder = try Folder(Self.names)
        let store = InMemoryDocumentStore()
        let analyzer = ScriptedAnalyzer { _ throws(AnalysisError) -> ImageDocument in
            throw .inference(.unavailable("Triton is not ready (503)"))
        }
        let (summary, failed) = try run(analyzer, store, folder.files(Self.names), outageWait: 0.03)
        #expect(summary.stopped != nil && failed.isEmpty && summary.left == 5 && store.all.isEmpty)
    }
}
