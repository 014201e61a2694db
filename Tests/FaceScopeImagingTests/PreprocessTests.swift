import FaceScopeCore
import Testing

@testable import FaceScopeImaging

/// Runs `body` with a FaceNet-sized buffer pre-filled with -7 (so unwritten values show).
func withFaceNetBuffer<T>(_ body: (UnsafeMutableBufferPointer<Float>) -> T) -> (T, [Float]) {
    var buffer = [Float](repeating: -7, count: Preprocess.faceNetInputCount)
    let result = buffer.withUnsafeMutableBufferPointer { body($0) }
    return (result, buffer)
}

let netW = 736
let netH = 416
let plane = 736 * 416

@Suite("FaceNet input tensor")
struct FaceNetInputTests {
    @Test(
        "stretch: a uniform colour gives colour/255 everywhere in planar R, G, B", arguments: [(100, 50), (1280, 886)])
    func stretchUniform(_ size: (Int, Int)) {
        let image = solidImage(width: size.0, height: size.1, rgb: (51, 102, 204))
        let (transform, t) = withFaceNetBuffer { Preprocess.faceNetInput(image, mode: .stretch, into: $0) }
        #expect(transform.scaleX == 736.0 / Double(size.0))
        #expect(transform.scaleY == 416.0 / Double(size.1))
        let expected: [Float] = [0.2, 0.4, 0.8]
        for c in 0..<3 {
            let values = t[(c * plane)..<((c + 1) * plane)]
            #expect(values.allSatisfy { abs($0 - expected[c]) < 1e-5 }, "plane \(c)")
        }
    }

    @Test("stretch maps the image corners to the network corners")
    func stretchCorners() {
        let transform = LetterboxTransform(scaleX: 736.0 / 1280, scaleY: 416.0 / 886)
        let corner = transform.toImage(x: 736, y: 416)
        #expect(abs(corner.x - 1280) < 1e-9 && abs(corner.y - 886) < 1e-9)
        #expect(transform.toImage(x: 0, y: 0) == (0, 0))
    }

    @Test("the planes are R, G, B and rows run top to bottom")
    func planeLayout() {
        // Red in the top-left quadrant, blue in the bottom-right, black elsewhere.
        let image = drawnImage(width: 200, height: 100) { x, y in
            if x < 100 && y < 50 { return (255, 0, 0) }
            if x >= 100 && y >= 50 { return (0, 0, 255) }
            return (0, 0, 0)
        }
        let (_, t) = withFaceNetBuffer { Preprocess.faceNetInput(image, mode: .stretch, into: $0) }
        func at(_ c: Int, _ x: Int, _ y: Int) -> Float { t[c * plane + y * netW + x] }
        func isOne(_ v: Float) -> Bool { abs(v - 1) < 1e-5 }
        #expect(isOne(at(0, 100, 100)) && at(1, 100, 100) == 0 && at(2, 100, 100) == 0)
        #expect(at(0, 600, 300) == 0 && at(1, 600, 300) == 0 && isOne(at(2, 600, 300)))
        #expect(at(0, 600, 100) == 0 && at(2, 100, 300) == 0)
        // The boundary sits where the transform puts it: image x = 100 is network x = 368; the
        // 3.68x enlargement blends within half a source pixel (1.84 network pixels) of it.
        #expect(isOne(at(0, 365, 100)) && at(0, 370, 100) == 0)
        #expect(at(0, 367, 100) > 0.5 && at(0, 368, 100) < 0.5)
    }

    @Test("letterbox of a wide image: scale min(736/W, 416/H), image top-left, zero padding below")
    func letterboxWide() {
        let image = solidImage(width: 1000, height: 200, rgb: (255, 255, 255))
        let (transform, t) = withFaceNetBuffer { Preprocess.faceNetInput(image, mode: .letterbox, into: $0) }
        #expect(transform.scaleX == 0.736 && transform.scaleY == 0.736)
        let rows = 147  // 200 * 0.736 = 147.2
        for c in 0..<3 {
            for y in [0, 100, rows - 1] {
                #expect(abs(t[c * plane + y * netW] - 1) < 1e-5 && abs(t[c * plane + y * netW + 735] - 1) < 1e-5)
            }
            let padding = t[(c * plane + rows * netW)..<((c + 1) * plane)]
            #expect(padding.allSatisfy { $0 == 0 }, "plane \(c) padding")
        }
        let corner = transform.toImage(x: 736, y: 147.2)
        #expect(abs(corner.x - 1000) < 1e-9 && abs(corner.y - 200) < 1e-9)
    }

