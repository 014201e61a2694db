import FaceScopeCore
import Foundation
import Testing

@testable import FaceScopeImaging

/// A shared photograph with the size and mean colour Pillow reports for it.
struct SamplePhoto: Sendable, CustomTestStringConvertible {
    let file: String
    let format: ImageFormat
    let width: Int
    let height: Int
    let mean: (Double, Double, Double)
    var testDescription: String { file }
}

@Suite("Decoding real photographs")
struct RealPhotoTests {
    // Sizes and per-channel means measured with Pillow 11 from the same files.
    static let photos: [SamplePhoto] = [
        SamplePhoto(
            file: "faces/group-6-faces.jpg", format: .jpeg, width: 1280, height: 886, mean: (158.32, 120.57, 91.10)),
        SamplePhoto(
            file: "faces/portrait-astronaut.png", format: .png, width: 512, height: 512, mean: (141.56, 105.76, 96.48)),
        SamplePhoto(
            file: "faces/portrait-football.jpg", format: .jpeg, width: 548, height: 342, mean: (82.17, 86.05, 72.41)),
        SamplePhoto(
            file: "faces/portrait-grace-hopper.jpg", format: .jpeg, width: 512, height: 600, mean: (82.48, 72.43, 86.42)
        ),
        SamplePhoto(
            file: "no-faces/baboon.jpg", format: .jpeg, width: 512, height: 512, mean: (137.07, 129.15, 112.86)),
        SamplePhoto(file: "no-faces/fruits.jpg", format: .jpeg, width: 512, height: 480, mean: (110.81, 85.62, 46.23)),
        SamplePhoto(
            file: "no-faces/starry-night.jpg", format: .jpeg, width: 752, height: 600, mean: (70.18, 95.88, 113.91)),
    ]

    @Test(
        "each sample photo decodes at its size with Pillow's colours",
        .enabled(if: Fixtures.hasSampleData, "the shared sample photos are not here"), arguments: photos)
    func decodesPhoto(_ photo: SamplePhoto) throws {
        let path = Fixtures.sampleData + "/" + photo.file
        let image = try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)
        #expect(image.width == photo.width)
        #expect(image.height == photo.height)
        #expect(image.channels == 3)
        #expect(image.format == photo.format)
        #expect(image.orientation == 1)
        #expect(image.pixels.count == photo.width * photo.height * 3)
        var sums = (0, 0, 0)
        for i in stride(from: 0, to: image.pixels.count, by: 3) {
            sums.0 += Int(image.pixels[i])
            sums.1 += Int(image.pixels[i + 1])
            sums.2 += Int(image.pixels[i + 2])
        }
        let n = Double(photo.width * photo.height)
        #expect(abs(Double(sums.0) / n - photo.mean.0) < 1.0)
        #expect(abs(Double(sums.1) / n - photo.mean.1) < 1.0)
        #expect(abs(Double(sums.2) / n - photo.mean.2) < 1.0)

