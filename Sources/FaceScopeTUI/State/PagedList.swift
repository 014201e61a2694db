/// A window onto a long ordered list that lives elsewhere (Redis): only the pages around what is
/// on screen are held, so memory stays flat however long the list is.
///
/// Rows are addressed by their index in the whole list; `total` is the list's length as last
/// reported. Pages are `pageSize` rows from `page * pageSize`. The cursor and the first visible
/// row (`top`) are kept in range whenever the total or the view height changes.
struct PagedList<Row: Sendable>: Sendable {
    /// Rows per page (one request to the store).
    let pageSize: Int
    /// Pages kept on each side of the visible ones; farther pages are dropped.
    let keepRadius: Int
    /// The length of the whole list; nil until the store has answered.
    private(set) var total: Int?
    /// The index of the highlighted row.
    private(set) var cursor = 0
    /// The index of the first row on screen.
    private(set) var top = 0
    private var pages: [Int: [Row]] = [:]
    /// Pages held that are to be read again: their rows are shown until the new ones come.
    private var stale: Set<Int> = []

    /// An empty list that pages `pageSize` rows at a time.
    init(pageSize: Int = 100, keepRadius: Int = 2) {
        self.pageSize = max(1, pageSize)
        self.keepRadius = max(0, keepRadius)
    }

    /// The page holding row `index`.
    func page(of index: Int) -> Int { index / pageSize }

    /// The number of pages held in memory.
    var loadedPageCount: Int { pages.count }

    /// The rows of the pages held, in no particular order.
    var loadedRows: [Row] { pages.values.flatMap { $0 } }

    /// Whether page `page` is held.
    func isLoaded(page: Int) -> Bool { pages[page] != nil }

    /// Whether page `page` is held but to be read again.
    func isStale(page: Int) -> Bool { stale.contains(page) }

    /// The row at `index`, if its page is held.
    func row(at index: Int) -> Row? {
        guard index >= 0, let rows = pages[page(of: index)] else { return nil }
        let i = index - page(of: index) * pageSize
        return i < rows.count ? rows[i] : nil
    }

    /// The highlighted row, if loaded.
    var current: Row? { row(at: cursor) }

    /// Whether the list is known to be empty.
    var isEmpty: Bool { total == 0 }

    /// Moves the cursor by `delta` rows, stopping at the ends.
    mutating func move(by delta: Int, viewHeight: Int) {
        moveTo(cursor + delta, viewHeight: viewHeight)
    }

    /// Moves the cursor by `delta` rows, wrapping around at the ends.
    mutating func wrapMove(by delta: Int, viewHeight: Int) {
        guard let total, total > 0 else { return }
        let target = ((cursor + delta) % total + total) % total
        moveTo(target, viewHeight: viewHeight)
    }

    /// Puts the cursor on row `index` (clamped) and scrolls so that it is visible.
    mutating func moveTo(_ index: Int, viewHeight: Int) {
        let last = max(0, (total ?? 0) - 1)
        cursor = min(max(0, index), last)
        scroll(viewHeight: viewHeight)
    }

    /// Scrolls the least needed to show the cursor in a view of `viewHeight` rows, and never past
    /// the end of the list.
    mutating func scroll(viewHeight: Int) {
        let height = max(1, viewHeight)
        if cursor < top { top = cursor }
        if cursor >= top + height { top = cursor - height + 1 }
        let maxTop = max(0, (total ?? 0) - height)
        top = min(max(0, top), maxTop)
    }

    /// The pages needed to show rows `top ..< top + viewHeight` plus one page of look-ahead in
    /// each direction, that are not held yet; nearest the cursor first.
    func missingPages(viewHeight: Int) -> [Int] {
        let count = total ?? 1
        guard count > 0 else { return [] }
        let first = page(of: max(0, top - pageSize / 2))
        let last = page(of: min(count - 1, top + max(1, viewHeight) + pageSize / 2))
        let visibleFirst = page(of: top)
        let visibleLast = page(of: min(count - 1, top + max(1, viewHeight) - 1))
        let needed = Array(visibleFirst...max(visibleFirst, visibleLast)) + [first, last]
        var seen = Set<Int>()
        var result: [Int] = []
        for p in needed where p >= 0 && (pages[p] == nil || stale.contains(p)) && seen.insert(p).inserted {
            result.append(p)
        }
        return result
    }

    /// Stores a page the store returned and the total it reported; drops pages far from the view.
    mutating func store(page: Int, rows: [Row], total: Int, viewHeight: Int) {
        setTotal(total, viewHeight: viewHeight)
        pages[page] = rows
        stale.remove(page)
        evict()
    }

    /// Records a new total, keeping cursor and view in range; pages past the end are dropped.
    mutating func setTotal(_ newTotal: Int, viewHeight: Int) {
        let value = max(0, newTotal)
        if value != total {
            total = value
            let lastPage = value == 0 ? -1 : page(of: value - 1)
            pages = pages.filter { $0.key <= lastPage }
        }
        moveTo(cursor, viewHeight: viewHeight)
    }

    /// Forgets every page (they will be asked for again), keeping the cursor where it is.
    mutating func invalidate() {
        pages = [:]
        stale = []
    }

    /// Has every page held read again, its rows kept until then (contents changed in place, as
    /// after a people edit: what is on screen stays usable meanwhile).
    mutating func markStale() {
        stale = Set(pages.keys)
    }

    /// Forgets everything: a different list (another order or search) starts at its top.
    mutating func reset() {
        pages = [:]
        stale = []
        total = nil
        cursor = 0
        top = 0
    }

    /// Rewrites held rows in place (when a row's content changed and its position did not).
    mutating func updateRows(_ transform: (Row) -> Row?) {
        for (key, rows) in pages {
            var changed = false
            var updated = rows
            for i in rows.indices {
                if let new = transform(rows[i]) {
                    updated[i] = new
                    changed = true
                }
            }
            if changed { pages[key] = updated }
        }
    }

    private mutating func evict() {
        let visible = page(of: top)
        let keep = (visible - keepRadius)...(visible + keepRadius + 1)
        pages = pages.filter { keep.contains($0.key) }
        stale = stale.filter { pages[$0] != nil }
    }
}
