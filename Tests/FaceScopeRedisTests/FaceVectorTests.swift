import FaceScopeCore
import FaceScopeRedis
import Testing

/// The store as clustering's port, against the real Redis Stack.
@Suite("Face vectors in the store", .enabled(if: TestRedis.available))
struct FaceVectorTests {
    static func vector(_ axis: Int, _ jitter: Float = 0) -> [Float] {
        var v = [Float](repeating: 0, count: 128)
        v[axis] = 0.7
        v[127] = jitter
        return v
    }

    static func photo(_ name: String, _ faces: [(label: Int?, vector: [Float])]) -> ImageDocument {
        ImageDocument(
            pk: "", filename: name,
            faces: faces.enumerated().map { i, item in
                var face = Face(
                    pk: "", bbox: BoundingBox(pk: "", x1: i * 20, y1: 0, x2: i * 20 + 10, y2: 10), probability: 90,
                    label: item.label)
                face.embedding = item.vector
                return face
            }, channels: 3, height: 10, width: 100)
    }

    @Test("the largest label is found by halving ranges; none when nobody has a label")
    func largestLabel() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        _ = try store.saveAll([Self.photo("none.jpg", [(nil, Self.vector(1))])])
        #expect(try store.largestLabel() == nil)
        _ = try store.saveAll([
            Self.photo("a.jpg", [(3, Self.vector(1)), (1037, Self.vector(2))]),
            Self.photo("b.jpg", [(0, Self.vector(3))]),
        ])
        #expect(try store.largestLabel() == 1037)
        // A name outlives its faces (they were replaced): its label is still taken.
        try store.rename(label: 2000, to: "Ada")
        #expect(try store.largestLabel() == 2000)
    }

    @Test("nearest labelled faces come through the vector index, closest first; faces stream in batches")
    func nearest() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        _ = try store.saveAll([
            Self.photo("near.jpg", [(5, Self.vector(1, 0.05))]), Self.photo("far.jpg", [(6, Self.vector(2))]),
            Self.photo("unlabelled.jpg", [(nil, Self.vector(1, 0.01))]),
        ])
        let found = try store.nearestLabelledFaces(to: Self.vector(1), k: 2)
        #expect(found.map(\.face.label) == [5, 6])
        #expect((found.first?.distance ?? 1) < 0.1)
        var unlabelled: [FaceVector] = []
        try store.forEachFaceVector(unlabelledOnly: true) { unlabelled += $0 }
        #expect(unlabelled.count == 1 && unlabelled.first?.label == nil)
    }
}
