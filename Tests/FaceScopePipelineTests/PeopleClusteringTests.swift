import FaceScopeCore
import FaceScopePipeline
import FaceScopeTesting
import Testing

/// The clustering use case through the in-memory face vectors: no Redis.
@Suite("Clustering people through the in-memory twin")
struct PeopleClusteringTests {
    /// A 128-D descriptor near identity `identity` (identities 1.0 apart, faces of one a little apart).
    static func descriptor(_ identity: Int, _ jitter: Int) -> [Float] {
        var v = [Float](repeating: 0, count: 128)
        v[identity] = 0.7071
        v[127 - jitter] += 0.05
        return v
    }

    static func face(_ pk: String, photo: String, identity: Int, jitter: Int, label: Int? = nil) -> FaceVector {
        FaceVector(
            facePK: pk, documentPK: photo, label: label, embedding: descriptor(identity, jitter))
    }

    @Test("unlabelled faces form people; a second pass changes nothing")
    func fromScratch() throws {
        let store = InMemoryFaceVectors(
            [
                Self.face("a1", photo: "p1", identity: 1, jitter: 1),
                Self.face("a2", photo: "p2", identity: 1, jitter: 2),
                Self.face("b1", photo: "p1", identity: 2, jitter: 3),
                Self.face("b2", photo: "p3", identity: 2, jitter: 4),
            ], batchSize: 3)
        let first = try PeopleClustering.run(store: store, threshold: 0.5, rebuild: false)
        #expect(first.faces == 4 && first.updated == 4)
        let labels = Dictionary(uniqueKeysWithValues: store.faces.map { ($0.facePK, $0.label) })
        #expect(labels["a1"] == labels["a2"] && labels["b1"] == labels["b2"] && labels["a1"] != labels["b1"])
        let writes = store.writes.count
        let second = try PeopleClustering.run(store: store, threshold: 0.5, rebuild: false)
        // Nothing unlabelled: nothing read past the scan, nothing written.
        #expect(second.faces == 0 && second.updated == 0 && store.writes.count == writes)
    }

    @Test("a new face joins the labelled person it is close to; labels already given stay")
    func incremental() throws {
        let store = InMemoryFaceVectors([
            Self.face("a1", photo: "p1", identity: 1, jitter: 1, label: 7),
            Self.face("b1", photo: "p2", identity: 2, jitter: 2, label: 9),
            Self.face("new", photo: "p3", identity: 2, jitter: 5),
        ])
        let summary = try PeopleClustering.run(store: store, threshold: 0.5, rebuild: false)
        #expect(summary.updated == 1)
        #expect(store.faces.map(\.label) == [7, 9, 9])
    }

    @Test("two faces of one photo are never one person, even when they look alike")
    func cannotLink() throws {
        let store = InMemoryFaceVectors([
            Self.face("x1", photo: "group", identity: 3, jitter: 1),
            Self.face("x2", photo: "group", identity: 3, jitter: 2),
            Self.face("x3", photo: "other", identity: 3, jitter: 3),
        ])
        _ = try PeopleClustering.run(store: store, threshold: 0.5, rebuild: true)
        let labels = store.faces.map(\.label)
        #expect(labels[0] != labels[1])
        #expect(labels[2] == labels[0] || labels[2] == labels[1])
    }

    @Test("a rebuild keeps each group's old label where most of its faces had it")
    func rebuildKeepsLabels() throws {
        let store = InMemoryFaceVectors([
            Self.face("a1", photo: "p1", identity: 1, jitter: 1, label: 42),
            Self.face("a2", photo: "p2", identity: 1, jitter: 2, label: 42),
            Self.face("a3", photo: "p3", identity: 1, jitter: 3, label: 5),
        ])
        let summary = try PeopleClustering.run(store: store, threshold: 0.5, rebuild: true)
        #expect(summary.people == 1 && store.faces.map(\.label) == [42, 42, 42])
    }

