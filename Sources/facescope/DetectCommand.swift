import ArgumentParser
import FaceScopeCore
import FaceScopeImaging
import FaceScopePipeline
import FaceScopeRedis
import FaceScopeTriton
import Foundation
import Synchronization

extension ResizeMode: ExpressibleByArgument {}

struct DetectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Find faces and their 80 landmarks in image files and store them in Redis.",
        discussion: reflowed(
            """
            PATHs are image files or folders (searched recursively; hidden ones skipped; .jpg .jpeg
            .png .webp .heic). Images already stored are skipped unless --force, so a run that was
            stopped (Ctrl-C) continues where it left off; an image whose file changed since it was
            stored (another size or modification time, and other content: SHA-256) is detected
            again, keeping the labels of faces that still overlap. A file only touched (same
            content) is not sent to Triton; its new time is stored. The summary says how many
            files were new, changed and unchanged. Documents stored before FaceScope recorded
            file sources count as unchanged: --force detects them again and records their sources.
            Documents of deleted files stay until 'facescope prune'; 'facescope watch' keeps
            detecting as files are added or changed.

            Ctrl-C or SIGTERM stops after the images in flight: what is finished is stored, and
            the exit status is 130 (Ctrl-C) or 143 (SIGTERM); a second one quits at once. While
            Triton is unavailable (no answer, HTTP 503) or Redis is out of memory, the run
            pauses and tries again for FACESCOPE_OUTAGE_WAIT seconds (30), then stops with the
            count of images left (exit 1). Files that are not regular files (FIFOs, devices) or
            whose names are not UTF-8 fail one by one and count as failed. Filenames are stored relative to the images
            folder (IMAGES_DIR), so a host and a container that mount it differently agree.

            Inference runs on Triton (TRITON_SERVER_URL; several servers comma-separated) with the
            models FACE_DETECT_MODEL_NAME and FPENET_MODEL_NAME, checked against their contracts first.

            Examples:
              facescope detect ~/Pictures --images-dir ~/Pictures
              facescope detect photo.jpg --dry-run --json     no Redis needed
            """))

    @OptionGroup var store: StoreOptions

    @Argument(help: "Image files or folders.")
    var paths: [String]

    @Flag(help: "Detect again images that are already stored.")
    var force = false

    @Flag(name: .customLong("dry-run"), help: "Store nothing (Redis is not needed); print what was found.")
    var dryRun = false

    @Flag(help: "Print one stored-shape JSON document per image on standard output.")
    var json = false

    @Option(
        name: .customLong("triton-url"),
        help: ArgumentHelp("Triton HTTP endpoint(s) (TRITON_SERVER_URL).", valueName: "url"))
    var tritonURL: String?

    @Option(
        name: .customLong("images-dir"),
        help: ArgumentHelp("Folder stored filenames are relative to (IMAGES_DIR).", valueName: "dir"))
    var imagesDir: String?

    @Option(
        help: ArgumentHelp(
            "stretch or letterbox (FACESCOPE_RESIZE_MODE); default: what the model declares.", valueName: "mode"))
    var resize: ResizeMode?

    @Option(
        name: .customLong("encoded-model"),
        help: ArgumentHelp(
            "Send each file's bytes to this model, which decodes and resizes on the server (FACESCOPE_ENCODED_MODEL; e.g. facenet_encoded); default: raw tensors.",
            valueName: "name"))
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
        help:
            "With --force: drop the identity labels of faces found again (default: a face that overlaps its old box keeps its label)."
    )
    var replaceLabels = false

    @Flag(name: .customLong("no-landmarks"), help: "Find faces only; skip the landmark model.")
    var noLandmarks = false

    @Flag(
        name: .customLong("no-cluster"),
        help:
            "Leave the new faces without a person (default: each joins the person its nearest labelled faces are, or a new one; 'facescope cluster' does it later)."
    )
    var noCluster = false

    @Flag(help: "Say how tensors travel to Triton and other decisions.")
    var verbose = false

    func run() throws {
        var flags: [SettingKey: String] = [:]
        if let tritonURL { flags[.tritonURL] = tritonURL }
        if let imagesDir { flags[.imagesDir] = imagesDir }
        if let resize { flags[.resizeMode] = resize.rawValue }
        if let encodedModel { flags[.encodedModel] = encodedModel }
        if let concurrency { flags[.concurrency] = String(concurrency) }
        if let minFaceSize { flags[.minFaceSize] = String(minFaceSize) }
        let settings = try store.settings(flags)

        let collected = ImageFiles.collect(paths, imagesRoot: settings.imagesDir)
        for problem in collected.problems { printError(problem.description) }
        if collected.files.isEmpty {
            if collected.problems.isEmpty {
                throw FaceScopeError.usage(
                    "no image files found in \(paths.map(TerminalText.sanitize).joined(separator: ", "))")
            }
            var summary = DetectionSummary()
            summary.failed = collected.problems.count
            ProgressReporter(json: json, listEach: false).finish(summary, dryRun: dryRun)
            throw PartialFailure(message: Self.failedText(summary.failed))
        }

        let services = FaceScopeServices(settings: settings)
        let client = try services.tritonClient(log: verbose ? { @Sendable message in printNote(message) } : nil)
        let pipeline: DetectionPipeline
        switch Result(catching: { () throws(FaceScopeError) in
            try services.pipeline(client: client, dbscan: dbscan, landmarks: !noLandmarks)
        }) {
        case .success(let made):
            pipeline = made
        case .failure(.inference(let error)) where error.kind == .unavailable:
            // Unreachable before the first image: most likely a wrong URL, so no waiting.
            let message = error.message
            let n = collected.files.count
            throw PartialFailure(
                message:
                    "\(Self.clause(message)); nothing done: \(n) image\(n == 1 ? "" : "s") left; run the same command "
                    + "again when Triton is up")
        case .failure(let error):
            throw error
        }
        if verbose {
            printNote("FaceNet input: \(pipeline.resizeMode.rawValue); landmarks batched by \(pipeline.landmarkBatch)")
            if let encoded = pipeline.encoded {
                printNote(
                    "detector input: each file's bytes to '\(encoded.model)' (\(encoded.resizeMode.rawValue) on the server)"
                )
            }
        }
        if let note = pipeline.recognitionNote, !noLandmarks {
            if pipeline.recognitionUnfit { printWarning(note) } else { printNote(note) }
        }
        let redis = dryRun ? nil : try services.store()

        let cancel = CancellationFlag()
        let interrupt = Interrupt(cancel: cancel)
        let progress = ProgressReporter(json: json, listEach: dryRun && !json)
        let runner = services.detectionRun(
            analyzer: pipeline, store: redis, mergeMode: replaceLabels ? .replace : .keepLabels)
        // New faces join people as their documents land (in chunks, through the vector index).
        let labeller =
            noCluster ? nil : redis.map { NewFaceLabeller(store: $0, threshold: Float(settings.clusterThreshold)) }
        var summary = try runner.run(collected.files, force: force, cancel: cancel) { event in
            if case .finished(let document) = event { labeller?.stored(document) }
            progress.handle(event)
        }
        interrupt.disarm()
        if let labeller {
            switch labeller.finish() {
            case .success(let done) where done.faces > 0 && !json:
                printNote(
                    "\(done.faces) new face\(done.faces == 1 ? "" : "s") given a person (\(done.updated) labels set; "
                        + "'facescope people' lists them)")
            case .success: break
            case .failure(let error): printWarning("the new faces were stored but not clustered: \(error.description)")
            }
        }
        // Files refused before the run (missing, not regular, not UTF-8) are failures too.
        summary.failed += collected.problems.count
        progress.finish(summary, dryRun: dryRun)
        if summary.cancelled { throw ExitCode(interrupt.exitStatus) }
        if let stopped = summary.stopped {
            let what = String(format: "%.0f", settings.outageWait)
            throw PartialFailure(
                message:
                    "\(Self.clause(stopped.description)); stopped after waiting \(what) s (FACESCOPE_OUTAGE_WAIT): "
                    + "\(summary.left) image\(summary.left == 1 ? "" : "s") left; run the same command again to continue"
            )
        }
        if summary.failed > 0 { throw PartialFailure(message: Self.failedText(summary.failed)) }
    }

    /// A message without its final full stop, to go on with `; ...`.
    static func clause(_ message: String) -> String { message.hasSuffix(".") ? String(message.dropLast()) : message }

    static func failedText(_ count: Int) -> String { "\(count) file\(count == 1 ? "" : "s") failed" }
}

