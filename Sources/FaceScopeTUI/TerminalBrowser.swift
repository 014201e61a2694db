@preconcurrency import CNCurses
import FaceScopeCore
import FaceScopePipeline
import Foundation

/// How the terminal browser is started.
public struct BrowserOptions: Sendable {
    /// Redis, Triton, images folder and the rest.
    public var settings: Settings
    /// The graphics mode asked for.
    public var graphics: GraphicsChoice
    /// Whether to take mouse clicks and the wheel.
    public var mouse: Bool
    /// Whether re-detection is offered and Triton checked.
    public var triton: Bool
    /// Where to write timing events for the benchmark (nil: nowhere).
    public var timingsPath: String?
    /// The process environment (terminal detection).
    public var environment: [String: String]

    /// Options for a browser over `settings`.
    public init(
        settings: Settings, graphics: GraphicsChoice = .auto, mouse: Bool = false, triton: Bool = true,
        timingsPath: String? = nil, environment: [String: String]
    ) {
        self.settings = settings
        self.graphics = graphics
        self.mouse = mouse
        self.triton = triton
        self.timingsPath = timingsPath
        self.environment = environment
    }
}

/// The terminal browser: `facescope` with no subcommand.
///
/// One UI thread owns ncurses and the ``Browser`` state; Redis pages, preview renders, Triton
/// checks and detection runs happen on workers that post results to a mailbox the UI loop
/// polls next to the keyboard. Requests carry tokens, and results for requests that were
/// overtaken are dropped.
public enum TerminalBrowser {
    /// Runs the browser until the user quits.
    /// - Throws: `FaceScopeError.usage` when standard input or output is not a terminal.
    public static func run(_ options: BrowserOptions) throws(FaceScopeError) {
        guard isatty(STDIN_FILENO) == 1, isatty(STDOUT_FILENO) == 1 else {
            throw .usage(
                "the browser needs a terminal; for scripts use 'facescope list', 'search' or 'show' (see --help)")
        }
        let term = options.environment["TERM"] ?? ""
        guard !term.isEmpty, term != "dumb" else {
            throw .usage(
                "the browser needs a terminal that can move the cursor (TERM is '\(TerminalText.sanitize(term))'); "
                    + "set TERM, e.g. TERM=xterm-256color")
        }
        // Killed or hung up: give the terminal back before going.
        for sig in [SIGTERM, SIGHUP] {
            signal(sig) { received in
                endwin()
                _exit(128 + received)
            }
        }
        let app = BrowserApp(options: options)
        app.loop()
    }
}

/// The UI loop and the workers it drives.
final class BrowserApp {
    private let options: BrowserOptions
    private let timings: Timings
    private let detection: GraphicsDetection
    private let mailbox = Mailbox()
    private let screen: Screen
    private var browser: Browser
    private let store: StoreWorker
    private let previews: PreviewWorker
    private let detector: DetectionWorker
    private let tritonChecks: TritonWorker
    private let fileChecks: FileCheckWorker
    private let painter: Painter
    private let opener: Opener
    /// The sixel or kitty renderer, when pictures are drawn in pixels.
    private let pixelRenderer: PixelRenderer?

    // What is on the terminal beyond ncurses' knowledge (pixel pictures).
    private var placedPicture: UInt64?
    private var pictureRect: Rect?
    // Benchmark bookkeeping.
    private var searchPending: (token: UInt64, at: Double)?
    private var searchLanded: Double?
    private var previewRequested: [UInt64: Double] = [:]
    private var previewLanded: (token: UInt64, requested: Double)?
    private var firstScreenLogged = false
    /// Whether this visit to the people view logged its list being shown.
    private var peopleShownLogged = false
    private let launched = Timings.now()

