import FaceScopeCore
import FaceScopeRedis

/// The main views.
enum View: Sendable, Equatable {
    /// The list and the preview of the highlighted image.
    case browse
    /// One face of the highlighted image, enlarged, with its details.
    case detail(face: Int)
}

/// A question on the prompt line.
enum Prompt: Sendable, Equatable {
    /// How to re-detect `count` images (`what` names them).
    case redetect(target: DetectionTarget, count: Int, what: String)
}

/// A line for the user on the prompt row.
struct StatusMessage: Sendable, Equatable {
    var text: String
    var isError: Bool
}

/// What a detection run has done so far.
struct DetectionProgress: Sendable, Equatable {
    var token: UInt64
    var mode: FaceMergeMode
    /// How many images the run works on, once it knows.
    var total: Int?
    var done = 0
    var failed = 0
    var faces = 0
    var startedAt: Double
    var finishedAt: Double?
    /// The image last finished.
    var current: String?
    /// The last few errors, newest last.
    var errors: [String] = []
    var cancelling = false
    var cancelled = false
    /// Why the run could not go on at all (Triton or Redis unreachable).
    var fatal: String?

    /// Whether the run is still going.
    var running: Bool { finishedAt == nil }

    /// Images per second so far.
    func rate(now: Double) -> Double {
        let elapsed = (finishedAt ?? now) - startedAt
        return elapsed > 0 ? Double(done) / elapsed : 0
    }
}

/// What the preview area was asked to show and what it shows.
struct PreviewSlot: Sendable, Equatable {
    /// What the last request was for; a change asks for a new rendering.
    var key: PreviewKey?
    var token: UInt64 = 0
    var content: PreviewContent?
    /// True while a rendering is on its way.
    var pending = false
}

/// Everything a preview rendering depends on.
struct PreviewKey: Sendable, Equatable {
    var document: ImageDocument
    var area: Rect
    var boxes: Bool
    var landmarks: Bool
    var focus: Int?
}

/// The browser's state and its rules: keys in, effects out, results in. No terminal, no I/O and
/// no clock of its own (the time is passed in), so every behaviour is testable as plain values.
/// Everything that changes it runs on one thread (the UI thread).
struct Browser: Sendable {
    /// How often a Redis that went away is tried again, in seconds.
    static let redisRetryInterval = 2.0
    /// How often Redis is checked (and the documents counted) while up.
    static let redisPingInterval = 3.0
    /// How often Triton is checked.
    static let tritonCheckInterval = 5.0

    let keymap: Keymap
    private(set) var layout: ScreenLayout
    private(set) var list: PagedList<ImageDocument>
    private(set) var search = SearchState()
    private(set) var selection = Selection()
    private(set) var order: ListOrder = .filename
    private(set) var descending = false
    private(set) var view: View = .browse
    /// The help screen's first line when it is shown.
    private(set) var helpScroll: Int?
    private(set) var prompt: Prompt?
    private(set) var showBoxes = true
    private(set) var showLandmarks = true
    private(set) var zoomed = false
    private(set) var redis: ServiceStatus = .connecting
    private(set) var triton: ServiceStatus = .unknown
    private(set) var message: StatusMessage?
    private(set) var detection: DetectionProgress?
    private(set) var preview = PreviewSlot()
    /// How many documents are stored (the last count), whatever the list shows.
    private(set) var collectionSize: Int?
    private(set) var quitRequested = false
    /// Whether Triton is configured at all (re-detection needs it).
    var tritonConfigured = true

    private var tokens: UInt64 = 0
    private var pendingPages: [Int: UInt64] = [:]
    private var nextRedisRetry = 0.0
    private var nextRedisPing = 0.0
    private var nextTritonCheck = 0.0

    /// A browser for a `columns` x `rows` screen.
    init(columns: Int, rows: Int, keymap: Keymap = .standard, pageSize: Int = 100) {
        self.keymap = keymap
        layout = ScreenLayout(columns: columns, rows: rows)
        list = PagedList(pageSize: pageSize)
    }

    // MARK: - Derived state

    /// Where keys go now.
    var context: KeyContext {
        if prompt != nil { return .confirm }
        if helpScroll != nil { return .help }
        if search.editing { return .search }
        if case .detail = view { return .detail }
        return .browse
    }

