import FaceScopeCore

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
    /// One person's faces as a grid of thumbnails.
    case faces
    /// Pairs of people whose faces are close.
    case suggestions
}

/// What narrows the image list besides a search.
enum ListScope: Sendable, Equatable {
    /// The images of one person.
    case person(Person)
    /// One image, reached from "more like this".
    case image(filename: String)
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
    /// The list's width beside the preview, and the list-only layout.
    private(set) var panes = PaneLayout()
    private(set) var redis: ServiceStatus = .connecting
    private(set) var triton: ServiceStatus = .unknown
    private(set) var message: StatusMessage?
    private(set) var detection: DetectionProgress?
    private(set) var preview = PreviewSlot()
    /// What narrows the image list (a person, an image), if anything.
    private(set) var scope: ListScope?
    /// Every person's name by label, for the face detail and the names on the boxes.
    private(set) var names: [Int: String] = [:]
    /// The people view's state and reducer.
    private(set) var peopleView = PeopleContext()
    /// The "more like this" view's state and reducer.
    private(set) var similarView = SimilarContext()
    /// The face grid's state and reducer.
    private(set) var faceGrid = FaceGridContext()
    /// The merge suggestions view's state and reducer.
    private(set) var suggestionsView = SuggestionsContext()
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

    /// The people shown (filtered, most faces first), all in one page.
    var people: PagedList<Person> { peopleView.list }
    /// Everyone with a face label, as read.
    var allPeople: [Person]? { peopleView.all }
    var peopleFilter: PeopleFilter { peopleView.filter }
    /// Why the people could not be read, if they could not.
    var peopleError: String? { peopleView.error }
    /// The faces most like `similarOrigin`, nearest first.
    var similar: PagedList<SimilarFace> { similarView.list }
    var similarOrigin: SimilarOrigin? { similarView.origin }
    var similarError: String? { similarView.error }

    /// Where keys go now.
    var context: KeyContext {
        switch prompt {
        case .redetect?: return .confirm
        case .rename?, .mergeTarget?, .moveFace?: return .input
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
        case .faces: return .faces
        case .suggestions: return .suggestions
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
        case .faces: return nil
        case .suggestions: return suggestionsView.list.current?.first.example.map(single)
        case .browse, .detail: return list.current.map { ($0, focusedFace) }
        }
    }

    /// The face grid's area: everything between the header and the prompt line.
    var faceGridArea: Rect { Rect(x: 0, y: 1, width: layout.columns, height: max(1, layout.prompt.y - 1)) }

    /// The face a people edit applies to: the grid's selected face, or the face detail's.
    var editedFace: StoredFace? { view == .faces ? faceGrid.selectedFace : focusedStoredFace }

    /// How many rows the list pages through at once.
    var viewHeight: Int { max(1, layout.listRows) }

    /// The face the detail view shows, if it is shown.
    var focusedFace: Int? {
        if case .detail(let face) = view { return face }
        return nil
    }

