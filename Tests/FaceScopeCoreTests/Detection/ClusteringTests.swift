import Testing

@testable import FaceScopeCore

@Suite struct ClusteringTests {
    static func d(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, _ c: Double) -> Detection {
        Detection(box: DetectionBox(x1: x1, y1: y1, x2: x2, y2: y2), confidence: c)
    }

    @Test func defaultsAreNVIDIAsTritonSettings() {
        let s = DetectionSettings()
        #expect(s.coverageThreshold == 0.2 && s.clustering == .nms(iouThreshold: 0.5) && s.topK == 20)
        #expect(s.minimumFaceSize == 0)
    }

    @Test func nmsSuppressesDuplicatesAndKeepsDistinctFaces() {
        let candidates = [
            Self.d(100, 100, 200, 200, 0.6),
            Self.d(102, 101, 201, 203, 0.9),  // the best of the duplicates
            Self.d(98, 99, 199, 198, 0.4),
            Self.d(300, 100, 400, 200, 0.5),  // distinct
            Self.d(150, 100, 250, 200, 0.3),  // IoU 1/3 with the first: kept
        ]
        let kept = FaceClustering.nms(candidates, iouThreshold: 0.5)
        #expect(kept == [candidates[1], candidates[3], candidates[4]])
        #expect(FaceClustering.nms(candidates, iouThreshold: 0.5, topK: 2) == [candidates[1], candidates[3]])
        // IoU exactly at the threshold is kept (only "more than" suppresses).
        let half = [Self.d(0, 0, 30, 10, 0.9), Self.d(10, 0, 40, 10, 0.8)]
        #expect(half[0].box.iou(half[1].box) == 0.5)
        #expect(FaceClustering.nms(half, iouThreshold: 0.5).count == 2)
    }

    @Test func dbscanMergesAClusterWeightedByCoverage() {
        let candidates = [
            Self.d(100, 100, 200, 200, 0.9),
            Self.d(110, 100, 210, 200, 0.6),
            Self.d(105, 110, 205, 210, 0.3),
            Self.d(400, 300, 450, 350, 0.5),  // alone
        ]
        let faces = FaceClustering.dbscan(candidates, eps: 0.4, minSamples: 1.0)
        #expect(faces.count == 1, "the lone box (weight 0.5 < 1) is noise")
        let f = faces[0]
        #expect(abs(f.confidence - 1.8) < 1e-12)
        #expect(abs(f.box.x1 - (0.9 * 100 + 0.6 * 110 + 0.3 * 105) / 1.8) < 1e-9)
        #expect(abs(f.box.y1 - (0.9 * 100 + 0.6 * 100 + 0.3 * 110) / 1.8) < 1e-9)
        #expect(abs(f.box.x2 - (0.9 * 200 + 0.6 * 210 + 0.3 * 205) / 1.8) < 1e-9)
        #expect(f.probability == 100)
        // With a small minSamples the lone box is a cluster of its own, after the stronger one.
        let both = FaceClustering.dbscan(candidates, eps: 0.4, minSamples: 0.05)
        #expect(both.count == 2 && both[1] == candidates[3])
        // A tight eps splits the cluster: only IoU >= 0.95 neighbours.
        #expect(FaceClustering.dbscan(candidates, eps: 0.05, minSamples: 0.05).count == 4)
    }

    @Test func dbscanThroughTheDecoder() throws {
        var grid = GridTensors()
        grid.set(row: 10, column: 10, coverage: 0.5, t: (1, 1, 1, 1))
        grid.set(row: 10, column: 11, coverage: 0.5, t: (1.5, 1, 0.5, 1))  // the box 1.5 px left, one cell right
        let settings = DetectionSettings(clustering: .dbscan(eps: 0.2, minSamples: 0.5))
        let faces = try GridBox.faces(
            coverage: grid.coverage, boxes: grid.boxes, transform: identity, settings: settings)
        #expect(faces.count == 1)
        #expect(faces[0].confidence == 1.0 && faces[0].probability == 100)
        #expect(faces[0].box == DetectionBox(x1: 124.75, y1: 125.5, x2: 194.75, y2: 195.5))
    }

    @Test func minimumFaceSizeIsMeasuredInTheImage() throws {
        var grid = GridTensors()
        grid.set(row: 5, column: 5, coverage: 0.9, t: (0.25, 0.25, 0.25, 0.25))  // 17.5 px square
        grid.set(row: 15, column: 30, coverage: 0.8, t: (1, 1, 1, 1))  // 70 px square
        let transform = ImageTransform.stretch(imageWidth: 1472, imageHeight: 832)  // 2x
        var settings = DetectionSettings(minimumFaceSize: 36)
        var faces = try GridBox.faces(
            coverage: grid.coverage, boxes: grid.boxes, transform: transform, settings: settings)
        #expect(faces.count == 1 && faces[0].box.width == 140)
        settings.minimumFaceSize = 35
        faces = try GridBox.faces(coverage: grid.coverage, boxes: grid.boxes, transform: transform, settings: settings)
        #expect(faces.count == 2)
        // top-k counts the faces that pass the size filter.
        settings = DetectionSettings(topK: 1, minimumFaceSize: 36)
        faces = try GridBox.faces(coverage: grid.coverage, boxes: grid.boxes, transform: transform, settings: settings)
        #expect(faces.count == 1 && faces[0].confidence == Double(Float(0.8)))
    }
}
