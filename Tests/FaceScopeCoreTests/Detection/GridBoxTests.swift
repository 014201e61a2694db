import Testing

@testable import FaceScopeCore

/// Empty FaceNet outputs for one image, with helpers to set one cell.
struct GridTensors {
    var coverage = [Float](repeating: 0, count: GridBox.coverageCount)
    var boxes = [Float](repeating: 0, count: GridBox.boxCount)

    mutating func set(row: Int, column: Int, coverage cov: Float, t: (Float, Float, Float, Float)) {
        let cell = row * GridBox.columns + column
        coverage[cell] = cov
        boxes[cell] = t.0
        boxes[GridBox.cellCount + cell] = t.1
        boxes[2 * GridBox.cellCount + cell] = t.2
        boxes[3 * GridBox.cellCount + cell] = t.3
    }
}

/// The identity transform: image = network frame.
let identity = ImageTransform.stretch(imageWidth: GridBox.networkWidth, imageHeight: GridBox.networkHeight)

@Suite struct GridBoxDecodeTests {
    @Test func singleCellDecodesExactly() throws {
        var grid = GridTensors()
        grid.set(row: 10, column: 20, coverage: 0.75, t: (1, 0.5, 1.25, 0.75))
        let candidates = try GridBox.decode(coverage: grid.coverage, boxes: grid.boxes)
        #expect(
            candidates == [Detection(box: DetectionBox(x1: 285.5, y1: 143, x2: 364.25, y2: 186.75), confidence: 0.75)])
        let faces = try GridBox.faces(coverage: grid.coverage, boxes: grid.boxes, transform: identity)
        #expect(faces == candidates)
        #expect(faces[0].probability == 75)
        #expect(faces[0].box.boundingBox(pk: "p") == BoundingBox(pk: "p", x1: 286, y1: 143, x2: 364, y2: 187))
    }

    @Test func coverageBelowThresholdIsIgnored() throws {
        var grid = GridTensors()
        grid.set(row: 3, column: 3, coverage: 0.19, t: (1, 1, 1, 1))
        grid.set(row: 5, column: 5, coverage: 0.2, t: (1, 1, 1, 1))
        let candidates = try GridBox.decode(coverage: grid.coverage, boxes: grid.boxes)
        #expect(candidates.count == 1)
        #expect(candidates[0].box == DetectionBox(x1: 45.5, y1: 45.5, x2: 115.5, y2: 115.5))
    }

    @Test func batchIndexSelectsTheImage() throws {
        var first = GridTensors()
        first.set(row: 1, column: 1, coverage: 0.9, t: (0.5, 0.5, 0.5, 0.5))
        var second = GridTensors()
        second.set(row: 20, column: 40, coverage: 0.8, t: (0.5, 0.5, 0.5, 0.5))
        let cov = first.coverage + second.coverage
        let box = first.boxes + second.boxes
        let b = try GridBox.decode(coverage: cov, boxes: box, imageIndex: 1)
        #expect(b == [Detection(box: DetectionBox(x1: 623, y1: 303, x2: 658, y2: 338), confidence: Double(Float(0.8)))])
        #expect(throws: InferenceError.self) { try GridBox.decode(coverage: cov, boxes: box, imageIndex: 2) }
        #expect(throws: InferenceError.self) { try GridBox.decode(coverage: [0.5], boxes: box) }
    }

    @Test func neighbouringCellsGiveDistinctFaces() throws {
        var grid = GridTensors()
        // Two small faces in adjacent cells: IoU 0, both kept, strongest first.
        grid.set(row: 8, column: 8, coverage: 0.6, t: (0.25, 0.25, 0.25, 0.25))
        grid.set(row: 8, column: 9, coverage: 0.9, t: (0.25, 0.25, 0.25, 0.25))
        let faces = try GridBox.faces(coverage: grid.coverage, boxes: grid.boxes, transform: identity)
        #expect(faces.map(\.confidence) == [Double(Float(0.9)), Double(Float(0.6))])
        #expect(faces[0].box == DetectionBox(x1: 135.75, y1: 119.75, x2: 153.25, y2: 137.25))
        #expect(faces[1].box == DetectionBox(x1: 119.75, y1: 119.75, x2: 137.25, y2: 137.25))
    }

    @Test func twoFacesWithTheSameHomeCellBothSurvive() throws {
        // Both centres fall in cell (10, 10); the weaker face moves to the nearest free cell.
        let a = Detection(box: DetectionBox(x1: 150, y1: 150, x2: 190, y2: 190), confidence: 0.9)
        let b = Detection(box: DetectionBox(x1: 165, y1: 140, x2: 175, y2: 200), confidence: 0.5)
        #expect(a.box.iou(b.box) < 0.5)
        let (cov, box) = GridBox.encode([a, b])
        #expect(cov[10 * GridBox.columns + 10] == 0.9)
        #expect(cov.filter { $0 > 0 }.count == 2)
        let faces = try GridBox.faces(coverage: cov, boxes: box, transform: identity)
        #expect(faces.count == 2)
        #expect(abs(faces[0].box.x1 - 150) < 1e-4 && abs(faces[1].box.y2 - 200) < 1e-4)
    }

    @Test func boxesAtTheFrameEdgeAreClipped() throws {
        var grid = GridTensors()
        grid.set(row: 0, column: 0, coverage: 0.9, t: (2, 2, 1, 1))
        grid.set(row: 25, column: 45, coverage: 0.8, t: (1, 1, 2, 2))
        let candidates = try GridBox.decode(coverage: grid.coverage, boxes: grid.boxes)
        #expect(candidates[0].box == DetectionBox(x1: 0, y1: 0, x2: 35.5, y2: 35.5))
        #expect(candidates[1].box == DetectionBox(x1: 720.5 - 35, y1: 400.5 - 35, x2: 736, y2: 416))
    }

    @Test func stretchScalesEachAxis() throws {
        var grid = GridTensors()
        grid.set(row: 10, column: 20, coverage: 0.75, t: (1, 0.5, 1.25, 0.75))
        let transform = ImageTransform.stretch(imageWidth: 1472, imageHeight: 208)
        let faces = try GridBox.faces(coverage: grid.coverage, boxes: grid.boxes, transform: transform)
        #expect(faces[0].box == DetectionBox(x1: 571, y1: 71.5, x2: 728.5, y2: 93.375))
    }

    @Test func letterboxUndoesScaleAndPadding() throws {
        // A 1000x2000 portrait: scale 0.208, 208 px wide at the top-left corner of the frame.
        let topLeft = ImageTransform.letterbox(imageWidth: 1000, imageHeight: 2000)
        #expect(topLeft.scaleX == 0.208 && topLeft.offsetX == 0)
        let box = DetectionBox(x1: 20.8, y1: 41.6, x2: 104, y2: 208)
        let mapped = topLeft.toImage(box)
        #expect(abs(mapped.x1 - 100) < 1e-9 && abs(mapped.y1 - 200) < 1e-9)
        #expect(abs(mapped.x2 - 500) < 1e-9 && abs(mapped.y2 - 1000) < 1e-9)
        // A box reaching into the padding is clipped to the image.
        let clipped = topLeft.toImage(DetectionBox(x1: 150, y1: 300, x2: 400, y2: 416))
        #expect(clipped.x2 == 1000 && clipped.y2 == 2000)
        // Centred: the padding is split and subtracted.
        let centred = ImageTransform.letterbox(imageWidth: 1000, imageHeight: 2000, centered: true)
        #expect(centred.offsetX == 264 && centred.offsetY == 0)
        let back = centred.toImage(centred.toNetwork(DetectionBox(x1: 10, y1: 20, x2: 30, y2: 40)))
        #expect(abs(back.x1 - 10) < 1e-9 && abs(back.y2 - 40) < 1e-9)
    }

    @Test func nonFiniteOutputsAreNotFaces() throws {
        var grid = GridTensors()
        grid.set(row: 2, column: 2, coverage: 0.9, t: (.nan, 1, 1, 1))
        grid.set(row: 3, column: 3, coverage: .infinity, t: (1, 1, 1, 1))
        grid.set(row: 4, column: 4, coverage: 0.9, t: (1, 1, -.infinity, 1))
        #expect(try GridBox.decode(coverage: grid.coverage, boxes: grid.boxes).isEmpty)
        let broken = DetectionBox(x1: .nan, y1: .infinity, x2: 1e300, y2: 2.5)
        #expect(broken.boundingBox() == BoundingBox(pk: "", x1: 0, y1: 0, x2: 1_000_000_000_000_000, y2: 3))
    }

    @Test func probabilityIsAClampedPercentage() {
        let box = DetectionBox(x1: 0, y1: 0, x2: 1, y2: 1)
        #expect(Detection(box: box, confidence: 0.874).probability == 87)
        #expect(Detection(box: box, confidence: 0.875).probability == 88)
        #expect(Detection(box: box, confidence: 2.6).probability == 100)
        #expect(Detection(box: box, confidence: -0.1).probability == 0)
        #expect(Detection(box: box, confidence: .nan).probability == 0)
    }
}

