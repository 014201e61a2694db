import ArgumentParser
import FaceScopeCore
import FaceScopePipeline
import FaceScopeRedis
import FaceScopeTriton
import Foundation

struct WatchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "watch",
        abstract: "Detect image files as they are added or changed, until Ctrl-C.",
        discussion: reflowed(
            """
            First does what 'facescope detect PATH' does (new and changed files), then watches
            PATH and every folder below it (new folders too; hidden ones skipped) with inotify.
            A file is detected once it has stopped changing: no event for --settle seconds and
            the same size as at the last event, so a copy in progress is never read half
            written. A changed file is detected again (the labels of faces that still overlap
            are kept); a file only touched (same content) is not sent to Triton.

            Deleted files keep their documents unless --prune: then the document of a deleted
            file (or of every file of a deleted folder) is removed, with the same care as
            'facescope prune' (nothing when the images folder is missing or empty).

            Output: one line per image and a summary per batch when standard error is not a
            terminal (a log), a live line on a terminal. Ctrl-C stops after the images in
            flight (exit 130), SIGTERM likewise (exit 143).

            Examples:
              facescope watch ~/Pictures --images-dir ~/Pictures
              facescope watch /images --prune >> watch.log 2>&1
            """))

    @OptionGroup var store: StoreOptions

    @Argument(help: "The folder to watch.")
    var path: String

    @Flag(help: "Remove the documents of files that are deleted while watching.")
    var prune = false

    @Option(help: ArgumentHelp("Seconds a file must stay unchanged before it is detected.", valueName: "s"))
    var settle = 1.0

    @Option(
        name: .customLong("triton-url"),
        help: ArgumentHelp("Triton HTTP endpoint(s) (TRITON_SERVER_URL).", valueName: "url"))
    var tritonURL: String?

    @Option(
        name: .customLong("images-dir"),
        help: ArgumentHelp("Folder stored filenames are relative to (IMAGES_DIR).", valueName: "dir"))
    var imagesDir: String?

    @Option(help: ArgumentHelp("Images in flight at once (FACESCOPE_CONCURRENCY).", valueName: "n"))
    var concurrency: Int?

    func validate() throws {
        if !(settle >= 0 && settle <= 3600) { throw ValidationError("--settle must be between 0 and 3600 seconds") }
    }

    func run() throws {
        var flags: [SettingKey: String] = [:]
        if let tritonURL { flags[.tritonURL] = tritonURL }
        if let imagesDir { flags[.imagesDir] = imagesDir }
        if let concurrency { flags[.concurrency] = String(concurrency) }
        let settings = try store.settings(flags)
        let folder = ImageFiles.canonical(path)
        var info = stat()
        guard stat(folder, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
            throw FaceScopeError.usage("\(path) is not a folder: 'facescope watch' watches a folder")
        }
        let services = FaceScopeServices(settings: settings)
        let redis = try services.store()
        let runner = services.detectionRun(analyzer: try services.pipeline(), store: redis)
        let cancel = CancellationFlag()
        let interrupt = Interrupt(cancel: cancel)
        let watcher = try FolderWatcher()
        var session = WatchSession(
            settings: settings, store: redis, runner: runner, cancel: cancel, prune: prune)

        // Watch first, then look: nothing written meanwhile is missed.
        _ = watcher.watchTree(folder)
        for problem in watcher.problems { printError(problem.description) }
        session.detect(paths: [folder])
        printNote(
            "watching \(watcher.folderCount) folder\(watcher.folderCount == 1 ? "" : "s") under \(folder)"
                + (prune ? " (deleted files' documents are removed)" : "") + "; Ctrl-C stops")
        var settling = SettlingFiles(quiet: settle)
        var removed = SettlingFiles(quiet: settle)
        var reported = watcher.problems.count
        while !cancel.isCancelled {
            let events = watcher.next(timeout: 200)
            let now = Monotonic.seconds()
            for event in events {
                switch event {
                case .written(let file): settling.note(file, now: now)
                case .removed(let file): removed.note(file, now: now)
                case .folderAdded(_, let files): for file in files { settling.note(file, now: now) }
                case .folderRemoved(let gone): removed.note(gone, now: now)
                case .overflow:
                    printWarning("too many changes at once for inotify: looking at every file again")
                    session.detect(paths: [folder])
                }
            }
            for problem in watcher.problems.dropFirst(reported) { printError(problem.description) }
            reported = watcher.problems.count
            let ready = settling.ready(now: now).filter { access($0, F_OK) == 0 }
            if !ready.isEmpty { session.detect(paths: ready) }
            let gone = removed.ready(now: now).filter { access($0, F_OK) != 0 }
            if !gone.isEmpty { session.removed(gone) }
        }
        interrupt.disarm()
        printNote("stopped watching")
        throw ExitCode(interrupt.exitStatus)
    }
}

/// What `watch` does with files that settled or disappeared.
struct WatchSession {
    let settings: Settings
    let store: RedisStore
    let runner: DetectionRun
    let cancel: CancellationFlag
    let prune: Bool
    let onTerminal = isatty(STDERR_FILENO) == 1

    init(settings: Settings, store: RedisStore, runner: DetectionRun, cancel: CancellationFlag, prune: Bool) {
        self.settings = settings
        self.store = store
        self.runner = runner
        self.cancel = cancel
        self.prune = prune
    }

    /// Detects the new and changed image files among `paths` (files or folders).
    mutating func detect(paths: [String]) {
        let collected = ImageFiles.collect(paths, imagesRoot: settings.imagesDir)
        for problem in collected.problems { printError(problem.description) }
        guard !collected.files.isEmpty else { return }
        let progress = ProgressReporter(json: false, listEach: !onTerminal)
        do {
            let summary = try runner.run(collected.files, force: false, cancel: cancel) { event in
                if case .started(let total, _) = event, total == 0 { return }
                progress.handle(event)
            }
            if summary.images + summary.failed > 0 || summary.stopped != nil || summary.touched > 0 {
                progress.finish(summary, dryRun: false)
            }
            if let stopped = summary.stopped {
                printError("\(stopped.description); the files left are detected with the next change or run")
            }
        } catch {
            printError(error.description)
        }
    }

    /// Files or folders that disappeared: their documents go with --prune, else a note says so.
    mutating func removed(_ paths: [String]) {
        let root = ImageFiles.canonical(settings.imagesDir)
        guard prune else {
            for path in paths {
                printNote("\(path) was deleted; its document stays ('facescope prune' or watch --prune removes it)")
            }
            return
        }
        var checker = FilePresenceChecker(imagesRoot: root)
        if let problem = checker.rootProblem() {
            printWarning("\(problem): nothing pruned")
            return
        }
        do {
            for path in paths {
                let name = ImageFiles.storedName(path, root: root)
                var candidates = try store.documents(filenames: [name]).values.map { $0 }
                try store.forEachPage(filter: RedisStore.filenamePrefixFilter(name + "/")) { page in
                    candidates += page
                }
                var gone: [(pk: String, filename: String)] = []
                for doc in candidates {
                    switch checker.presence(of: doc.filename) {
                    case .gone: gone.append((doc.pk, doc.filename))
                    case .present: break
                    case .unknown(let reason): printWarning("kept \(doc.filename): \(reason)")
                    }
                }
                for filename in try store.deleteDocuments(gone) {
                    printNote("removed the document of \(filename) (file deleted)")
                }
            }
        } catch {
            printError(error.description)
        }
    }
}
