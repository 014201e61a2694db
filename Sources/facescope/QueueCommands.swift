import ArgumentParser
import FaceScopeCore
import FaceScopeImaging
import FaceScopePipeline
import FaceScopeRedis
import FaceScopeTriton
import Foundation
import Synchronization

/// Flags of the queue commands that name the images folder.
struct ImagesFolderOption: ParsableArguments {
    @Option(
        name: .customLong("images-dir"),
        help: ArgumentHelp("Folder queued filenames are relative to (IMAGES_DIR).", valueName: "dir"))
    var imagesDir: String?

    var flags: [SettingKey: String] { imagesDir.map { [.imagesDir: $0] } ?? [:] }
}

struct EnqueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "enqueue",
        abstract: "Put image files on the detection queue for `facescope worker`s to detect.",
        discussion: reflowed(
            """
            PATHs are image files or folders, found as `detect` finds them. Files already stored
            are left out unless --force; a file that is in the queue already is not added twice.
            Entries carry the filename relative to the images folder (IMAGES_DIR), so workers on
            other machines find the file under their own mount of that folder; files outside it
            are refused.

            The queue is a Redis Stream beside the documents (facescope:{FACESCOPE_KEY_PREFIX}queue,
            see docs/data-model.md). `facescope queue` shows its progress.

            Examples:
              facescope enqueue ~/Pictures --images-dir ~/Pictures
              facescope worker --images-dir ~/Pictures        on any number of machines
            """))

    @OptionGroup var store: StoreOptions
    @OptionGroup var folder: ImagesFolderOption

    @Argument(help: "Image files or folders.")
    var paths: [String]

    @Flag(help: "Queue images that are already stored too (they are detected again, labels kept).")
    var force = false

    func run() throws {
        let settings = try store.settings(folder.flags)
        let collected = ImageFiles.collect(paths, imagesRoot: settings.imagesDir)
        var failed = collected.problems.count
        for problem in collected.problems { printError(problem.description) }
        var inside: [ImageFile] = []
        for file in collected.files {
            if QueueEntry.isInsideImagesFolder(file.filename) {
                inside.append(file)
            } else {
                failed += 1
                printError(
                    "\(file.path): lies outside the images folder \(settings.imagesDir) (IMAGES_DIR): workers find "
                        + "files by their name inside it; give --images-dir")
            }
        }
        if collected.files.isEmpty && collected.problems.isEmpty {
            throw FaceScopeError.usage(
                "no image files found in \(paths.map(TerminalText.sanitize).joined(separator: ", "))")
        }
        let redis = try RedisStore.open(settings: settings)
        let queue = DetectionQueue(connection: redis.connection, layout: redis.layout)
        let todo = try QueueSelection.filesToDo(inside, force: force, store: redis)
        let added = try queue.enqueue(todo.map { ($0.filename, $0.force) })
        var line = "queued \(added) file\(added == 1 ? "" : "s")"
        let stored = inside.count - todo.count
        if stored > 0 { line += ", \(stored) already stored (--force queues them too)" }
        if todo.count > added { line += ", \(todo.count - added) in the queue already" }
        let summary = try queue.summary()
        line += "; \(summary.waiting) waiting, \(summary.inProgress) in progress"
        printNote(line)
        if failed > 0 { throw PartialFailure(message: DetectCommand.failedText(failed)) }
    }
}

