import FaceScopeCore
import FaceScopeRedis
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A file chosen for the queue, and whether it is detected even if it is stored.
public struct QueueCandidate: Sendable, Equatable {
    public var filename: String
    public var force: Bool

    public init(filename: String, force: Bool) {
        self.filename = filename
        self.force = force
    }
}

/// Which files `enqueue` puts on the queue.
public enum QueueSelection {
    /// The files to do among `candidates`: all of them with `force`, else those not stored yet
    /// and those whose content changed since their documents were stored (size and time, then
    /// the content hash, as `detect` decides).
    public static func filesToDo(_ candidates: [ImageFile], force: Bool, store: RedisStore) throws(FaceScopeError)
        -> [QueueCandidate]
    {
        if force { return candidates.map { QueueCandidate(filename: $0.filename, force: true) } }
        // New files, and changed ones (their content differs from what their documents were
        // computed from: forced, so the worker detects them again although they are stored).
        var todo: [QueueCandidate] = []
        var start = 0
        while start < candidates.count {
            let chunk = candidates[start..<min(candidates.count, start + 500)]
            start += chunk.count
            let stored = try fromStore(store.documents(filenames: chunk.map(\.filename)))
            for file in chunk {
                switch (try? SourceFiles.compare(file.path, stored: stored[file.filename])) ?? .changed {
                case .new: todo.append(QueueCandidate(filename: file.filename, force: false))
                case .changed: todo.append(QueueCandidate(filename: file.filename, force: true))
                case .unchanged, .touched: break
                }
            }
        }
        return todo
    }
}

/// What a queue worker reports while it works.
public enum QueueWorkerEvent: Sendable {
    /// A file was stored and its entry acknowledged.
    case stored(ImageDocument)
    /// A file not forced was stored already when its turn came (queued twice, or detected since).
    case skipped(filename: String)
    /// A file failed and stays in the queue to be tried again (by any worker) after the reclaim
    /// time; `attempt` of `maxAttempts`.
    case willRetry(filename: String, error: String, attempt: Int)
    /// A file failed for good and went to the dead letters.
    case deadLettered(filename: String, error: String)
    /// Entries of a stopped worker were claimed.
    case reclaimed(count: Int)
}

/// How a worker ended.
public struct QueueWorkSummary: Sendable, Equatable {
    public var stored = 0
    public var faces = 0
    public var skipped = 0
    public var retried = 0
    public var deadLettered = 0
    public var reclaimed = 0
    /// Entries given back to the queue when the worker stopped early.
    public var released = 0
    public var cancelled = false
    /// Why the worker stopped before the queue was drained (Redis failing, a service down).
    public var stopped: FaceScopeError?
    public var seconds = 0.0

    public init() {}
}

/// Takes files from the detection queue and detects them with a `DetectionRun` (the same
/// pipeline, merge and store as `detect`), acknowledging each entry after its document is saved.
///
/// Failures: a file that cannot be read or decoded (`FaceScopeError.file`: corrupt, truncated,
/// too large, not an image) goes to the dead letters at once, since trying the same bytes again
/// cannot help; any other failure (the file missing on this host, Triton or Redis refusing it)
/// leaves the entry pending, to be claimed and tried again by any worker after `reclaimAfter`,
/// until it has been delivered `maxAttempts` times.
public final class QueueWorker: Sendable {
    public struct Options: Sendable {
        /// The consumer name (hostname:pid by default).
        public var consumer: String
        /// Keep waiting for new entries when the queue is empty, instead of exiting.
        public var follow = false
        /// Seconds an entry stays untouched before another worker may claim it.
        public var reclaimAfter = 60.0
        /// Deliveries after which a failing file goes to the dead letters.
        public var maxAttempts = 3
        /// The folder queued filenames are relative to.
        public var imagesRoot: String

        public init(consumer: String, imagesRoot: String) {
            self.consumer = consumer
            self.imagesRoot = imagesRoot
        }
    }

    public let run: DetectionRun
    public let store: RedisStore
    /// For taking and finishing entries (a connection of its own: a blocking read holds it).
    public let queue: DetectionQueue
    /// For heartbeats, on a connection of their own, so nothing delays them.
    public let heartbeatQueue: DetectionQueue
    /// For blocking reads while the queue is empty, on a connection of their own, so the
    /// acknowledgements of files finishing meanwhile do not wait for them.
    public let waitQueue: DetectionQueue
    public let options: Options

    public init(
        run: DetectionRun, store: RedisStore, queue: DetectionQueue, heartbeatQueue: DetectionQueue,
        waitQueue: DetectionQueue, options: Options
    ) {
        self.run = run
        self.store = store
        self.queue = queue
        self.heartbeatQueue = heartbeatQueue
        self.waitQueue = waitQueue
        self.options = options
    }

