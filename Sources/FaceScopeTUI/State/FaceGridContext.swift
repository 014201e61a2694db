import FaceScopeCore

/// How the face grid divides its area: cells of a fixed size, a picture and a two-line caption
/// in each.
struct FaceGridGeometry: Sendable, Equatable {
    /// A cell's size in terminal cells, its caption included.
    static let cellWidth = 20
    static let cellHeight = 10
    /// The rows under each picture (the face's number, the filename).
    static let captionRows = 2

    let area: Rect
    /// Cells across and down.
    let columns: Int
    let rows: Int

    init(area: Rect) {
        self.area = area
        columns = max(1, area.width / Self.cellWidth)
        rows = max(1, area.height / Self.cellHeight)
    }

    /// How many cells are on screen at once.
    var cellsShown: Int { columns * rows }

    /// The picture's room in a cell.
    var pictureWidth: Int { max(1, min(area.width, Self.cellWidth) - 2) }
    var pictureHeight: Int { max(1, min(area.height, Self.cellHeight) - Self.captionRows) }

    /// The screen rectangle of the cell at `slot` (0 is the top-left cell shown).
    func cell(_ slot: Int) -> Rect {
        let width = min(area.width, Self.cellWidth)
        let height = min(area.height, Self.cellHeight)
        return Rect(
            x: area.x + (slot % columns) * width, y: area.y + (slot / columns) * height, width: width, height: height)
    }
}

/// A face thumbnail to render: face `face` of `document`, fitted into `columns` x `rows` cells.
struct ThumbnailItem: Sendable, Equatable {
    /// Says which face at which size (results for another size are dropped).
    var key: String
    var document: ImageDocument
    var face: Int
    var columns: Int
    var rows: Int
}

/// Thumbnails to render, one answer per item; `token` tells overtaken batches.
struct ThumbnailRequest: Sendable, Equatable {
    var token: UInt64
    var items: [ThumbnailItem]
}

/// The grid of one person's faces: the person's images paged from the store (one cell per image,
/// the person's face in it), the selection, the thumbnails rendered for the cells on screen.
/// Only the pages around the cells shown are held, and only their thumbnails.
struct FaceGridContext: Sendable {
    /// Images per request to the store.
    static let pageSize = 60

    /// The grid's keys.
    static let bindings: [KeyBinding] = [
        KeyBinding([.character("l"), .right], .nextFace, "next face", in: [.faces]),
        KeyBinding([.character("h"), .left], .previousFace, "previous face", in: [.faces]),
        KeyBinding([.character("j"), .down], .moveDown, "the face below", in: [.faces]),
        KeyBinding([.character("k"), .up], .moveUp, "the face above", in: [.faces]),
        KeyBinding([.ctrl("f"), .pageDown, .ctrl("d")], .pageDown, "page down", in: [.faces]),
        KeyBinding([.ctrl("b"), .pageUp, .ctrl("u")], .pageUp, "page up", in: [.faces]),
        KeyBinding([.character("g"), .home], .top, "first face", in: [.faces]),
        KeyBinding([.character("G"), .end], .bottom, "last face", in: [.faces]),
        KeyBinding(
            [.character("v")], .moveFace, "move the face to another person (asks a label or a name)", in: [.faces]),
        KeyBinding(
            [.character("x")], .separateFace, "not this person: the face gets a person of its own", in: [.faces]),
        KeyBinding([.character("z")], .undoPeopleEdit, "undo the last people edit", in: [.faces]),
        KeyBinding([.escape, .character("q"), .backspace], .closeView, "back to the people", in: [.faces]),
    ]

    /// Whose faces are shown.
    private(set) var person: Person?
    /// The person's images, paged.
    private(set) var list = PagedList<ImageDocument>(pageSize: pageSize)
    /// The first row of cells on screen.
    private(set) var topRow = 0
    private(set) var geometry = FaceGridGeometry(area: Rect(x: 0, y: 1, width: 80, height: 20))
    /// Why the faces could not be read, if they could not.
    private(set) var error: String?
    /// Rendered thumbnails by item key (those of the cells around the screen only).
    private(set) var thumbnails: [String: PreviewContent] = [:]
    private var pendingPages: [Int: UInt64] = [:]
    private var pendingThumbnails: Set<String> = []
    private var thumbnailToken: UInt64?

    /// Opens the grid on `person`'s faces in `area`.
    mutating func open(_ person: Person, area: Rect) {
        self.person = person
        list = PagedList(pageSize: Self.pageSize)
        topRow = 0
        geometry = FaceGridGeometry(area: area)
        error = nil
        thumbnails = [:]
        pendingPages = [:]
        pendingThumbnails = []
        thumbnailToken = nil
    }

    /// Closes the grid (its pages and pictures are dropped).
    mutating func close() {
        person = nil
        list = PagedList(pageSize: Self.pageSize)
        thumbnails = [:]
        pendingPages = [:]
        pendingThumbnails = []
    }

    /// The screen changed size: the cells change, the thumbnails are rendered again.
    mutating func resize(area: Rect) {
        let new = FaceGridGeometry(area: area)
        guard new != geometry else { return }
        geometry = new
        thumbnails = [:]
        pendingThumbnails = []
        scroll()
    }

    /// The person's faces changed (moved, set apart, undone): the pages are read again, the cells
    /// shown kept until then.
    mutating func reload() {
        list.markStale()
        pendingPages = [:]
    }