    @Test("a label set by hand survives a rebuild")
    func fixedLabels() throws {
        var moved = Self.face("a3", photo: "p3", identity: 1, jitter: 3, label: 99)
        moved.labelFixed = true
        let store = InMemoryFaceVectors([
            Self.face("a1", photo: "p1", identity: 1, jitter: 1, label: 42),
            Self.face("a2", photo: "p2", identity: 1, jitter: 2, label: 42), moved,
        ])
        _ = try PeopleClustering.run(store: store, threshold: 0.5, rebuild: true)
        #expect(store.faces.map(\.label) == [42, 42, 99])
        #expect(!(store.writes.last ?? []).contains { $0.facePK == "a3" })
    }

    @Test("faces just stored join the person their neighbours are, never one their photo already has")
    func labelNew() throws {
        let store = InMemoryFaceVectors([
            Self.face("a1", photo: "p1", identity: 1, jitter: 1, label: 4),
            Self.face("b1", photo: "p2", identity: 2, jitter: 2, label: 9),
            // Photo p5 already shows person 4: its new face may not be 4 too.
            Self.face("a5", photo: "p5", identity: 1, jitter: 2, label: 4),
            Self.face("new1", photo: "p3", identity: 1, jitter: 3),
            Self.face("new2", photo: "p5", identity: 1, jitter: 4),
            Self.face("c1", photo: "p6", identity: 3, jitter: 1), Self.face("c2", photo: "p7", identity: 3, jitter: 2),
        ])
        let fresh = store.faces.filter { $0.label == nil }
        let summary = try PeopleClustering.labelNew(fresh, store: store, threshold: 0.5)
        #expect(summary.faces == 4 && summary.updated == 4)
        let labels = Dictionary(uniqueKeysWithValues: store.faces.map { ($0.facePK, $0.label ?? -1) })
        #expect(labels["new1"] == 4)
        #expect(labels["new2"] != 4 && labels["new2"] != -1)
        // A new person among the new faces: one label after the largest in use.
        #expect(labels["c1"] == labels["c2"] && (labels["c1"] ?? 0) > 9)
        #expect(try PeopleClustering.labelNew(store.faces, store: store, threshold: 0.5).updated == 0)
    }
}

/// A rebuild of a synthetic library through the in-memory twin: batches, progress, the rules.
@Suite("Rebuilding people through the in-memory twin")
struct PeopleRebuildTests {
    @Test("a rebuild of 3,000 faces writes labels in batches, reports progress, and keeps photos and hand-set labels")
    func rebuildAtScale() throws {
        var gen = SyntheticFaces(identities: 150, seed: 21)
        let generated = gen.photos(1500)
        var faces = generated.enumerated().map { i, face in
            FaceVector(
                facePK: "f\(face.photo)-\(i % 2)", documentPK: "p\(face.photo)", label: nil, embedding: face.descriptor)
        }
        let truth = generated.map(\.identity)
        // Two faces of identity `truth[0]` pinned by hand to different people.
        let same = truth.indices.filter { truth[$0] == truth[0] }
        faces[same[0]].label = 500
        faces[same[0]].labelFixed = true
        faces[same[1]].label = 501
        faces[same[1]].labelFixed = true
        let store = InMemoryFaceVectors(faces, batchSize: 700)
        var stages: [ClusterProgress] = []
        let summary = try PeopleClustering.run(store: store, threshold: 0.6, rebuild: true) { stages.append($0) }
        #expect(summary.faces == 3000)
        #expect(store.writes.count >= 3)
        #expect(store.writes.allSatisfy { $0.count <= PeopleClustering.writeBatch })
        #expect(stages.contains { $0.stage == .reading && $0.count == 3000 })
        #expect(stages.last?.stage == .writing && stages.last?.count == stages.last?.total)
        let after = store.faces
        #expect(after[same[0]].label == 500)
        #expect(after[same[1]].label == 501)
        let labels = after.map { $0.label ?? -1 }
        #expect(!labels.contains(-1))
        #expect(stride(from: 0, to: 3000, by: 2).allSatisfy { labels[$0] != labels[$0 + 1] })
        #expect(BCubed(labels: labels, truth: truth).f > 0.95)
        // A second rebuild keeps every label.
        let again = try PeopleClustering.run(store: store, threshold: 0.6, rebuild: true)
        #expect(again.updated == 0)
    }
}