func printNote(_ message: String) {
    FileHandle.standardError.write(Data((TerminalText.sanitize(message) + "\n").utf8))
}

/// Ctrl-C (SIGINT) or SIGTERM: the first asks the run to stop after the images in flight (what
/// is finished is stored; exit status 130 for SIGINT, 143 for SIGTERM); a second quits at once.
///
/// Unchecked: Dispatch's signal sources are thread-safe objects that Linux's Dispatch does not
/// mark Sendable; the list is a constant, and the rest of the state is behind a mutex.
final class Interrupt: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    /// How many signals came, and the first one's number.
    private let seen = Mutex<(count: Int, first: Int32)>((0, SIGINT))

    init(cancel: CancellationFlag) {
        var sources: [DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            sources.append(source)
        }
        self.sources = sources
        for (source, number) in zip(sources, [SIGINT, SIGTERM]) {
            source.setEventHandler { [unowned self] in
                let count = seen.withLock { seen in
                    seen.count += 1
                    if seen.count == 1 { seen.first = number }
                    return seen.count
                }
                if count == 1 {
                    cancel.cancel()
                    FileHandle.standardError.write(Data("\n".utf8))
                    printNote(
                        "stopping after the images in flight (\(number == SIGTERM ? "SIGTERM" : "Ctrl-C") again to quit at once)"
                    )
                } else {
                    exit(128 + number)
                }
            }
            source.resume()
        }
    }

    /// 128 + the first signal's number: 130 for Ctrl-C, 143 for SIGTERM.
    var exitStatus: Int32 { seen.withLock { 128 + $0.first } }

    func disarm() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}