    init(options: BrowserOptions) {
        self.options = options
        timings = Timings(path: options.timingsPath)
        timings.event("tui_start")
        detection = GraphicsDetector.detect(choice: options.graphics, environment: options.environment)
        screen = Screen(mouse: options.mouse)
        let renderer: any PictureRenderer
        let cell = screen.cellPixels()
        switch detection.mode {
        case .symbols:
            renderer = SymbolsRenderer(colors: screen.colors, unicode: screen.unicode)
            pixelRenderer = nil
        case .sixel, .kitty:
            let pixels = PixelRenderer(
                mode: detection.mode, cellWidth: cell.width, cellHeight: cell.height, environment: options.environment)
            renderer = pixels
            pixelRenderer = pixels
        }
        browser = Browser(columns: screen.columns, rows: screen.rows)
        browser.tritonConfigured = options.triton
        store = StoreWorker(settings: options.settings, mailbox: mailbox)
        previews = PreviewWorker(
            renderer: renderer, thumbnailRenderer: SymbolsRenderer(colors: screen.colors, unicode: screen.unicode),
            imagesRoot: options.settings.imagesDir, maxPixels: options.settings.maxPixels,
            mailbox: mailbox, timings: timings)
        detector = DetectionWorker(settings: options.settings, mailbox: mailbox)
        tritonChecks = TritonWorker(settings: options.settings, mailbox: mailbox)
        fileChecks = FileCheckWorker(imagesRoot: options.settings.imagesDir, mailbox: mailbox)
        opener = Opener(environment: options.environment, mailbox: mailbox)
        painter = Painter(screen: screen, graphics: detection.mode)
    }

    func loop() {
        defer {
            if detection.mode == .kitty { screen.writeRaw(PixelRenderer.kittyClearAll) }
            screen.end()
        }
        execute(browser.start(now: Timings.now()))
        var dirty = true
        var lastPaint = 0.0
        while !browser.quitRequested {
            let now = Timings.now()
            if dirty || (browser.detection?.running == true && now - lastPaint > 0.5) {
                paint(now: now)
                lastPaint = now
                dirty = false
            }
            waitForInput(timeoutMilliseconds: 100)
            let results = mailbox.drain()
            for result in results {
                noteResult(result)
                execute(browser.apply(result, now: Timings.now()))
            }
            dirty = dirty || !results.isEmpty
            while let key = screen.readKey() {
                dirty = true
                if key == .resize {
                    screen.updateSize()
                    execute(browser.resize(columns: screen.columns, rows: screen.rows, now: Timings.now()))
                    continue
                }
                let before = browser.search.query
                let effects = browser.handle(key, now: Timings.now())
                if browser.search.query != before, browser.search.query != nil {
                    for case .loadPage(let request) in effects where request.offset == 0 {
                        searchPending = (request.token, Timings.now())
                    }
                }
                execute(effects)
                if browser.quitRequested { break }
            }
            let ticked = browser.tick(now: Timings.now())
            if !ticked.isEmpty { execute(ticked) }
        }
        detector.cancel()
    }

