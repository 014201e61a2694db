import FaceScopeCore

/// An RGB colour.
struct RGB: Sendable, Equatable {
    var r: UInt8
    var g: UInt8
    var b: UInt8

    /// A colour from its components.
    init(_ r: UInt8, _ g: UInt8, _ b: UInt8) {
        self.r = r
        self.g = g
        self.b = b
    }
}

/// How thick the overlay is drawn, in pixels of the picture it is drawn on.
struct OverlayStyle: Sendable, Equatable {
    /// Width of the vertical sides of a box.
    var lineWidth: Int
    /// Height of the horizontal sides of a box.
    var lineHeight: Int
    /// Width and height of a landmark dot.
    var dotWidth: Int
    var dotHeight: Int

    /// A style from its sizes (each at least one pixel).
    init(lineWidth: Int, lineHeight: Int, dotWidth: Int, dotHeight: Int) {
        self.lineWidth = max(1, lineWidth)
        self.lineHeight = max(1, lineHeight)
        self.dotWidth = max(1, dotWidth)
        self.dotHeight = max(1, dotHeight)
    }

    /// Lines and dots that survive being rendered with `cellWidth` x `cellHeight` pixels per
    /// terminal cell: symbols need lines a good part of a cell thick, pixel protocols a couple of
    /// pixels.
    static func forCells(cellWidth: Double, cellHeight: Double, symbols: Bool) -> OverlayStyle {
        if symbols {
            return OverlayStyle(
                lineWidth: Int((cellWidth * 0.45).rounded(.up)), lineHeight: Int((cellHeight * 0.3).rounded(.up)),
                dotWidth: Int((cellWidth * 0.5).rounded(.up)), dotHeight: Int((cellHeight * 0.35).rounded(.up)))
        }
        let line = max(2, Int((cellWidth / 5).rounded()))
        return OverlayStyle(lineWidth: line, lineHeight: line, dotWidth: line + 1, dotHeight: line + 1)
    }
}

/// Draws face boxes and landmarks into a picture's pixels before it is rendered, so every graphics
/// mode shows the same thing.
enum FaceOverlay {
    /// The colour of face boxes: pure green, which renders as palette colour 46 on 256-colour
    /// terminals.
    static let boxColor = RGB(0, 255, 0)

    /// The colour landmarks of each region are drawn in.
    static func color(of region: LandmarkRegion?) -> RGB {
        switch region {
        case .chin: return RGB(255, 255, 0)
        case .eyebrows: return RGB(255, 128, 0)
        case .nose: return RGB(0, 255, 255)
        case .eyes: return RGB(255, 0, 255)
        case .mouth: return RGB(255, 0, 0)
        case .lips: return RGB(255, 96, 160)
        case .pupil: return RGB(0, 128, 255)
        case .ears, .none: return RGB(255, 255, 255)
        }
    }

    /// Maps image coordinates (of the full upright image) to the picture's pixels: the picture
    /// shows the region `crop` of the image, scaled to `width` x `height`.
    struct Mapping: Sendable, Equatable {
        var crop: (x: Double, y: Double, width: Double, height: Double)
        var width: Int
        var height: Int

        /// A mapping of `crop` (image pixels) onto a `width` x `height` picture.
        init(crop: (x: Double, y: Double, width: Double, height: Double), width: Int, height: Int) {
            self.crop = crop
            self.width = width
            self.height = height
        }

        /// The picture pixel of an image point.
        func map(x: Double, y: Double) -> (x: Int, y: Int) {
            let sx = crop.width > 0 ? Double(width) / crop.width : 1
            let sy = crop.height > 0 ? Double(height) / crop.height : 1
            // Clamped first: stored coordinates are untrusted and Int(Double) traps out of range.
            func pixel(_ v: Double) -> Int { v.isFinite ? Int(min(max(v, -1e9), 1e9).rounded(.down)) : -1 }
            return (pixel((x - crop.x) * sx), pixel((y - crop.y) * sy))
        }

