import FaceScopeCore
import FaceScopeRedis

/// The main views.
enum View: Sendable, Equatable {
    /// The list and the preview of the highlighted image.
    case browse
    /// One face of the highlighted image, enlarged, with its details.
    case detail(face: Int)
    /// The people (face labels), the highlighted one's example face in the preview.
    case people
    /// The faces most like one face ("more like this").
    case similar
}

/// A question on the prompt line.
enum Prompt: Sendable, Equatable {
    /// How to re-detect `count` images (`what` names them).
    case redetect(target: DetectionTarget, count: Int, what: String)
    /// Typing a new name for person `label`.
    case rename(label: Int, text: String)
    /// Typing the label that person `label` is merged into.
    case mergeTarget(label: Int, text: String)
    /// Asked whether to merge person `label` into `into` (`what` says it in words).
    case merge(label: Int, into: Int, what: String)

    /// The text typed on a line prompt.
    var text: String? {
        switch self {
        case .rename(_, let text), .mergeTarget(_, let text): return text
        case .redetect, .merge: return nil
        }
    }

    /// The same prompt with other text typed.
    func with(text new: String) -> Prompt {
        switch self {
        case .rename(let label, _): return .rename(label: label, text: new)
        case .mergeTarget(let label, _): return .mergeTarget(label: label, text: new)
        case .redetect, .merge: return self
        }
    }
}

/// What narrows the image list besides a search.
enum ListScope: Sendable, Equatable {
    /// The images of one person.
    case person(Person)
    /// One image, reached from "more like this".
    case image(filename: String)
}

/// The face "more like this" started from.
struct SimilarOrigin: Sendable, Equatable {
    var filename: String
    var face: Int
}

/// What narrows the people view.
struct PeopleFilter: Sendable, Equatable {
    /// Typed text: a part of the name (any case), or the label.
    var text = ""
    /// Whether the text is being typed.
    var editing = false
    /// Only the people without a name.
    var unnamedOnly = false
    /// Leave out the people with a single face.
    var hideSingles = false

    /// Whether anything is filtered out.
    var isActive: Bool { !text.isEmpty || unnamedOnly || hideSingles }

    /// Whether `person` is shown.
    func matches(_ person: Person) -> Bool {
        if unnamedOnly, let name = person.name, !name.isEmpty { return false }
        if hideSingles, person.faces < 2 { return false }
        let needle = text.trimmingBlanks().lowercased()
        if needle.isEmpty { return true }
        return (person.name ?? "").lowercased().contains(needle) || String(person.label) == needle
    }

    /// The people shown, most faces first (then by label).
    func apply(_ all: [Person]) -> [Person] {
        all.filter(matches).sorted { ($0.faces, -$0.label) > ($1.faces, -$1.label) }
    }
}

/// A listing left for a narrower one, to come back to with Esc.
struct SavedListing: Sendable {
    var list: PagedList<ImageDocument>
    var search: SearchState
    var scope: ListScope?
    /// The view shown on coming back.
    var returnTo: View
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
    var names: [Int: String]
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
    /// The page size of lists held whole (people, similar faces).
    static let wholeList = 1 << 20
    /// How many faces "more like this" lists.
    static let similarLimit = 20

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
    /// What narrows the image list (a person, an image), if anything.
    private(set) var scope: ListScope?
    /// Every person's name by label, for the face detail and the names on the boxes.
    private(set) var names: [Int: String] = [:]
    /// The people shown (filtered, most faces first), all in one page.
    private(set) var people = PagedList<Person>(pageSize: Browser.wholeList)
    /// Everyone with a face label, as read.
    private(set) var allPeople: [Person]?
    private(set) var peopleFilter = PeopleFilter()
    /// Why the people could not be read, if they could not.
    private(set) var peopleError: String?
    /// The faces most like `similarOrigin`, nearest first, all in one page.
    private(set) var similar = PagedList<SimilarFace>(pageSize: Browser.wholeList)
    private(set) var similarOrigin: SimilarOrigin?
    private(set) var similarError: String?
    /// The detection queue's progress (`facescope worker`s running), if a queue has work.
    private(set) var queueProgress: String?
    /// How many documents are stored (the last count), whatever the list shows.
    private(set) var collectionSize: Int?
    private(set) var quitRequested = false
    /// Which listed images' files are missing (the rows on screen are checked).
    private(set) var files = FileChecks()
    /// Whether Triton is configured at all (re-detection needs it).
    var tritonConfigured = true

