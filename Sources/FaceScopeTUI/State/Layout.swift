/// A rectangle of terminal cells.
struct Rect: Sendable, Equatable, CustomStringConvertible {
    var x: Int
    var y: Int
    var width: Int
    var height: Int

    /// A rectangle from its top-left cell and size.
    init(x: Int, y: Int, width: Int, height: Int) {
        self.x = x
        self.y = y
        self.width = max(0, width)
        self.height = max(0, height)
    }

    /// Whether it covers no cell.
    var isEmpty: Bool { width == 0 || height == 0 }

    /// Whether the cell at `column`, `row` lies inside.
    func contains(column: Int, row: Int) -> Bool {
        column >= x && column < x + width && row >= y && row < y + height
    }

    var description: String { "\(width)x\(height)+\(x)+\(y)" }
}

/// Where everything goes on a screen of a given size: header, list, preview (image and the
/// lines under it), progress panel, prompt line and status line. Pure arithmetic, so every
/// terminal size can be tested without a terminal.
struct ScreenLayout: Sendable, Equatable {
    /// The smallest screen FaceScope draws on; smaller ones get a one-line notice.
    static let minimumColumns = 40
    static let minimumRows = 8
    /// Below this width the preview is hidden unless zoomed.
    static let previewMinimumColumns = 70
    /// Rows of the progress panel.
    static let panelHeight = 6
    /// Rows under the image in the face-detail view.
    static let detailInfoHeight = 8

    let columns: Int
    let rows: Int
    /// True when the screen is too small to draw anything but a notice.
    let tooSmall: Bool
    let header: Rect
    /// The list with its column-header row; nil when zoomed.
    let list: Rect?
    /// The column of the line between list and preview.
    let separator: Int?
    /// The whole preview pane; nil when the screen is too narrow.
    let preview: Rect?
    /// The first row of the preview pane (the filename).
    let previewTitle: Rect?
    /// Where the picture goes.
    let image: Rect?
    /// The rows under the picture (face summary, or the face's details).
    let info: Rect?
    /// The detection progress panel, when shown.
    let panel: Rect?
    /// The search / prompt / message line.
    let prompt: Rect
    /// The status line.
    let status: Rect
    /// How many list entries fit.
    let listRows: Int
    /// Columns for the filename in a list entry.
    let filenameWidth: Int
    /// Whether list entries show the image size (left out of narrow lists, where the filename
    /// needs the room; the preview's title shows it).
    var showsSize: Bool = true

    /// The layout of a `columns` x `rows` screen; `zoomed` gives the preview the whole body,
    /// `detail` leaves room for a face's details, `panel` for the progress panel; `panes` says how
    /// wide the list is beside the preview, or that the list takes the whole width (the face
    /// detail and the zoomed preview still show the picture).
    init(
        columns: Int, rows: Int, zoomed: Bool = false, detail: Bool = false, panel: Bool = false,
        panes: PaneLayout = PaneLayout()
    ) {
        self.columns = max(0, columns)
        self.rows = max(0, rows)
        tooSmall = columns < Self.minimumColumns || rows < Self.minimumRows
        header = Rect(x: 0, y: 0, width: columns, height: 1)
        status = Rect(x: 0, y: max(0, rows - 1), width: columns, height: 1)
        prompt = Rect(x: 0, y: max(0, rows - 2), width: columns, height: 1)
        if tooSmall {
            (list, separator, preview, previewTitle, image, info) = (nil, nil, nil, nil, nil, nil)
            self.panel = nil
            listRows = 0
            filenameWidth = 0
            return
        }
        var bodyHeight = rows - 3
        if panel && bodyHeight - Self.panelHeight >= 4 {
            bodyHeight -= Self.panelHeight
            self.panel = Rect(x: 0, y: 1 + bodyHeight, width: columns, height: Self.panelHeight)
        } else {
            self.panel = nil
        }
        let showList = !zoomed
        let showPreview = zoomed || (columns >= Self.previewMinimumColumns && (!panes.listOnly || detail))
        var listWidth = 0
        if showList {
            listWidth = showPreview ? panes.listWidth(columns: columns) : columns
            let listRect = Rect(x: 0, y: 1, width: listWidth, height: bodyHeight)
            list = listRect
            listRows = max(0, bodyHeight - 1)
            // mark (2) + filename + " " + faces (5) [+ " " + size (11)]
            showsSize = !showPreview || listWidth >= 48
            filenameWidth = max(4, listWidth - 2 - 1 - 5 - (showsSize ? 1 + 11 : 0))
        } else {
            list = nil
            listRows = 0
            filenameWidth = 0
        }
        if showPreview {
            let x = showList ? listWidth + 1 : 0
            separator = showList ? listWidth : nil
            let pane = Rect(x: x, y: 1, width: columns - x, height: bodyHeight)
            preview = pane
            previewTitle = Rect(x: pane.x, y: pane.y, width: pane.width, height: 1)
            let infoHeight = detail ? min(Self.detailInfoHeight, max(1, bodyHeight - 4)) : 1
            let imageHeight = max(0, bodyHeight - 1 - infoHeight)
            image = Rect(x: pane.x, y: pane.y + 1, width: pane.width, height: imageHeight)
            info = Rect(x: pane.x, y: pane.y + 1 + imageHeight, width: pane.width, height: infoHeight)
        } else {
            (separator, preview, previewTitle, image, info) = (nil, nil, nil, nil, nil)
        }
    }

    /// The list row (0-based among entries) at a screen cell, if it is one.
    func listEntry(column: Int, row: Int) -> Int? {
        guard let list, list.contains(column: column, row: row), row > list.y else { return nil }
        return row - list.y - 1
    }

    /// The cells a `imageWidth` x `imageHeight` picture takes when fitted into `area`, aspect ratio
    /// kept, centred; `cellAspect` is a cell's height over its width (about 2 on most fonts).
    static func fit(imageWidth: Int, imageHeight: Int, into area: Rect, cellAspect: Double = 2) -> Rect {
        guard imageWidth > 0, imageHeight > 0, !area.isEmpty, cellAspect > 0 else {
            return Rect(x: area.x, y: area.y, width: 0, height: 0)
        }
        let ratio = Double(imageWidth) / Double(imageHeight) * cellAspect
        // Clamped before converting: sizes come from stored documents and must never trap.
        func cells(_ v: Double) -> Int { v.isFinite ? Int(min(max(v, 0), 1e6).rounded()) : 1 }
        var width = area.width
        var height = cells(Double(width) / ratio)
        if height > area.height {
            height = area.height
            width = cells(Double(height) * ratio)
        }
        width = min(area.width, max(1, width))
        height = min(area.height, max(1, height))
        return Rect(
            x: area.x + (area.width - width) / 2, y: area.y + (area.height - height) / 2, width: width, height: height)
    }
}