        static func == (a: Mapping, b: Mapping) -> Bool {
            a.crop == b.crop && a.width == b.width && a.height == b.height
        }
    }

    /// Draws the boxes (when `boxes`) and landmarks (when `landmarks`) of `faces` into `pixels`
    /// (RGB8, `mapping.width` x `mapping.height`). Faces whose descriptors cannot be read get no
    /// landmarks; nothing is drawn outside the picture.
    static func draw(
        _ faces: [Face], into pixels: inout [UInt8], mapping: Mapping, style: OverlayStyle, boxes: Bool,
        landmarks: Bool
    ) {
        guard pixels.count == mapping.width * mapping.height * 3 else { return }
        if landmarks {
            for face in faces {
                guard let descriptors = face.descriptors,
                    let points = try? FaceLandmarks.points(fromDescriptors: descriptors)
                else { continue }
                for point in points {
                    let p = mapping.map(x: Double(point.x) + 0.5, y: Double(point.y) + 0.5)
                    fill(
                        &pixels, mapping: mapping, x0: p.x - style.dotWidth / 2, y0: p.y - style.dotHeight / 2,
                        x1: p.x - style.dotWidth / 2 + style.dotWidth, y1: p.y - style.dotHeight / 2 + style.dotHeight,
                        color: color(of: point.region))
                }
            }
        }
        if boxes {
            for face in faces {
                let a = mapping.map(x: Double(face.bbox.x1), y: Double(face.bbox.y1))
                let b = mapping.map(x: Double(face.bbox.x2), y: Double(face.bbox.y2))
                let w = style.lineWidth
                let h = style.lineHeight
                // Top, bottom, left, right; drawn inside the box so it never grows past the face.
                fill(&pixels, mapping: mapping, x0: a.x, y0: a.y, x1: b.x, y1: a.y + h, color: boxColor)
                fill(&pixels, mapping: mapping, x0: a.x, y0: b.y - h, x1: b.x, y1: b.y, color: boxColor)
                fill(&pixels, mapping: mapping, x0: a.x, y0: a.y, x1: a.x + w, y1: b.y, color: boxColor)
                fill(&pixels, mapping: mapping, x0: b.x - w, y0: a.y, x1: b.x, y1: b.y, color: boxColor)
            }
        }
    }

    /// Fills the rectangle `[x0, x1) x [y0, y1)`, clipped to the picture.
    static func fill(_ pixels: inout [UInt8], mapping: Mapping, x0: Int, y0: Int, x1: Int, y1: Int, color: RGB) {
        let left = max(0, x0)
        let right = min(mapping.width, x1)
        let top = max(0, y0)
        let bottom = min(mapping.height, y1)
        guard left < right, top < bottom else { return }
        pixels.withUnsafeMutableBufferPointer { p in
            for y in top..<bottom {
                var i = (y * mapping.width + left) * 3
                for _ in left..<right {
                    p[i] = color.r
                    p[i + 1] = color.g
                    p[i + 2] = color.b
                    i += 3
                }
            }
        }
    }

    /// The part of the image the face-detail view shows for `box`: the box with a margin of
    /// 40% on each side, widened or heightened to the shape of the area (`aspect` = width over
    /// height of the area in pixels), kept inside the image where it fits.
    static func detailCrop(
        box: BoundingBox, imageWidth: Int, imageHeight: Int, aspect: Double
    ) -> (x: Double, y: Double, width: Double, height: Double) {
        // In Double: stored boxes are untrusted and their Int width could overflow.
        let bw = max(1, Double(box.x2) - Double(box.x1))
        let bh = max(1, Double(box.y2) - Double(box.y1))
        var width = bw * 1.8
        var height = bh * 1.8
        if aspect > 0 {
            if width / height < aspect {
                width = height * aspect
            } else {
                height = width / aspect
            }
        }
        let iw = Double(max(1, imageWidth))
        let ih = Double(max(1, imageHeight))
        // Too big for the image: shrink, keeping the shape.
        let shrink = width.isFinite && height.isFinite ? min(1, iw / width, ih / height) : 0
        width *= shrink
        height *= shrink
        let cx = Double(box.x1) + bw / 2
        let cy = Double(box.y1) + bh / 2
        let x = min(max(0, cx - width / 2), iw - width)
        let y = min(max(0, cy - height / 2), ih - height)
        return (x, y, width, height)
    }
}