        let size = try ImageDecoder.readSize(path: path)
        #expect(size.width == photo.width && size.height == photo.height)
    }

    @Test(
        "the astronaut PNG matches Pillow pixel for pixel at two spots",
        .enabled(if: Fixtures.hasSampleData, "the shared sample photos are not here"))
    func astronautPixels() throws {
        let image = try ImageDecoder.decode(
            path: Fixtures.sampleData + "/faces/portrait-astronaut.png", maxPixels: Fixtures.maxPixels)
        #expect(image.rgb(x: 0, y: 0) == (154, 147, 151))
        #expect(image.rgb(x: 256, y: 256) == (19, 14, 7))
    }

    @Test(
        "a JPEG preview uses DCT scaling and keeps the aspect ratio",
        .enabled(if: Fixtures.hasSampleData, "the shared sample photos are not here"))
    func jpegPreview() throws {
        let path = Fixtures.sampleData + "/faces/group-6-faces.jpg"
        let preview = try ImageDecoder.decodeScaled(
            path: path, maxWidth: 160, maxHeight: 160, maxPixels: Fixtures.maxPixels)
        #expect(preview.width == 160)
        #expect(preview.height == 111)  // 886 * 160 / 1280 = 110.75
        var sum = 0
        for i in stride(from: 0, to: preview.pixels.count, by: 3) { sum += Int(preview.pixels[i]) }
        #expect(abs(Double(sum) / Double(160 * 111) - 158.32) < 3)
        // Not enlarged when the box is bigger than the image.
        let whole = try ImageDecoder.decodeScaled(
            path: path, maxWidth: 4000, maxHeight: 4000, maxPixels: Fixtures.maxPixels)
        #expect(whole.width == 1280 && whole.height == 886)
    }

    @Test(
        "a PNG preview is decoded whole, then shrunk",
        .enabled(if: Fixtures.hasSampleData, "the shared sample photos are not here"))
    func pngPreview() throws {
        let preview = try ImageDecoder.decodeScaled(
            path: Fixtures.sampleData + "/faces/portrait-astronaut.png", maxWidth: 100, maxHeight: 64,
            maxPixels: Fixtures.maxPixels)
        #expect(preview.width == 64 && preview.height == 64)
        #expect(preview.format == .png)
    }
}

@Suite("EXIF orientation")
struct OrientationTests {
    /// The upright marker image (see make_fixtures.py): 64x48, red square top-left, green
    /// top-right, blue bottom-left, white elsewhere; squares are 16x16.
    static func expectUprightMarker(
        _ image: DecodedImage, tolerance: Int = 12, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(image.width == 64 && image.height == 48, sourceLocation: sourceLocation)
        guard image.width == 64 && image.height == 48 else { return }
        #expect(
            near(image.rgb(x: 8, y: 8), (255, 0, 0), tolerance: tolerance), "top-left should be red",
            sourceLocation: sourceLocation)
        #expect(
            near(image.rgb(x: 55, y: 8), (0, 255, 0), tolerance: tolerance), "top-right should be green",
            sourceLocation: sourceLocation)
        #expect(
            near(image.rgb(x: 8, y: 39), (0, 0, 255), tolerance: tolerance), "bottom-left should be blue",
            sourceLocation: sourceLocation)
        #expect(
            near(image.rgb(x: 55, y: 39), (255, 255, 255), tolerance: tolerance), "bottom-right should be white",
            sourceLocation: sourceLocation)
        #expect(
            near(image.rgb(x: 32, y: 24), (255, 255, 255), tolerance: tolerance), "centre should be white",
            sourceLocation: sourceLocation)
    }

    @Test("every JPEG orientation 1-8 comes out upright", arguments: 1...8)
    func jpegOrientation(_ orientation: Int) throws {
        let path = Fixtures.path("orient-\(orientation).jpg")
        let image = try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)
        #expect(image.orientation == orientation)
        Self.expectUprightMarker(image)
        let size = try ImageDecoder.readSize(path: path)
        #expect(size.width == 64 && size.height == 48)
    }

    @Test("PNG eXIf and WebP EXIF orientation 6 come out upright", arguments: ["orient-6.png", "orient-6.webp"])
    func otherFormats(_ name: String) throws {
        let image = try ImageDecoder.decode(path: Fixtures.path(name), maxPixels: Fixtures.maxPixels)
        #expect(image.orientation == 6)
        Self.expectUprightMarker(image, tolerance: 0)
    }

    @Test("a preview of a rotated JPEG is upright and fits the box", arguments: [3, 6, 8])
    func rotatedPreview(_ orientation: Int) throws {
        let image = try ImageDecoder.decodeScaled(
            path: Fixtures.path("orient-\(orientation).jpg"), maxWidth: 32, maxHeight: 32, maxPixels: Fixtures.maxPixels
        )
        #expect(image.width == 32 && image.height == 24)
        #expect(near(image.rgb(x: 3, y: 3), (255, 0, 0), tolerance: 40))
        #expect(near(image.rgb(x: 28, y: 3), (0, 255, 0), tolerance: 40))
        #expect(near(image.rgb(x: 3, y: 20), (0, 0, 255), tolerance: 40))
    }

    @Test("the pixel transform for each orientation matches its definition", arguments: 1...8)
    func transformDefinition(_ orientation: Int) {
        // A 3x2 stored image whose pixel values encode their own coordinates.
        let w = 3
        let h = 2
        var stored = [UInt8]()
        for y in 0..<h { for x in 0..<w { stored += [UInt8(x), UInt8(y), 0] } }
        let (pixels, ow, oh) = Orientation.apply(orientation, to: stored, width: w, height: h)
        #expect((ow, oh) == (orientation >= 5 ? (h, w) : (w, h)))
        for y in 0..<oh {
            for x in 0..<ow {
                // Where upright (x, y) comes from, per the EXIF specification's row/column meanings.
                let source: (Int, Int) =
                    switch orientation {
                    case 1: (x, y)
                    case 2: (w - 1 - x, y)
                    case 3: (w - 1 - x, h - 1 - y)
                    case 4: (x, h - 1 - y)
                    case 5: (y, x)
                    case 6: (y, h - 1 - x)
                    case 7: (w - 1 - y, h - 1 - x)
                    default: (w - 1 - y, x)
                    }
                let i = (y * ow + x) * 3
                #expect(
                    Int(pixels[i]) == source.0 && Int(pixels[i + 1]) == source.1,
                    "orientation \(orientation) at \(x),\(y)")
            }
        }
    }
}