    @Test("letterbox of a tall image pads the right-hand side with exact zeros")
    func letterboxTall() {
        let image = solidImage(width: 100, height: 400, rgb: (0, 255, 0))
        let (transform, t) = withFaceNetBuffer { Preprocess.faceNetInput(image, mode: .letterbox, into: $0) }
        #expect(transform.scaleX == 1.04 && transform.scaleY == 1.04)
        let cols = 104
        #expect(t.allSatisfy { $0 >= 0 }, "every value is written")
        for y in 0..<netH {
            #expect(abs(t[plane + y * netW + cols - 1] - 1) < 1e-5)
            #expect(t[(plane + y * netW + cols)..<(plane + (y + 1) * netW)].allSatisfy { $0 == 0 })
            #expect(t[(y * netW)..<((y + 1) * netW)].allSatisfy { $0 == 0 }, "red plane is all zero")
        }
        let corner = transform.toImage(x: 104, y: 416)
        #expect(abs(corner.x - 100) < 1e-9 && abs(corner.y - 400) < 1e-9)
    }

    @Test("a 4x reduction averages the area (point-sampled bilinear would miss thin lines)")
    func areaAverage() {
        // One bright column in every four: area average 0.25; bilinear at pixel centres 0.
        let image = drawnImage(width: 736 * 4, height: 416) { x, _ in x % 4 == 0 ? (255, 255, 255) : (0, 0, 0) }
        let (_, t) = withFaceNetBuffer { Preprocess.faceNetInput(image, mode: .stretch, into: $0) }
        for y in [0, 200, 415] {
            // Interior columns (the outermost two see a renormalised, one-sided window).
            #expect(t[(y * netW + 2)..<(y * netW + 734)].allSatisfy { abs($0 - 0.25) < 0.01 }, "row \(y)")
        }
    }

    @Test("enlarging interpolates bilinearly between pixel centres")
    func bilinearUpscale() {
        // 2 pixels wide (0 and 255) stretched to 736: a ramp, flat within half a source pixel of each edge.
        let image = drawnImage(width: 2, height: 1) { x, _ in x == 0 ? (0, 0, 0) : (255, 255, 255) }
        let (_, t) = withFaceNetBuffer { Preprocess.faceNetInput(image, mode: .stretch, into: $0) }
        #expect(t[0] == 0 && t[735] == 1)
        // Column 368's centre is source x = 368.5/368, between the pixel centres 0.5 and 1.5.
        #expect(abs(t[368] - Float(368.5 / 368 - 0.5)) < 1e-4)
        #expect(t[0..<736].indices.dropFirst().allSatisfy { t[$0] >= t[$0 - 1] })
    }

    @Test(
        "decoding the group photo and packing it gives values in 0...1",
        .enabled(if: Fixtures.hasSampleData, "the shared sample photos are not here"))
    func realPhoto() throws {
        let image = try ImageDecoder.decode(
            path: Fixtures.sampleData + "/faces/group-6-faces.jpg", maxPixels: Fixtures.maxPixels)
        for mode in ResizeMode.allCases {
            let (_, t) = withFaceNetBuffer { Preprocess.faceNetInput(image, mode: mode, into: $0) }
            #expect(t.allSatisfy { $0 >= 0 && $0 <= 1 })
            let mean = t[0..<plane].reduce(0, +) / Float(plane)
            if mode == .stretch { #expect(abs(mean - Float(158.32 / 255)) < 0.01) }
        }
    }
}

@Suite("FPENet landmark crop")
struct LandmarkCropTests {
    @Test("the square is max(w, h) about the box centre")
    func centredSquare() {
        let square = Preprocess.landmarkSquare(box: (100, 120, 160, 200), imageWidth: 640, imageHeight: 480)
        #expect(square == FaceCrop(x0: 90, y0: 120, width: 80, height: 80))
    }