    /// The face the detail view shows, as the store addresses it.
    var focusedStoredFace: StoredFace? {
        guard let focus = focusedFace, let doc = list.current, let faces = doc.faces, faces.indices.contains(focus)
        else { return nil }
        return StoredFace(documentPK: doc.pk, filename: doc.filename, faceIndex: focus, face: faces[focus])
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
            panel: detection != nil, panes: panes)
        list.scroll(viewHeight: viewHeight)
        if view == .faces { faceGrid.resize(area: faceGridArea) }
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
                peopleView.type(String(c), viewHeight: viewHeight)
            } else if context == .input, case .character(let c) = key {
                Prompt.type(String(c), on: &prompt)
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
        // While a prompt is open, every key is the prompt's.
        if prompt != nil, let outcome = Prompt.perform(action, on: &prompt) { return answered(outcome, now: now) }
        // The people view's own actions (and the filter's while it is typed) are its reducer's.
        if context == .peopleFilter, peopleView.performWhileFiltering(action, viewHeight: viewHeight) { return [] }
        if view == .people, peopleView.perform(action, viewHeight: viewHeight) { return [] }
        // The grid's moves are its reducer's.
        if view == .faces, helpScroll == nil,
            [.nextFace, .previousFace, .moveDown, .moveUp, .pageDown, .pageUp, .top, .bottom].contains(action)
        {
            faceGrid.step(action)
            return []
        }
        switch action {
        case .moveDown, .moveUp, .pageDown, .pageUp, .top, .bottom:
            if let scroll = helpScroll {
                if action == .moveDown || action == .moveUp {
                    helpScroll = max(0, scroll + (action == .moveDown ? 1 : -1))
                }
                return []
            }
            switch view {
            case .people: peopleView.step(action, viewHeight: viewHeight)
            case .similar: similarView.step(action, viewHeight: viewHeight)
            case .faces: faceGrid.step(action)
            case .suggestions: suggestionsView.step(action, viewHeight: viewHeight)
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
            search.editing = false
        case .cancelSearch:
            search.editing = false
            if !search.text.isEmpty {
                let current = search.query != nil ? list.current : nil
                search.clearText()
                searchChanged()
                return keepHighlighted(current)
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
                let current = list.current
                resetList()
                return keepHighlighted(current)
            }
        case .toggleBoxes: showBoxes.toggle()
        case .toggleLandmarks: showLandmarks.toggle()
        case .toggleZoom:
            zoomed.toggle()
            relayout()
        case .narrowList, .widenList:
            if action == .narrowList ? panes.narrow() : panes.widen() {
                relayout()
                message = StatusMessage(text: "list \(panes.listPercent)% of the width", isError: false)
            } else {
                message = StatusMessage(
                    text: "the list is already as \(action == .narrowList ? "narrow" : "wide") as it goes",
                    isError: false)
            }
        case .toggleListOnly:
            panes.listOnly.toggle()
            relayout()
            message = StatusMessage(
                text: panes.listOnly ? "list only (w shows the preview again)" : "list and preview", isError: false)
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
            case .people where peopleView.clearFilter(viewHeight: viewHeight):
                return []
            case .faces, .suggestions:
                faceGrid.close()
                view = .people
                relayout()
                return [loadPeople()]
            case .people, .detail, .browse:
                view = .browse
            }
            relayout()
        case .help:
            helpScroll = 0
        case .redetect:
            return askRedetect()
        case .confirmReplace, .confirmKeepLabels, .cancelPrompt, .submitPrompt, .confirmMerge:
            // The prompt's actions: answered above while a prompt is open.
            break
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
        case .filterPeople, .toggleUnnamed, .toggleSingles:
            // Handled by the people view's reducer above; elsewhere they do nothing.
            break
        case .openPerson:
            guard let person = people.current else { return [] }
            narrow(to: .person(person), returnTo: .people, keepWidest: true)
        case .renamePerson:
            guard let person = people.current else { return [] }
            prompt = .rename(label: person.label, text: person.name ?? "")
        case .mergePerson:
            guard let person = people.current else { return [] }
            prompt = .mergeTarget(label: person.label, text: "")
        case .undoPeopleEdit:
            return [changePeople(.undo)]
        case .moveFace:
            guard let face = editedFace else { return [] }
            prompt = .moveFace(face: face, text: "")
        case .separateFace:
            guard let face = editedFace else { return [] }
            return [changePeople(.apart(face: face))]
        case .showSuggestions:
            view = .suggestions
            relayout()
            message = StatusMessage(text: "comparing the people's faces…", isError: false)
            return [suggestionsView.load(token: nextToken())]
        case .mergeSuggested:
            guard let pair = suggestionsView.list.current else { return [] }
            return [changePeople(.merge(label: pair.second.label, into: pair.first.label))]
        case .skipSuggestion:
            guard let pair = suggestionsView.skip(viewHeight: viewHeight) else { return [] }
            message = StatusMessage(
                text: "skipped person \(pair.second.label) and person \(pair.first.label) for this session",
                isError: false)
        case .showFaces:
            guard let person = people.current else { return [] }
            view = .faces
            relayout()
            faceGrid.open(person, area: faceGridArea)
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
        // The labels replacing would drop, counted on the images at hand (nil: not all read).
        func labels(_ filenames: [String]) -> Int? {
            let byName = Dictionary(
                list.loadedRows.map { ($0.filename, $0) }, uniquingKeysWith: { first, _ in first })
            var count = 0
            for name in filenames {
                guard let doc = byName[name] else { return nil }
                count += (doc.faces ?? []).filter { $0.label != nil }.count
            }
            return count
        }
        if selection.isEmpty(total: total) {
            guard let doc = list.current else {
                message = StatusMessage(text: "nothing to re-detect", isError: false)
                return []
            }
            prompt = .redetect(
                target: .files([doc.filename]), count: 1, what: TerminalText.sanitize(doc.filename),
                labels: labels([doc.filename]))
        } else if selection.allSelected {
            let selected: ListSource = selection.scope.map { .search($0) } ?? scopeSource
            let count = selection.count(total: total)
            prompt = .redetect(
                target: .all(source: selected, except: Set(selection.marked.keys)), count: count,
                what: "\(count) selected images", labels: nil)
        } else {
            let files = selection.pickedFilenames
            prompt = .redetect(
                target: .files(files), count: files.count, what: "\(files.count) selected images",
                labels: labels(files))
        }
        return []
    }

    static func step<Row>(_ list: inout PagedList<Row>, _ action: Action, viewHeight: Int) {
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

    private mutating func loadPeople() -> Effect {
        peopleView.load(token: nextToken())
    }

    private mutating func changePeople(_ change: PeopleChange) -> Effect {
        message = StatusMessage(text: "saving…", isError: false)
        return peopleView.change(change, token: nextToken())
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

    /// Does what answering the prompt asked for.
    private mutating func answered(_ outcome: PromptOutcome, now: Double) -> [Effect] {
        switch outcome {
        case .kept, .closed:
            return []
        case .detect(let target, let mode):
            let token = nextToken()
            detection = DetectionProgress(token: token, mode: mode, startedAt: now)
            relayout()
            return [.startDetection(DetectionRequest(token: token, target: target, mode: mode))]
        case .rename(let label, let name):
            return [changePeople(.rename(label: label, name: name))]
        case .askMerge(let label, let into):
            prompt = .merge(label: label, into: into, what: peopleView.mergeQuestion(label: label, into: into))
            return []
        case .merge(let label, let into):
            return [changePeople(.merge(label: label, into: into))]
        case .move(let face, let person):
            return [changePeople(.move(face: face, to: person))]
        case .refused(let text):
            message = StatusMessage(text: text, isError: true)
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
        let facePK = faces[focus].pk
        let request = similarView.start(
            token: nextToken(), origin: SimilarOrigin(filename: doc.filename, face: focus), embedding: embedding,
            facePK: facePK.isEmpty ? nil : facePK, limit: Self.similarLimit)
        view = .similar
        relayout()
        return [request]
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
            guard detection?.token == token else { return [] }
            detection?.started(total: total)
        case .detectionImage(let token, let document):
            guard detection?.token == token else { return [] }
            detection?.stored(document)
            list.updateRows { $0.filename == document.filename ? document : nil }
        case .detectionFailed(let token, let file, let error):
            guard detection?.token == token else { return [] }
            detection?.failed(file: file, error: error)
        case .detectionFinished(let token, let cancelled, let error):
            guard detection?.token == token else { return [] }
            detection?.finished(now: now, cancelled: cancelled, error: error)
            if let error {
                message = StatusMessage(text: error, isError: true)
            }
            // Counts and the face-count order changed: read the visible pages again.
            reloadList()
            return [.pingRedis] + pump(now: now)
        case .people(let token, let found):
            guard peopleView.received(token: token, people: found, viewHeight: viewHeight) else {
                return pump(now: now)
            }
        case .names(let found):
            names = found
        case .peopleFailed(let token, let error):
            guard peopleView.failed(token: token, error: error) else { return pump(now: now) }
        case .peopleChanged(let token, let text, let error):
            guard peopleView.changed(token: token) else { return pump(now: now) }
            message = StatusMessage(text: error ?? text, isError: error != nil)
            // Names and labels changed: the people, the listed images and the grid are read again
            // (the rows on screen stay meanwhile, so the face detail and the grid stay usable).
            list.markStale()
            pendingPages = [:]
            if view == .faces { faceGrid.reload() }
            if view == .suggestions {
                return [loadPeople(), suggestionsView.load(token: nextToken())] + pump(now: now)
            }
            return [loadPeople()] + pump(now: now)
        case .similar(let token, let faces):
            guard similarView.received(token: token, faces: faces, viewHeight: viewHeight) else {
                return pump(now: now)
            }
        case .similarFailed(let token, let error):
            guard similarView.failed(token: token, error: error, viewHeight: viewHeight) else { return pump(now: now) }
        case .suggestions(let token, let found):
            guard suggestionsView.received(token: token, found: found, viewHeight: viewHeight) else {
                return pump(now: now)
            }
            if message?.text == "comparing the people's faces…" { message = nil }
        case .suggestionsFailed(let token, let error):
            guard suggestionsView.failed(token: token, error: error, viewHeight: viewHeight) else {
                return pump(now: now)
            }
            if message?.text == "comparing the people's faces…" { message = nil }
        case .facePage(let token, let page, let rows, let total):
            guard faceGrid.received(token: token, page: page, rows: rows, total: total) else { return pump(now: now) }
        case .facePageFailed(let token, let page, let error):
            guard faceGrid.failed(token: token, page: page, error: error) else { return pump(now: now) }
        case .thumbnail(_, let key, let content):
            faceGrid.received(key: key, content: content)
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
        // A face gone from the image (re-detected) closes the detail; a page being read again
        // (after a people edit) does not.
        if let focus = focusedFace, list.current.map({ $0.faceCount <= focus }) ?? (list.total == 0) {
            view = .browse
            relayout()
        }
        let onScreen = (list.top..<list.top + viewHeight).compactMap { list.row(at: $0)?.filename }
        let unchecked = files.toCheck(onScreen)
        if !unchecked.isEmpty { effects.append(.checkFiles(unchecked)) }
        if view == .faces, !redis.isDown { effects += faceGrid.requests(tokens: &tokens) }
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
        } else if subject == nil,
            view == .people || view == .similar || view == .faces || view == .suggestions
                || list.total == 0
        {
            preview = PreviewSlot()
        }
        return effects
    }
}
