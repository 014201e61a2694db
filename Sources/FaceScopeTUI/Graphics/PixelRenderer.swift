import CChafa
import Foundation

/// Sixel and kitty pictures: chafa encodes the picture in the terminal's own image protocol
/// (a DEC sixel image, or kitty's APC graphics commands), written straight to the terminal at
/// the top-left cell of its area after ncurses has drawn the screen (ncurses cannot carry it).
struct PixelRenderer: PictureRenderer {
    /// `.sixel` or `.kitty`.
    let mode: GraphicsMode
    /// The size of a terminal cell in pixels (from TIOCGWINSZ, else a guess).
    let cellWidth: Int
    let cellHeight: Int
    private let environment: [String: String]

    /// A renderer for `mode` (sixel or kitty) with cells of `cellWidth` x `cellHeight` pixels;
    /// `environment` tells chafa which terminal it writes for.
    init(mode: GraphicsMode, cellWidth: Int, cellHeight: Int, environment: [String: String]) {
        self.mode = mode
        self.cellWidth = max(1, cellWidth)
        self.cellHeight = max(1, cellHeight)
        self.environment = environment
    }

    var cellPixels: (width: Int, height: Int) { (cellWidth, cellHeight) }

    func render(_ picture: RGBPicture, columns: Int, rows: Int) -> PreviewContent {
        let pixelMode = mode == .kitty ? CHAFA_PIXEL_MODE_KITTY : CHAFA_PIXEL_MODE_SIXELS
        guard
            let canvas = ChafaCanvas(
                columns: columns, rows: rows, pixelMode: pixelMode, canvasMode: CHAFA_CANVAS_MODE_TRUECOLOR,
                cellWidth: cellWidth, cellHeight: cellHeight),
            let info = TermInfo(environment: environment, withFallback: true)
        else {
            return .message("chafa could not make a \(mode.rawValue) canvas")
        }
        canvas.draw(picture)
        return .pixels(PixelImage(sequence: canvas.print(termInfo: info), width: columns, height: rows))
    }

    /// Deletes every image kitty shows (and frees their data); kitty keeps images until told.
    static let kittyClearAll = "\u{1B}_Ga=d,d=A\u{1B}\\"

    /// The bytes that show `image` with its top-left corner at cell `column`, `row` (0-based); for
    /// kitty, the previous picture is deleted first.
    func placement(_ image: PixelImage, column: Int, row: Int) -> String {
        (mode == .kitty ? Self.kittyClearAll : "") + "\u{1B}[\(row + 1);\(column + 1)H" + image.sequence
            + image.tags.map { tag in
                // Black on green, like the boxes; the text was sanitized when the tag was made.
                "\u{1B}[\(row + tag.row + 1);\(column + tag.column + 1)H\u{1B}[30;42m" + tag.text + "\u{1B}[0m"
            }.joined()
    }
}
