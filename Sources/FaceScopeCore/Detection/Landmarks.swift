import Foundation

/// One facial keypoint in image pixels, with FPENet's confidence (0 when the model did not place it).
public struct Keypoint: Sendable, Equatable {
    public var x: Double
    public var y: Double
    public var confidence: Double

    /// A keypoint from its position and confidence.
    public init(x: Double, y: Double, confidence: Double) {
        self.x = x
        self.y = y
        self.confidence = confidence
    }
}

/// The part of the image FPENet saw: a rectangle in image pixels (fractional where the crop was
/// resampled), stretched to 80x80.
public struct FaceCrop: Sendable, Equatable {
    public var x0: Double
    public var y0: Double
    public var width: Double
    public var height: Double

    /// A crop from its top-left corner and size.
    public init(x0: Double, y0: Double, width: Double, height: Double) {
        self.x0 = x0
        self.y0 = y0
        self.width = width
        self.height = height
    }

    /// A point of the 80x80 model input mapped to image pixels: `X = x80 * width / 80 + x0`.
    public func toImage(x: Double, y: Double) -> (x: Double, y: Double) {
        let size = Double(FPENet.inputSize)
        return (x * width / size + x0, y * height / size + y0)
    }
}

/// FPENet's 80-keypoint model (TAO deployable_v3.0).
public enum FPENet {
    /// The side of the square gray input, in pixels.
    public static let inputSize = 80
    /// Keypoints per face.
    public static let keypointCount = 80

    /// The keypoints of one face of a batch, mapped back to image pixels.
    ///
    /// - Parameters:
    ///   - coordinates: `softargmax` of the batch, `[N,80,2]` (x, y in 80x80 input pixels).
    ///   - confidences: `softargmax:1` of the batch, `[N,80]`.
    ///   - faceIndex: which face of the batch.
    ///   - crop: where that face's input was cut from the image.
    /// - Throws: `InferenceError` (a malformed reply) when the buffers are too small for `faceIndex`.
    public static func keypoints(
        coordinates: UnsafeBufferPointer<Float>, confidences: UnsafeBufferPointer<Float>, faceIndex: Int = 0,
        crop: FaceCrop
    ) throws(InferenceError) -> [Keypoint] {
        let base = faceIndex * keypointCount
        guard faceIndex >= 0, coordinates.count >= 2 * (base + keypointCount),
            confidences.count >= base + keypointCount
        else {
            throw .malformedReply(
                "FPENet output too small for face \(faceIndex): \(coordinates.count) coordinates and "
                    + "\(confidences.count) confidences")
        }
        return (0..<keypointCount).map { k in
            let p = crop.toImage(x: Double(coordinates[2 * (base + k)]), y: Double(coordinates[2 * (base + k) + 1]))
            return Keypoint(x: p.x, y: p.y, confidence: Double(confidences[base + k]))
        }
    }

    /// `keypoints` over arrays.
    public static func keypoints(
        coordinates: [Float], confidences: [Float], faceIndex: Int = 0, crop: FaceCrop
    ) throws(InferenceError) -> [Keypoint] {
        let result: Result<[Keypoint], InferenceError> = coordinates.withUnsafeBufferPointer { xy in
            confidences.withUnsafeBufferPointer { conf in
                do throws(InferenceError) {
                    return .success(try keypoints(coordinates: xy, confidences: conf, faceIndex: faceIndex, crop: crop))
                } catch {
                    return .failure(error)
                }
            }
        }
        return try result.get()
    }
}

/// The facial regions of the stored `descriptors`, with their 0-based keypoint ranges (the
/// iBUG 68-point markup plus FPENet's pupils and ears, as TAO's flip map fixes them).
public enum LandmarkRegion: String, Sendable, CaseIterable {
    case chin, eyebrows, nose, eyes, mouth, lips, pupil, ears

    /// The keypoint indices of this region.
    public var indices: ClosedRange<Int> {
        switch self {
        case .chin: return 0...16
        case .eyebrows: return 17...26
        case .nose: return 27...35
        case .eyes: return 36...47
        case .mouth: return 48...60
        case .lips: return 61...67
        case .pupil: return 68...75
        case .ears: return 76...79
        }
    }

    /// The region a keypoint index belongs to; nil outside 0...79.
    public static func region(of index: Int) -> LandmarkRegion? {
        allCases.first { $0.indices.contains(index) }
    }
}

