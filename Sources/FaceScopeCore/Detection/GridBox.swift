/// FaceNet's DetectNet_v2 "GridBox" output: a 26x46 grid of 16x16-pixel cells over the 736x416
/// network frame. For the cell at row r, column c with coverage `cov[r][c]` and raw box outputs
/// t0...t3 the candidate box, in network pixels, is
///
///     x1 = 16c + 0.5 - 35*t0    y1 = 16r + 0.5 - 35*t1
///     x2 = 16c + 0.5 + 35*t2    y2 = 16r + 0.5 + 35*t3
///
/// clipped to the frame (the 0.5 is half a pixel, as in DeepStream, TAO and NVIDIA's Triton apps).
public enum GridBox {
    /// The network frame's width in pixels.
    public static let networkWidth = 736
    /// The network frame's height in pixels.
    public static let networkHeight = 416
    /// Grid rows.
    public static let rows = 26
    /// Grid columns.
    public static let columns = 46
    /// Cells per image.
    public static let cellCount = rows * columns
    /// Pixels per cell along each axis.
    public static let stride = 16.0
    /// The anchor's offset inside its cell, in pixels.
    public static let cellOffset = 0.5
    /// The scale of the raw box outputs, in pixels.
    public static let boxNorm = 35.0
    /// Floats of `output_cov/Sigmoid` per image ([1,26,46]).
    public static let coverageCount = cellCount
    /// Floats of `output_bbox/BiasAdd` per image ([4,26,46]).
    public static let boxCount = 4 * cellCount

    /// The candidate cells of one image whose coverage is at least `threshold`, in row-major cell
    /// order, as boxes in network pixels clipped to the frame with the cell's coverage as confidence.
    ///
    /// - Parameters:
    ///   - coverage: `output_cov/Sigmoid` of a batch, `[N,1,26,46]` (or `[1,26,46]` for one image).
    ///   - boxes: `output_bbox/BiasAdd` of the same batch, `[N,4,26,46]`.
    ///   - imageIndex: which image of the batch to decode.
    ///   - threshold: the minimum coverage of a candidate.
    /// - Throws: `InferenceError` (a malformed reply) when the buffers are too small for `imageIndex`.
    public static func decode(
        coverage: UnsafeBufferPointer<Float>, boxes: UnsafeBufferPointer<Float>, imageIndex: Int = 0,
        threshold: Double = DetectionSettings.defaultCoverageThreshold
    ) throws(InferenceError) -> [Detection] {
        let covBase = imageIndex * coverageCount
        let boxBase = imageIndex * boxCount
        guard imageIndex >= 0, coverage.count >= covBase + coverageCount, boxes.count >= boxBase + boxCount else {
            throw .malformedReply(
                "FaceNet output too small for image \(imageIndex): \(coverage.count) coverage and \(boxes.count) box "
                    + "values, expected at least \(covBase + coverageCount) and \(boxBase + boxCount)")
        }
        let width = Double(networkWidth)
        let height = Double(networkHeight)
        var result: [Detection] = []
        for r in 0..<rows {
            for c in 0..<columns {
                let cell = r * columns + c
                let score = Double(coverage[covBase + cell])
                guard score >= threshold else { continue }
                let ax = stride * Double(c) + cellOffset
                let ay = stride * Double(r) + cellOffset
                let t0 = Double(boxes[boxBase + cell])
                let t1 = Double(boxes[boxBase + cellCount + cell])
                let t2 = Double(boxes[boxBase + 2 * cellCount + cell])
                let t3 = Double(boxes[boxBase + 3 * cellCount + cell])
                // A broken model's NaN or infinity must not become a box.
                guard score.isFinite, t0.isFinite, t1.isFinite, t2.isFinite, t3.isFinite else { continue }
                let box = DetectionBox(
                    x1: ax - boxNorm * t0, y1: ay - boxNorm * t1, x2: ax + boxNorm * t2, y2: ay + boxNorm * t3)
                result.append(Detection(box: box.clipped(width: width, height: height), confidence: score))
            }
        }
        return result
    }

    /// `decode` over arrays.
    public static func decode(
        coverage: [Float], boxes: [Float], imageIndex: Int = 0,
        threshold: Double = DetectionSettings.defaultCoverageThreshold
    ) throws(InferenceError) -> [Detection] {
        let result: Result<[Detection], InferenceError> = coverage.withUnsafeBufferPointer { cov in
            boxes.withUnsafeBufferPointer { box in
                do throws(InferenceError) {
                    return .success(
                        try decode(coverage: cov, boxes: box, imageIndex: imageIndex, threshold: threshold))
                } catch {
                    return .failure(error)
                }
            }
        }
        return try result.get()
    }

