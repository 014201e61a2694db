import FaceScopeCore

/// The search line: what is typed, whether it is being typed, and the search that filters the
/// list.
struct SearchState: Sendable, Equatable {
    /// The text on the search line.
    private(set) var text = ""
    /// Whether keys go to the search line.
    var editing = false

    /// No search.
    init() {}

    /// The full-text query that filters the list, nil when the list is unfiltered.
    var query: String? { Self.storeQuery(for: text) }

    /// Adds typed characters.
    mutating func insert(_ characters: String) {
        text += characters
    }

    /// Deletes the last character; false when there was none.
    @discardableResult
    mutating func deleteBackward() -> Bool {
        guard !text.isEmpty else { return false }
        text.removeLast()
        return true
    }

    /// Empties the search line.
    mutating func clearText() {
        text = ""
    }

    /// The text handed to the store's search for what the user typed, exactly as
    /// `facescope search` hands it over (see `SearchPlan`: the last word is a prefix while no
    /// space follows it, so `grou` already finds `group-6-faces.jpg`). Nil while it holds no
    /// word.
    static func storeQuery(for text: String) -> String? {
        SearchPlan(text).isEmpty ? nil : text
    }

    static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F: return true
        default: return s.value > 0x7F
        }
    }
}

extension String {
    /// The string without leading and trailing spaces and tabs.
    func trimmingBlanks() -> String {
        let drop: Set<Character> = [" ", "\t"]
        var s = Substring(self)
        while let f = s.first, drop.contains(f) { s = s.dropFirst() }
        while let l = s.last, drop.contains(l) { s = s.dropLast() }
        return String(s)
    }
}