    /// The list shown.
    var source: ListSource {
        if let query = search.query { return .search(query) }
        return .all(order: order, descending: descending)
    }

    /// How many rows the list pages through at once.
    var viewHeight: Int { max(1, layout.listRows) }

    /// The face the detail view shows, if it is shown.
    var focusedFace: Int? {
        if case .detail(let face) = view { return face }
        return nil
    }

    /// True when a search is applied and matched nothing.
    var searchFoundNothing: Bool { search.query != nil && list.total == 0 }

    private mutating func nextToken() -> UInt64 {
        tokens += 1
        return tokens
    }

    private mutating func relayout() {
        layout = ScreenLayout(
            columns: layout.columns, rows: layout.rows, zoomed: zoomed, detail: focusedFace != nil,
            panel: detection != nil)
        list.scroll(viewHeight: viewHeight)
    }

    // MARK: - Input

    /// The first effects: count the documents, check Triton, load the first page.
    mutating func start(now: Double) -> [Effect] {
        nextRedisPing = now + Self.redisPingInterval
        nextTritonCheck = now + Self.tritonCheckInterval
        var effects: [Effect] = [.pingRedis]
        if tritonConfigured { effects.append(.checkTriton) }
        return effects + pump(now: now)
    }

    /// The screen changed size.
    mutating func resize(columns: Int, rows: Int, now: Double) -> [Effect] {
        layout = ScreenLayout(columns: columns, rows: rows)
        relayout()
        return [.redraw] + pump(now: now)
    }

    /// A key was pressed.
    mutating func handle(_ key: Key, now: Double) -> [Effect] {
        var effects: [Effect] = []
        switch key {
        case .resize:
            break
        case .mouse(let event):
            handleMouse(event)
        default:
            let context = context
            if let action = keymap.action(for: key, in: context) {
                effects = perform(action, now: now)
            } else if context == .search, case .character(let c) = key {
                search.insert(String(c))
                searchChanged()
            } else if context == .browse || context == .detail {
                message = StatusMessage(text: "\(key.label): no such key here (? shows the keys)", isError: false)
            }
        }
        return effects + pump(now: now)
    }

    private mutating func handleMouse(_ event: MouseEvent) {
        guard context == .browse else { return }
        switch event {
        case .wheelUp: list.move(by: -3, viewHeight: viewHeight)
        case .wheelDown: list.move(by: 3, viewHeight: viewHeight)
        case .click(let column, let row):
            if let entry = layout.listEntry(column: column, row: row), entry < layout.listRows {
                let index = list.top + entry
                if index < (list.total ?? 0) { list.moveTo(index, viewHeight: viewHeight) }
            }
        }
    }

    private mutating func searchChanged() {
        selection.listingChanged(scope: search.query)
        resetList()
    }

    private mutating func resetList() {
        list.reset()
        pendingPages = [:]
    }

    private mutating func reloadList() {
        list.invalidate()
        pendingPages = [:]
    }

