import CTurboJPEG
import FaceScopeCore

/// One of TurboJPEG's power-of-two DCT scaling factors: 1/1, 1/2, 1/4 or 1/8. (TurboJPEG has
/// others, such as 3/8; only these have SIMD inverse DCTs, and they keep the mapping between
/// scaled and full-size pixels an integer one.)
public struct DecodeScale: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Full-size pixels per decoded pixel along each axis: 1, 2, 4 or 8.
    public let denominator: Int

    public static let full = DecodeScale(denominator: 1)
    public static let half = DecodeScale(denominator: 2)
    public static let quarter = DecodeScale(denominator: 4)
    public static let eighth = DecodeScale(denominator: 8)
    /// Coarsest first.
    public static let all: [DecodeScale] = [.eighth, .quarter, .half, .full]

    /// A scale from its denominator; nil unless it is 1, 2, 4 or 8.
    public init?(_ denominator: Int) {
        guard [1, 2, 4, 8].contains(denominator) else { return nil }
        self.denominator = denominator
    }

    private init(denominator: Int) { self.denominator = denominator }

    /// The decoded size of a side of `dimension` full-size pixels (TurboJPEG's TJSCALED: rounded up).
    public func scaled(_ dimension: Int) -> Int { (dimension + denominator - 1) / denominator }

    /// Finer scales compare greater (1/1 is the largest).
    public static func < (a: DecodeScale, b: DecodeScale) -> Bool { a.denominator > b.denominator }

    public var description: String { "1/\(denominator)" }
}

/// Which scale to decode at: pure functions of sizes, table-tested.
public enum DecodePlan {
    /// The coarsest scale at which the upright image still has at least `needed` pixels on each
    /// axis (EXIF orientations 5-8 swap the stored axes); 1/1 when no reduced scale has enough.
    public static func scale(
        width: Int, height: Int, orientation: Int = 1, needed: (width: Int, height: Int)
    ) -> DecodeScale {
        let upright = Orientation.uprightSize(width: width, height: height, orientation: orientation)
        for scale in DecodeScale.all
        where scale.scaled(upright.width) >= needed.width && scale.scaled(upright.height) >= needed.height {
            return scale
        }
        return .full
    }

    /// The pixels FaceNet's input samples from an upright `width` x `height` image: 736x416 when
    /// stretched; when letterboxed, the scaled image's own size (min(736/W, 416/H) of it), so a
    /// portrait photo needs fewer rows than a landscape one. Never more than the image has.
    public static func faceNetNeed(width: Int, height: Int, mode: ResizeMode) -> (width: Int, height: Int) {
        let netW = Preprocess.faceNetWidth
        let netH = Preprocess.faceNetHeight
        switch mode {
        case .stretch:
            return (min(netW, width), min(netH, height))
        case .letterbox:
            let s = min(Double(netW) / Double(width), Double(netH) / Double(height), 1)
            return (
                min(netW, max(1, Int((Double(width) * s).rounded()))),
                min(netH, max(1, Int((Double(height) * s).rounded())))
            )
        }
    }

    /// The coarsest scale at which a crop that takes `fullPixelsPerOutput` full-size pixels per
    /// output pixel is not enlarged more than the full image would enlarge it: decoded pixels per
    /// output pixel >= min(1, fullPixelsPerOutput). A 320-pixel face square (80x80 FPENet input:
    /// 4 per output pixel) may come from a 1/4 decode; a 200-pixel one needs 1/2.
    public static func cropScale(fullPixelsPerOutput: Double) -> DecodeScale {
        guard fullPixelsPerOutput.isFinite else { return .full }
        for scale in DecodeScale.all where Double(scale.denominator) <= fullPixelsPerOutput { return scale }
        return .full
    }
}