    /// The faces of one image: candidates decoded, clustered as `settings` say, mapped to the
    /// original image with `transform`, faces smaller than `settings.minimumFaceSize` dropped, and
    /// at most `settings.topK` kept, most confident first.
    public static func faces(
        coverage: UnsafeBufferPointer<Float>, boxes: UnsafeBufferPointer<Float>, imageIndex: Int = 0,
        transform: ImageTransform, settings: DetectionSettings = DetectionSettings()
    ) throws(InferenceError) -> [Detection] {
        let candidates = try decode(
            coverage: coverage, boxes: boxes, imageIndex: imageIndex, threshold: settings.coverageThreshold)
        return postprocess(candidates: candidates, transform: transform, settings: settings)
    }

    /// `faces` over arrays.
    public static func faces(
        coverage: [Float], boxes: [Float], imageIndex: Int = 0, transform: ImageTransform,
        settings: DetectionSettings = DetectionSettings()
    ) throws(InferenceError) -> [Detection] {
        let candidates = try decode(
            coverage: coverage, boxes: boxes, imageIndex: imageIndex, threshold: settings.coverageThreshold)
        return postprocess(candidates: candidates, transform: transform, settings: settings)
    }

    /// Clusters decoded candidates (network pixels) and maps the faces to the image.
    public static func postprocess(
        candidates: [Detection], transform: ImageTransform, settings: DetectionSettings
    ) -> [Detection] {
        let clustered: [Detection]
        switch settings.clustering {
        case .nms(let iou):
            clustered = FaceClustering.nms(candidates, iouThreshold: iou)
        case .dbscan(let eps, let minSamples):
            clustered = FaceClustering.dbscan(candidates, eps: eps, minSamples: minSamples)
        }
        var faces: [Detection] = []
        for face in clustered {
            if faces.count >= settings.topK { break }
            let box = transform.toImage(face.box)
            guard box.width >= settings.minimumFaceSize, box.height >= settings.minimumFaceSize,
                box.width > 0, box.height > 0
            else { continue }
            faces.append(Detection(box: box, confidence: face.confidence))
        }
        return faces
    }

    /// Writes faces into GridBox tensors the way the CPU backend does, so that `decode` with NMS
    /// recovers them: each face takes the cell holding its box centre, or the nearest free cell
    /// (smallest squared cell distance, first in row-major order on ties) when a more confident
    /// face already took it. For test doubles and tests.
    ///
    /// - Parameter faces: boxes in network pixels, already clipped to the frame, with coverages.
    /// - Returns: `(coverage [1,26,46], boxes [4,26,46])`; cells without a face have coverage 0.
    public static func encode(_ faces: [Detection]) -> (coverage: [Float], boxes: [Float]) {
        var coverage = [Float](repeating: 0, count: coverageCount)
        var raw = [Float](repeating: 0, count: boxCount)
        var used = [Bool](repeating: false, count: cellCount)
        let order = faces.indices.sorted { a, b in
            faces[a].confidence != faces[b].confidence ? faces[a].confidence > faces[b].confidence : a < b
        }
        for index in order.prefix(cellCount) {
            let box = faces[index].box
            let cx = (box.x1 + box.x2) / 2
            let cy = (box.y1 + box.y2) / 2
            var row = min(max(Int((cy / stride).rounded(.down)), 0), rows - 1)
            var col = min(max(Int((cx / stride).rounded(.down)), 0), columns - 1)
            if used[row * columns + col] {
                var best = Int.max
                var bestCell = 0
                for cell in 0..<cellCount where !used[cell] {
                    let dr = cell / columns - row
                    let dc = cell % columns - col
                    let distance = dr * dr + dc * dc
                    if distance < best {
                        best = distance
                        bestCell = cell
                    }
                }
                row = bestCell / columns
                col = bestCell % columns
            }
            let cell = row * columns + col
            used[cell] = true
            let ax = stride * Double(col) + cellOffset
            let ay = stride * Double(row) + cellOffset
            raw[cell] = Float((ax - box.x1) / boxNorm)
            raw[cellCount + cell] = Float((ay - box.y1) / boxNorm)
            raw[2 * cellCount + cell] = Float((box.x2 - ax) / boxNorm)
            raw[3 * cellCount + cell] = Float((box.y2 - ay) / boxNorm)
            coverage[cell] = Float(faces[index].confidence)
        }
        return (coverage, raw)
    }
}