    private mutating func perform(_ action: Action, now: Double) -> [Effect] {
        message = nil
        switch action {
        case .moveDown:
            if helpScroll != nil {
                helpScroll = (helpScroll ?? 0) + 1
            } else {
                list.move(by: 1, viewHeight: viewHeight)
            }
        case .moveUp:
            if let scroll = helpScroll {
                helpScroll = max(0, scroll - 1)
            } else {
                list.move(by: -1, viewHeight: viewHeight)
            }
        case .pageDown: list.move(by: viewHeight, viewHeight: viewHeight)
        case .pageUp: list.move(by: -viewHeight, viewHeight: viewHeight)
        case .top: list.moveTo(0, viewHeight: viewHeight)
        case .bottom: list.moveTo((list.total ?? 1) - 1, viewHeight: viewHeight)
        case .nextMatch, .previousMatch:
            if search.query == nil {
                message = StatusMessage(text: "no search: press / to search filenames", isError: false)
            } else {
                list.wrapMove(by: action == .nextMatch ? 1 : -1, viewHeight: viewHeight)
            }
        case .startSearch:
            search.editing = true
        case .clearSearch:
            if search.query != nil {
                search.clearText()
                searchChanged()
            } else if !selection.isEmpty(total: list.total ?? 0) {
                selection.clear()
            }
        case .submitSearch:
            search.editing = false
        case .cancelSearch:
            search.editing = false
            if !search.text.isEmpty {
                search.clearText()
                searchChanged()
            }
        case .deleteBackward:
            if search.deleteBackward() {
                searchChanged()
            } else {
                search.editing = false
            }
        case .clearQuery:
            search.clearText()
            searchChanged()
        case .toggleSelect:
            if let doc = list.current {
                selection.toggle(pk: doc.pk, filename: doc.filename)
                list.move(by: 1, viewHeight: viewHeight)
            }
        case .selectAll:
            selection.selectAll(scope: search.query)
            message = StatusMessage(
                text: "\(selection.count(total: list.total ?? 0)) images selected (x clears)", isError: false)
        case .clearSelection:
            selection.clear()
        case .toggleSort, .reverseSort:
            if action == .toggleSort {
                order = order == .filename ? .faces : .filename
            } else {
                descending.toggle()
            }
            if search.query != nil {
                message = StatusMessage(
                    text: "search results are listed by filename; the order applies after Esc", isError: false)
            } else {
                resetList()
            }
        case .toggleBoxes: showBoxes.toggle()
        case .toggleLandmarks: showLandmarks.toggle()
        case .toggleZoom:
            zoomed.toggle()
            relayout()
        case .openDetail:
            if let doc = list.current, doc.faceCount > 0 {
                view = .detail(face: 0)
                relayout()
            } else {
                message = StatusMessage(text: "no faces to zoom on in this image", isError: false)
            }
        case .nextFace, .previousFace:
            if case .detail(let face) = view, let count = list.current?.faceCount, count > 0 {
                let step = action == .nextFace ? 1 : -1
                view = .detail(face: ((face + step) % count + count) % count)
            }
        case .closeView:
            if helpScroll != nil {
                helpScroll = nil
                return [.redraw]
            }
            view = .browse
            relayout()
        case .help:
            helpScroll = 0
        case .redetect:
            return askRedetect()
        case .confirmReplace, .confirmKeepLabels:
            guard case .redetect(let target, _, _) = prompt else { return [] }
            prompt = nil
            let token = nextToken()
            detection = DetectionProgress(
                token: token, mode: action == .confirmKeepLabels ? .keepLabels : .replace, startedAt: now)
            relayout()
            return [.startDetection(DetectionRequest(token: token, target: target, mode: detection?.mode ?? .replace))]
        case .cancelPrompt:
            prompt = nil
        case .cancelDetection:
            guard var run = detection else {
                message = StatusMessage(text: "no detection run to cancel", isError: false)
                return []
            }
            if run.running {
                run.cancelling = true
                detection = run
                return [.cancelDetection]
            }
            detection = nil
            relayout()
        case .reload:
            reloadList()
            nextRedisRetry = now
            return [.pingRedis] + (tritonConfigured ? [.checkTriton] : [])
        case .redraw:
            return [.redraw]
        case .quit:
            quitRequested = true
            return [.quit]
        }
        return []
    }

    private mutating func askRedetect() -> [Effect] {
        if !tritonConfigured {
            message = StatusMessage(text: "re-detection needs Triton: start facescope with --triton-url", isError: true)
            return []
        }
        if let run = detection, run.running {
            message = StatusMessage(text: "a detection run is going on (c cancels it)", isError: false)
            return []
        }
        let total = list.total ?? 0
        if selection.isEmpty(total: total) {
            guard let doc = list.current else {
                message = StatusMessage(text: "nothing to re-detect", isError: false)
                return []
            }
            prompt = .redetect(
                target: .files([doc.filename]), count: 1, what: TerminalText.sanitize(doc.filename))
        } else if selection.allSelected {
            let scopeSource: ListSource =
                selection.scope.map { .search($0) } ?? .all(order: order, descending: descending)
            let count = selection.count(total: total)
            prompt = .redetect(
                target: .all(source: scopeSource, except: Set(selection.marked.keys)), count: count,
                what: "\(count) selected images")
        } else {
            let files = selection.pickedFilenames
            prompt = .redetect(target: .files(files), count: files.count, what: "\(files.count) selected images")
        }
        return []
    }

    // MARK: - Results

