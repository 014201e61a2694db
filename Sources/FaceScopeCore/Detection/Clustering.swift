/// How FaceNet's candidate cells become faces, and which faces are kept.
public struct DetectionSettings: Sendable, Equatable {
    /// How overlapping candidates are merged.
    public enum Clustering: Sendable, Equatable {
        /// Greedy non-maximum suppression, most confident first: a candidate whose IoU with a
        /// kept face exceeds `iouThreshold` is dropped. A face's confidence is its cell's coverage.
        /// NVIDIA's Triton (nvinferserver) setting for FaceNet.
        case nms(iouThreshold: Double)
        /// DBSCAN on the distance `1 - IoU`, as TAO evaluates DetectNet_v2: candidates within
        /// `eps` of each other are neighbours; a candidate is a core point when the coverage summed
        /// over its neighbourhood (itself included) reaches `minSamples` (sklearn's DBSCAN with
        /// `sample_weight` = coverage; with all coverages 1 that is the usual neighbour count).
        /// A face is a cluster's coverage-weighted mean box; its confidence the summed coverage
        /// (which can exceed 1). Candidates in no cluster are dropped.
        case dbscan(eps: Double, minSamples: Double)
    }

    /// NVIDIA's Triton setting: keep cells with coverage of at least 0.2.
    public static let defaultCoverageThreshold = 0.2
    /// NVIDIA's Triton setting: NMS at IoU 0.5.
    public static let defaultNMSIoU = 0.5
    /// NVIDIA's Triton setting: at most 20 faces per image.
    public static let defaultTopK = 20
    /// DBSCAN as TAO's DetectNet_v2 specs commonly set it.
    public static let defaultDBSCAN = Clustering.dbscan(eps: 0.15, minSamples: 0.05)

    /// The minimum coverage of a candidate cell.
    public var coverageThreshold: Double
    /// How candidates are merged into faces.
    public var clustering: Clustering
    /// At most this many faces per image (the most confident).
    public var topK: Int
    /// Faces narrower or shorter than this many pixels of the original image are dropped.
    public var minimumFaceSize: Double

    /// The settings; the defaults are NVIDIA's Triton clustering for FaceNet and no size limit.
    public init(
        coverageThreshold: Double = DetectionSettings.defaultCoverageThreshold,
        clustering: Clustering = .nms(iouThreshold: DetectionSettings.defaultNMSIoU),
        topK: Int = DetectionSettings.defaultTopK, minimumFaceSize: Double = 0
    ) {
        self.coverageThreshold = coverageThreshold
        self.clustering = clustering
        self.topK = topK
        self.minimumFaceSize = minimumFaceSize
    }
}

/// Merges overlapping candidate boxes into faces.
public enum FaceClustering {
    /// Candidate indices by confidence, highest first, ties in input order.
    static func byConfidence(_ items: [Detection]) -> [Int] {
        items.indices.sorted { a, b in
            items[a].confidence != items[b].confidence ? items[a].confidence > items[b].confidence : a < b
        }
    }

    /// Greedy NMS: candidates most confident first; one whose IoU with an already kept face is
    /// greater than `iouThreshold` is dropped. At most `topK` faces (nil: no limit).
    public static func nms(_ candidates: [Detection], iouThreshold: Double, topK: Int? = nil) -> [Detection] {
        var kept: [Detection] = []
        for index in byConfidence(candidates) {
            if let topK, kept.count >= topK { break }
            let box = candidates[index].box
            if kept.contains(where: { $0.box.iou(box) > iouThreshold }) { continue }
            kept.append(candidates[index])
        }
        return kept
    }

    /// DBSCAN on `1 - IoU` with coverage as sample weight (see `DetectionSettings.Clustering.dbscan`).
    /// Clusters grow from core points in input order, as sklearn's do; a border point belongs to the
    /// first cluster that reaches it. Returns one face per cluster, most confident first.
    public static func dbscan(_ candidates: [Detection], eps: Double, minSamples: Double) -> [Detection] {
        let n = candidates.count
        guard n > 0 else { return [] }
        var neighbours = [[Int]](repeating: [], count: n)
        for i in 0..<n {
            neighbours[i].append(i)
            for j in (i + 1)..<n where 1 - candidates[i].box.iou(candidates[j].box) <= eps {
                neighbours[i].append(j)
                neighbours[j].append(i)
            }
        }
        let isCore = neighbours.map { list in list.reduce(0.0) { $0 + candidates[$1].confidence } >= minSamples }
        var label = [Int](repeating: -1, count: n)
        var clusters: [[Int]] = []
        for start in 0..<n where label[start] == -1 && isCore[start] {
            let id = clusters.count
            var members: [Int] = []
            var stack = [start]
            label[start] = id
            while let point = stack.popLast() {
                members.append(point)
                guard isCore[point] else { continue }
                for next in neighbours[point] where label[next] == -1 {
                    label[next] = id
                    stack.append(next)
                }
            }
            clusters.append(members.sorted())
        }
        var faces: [Detection] = []
        for members in clusters {
            var total = 0.0
            var x1 = 0.0
            var y1 = 0.0
            var x2 = 0.0
            var y2 = 0.0
            for m in members {
                let w = candidates[m].confidence
                let b = candidates[m].box
                total += w
                x1 += w * b.x1
                y1 += w * b.y1
                x2 += w * b.x2
                y2 += w * b.y2
            }
            guard total > 0 else { continue }
            faces.append(
                Detection(
                    box: DetectionBox(x1: x1 / total, y1: y1 / total, x2: x2 / total, y2: y2 / total), confidence: total
                ))
        }
        return byConfidence(faces).map { faces[$0] }
    }
}