    private var tokens: UInt64 = 0
    private var pendingPages: [Int: UInt64] = [:]
    private var nextRedisRetry = 0.0
    private var nextRedisPing = 0.0
    private var nextTritonCheck = 0.0
    private var peopleToken: UInt64?
    private var peopleChangeToken: UInt64?
    private var similarToken: UInt64?
    /// Listings to come back to, the widest first.
    private var saved: [SavedListing] = []
    /// The face to zoom on once the image jumped to is loaded.
    private var pendingFocus: Int?
    /// The image to keep highlighted in a new listing, while its place is looked up.
    private var locating: (token: UInt64, document: ImageDocument)?
    /// Its place, found before the new listing's length is known.
    private var locatedIndex: Int?
    private var locatedDocument: ImageDocument?

    /// Looks up where the highlighted image is in the listing of every image (after a search is
    /// left or the order changed), to highlight it there.
    private mutating func keepHighlighted(_ current: ImageDocument?) -> [Effect] {
        // Keys pressed before the new listing came: the image still being looked up.
        let document = current ?? locating?.document ?? locatedDocument
        locatedIndex = nil
        locatedDocument = nil
        guard let document, scope == nil, search.query == nil else {
            locating = nil
            return []
        }
        let token = nextToken()
        locating = (token, document)
        return [.locate(token: token, document: document, order: order, descending: descending)]
    }

    /// Moves to the image located, once the listing's length is known.
    private mutating func moveToLocated() {
        guard let index = locatedIndex, list.total != nil else { return }
        locatedIndex = nil
        locatedDocument = nil
        list.moveTo(index, viewHeight: viewHeight)
    }

    /// A browser for a `columns` x `rows` screen.
    init(columns: Int, rows: Int, keymap: Keymap = .standard, pageSize: Int = 100) {
        self.keymap = keymap
        layout = ScreenLayout(columns: columns, rows: rows)
        list = PagedList(pageSize: pageSize)
    }

    // MARK: - Derived state

    /// Where keys go now.
    var context: KeyContext {
        switch prompt {
        case .redetect?: return .confirm
        case .rename?, .mergeTarget?: return .input
        case .merge?: return .confirmMerge
        case nil: break
        }
        if helpScroll != nil { return .help }
        if search.editing { return .search }
        if peopleFilter.editing, view == .people { return .peopleFilter }
        switch view {
        case .browse: return .browse
        case .detail: return .detail
        case .people: return .people
        case .similar: return .similar
        }
    }

    /// The list shown: a search, else the scope, else every image.
    var source: ListSource {
        if let query = search.query { return .search(query) }
        return scopeSource
    }

    /// The list the scope gives, search aside.
    var scopeSource: ListSource {
        switch scope {
        case .person(let person)?: return .person(label: person.label)
        case .image(let filename)?: return .image(filename: filename)
        case nil: return .all(order: order, descending: descending)
        }
    }

    /// What the preview shows: the highlighted image (and the face zoomed on), or in the people
    /// and similar views the highlighted face cut from its image.
    var previewSubject: (document: ImageDocument, focus: Int?)? {
        func single(_ face: StoredFace) -> (document: ImageDocument, focus: Int?) {
            (ImageDocument(pk: face.documentPK, filename: face.filename, faces: [face.face]), 0)
        }
        switch view {
        case .people: return people.current?.example.map(single)
        case .similar: return similar.current.map { single($0.stored) }
        case .browse, .detail: return list.current.map { ($0, focusedFace) }
        }
    }

    /// How many rows the list pages through at once.
    var viewHeight: Int { max(1, layout.listRows) }

    /// The face the detail view shows, if it is shown.
    var focusedFace: Int? {
        if case .detail(let face) = view { return face }
        return nil
    }

    /// True when a search is applied but no word in it has two characters (the index matches
    /// word starts of 2 characters and more, so it can find nothing yet).
    var searchTooShort: Bool {
        guard search.query != nil else { return false }
        let words = search.text.unicodeScalars.split { !SearchState.isWordScalar($0) }
        return words.allSatisfy { $0.count < 2 }
    }

