import FaceScopeCore
import Foundation
import Testing

@testable import FaceScopePipeline

/// A folder of its own under the system's temporary folder, removed afterwards.
private final class Scratch {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "facescope-sources-\(UUID().uuidString)"
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }

    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let file = path + "/" + name
        try? FileManager.default.createDirectory(
            atPath: (file as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
        return file
    }
}

@Suite("What stored documents were computed from: sizes, times, SHA-256, presence")
struct SourceFilesTests {
    @Test("SHA-256 of files: the standard test vectors, and a file larger than the read buffer")
    func sha256() throws {
        let scratch = Scratch()
        #expect(
            try SourceFiles.sha256(scratch.write("empty", ""))
                == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(
            try SourceFiles.sha256(scratch.write("abc", "abc"))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        // One million 'a's (FIPS 180-2's long vector) crosses the one-megabyte read buffer.
        let big = scratch.write("big", String(repeating: "a", count: 1_000_000))
        #expect(try SourceFiles.sha256(big) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
        #expect(throws: FaceScopeError.self) { try SourceFiles.sha256(scratch.path + "/missing") }
    }

    @Test("the source field round-trips through the document's JSON; another tool's 'source' is not one")
    func field() throws {
        var doc = ImageDocument(pk: "01HZY8Q5J3K2M4N6P8R0S2T4V6", filename: "a.jpg", faces: [])
        let source = FileSource(
            size: 12, mtimeNanoseconds: 1_700_000_000_123_456_789, sha256: String(repeating: "ab", count: 32))
        doc.source = source
        let reread = try ImageDocument(json: try JSONValue.parse(doc.json.serialized))
        #expect(reread.source == source)
        #expect(reread.json.serialized.contains("\"source\":{\"size\":12,\"mtime_ns\":1700000000123456789,\"sha256\""))
        let foreign = try ImageDocument(
            json: try JSONValue.parse(#"{"pk":"x","filename":"a.jpg","faces":[],"source":"camera"}"#))
        #expect(foreign.source == nil)
        #expect(foreign.extra.count == 1)
    }

    @Test("re-detection keeps the stored document's extra fields but records the new source")
    func mergeKeepsNewSource() {
        var stored = ImageDocument(
            pk: "01HZY8Q5J3K2M4N6P8R0S2T4V6", filename: "a.jpg", faces: [],
            extra: [ExtraField(name: "mine", value: .string("kept"))])
        stored.source = FileSource(size: 1, mtimeNanoseconds: 1, sha256: nil)
        var detected = ImageDocument(pk: "", filename: "a.jpg", faces: [])
        detected.source = FileSource(size: 2, mtimeNanoseconds: 2, sha256: nil)
        let merged = FaceMerge.updated(existing: stored, detected: detected, mode: .keepLabels)
        #expect(merged.pk == stored.pk)
        #expect(merged.source == detected.source)
        #expect(merged.extra.contains { $0.name == "mine" })
    }

    @Test("new, unchanged, touched (same content, new time) and changed files")
    func compare() throws {
        let scratch = Scratch()
        let file = scratch.write("a.jpg", "first")
        #expect(try SourceFiles.compare(file, stored: nil) == .new)
        var doc = ImageDocument(pk: "01HZY8Q5J3K2M4N6P8R0S2T4V6", filename: "a.jpg")
        #expect(try SourceFiles.compare(file, stored: doc) == .unchanged)  // stored before sources
        doc.source = try SourceFiles.fingerprint(file)
        #expect(try SourceFiles.compare(file, stored: doc) == .unchanged)
        let recorded = try #require(doc.source)
        let later = timespec(tv_sec: Int(recorded.mtimeNanoseconds / 1_000_000_000) + 10, tv_nsec: 0)
        var times = [later, later]
        #expect(utimensat(AT_FDCWD, file, &times, 0) == 0)
        guard case .touched(let touched) = try SourceFiles.compare(file, stored: doc) else {
            Issue.record("a touched file with the same content should be 'touched'")
            return
        }
        #expect(touched.sha256 == recorded.sha256 && touched.mtimeNanoseconds != recorded.mtimeNanoseconds)
        scratch.write("a.jpg", "other")  // same size, other bytes
        #expect(try SourceFiles.compare(file, stored: doc) == .changed)
        scratch.write("a.jpg", "longer content")
        #expect(try SourceFiles.compare(file, stored: doc) == .changed)
    }

    @Test("a deleted file is gone; one under an empty folder (an unmounted share) or a missing root is unknown")
    func presence() {
        let scratch = Scratch()
        scratch.write("keep.jpg", "x")
        scratch.write("sub/gone.jpg", "x")
        try? FileManager.default.removeItem(atPath: scratch.path + "/sub/gone.jpg")
        try? FileManager.default.createDirectory(atPath: scratch.path + "/nas", withIntermediateDirectories: true)
        var checker = FilePresenceChecker(imagesRoot: scratch.path)
        #expect(checker.rootProblem() == nil)
        #expect(checker.presence(of: "keep.jpg") == .present)
        #expect(checker.presence(of: "sub/gone.jpg") == .gone)
        #expect(checker.presence(of: "deleted-folder/a.jpg") == .gone)
        guard case .unknown(let reason) = checker.presence(of: "nas/2020/a.jpg") else {
            Issue.record("a file under an empty folder should be unknown")
            return
        }
        #expect(reason.contains("is empty"))

        var missing = FilePresenceChecker(imagesRoot: scratch.path + "/not-mounted")
        #expect(missing.rootProblem()?.contains("does not exist") == true)
        guard case .unknown = missing.presence(of: "a.jpg") else {
            Issue.record("a file of a missing images folder should be unknown")
            return
        }
    }

    @Test("a file settles once no event came for the quiet time and its size stayed the same")
    func settling() {
        let scratch = Scratch()
        let file = scratch.write("a.jpg", "part")
        var settling = SettlingFiles(quiet: 1)
        settling.note(file, now: 100)
        #expect(settling.ready(now: 100.5).isEmpty)
        scratch.write("a.jpg", "part and more")  // grew without an event reaching us yet
        #expect(settling.ready(now: 101).isEmpty)
        #expect(settling.ready(now: 101.5).isEmpty)
        #expect(settling.ready(now: 102) == [file])
        #expect(settling.isEmpty)
    }

    @Test("inotify: a file written in a new subfolder, and a deleted file, are reported")
    func watcher() throws {
        let scratch = Scratch()
        let watcher = try FolderWatcher()
        #expect(watcher.watchTree(scratch.path).isEmpty)
        try FileManager.default.createDirectory(atPath: scratch.path + "/new", withIntermediateDirectories: true)
        var events: [FolderEvent] = []
        let deadline = Date().addingTimeInterval(10)
        while !events.contains(where: { if case .folderAdded = $0 { return true } else { return false } }),
            Date() < deadline
        {
            events += watcher.next(timeout: 100)
        }
        #expect(events.contains(.folderAdded(scratch.path + "/new", files: [])))
        let file = scratch.write("new/a.jpg", "x")
        events = []
        while !events.contains(.written(file)), Date() < deadline { events += watcher.next(timeout: 100) }
        #expect(events.contains(.written(file)))
        try FileManager.default.removeItem(atPath: file)
        while !events.contains(.removed(file)), Date() < deadline { events += watcher.next(timeout: 100) }
        #expect(events.contains(.removed(file)))
    }
}