/// A person's name written on the top edge of a face box, in cells of the rendered picture
/// (0-based from its top-left cell).
struct NameTag: Sendable, Equatable {
    var column: Int
    var row: Int
    /// The text (sanitized, fitted to the box's width).
    var text: String
}

extension FaceOverlay {
    /// Name tags for the faces whose label has a name in `names`: on the row of the box's top
    /// edge, from its left edge, as much of the name as the box is wide (the whole name, else the
    /// first word, else the first word cut short), followed by the face's probability ("97%") when
    /// the whole name and it fit; none for boxes under 3 cells wide. The picture
    /// is `mapping.width` x `mapping.height` pixels rendered as `columns` x `rows` cells.
    static func nameTags(
        _ faces: [Face], names: [Int: String], mapping: Mapping, columns: Int, rows: Int
    ) -> [NameTag] {
        guard mapping.width > 0, mapping.height > 0, columns > 0, rows > 0 else { return [] }
        var tags: [NameTag] = []
        for face in faces {
            guard let label = face.label, let raw = names[label] else { continue }
            let name = TerminalText.sanitize(raw).trimmingBlanks()
            guard !name.isEmpty else { continue }
            let a = mapping.map(x: Double(face.bbox.x1), y: Double(face.bbox.y1))
            let b = mapping.map(x: Double(face.bbox.x2), y: Double(face.bbox.y2))
            func cellX(_ x: Int) -> Int { Int((Double(x) * Double(columns) / Double(mapping.width)).rounded(.down)) }
            func cellY(_ y: Int) -> Int { Int((Double(y) * Double(rows) / Double(mapping.height)).rounded(.down)) }
            let left = max(0, cellX(a.x))
            let right = min(columns - 1, cellX(b.x - 1))
            let row = min(rows - 1, max(0, cellY(a.y)))
            let width = right - left + 1
            guard width >= 3, cellY(b.y - 1) >= 0, cellY(a.y) < rows else { continue }
            let withProbability = name + " " + face.probabilityText
            let text =
                TerminalText.width(withProbability) <= width ? withProbability : shortName(name, columns: width)
            tags.append(NameTag(column: left, row: row, text: text))
        }
        return tags
    }

    /// `name` in at most `columns` columns: whole, else its first word, else cut short with "…".
    static func shortName(_ name: String, columns: Int) -> String {
        if TerminalText.width(name) <= columns { return name }
        let first = String(name.split(separator: " ").first ?? Substring(name))
        if TerminalText.width(first) <= columns { return first }
        return TerminalText.truncate(first, columns: columns)
    }

    /// The grid with the tags written in (dark text on the box colour), clipped to the grid.
    static func stamp(_ tags: [NameTag], into grid: CellGrid, foreground: Int32, background: Int32) -> CellGrid {
        var cells = grid.cells
        for tag in tags where tag.row >= 0 && tag.row < grid.height {
            var column = tag.column
            for scalar in tag.text.unicodeScalars {
                guard column >= 0, column < grid.width else { break }
                if TerminalText.columns(of: scalar) != 1 { continue }
                cells[tag.row * grid.width + column] = Cell(
                    character: scalar, foreground: foreground, background: background)
                column += 1
            }
        }
        return CellGrid(width: grid.width, height: grid.height, cells: cells)
    }
}
