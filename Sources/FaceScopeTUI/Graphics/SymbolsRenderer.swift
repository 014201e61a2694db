import CChafa

/// Symbols: chafa picks a character and two palette colours per cell, which are copied cell by
/// cell into ncurses, so the picture is ordinary text to the terminal (and to tmux).
struct SymbolsRenderer: PictureRenderer {
    /// How many colours the terminal has (ncurses' COLORS): 256 and more use chafa's 240-colour
    /// palette (the 16 system colours vary between terminals), then 16, then 8, then none.
    let colors: Int
    /// Whether the locale can show Unicode block symbols; ASCII otherwise.
    let unicode: Bool

    /// A renderer for a terminal with `colors` colours.
    init(colors: Int, unicode: Bool) {
        self.colors = colors
        self.unicode = unicode
    }

    var mode: GraphicsMode { .symbols }

    /// chafa works on 8x8 pixels per cell; a cell is about twice as high as wide on screen.
    var cellPixels: (width: Int, height: Int) { (8, 16) }

    var canvasMode: ChafaCanvasMode {
        if colors >= 256 { return CHAFA_CANVAS_MODE_INDEXED_240 }
        if colors >= 16 { return CHAFA_CANVAS_MODE_INDEXED_16 }
        if colors >= 8 { return CHAFA_CANVAS_MODE_INDEXED_8 }
        return CHAFA_CANVAS_MODE_FGBG
    }

    func render(_ picture: RGBPicture, columns: Int, rows: Int) -> PreviewContent {
        let tags =
            unicode
            ? ChafaSymbolTags(
                rawValue: CHAFA_SYMBOL_TAG_BLOCK.rawValue | CHAFA_SYMBOL_TAG_BORDER.rawValue
                    | CHAFA_SYMBOL_TAG_SPACE.rawValue)
            : ChafaSymbolTags(rawValue: CHAFA_SYMBOL_TAG_ASCII.rawValue | CHAFA_SYMBOL_TAG_SPACE.rawValue)
        guard
            let canvas = ChafaCanvas(
                columns: columns, rows: rows, pixelMode: CHAFA_PIXEL_MODE_SYMBOLS, canvasMode: canvasMode,
                symbolTags: tags)
        else {
            return .message("chafa could not make a \(columns)x\(rows) canvas")
        }
        canvas.draw(picture)
        var cells: [Cell] = []
        cells.reserveCapacity(columns * rows)
        let plain = canvasMode == CHAFA_CANVAS_MODE_FGBG
        for row in 0..<rows {
            for column in 0..<columns {
                var cell = canvas.cell(column: column, row: row)
                if plain {
                    cell.foreground = -1
                    cell.background = -1
                }
                cells.append(cell)
            }
        }
        return .cells(CellGrid(width: columns, height: rows, cells: cells))
    }
}