/// Upright pixels decoded at a scale, for all of an image or a region of it, and where they lie in
/// the full-size upright image: decoded pixel edge `x` is at full-size `originX + x * scale`.
public struct ImageView: Sendable {
    /// The decoded pixels, upright.
    public let image: DecodedImage
    /// The decoding scale.
    public let scale: DecodeScale
    /// The full-size position of the decoded image's left and top edges (may be slightly negative
    /// where a flipped axis's size is not a multiple of the scale).
    public let originX: Int
    public let originY: Int
    /// The full-size upright image's size.
    public let fullWidth: Int
    public let fullHeight: Int

    public init(image: DecodedImage, scale: DecodeScale, originX: Int, originY: Int, fullWidth: Int, fullHeight: Int) {
        self.image = image
        self.scale = scale
        self.originX = originX
        self.originY = originY
        self.fullWidth = fullWidth
        self.fullHeight = fullHeight
    }

    /// An image decoded at full size, as a view.
    public init(full image: DecodedImage) {
        self.init(
            image: image, scale: .full, originX: 0, originY: 0, fullWidth: image.width, fullHeight: image.height)
    }

    var d: Double { Double(scale.denominator) }

    /// The full-size rectangle the decoded pixels cover, clipped to the image.
    public var covered: (x0: Double, y0: Double, x1: Double, y1: Double) {
        (
            max(0, Double(originX)), max(0, Double(originY)),
            min(Double(fullWidth), Double(originX) + d * Double(image.width)),
            min(Double(fullHeight), Double(originY) + d * Double(image.height))
        )
    }

    /// Whether the full-size rectangle (clipped to the image) lies within the decoded pixels.
    public func contains(x0: Double, y0: Double, x1: Double, y1: Double) -> Bool {
        let c = covered
        return max(x0, 0) >= c.x0 && max(y0, 0) >= c.y0 && min(x1, Double(fullWidth)) <= c.x1
            && min(y1, Double(fullHeight)) <= c.y1
    }

    /// The transform from FaceNet's frame to full-size pixels, given the one to this view's pixels.
    public func toFull(_ t: ImageTransform) -> ImageTransform {
        ImageTransform(
            scaleX: t.scaleX / d, scaleY: t.scaleY / d, offsetX: t.offsetX - Double(originX) * t.scaleX / d,
            offsetY: t.offsetY - Double(originY) * t.scaleY / d, imageWidth: Double(fullWidth),
            imageHeight: Double(fullHeight))
    }

    /// A face alignment (chip from full-size pixels) re-expressed on this view's pixels.
    public func alignment(_ a: FaceAlignment) -> FaceAlignment {
        let ox = Double(originX)
        let oy = Double(originY)
        return FaceAlignment(
            a: a.a * d, b: a.b * d, tx: a.tx + a.a * ox - a.b * oy, ty: a.ty + a.b * ox + a.a * oy, size: a.size)
    }
}

extension Preprocess {
    /// FPENet's input for the face in `box` (full-size pixels) cut from a view: the square is the
    /// one ``landmarkSquare(box:imageWidth:imageHeight:)`` gives on the full-size image, read from
    /// the view's pixels. Returns the square in full-size pixels.
    public static func landmarkCrop(
        _ view: ImageView, box: (x1: Double, y1: Double, x2: Double, y2: Double),
        into output: UnsafeMutableBufferPointer<Float>
    ) -> FaceCrop {
        let square = landmarkSquare(box: box, imageWidth: view.fullWidth, imageHeight: view.fullHeight)
        let local = FaceCrop(
            x0: (square.x0 - Double(view.originX)) / view.d, y0: (square.y0 - Double(view.originY)) / view.d,
            width: square.width / view.d, height: square.height / view.d)
        _ = landmarkCrop(view.image, square: local, into: output)
        return square
    }

    /// The aligned face chip (full-size alignment) sampled from a view's pixels.
    public static func faceChip(
        _ view: ImageView, alignment: FaceAlignment, into output: UnsafeMutableBufferPointer<UInt8>
    ) {
        faceChip(view.image, alignment: view.alignment(alignment), into: output)
    }