    @Test("near the top-left corner the square shifts inside, keeping its side")
    func topLeftCorner() {
        #expect(
            Preprocess.landmarkSquare(box: (0, 0, 40, 20), imageWidth: 640, imageHeight: 480)
                == FaceCrop(x0: 0, y0: 0, width: 40, height: 40))
        #expect(
            Preprocess.landmarkSquare(box: (-10, 5, 30, 25), imageWidth: 640, imageHeight: 480)
                == FaceCrop(x0: 0, y0: 0, width: 40, height: 40))
    }

    @Test("past the bottom-right corner the square shifts back inside")
    func bottomRightCorner() {
        #expect(
            Preprocess.landmarkSquare(box: (620, 470, 660, 490), imageWidth: 640, imageHeight: 480)
                == FaceCrop(x0: 600, y0: 440, width: 40, height: 40))
    }

    @Test("a box larger than the image shrinks the square to the image's short side")
    func largerThanImage() {
        #expect(
            Preprocess.landmarkSquare(box: (-50, -50, 150, 150), imageWidth: 100, imageHeight: 60)
                == FaceCrop(x0: 20, y0: 0, width: 60, height: 60))
    }

    @Test("crop coordinates map back: X = x80 * side / 80 + x0")
    func mapBack() {
        let t = FaceCrop(x0: 90, y0: 120, width: 40, height: 40)
        #expect(t.toImage(x: 0, y: 0) == (90, 120))
        #expect(t.toImage(x: 80, y: 80) == (130, 160))
        #expect(t.toImage(x: 40, y: 20) == (110, 130))
    }

    @Test("gray is 0.299 R + 0.587 G + 0.114 B on the raw 0...255 scale")
    func grayValue() {
        let image = solidImage(width: 120, height: 90, rgb: (10, 200, 30))
        var out = [Float](repeating: -1, count: Preprocess.landmarkInputCount)
        let t = out.withUnsafeMutableBufferPointer { Preprocess.landmarkCrop(image, box: (30, 20, 70, 50), into: $0) }
        #expect(t == FaceCrop(x0: 30, y0: 15, width: 40, height: 40))
        #expect(out.allSatisfy { abs($0 - 123.81) < 1e-3 })
    }

    @Test("the crop shows the box's content where the transform says")
    func content() {
        // White square at image x, y in 50..<70 on black; box 40..80 -> side 40, 2x enlargement.
        let image = drawnImage(width: 200, height: 200) { x, y in
            (50..<70).contains(x) && (50..<70).contains(y) ? (255, 255, 255) : (0, 0, 0)
        }
        var out = [Float](repeating: -1, count: Preprocess.landmarkInputCount)
        let t = out.withUnsafeMutableBufferPointer { Preprocess.landmarkCrop(image, box: (40, 40, 80, 80), into: $0) }
        #expect(t == FaceCrop(x0: 40, y0: 40, width: 40, height: 40))
        #expect(abs(out[40 * 80 + 40] - 255) < 1e-3)  // crop (40,40) -> image (60,60)
        #expect(abs(out[5 * 80 + 5]) < 1e-3)  // crop (5,5) -> image (42.5,42.5)
        #expect(abs(out[30 * 80 + 70]) < 1e-3)  // crop (70,30) -> image (75,55)
    }

    @Test("only pixels inside the square are read")
    func staysInside() {
        // Black square 20..<60 inside a white image; cropping exactly that square must be all black.
        let image = drawnImage(width: 100, height: 100) { x, y in
            (20..<60).contains(x) && (20..<60).contains(y) ? (0, 0, 0) : (255, 255, 255)
        }
        var out = [Float](repeating: -1, count: Preprocess.landmarkInputCount)
        _ = out.withUnsafeMutableBufferPointer { Preprocess.landmarkCrop(image, box: (20, 20, 60, 60), into: $0) }
        #expect(out.allSatisfy { $0 == 0 })
        // A large face shrinks to 80x80 too (400 -> 80 averages areas).
        let big = solidImage(width: 640, height: 480, rgb: (100, 100, 100))
        _ = out.withUnsafeMutableBufferPointer { Preprocess.landmarkCrop(big, box: (100, 40, 500, 440), into: $0) }
        #expect(out.allSatisfy { abs($0 - 100) < 1e-3 })
    }
}