@Suite("Colour models and bit depths")
struct ColourTests {
    @Test("a CMYK JPEG converts to RGB and reports 4 channels")
    func cmykJPEG() throws {
        let image = try ImageDecoder.decode(path: Fixtures.path("cmyk.jpg"), maxPixels: Fixtures.maxPixels)
        #expect(image.channels == 4)
        OrientationTests.expectUprightMarker(image)
    }

    @Test("a grayscale JPEG expands to RGB and reports 1 channel")
    func grayJPEG() throws {
        let image = try ImageDecoder.decode(path: Fixtures.path("gray.jpg"), maxPixels: Fixtures.maxPixels)
        #expect(image.channels == 1)
        #expect(image.width == 32 && image.height == 24)
        #expect(near(image.rgb(x: 4, y: 12), (50, 50, 50), tolerance: 3))
        #expect(near(image.rgb(x: 28, y: 12), (200, 200, 200), tolerance: 3))
        let p = image.rgb(x: 28, y: 12)
        #expect(p.r == p.g && p.g == p.b)
    }

    @Test("a progressive JPEG decodes")
    func progressiveJPEG() throws {
        OrientationTests.expectUprightMarker(
            try ImageDecoder.decode(path: Fixtures.path("progressive.jpg"), maxPixels: Fixtures.maxPixels))
    }

    @Test("a 16-bit RGB PNG without gAMA is read as sRGB and reduced to 8 bits")
    func sixteenBitPNG() throws {
        let image = try ImageDecoder.decode(path: Fixtures.path("rgb16.png"), maxPixels: Fixtures.maxPixels)
        #expect(image.channels == 3)
        #expect(image.width == 4 && image.height == 2)
        #expect(image.rgb(x: 0, y: 0) == (128, 64, 255))
        #expect(image.rgb(x: 3, y: 1) == (0, 255, 32))
    }

    @Test("a palette PNG with tRNS is composited onto black and reports 4 channels")
    func paletteAlphaPNG() throws {
        let image = try ImageDecoder.decode(path: Fixtures.path("palette-alpha.png"), maxPixels: Fixtures.maxPixels)
        #expect(image.channels == 4)
        #expect(image.rgb(x: 0, y: 0) == (0, 0, 0))  // transparent white
        #expect(image.rgb(x: 1, y: 0) == (255, 0, 0))  // opaque red
        #expect(image.rgb(x: 2, y: 0) == (0, 128, 0))  // green at alpha 128
    }

