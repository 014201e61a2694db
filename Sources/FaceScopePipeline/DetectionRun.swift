import FaceScopeCore
import Foundation
import Synchronization

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
    /// Why the run stopped before the end: a service stayed unavailable (Triton down or
    /// answering 503, Redis out of memory) through every pause. nil when it ran to the end.
    public var stopped: FaceScopeError?
    /// Images not processed (or processed but not stored) when the run stopped or was cancelled:
    /// a rerun does them.
    public var left = 0
    /// How the files stood against the store (see ``SourceCheck``): new, changed, unchanged
    /// (touched ones included: same content, a new modification time, which was recorded).
    public var new = 0
    public var changed = 0
    public var unchanged = 0
    public var touched = 0

    public init() {}

    public var imagesPerSecond: Double { seconds > 0 ? Double(images) / seconds : 0 }
}

/// A flag that asks a run to stop after the images in flight.
public final class CancellationFlag: Sendable {
    private let value = Atomic(false)
    public init() {}
    public func cancel() { value.store(true, ordering: .releasing) }
    public var isCancelled: Bool { value.load(ordering: .acquiring) }
}

/// Runs the pipeline over many files: decoding, inference and storing overlap across
/// `concurrency` workers, each holding one image at a time (memory stays flat however many
/// files), results stored in pipelined batches as they come. A file that fails is reported and
/// the run goes on; a cancelled run stores everything finished so far, so running it again
/// continues where it stopped.
public final class DetectionRun: Sendable {
    /// What turns a file into a document: the Triton pipeline, or a twin in tests.
    public let pipeline: any ImageAnalyzer
    /// nil for a dry run: nothing is written and no Redis is needed.
    public let store: (any DocumentStore)?
    public let concurrency: Int
    public let storeBatch: Int
    /// What happens to the faces of an image that is stored already: replaced, or replaced with
    /// the labels of faces that still overlap kept (the stored pk and extra fields stay either way).
    public let mergeMode: FaceMergeMode
    /// The pauses (seconds) before trying again while a service is unavailable; when a try after
    /// the last pause fails too, the run stops (nothing more is attempted; a rerun continues).
    public let outagePauses: [Double]

    public init(
        pipeline: any ImageAnalyzer, store: (any DocumentStore)?, concurrency: Int = 4, storeBatch: Int = 32,
        mergeMode: FaceMergeMode = .keepLabels, outageWait: Double = 30
    ) {
        self.pipeline = pipeline
        self.store = store
        self.mergeMode = mergeMode
        outagePauses = Self.pauses(total: outageWait)
        self.concurrency = max(1, concurrency)
        self.storeBatch = max(1, storeBatch)
    }

    /// Pauses doubling from one second whose sum is `total`.
    static func pauses(total: Double) -> [Double] {
        var pauses: [Double] = []
        var left = total
        var next = 1.0
        while left > 0.001 {
            let pause = min(next, left)
            pauses.append(pause)
            left -= pause
            next *= 2
        }
        return pauses
    }

    /// Whether an error means the service may come back: the run pauses instead of failing files.
    static func isOutage(_ error: FaceScopeError) -> Bool {
        // Triton down or answering 503, Redis out of memory: the store and the client say so
        // by the kind of their error, so nothing here reads error text.
        error.isTransient
    }

