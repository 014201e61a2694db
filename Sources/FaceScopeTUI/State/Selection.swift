/// Which images are selected: picked one by one, or "all of a listing" minus exceptions, so
/// selecting everything costs nothing however many images there are.
struct Selection: Sendable, Equatable {
    /// True when everything in `scope` is selected except `exceptions`.
    private(set) var allSelected = false
    /// The search the "all" applies to (nil: the whole collection).
    private(set) var scope: String?
    /// Picked images (pk to filename), or when `allSelected` the images unselected again.
    private(set) var marked: [String: String] = [:]

    /// Nothing selected.
    init() {}

    /// Whether the image with this pk is selected.
    func contains(_ pk: String) -> Bool {
        allSelected ? marked[pk] == nil : marked[pk] != nil
    }

    /// Selects or unselects one image.
    mutating func toggle(pk: String, filename: String) {
        if marked[pk] != nil {
            marked[pk] = nil
        } else {
            marked[pk] = filename
        }
    }

    /// Selects every image of the listing `scope` (a search, or nil for everything).
    mutating func selectAll(scope: String?) {
        allSelected = true
        self.scope = scope
        marked = [:]
    }

    /// Selects nothing.
    mutating func clear() {
        allSelected = false
        scope = nil
        marked = [:]
    }

    /// The listing changed: a select-all made for another listing no longer says what is meant,
    /// so it is dropped; single picks stay.
    mutating func listingChanged(scope newScope: String?) {
        if allSelected && newScope != scope { clear() }
    }

    /// Whether nothing is selected (with "all" of a listing of `total` images).
    func isEmpty(total: Int) -> Bool { count(total: total) == 0 }

    /// How many images are selected in a listing of `total` images.
    func count(total: Int) -> Int {
        allSelected ? max(0, total - marked.count) : marked.count
    }

    /// The picked filenames, sorted (meaningful when not `allSelected`).
    var pickedFilenames: [String] {
        marked.values.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