struct WorkerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Detect the files on the detection queue (run any number, on any machine).",
        discussion: reflowed(
            """
            A worker takes files from the queue `facescope enqueue` fills, detects them like
            `detect` does (same models, settings and storage; labels of faces found again are
            kept) and acknowledges each once its document is saved. Run as many as you like, on
            every machine that sees the images folder (IMAGES_DIR) and reaches Redis and Triton;
            each file is stored once however many workers race. A worker exits (status 0) when
            the queue is drained: nothing waiting and nothing in progress anywhere. --follow
            keeps it waiting for new files.

            A worker that dies leaves its files in progress; another claims them once they have
            been untouched for --reclaim-after seconds (a live worker keeps its own fresh). A file
            that cannot be read or decoded (corrupt, truncated, not an image) goes to the failed
            list at once; other failures (Triton refusing it, the file missing on this machine)
            are tried again by any worker after --reclaim-after, and after --max-attempts the
            file goes to the failed list. `facescope queue` shows them with their errors;
            `facescope queue retry` queues them again.

            Ctrl-C or SIGTERM stops after the images in flight (stored and acknowledged); files
            taken but not started go back to the queue at once. Exit status 130 / 143.

            Examples:
              facescope worker --images-dir /srv/photos --triton-url gpu1:8000,gpu2:8000
              facescope worker --follow --name scanner-1
            """))

    @OptionGroup var store: StoreOptions
    @OptionGroup var folder: ImagesFolderOption

    @Option(help: ArgumentHelp("Consumer name in the queue (default: hostname:pid).", valueName: "name"))
    var name: String?

    @Flag(help: "Keep waiting for new files when the queue is empty.")
    var follow = false

    @Option(
        name: .customLong("reclaim-after"),
        help: ArgumentHelp("Seconds before files of a stopped worker are taken over.", valueName: "seconds"))
    var reclaimAfter: Double = 60

    @Option(
        name: .customLong("max-attempts"),
        help: ArgumentHelp("Deliveries after which a failing file goes to the failed list.", valueName: "n"))
    var maxAttempts: Int = 3

    @Option(
        name: .customLong("triton-url"),
        help: ArgumentHelp("Triton HTTP endpoint(s) (TRITON_SERVER_URL).", valueName: "url"))
    var tritonURL: String?

    @Option(
        help: ArgumentHelp(
            "stretch or letterbox (FACESCOPE_RESIZE_MODE); default: what the model declares.", valueName: "mode"))
    var resize: ResizeMode?

    @Option(
        name: .customLong("encoded-model"),
        help: ArgumentHelp("Send each file's bytes to this model (FACESCOPE_ENCODED_MODEL).", valueName: "name"))
    var encodedModel: String?

    @Option(help: ArgumentHelp("Images in flight at once (FACESCOPE_CONCURRENCY).", valueName: "n"))
    var concurrency: Int?

    @Option(
        name: .customLong("min-face-size"),
        help: ArgumentHelp("Drop faces smaller than this many pixels.", valueName: "px"))
    var minFaceSize: Double?

    @Flag(help: "Cluster FaceNet's grid with TAO's DBSCAN instead of NMS.")
    var dbscan = false

    @Flag(
        name: .customLong("replace-labels"),
        help: "Drop the identity labels of faces found again (default: overlapping faces keep their label).")
    var replaceLabels = false

    @Flag(name: .customLong("no-landmarks"), help: "Find faces only; skip the landmark model.")
    var noLandmarks = false

    @Flag(help: "Print one stored-shape JSON document per stored image on standard output.")
    var json = false

    @Flag(help: "Say how tensors travel to Triton and what the worker does.")
    var verbose = false

    func validate() throws {
        guard reclaimAfter > 0, reclaimAfter.isFinite else {
            throw ValidationError("--reclaim-after must be a positive number of seconds")
        }
        guard maxAttempts >= 1 else { throw ValidationError("--max-attempts must be at least 1") }
        if let name,
            name.isEmpty || name.contains(where: { $0.isWhitespace || ($0.asciiValue.map { $0 < 0x20 } ?? false) })
        {
            throw ValidationError("--name must be non-empty, without spaces or control characters")
        }
    }

    func run() throws {
        var flags = folder.flags
        if let tritonURL { flags[.tritonURL] = tritonURL }
        if let resize { flags[.resizeMode] = resize.rawValue }
        if let encodedModel { flags[.encodedModel] = encodedModel }
        if let concurrency { flags[.concurrency] = String(concurrency) }
        if let minFaceSize { flags[.minFaceSize] = String(minFaceSize) }
        let settings = try store.settings(flags)

        let services = FaceScopeServices(settings: settings)
        let client = try services.tritonClient(log: verbose ? { @Sendable message in printNote(message) } : nil)
        let pipeline: DetectionPipeline
        do throws(FaceScopeError) {
            pipeline = try services.pipeline(client: client, dbscan: dbscan, landmarks: !noLandmarks)
        } catch {
            guard case .inference(let failure) = error, failure.kind == .unavailable else { throw error }
            throw PartialFailure(
                message:
                    "\(DetectCommand.clause(failure.message)); the worker took nothing from the queue: start it again "
                    + "when Triton is up")
        }
        if let note = pipeline.recognitionNote, !noLandmarks {
            if pipeline.recognitionUnfit { printWarning(note) } else { printNote(note) }
        }
        let redis = try services.store()
        // The queue's connections: taking and finishing entries, heartbeats, waiting for entries.
        let queue = try DetectionQueue.open(settings: settings)
        let heartbeat = try DetectionQueue.open(settings: settings)
        let wait = try DetectionQueue.open(settings: settings)
        var options = QueueWorker.Options(
            consumer: name ?? QueueWorker.defaultConsumerName(), imagesRoot: settings.imagesDir)
        options.follow = follow
        options.reclaimAfter = reclaimAfter
        options.maxAttempts = maxAttempts
        // Each document stored (and its entry acknowledged) as soon as it is ready.
        let run = services.detectionRun(
            analyzer: pipeline, store: redis, mergeMode: replaceLabels ? .replace : .keepLabels, storeBatch: 1)
        let worker = QueueWorker(
            run: run, store: redis, queue: queue, heartbeatQueue: heartbeat, waitQueue: wait, options: options)
        if verbose || isatty(STDERR_FILENO) == 1 {
            printNote("worker \(options.consumer) on \(redis.layout.queueStream)\(follow ? " (following)" : "")")
        }

        let cancel = CancellationFlag()
        let interrupt = Interrupt(cancel: cancel)
        let reporter = WorkerReporter(json: json, verbose: verbose)
        let summary = try worker.work(cancel: cancel) { reporter.handle($0) }
        interrupt.disarm()
        reporter.finish(summary)
        if summary.cancelled { throw ExitCode(interrupt.exitStatus) }
        if let stopped = summary.stopped {
            throw PartialFailure(
                message: "\(DetectCommand.clause(stopped.description)); the worker stopped: its files in progress "
                    + "are taken over by another worker after --reclaim-after, or by this one when started again")
        }
    }
}