    /// A background worker answered.
    mutating func apply(_ result: WorkResult, now: Double) -> [Effect] {
        switch result {
        case .page(let token, let page, let rows, let total):
            guard pendingPages[page] == token else { return pump(now: now) }
            pendingPages[page] = nil
            if !redis.isUp { redis = .up("ok") }
            list.store(page: page, rows: rows, total: total, viewHeight: viewHeight)
        case .pageFailed(let token, let page, let error):
            guard pendingPages[page] == token else { return pump(now: now) }
            pendingPages = [:]
            redisFailed(error, now: now)
        case .redisPing(let total, let error):
            if let error {
                redisFailed(error, now: now)
            } else {
                let wasDown = redis.isDown
                redis = .up("ok")
                collectionSize = total
                if wasDown { reloadList() }
                if case .all = source, let total, let shown = list.total, shown != total {
                    // Other tools added or deleted documents: the pages are out of date.
                    reloadList()
                    list.setTotal(total, viewHeight: viewHeight)
                }
            }
        case .triton(let up, let detail):
            triton = up ? .up(detail) : .down(detail)
        case .preview(let token, let content):
            guard token == preview.token else { return [] }
            preview.content = content
            preview.pending = false
        case .detectionStarted(let token, let total):
            guard var run = detection, run.token == token else { return [] }
            run.total = total
            detection = run
        case .detectionImage(let token, let document):
            guard var run = detection, run.token == token else { return [] }
            run.done += 1
            run.faces += document.faceCount
            run.current = document.filename
            detection = run
            list.updateRows { $0.filename == document.filename ? document : nil }
        case .detectionFailed(let token, let file, let error):
            guard var run = detection, run.token == token else { return [] }
            run.done += 1
            run.failed += 1
            run.current = file
            run.errors = Array((run.errors + [error]).suffix(3))
            detection = run
        case .detectionFinished(let token, let cancelled, let error):
            guard var run = detection, run.token == token else { return [] }
            run.finishedAt = now
            run.cancelled = cancelled
            run.fatal = error
            detection = run
            if let error {
                message = StatusMessage(text: error, isError: true)
            }
            // Counts and the face-count order changed: read the visible pages again.
            reloadList()
            return [.pingRedis] + pump(now: now)
        }
        return pump(now: now)
    }

    private mutating func redisFailed(_ error: String, now: Double) {
        redis = .down(error)
        nextRedisRetry = now + Self.redisRetryInterval
    }

    /// Timers: retrying Redis, checking Triton.
    mutating func tick(now: Double) -> [Effect] {
        var effects: [Effect] = []
        if redis.isDown {
            if now >= nextRedisRetry {
                nextRedisRetry = now + Self.redisRetryInterval
                effects.append(.pingRedis)
            }
        } else if now >= nextRedisPing {
            nextRedisPing = now + Self.redisPingInterval
            effects.append(.pingRedis)
        }
        if tritonConfigured && now >= nextTritonCheck {
            nextTritonCheck = now + Self.tritonCheckInterval
            effects.append(.checkTriton)
        }
        return effects + pump(now: now)
    }

    /// The requests the current state needs: missing pages of the list, and a new rendering when
    /// the preview's subject changed.
    mutating func pump(now: Double) -> [Effect] {
        guard !layout.tooSmall else { return [] }
        var effects: [Effect] = []
        if !redis.isDown {
            for page in list.missingPages(viewHeight: viewHeight) where pendingPages[page] == nil {
                let token = nextToken()
                pendingPages[page] = token
                effects.append(
                    .loadPage(
                        PageRequest(
                            token: token, page: page, offset: page * list.pageSize, limit: list.pageSize,
                            source: source)))
            }
        }
        if let focus = focusedFace, (list.current?.faceCount ?? 0) <= focus {
            view = .browse
            relayout()
        }
        if let area = layout.image, !area.isEmpty, let doc = list.current {
            let key = PreviewKey(
                document: doc, area: area, boxes: showBoxes, landmarks: showLandmarks, focus: focusedFace)
            if key != preview.key {
                let token = nextToken()
                preview.key = key
                preview.token = token
                preview.pending = true
                effects.append(
                    .loadPreview(
                        PreviewRequest(
                            token: token, document: doc, area: area, boxes: showBoxes, landmarks: showLandmarks,
                            focus: focusedFace)))
            }
        } else if list.total == 0 {
            preview = PreviewSlot()
        }
        return effects
    }
}
