import FaceScopeCore

/// How the files of a run stand against the store: which are new, changed or unchanged since
/// their documents were stored, and which must be detected.
public struct SourceCheck: Sendable, Equatable {
    /// The files to run through detection.
    public var work: [ImageFile] = []
    public var new = 0
    public var changed = 0
    /// Unchanged files, touched ones included.
    public var unchanged = 0
    /// Unchanged content with a new modification time: the stored time was updated.
    public var touched = 0

    public init() {}
}

extension DetectionRun {
    /// Compares each file with the document stored under its name, 500 at a time (so memory
    /// holds one chunk of documents): new and changed files are to be detected, unchanged ones
    /// too with `force`. The stored modification time of a touched file whose content is the
    /// same is updated at once (without `force`), so the next run compares by size and time alone.
    /// A file that cannot be read now is handed to detection, which reports why.
    public func sourceCheck(_ files: [ImageFile], store: any DocumentStore, force: Bool) throws(FaceScopeError)
        -> SourceCheck
    {
        var check = SourceCheck()
        var start = 0
        while start < files.count {
            let chunk = files[start..<min(files.count, start + 500)]
            start += chunk.count
            let stored = try fromStore(store.documents(filenames: chunk.map(\.filename)))
            var touched: [(pk: String, filename: String, source: FileSource)] = []
            for file in chunk {
                let document = stored[file.filename]
                let change = (try? SourceFiles.compare(file.path, stored: document)) ?? .changed
                switch change {
                case .new:
                    check.new += 1
                    check.work.append(file)
                case .changed:
                    check.changed += 1
                    check.work.append(file)
                case .unchanged:
                    check.unchanged += 1
                    if force { check.work.append(file) }
                case .touched(let source):
                    check.unchanged += 1
                    check.touched += 1
                    if force {
                        check.work.append(file)
                    } else if let document {
                        touched.append((document.pk, document.filename, source))
                    }
                }
            }
            try fromStore(store.recordSources(touched))
        }
        return check
    }

    /// Detects one file and records what the document was computed from (size and time taken
    /// before reading, so a file that changes meanwhile looks changed to the next run).
    func analyzeRecordingSource(_ file: ImageFile) throws(FaceScopeError) -> ImageDocument {
        let source = try? SourceFiles.fingerprint(file.path)
        var document = try fromAnalysis(pipeline.analyze(file))
        if let source { document.source = source }
        return document
    }
}

extension DetectionSummary {
    /// Takes the counts of a source check.
    mutating func count(_ check: SourceCheck) {
        new = check.new
        changed = check.changed
        unchanged = check.unchanged
        touched = check.touched
    }
}
