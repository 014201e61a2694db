import Testing

@testable import FaceScopeCore

@Suite("Re-detection keeps labels of faces that overlap a new box")
struct FaceMergeTests {
    func face(_ x1: Int, _ y1: Int, _ x2: Int, _ y2: Int, label: Int? = nil, pk: String = "") -> Face {
        Face(pk: pk, bbox: BoundingBox(pk: "", x1: x1, y1: y1, x2: x2, y2: y2), probability: 90, label: label)
    }

    @Test("replace mode returns the new faces as they are")
    func replace() {
        let old = [face(0, 0, 10, 10, label: 3)]
        let new = [face(0, 0, 10, 10)]
        #expect(FaceMerge.merge(existing: old, detected: new, mode: .replace) == new)
    }

    @Test("fields other tools wrote into a face and its box survive re-detection; the descriptor does not")
    func keepsNestedUnknownFields() throws {
        let stored = try ImageDocument(
            json: try JSONValue.parse(
                #"{"pk":"P","filename":"a.jpg","faces":[{"pk":"F","bbox":{"pk":"B","x1":0,"y1":0,"x2":100,"y2":100,"source":"manual"},"probability":90,"label":4,"rotation":0,"descriptors":null,"age":31,"tags":["x"],"embedding":[0.5]}],"channels":3,"height":200,"width":200,"portrait":0,"album":"trip"}"#
            ))
        var fresh = face(4, 2, 100, 100)
        fresh.embedding = [0.25]
        let detected = ImageDocument(pk: "", filename: "a.jpg", faces: [fresh, face(150, 150, 190, 190)])
        for mode in FaceMergeMode.allCases {
            let merged = FaceMerge.updated(existing: stored, detected: detected, mode: mode)
            let json = merged.json
            #expect(json["album"]?.stringValue == "trip")
            let first = merged.faces?.first
            #expect(first?.extra.first { $0.name == "age" }?.value.intValue == 31)
            #expect(first?.extra.first { $0.name == "tags" } != nil)
            #expect(first?.embedding == [0.25])
            #expect(first?.bbox.extra.first { $0.name == "source" }?.value.stringValue == "manual")
            #expect(merged.faces?.last?.extra.isEmpty == true)
            #expect(first?.label == (mode == .keepLabels ? 4 : nil))
            // Written back, the nested fields are in the JSON.
            let reread = try ImageDocument(json: try JSONValue.parse(json.serialized))
            #expect(reread.faces?.first?.bbox.extra.count == 1)
        }
    }

    @Test("a new box overlapping an old face by more than 0.5 takes its label")
    func keepsOverlapping() {
        let old = [face(0, 0, 100, 100, label: 3), face(200, 200, 300, 300, label: 5)]
        let new = [face(210, 205, 305, 300), face(5, 5, 100, 100), face(500, 500, 600, 600)]
        let merged = FaceMerge.merge(existing: old, detected: new, mode: .keepLabels)
        #expect(merged.map(\.label) == [5, 3, nil])
        // Boxes and order are the new detection's.
        #expect(merged.map(\.bbox) == new.map(\.bbox))
    }

    @Test("IoU of exactly 0.5 or less does not carry a label")
    func threshold() {
        let old = [face(0, 0, 30, 10, label: 1)]
        let half = [face(10, 0, 40, 10)]  // intersection 20x10 = 200, union 400: IoU 0.5
        #expect(FaceMerge.merge(existing: old, detected: half, mode: .keepLabels).first?.label == nil)
        let more = [face(9, 0, 39, 10)]  // intersection 210, union 390: IoU 0.54
        #expect(FaceMerge.merge(existing: old, detected: more, mode: .keepLabels).first?.label == 1)
    }

    @Test("one old face gives its label to one new face only: the best overlap")
    func oneToOne() {
        let old = [face(0, 0, 100, 100, label: 7)]
        let new = [face(20, 0, 120, 100), face(2, 0, 102, 100)]
        let merged = FaceMerge.merge(existing: old, detected: new, mode: .keepLabels)
        #expect(merged.map(\.label) == [nil, 7])
    }

    @Test("old faces without a label pass none on; a new face keeps its own label otherwise")
    func unlabelled() {
        let old = [face(0, 0, 100, 100, label: nil)]
        let new = [face(0, 0, 100, 100, label: 2)]
        #expect(FaceMerge.merge(existing: old, detected: new, mode: .keepLabels).first?.label == 2)
    }

    @Test("the updated document keeps the stored pk and extra fields, with the new size and faces")
    func updatedDocument() {
        let stored = ImageDocument(
            pk: "OLDPK", filename: "a.jpg", faces: [face(0, 0, 100, 100, label: 4)], channels: 3, height: 1, width: 1,
            portrait: 0, extra: [ExtraField(name: "mine", value: .string("kept"))])
        let detected = ImageDocument(
            pk: "", filename: "a.jpg", faces: [face(1, 1, 100, 100), face(300, 300, 400, 400)], channels: 3,
            height: 886, width: 1280, portrait: 0)
        let kept = FaceMerge.updated(existing: stored, detected: detected, mode: .keepLabels)
        #expect(kept.pk == "OLDPK")
        #expect(kept.extra == stored.extra)
        #expect(kept.width == 1280 && kept.height == 886)
        #expect(kept.faces?.map(\.label) == [4, nil])
        let replaced = FaceMerge.updated(existing: stored, detected: detected, mode: .replace)
        #expect(replaced.faces?.map(\.label) == [nil, nil])
        #expect(FaceMerge.updated(existing: nil, detected: detected, mode: .keepLabels) == detected)
    }
}