/// Prints a worker's progress: failures as they happen, a line every few seconds when
/// standard error is not a terminal (a count in place on a terminal), JSON documents if asked.
final class WorkerReporter: Sendable {
    private let state: Mutex<WorkerReporterState>

    init(json: Bool, verbose: Bool) {
        state = Mutex(WorkerReporterState(json: json, verbose: verbose))
    }

    func handle(_ event: QueueWorkerEvent) { state.withLock { $0.handle(event) } }

    func finish(_ summary: QueueWorkSummary) { state.withLock { $0.finish(summary) } }
}

/// What `WorkerReporter` counts and draws from; only touched under its mutex.
struct WorkerReporterState {
    private let json: Bool
    private let verbose: Bool
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private let start = Monotonic.nanoseconds()
    private var stored = 0
    private var lastDraw = Monotonic.nanoseconds()

    init(json: Bool, verbose: Bool) {
        self.json = json
        self.verbose = verbose
    }

    mutating func handle(_ event: QueueWorkerEvent) {
        switch event {
        case .stored(let document):
            stored += 1
            if json { FileHandle.standardOutput.write(Data((document.json.serialized + "\n").utf8)) }
            draw()
        case .skipped(let filename):
            if verbose { line("\(filename): stored already, skipped") }
        case .willRetry(let filename, let error, let attempt):
            line(
                "warning: \(error.hasPrefix(TerminalText.sanitize(filename)) ? error : "\(filename): \(error)") "
                    + "(attempt \(attempt); tried again later)")
        case .deadLettered(let filename, let error):
            clear()
            printError(error.hasPrefix(TerminalText.sanitize(filename)) ? error : "\(filename): \(error)")
        case .reclaimed(let count):
            line("took over \(count) file\(count == 1 ? "" : "s") of a stopped worker")
        }
    }

    private func line(_ text: String) {
        clear()
        printNote(text)
    }

    private func clear() {
        if isTerminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    private var rate: Double {
        let seconds = Double(Monotonic.nanoseconds() - start) / 1e9
        return seconds > 0 ? Double(stored) / seconds : 0
    }

    private mutating func draw() {
        let now = Monotonic.nanoseconds()
        guard now - lastDraw >= (isTerminal ? 100_000_000 : 5_000_000_000) else { return }
        lastDraw = now
        let text = "\(stored) stored, \(String(format: "%.1f", rate)) images/s"
        if isTerminal {
            FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
        } else if !json {
            printNote(text)
        }
    }

    func finish(_ summary: QueueWorkSummary) {
        clear()
        var text = "\(summary.stored) images, \(summary.faces) faces stored"
        text += ", \(summary.skipped) skipped, \(summary.deadLettered) failed"
        if summary.retried > 0 { text += ", \(summary.retried) to try again" }
        if summary.reclaimed > 0 { text += ", \(summary.reclaimed) taken over" }
        if summary.released > 0 { text += ", \(summary.released) given back to the queue" }
        let rate = summary.seconds > 0 ? Double(summary.stored) / summary.seconds : 0
        text += String(format: ", %.1f images/s (%.1f s)", rate, summary.seconds)
        if summary.deadLettered > 0 { text += "; see 'facescope queue'" }
        printNote(text)
    }
}

struct QueueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue",
        abstract: "Show the detection queue: waiting, in progress per worker, done, failed.",
        subcommands: [QueueStatusCommand.self, QueueRetryCommand.self, QueueClearCommand.self],
        defaultSubcommand: QueueStatusCommand.self)
}

