import Testing

@testable import FaceScopeCore

@Suite struct LandmarksTests {
    /// 80 keypoints at (index, 2*index) with confidence 1, pupils and ears at 0 (a 68-point model).
    static func sixtyEight() -> [Keypoint] {
        (0..<80).map { i in
            i < 68 ? Keypoint(x: Double(i) + 0.4, y: Double(2 * i), confidence: 1) : Keypoint(x: 0, y: 0, confidence: 0)
        }
    }

    @Test func keypointsMapBackThroughTheCrop() throws {
        let crop = FaceCrop(x0: 100, y0: 50, width: 160, height: 120)
        var xy = [Float](repeating: 0, count: 160)
        var conf = [Float](repeating: 0, count: 80)
        xy[0] = 40
        xy[1] = 20
        conf[0] = 0.5
        xy[2 * 79] = 80
        xy[2 * 79 + 1] = 80
        conf[79] = 1
        let points = try FPENet.keypoints(coordinates: xy, confidences: conf, crop: crop)
        #expect(points.count == 80)
        #expect(points[0] == Keypoint(x: 180, y: 80, confidence: 0.5))
        #expect(points[79] == Keypoint(x: 260, y: 170, confidence: 1))
        // The second face of a batch.
        let batch2 = try FPENet.keypoints(coordinates: xy + xy, confidences: conf + conf, faceIndex: 1, crop: crop)
        #expect(batch2 == points)
        #expect(throws: InferenceError.self) {
            try FPENet.keypoints(coordinates: xy, confidences: conf, faceIndex: 1, crop: crop)
        }
    }

    @Test func regionsHaveTheFlipMapRanges() {
        #expect(
            LandmarkRegion.allCases.map(\.rawValue) == [
                "chin", "eyebrows", "nose", "eyes", "mouth", "lips", "pupil", "ears",
            ])
        let covered = LandmarkRegion.allCases.flatMap { Array($0.indices) }
        #expect(covered == Array(0..<80))
        #expect(LandmarkRegion.region(of: 60) == .mouth && LandmarkRegion.region(of: 61) == .lips)
        #expect(LandmarkRegion.region(of: 80) == nil)
    }

    @Test func descriptorsGroupByRegionAndOmitZeroConfidence() throws {
        let json = FaceLandmarks.descriptors(Self.sixtyEight())
        guard case .object(let regions) = json else {
            Issue.record("not an object")
            return
        }
        #expect(regions.map(\.0) == ["chin", "eyebrows", "nose", "eyes", "mouth", "lips"])
        #expect(json["chin"]?["0"] == .object([("x", .int(0)), ("y", .int(0))]))
        #expect(json["chin"]?["16"] == .object([("x", .int(16)), ("y", .int(32))]))
        #expect(json["eyes"]?["36"]?["x"] == .int(36))
        #expect(json["lips"]?["67"]?["y"] == .int(134))
        guard case .object(let chin) = json["chin"] else { return }
        #expect(chin.map(\.0) == (0...16).map(String.init))
        #expect(json.serialized.hasPrefix(#"{"chin":{"0":{"x":0,"y":0},"1":{"x":1,"y":2}"#))

        // The inverse gives every point back, by index.
        let points = try FaceLandmarks.points(fromDescriptors: json)
        #expect(points.count == 68)
        #expect(points[61] == LandmarkPoint(index: 61, x: 61, y: 122))
        #expect(points[61].region == .lips)

        // An 80-point face keeps pupil and ears.
        var full = Self.sixtyEight()
        for i in 68..<80 { full[i] = Keypoint(x: 500, y: 600.5, confidence: 0.2) }
        let all = FaceLandmarks.descriptors(full)
        #expect(all["pupil"]?["75"] == .object([("x", .int(500)), ("y", .int(601))]))
        #expect(all["ears"]?["76"] != nil)
        #expect(try FaceLandmarks.points(fromDescriptors: all).count == 80)
    }

    @Test func parsingRejectsBadDescriptors() {
        #expect(throws: DocumentFormatError.self) { try FaceLandmarks.points(fromDescriptors: .array([])) }
        #expect(throws: DocumentFormatError.self) {
            try FaceLandmarks.points(fromDescriptors: .object([("chin", .object([("a", .object([]))]))]))
        }
        #expect(throws: DocumentFormatError.self) {
            try FaceLandmarks.points(fromDescriptors: .object([("chin", .object([("3", .object([("x", .int(1))]))]))]))
        }
        // Old documents with float coordinates still parse.
        let old = JSONValue.object([("nose", .object([("30", .object([("x", .double(40.6)), ("y", .int(2))]))]))])
        #expect((try? FaceLandmarks.points(fromDescriptors: old)) == [LandmarkPoint(index: 30, x: 41, y: 2)])
    }

    /// Keypoints whose eyes (36-41, 42-47) sit around the given centres.
    static func eyes(left: (Double, Double), right: (Double, Double)) -> [Keypoint] {
        var k = sixtyEight()
        for i in 36...41 {
            k[i] = Keypoint(x: left.0 + Double(i - 38), y: left.1 + (i % 2 == 0 ? 1 : -1), confidence: 1)
        }
        for i in 42...47 {
            k[i] = Keypoint(x: right.0 + Double(i - 44), y: right.1 + (i % 2 == 0 ? 1 : -1), confidence: 1)
        }
        return k
    }

    @Test func rotationSignFollowsImageCoordinates() {
        // Level eyes.
        #expect(FaceLandmarks.rotation(Self.eyes(left: (100.5, 100), right: (200.5, 100))) == 0)
        // The right-hand eye 10 px lower over 100 px: clockwise on screen, +5.71 degrees.
        #expect(FaceLandmarks.rotation(Self.eyes(left: (100.5, 100), right: (200.5, 110))) == 6)
        // Higher: counter-clockwise.
        #expect(FaceLandmarks.rotation(Self.eyes(left: (100.5, 100), right: (200.5, 0))) == -45)
        // Upside down.
        #expect(FaceLandmarks.rotation(Self.eyes(left: (200.5, 100), right: (100.5, 100))) == 180)
        // Pupils win when all eight points are present.
        var k = Self.eyes(left: (100.5, 100), right: (200.5, 100))
        for i in 68...71 { k[i] = Keypoint(x: 100, y: 100, confidence: 0.9) }
        for i in 72...75 { k[i] = Keypoint(x: 200, y: 200, confidence: 0.9) }
        #expect(FaceLandmarks.rotation(k) == 45)
        k[73].confidence = 0
        #expect(FaceLandmarks.rotation(k) == 0)
        // No complete eye pair: no rotation.
        k[40].confidence = 0
        #expect(FaceLandmarks.rotation(k) == nil)
        #expect(FaceLandmarks.rotation([]) == nil)
    }
}
