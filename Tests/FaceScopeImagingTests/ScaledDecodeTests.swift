import FaceScopeCore
import Foundation
import Testing

@testable import FaceScopeImaging

@Suite("Reduced-scale JPEG decoding")
struct ScaledDecodeTests {
    @Test(
        "the detector's decode scale: the coarsest with FaceNet's input, per upright axis",
        arguments: [
            // stored size, EXIF orientation, resize mode, expected denominator
            (4032, 3024, 1, ResizeMode.stretch, 4),  // 1008x756 >= 736x416; 504x378 is not
            (4032, 3024, 1, .letterbox, 4),  // needs 555x416
            (4032, 3024, 6, .stretch, 4),  // upright 3024x4032: 756x1008; 378 < 736
            (4032, 3024, 8, .stretch, 4),
            (4032, 3024, 6, .letterbox, 8),  // upright portrait letterboxed needs 312x416: 378x504
            (3024, 4032, 1, .letterbox, 8),
            (3024, 4032, 1, .stretch, 4),
            (8000, 6000, 1, .stretch, 8),  // 48 MP: 1000x750
            (6000, 8000, 1, .stretch, 8),  // 750x1000
            (1472, 832, 1, .stretch, 2),  // exactly twice 736x416
            (1471, 831, 1, .stretch, 2),  // rounded up: 736x416
            (1470, 832, 1, .stretch, 1),  // 735 < 736
            (1280, 886, 1, .stretch, 1),  // the shared group photo
            (1280, 886, 1, .letterbox, 2),  // needs 601x416: 640x443
            (512, 600, 1, .stretch, 1),  // smaller than the input: decoded whole
            (100, 50, 3, .letterbox, 1),
        ])
    func detectorScale(width: Int, height: Int, orientation: Int, mode: ResizeMode, expected: Int) {
        let upright = Orientation.uprightSize(width: width, height: height, orientation: orientation)
        let need = DecodePlan.faceNetNeed(width: upright.width, height: upright.height, mode: mode)
        let scale = DecodePlan.scale(width: width, height: height, orientation: orientation, needed: need)
        #expect(scale.denominator == expected, "\(width)x\(height) o\(orientation) \(mode): \(scale)")
        // Never fewer pixels than FaceNet samples, on either upright axis.
        #expect(scale.scaled(upright.width) >= need.width && scale.scaled(upright.height) >= need.height)
    }

    @Test("what FaceNet samples: 736x416 stretched, the scaled size letterboxed, never more than the image")
    func faceNetNeed() {
        #expect(DecodePlan.faceNetNeed(width: 4032, height: 3024, mode: .stretch) == (736, 416))
        #expect(DecodePlan.faceNetNeed(width: 4032, height: 3024, mode: .letterbox) == (555, 416))
        #expect(DecodePlan.faceNetNeed(width: 3024, height: 4032, mode: .letterbox) == (312, 416))
        #expect(DecodePlan.faceNetNeed(width: 512, height: 600, mode: .stretch) == (512, 416))
        #expect(DecodePlan.faceNetNeed(width: 300, height: 200, mode: .letterbox) == (300, 200))
    }

    @Test(
        "a crop's scale: as coarse as keeps at least min(1, full pixels per output pixel) per output pixel",
        arguments: [
            (0.5, 1), (1.0, 1), (1.99, 1), (2.0, 2), (3.99, 2), (4.0, 4), (7.9, 4), (8.0, 8), (100, 8),
            (Double.nan, 1), (Double.infinity, 1),
        ])
    func cropScale(pixelsPerOutput: Double, expected: Int) {
        #expect(DecodePlan.cropScale(fullPixelsPerOutput: pixelsPerOutput).denominator == expected)
    }

    /// The pixel of `view` covering full-size point (x, y), if it has one.
    func pixel(_ view: ImageView, _ x: Double, _ y: Double) -> (r: UInt8, g: UInt8, b: UInt8)? {
        let d = Double(view.scale.denominator)
        let px = Int(((x - Double(view.originX)) / d).rounded(.down))
        let py = Int(((y - Double(view.originY)) / d).rounded(.down))
        guard px >= 0, py >= 0, px < view.image.width, py < view.image.height else { return nil }
        return view.image.rgb(x: px, y: py)
    }

