import FaceScopeCore
import FaceScopeRedis
import Foundation

/// What a detection run reports while it works.
public enum DetectionEvent: Sendable {
    /// The run knows its work: `total` files to process, `skipped` already stored.
    case started(total: Int, skipped: Int)
    /// One image finished (stored, unless the run is a dry run).
    case finished(ImageDocument)
    /// One image failed; the others go on.
    case failed(file: String, error: FaceScopeError)
}

/// The tally of a run.
public struct DetectionSummary: Sendable, Equatable {
    public var images = 0
    public var faces = 0
    public var skipped = 0
    public var failed = 0
    public var cancelled = false
    public var seconds = 0.0

    public init() {}

    public var imagesPerSecond: Double { seconds > 0 ? Double(images) / seconds : 0 }
}

/// A flag that asks a run to stop after the images in flight.
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    public init() {}
    public func cancel() { lock.withLock { value = true } }
    public var isCancelled: Bool { lock.withLock { value } }
}

/// Runs the pipeline over many files: decoding, inference and storing overlap across
/// `concurrency` workers, each holding one image at a time (memory stays flat however many
/// files), results stored in pipelined batches as they come. A file that fails is reported and
/// the run goes on; a cancelled run stores everything finished so far, so running it again
/// continues where it stopped.
public final class DetectionRun: Sendable {
    public let pipeline: DetectionPipeline
    /// nil for a dry run: nothing is written and no Redis is needed.
    public let store: RedisStore?
    public let concurrency: Int
    public let storeBatch: Int
    /// What happens to the faces of an image that is stored already: replaced, or replaced with
    /// the labels of faces that still overlap kept (the stored pk and extra fields stay either way).
    public let mergeMode: FaceMergeMode

    public init(
        pipeline: DetectionPipeline, store: RedisStore?, concurrency: Int = 4, storeBatch: Int = 32,
        mergeMode: FaceMergeMode = .keepLabels
    ) {
        self.pipeline = pipeline
        self.store = store
        self.mergeMode = mergeMode
        self.concurrency = max(1, concurrency)
        self.storeBatch = max(1, storeBatch)
    }

    /// Processes `files`; those already stored are skipped unless `force`.
    public func run(
        _ files: [ImageFile], force: Bool, cancel: CancellationFlag = CancellationFlag(),
        events: @escaping @Sendable (DetectionEvent) -> Void
    ) throws(FaceScopeError) -> DetectionSummary {
        let started = DispatchTime.now().uptimeNanoseconds
        var work = files
        var skipped = 0
        if let store, !force {
            let stored = try store.existing(filenames: files.map(\.filename))
            work = files.filter { !stored.contains($0.filename) }
            skipped = files.count - work.count
        }
        events(.started(total: work.count, skipped: skipped))
        let state = RunState(storeBatch: storeBatch)
        let queue = WorkQueue(work)
        let workers = min(concurrency, max(1, work.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while !cancel.isCancelled, let file = queue.next() {
                switch Result(catching: { () throws(FaceScopeError) in try pipeline.analyze(file) }) {
                case .success(let document):
                    if let ready = state.add(document) { flush(ready, state: state, events: events) }
                    if store == nil { events(.finished(document)) }
                case .failure(let error):
                    state.fail()
                    events(.failed(file: file.filename, error: error))
                }
            }
        }
        flush(state.drain(), state: state, events: events)
        var summary = state.summary
        summary.skipped = skipped
        summary.cancelled = cancel.isCancelled && queue.remaining > 0
        summary.seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        return summary
    }

    /// Stores documents, each merged with the one stored for its filename as `mergeMode` says.
    private func storeMerged(_ documents: [ImageDocument], in store: RedisStore) throws(FaceScopeError)
        -> [Result<ImageDocument, FaceScopeError>]
    {
        let existing = try store.documents(filenames: documents.map(\.filename))
        return try store.saveAll(
            documents.map { FaceMerge.updated(existing: existing[$0.filename], detected: $0, mode: mergeMode) })
    }

    private func flush(_ documents: [ImageDocument], state: RunState, events: @Sendable (DetectionEvent) -> Void) {
        guard let store, !documents.isEmpty else { return }
        state.withStoreLock {
            switch Result(catching: { () throws(FaceScopeError) in try storeMerged(documents, in: store) }) {
            case .success(let results):
                for (document, result) in zip(documents, results) {
                    switch result {
                    case .success(let saved):
                        events(.finished(saved))
                    case .failure(let error):
                        state.unstored(document)
                        events(.failed(file: document.filename, error: error))
                    }
                }
            case .failure(let error):
                for document in documents {
                    state.unstored(document)
                    events(.failed(file: document.filename, error: error))
                }
            }
        }
    }
}

/// Hands out files to workers.
final class WorkQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let files: [ImageFile]
    private var index = 0

    init(_ files: [ImageFile]) { self.files = files }

    func next() -> ImageFile? {
        lock.withLock {
            guard index < files.count else { return nil }
            defer { index += 1 }
            return files[index]
        }
    }

    var remaining: Int { lock.withLock { files.count - index } }
}

/// Results waiting to be stored, and the tally.
final class RunState: @unchecked Sendable {
    private let lock = NSLock()
    private let storeLock = NSLock()
    private let storeBatch: Int
    private var pending: [ImageDocument] = []
    private var oldest: UInt64 = 0
    private(set) var summaryValue = DetectionSummary()

    init(storeBatch: Int) { self.storeBatch = storeBatch }

    /// Adds a result; returns a batch to store when one is full or the oldest waiting result has
    /// waited a second (so results show up in Redis while a slow run goes on).
    func add(_ document: ImageDocument) -> [ImageDocument]? {
        lock.withLock {
            let now = DispatchTime.now().uptimeNanoseconds
            if pending.isEmpty { oldest = now }
            pending.append(document)
            summaryValue.images += 1
            summaryValue.faces += document.faceCount
            guard pending.count >= storeBatch || now - oldest >= 1_000_000_000 else { return nil }
            defer { pending = [] }
            return pending
        }
    }

    func drain() -> [ImageDocument] {
        lock.withLock {
            defer { pending = [] }
            return pending
        }
    }

    func fail() { lock.withLock { summaryValue.failed += 1 } }

    func unstored(_ document: ImageDocument) {
        lock.withLock {
            summaryValue.images -= 1
            summaryValue.faces -= document.faceCount
            summaryValue.failed += 1
        }
    }

    func withStoreLock(_ body: () -> Void) { storeLock.withLock(body) }

    var summary: DetectionSummary { lock.withLock { summaryValue } }
}