    /// The full-size rectangle a chip reads (its corners mapped to the image, one pixel of margin
    /// for the bilinear taps).
    public static func chipFootprint(_ alignment: FaceAlignment) -> (x0: Double, y0: Double, x1: Double, y1: Double) {
        let s = Double(alignment.size)
        let corners = [(0.0, 0.0), (s, 0), (0, s), (s, s)].map { alignment.toImage(x: $0.0, y: $0.1) }
        return (
            (corners.map(\.x).min() ?? 0) - 1, (corners.map(\.y).min() ?? 0) - 1, (corners.map(\.x).max() ?? 0) + 1,
            (corners.map(\.y).max() ?? 0) + 1
        )
    }
}

/// A JPEG held in memory, decoded at reduced scales: the whole image, or regions of it (cropped
/// losslessly with `tjTransform`, aligned to the MCU, then decoded). Header, size limit and EXIF
/// orientation are read once.
public final class ScaledJPEG: Sendable {
    public let bytes: [UInt8]
    public let name: String
    /// The stored (not upright) size and the EXIF orientation.
    public let storedWidth: Int
    public let storedHeight: Int
    public let orientation: Int
    /// Channels the file has (1 gray, 3 colour, 4 CMYK).
    public let channels: Int
    let header: JPEGCodec.Header

    /// The upright full-size width and height.
    public var width: Int { orientation >= 5 ? storedHeight : storedWidth }
    public var height: Int { orientation >= 5 ? storedWidth : storedHeight }

    /// Reads the header; nil when the bytes are not a JPEG. Errors name `name`: corrupt header,
    /// more than `maxPixels` pixels.
    public init?(bytes: [UInt8], name: String, maxPixels: Int) throws(ImageError) {
        let parsed: (JPEGCodec.Header, Int)? = try Self.wrap(name) { () throws(ImagingFailure) in
            try bytes.withUnsafeBufferPointer { d throws(ImagingFailure) -> (JPEGCodec.Header, Int)? in
                guard case .supported(.jpeg) = FormatSniffer.detect(d) else { return nil }
                let header = try JPEGCodec.Decompressor().header(d)
                try ImageDecoder.checkPixels(width: header.width, height: header.height, maxPixels: maxPixels)
                return (header, Orientation.jpeg(d))
            }
        }
        guard let (header, orientation) = parsed else { return nil }
        self.bytes = bytes
        self.name = name
        self.header = header
        self.orientation = orientation
        storedWidth = header.width
        storedHeight = header.height
        channels = header.channels
    }

    static func wrap<T>(_ name: String, _ body: () throws(ImagingFailure) -> T) throws(ImageError) -> T {
        do {
            return try body()
        } catch {
            throw ImageError(path: name, reason: error.reason)
        }
    }

    /// The whole image at `scale`, upright.
    public func decode(scale: DecodeScale) throws(ImageError) -> ImageView {
        try Self.wrap(name) { () throws(ImagingFailure) in
            let w = scale.scaled(storedWidth)
            let h = scale.scaled(storedHeight)
            let pixels = try bytes.withUnsafeBufferPointer { d throws(ImagingFailure) in
                try JPEGCodec.Decompressor().decode(d, header: header, width: w, height: h)
            }
            return view(pixels, width: w, height: h, scale: scale, storedX: 0, storedY: 0)
        }
    }

