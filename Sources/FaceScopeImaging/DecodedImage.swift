/// The container formats FaceScope decodes.
public enum ImageFormat: String, Sendable, Equatable, CaseIterable {
    /// JPEG (baseline, progressive; RGB, grayscale, CMYK), decoded by TurboJPEG.
    case jpeg
    /// PNG (any bit depth and colour type), decoded by libpng's simplified API.
    case png
    /// WebP (lossy or lossless, still images), decoded by libwebp.
    case webp
    /// HEIC: HEIF with HEVC-coded images (the primary image), decoded by libheif.
    case heic
    /// AVIF: HEIF with AV1-coded images, decoded by libheif where it has an AV1 decoder.
    case avif
}

/// A decoded image: 8-bit RGB, interleaved, rows top to bottom, already turned upright
/// (its EXIF orientation applied; for HEIC/AVIF, the HEIF `irot`/`imir` transformations).
public struct DecodedImage: Sendable, Equatable {
    /// Width of the upright image in pixels.
    public let width: Int
    /// Height of the upright image in pixels.
    public let height: Int
    /// How many channels the file itself had: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA or CMYK.
    /// `pixels` is always RGB whatever this says.
    public let channels: Int
    /// `width * height * 3` bytes: R, G, B for each pixel, row after row.
    public let pixels: [UInt8]
    /// The format the image was decoded from.
    public let format: ImageFormat
    /// The EXIF orientation (1...8) that was read from the file and applied; 1 when there was none,
    /// and always 1 for HEIC/AVIF (their rotation and mirroring are HEIF properties, applied by
    /// libheif; an EXIF orientation tag inside them is not applied on top).
    public let orientation: Int

    /// Makes an image from RGB8 interleaved pixels; `pixels.count` must be `width * height * 3`.
    public init(
        width: Int, height: Int, channels: Int = 3, pixels: [UInt8], format: ImageFormat = .jpeg,
        orientation: Int = 1
    ) {
        precondition(width > 0 && height > 0, "image dimensions must be positive")
        precondition(pixels.count == width * height * 3, "pixels must hold width * height * 3 bytes")
        self.width = width
        self.height = height
        self.channels = channels
        self.pixels = pixels
        self.format = format
        self.orientation = orientation
    }

    /// The RGB value of the pixel at column `x`, row `y` (both 0-based, in the upright image).
    public func rgb(x: Int, y: Int) -> (r: UInt8, g: UInt8, b: UInt8) {
        precondition(x >= 0 && x < width && y >= 0 && y < height, "pixel outside the image")
        let i = (y * width + x) * 3
        return (pixels[i], pixels[i + 1], pixels[i + 2])
    }
}
