import FaceScopeCore

/// Two people whose faces are close (their mean descriptors), perhaps one person: `second` (the
/// one with fewer faces, or the larger label) would go into `first`.
struct SuggestedPair: Sendable, Equatable {
    var first: Person
    var second: Person
    var distance: Float

    /// The pair's two labels, smaller first: what a dismissal remembers.
    var labels: PairLabels { PairLabels(first.label, second.label) }
}

/// Two labels in order, smaller first.
struct PairLabels: Sendable, Hashable {
    let low: Int
    let high: Int

    init(_ a: Int, _ b: Int) {
        low = min(a, b)
        high = max(a, b)
    }
}

/// What the store found: the pairs, closest first, and how many people it compared.
struct FoundSuggestions: Sendable, Equatable {
    var pairs: [SuggestedPair]
    /// The people compared (those with most faces) and every person there is.
    var compared: Int
    var people: Int
    /// Pairs closer than this were suggested.
    var threshold: Float
}

/// The merge suggestions view: pairs of people whose faces are close, from the store; Enter merges
/// a pair, `d` skips it for the rest of the session.
struct SuggestionsContext: Sendable {
    /// The view's keys.
    static let bindings: [KeyBinding] = [
        KeyBinding([.character("j"), .down], .moveDown, "next pair", in: [.suggestions]),
        KeyBinding([.character("k"), .up], .moveUp, "previous pair", in: [.suggestions]),
        KeyBinding(
            [.enter], .mergeSuggested, "merge the pair (the person with fewer faces goes into the other)",
            in: [.suggestions]),
        KeyBinding(
            [.character("d"), .character("x")], .skipSuggestion, "skip the pair (not the same person)",
            in: [.suggestions]),
        KeyBinding([.character("z")], .undoPeopleEdit, "undo the last people edit", in: [.suggestions]),
        KeyBinding([.escape, .character("q")], .closeView, "back to the people", in: [.suggestions]),
    ]

    /// The pairs shown (skipped ones left out), closest first, all in one page.
    private(set) var list = PagedList<SuggestedPair>(pageSize: Browser.wholeList)
    /// What the store answered last.
    private(set) var found: FoundSuggestions?
    private(set) var error: String?
    /// The pairs skipped this session.
    private(set) var skipped: Set<PairLabels> = []
    private var token: UInt64?

    /// Asks for the suggestions (again); the answer carries `token`.
    mutating func load(token: UInt64) -> Effect {
        self.token = token
        error = nil
        return .loadSuggestions(token: token)
    }

    /// The suggestions came; false when the answer was overtaken.
    mutating func received(token: UInt64, found: FoundSuggestions, viewHeight: Int) -> Bool {
        guard token == self.token else { return false }
        self.token = nil
        self.found = found
        refilter(viewHeight: viewHeight)
        return true
    }

    /// The suggestions could not be read; false when the answer was overtaken.
    mutating func failed(token: UInt64, error: String, viewHeight: Int) -> Bool {
        guard token == self.token else { return false }
        self.token = nil
        self.error = error
        list.setTotal(0, viewHeight: viewHeight)
        return true
    }

    /// Leaves the highlighted pair out for the rest of the session; the pair skipped, if any.
    mutating func skip(viewHeight: Int) -> SuggestedPair? {
        guard let pair = list.current else { return nil }
        skipped.insert(pair.labels)
        refilter(viewHeight: viewHeight)
        return pair
    }

    /// Shows the pairs not skipped, the cursor kept in place.
    private mutating func refilter(viewHeight: Int) {
        let rows = (found?.pairs ?? []).filter { !skipped.contains($0.labels) }
        let cursor = list.cursor
        list = PagedList(pageSize: Browser.wholeList)
        list.store(page: 0, rows: rows, total: rows.count, viewHeight: viewHeight)
        list.moveTo(cursor, viewHeight: viewHeight)
    }

    /// Moves the highlight.
    mutating func step(_ action: Action, viewHeight: Int) { Browser.step(&list, action, viewHeight: viewHeight) }
}
