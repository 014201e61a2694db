/// How the list and the preview share the screen's width: the list's share, changed in steps
/// with `<` and `>` and kept for the session (a resize keeps it), and the list-only layout (`w`),
/// where the list takes the whole width and the preview is hidden (nothing is rendered for it).
struct PaneLayout: Sendable, Equatable {
    /// The list's share of the width, in percent, at start.
    static let defaultPercent = 40
    /// How much one `<` or `>` changes the share.
    static let step = 5
    /// The shares the list may have.
    static let percentRange = 20...80
    /// The fewest columns the list or the preview keeps beside the other.
    static let minimumPaneColumns = 20

    /// The list's share of the width, in percent.
    private(set) var listPercent = Self.defaultPercent
    /// Whether the list takes the whole width, the preview hidden.
    var listOnly = false

    /// Narrows the list one step; false when it is already as narrow as allowed.
    mutating func narrow() -> Bool { change(by: -Self.step) }

    /// Widens the list one step; false when it is already as wide as allowed.
    mutating func widen() -> Bool { change(by: Self.step) }

    private mutating func change(by delta: Int) -> Bool {
        let next = min(Self.percentRange.upperBound, max(Self.percentRange.lowerBound, listPercent + delta))
        guard next != listPercent else { return false }
        listPercent = next
        return true
    }

    /// The list's width beside the preview on a `columns`-wide screen. At the default share it
    /// is 2/5 of the width between 34 and 64 columns; other shares scale those bounds, and the
    /// preview always keeps `minimumPaneColumns`.
    func listWidth(columns: Int) -> Int {
        let share = columns * listPercent / 100
        let low = 34 * listPercent / Self.defaultPercent
        let high = 64 * listPercent / Self.defaultPercent
        let width = min(high, max(low, share))
        return max(Self.minimumPaneColumns, min(width, columns - 1 - Self.minimumPaneColumns))
    }
}
