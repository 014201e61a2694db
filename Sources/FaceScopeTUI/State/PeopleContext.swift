import FaceScopeCore

/// What narrows the people view.
struct PeopleFilter: Sendable, Equatable {
    /// Typed text: a part of the name (any case), or the label.
    var text = ""
    /// Whether the text is being typed.
    var editing = false
    /// Only the people without a name.
    var unnamedOnly = false
    /// Only the people with at least this many faces (1: everyone).
    var minimumFaces = 1
    /// The minimums `1` steps through, back to everyone after the last.
    static let minimumSteps = [1, 2, 5, 10, 25]

    /// Whether anything is filtered out.
    var isActive: Bool { !text.isEmpty || unnamedOnly || minimumFaces > 1 }

    /// The next minimum after the current one (everyone after the largest).
    var nextMinimum: Int { Self.minimumSteps.first { $0 > minimumFaces } ?? 1 }

    /// Whether `person` is shown.
    func matches(_ person: Person) -> Bool {
        if unnamedOnly, let name = person.name, !name.isEmpty { return false }
        if person.faces < minimumFaces { return false }
        let needle = text.trimmingBlanks().lowercased()
        if needle.isEmpty { return true }
        return (person.name ?? "").lowercased().contains(needle) || String(person.label) == needle
    }

    /// The people shown, most faces first (then by label).
    func apply(_ all: [Person]) -> [Person] {
        all.filter(matches).sorted { ($0.faces, -$0.label) > ($1.faces, -$1.label) }
    }
}

/// The people view: the people read from the store, the filter over them, the requests in
/// flight. Its reducer handles the view's own actions; its bindings are its keys.
struct PeopleContext: Sendable {
    /// The people view's keys.
    static let bindings: [KeyBinding] = [
        KeyBinding([.character("j"), .down], .moveDown, "next person", in: [.people]),
        KeyBinding([.character("k"), .up], .moveUp, "previous person", in: [.people]),
        KeyBinding([.ctrl("f"), .pageDown, .ctrl("d")], .pageDown, "page down", in: [.people, .similar]),
        KeyBinding([.ctrl("b"), .pageUp, .ctrl("u")], .pageUp, "page up", in: [.people, .similar]),
        KeyBinding([.character("g"), .home], .top, "first one", in: [.people, .similar]),
        KeyBinding([.character("G"), .end], .bottom, "last one", in: [.people, .similar]),
        KeyBinding([.enter], .openPerson, "list this person's images (Esc comes back)", in: [.people]),
        KeyBinding(
            [.character("f")], .showFaces, "the person's faces as a grid of pictures (Esc comes back)", in: [.people]),
        KeyBinding(
            [.character("s")], .showSuggestions, "merge suggestions: pairs of people whose faces are close",
            in: [.people]),
        KeyBinding([.character("e")], .renamePerson, "rename the person", in: [.people]),
        KeyBinding([.character("M")], .mergePerson, "merge the person into another (asks the label)", in: [.people]),
        KeyBinding(
            [.character("z")], .undoPeopleEdit, "undo the last people edit (rename, merge, move, not this person)",
            in: [.people]),
        KeyBinding([.character("/")], .filterPeople, "filter the people by name (as you type)", in: [.people]),
        KeyBinding([.character("u")], .toggleUnnamed, "unnamed people only / everyone", in: [.people]),
        KeyBinding(
            [.character("1")], .toggleSingles, "at least 2, 5, 10, 25 faces, then everyone again (steps on)",
            in: [.people]),
        KeyBinding(
            [.escape, .character("q"), .character("p")], .closeView, "clear the filter, else back to the images",
            in: [.people]),
    ]

    /// The keys while a filter is typed.
    static let filterBindings: [KeyBinding] = [
        KeyBinding([.enter], .submitSearch, "keep the filter and go back to the people", in: [.peopleFilter]),
        KeyBinding([.escape, .ctrl("c")], .cancelSearch, "clear the filter", in: [.peopleFilter]),
        KeyBinding([.down, .ctrl("n")], .moveDown, "next person", in: [.peopleFilter]),
        KeyBinding([.up, .ctrl("p")], .moveUp, "previous person", in: [.peopleFilter]),
        KeyBinding([.backspace], .deleteBackward, "delete a character", in: [.peopleFilter]),
        KeyBinding([.ctrl("u")], .clearQuery, "delete the whole filter", in: [.peopleFilter]),
    ]