    /// The default consumer name: host name and process ID.
    public static func defaultConsumerName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        let host =
            gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "host"
        return "\(host):\(getpid())"
    }

    /// How long a blocking read waits at most: under the command timeout, and short enough to
    /// notice Ctrl-C and entries to reclaim.
    var blockSeconds: Double {
        min(2, max(0.05, options.reclaimAfter / 2), waitQueue.longestBlock)
    }

    /// Works until the queue is drained (or for ever with `follow`), Ctrl-C, or a failure of
    /// Redis that lasts. Throws only when the queue cannot be read at the start.
    public func work(cancel: CancellationFlag, events: @escaping @Sendable (QueueWorkerEvent) -> Void)
        throws(FaceScopeError) -> QueueWorkSummary
    {
        let started = Monotonic.nanoseconds()
        try fromStore(queue.ensureGroup())
        let state = WorkerState()
        let heartbeat = startHeartbeat(state)
        defer { heartbeat.cancel() }
        let consumer = options.consumer
        let detection = try run.run(
            [], force: true, cancel: cancel,
            more: { [self] in
                next(state: state, cancel: cancel, events: events)
            }
        ) { [self] event in
            handle(event, state: state, events: events)
        }
        heartbeat.cancel()
        // Entries taken and not finished (stopped early): back to the queue at once.
        var summary = state.summary
        let left = state.takeAll()
        if !left.isEmpty {
            do throws(StoreError) {
                try queue.release(left)
                summary.released = left.count
            } catch {
                // They stay pending: another worker claims them after the reclaim time.
                summary.stopped = summary.stopped ?? .store(error)
            }
        }
        if summary.stopped == nil { summary.stopped = detection.stopped }
        summary.cancelled = cancel.isCancelled
        try? queue.leave(consumer: consumer)
        summary.seconds = Double(Monotonic.nanoseconds() - started) / 1e9
        return summary
    }

    /// The next files for the run (called by one thread of it at a time); empty: that thread ends.
    private func next(state: WorkerState, cancel: CancellationFlag, events: @Sendable (QueueWorkerEvent) -> Void)
        -> [ImageFile]
    {
        while !cancel.isCancelled, state.summary.stopped == nil {
            do throws(StoreError) {
                var entries: [QueueEntry] = []
                if state.reclaimDue(every: max(0.5, options.reclaimAfter / 4)) {
                    var cursor = state.cursor
                    entries = try queue.reclaim(
                        consumer: options.consumer, minIdle: options.reclaimAfter, count: 8, cursor: &cursor)
                    state.cursor = cursor
                    // Entries this worker holds already (a heartbeat came late) are not taken twice.
                    entries.removeAll { state.holds($0.id) }
                    if !entries.isEmpty {
                        state.update { $0.reclaimed += entries.count }
                        events(.reclaimed(count: entries.count))
                    }
                }
                if entries.isEmpty { entries = try queue.read(consumer: options.consumer, count: 1) }
                if entries.isEmpty {
                    // Drained when every entry left is one of ours (in the run's hands).
                    if !options.follow, try queue.length() <= state.count { return [] }
                    entries = try waitQueue.read(consumer: options.consumer, count: 1, block: blockSeconds)
                    if entries.isEmpty { continue }
                }
                let files = try admit(entries, state: state, events: events)
                if !files.isEmpty { return files }
            } catch {
                state.update { $0.stopped = $0.stopped ?? .store(error) }
            }
        }
        return []
    }

    /// Turns entries into files for the run: entries over their attempts go to the dead letters,
    /// names outside the images folder too, files not forced that are stored already are
    /// acknowledged as skipped, and files this host does not see wait for another worker.
    private func admit(_ entries: [QueueEntry], state: WorkerState, events: @Sendable (QueueWorkerEvent) -> Void)
        throws(StoreError) -> [ImageFile]
    {
        var candidates: [QueueEntry] = []
        let noted = try queue.lastErrors(entries.filter { $0.deliveries > options.maxAttempts }.map(\.id))
        for entry in entries {
            if entry.deliveries > options.maxAttempts {
                let last = noted[entry.id] ?? "the workers that had it stopped before finishing it"
                let error = "gave up after \(entry.deliveries - 1) attempts: \(last)"
                try queue.deadLetter(entry, error: error, worker: options.consumer)
                state.update { $0.deadLettered += 1 }
                events(.deadLettered(filename: entry.filename, error: error))
            } else if !QueueEntry.isInsideImagesFolder(entry.filename) {
                let error = "\(entry.filename): not a name inside the images folder: not read"
                try queue.deadLetter(entry, error: error, worker: options.consumer)
                state.update { $0.deadLettered += 1 }
                events(.deadLettered(filename: entry.filename, error: error))
            } else {
                candidates.append(entry)
            }
        }
        let unforced = candidates.filter { !$0.force }.map(\.filename)
        let stored = unforced.isEmpty ? [] : try store.existing(filenames: unforced)
        var files: [ImageFile] = []
        for entry in candidates {
            if !entry.force, stored.contains(entry.filename) {
                if try queue.complete(entry, skipped: true) {
                    state.update { $0.skipped += 1 }
                    events(.skipped(filename: entry.filename))
                }
                continue
            }
            let path = ImageFiles.path(of: entry.filename, imagesRoot: options.imagesRoot)
            var info = stat()
            if stat(path, &info) != 0, errno == ENOENT {
                let error = "\(entry.filename): not found under \(options.imagesRoot) on \(options.consumer)"
                try failed(entry, error: error, permanent: false, state: state, events: events)
                continue
            }
            state.take(entry)
            files.append(ImageFile(path: path, filename: entry.filename))
        }
        return files
    }

    /// A run's event: stored documents are acknowledged, failures retried or dead-lettered.
    private func handle(_ event: DetectionEvent, state: WorkerState, events: @Sendable (QueueWorkerEvent) -> Void) {
        do throws(StoreError) {
            switch event {
            case .started:
                return
            case .finished(let document):
                let entries = state.finish(document.filename)
                guard !entries.isEmpty else { return }
                // Stored: each entry of the file acknowledged (false: another worker was first).
                for entry in entries { try queue.complete(entry) }
                state.update {
                    $0.stored += 1
                    $0.faces += document.faceCount
                }
                events(.stored(document))
            case .failed(let filename, let error):
                var permanent = false
                var message = error.description
                if case .image(let failure) = error {
                    // The file's own fault, named as queued: the path is this host's.
                    permanent = true
                    message = "\(TerminalText.sanitize(filename)): \(failure.reason)"
                }
                for entry in state.finish(filename) {
                    try failed(entry, error: message, permanent: permanent, state: state, events: events)
                }
            }
        } catch {
            // The entries stay pending: claimed again after the reclaim time.
            state.update { $0.stopped = $0.stopped ?? .store(error) }
        }
    }

    private func failed(
        _ entry: QueueEntry, error: String, permanent: Bool, state: WorkerState,
        events: @Sendable (QueueWorkerEvent) -> Void
    ) throws(StoreError) {
        if permanent || entry.deliveries >= options.maxAttempts {
            if try queue.deadLetter(entry, error: error, worker: options.consumer) {
                state.update { $0.deadLettered += 1 }
                events(.deadLettered(filename: entry.filename, error: error))
            }
        } else {
            // Left pending and no longer kept alive: any worker claims it after the reclaim time.
            try queue.noteFailure(entry, error: error)
            state.update { $0.retried += 1 }
            events(.willRetry(filename: entry.filename, error: error, attempt: entry.deliveries))
        }
    }

    /// Keeps the entries in the run's hands from being claimed by others while they take long.
    private func startHeartbeat(_ state: WorkerState) -> DispatchSourceTimer {
        let timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "facescope.queue.heartbeat"))
        let interval = max(0.2, options.reclaimAfter / 3)
        timer.schedule(deadline: .now() + interval, repeating: interval)
        let consumer = options.consumer
        let heartbeatQueue = heartbeatQueue
        timer.setEventHandler {
            try? heartbeatQueue.heartbeat(consumer: consumer, ids: state.heldIDs)
        }
        timer.resume()
        return timer
    }
}