struct QueueStatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show the detection queue (the default of `facescope queue`).",
        discussion: reflowed(
            """
            waiting: files no worker has taken; in progress: taken and not finished, per worker
            (a worker that died keeps its files here until another takes them over); done:
            stored through the queue (skipped: stored already when their turn came); failed:
            files that failed for good, each with its error (`facescope queue retry`).
            """))

    @OptionGroup var store: StoreOptions

    @Flag(help: "Print the summary and the failed files as one JSON object.")
    var json = false

    func run() throws {
        let settings = try store.settings()
        let queue = try DetectionQueue.open(settings: settings)
        let summary = try queue.summary()
        let failures = try queue.failures()
        if json {
            let object = JSONValue.object([
                ("waiting", .int(Int64(summary.waiting))), ("in_progress", .int(Int64(summary.inProgress))),
                (
                    "workers",
                    .object(summary.workers.map { ($0.name, .int(Int64($0.pending))) })
                ),
                ("done", .int(Int64(summary.done))), ("skipped", .int(Int64(summary.skipped))),
                (
                    "failed",
                    .array(
                        failures.map { letter in .object([("filename", .string(letter.filename))] + letter.json.members)
                        })
                ),
            ])
            print(object.serialized)
            return
        }
        var out = Output()
        out.line("queue        \(queue.layout.queueStream)")
        out.line("waiting      \(summary.waiting)")
        let perWorker = summary.workers.map { "\(TerminalText.sanitize($0.name)) \($0.pending)" }
        out.line(
            "in progress  \(summary.inProgress)" + (perWorker.isEmpty ? "" : "  (\(perWorker.joined(separator: ", ")))")
        )
        out.line("done         \(summary.done)" + (summary.skipped > 0 ? "  (+\(summary.skipped) stored already)" : ""))
        out.line("failed       \(failures.count)")
        for letter in failures {
            let when = ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: letter.time))
            let name = TerminalText.sanitize(letter.filename)
            let error = TerminalText.sanitize(letter.error)
            out.line(
                "  \(name): \(error.hasPrefix(name + ":") ? String(error.dropFirst(name.count + 1)).trimmingCharacters(in: .whitespaces) : error)"
            )
            out.line("    attempts \(letter.attempts), \(TerminalText.sanitize(letter.worker)), \(when)")
        }
        if !failures.isEmpty { out.line("(facescope queue retry puts them back in the queue)") }
        out.flush()
    }
}

extension JSONValue {
    /// An object's members (empty for other values).
    fileprivate var members: [(String, JSONValue)] {
        if case .object(let members) = self { return members }
        return []
    }
}

struct QueueRetryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry",
        abstract: "Put failed files back in the detection queue (all, or those named).")

    @OptionGroup var store: StoreOptions

    @Argument(help: "Filenames as `facescope queue` shows them (default: every failed file).")
    var filenames: [String] = []

    func run() throws {
        let queue = try DetectionQueue.open(settings: try store.settings())
        let added = try queue.retry(filenames: filenames)
        printNote("queued \(added) failed file\(added == 1 ? "" : "s") again")
        if !filenames.isEmpty, added < filenames.count {
            throw PartialFailure(message: "\(filenames.count - added) of \(filenames.count) not in the failed list")
        }
    }
}

struct QueueClearCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "clear",
        abstract: "Delete the detection queue: waiting files, claims, failed files and counters.",
        discussion: "Stored documents are not touched. Workers still running find an empty queue.")

    @OptionGroup var store: StoreOptions

    func run() throws {
        let queue = try DetectionQueue.open(settings: try store.settings())
        let summary = try queue.summary()
        try queue.clear()
        printNote(
            "queue cleared: \(summary.waiting) waiting, \(summary.inProgress) in progress, \(summary.failed) failed removed"
        )
    }
}