/// A keypoint as stored in `descriptors`: its global index and rounded image position.
public struct LandmarkPoint: Sendable, Equatable {
    public var index: Int
    public var x: Int
    public var y: Int

    /// A point from its index and position.
    public init(index: Int, x: Int, y: Int) {
        self.index = index
        self.x = x
        self.y = y
    }

    /// The region of `index`, if it is one of the 80 known keypoints.
    public var region: LandmarkRegion? { LandmarkRegion.region(of: index) }
}

/// What FaceScope stores about a face's landmarks: `descriptors` and `rotation`.
public enum FaceLandmarks {
    /// The `descriptors` object: `{"chin": {"0": {"x": 12, "y": 34}, ...}, "eyebrows": {...}, ...}`,
    /// regions in `LandmarkRegion` order, keys the global keypoint index as a string, positions
    /// rounded image pixels. Keypoints with confidence 0 (or not finite) are left out, and so is a
    /// region left empty: a 68-point model's output has no `pupil` and `ears`.
    public static func descriptors(_ keypoints: [Keypoint]) -> JSONValue {
        var regions: [(String, JSONValue)] = []
        for region in LandmarkRegion.allCases {
            var points: [(String, JSONValue)] = []
            for index in region.indices where index < keypoints.count {
                let k = keypoints[index]
                guard k.confidence > 0, k.x.isFinite, k.y.isFinite, abs(k.x) < 1e15, abs(k.y) < 1e15 else {
                    continue
                }
                points.append(
                    (String(index), .object([("x", .int(Int64(pixel(k.x)))), ("y", .int(Int64(pixel(k.y))))])))
            }
            if !points.isEmpty { regions.append((region.rawValue, .object(points))) }
        }
        return .object(regions)
    }

    /// The points of a stored `descriptors` object, sorted by index: the inverse of `descriptors`,
    /// for drawing. Region names are not checked (the index says where a point belongs).
    public static func points(fromDescriptors descriptors: JSONValue) throws(DocumentFormatError) -> [LandmarkPoint] {
        guard case .object(let regions) = descriptors else {
            throw DocumentFormatError("descriptors is not an object")
        }
        var points: [LandmarkPoint] = []
        for (name, value) in regions {
            guard case .object(let members) = value else {
                throw DocumentFormatError("descriptors.\(name) is not an object")
            }
            for (key, point) in members {
                guard let index = Int(key), index >= 0 else {
                    throw DocumentFormatError("descriptors.\(name) has a key '\(key)' that is not an index")
                }
                guard let x = point["x"]?.doubleValue, let y = point["y"]?.doubleValue, x.isFinite, y.isFinite,
                    abs(x) < 1e15, abs(y) < 1e15
                else {
                    throw DocumentFormatError("descriptors.\(name).\(key) lacks numeric x and y")
                }
                points.append(LandmarkPoint(index: index, x: pixel(x), y: pixel(y)))
            }
        }
        return points.sorted { $0.index < $1.index }
    }

    /// The in-plane roll in degrees, rounded: the angle of the line from the image-left eye to the
    /// image-right eye, measured from the image's x axis with y pointing down, so a positive angle
    /// is a clockwise tilt on screen (the right-hand eye lower than the left-hand one). Uses the
    /// pupil centres (means of keypoints 68-71 and 72-75) when all eight have confidence > 0, else
    /// the eye centres (means of 36-41 and 42-47); nil when neither pair is complete.
    public static func rotation(_ keypoints: [Keypoint]) -> Int? {
        func centre(_ range: ClosedRange<Int>) -> (x: Double, y: Double)? {
            guard range.upperBound < keypoints.count else { return nil }
            var x = 0.0
            var y = 0.0
            for i in range {
                guard keypoints[i].confidence > 0 else { return nil }
                x += keypoints[i].x
                y += keypoints[i].y
            }
            let n = Double(range.count)
            return (x / n, y / n)
        }
        let pair: ((x: Double, y: Double), (x: Double, y: Double))
        if let left = centre(68...71), let right = centre(72...75) {
            pair = (left, right)
        } else if let left = centre(36...41), let right = centre(42...47) {
            pair = (left, right)
        } else {
            return nil
        }
        let dx = pair.1.x - pair.0.x
        let dy = pair.1.y - pair.0.y
        guard dx.isFinite, dy.isFinite, dx != 0 || dy != 0 else { return nil }
        return Int((Foundation.atan2(dy, dx) * 180 / Double.pi).rounded())
    }
}