    /// Turns decoded stored pixels of the stored rectangle starting at (`storedX`, `storedY`)
    /// upright, and places them in the full-size upright image.
    func view(_ pixels: [UInt8], width w: Int, height h: Int, scale: DecodeScale, storedX: Int, storedY: Int)
        -> ImageView
    {
        let (upright, uw, uh) = Orientation.apply(orientation, to: pixels, width: w, height: h)
        let d = scale.denominator
        // Along each stored axis the pixels cover [start, start + d * n); a flipped axis maps
        // [a, b) to [L - b, L - a).
        let xRange = (storedX, storedX + d * w)
        let yRange = (storedY, storedY + d * h)
        let flipStoredX = [2, 3, 7, 8].contains(orientation)
        let flipStoredY = [3, 4, 6, 7].contains(orientation)
        let sx = flipStoredX ? storedWidth - xRange.1 : xRange.0
        let sy = flipStoredY ? storedHeight - yRange.1 : yRange.0
        let (ox, oy) = orientation >= 5 ? (sy, sx) : (sx, sy)
        return ImageView(
            image: DecodedImage(
                width: uw, height: uh, channels: channels, pixels: upright, format: .jpeg, orientation: orientation),
            scale: scale, originX: ox, originY: oy, fullWidth: width, fullHeight: height)
    }

    /// The MCU size for the file's subsampling; nil when TurboJPEG does not name it.
    var mcu: (width: Int, height: Int)? {
        switch header.subsampling {
        case Int32(TJSAMP_444.rawValue), Int32(TJSAMP_GRAY.rawValue): return (8, 8)
        case Int32(TJSAMP_422.rawValue): return (16, 8)
        case Int32(TJSAMP_420.rawValue): return (16, 16)
        case Int32(TJSAMP_440.rawValue): return (8, 16)
        case Int32(TJSAMP_411.rawValue): return (32, 8)
        default: return nil
        }
    }

    /// The stored rectangle (MCU-aligned, within the image) holding an upright full-size one.
    func storedRegion(x0: Double, y0: Double, x1: Double, y1: Double, mcu: (width: Int, height: Int)) -> (
        x: Int, y: Int, width: Int, height: Int
    ) {
        let W = Double(width)
        let H = Double(height)
        var (ux0, ux1) = (max(0, min(x0, W)), max(0, min(x1, W)))
        var (uy0, uy1) = (max(0, min(y0, H)), max(0, min(y1, H)))
        // Upright x flipped (orientations 2, 3, 6, 7), upright y flipped (3, 4, 7, 8), then swapped.
        if [2, 3, 6, 7].contains(orientation) { (ux0, ux1) = (W - ux1, W - ux0) }
        if [3, 4, 7, 8].contains(orientation) { (uy0, uy1) = (H - uy1, H - uy0) }
        let (sx0, sx1, sy0, sy1) = orientation >= 5 ? (uy0, uy1, ux0, ux1) : (ux0, ux1, uy0, uy1)
        let ax = Int(sx0.rounded(.down)) / mcu.width * mcu.width
        let ay = Int(sy0.rounded(.down)) / mcu.height * mcu.height
        let bx = min(storedWidth, (Int(sx1.rounded(.up)) + mcu.width - 1) / mcu.width * mcu.width)
        let by = min(storedHeight, (Int(sy1.rounded(.up)) + mcu.height - 1) / mcu.height * mcu.height)
        return (ax, ay, max(1, bx - ax), max(1, by - ay))
    }