    @Test("a whole scaled decode is the image: each orientation upright, placed at its origin", arguments: 1...8)
    func wholeScaledDecode(orientation: Int) throws {
        let path = Fixtures.path("orient-\(orientation).jpg")
        let bytes = try ImageDecoder.readFile(path)
        let full = try ImageDecoder.decode(data: bytes, name: path, maxPixels: Fixtures.maxPixels)
        let jpeg = try #require(try ScaledJPEG(bytes: bytes, name: path, maxPixels: Fixtures.maxPixels))
        #expect(jpeg.width == full.width && jpeg.height == full.height && jpeg.orientation == orientation)
        for scale in DecodeScale.all {
            let view = try jpeg.decode(scale: scale)
            #expect(view.scale == scale && view.fullWidth == full.width && view.fullHeight == full.height)
            #expect(view.image.width == scale.scaled(full.width) && view.image.height == scale.scaled(full.height))
            // The marker (make_fixtures.py): white, 16x16 red, green and blue squares at the
            // top-left, top-right and bottom-left corners. Their centres keep their colour.
            for (x, y) in [(8.5, 8.5), (56.5, 8.5), (8.5, 40.5), (40.5, 30.5)] {
                let want = full.rgb(x: Int(x), y: Int(y))
                let got = try #require(pixel(view, x, y))
                #expect(near(got, (Int(want.r), Int(want.g), Int(want.b)), tolerance: 40), "\(scale) at \(x),\(y)")
            }
        }
    }

