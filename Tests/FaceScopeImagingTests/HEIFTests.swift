import FaceScopeCore
import Foundation
import Testing

@testable import FaceScopeImaging

@Suite("HEIF (libheif)")
struct HEIFTests {
    @Test("a HEIC decodes at its size with the marker colours in the right corners")
    func heic() throws {
        let path = Fixtures.path("marker.heic")
        let image = try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)
        #expect(image.format == .heic)
        #expect(image.channels == 3)
        #expect(image.orientation == 1)
        // HEVC 4:2:0 blurs colour edges a little; the corners sampled are 8 pixels in.
        OrientationTests.expectUprightMarker(image, tolerance: 24)
        let size = try ImageDecoder.readSize(path: path)
        #expect(size.width == 64 && size.height == 48)
    }

    @Test("a HEIC stored rotated with irot comes out upright, and its size is the upright one")
    func heicRotation() throws {
        let path = Fixtures.path("orient-6.heic")
        let image = try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)
        #expect(image.format == .heic)
        #expect(image.orientation == 1)  // applied by libheif, not as EXIF orientation
        OrientationTests.expectUprightMarker(image, tolerance: 24)
        let size = try ImageDecoder.readSize(path: path)
        #expect(size.width == 64 && size.height == 48)
    }

    @Test("a HEIC preview is decoded whole, then shrunk, upright")
    func heicPreview() throws {
        let preview = try ImageDecoder.decodeScaled(
            path: Fixtures.path("orient-6.heic"), maxWidth: 32, maxHeight: 32, maxPixels: Fixtures.maxPixels)
        #expect(preview.format == .heic)
        #expect(preview.width == 32 && preview.height == 24)
        #expect(near(preview.rgb(x: 3, y: 3), (255, 0, 0), tolerance: 40), "top-left should be red")
        #expect(near(preview.rgb(x: 28, y: 3), (0, 255, 0), tolerance: 40), "top-right should be green")
    }

    @Test("decoding a HEIC from memory gives the same image as from the file")
    func heicFromMemory() throws {
        let path = Fixtures.path("orient-6.heic")
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        let fromMemory = try ImageDecoder.decode(data: bytes, name: "mem.heic", maxPixels: Fixtures.maxPixels)
        #expect(fromMemory == (try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)))
    }

    @Test("a truncated HEIC is refused, naming the file")
    func truncated() {
        let path = Fixtures.path("truncated.heic")
        let reason = fileErrorReason(path: path) { () throws(ImageError) in
            _ = try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)
        }
        #expect(reason?.hasPrefix("truncated HEIC (") == true, "\(reason ?? "")")
        #expect(
            fileErrorReason(path: path) { () throws(ImageError) in
                _ = try ImageDecoder.readSize(path: path)
            }?.hasPrefix("truncated HEIC (") == true)
    }

    @Test("a HEIC whose image data is cut short is refused as truncated")
    func cutImageData() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: Fixtures.path("marker.heic"))))
        let cut = Array(bytes.prefix(bytes.count - 100))
        let reason = fileErrorReason(path: "cut.heic") { () throws(ImageError) in
            _ = try ImageDecoder.decode(data: cut, name: "cut.heic", maxPixels: Fixtures.maxPixels)
        }
        #expect(reason?.hasPrefix("truncated HEIC (") == true, "\(reason ?? "")")
    }

    @Test("the pixel limit applies to HEIC before decoding; readSize has no limit")
    func pixelLimit() throws {
        for name in ["marker.heic", "orient-6.heic"] {
            let path = Fixtures.path(name)
            // The size checked is the displayed (upright) one.
            #expect(
                fileErrorReason(path: path) { () throws(ImageError) in
                    _ = try ImageDecoder.decode(path: path, maxPixels: 3071)
                } == "64 x 48 = 3072 pixels exceeds the limit of 3071 (FACESCOPE_MAX_PIXELS)")
            #expect(
                fileErrorReason(path: path) { () throws(ImageError) in
                    _ = try ImageDecoder.decodeScaled(path: path, maxWidth: 8, maxHeight: 8, maxPixels: 100)
                } == "64 x 48 = 3072 pixels exceeds the limit of 100 (FACESCOPE_MAX_PIXELS)")
            #expect(throws: Never.self) { try ImageDecoder.decode(path: path, maxPixels: 3072) }
        }
    }

    @Test("AVIF decodes where libheif has an AV1 decoder, and is refused with the reason where not")
    func avif() throws {
        let path = Fixtures.path("marker.avif")
        if HEIFCodec.hasDecoder(for: .avif) {
            let image = try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)
            #expect(image.format == .avif)
            OrientationTests.expectUprightMarker(image, tolerance: 24)
        } else {
            #expect(
                fileErrorReason(path: path) { () throws(ImageError) in
                    _ = try ImageDecoder.decode(path: path, maxPixels: Fixtures.maxPixels)
                } == "AVIF is not supported by this build: libheif has no AV1 decoder (convert it to JPEG, PNG or WebP)"
            )
        }
    }

    @Test("HEIF brands: HEIC and AVIF major brands, and mif1 with or without an avif compatible brand")
    func brands() {
        func format(_ major: String, _ compatible: [String]) -> ImageFormat? {
            let size = 16 + 4 * compatible.count
            let bytes: [UInt8] =
                [0, 0, 0, UInt8(size)] + Array("ftyp\(major)".utf8) + [0, 0, 0, 0]
                + compatible.flatMap { Array($0.utf8) }
            return bytes.withUnsafeBufferPointer { FormatSniffer.heifFormat($0) }
        }
        #expect(format("heic", ["mif1"]) == .heic)
        #expect(format("heix", []) == .heic)
        #expect(format("avif", ["mif1"]) == .avif)
        #expect(format("mif1", ["miaf", "avif"]) == .avif)
        #expect(format("mif1", ["heic"]) == .heic)
        #expect(format("mp42", ["isom"]) == nil)
    }
}