/// Shows a run's progress: a bar with rate and ETA on a terminal, a plain line every few seconds
/// otherwise, errors as they happen, JSON documents on standard output when asked.
final class ProgressReporter: Sendable {
    private let state: Mutex<ProgressState>

    init(json: Bool, listEach: Bool) {
        state = Mutex(ProgressState(json: json, listEach: listEach))
    }

    func handle(_ event: DetectionEvent) { state.withLock { $0.handle(event) } }

    func finish(_ summary: DetectionSummary, dryRun: Bool) {
        state.withLock { $0.finish(summary, dryRun: dryRun) }
    }

    /// How the files stood against the store: `2 new, 1 changed, 40 unchanged (3 touched: ...)`.
    static func changes(_ summary: DetectionSummary) -> String {
        "\(summary.new) new, \(summary.changed) changed, \(summary.unchanged) unchanged"
            + (summary.touched > 0 ? " (\(summary.touched) only touched: modification time updated)" : "")
    }
}

/// What `ProgressReporter` draws from; only touched under its mutex.
struct ProgressState {
    private let json: Bool
    private let listEach: Bool
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var total = 0
    private var done = 0
    private var failed = 0
    private var faces = 0
    private var start = Monotonic.nanoseconds()
    private var lastDraw: UInt64 = 0
    private var barShown = false

    init(json: Bool, listEach: Bool) {
        self.json = json
        self.listEach = listEach
    }

    private var elapsed: Double { Double(Monotonic.nanoseconds() - start) / 1e9 }

    mutating func handle(_ event: DetectionEvent) {
        switch event {
        case .started(let total, let skipped):
            self.total = total
            start = Monotonic.nanoseconds()
            if skipped > 0 { note("\(skipped) images already stored, skipped (--force detects them again)") }
        case .finished(let document):
            done += 1
            faces += document.faceCount
            if json {
                FileHandle.standardOutput.write(Data((document.json.serialized + "\n").utf8))
            } else if listEach {
                clearBar()
                let n = document.faceCount
                print("\(TerminalText.sanitize(document.filename))  \(n) face\(n == 1 ? "" : "s")")
            }
        case .failed(let file, let error):
            done += 1
            failed += 1
            clearBar()
            let reason = error.description
            printError(reason.hasPrefix(TerminalText.sanitize(file)) ? reason : "\(file): \(reason)")
        }
        draw()
    }

    private mutating func note(_ text: String) {
        clearBar()
        printNote(text)
    }

    private mutating func clearBar() {
        if barShown {
            FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
            barShown = false
        }
    }

    private mutating func draw() {
        let now = Monotonic.nanoseconds()
        let interval: UInt64 = isTerminal ? 100_000_000 : 5_000_000_000
        guard now - lastDraw >= interval || done == total else { return }
        lastDraw = now
        let rate = elapsed > 0 ? Double(done) / elapsed : 0
        let eta = rate > 0 ? Int(Double(total - done) / rate) : 0
        let etaText = String(format: "%d:%02d", eta / 60, eta % 60)
        let rateText = String(format: "%.1f", rate)
        if isTerminal {
            let width = 24
            let filled = total > 0 ? width * done / total : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "░", count: width - filled)
            let line =
                "\r\u{1B}[K\(bar) \(done)/\(total)  \(rateText) img/s  ETA \(etaText)  faces \(faces)"
                + (failed > 0 ? "  failed \(failed)" : "")
            FileHandle.standardError.write(Data(line.utf8))
            barShown = true
        } else if done > 0 && done < total {
            printNote("\(done)/\(total) images, \(rateText)/s, ETA \(etaText), \(faces) faces, \(failed) failed")
        }
    }

    mutating func finish(_ summary: DetectionSummary, dryRun: Bool) {
        clearBar()
        let rate = String(format: "%.1f", summary.imagesPerSecond)
        var line = "\(summary.images) images, \(summary.faces) faces"
        line += ", \(summary.skipped) skipped, \(summary.failed) failed, \(rate) images/s"
        line += String(format: " (%.1f s)", summary.seconds)
        if !dryRun { line += "; " + ProgressReporter.changes(summary) }
        if dryRun { line += ", nothing stored (dry run)" }
        if summary.cancelled || summary.stopped != nil { line += "; stopped early: run again to continue" }
        printNote(line)
    }
}