    /// The indices of the images whose cells are on screen.
    var shown: Range<Int> {
        let first = topRow * geometry.columns
        let last = min(list.total ?? 0, first + geometry.cellsShown)
        return first..<max(first, last)
    }

    /// The face of `person` in `document` (the first one with its label).
    func faceIndex(in document: ImageDocument) -> Int? {
        guard let label = person?.label else { return nil }
        return document.faces?.firstIndex { $0.label == label }
    }

    /// The selected face, as the store addresses it.
    var selectedFace: StoredFace? {
        guard let document = list.current, let index = faceIndex(in: document), let faces = document.faces else {
            return nil
        }
        return StoredFace(documentPK: document.pk, filename: document.filename, faceIndex: index, face: faces[index])
    }

    /// The key of a cell's thumbnail at the current size.
    func thumbnailKey(_ document: ImageDocument, face: Int) -> String {
        "\(document.pk)#\(face)@\(geometry.pictureWidth)x\(geometry.pictureHeight)"
    }

    /// Moves the selection: across (next/previous face), down and up a row, a screen, the ends.
    mutating func step(_ action: Action) {
        let columns = geometry.columns
        switch action {
        case .nextFace: list.move(by: 1, viewHeight: geometry.cellsShown)
        case .previousFace: list.move(by: -1, viewHeight: geometry.cellsShown)
        case .moveDown:
            if list.cursor + columns < (list.total ?? 0) { list.move(by: columns, viewHeight: geometry.cellsShown) }
        case .moveUp:
            if list.cursor - columns >= 0 { list.move(by: -columns, viewHeight: geometry.cellsShown) }
        case .pageDown: list.move(by: geometry.cellsShown, viewHeight: geometry.cellsShown)
        case .pageUp: list.move(by: -geometry.cellsShown, viewHeight: geometry.cellsShown)
        case .top: list.moveTo(0, viewHeight: geometry.cellsShown)
        case .bottom: list.moveTo((list.total ?? 1) - 1, viewHeight: geometry.cellsShown)
        default: return
        }
        scroll()
    }

    /// Keeps the selected cell's row on screen.
    private mutating func scroll() {
        let row = list.cursor / geometry.columns
        if row < topRow { topRow = row }
        if row >= topRow + geometry.rows { topRow = row - geometry.rows + 1 }
        let lastRow = max(0, ((list.total ?? 0) + geometry.columns - 1) / geometry.columns - geometry.rows)
        topRow = max(0, min(topRow, lastRow))
    }

    /// The requests the grid needs: the pages of the cells shown (and one cell row around), then
    /// thumbnails of the faces shown that are not rendered yet. `tokens` numbers the requests.
    mutating func requests(tokens: inout UInt64) -> [Effect] {
        guard let person else { return [] }
        var effects: [Effect] = []
        let total = list.total ?? 1
        let around = shown.lowerBound - geometry.columns..<shown.upperBound + geometry.columns
        let wanted = Set(
            [around.lowerBound, shown.lowerBound, max(shown.lowerBound, shown.upperBound - 1), around.upperBound - 1]
                .filter { $0 >= 0 && $0 < max(1, total) }.map { list.page(of: $0) })
        for page in wanted.sorted()
        where (!list.isLoaded(page: page) || list.isStale(page: page)) && pendingPages[page] == nil {
            tokens += 1
            pendingPages[page] = tokens
            effects.append(
                .loadFacePage(
                    PageRequest(
                        token: tokens, page: page, offset: page * list.pageSize, limit: list.pageSize,
                        source: .person(label: person.label))))
        }
        // Thumbnails: the cells shown; the others are dropped.
        var keys = Set<String>()
        var missing: [ThumbnailItem] = []
        for index in shown {
            guard let document = list.row(at: index), let face = faceIndex(in: document) else { continue }
            let key = thumbnailKey(document, face: face)
            keys.insert(key)
            if thumbnails[key] == nil {
                missing.append(
                    ThumbnailItem(
                        key: key, document: document, face: face, columns: geometry.pictureWidth,
                        rows: geometry.pictureHeight))
            }
        }
        thumbnails = thumbnails.filter { keys.contains($0.key) }
        // A new batch overtakes the one in flight (the worker drops the rest of it), so it holds
        // every face shown and not rendered yet.
        if missing.contains(where: { !pendingThumbnails.contains($0.key) }) {
            tokens += 1
            thumbnailToken = tokens
            pendingThumbnails = Set(missing.map(\.key))
            effects.append(.loadThumbnails(ThumbnailRequest(token: tokens, items: missing)))
        }
        return effects
    }

    /// A page of the person's images came; false when it was overtaken.
    mutating func received(token: UInt64, page: Int, rows: [ImageDocument], total: Int) -> Bool {
        guard pendingPages[page] == token else { return false }
        pendingPages[page] = nil
        error = nil
        list.store(page: page, rows: rows, total: total, viewHeight: geometry.cellsShown)
        scroll()
        return true
    }

    /// A page could not be read; false when it was overtaken.
    mutating func failed(token: UInt64, page: Int, error: String) -> Bool {
        guard pendingPages[page] == token else { return false }
        pendingPages = [:]
        self.error = error
        return true
    }

    /// A thumbnail came (from any batch: a face's picture at one size is the same picture).
    mutating func received(key: String, content: PreviewContent) {
        guard pendingThumbnails.remove(key) != nil else { return }
        thumbnails[key] = content
    }
}
