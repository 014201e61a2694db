import CChafa
import Foundation

/// Sixel: chafa encodes the picture as a DEC sixel image, written straight to the terminal at the
/// top-left cell of its area after ncurses has drawn the screen (ncurses cannot carry it).
struct SixelRenderer: PictureRenderer {
    /// The size of a terminal cell in pixels (from TIOCGWINSZ, else a guess).
    let cellWidth: Int
    let cellHeight: Int
    private let environment: [String: String]

    /// A renderer for cells of `cellWidth` x `cellHeight` pixels; `environment` tells chafa which
    /// terminal it writes for.
    init(cellWidth: Int, cellHeight: Int, environment: [String: String]) {
        self.cellWidth = max(1, cellWidth)
        self.cellHeight = max(1, cellHeight)
        self.environment = environment
    }

    var mode: GraphicsMode { .sixel }
    var cellPixels: (width: Int, height: Int) { (cellWidth, cellHeight) }

    func render(_ picture: RGBPicture, columns: Int, rows: Int) -> PreviewContent {
        guard
            let canvas = ChafaCanvas(
                columns: columns, rows: rows, pixelMode: CHAFA_PIXEL_MODE_SIXELS,
                canvasMode: CHAFA_CANVAS_MODE_TRUECOLOR, cellWidth: cellWidth, cellHeight: cellHeight),
            let info = TermInfo(environment: environment, withFallback: true)
        else {
            return .message("chafa could not make a sixel canvas")
        }
        canvas.draw(picture)
        return .pixels(PixelImage(sequence: canvas.print(termInfo: info), width: columns, height: rows))
    }

    /// The bytes that show `image` with its top-left corner at cell `column`, `row` (0-based).
    static func placement(_ image: PixelImage, column: Int, row: Int) -> String {
        "\u{1B}[\(row + 1);\(column + 1)H" + image.sequence
    }
}