    /// Processes `files`; those stored and unchanged since are skipped unless `force` (see
    /// ``sourceCheck(_:store:force:)``). While Triton or Redis is
    /// unavailable, workers pause (one of them tries again after each of `outagePauses`) instead
    /// of failing every file; when it stays unavailable the run stops with `stopped` set.
    /// `more`, when given, is asked for further files (one worker at a time) whenever those handed
    /// out so far are taken; its empty answer ends that worker (a queue feeding the run as it goes).
    public func run(
        _ files: [ImageFile], force: Bool, cancel: CancellationFlag = CancellationFlag(),
        more: (@Sendable () -> [ImageFile])? = nil,
        events: @escaping @Sendable (DetectionEvent) -> Void
    ) throws(FaceScopeError) -> DetectionSummary {
        let started = Monotonic.nanoseconds()
        let check = try store.map { store throws(FaceScopeError) in try sourceCheck(files, store: store, force: force) }
        let work = check?.work ?? files
        let skipped = files.count - work.count
        events(.started(total: work.count, skipped: skipped))
        let state = RunState(storeBatch: storeBatch)
        let queue = WorkQueue(work, more: more)
        let gate = OutageGate(pauses: outagePauses, cancel: cancel)
        let workers = more == nil ? min(concurrency, max(1, work.count)) : concurrency
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            while !cancel.isCancelled, gate.enter(worker), let file = queue.next() {
                switch Result(catching: { () throws(FaceScopeError) in try analyzeRecordingSource(file) }) {
                case .success(let document):
                    gate.succeeded(worker)
                    if let ready = state.add(document) { flush(ready, state: state, gate: gate, events: events) }
                    if store == nil { events(.finished(document)) }
                case .failure(let error) where Self.isOutage(error):
                    // Not this file's fault: it goes back to the queue, and the run pauses.
                    queue.putBack(file)
                    gate.failed(worker, error)
                case .failure(let error):
                    gate.succeeded(worker)
                    state.fail()
                    events(.failed(file: file.filename, error: error))
                }
            }
        }
        if gate.stopped == nil { flush(state.drain(), state: state, gate: gate, events: events) }
        if gate.stopped != nil {
            // Analysed but not stored: a rerun does them again.
            for document in state.drain() { state.unstored(document, outage: true) }
        }
        var summary = state.summary
        summary.skipped = skipped
        if let check { summary.count(check) }
        summary.stopped = gate.stopped
        if summary.stopped != nil { summary.left = queue.remaining + state.outageLeft }
        summary.cancelled = cancel.isCancelled && queue.remaining > 0
        if summary.cancelled { summary.left = queue.remaining }
        summary.seconds = Double(Monotonic.nanoseconds() - started) / 1e9
        return summary
    }

    /// Stores documents, each merged with the one stored for its filename as `mergeMode` says.
    private func storeMerged(_ documents: [ImageDocument], in store: any DocumentStore) throws(FaceScopeError)
        -> [Result<ImageDocument, FaceScopeError>]
    {
        let existing = try fromStore(store.documents(filenames: documents.map(\.filename)))
        let merged = documents.map { FaceMerge.updated(existing: existing[$0.filename], detected: $0, mode: mergeMode) }
        return try fromStore(store.saveAll(merged)).map { $0.mapError(FaceScopeError.store) }
    }

    /// Stores a batch. Redis out of memory stops the run at once (waiting does not free memory):
    /// the documents it refused are left for a rerun, not reported one by one.
    private func flush(
        _ documents: [ImageDocument], state: RunState, gate: OutageGate, events: @Sendable (DetectionEvent) -> Void
    ) {
        guard let store, !documents.isEmpty else { return }
        state.withStoreLock {
            switch Result(catching: { () throws(FaceScopeError) in try storeMerged(documents, in: store) }) {
            case .success(let results):
                for (document, result) in zip(documents, results) {
                    switch result {
                    case .success(let saved):
                        events(.finished(saved))
                    case .failure(let error) where Self.isOutage(error):
                        state.unstored(document, outage: true)
                        gate.stop(error)
                    case .failure(let error):
                        state.unstored(document)
                        events(.failed(file: document.filename, error: error))
                    }
                }
            case .failure(let error) where Self.isOutage(error):
                for document in documents { state.unstored(document, outage: true) }
                gate.stop(error)
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
final class WorkQueue: Sendable {
    private struct State {
        var files: [ImageFile]
        var index = 0
        var returned: [ImageFile] = []
    }

    private let state: Mutex<State>
    private let more: (@Sendable () -> [ImageFile])?

    init(_ files: [ImageFile], more: (@Sendable () -> [ImageFile])? = nil) {
        state = Mutex(State(files: files))
        self.more = more
    }

    func next() -> ImageFile? {
        state.withLock { state in
            if let file = state.returned.popLast() { return file }
            if state.index >= state.files.count, let more {
                state.files = more()
                state.index = 0
            }
            guard state.index < state.files.count else { return nil }
            defer { state.index += 1 }
            return state.files[state.index]
        }
    }

    var remaining: Int { state.withLock { $0.files.count - $0.index + $0.returned.count } }

    /// Gives a file back, to be handed out again first.
    func putBack(_ file: ImageFile) { state.withLock { $0.returned.append(file) } }
}

/// Holds the workers while a service is unavailable: the first worker that hits the outage
/// pauses, then tries again with the next file while the others wait; a success lets everyone
/// go on, another failure pauses longer, and after the last pause the run stops.
/// Unchecked: waiting needs a condition variable, which `Mutex` lacks; every stored property
/// below `condition` is read and written only while `condition` is locked.
final class OutageGate: @unchecked Sendable {
    private let condition = NSCondition()
    private let pauses: [Double]
    private let cancel: CancellationFlag
    /// The worker trying again; the others wait.
    private var prober: Int?
    private var failures = 0
    private var stoppedBy: FaceScopeError?

    init(pauses: [Double], cancel: CancellationFlag) {
        self.pauses = pauses
        self.cancel = cancel
    }

    var stopped: FaceScopeError? {
        condition.lock()
        defer { condition.unlock() }
        return stoppedBy
    }

    /// Before a worker takes a file: waits while another worker tries again. false: stop.
    func enter(_ worker: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while let prober, prober != worker, stoppedBy == nil, !cancel.isCancelled {
            _ = condition.wait(until: Date(timeIntervalSinceNow: 0.2))
        }
        return stoppedBy == nil
    }

    /// The worker's file went through (or failed for a reason of its own): the service is back.
    func succeeded(_ worker: Int) {
        condition.lock()
        defer { condition.unlock() }
        guard prober == worker else { return }
        prober = nil
        failures = 0
        condition.broadcast()
    }

    /// The service was unavailable to the worker: pauses it (it then tries again while the others
    /// wait), or stops the run after the last pause.
    func failed(_ worker: Int, _ error: FaceScopeError) {
        condition.lock()
        defer { condition.unlock() }
        // Another worker is trying already: this one waits in `enter`.
        if let prober, prober != worker { return }
        guard failures < pauses.count, stoppedBy == nil else {
            stoppedBy = stoppedBy ?? error
            condition.broadcast()
            return
        }
        prober = worker
        let until = Date(timeIntervalSinceNow: pauses[failures])
        failures += 1
        // Woken early only to notice Ctrl-C.
        while stoppedBy == nil, !cancel.isCancelled, Date() < until {
            _ = condition.wait(until: min(until, Date(timeIntervalSinceNow: 0.2)))
        }
    }

    /// Stops the run now.
    func stop(_ error: FaceScopeError) {
        condition.lock()
        defer { condition.unlock() }
        stoppedBy = stoppedBy ?? error
        condition.broadcast()
    }
}

/// Results waiting to be stored, and the tally.
final class RunState: Sendable {
    private struct State {
        var pending: [ImageDocument] = []
        var oldest: UInt64 = 0
        var summary = DetectionSummary()
        /// Documents Redis refused for want of memory: left for a rerun rather than failed.
        var unstoredByOutage = 0
    }

    private let state = Mutex(State())
    /// Held while a batch is stored, so batches reach the store one at a time.
    private let storeLock = Mutex(())
    private let storeBatch: Int

    init(storeBatch: Int) { self.storeBatch = storeBatch }

    /// Adds a result; returns a batch to store when one is full or the oldest waiting result has
    /// waited a second (so results show up in Redis while a slow run goes on).
    func add(_ document: ImageDocument) -> [ImageDocument]? {
        state.withLock { state in
            let now = Monotonic.nanoseconds()
            if state.pending.isEmpty { state.oldest = now }
            state.pending.append(document)
            state.summary.images += 1
            state.summary.faces += document.faceCount
            guard state.pending.count >= storeBatch || now - state.oldest >= 1_000_000_000 else { return nil }
            defer { state.pending = [] }
            return state.pending
        }
    }

    func drain() -> [ImageDocument] {
        state.withLock { state in
            defer { state.pending = [] }
            return state.pending
        }
    }

    func fail() { state.withLock { $0.summary.failed += 1 } }

    var outageLeft: Int { state.withLock { $0.unstoredByOutage } }

    func unstored(_ document: ImageDocument, outage: Bool = false) {
        state.withLock { state in
            state.summary.images -= 1
            state.summary.faces -= document.faceCount
            if outage { state.unstoredByOutage += 1 } else { state.summary.failed += 1 }
        }
    }

    func withStoreLock(_ body: () -> Void) { storeLock.withLock { _ in body() } }

    var summary: DetectionSummary { state.withLock { $0.summary } }
}
