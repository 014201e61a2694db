import FaceScopeCore

/// Decodes JPEG (TurboJPEG), PNG (libpng), WebP (libwebp) and HEIC (libheif; AVIF too where
/// libheif has an AV1 decoder) files into upright RGB8 images.
///
/// The format comes from the file's first bytes, never from its name. Every decoder reads the
/// image size from the header first and refuses images over `maxPixels` before allocating pixel
/// memory; files over ``maxFileBytes`` are refused before being read. Alpha (PNG, WebP) is
/// composited onto black (`value * alpha / 255`). EXIF orientation (JPEG APP1, PNG eXIf, WebP
/// EXIF) is read with libexif and applied, so `width`/`height` are those of the upright image.
/// HEIF files (HEIC, AVIF) are turned upright by libheif, which applies their `irot`/`imir`
/// (and `clap` crop) properties; their EXIF orientation is not applied on top. A HEIF format
/// whose decoder libheif lacks is recognised and refused with that reason.
///
/// Errors are ``ImageError``s naming the file (or the `name` given for
/// in-memory data): not an image, empty, truncated, corrupt, too many pixels, unreadable.
public enum ImageDecoder {
    /// Files larger than this (256 MiB) are refused without being read.
    public static let maxFileBytes = 256 * 1024 * 1024

    /// Decodes the image file at `path`, refusing images of more than `maxPixels` pixels.
    public static func decode(path: String, maxPixels: Int) throws(ImageError) -> DecodedImage {
        let bytes = try readFile(path)
        return try decode(data: bytes, name: path, maxPixels: maxPixels)
    }

    /// Decodes an encoded image held in memory; `name` is used in error messages.
    public static func decode(data: [UInt8], name: String, maxPixels: Int) throws(ImageError) -> DecodedImage {
        try wrap(name) { () throws(ImagingFailure) in
            try data.withUnsafeBufferPointer { d throws(ImagingFailure) in
                try decodeBytes(d, maxPixels: maxPixels, fit: nil)
            }
        }
    }

    /// Decodes a preview no larger than `maxWidth` x `maxHeight` (aspect ratio kept, never
    /// enlarged). JPEGs are decoded with TurboJPEG's DCT scaling at the smallest scale that is
    /// still at least the target size, then resized; other formats are decoded whole and shrunk.
    /// `maxPixels` applies to the full-size image, as in ``decode(path:maxPixels:)``.
    public static func decodeScaled(
        path: String, maxWidth: Int, maxHeight: Int, maxPixels: Int
    ) throws(ImageError) -> DecodedImage {
        let bytes = try readFile(path)
        return try decodeScaled(data: bytes, name: path, maxWidth: maxWidth, maxHeight: maxHeight, maxPixels: maxPixels)
    }

    /// ``decodeScaled(path:maxWidth:maxHeight:maxPixels:)`` for an encoded image held in memory.
    public static func decodeScaled(
        data: [UInt8], name: String, maxWidth: Int, maxHeight: Int, maxPixels: Int
    ) throws(ImageError) -> DecodedImage {
        guard maxWidth > 0, maxHeight > 0 else {
            throw ImageError(path: name, reason: "the preview size must be positive (got \(maxWidth) x \(maxHeight))")
        }
        return try wrap(name) { () throws(ImagingFailure) in
            try data.withUnsafeBufferPointer { d throws(ImagingFailure) in
                try decodeBytes(d, maxPixels: maxPixels, fit: (maxWidth, maxHeight))
            }
        }
    }

    /// The size of the upright image (EXIF orientation applied) from the file's headers, without
    /// decoding any pixels (the file is read, subject to ``maxFileBytes``; no pixel limit applies).
    public static func readSize(path: String) throws(ImageError) -> (width: Int, height: Int) {
        let bytes = try readFile(path)
        return try readSize(data: bytes, name: path)
    }

    /// ``readSize(path:)`` for an encoded image held in memory.
    public static func readSize(data: [UInt8], name: String) throws(ImageError) -> (width: Int, height: Int) {
        try wrap(name) { () throws(ImagingFailure) in
            try data.withUnsafeBufferPointer { d throws(ImagingFailure) in
                let info = try probe(d)
                return Orientation.uprightSize(width: info.width, height: info.height, orientation: info.orientation)
            }
        }
    }

    // MARK: - Internals

    /// The bytes of an image file, with the checks ``decode(path:maxPixels:)`` makes before reading
    /// (a regular, non-empty file of at most ``maxFileBytes``).
    public static func readFile(_ path: String) throws(ImageError) -> [UInt8] {
        do {
            return try FileInput.read(path: path, limit: maxFileBytes)
        } catch {
            throw ImageError(path: path, reason: error.reason)
        }
    }

    private static func wrap<T>(
        _ name: String, _ body: () throws(ImagingFailure) -> T
    ) throws(ImageError) -> T {
        do {
            return try body()
        } catch {
            throw ImageError(path: name, reason: error.reason)
        }
    }

    /// What the header says: stored size, channels, orientation.
    struct Probe {
        let format: ImageFormat
        let width: Int
        let height: Int
        let orientation: Int
    }

    static func format(of d: UnsafeBufferPointer<UInt8>) throws(ImagingFailure) -> ImageFormat {
        if d.isEmpty { throw ImagingFailure("empty file") }
        switch FormatSniffer.detect(d) {
        case .supported(let format): return format
        case .unsupported(let reason): throw ImagingFailure(reason)
        case .unknown: throw ImagingFailure("not an image: the contents are not JPEG, PNG or WebP")
        }
    }