    @Test("a gray+alpha PNG is composited onto black and reports 2 channels")
    func grayAlphaPNG() throws {
        let image = try ImageDecoder.decode(path: Fixtures.path("gray-alpha.png"), maxPixels: Fixtures.maxPixels)
        #expect(image.channels == 2)
        #expect(image.rgb(x: 0, y: 0) == (200, 200, 200))
        #expect(image.rgb(x: 1, y: 0) == (0, 0, 0))
        #expect(image.rgb(x: 2, y: 0) == (40, 40, 40))
    }

    @Test("lossless and lossy WebP decode; WebP alpha is composited onto black")
    func webp() throws {
        let marker = try ImageDecoder.decode(path: Fixtures.path("marker.webp"), maxPixels: Fixtures.maxPixels)
        #expect(marker.format == .webp && marker.channels == 3)
        OrientationTests.expectUprightMarker(marker, tolerance: 0)
        OrientationTests.expectUprightMarker(
            try ImageDecoder.decode(path: Fixtures.path("lossy.webp"), maxPixels: Fixtures.maxPixels))
        let alpha = try ImageDecoder.decode(path: Fixtures.path("alpha.webp"), maxPixels: Fixtures.maxPixels)
        #expect(alpha.channels == 4)
        #expect(alpha.rgb(x: 0, y: 0) == (255, 0, 0))
        #expect(alpha.rgb(x: 1, y: 0) == (0, 0, 0))
        #expect(alpha.rgb(x: 2, y: 0) == (51, 0, 0))
    }

    @Test("decoding from memory gives the same image as from the file")
    func fromMemory() throws {
        let path = Fixtures.path("orient-6.jpg")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let fromData = try ImageDecoder.decode(data: bytes, name: "upload.jpg", maxPixels: Fixtures.maxPixels)
        #expect(fromData == (try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)))
    }

    @Test("TurboJPEG's scaled size: the smallest factor that still covers the target")
    func scaledSize() {
        #expect(JPEGCodec.bestScaledSize(width: 1280, height: 886, atLeast: (160, 111)) == (160, 111))
        #expect(JPEGCodec.bestScaledSize(width: 1280, height: 886, atLeast: (161, 111)) == (320, 222))
        #expect(JPEGCodec.bestScaledSize(width: 1280, height: 886, atLeast: (1280, 886)) == (1280, 886))
        #expect(JPEGCodec.bestScaledSize(width: 1280, height: 886, atLeast: (641, 1)) == (800, 554))
    }
}

