import FaceScopeCore
import Testing

@testable import FaceScopeRedis

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

    @Test("faces stream with their pk, label, hand-set mark and descriptor, without whole documents")
    func streamedMembers() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        var fixed = Self.photo("fixed.jpg", [(4, Self.vector(5, 0.25)), (nil, Self.vector(6, -0.5))])
        fixed.faces?[0].labelFixed = true
        var bare = Self.photo("bare.jpg", [(nil, Self.vector(7))])
        bare.faces?[0].embedding = nil  // no descriptor: never a face vector
        let saved = try store.saveAll([fixed, bare, Self.photo("plain.jpg", [(9, Self.vector(8, 0.125))])])
        let documents = try saved.map { try $0.get() }
        var all: [FaceVector] = []
        try store.forEachFaceVector(unlabelledOnly: false) { all += $0 }
        let expected = documents.flatMap { document in
            (document.faces ?? []).compactMap { face in
                face.embedding.map {
                    FaceVector(
                        facePK: face.pk, documentPK: document.pk, label: face.label, labelFixed: face.labelFixed,
                        embedding: $0)
                }
            }
        }
        #expect(all.count == 3)
        #expect(Set(all.map(\.facePK)) == Set(expected.map(\.facePK)))
        for face in all {
            let twin = expected.first { $0.facePK == face.facePK }
            #expect(face == twin)
        }
        #expect(all.first { $0.label == 4 }?.labelFixed == true)
        var unlabelled: [FaceVector] = []
        try store.forEachFaceVector(unlabelledOnly: true) { unlabelled += $0 }
        #expect(unlabelled.map(\.embedding) == [Self.vector(6, -0.5)])
        #expect(unlabelled.first?.documentPK == documents[0].pk)
    }

    @Test("the flattened members read face by face; anything else is refused")
    func flattenedMembers() throws {
        let text = #"["a",null,[0.5,1],"b",3,true,[2],"c",null]"#
        let faces = try #require(RedisStore.faceVectors(text, documentPK: "D"))
        #expect(faces.map(\.facePK) == ["a", "b", "c"] && faces.map(\.label) == [nil, 3, nil])
        #expect(faces.map(\.labelFixed) == [false, true, false] && faces[0].embedding == [0.5, 1])
        #expect(faces[2].embedding.isEmpty && faces.allSatisfy { $0.documentPK == "D" })
        #expect(RedisStore.faceVectors(#"[3,"a"]"#, documentPK: "D") == nil)
        #expect(RedisStore.faceVectors(#"["a",{"x":1}]"#, documentPK: "D") == nil)
        #expect(RedisStore.faceVectors(#"["a",["x"]]"#, documentPK: "D") == nil)
    }

    @Test("unlabelled faces nearer than every labelled one do not hide the labelled ones")
    func labelledBehindUnlabelled() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let crowd = (0..<6).map { Self.photo("crowd-\($0).jpg", [(nil, Self.vector(1, 0.01 * Float($0 + 1)))]) }
        _ = try store.saveAll(crowd + [Self.photo("known.jpg", [(8, Self.vector(1, 0.5))])])
        let found = try store.nearestLabelledFaces(to: Self.vector(1), k: 1)
        #expect(found.map(\.face.label) == [8])
        #expect(abs((found.first?.distance ?? 0) - 0.5) < 1e-4)
    }
}