/// The entries a worker holds (by filename) and its tally, shared by the run's threads.
final class WorkerState: Sendable {
    private struct Held {
        var entries: [String: [QueueEntry]] = [:]
        var count = 0
        var summary = QueueWorkSummary()
        var cursor = "0-0"
        var lastReclaim = 0.0
    }
    private let held = Mutex(Held())

    var summary: QueueWorkSummary { held.withLock { $0.summary } }
    var count: Int { held.withLock { $0.count } }
    var heldIDs: [String] { held.withLock { $0.entries.values.flatMap { $0.map(\.id) } } }
    var cursor: String {
        get { held.withLock { $0.cursor } }
        set { held.withLock { $0.cursor = newValue } }
    }

    func update(_ body: (inout QueueWorkSummary) -> Void) { held.withLock { body(&$0.summary) } }

    func holds(_ id: String) -> Bool { held.withLock { $0.entries.values.contains { $0.contains { $0.id == id } } } }

    /// Whether it is time to look for entries of stopped workers (then the clock starts again).
    func reclaimDue(every seconds: Double) -> Bool {
        let now = Monotonic.seconds()
        return held.withLock {
            guard now - $0.lastReclaim >= seconds else { return false }
            $0.lastReclaim = now
            return true
        }
    }

    func take(_ entry: QueueEntry) {
        held.withLock {
            $0.entries[entry.filename, default: []].append(entry)
            $0.count += 1
        }
    }

    /// The entries of a finished file, no longer held.
    func finish(_ filename: String) -> [QueueEntry] {
        held.withLock {
            let entries = $0.entries.removeValue(forKey: filename) ?? []
            $0.count -= entries.count
            return entries
        }
    }

    func takeAll() -> [QueueEntry] {
        held.withLock { held in
            let all = held.entries.values.flatMap { $0 }
            held.entries = [:]
            held.count = 0
            return all
        }
    }
}