    /// The people shown (filtered, most faces first), all in one page.
    private(set) var list = PagedList<Person>(pageSize: Browser.wholeList)
    /// Everyone with a face label, as read.
    private(set) var all: [Person]?
    private(set) var filter = PeopleFilter()
    /// Why the people could not be read, if they could not.
    private(set) var error: String?
    private var token: UInt64?
    private var changeToken: UInt64?

    /// Asks for the people again (the answer carries `token`).
    mutating func load(token: UInt64) -> Effect {
        self.token = token
        return .loadPeople(token: token)
    }

    /// Asks for a rename or merge (the answer carries `token`).
    mutating func change(_ change: PeopleChange, token: UInt64) -> Effect {
        changeToken = token
        return .changePeople(token: token, change: change)
    }

    /// The people came; false when the answer was overtaken.
    mutating func received(token: UInt64, people: [Person], viewHeight: Int) -> Bool {
        guard token == self.token else { return false }
        self.token = nil
        error = nil
        all = people
        refilter(viewHeight: viewHeight)
        return true
    }

    /// The people could not be read; false when the answer was overtaken.
    mutating func failed(token: UInt64, error: String) -> Bool {
        guard token == self.token else { return false }
        self.token = nil
        self.error = error
        return true
    }

    /// A change was saved (or refused); false when the answer was overtaken.
    mutating func changed(token: UInt64) -> Bool {
        guard token == changeToken else { return false }
        changeToken = nil
        return true
    }

    /// Moves the highlight.
    mutating func step(_ action: Action, viewHeight: Int) { Browser.step(&list, action, viewHeight: viewHeight) }

    /// Shows the people the filter lets through, the highlighted person kept where still shown.
    mutating func refilter(viewHeight: Int) {
        guard let all else { return }
        let keep = list.current?.label
        let rows = filter.apply(all)
        list = PagedList(pageSize: Browser.wholeList)
        list.store(page: 0, rows: rows, total: rows.count, viewHeight: viewHeight)
        if let keep, let index = rows.firstIndex(where: { $0.label == keep }) {
            list.moveTo(index, viewHeight: viewHeight)
        }
    }

    /// The filter's own actions; false for actions it does not handle.
    mutating func perform(_ action: Action, viewHeight: Int) -> Bool {
        switch action {
        case .filterPeople: filter.editing = true
        case .toggleUnnamed:
            filter.unnamedOnly.toggle()
            refilter(viewHeight: viewHeight)
        case .toggleSingles:
            filter.minimumFaces = filter.nextMinimum
            refilter(viewHeight: viewHeight)
        default: return false
        }
        return true
    }

    /// While the filter is typed: Enter keeps it, Esc clears it, Backspace deletes a character
    /// (or leaves an empty filter), ^U clears it. false for other actions.
    mutating func performWhileFiltering(_ action: Action, viewHeight: Int) -> Bool {
        switch action {
        case .submitSearch:
            filter.editing = false
        case .cancelSearch:
            filter.editing = false
            filter.text = ""
            refilter(viewHeight: viewHeight)
        case .deleteBackward:
            if filter.text.isEmpty {
                filter.editing = false
            } else {
                filter.text.removeLast()
                refilter(viewHeight: viewHeight)
            }
        case .clearQuery:
            filter.text = ""
            refilter(viewHeight: viewHeight)
        default: return false
        }
        return true
    }

    /// A character typed into the filter.
    mutating func type(_ text: String, viewHeight: Int) {
        filter.text += text
        refilter(viewHeight: viewHeight)
    }

    /// Esc in the people view: clears a filter first; false when there was none.
    mutating func clearFilter(viewHeight: Int) -> Bool {
        guard !filter.text.isEmpty else { return false }
        filter.text = ""
        refilter(viewHeight: viewHeight)
        return true
    }

    /// The merge question: who goes into whom, with face counts and names.
    func mergeQuestion(label: Int, into: Int) -> String {
        let everyone = all ?? []
        let from = everyone.first { $0.label == label }
        func describe(_ label: Int, _ person: Person?) -> String {
            let name = person?.name.map { " \"\($0)\"" } ?? ""
            return "person \(label)\(name)"
        }
        let target = everyone.first { $0.label == into }
        let faces = from.map { " (\($0.faces) face\($0.faces == 1 ? "" : "s"))" } ?? ""
        return describe(label, from) + faces + " into " + describe(into, target)
            + (target == nil ? " (nobody has that label yet)" : "")
    }
}