    /// Regions of the image (full-size upright rectangles), each decoded at its scale: cropped
    /// losslessly from the JPEG in one `tjTransform` pass (the file's entropy-coded data is read
    /// once for all of them), then each crop decoded. Nil when the file cannot be cropped so (an
    /// unusual subsampling, a transform error): decode it whole instead.
    public func decodeRegions(_ regions: [(x0: Double, y0: Double, x1: Double, y1: Double, scale: DecodeScale)])
        -> [ImageView]?
    {
        guard !regions.isEmpty else { return [] }
        guard let mcu else { return nil }
        let stored = regions.map { storedRegion(x0: $0.x0, y0: $0.y0, x1: $0.x1, y1: $0.y1, mcu: mcu) }
        guard let handle = tjInitTransform() else { return nil }
        defer { tjDestroy(handle) }
        var transforms = stored.map { r in
            tjtransform(
                r: tjregion(x: Int32(r.x), y: Int32(r.y), w: Int32(r.width), h: Int32(r.height)),
                op: Int32(TJXOP_NONE.rawValue), options: TJXOPT_CROP, data: nil, customFilter: nil)
        }
        var outputs = [UnsafeMutablePointer<UInt8>?](repeating: nil, count: stored.count)
        var sizes = [UInt](repeating: 0, count: stored.count)
        defer { for p in outputs { tjFree(p) } }
        let status = bytes.withUnsafeBufferPointer { d in
            tjTransform(
                handle, d.baseAddress, UInt(d.count), Int32(stored.count), &outputs, &sizes, &transforms,
                TJFLAG_LIMITSCANS)
        }
        guard status == 0 else { return nil }
        var views: [ImageView] = []
        for (i, r) in stored.enumerated() {
            guard let p = outputs[i], sizes[i] > 0 else { return nil }
            let crop = UnsafeBufferPointer(start: p, count: Int(sizes[i]))
            let scale = regions[i].scale
            let w = scale.scaled(r.width)
            let h = scale.scaled(r.height)
            guard let decoder = try? JPEGCodec.Decompressor(),
                let cropHeader = try? decoder.header(crop),
                let pixels = try? decoder.decode(crop, header: cropHeader, width: w, height: h)
            else { return nil }
            views.append(view(pixels, width: w, height: h, scale: scale, storedX: r.x, storedY: r.y))
        }
        return views
    }
}

/// The decodes of one image that a detection uses: the one the detector sees first, then regions
/// (or, where cropping is impossible, the whole image) at the finer scales face crops need.
/// Crops come from the coarsest decode that has enough pixels for them and holds them. One per
/// image, on one thread.
public final class ImageViews {
    /// A full-size rectangle: x0, y0 (top-left), x1, y1 (bottom-right).
    public typealias Rect = (x0: Double, y0: Double, x1: Double, y1: Double)

    /// The JPEG more decodes come from; nil when the image was decoded at full size.
    public let jpeg: ScaledJPEG?
    /// Every decode so far, the detector's first.
    public private(set) var views: [ImageView]
    /// How regions and whole-image decodes were added after the first (for benchmarks).
    public private(set) var regionDecodes = 0
    public private(set) var wholeDecodes = 0
    /// Whether faces needing a finer scale get their regions decoded (`tjTransform` crops) or
    /// the whole image at that scale.
    public let cropRegions: Bool

    /// The view FaceNet's input is made from.
    public var detection: ImageView { views[0] }

    /// Chip pixels per pixel of a face's landmark square, at most (dlib's chip is 150 pixels for
    /// 1.5 mean-face widths; FaceNet's box side is 0.9-1.3 of them): how fine a region decoded for
    /// a face's landmarks is made so that its chip can come from it too.
    public static let chipPixelsPerSquarePixel = 170.0
    /// A region decoded for a face reaches this many square sides past each edge of the square
    /// (room for the chip, which covers about 1.2 sides, rotated).
    public static let regionMargin = 0.5
    /// Regions covering more than this fraction of the image are not cropped: the whole image is
    /// decoded at their scale instead (a lossless crop re-encodes what it keeps, so a large one
    /// costs more than decoding everything; docs/benchmarks.md).
    public static let regionAreaLimit = 0.25

    /// An image decoded at full size: every crop comes from it.
    public init(full image: DecodedImage) {
        jpeg = nil
        views = [ImageView(full: image)]
        cropRegions = false
    }

    /// A JPEG decoded at the coarsest scale that gives FaceNet its input (`resizeMode`) without
    /// enlarging.
    public init(jpeg: ScaledJPEG, resizeMode: ResizeMode, cropRegions: Bool = true) throws(ImageError) {
        self.jpeg = jpeg
        self.cropRegions = cropRegions
        let scale = DecodePlan.scale(
            width: jpeg.storedWidth, height: jpeg.storedHeight, orientation: jpeg.orientation,
            needed: DecodePlan.faceNetNeed(width: jpeg.width, height: jpeg.height, mode: resizeMode))
        views = [try jpeg.decode(scale: scale)]
    }