@Suite struct GridBoxRoundTripTests {
    @Test func randomScenesRoundTripThroughTheGrid() throws {
        var rng = SeededRandom(seed: 20_240_611)
        var faceTotal = 0
        var relocated = 0
        for _ in 0..<3000 {
            let want = Int.random(in: 1...GridBox.networkHeight / 20, using: &rng)
            var faces: [Detection] = []
            var tries = 0
            while faces.count < min(want, DetectionSettings.defaultTopK) && tries < 200 {
                tries += 1
                let w = Double.random(in: 8...220, using: &rng)
                let h = Double.random(in: 8...220, using: &rng)
                let x1 = Double.random(in: 0...(Double(GridBox.networkWidth) - w), using: &rng)
                let y1 = Double.random(in: 0...(Double(GridBox.networkHeight) - min(h, 415)), using: &rng)
                let box = DetectionBox(x1: x1, y1: y1, x2: x1 + w, y2: min(y1 + h, 416))
                // Margin under the 0.5 NMS threshold so float rounding cannot cross it.
                guard faces.allSatisfy({ $0.box.iou(box) < 0.49 }) else { continue }
                faces.append(Detection(box: box, confidence: Double.random(in: 0.21...1, using: &rng)))
            }
            let (cov, raw) = GridBox.encode(faces)
            relocated += faces.count - Set(faces.map { cellOf($0.box) }).count
            let decoded = try GridBox.faces(coverage: cov, boxes: raw, transform: identity)
            #expect(decoded.count == faces.count)
            for face in faces {
                let match = decoded.contains { d in
                    abs(d.box.x1 - face.box.x1) < 1e-3 && abs(d.box.y1 - face.box.y1) < 1e-3
                        && abs(d.box.x2 - face.box.x2) < 1e-3 && abs(d.box.y2 - face.box.y2) < 1e-3
                        && abs(d.confidence - face.confidence) < 1e-6
                }
                #expect(match, "face \(face.box) not recovered")
            }
            faceTotal += faces.count
        }
        #expect(faceTotal > 20_000)
        #expect(relocated > 100, "the scenes should exercise the nearest-free-cell rule")
    }

    private func cellOf(_ box: DetectionBox) -> Int {
        let row = min(Int(((box.y1 + box.y2) / 2 / 16).rounded(.down)), GridBox.rows - 1)
        let col = min(Int(((box.x1 + box.x2) / 2 / 16).rounded(.down)), GridBox.columns - 1)
        return row * GridBox.columns + col
    }
}
