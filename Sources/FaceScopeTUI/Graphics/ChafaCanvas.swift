import CChafa

/// An RGB8 picture ready to be rendered: `width * height * 3` bytes, row after row.
struct RGBPicture: Sendable, Equatable {
    let width: Int
    let height: Int
    var pixels: [UInt8]

    /// A picture from its pixels; `pixels.count` must be `width * height * 3`.
    init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(width > 0 && height > 0 && pixels.count == width * height * 3, "bad picture size")
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// The one Swift owner of a chafa canvas and its configuration: made, drawn and read on one
/// thread, freed when it goes.
final class ChafaCanvas {
    private let config: OpaquePointer
    private let canvas: OpaquePointer
    let columns: Int
    let rows: Int

    /// A canvas of `columns` x `rows` cells in `pixelMode`, with `canvasMode` colours; pixel
    /// modes need the size of a cell in pixels.
    init?(
        columns: Int, rows: Int, pixelMode: ChafaPixelMode, canvasMode: ChafaCanvasMode,
        symbolTags: ChafaSymbolTags? = nil, cellWidth: Int = 8, cellHeight: Int = 16
    ) {
        guard columns > 0, rows > 0, let config = chafa_canvas_config_new() else { return nil }
        chafa_canvas_config_set_geometry(config, Int32(columns), Int32(rows))
        chafa_canvas_config_set_canvas_mode(config, canvasMode)
        chafa_canvas_config_set_pixel_mode(config, pixelMode)
        chafa_canvas_config_set_cell_geometry(config, Int32(max(1, cellWidth)), Int32(max(1, cellHeight)))
        if let symbolTags, let map = chafa_symbol_map_new() {
            chafa_symbol_map_add_by_tags(map, symbolTags)
            chafa_symbol_map_remove_by_tags(
                map,
                ChafaSymbolTags(
                    rawValue: CHAFA_SYMBOL_TAG_BAD.rawValue | CHAFA_SYMBOL_TAG_WIDE.rawValue))
            chafa_canvas_config_set_symbol_map(config, map)
            chafa_symbol_map_unref(map)
        }
        guard let canvas = chafa_canvas_new(config) else {
            chafa_canvas_config_unref(config)
            return nil
        }
        self.config = config
        self.canvas = canvas
        self.columns = columns
        self.rows = rows
    }

    deinit {
        chafa_canvas_unref(canvas)
        chafa_canvas_config_unref(config)
    }

    /// Draws the picture over the whole canvas (chafa scales it to fit). The pixels go to chafa
    /// as RGBA: chafa 1.12 misreads packed RGB rows whose length is not a multiple of four.
    func draw(_ picture: RGBPicture) {
        let count = picture.width * picture.height
        var rgba = [UInt8](repeating: 255, count: count * 4)
        picture.pixels.withUnsafeBufferPointer { src in
            rgba.withUnsafeMutableBufferPointer { dst in
                for i in 0..<count {
                    dst[i * 4] = src[i * 3]
                    dst[i * 4 + 1] = src[i * 3 + 1]
                    dst[i * 4 + 2] = src[i * 3 + 2]
                }
            }
        }
        rgba.withUnsafeBufferPointer { p in
            chafa_canvas_draw_all_pixels(
                canvas, CHAFA_PIXEL_RGBA8_UNASSOCIATED, p.baseAddress, Int32(picture.width), Int32(picture.height),
                Int32(picture.width * 4))
        }
    }

    /// The character and raw colours (palette indices in indexed modes, -1 for none) of a cell.
    func cell(column: Int, row: Int) -> Cell {
        let c = chafa_canvas_get_char_at(canvas, Int32(column), Int32(row))
        var fg: Int32 = -1
        var bg: Int32 = -1
        chafa_canvas_get_raw_colors_at(canvas, Int32(column), Int32(row), &fg, &bg)
        return Cell(character: Unicode.Scalar(c) ?? " ", foreground: fg, background: bg)
    }

    /// The canvas as the terminal's escape sequences (pixel modes), with `termInfo`'s sequences.
    func print(termInfo: TermInfo) -> String {
        guard let gs = chafa_canvas_print(canvas, termInfo.pointer) else { return "" }
        defer { fs_gstring_free(gs) }
        guard let str = fs_gstring_str(gs) else { return "" }
        let bytes = UnsafeRawBufferPointer(start: str, count: Int(fs_gstring_len(gs)))
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Renders pictures for one graphics mode; one file per protocol implements it.
protocol PictureRenderer: Sendable {
    /// The mode this renderer draws in.
    var mode: GraphicsMode { get }
    /// How many picture pixels one cell stands for (what the picture is decoded at).
    var cellPixels: (width: Int, height: Int) { get }
    /// The picture rendered into `columns` x `rows` cells.
    func render(_ picture: RGBPicture, columns: Int, rows: Int) -> PreviewContent
}