    /// The coarsest view at `scale` or finer that holds `rect`.
    public func find(_ rect: Rect, scale: DecodeScale) -> ImageView? {
        views.filter { $0.scale >= scale && $0.contains(x0: rect.x0, y0: rect.y0, x1: rect.x1, y1: rect.y1) }
            .min { $0.scale < $1.scale }
    }

    /// A view for each request: one that holds `need` at `scale` or finer, else `fetch` decoded
    /// at `fetchScale` (all missing regions in one pass, when they cover at most
    /// ``regionAreaLimit`` of the image), else the whole image at the finest scale still missing.
    func provide(_ requests: [(need: Rect, scale: DecodeScale, fetch: Rect, fetchScale: DecodeScale)])
        throws(ImageError) -> [ImageView]
    {
        var result = requests.map { find($0.need, scale: $0.scale) }
        var missing = result.indices.filter { result[$0] == nil }
        guard !missing.isEmpty, let jpeg else { return result.map { $0 ?? views[0] } }
        let area = missing.reduce(0.0) { sum, i in
            let f = requests[i].fetch
            let w = min(f.x1, Double(jpeg.width)) - max(f.x0, 0)
            let h = min(f.y1, Double(jpeg.height)) - max(f.y0, 0)
            return sum + max(0, w) * max(0, h)
        }
        if cropRegions, area <= Self.regionAreaLimit * Double(jpeg.width * jpeg.height),
            let decoded = jpeg.decodeRegions(
                missing.map { i in
                    let r = requests[i]
                    return (r.fetch.x0, r.fetch.y0, r.fetch.x1, r.fetch.y1, max(r.fetchScale, r.scale))
                })
        {
            views += decoded
            regionDecodes += decoded.count
            for i in missing { result[i] = find(requests[i].need, scale: requests[i].scale) }
            missing = missing.filter { result[$0] == nil }
        }
        if let finest = missing.map({ max(requests[$0].scale, requests[$0].fetchScale) }).max() {
            views.append(try jpeg.decode(scale: finest))
            wholeDecodes += 1
            for i in missing { result[i] = find(requests[i].need, scale: requests[i].scale) }
        }
        return result.map { $0 ?? views[0] }
    }

    /// The view each face's FPENet crop comes from (boxes in full-size pixels): one with at least
    /// min(1, side / 80) pixels per crop pixel. With `chips`, a region decoded for a face is made
    /// fine enough for its descriptor chip too; without, only for the crop.
    public func forLandmarks(_ boxes: [DetectionBox], chips: Bool = true) throws(ImageError) -> [ImageView] {
        let view = views[0]
        return try provide(
            boxes.map { b in
                let square = Preprocess.landmarkSquare(
                    box: (b.x1, b.y1, b.x2, b.y2), imageWidth: view.fullWidth, imageHeight: view.fullHeight)
                let side = square.width
                let need = (square.x0, square.y0, square.x0 + side, square.y0 + side)
                let scale = DecodePlan.cropScale(fullPixelsPerOutput: side / Double(Preprocess.landmarkSize))
                guard chips else { return (need, scale, need, scale) }
                let m = side * Self.regionMargin
                return (
                    need, scale, (need.0 - m, need.1 - m, need.2 + m, need.3 + m),
                    DecodePlan.cropScale(fullPixelsPerOutput: side / Self.chipPixelsPerSquarePixel)
                )
            })
    }

    /// The view each aligned chip comes from: one holding the chip's footprint with at least
    /// min(1, full-size pixels per chip pixel) pixels per chip pixel.
    public func forChips(_ alignments: [FaceAlignment]) throws(ImageError) -> [ImageView] {
        try provide(
            alignments.map { a in
                let footprint = Preprocess.chipFootprint(a)
                let scale = DecodePlan.cropScale(fullPixelsPerOutput: 1 / (a.a * a.a + a.b * a.b).squareRoot())
                return (footprint, scale, footprint, scale)
            })
    }
}