    @Test(
        "regions decoded from lossless crops equal the whole decode at their scale, for every orientation",
        arguments: 1...8)
    func regionsMatchWholeDecode(orientation: Int) throws {
        let path = Fixtures.path("orient-\(orientation).jpg")
        let bytes = try ImageDecoder.readFile(path)
        let jpeg = try #require(try ScaledJPEG(bytes: bytes, name: path, maxPixels: Fixtures.maxPixels))
        let w = Double(jpeg.width)
        let h = Double(jpeg.height)
        let rects: [ImageViews.Rect] = [
            (w * 0.3, h * 0.3, w * 0.6, h * 0.7), (0, 0, w * 0.2, h * 0.2), (w * 0.8, h * 0.75, w, h),
        ]
        for scale in [DecodeScale.full, .half] {
            let whole = try jpeg.decode(scale: scale)
            let regions = try #require(jpeg.decodeRegions(rects.map { ($0.x0, $0.y0, $0.x1, $0.y1, scale) }))
            try #require(regions.count == rects.count)
            for (rect, region) in zip(rects, regions) {
                #expect(region.scale == scale)
                // The region holds the rectangle asked for (it is widened to the MCU grid).
                #expect(
                    region.contains(x0: rect.x0, y0: rect.y0, x1: rect.x1, y1: rect.y1), "\(rect) in \(region.covered)")
                // Every region pixel is the whole decode's pixel at the same place (chroma
                // upsampling differs a little at the crop's edges).
                var worst = 0
                for py in 0..<region.image.height {
                    for px in 0..<region.image.width {
                        let x = Double(region.originX) + (Double(px) + 0.5) * Double(scale.denominator)
                        let y = Double(region.originY) + (Double(py) + 0.5) * Double(scale.denominator)
                        guard let want = pixel(whole, x, y) else { continue }
                        let got = region.image.rgb(x: px, y: py)
                        worst = max(
                            worst, abs(Int(got.r) - Int(want.r)), abs(Int(got.g) - Int(want.g)),
                            abs(Int(got.b) - Int(want.b)))
                    }
                }
                #expect(worst <= 40, "\(scale) region \(rect): worst channel difference \(worst)")
            }
        }
    }

    @Test("regions of a real photo at 1/2 and 1/4 match the whole decode away from the crop edges")
    func regionsOfRealPhoto() throws {
        let path = Fixtures.sampleData + "/faces/group-6-faces.jpg"
        guard Fixtures.hasSampleData else { return }
        let bytes = try ImageDecoder.readFile(path)
        let jpeg = try #require(try ScaledJPEG(bytes: bytes, name: path, maxPixels: Fixtures.maxPixels))
        for scale in [DecodeScale.half, .quarter] {
            let whole = try jpeg.decode(scale: scale)
            let rect: ImageViews.Rect = (301, 205, 655, 517)
            let region = try #require(jpeg.decodeRegions([(rect.x0, rect.y0, rect.x1, rect.y1, scale)])?.first)
            #expect(region.contains(x0: rect.x0, y0: rect.y0, x1: rect.x1, y1: rect.y1))
            var total = 0
            var count = 0
            let d = Double(scale.denominator)
            for py in 2..<(region.image.height - 2) {
                for px in 2..<(region.image.width - 2) {
                    let x = Double(region.originX) + (Double(px) + 0.5) * d
                    let y = Double(region.originY) + (Double(py) + 0.5) * d
                    let want = try #require(pixel(whole, x, y))
                    let got = region.image.rgb(x: px, y: py)
                    total +=
                        abs(Int(got.r) - Int(want.r)) + abs(Int(got.g) - Int(want.g)) + abs(Int(got.b) - Int(want.b))
                    count += 3
                }
            }
            // Same DCT blocks, same decoder: identical inside.
            #expect(Double(total) / Double(count) < 0.5, "\(scale): mean difference \(Double(total) / Double(count))")
        }
    }

    @Test("a non-JPEG is not a ScaledJPEG; a JPEG over the pixel limit is refused naming the file")
    func refusals() throws {
        let png = Fixtures.path("orient-6.png")
        #expect(try ScaledJPEG(bytes: try ImageDecoder.readFile(png), name: png, maxPixels: Fixtures.maxPixels) == nil)
        let jpeg = Fixtures.path("orient-6.jpg")
        let reason = fileErrorReason(path: jpeg) { () throws(ImageError) in
            _ = try ScaledJPEG(bytes: try ImageDecoder.readFile(jpeg), name: jpeg, maxPixels: 100)
        }
        #expect(reason?.contains("exceeds the limit") == true)
    }

    @Test("views: crops come from the coarsest decode with enough pixels that holds them")
    func viewChoice() throws {
        let path = Fixtures.sampleData + "/faces/group-6-faces.jpg"
        guard Fixtures.hasSampleData else { return }
        let jpeg = try #require(
            try ScaledJPEG(bytes: try ImageDecoder.readFile(path), name: path, maxPixels: Fixtures.maxPixels))
        // 1280x886 letterboxed needs 601x416: the detector sees the 1/2 decode.
        let views = try ImageViews(jpeg: jpeg, resizeMode: .letterbox)
        #expect(views.detection.scale == .half)
        // A 400-pixel face: its 80x80 crop may come from 1/2 (200 pixels); a 100-pixel face needs 1/1.
        let big = DetectionBox(x1: 100, y1: 100, x2: 500, y2: 480)
        let small = DetectionBox(x1: 700, y1: 300, x2: 790, y2: 400)
        let chosen = try views.forLandmarks([big, small])
        #expect(chosen[0].scale == .half && chosen[0].image.width == 640)
        #expect(chosen[1].scale == .full && chosen[1].image.width < 640)  // a region, not the whole image
        #expect(views.regionDecodes == 1 && views.wholeDecodes == 0)
        // Asked again, the region decoded is reused.
        _ = try views.forLandmarks([small])
        #expect(views.regionDecodes == 1)
        // Without lossless crops, the whole image at the finer scale.
        let whole = try ImageViews(jpeg: jpeg, resizeMode: .letterbox, cropRegions: false)
        #expect(try whole.forLandmarks([small])[0].image.width == 1280 && whole.wholeDecodes == 1)
    }
}
