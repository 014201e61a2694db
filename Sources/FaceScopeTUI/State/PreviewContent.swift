/// One terminal cell of a rendered picture: a character and its colours (palette indices, or
/// -1 for the terminal's default).
struct Cell: Sendable, Equatable {
    var character: Unicode.Scalar
    var foreground: Int32
    var background: Int32

    /// A cell from its character and colours.
    init(character: Unicode.Scalar, foreground: Int32, background: Int32) {
        self.character = character
        self.foreground = foreground
        self.background = background
    }
}

/// A picture rendered as characters, row after row, to be copied into the screen's cells.
struct CellGrid: Sendable, Equatable {
    let width: Int
    let height: Int
    var cells: [Cell]

    /// A grid of `width` x `height` cells; `cells` must hold `width * height` of them.
    init(width: Int, height: Int, cells: [Cell]) {
        precondition(cells.count == width * height, "a grid needs width * height cells")
        self.width = width
        self.height = height
        self.cells = cells
    }

    /// The cell at `column`, `row`.
    subscript(column: Int, row: Int) -> Cell { cells[row * width + column] }
}

/// A picture rendered as a terminal graphics protocol's escape sequence (sixel, kitty), to be
/// written at the top-left cell of its area after the screen is drawn.
struct PixelImage: Sendable, Equatable {
    /// The bytes to write, escape sequences included.
    let sequence: String
    /// The cells the picture covers.
    let width: Int
    let height: Int
    /// Names written over the picture's face boxes, as text after the picture.
    var tags: [NameTag]

    /// An image that covers `width` x `height` cells.
    init(sequence: String, width: Int, height: Int, tags: [NameTag] = []) {
        self.sequence = sequence
        self.width = width
        self.height = height
        self.tags = tags
    }
}

/// What the preview area shows.
enum PreviewContent: Sendable, Equatable {
    case cells(CellGrid)
    case pixels(PixelImage)
    /// A one-line explanation instead of a picture (file missing, not an image).
    case message(String)

    /// The cells the content covers (0 x 0 for a message).
    var size: (width: Int, height: Int) {
        switch self {
        case .cells(let grid): return (grid.width, grid.height)
        case .pixels(let image): return (image.width, image.height)
        case .message: return (0, 0)
        }
    }
}