    /// True when a search is applied and matched nothing.
    var searchFoundNothing: Bool { search.query != nil && list.total == 0 }
    /// The search found nothing exactly and shows words within one typo.
    var searchCloseMatches = false

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
            } else if context == .peopleFilter, case .character(let c) = key {
                peopleFilter.text += String(c)
                refilterPeople()
            } else if context == .input, case .character(let c) = key, let line = prompt?.text {
                prompt = prompt?.with(text: line + String(c))
            } else if [.browse, .detail, .people, .similar].contains(context) {
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
        files.forget()
    }

    private mutating func perform(_ action: Action, now: Double) -> [Effect] {
        message = nil
        switch action {
        case .moveDown, .moveUp, .pageDown, .pageUp, .top, .bottom:
            if let scroll = helpScroll {
                if action == .moveDown || action == .moveUp {
                    helpScroll = max(0, scroll + (action == .moveDown ? 1 : -1))
                }
                return []
            }
            switch view {
            case .people: Self.step(&people, action, viewHeight: viewHeight)
            case .similar: Self.step(&similar, action, viewHeight: viewHeight)
            case .browse, .detail: Self.step(&list, action, viewHeight: viewHeight)
            }
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
                let current = list.current
                search.clearText()
                searchChanged()
                return keepHighlighted(current)
            } else if !selection.isEmpty(total: list.total ?? 0) {
                selection.clear()
            } else if !saved.isEmpty {
                goBack()
            }
        case .submitSearch:
            if peopleFilter.editing {
                peopleFilter.editing = false
                return []
            }
            search.editing = false
        case .cancelSearch:
            if peopleFilter.editing {
                peopleFilter.editing = false
                peopleFilter.text = ""
                refilterPeople()
                return []
            }
            search.editing = false
            if !search.text.isEmpty {
                let current = search.query != nil ? list.current : nil
                search.clearText()
                searchChanged()
                return keepHighlighted(current)
            }
        case .deleteBackward:
            if let line = prompt?.text {
                prompt = prompt?.with(text: String(line.dropLast()))
            } else if context == .peopleFilter {
                if peopleFilter.text.isEmpty {
                    peopleFilter.editing = false
                } else {
                    peopleFilter.text.removeLast()
                    refilterPeople()
                }
            } else if search.deleteBackward() {
                searchChanged()
            } else {
                search.editing = false
            }
        case .clearQuery:
            if prompt?.text != nil {
                prompt = prompt?.with(text: "")
            } else if context == .peopleFilter {
                peopleFilter.text = ""
                refilterPeople()
            } else {
                search.clearText()
                searchChanged()
            }
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
                let current = list.current
                resetList()
                return keepHighlighted(current)
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
            switch view {
            case .similar:
                if let origin = similarOrigin, let doc = list.current, doc.filename == origin.filename,
                    origin.face < doc.faceCount
                {
                    view = .detail(face: origin.face)
                } else {
                    view = .browse
                }
            case .people where !peopleFilter.text.isEmpty:
                peopleFilter.text = ""
                refilterPeople()
                return []
            case .people, .detail, .browse:
                view = .browse
            }
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
        case .showPeople:
            view = .people
            relayout()
            return [loadPeople()]
        case .openImage, .copyPath:
            guard let doc = list.current else {
                message = StatusMessage(text: "no image here", isError: false)
                return []
            }
            if action == .openImage {
                message = StatusMessage(text: "opening \(doc.filename)…", isError: false)
                return [.openImage(filename: doc.filename)]
            }
            message = StatusMessage(text: "copied the path of \(doc.filename) (OSC 52)", isError: false)
            return [.copyPath(filename: doc.filename)]
        case .filterPeople:
            peopleFilter.editing = true
        case .toggleUnnamed:
            peopleFilter.unnamedOnly.toggle()
            refilterPeople()
        case .toggleSingles:
            peopleFilter.hideSingles.toggle()
            refilterPeople()
        case .openPerson:
            guard let person = people.current else { return [] }
            narrow(to: .person(person), returnTo: .people, keepWidest: true)
        case .renamePerson:
            guard let person = people.current else { return [] }
            prompt = .rename(label: person.label, text: person.name ?? "")
        case .mergePerson:
            guard let person = people.current else { return [] }
            prompt = .mergeTarget(label: person.label, text: "")
        case .submitPrompt:
            return submitPrompt()
        case .undoPeopleEdit:
            return [changePeople(.undo)]
        case .confirmMerge:
            guard case .merge(let label, let into, _) = prompt else { return [] }
            prompt = nil
            return [changePeople(.merge(label: label, into: into))]
        case .moreLikeThis:
            return moreLikeThis()
        case .jumpToFace:
            guard let face = similar.current else { return [] }
            narrow(to: .image(filename: face.stored.filename), returnTo: .similar, keepWidest: false)
            pendingFocus = face.stored.faceIndex
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
            return [.pingRedis] + (tritonConfigured ? [.checkTriton] : []) + (view == .people ? [loadPeople()] : [])
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
            let selected: ListSource = selection.scope.map { .search($0) } ?? scopeSource
            let count = selection.count(total: total)
            prompt = .redetect(
                target: .all(source: selected, except: Set(selection.marked.keys)), count: count,
                what: "\(count) selected images")
        } else {
            let files = selection.pickedFilenames
            prompt = .redetect(target: .files(files), count: files.count, what: "\(files.count) selected images")
        }
        return []
    }

    private static func step<Row>(_ list: inout PagedList<Row>, _ action: Action, viewHeight: Int) {
        switch action {
        case .moveDown: list.move(by: 1, viewHeight: viewHeight)
        case .moveUp: list.move(by: -1, viewHeight: viewHeight)
        case .pageDown: list.move(by: viewHeight, viewHeight: viewHeight)
        case .pageUp: list.move(by: -viewHeight, viewHeight: viewHeight)
        case .top: list.moveTo(0, viewHeight: viewHeight)
        case .bottom: list.moveTo((list.total ?? 1) - 1, viewHeight: viewHeight)
        default: break
        }
    }

    /// Shows the people the filter lets through, the highlighted person kept where still shown.
    private mutating func refilterPeople() {
        guard let all = allPeople else { return }
        let keep = people.current?.label
        let rows = peopleFilter.apply(all)
        people = PagedList(pageSize: Self.wholeList)
        people.store(page: 0, rows: rows, total: rows.count, viewHeight: viewHeight)
        if let keep, let index = rows.firstIndex(where: { $0.label == keep }) {
            people.moveTo(index, viewHeight: viewHeight)
        }
    }

    private mutating func loadPeople() -> Effect {
        let token = nextToken()
        peopleToken = token
        return .loadPeople(token: token)
    }

    private mutating func changePeople(_ change: PeopleChange) -> Effect {
        let token = nextToken()
        peopleChangeToken = token
        message = StatusMessage(text: "saving…", isError: false)
        return .changePeople(token: token, change: change)
    }

    /// Shows a narrower listing (a person's images, one image); Esc comes back to `returnTo`
    /// with the listing as it was. `keepWidest` drops narrower listings left before, so opening
    /// one person after another comes back to the people, then to every image.
    private mutating func narrow(to newScope: ListScope, returnTo: View, keepWidest: Bool) {
        let here = SavedListing(list: list, search: search, scope: scope, returnTo: returnTo)
        if keepWidest, var widest = saved.first {
            widest.returnTo = returnTo
            saved = [widest]
        } else {
            saved.append(here)
        }
        scope = newScope
        search = SearchState()
        selection.clear()
        view = .browse
        pendingFocus = nil
        resetList()
        relayout()
    }

    /// Comes back to the listing left last.
    private mutating func goBack() {
        guard let back = saved.popLast() else { return }
        list = back.list
        search = back.search
        scope = back.scope
        selection.clear()
        pendingFocus = nil
        reloadList()
        view = back.returnTo
        relayout()
    }

    private mutating func submitPrompt() -> [Effect] {
        switch prompt {
        case .rename(let label, let text)?:
            prompt = nil
            let name = text.trimmingBlanks()
            return [changePeople(.rename(label: label, name: name))]
        case .mergeTarget(let label, let text)?:
            guard let into = Int(text.trimmingBlanks()) else {
                message = StatusMessage(text: "type the label of the person to merge into (a number)", isError: true)
                return []
            }
            guard into != label else {
                message = StatusMessage(text: "a person cannot be merged into itself", isError: true)
                return []
            }
            let all = allPeople ?? []
            let from = all.first { $0.label == label }
            func describe(_ label: Int, _ person: Person?) -> String {
                let name = person?.name.map { " \"\($0)\"" } ?? ""
                return "person \(label)\(name)"
            }
            let target = all.first { $0.label == into }
            let faces = from.map { " (\($0.faces) face\($0.faces == 1 ? "" : "s"))" } ?? ""
            prompt = .merge(
                label: label, into: into,
                what: describe(label, from) + faces + " into " + describe(into, target)
                    + (target == nil ? " (nobody has that label yet)" : ""))
            return []
        case .redetect?, .merge?, nil:
            return []
        }
    }

    private mutating func moreLikeThis() -> [Effect] {
        guard let focus = focusedFace, let doc = list.current, let faces = doc.faces, focus < faces.count else {
            return []
        }
        guard let embedding = faces[focus].embedding else {
            message = StatusMessage(
                text: "this face has no descriptor: re-detect it through Triton (r) to compare it", isError: true)
            return []
        }
        let token = nextToken()
        similarToken = token
        similar = PagedList(pageSize: Self.wholeList)
        similarError = nil
        similarOrigin = SimilarOrigin(filename: doc.filename, face: focus)
        view = .similar
        relayout()
        let facePK = faces[focus].pk
        return [
            .findSimilar(
                SimilarRequest(
                    token: token, embedding: embedding, facePK: facePK.isEmpty ? nil : facePK,
                    limit: Self.similarLimit))
        ]
    }

    // MARK: - Results

    /// A background worker answered.
    mutating func apply(_ result: WorkResult, now: Double) -> [Effect] {
        switch result {
        case .page(let token, let page, let rows, let total, let closeMatches):
            guard pendingPages[page] == token else { return pump(now: now) }
            pendingPages[page] = nil
            if page == 0 { searchCloseMatches = closeMatches }
            if !redis.isUp { redis = .up("ok") }
            list.store(page: page, rows: rows, total: total, viewHeight: viewHeight)
            moveToLocated()
            if let focus = pendingFocus, let doc = list.current {
                pendingFocus = nil
                if doc.faceCount > 0 {
                    view = .detail(face: min(focus, doc.faceCount - 1))
                    relayout()
                }
            }
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
        case .queueProgress(let text):
            queueProgress = text
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
        case .people(let token, let found):
            guard token == peopleToken else { return pump(now: now) }
            peopleToken = nil
            peopleError = nil
            allPeople = found
            refilterPeople()
        case .names(let found):
            names = found
        case .peopleFailed(let token, let error):
            guard token == peopleToken else { return pump(now: now) }
            peopleToken = nil
            peopleError = error
        case .peopleChanged(let token, let text, let error):
            guard token == peopleChangeToken else { return pump(now: now) }
            peopleChangeToken = nil
            message = StatusMessage(text: error ?? text, isError: error != nil)
            // Names and labels changed: the people and the listed images are read again.
            reloadList()
            return [loadPeople()] + pump(now: now)
        case .similar(let token, let faces):
            guard token == similarToken else { return pump(now: now) }
            similarToken = nil
            similar.store(page: 0, rows: faces, total: faces.count, viewHeight: viewHeight)
        case .similarFailed(let token, let error):
            guard token == similarToken else { return pump(now: now) }
            similarToken = nil
            similarError = error
            similar.setTotal(0, viewHeight: viewHeight)
        case .located(let token, let index):
            guard let pending = locating, pending.token == token else { return pump(now: now) }
            locating = nil
            locatedIndex = index
            locatedDocument = index == nil ? nil : pending.document
            moveToLocated()
        case .notice(let text, let isError):
            message = StatusMessage(text: text, isError: isError)
        case .filesChecked(let results):
            files.store(results)
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
        let onScreen = (list.top..<list.top + viewHeight).compactMap { list.row(at: $0)?.filename }
        let unchecked = files.toCheck(onScreen)
        if !unchecked.isEmpty { effects.append(.checkFiles(unchecked)) }
        let subject = previewSubject
        if let area = layout.image, !area.isEmpty, let (doc, focus) = subject {
            let shownNames = names.filter { label, _ in doc.faces?.contains { $0.label == label } ?? false }
            let key = PreviewKey(
                document: doc, area: area, boxes: showBoxes, landmarks: showLandmarks, focus: focus, names: shownNames)
            if key != preview.key {
                let token = nextToken()
                preview.key = key
                preview.token = token
                preview.pending = true
                effects.append(
                    .loadPreview(
                        PreviewRequest(
                            token: token, document: doc, area: area, boxes: showBoxes, landmarks: showLandmarks,
                            focus: focus, names: shownNames)))
            }
        } else if subject == nil, view == .people || view == .similar || list.total == 0 {
            preview = PreviewSlot()
        }
        return effects
    }
}