@Suite("Refusals and errors")
struct DecoderErrorTests {
    @Test("a truncated JPEG is refused as truncated")
    func truncated() {
        let path = Fixtures.path("truncated.jpg")
        let reason = fileErrorReason(path: path) { () throws(ImageError) in
            _ = try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)
        }
        #expect(reason?.hasPrefix("truncated JPEG") == true, "\(reason ?? "")")
        // The complete file it was cut from decodes.
        #expect(throws: Never.self) { try ImageDecoder.decode(path: Fixtures.path("noise.jpg"), maxPixels: 10_000) }
    }

    @Test("JPEG magic followed by garbage is refused as corrupt")
    func corrupt() {
        let path = Fixtures.path("corrupt.jpg")
        let reason = fileErrorReason(path: path) { () throws(ImageError) in
            _ = try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)
        }
        #expect(reason?.hasPrefix("corrupt JPEG") == true, "\(reason ?? "")")
    }

    @Test("a text file named .jpg is not an image")
    func textFile() {
        let path = Fixtures.path("text.jpg")
        let reason = fileErrorReason(path: path) { () throws(ImageError) in
            _ = try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)
        }
        #expect(reason == "not an image: the contents are not JPEG, PNG or WebP")
    }

    @Test("an empty file is refused")
    func emptyFile() {
        let path = Fixtures.path("empty.jpg")
        let reason = fileErrorReason(path: path) { () throws(ImageError) in
            _ = try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)
        }
        #expect(reason == "empty file")
        #expect(
            fileErrorReason(path: "blob") { () throws(ImageError) in
                _ = try ImageDecoder.decode(data: [], name: "blob", maxPixels: 10)
            } == "empty file")
    }

    @Test("HEIF magic without a real image is refused as corrupt HEIC")
    func heicMagicOnly() {
        let path = Fixtures.path("photo.heic")
        let reason = fileErrorReason(path: path) { () throws(ImageError) in
            _ = try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)
        }
        #expect(reason?.hasPrefix("corrupt HEIC: ") == true, "\(reason ?? "")")
        let mif1 = [0, 0, 0, 16] + Array("ftypmif1".utf8) + [0, 0, 0, 0]
        #expect(
            fileErrorReason(path: "a.heif") { () throws(ImageError) in
                _ = try ImageDecoder.decode(data: mif1, name: "a.heif", maxPixels: 10)
            }?.hasPrefix("corrupt HEIC: ") == true)
    }

    @Test("declared-huge PNG and JPEG headers are refused before decoding")
    func declaredHuge() {
        for (name, side) in [("huge.png", 100_000), ("huge.jpg", 60_000)] {
            let path = Fixtures.path(name)
            let reason = fileErrorReason(path: path) { () throws(ImageError) in
                _ = try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)
            }
            #expect(
                reason
                    == "\(side) x \(side) = \(side * side) pixels exceeds the limit of 50000000 (FACESCOPE_MAX_PIXELS)")
            // The header alone still gives the size.
            #expect((try? ImageDecoder.readSize(path: path)).map { $0.width == side && $0.height == side } == true)
        }
    }

    @Test("the pixel limit applies to every format", arguments: ["orient-1.jpg", "marker.webp", "orient-6.png"])
    func pixelLimit(_ name: String) {
        let path = Fixtures.path(name)
        // Stored size: the PNG is stored 48x64 (orientation 6).
        let stored = name.hasSuffix(".png") ? "48 x 64" : "64 x 48"
        #expect(
            fileErrorReason(path: path) { () throws(ImageError) in
                _ = try ImageDecoder.decode(path: path, maxPixels: 3071)
            } == "\(stored) = 3072 pixels exceeds the limit of 3071 (FACESCOPE_MAX_PIXELS)")
        #expect(throws: Never.self) { try ImageDecoder.decode(path: path, maxPixels: 3072) }
    }

    @Test("missing files, directories and files over 256 MiB are refused")
    func unreadable() throws {
        let missing = Fixtures.path("no-such-file.jpg")
        #expect(
            fileErrorReason(path: missing) { () throws(ImageError) in
                _ = try ImageDecoder.decode(path: missing, maxPixels: 10)
            } == "cannot open: no such file or directory")
        #expect(
            fileErrorReason(path: Fixtures.directory) { () throws(ImageError) in
                _ = try ImageDecoder.decode(path: Fixtures.directory, maxPixels: 10)
            } == "is a directory, not an image file")
        // A sparse 300 MiB file: refused from its size, never read.
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("facescope-big-\(getpid()).jpg").path
        #expect(FileManager.default.createFile(atPath: big, contents: Data([0xFF, 0xD8, 0xFF])))
        defer { try? FileManager.default.removeItem(atPath: big) }
        #expect(truncate(big, 300 * 1024 * 1024) == 0)
        #expect(
            fileErrorReason(path: big) { () throws(ImageError) in
                _ = try ImageDecoder.decode(path: big, maxPixels: 10)
            } == "the file is 314572800 bytes; image files over 256 MiB are refused")
    }
}