    private func waitForInput(timeoutMilliseconds: Int32) {
        var fds = [
            pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0),
            pollfd(fd: mailbox.readDescriptor, events: Int16(POLLIN), revents: 0),
        ]
        _ = poll(&fds, nfds_t(fds.count), timeoutMilliseconds)
    }

    private func noteResult(_ result: WorkResult) {
        switch result {
        case .page(let token, _, _, _, _):
            if let pending = searchPending, pending.token == token {
                searchLanded = pending.at
                searchPending = nil
            }
        case .preview(let token, _):
            if let requested = previewRequested.removeValue(forKey: token), token == browser.preview.token {
                previewLanded = (token, requested)
            }
        default:
            break
        }
    }

    private func execute(_ effects: [Effect]) {
        for effect in effects {
            switch effect {
            case .loadPage(let request): store.loadPage(request)
            case .loadPreview(let request):
                if timings.enabled {
                    previewRequested = previewRequested.filter { $0.key > request.token &- 32 }
                    previewRequested[request.token] = Timings.now()
                }
                previews.render(request)
            case .pingRedis: store.ping()
            case .checkTriton: tritonChecks.check()
            case .startDetection(let request): detector.start(request)
            case .cancelDetection: detector.cancel()
            case .loadPeople(let token): store.loadPeople(token: token)
            case .changePeople(let token, let change): store.changePeople(token: token, change: change)
            case .findSimilar(let request): store.findSimilar(request)
            case .loadFacePage(let request): store.loadFacePage(request)
            case .loadSuggestions(let token): store.loadSuggestions(token: token)
            case .loadThumbnails(let request): previews.renderThumbnails(request)
            case .checkFiles(let names): fileChecks.check(names)
            case .locate(let token, let document, let order, let descending):
                store.locate(token: token, document: document, order: order, descending: descending)
            case .openImage(let filename):
                opener.open(ImageFiles.path(of: filename, imagesRoot: options.settings.imagesDir))
            case .copyPath(let filename):
                screen.writeRaw(
                    Opener.clipboardSequence(ImageFiles.path(of: filename, imagesRoot: options.settings.imagesDir)))
            case .redraw:
                screen.invalidate()
                placedPicture = nil
            case .quit: break
            }
        }
    }

    private func paint(now: Double) {
        painter.paint(browser, now: now)
        let pixels = pixelPicture()
        if pixels == nil, let rect = pictureRect {
            // A pixel picture is on screen but should no longer be: clear it.
            if detection.mode == .kitty { screen.writeRaw(PixelRenderer.kittyClearAll) }
            screen.invalidate(rows: rect.y, count: rect.height)
            pictureRect = nil
            placedPicture = nil
        }
        screen.refresh()
        if let (image, rect) = pixels, placedPicture != browser.preview.token {
            if detection.mode == .sixel {
                if let old = pictureRect {
                    // Blank the old picture's rows first so no part of it is left around the new one.
                    screen.invalidate(rows: old.y, count: old.height)
                    screen.refresh()
                }
            }
            if let renderer = pixelRenderer {
                screen.writeRaw(renderer.placement(image, column: rect.x, row: rect.y))
            }
            placedPicture = browser.preview.token
            pictureRect = rect
        }
        logTimings(now: now)
    }

    /// The pixel picture to show and where, when the preview holds one and nothing covers it.
    private func pixelPicture() -> (PixelImage, Rect)? {
        guard case .pixels(let image)? = browser.preview.content, browser.helpScroll == nil,
            let area = browser.layout.image
        else { return nil }
        let x = area.x + max(0, (area.width - image.width) / 2)
        let y = area.y + max(0, (area.height - image.height) / 2)
        return (image, Rect(x: x, y: y, width: image.width, height: image.height))
    }

    private func logTimings(now: Double) {
        guard timings.enabled else { return }
        if !firstScreenLogged, browser.list.total != nil,
            browser.list.total == 0 || (browser.list.current != nil && browser.preview.content != nil)
        {
            firstScreenLogged = true
            timings.event("first_full_screen", ["since_main_ms": (Timings.now() - launched) * 1000])
        }
        if browser.view == .people, let everyone = browser.peopleView.all {
            if !peopleShownLogged {
                peopleShownLogged = true
                timings.event("people_shown", ["people": Double(everyone.count)])
            }
        } else if browser.view != .people {
            peopleShownLogged = false
        }
        if let at = searchLanded {
            timings.event("search_list_updated", ["ms": (Timings.now() - at) * 1000])
            searchLanded = nil
        }
        if let landed = previewLanded {
            timings.event(
                "preview_painted", ["ms": (Timings.now() - landed.requested) * 1000, "token": Double(landed.token)])
            previewLanded = nil
        }
        if let total = browser.list.total, total > 0, browser.list.cursor == total - 1 {
            timings.event("at_last_row", ["row": Double(browser.list.cursor)])
        }
        let list = browser.list
        let visible = list.top..<max(list.top, min(list.total ?? 0, list.top + browser.layout.listRows))
        let missing = visible.filter { list.row(at: $0) == nil }.count
        timings.event(
            "paint",
            ["cursor": Double(list.cursor), "pages": Double(list.loadedPageCount), "missing": Double(missing)])
    }

    /// What graphics mode was chosen, for `facescope doctor`.
    var graphicsDetection: GraphicsDetection { detection }
}