    static func probe(_ d: UnsafeBufferPointer<UInt8>) throws(ImagingFailure) -> Probe {
        let format = try format(of: d)
        switch format {
        case .jpeg:
            let header = try JPEGCodec.Decompressor().header(d)
            return Probe(format: format, width: header.width, height: header.height, orientation: Orientation.jpeg(d))
        case .png:
            let header = try PNGCodec.header(d)
            return Probe(format: format, width: header.width, height: header.height, orientation: Orientation.png(d))
        case .webp:
            let header = try WebPCodec.header(d)
            return Probe(format: format, width: header.width, height: header.height, orientation: Orientation.webp(d))
        case .heic, .avif:
            let header = try HEIFCodec.header(HEIFCodec.File(d, format: format), format: format)
            return Probe(format: format, width: header.width, height: header.height, orientation: 1)
        }
    }

    static func checkPixels(width: Int, height: Int, maxPixels: Int) throws(ImagingFailure) {
        let (n, overflow) = width.multipliedReportingOverflow(by: height)
        if overflow || n > maxPixels {
            throw ImagingFailure(
                "\(width) x \(height) = \(overflow ? "too many" : String(n)) pixels exceeds the limit of "
                    + "\(maxPixels) (FACESCOPE_MAX_PIXELS)")
        }
    }

    /// The size that fits `width` x `height` into `box` keeping the aspect ratio, never larger.
    static func fitted(width: Int, height: Int, into box: (width: Int, height: Int)) -> (width: Int, height: Int) {
        let f = min(Double(box.width) / Double(width), Double(box.height) / Double(height), 1)
        if f >= 1 { return (width, height) }
        let w = min(box.width, max(1, Int((Double(width) * f).rounded())))
        let h = min(box.height, max(1, Int((Double(height) * f).rounded())))
        return (w, h)
    }

    static func decodeBytes(
        _ d: UnsafeBufferPointer<UInt8>, maxPixels: Int, fit: (width: Int, height: Int)?
    ) throws(ImagingFailure) -> DecodedImage {
        let format = try format(of: d)
        var pixels: [UInt8]
        var width: Int
        var height: Int
        let channels: Int
        let orientation: Int
        switch format {
        case .jpeg:
            let decoder = try JPEGCodec.Decompressor()
            let header = try decoder.header(d)
            try checkPixels(width: header.width, height: header.height, maxPixels: maxPixels)
            orientation = Orientation.jpeg(d)
            channels = header.channels
            (width, height) = (header.width, header.height)
            if let fit {
                // The target in stored (not upright) orientation, then the cheapest DCT scale.
                let up = Orientation.uprightSize(width: width, height: height, orientation: orientation)
                let target = fitted(width: up.width, height: up.height, into: fit)
                let storedTarget = orientation >= 5 ? (target.height, target.width) : (target.width, target.height)
                (width, height) = JPEGCodec.bestScaledSize(width: width, height: height, atLeast: storedTarget)
            }
            pixels = try decoder.decode(d, header: header, width: width, height: height)
        case .png:
            let header = try PNGCodec.header(d)
            try checkPixels(width: header.width, height: header.height, maxPixels: maxPixels)
            orientation = Orientation.png(d)
            (pixels, channels) = try PNGCodec.decode(d, header: header)
            (width, height) = (header.width, header.height)
        case .webp:
            let header = try WebPCodec.header(d)
            try checkPixels(width: header.width, height: header.height, maxPixels: maxPixels)
            orientation = Orientation.webp(d)
            pixels = try WebPCodec.decode(d, header: header)
            channels = header.hasAlpha ? 4 : 3
            (width, height) = (header.width, header.height)
        case .heic, .avif:
            // The handle's size is the displayed one. The decoder allocates the coded size (before
            // the clap crop), which encoders pad a little: that is refused too when it is over the
            // limit and more than twice the displayed size (a crop hiding a huge image).
            let file = try HEIFCodec.File(d, format: format)
            let header = try HEIFCodec.header(file, format: format)
            try checkPixels(width: header.width, height: header.height, maxPixels: maxPixels)
            let (coded, overflow) = header.codedWidth.multipliedReportingOverflow(by: header.codedHeight)
            if overflow || (coded > maxPixels && coded / 2 > header.width * header.height) {
                try checkPixels(width: header.codedWidth, height: header.codedHeight, maxPixels: maxPixels)
            }
            orientation = 1  // libheif applies irot/imir itself
            pixels = try HEIFCodec.decode(file, header: header, format: format)
            channels = header.hasAlpha ? 4 : 3
            (width, height) = (header.width, header.height)
        }
        (pixels, width, height) = Orientation.apply(orientation, to: pixels, width: width, height: height)
        var image = DecodedImage(
            width: width, height: height, channels: channels, pixels: pixels, format: format, orientation: orientation)
        if let fit {
            let target = fitted(width: width, height: height, into: fit)
            if target != (width, height) {
                image = DecodedImage(
                    width: target.width, height: target.height, channels: channels,
                    pixels: Resampler.resize(image, width: target.width, height: target.height), format: format,
                    orientation: orientation)
            }
        }
        return image
    }
}
