import Testing

@testable import FaceScopeCore

/// The approximate neighbour search and chinese whispers over its sparse graph, against the
/// all-pairs result, with the photo and hand-set label rules.
@Suite("Clustering at scale")
struct NeighbourGraphTests {
    /// `photos` photos of two faces each, no photo twice the same identity.
    static func library(photos: Int, identities: Int, seed: UInt64 = 7) -> (
        faces: FaceDescriptors, truth: [Int], photo: [Int]
    ) {
        var gen = SyntheticFaces(identities: identities, seed: seed)
        var faces = FaceDescriptors(capacity: photos * 2)
        let generated = gen.photos(photos)
        for face in generated { faces.append(face.descriptor) }
        return (faces, generated.map(\.identity), generated.map(\.photo))
    }

    @Test("the inverted file finds the links all pairs find, and the clusters agree with the all-pairs ones")
    func matchesExact() {
        let (faces, truth, photo) = Self.library(photos: 1500, identities: 300)
        let exact = NeighbourGraph.exact(faces, threshold: 0.6)
        let approximate = NeighbourGraph.approximate(faces, threshold: 0.6, k: 16, exactBelow: 0)
        // Recall of links: the share of all-pairs links the search found (k nearest per face).
        var found = 0
        for i in 0..<exact.count {
            let mine = Set(approximate.targets[approximate.offsets[i]..<approximate.offsets[i + 1]])
            for e in exact.offsets[i]..<exact.offsets[i + 1] where mine.contains(exact.targets[e]) { found += 1 }
        }
        #expect(Double(found) / Double(max(1, exact.edges)) > 0.9)
        #expect(approximate.edges <= exact.edges)
        let a = FaceIdentities.cluster(graph: approximate, groups: photo)
        let b = FaceIdentities.cluster(graph: exact, groups: photo)
        let agreement = BCubed(labels: a, truth: b)
        #expect(agreement.f > 0.98)
        #expect(BCubed(labels: a, truth: truth).f > 0.95)
    }

    @Test("the search reports its progress in waves, up to every face")
    func searchProgress() {
        let (faces, _, _) = Self.library(photos: 2500, identities: 250)
        var heard: [Int] = []
        let graph = NeighbourGraph.approximate(faces, threshold: 0.6, exactBelow: 0) { heard.append($0) }
        #expect(graph.count == 5000)
        #expect(heard.count > 5)
        #expect(heard == heard.sorted() && Set(heard).count == heard.count)
        #expect(heard.last == 5000)
    }

    @Test("6,000 faces in 3,000 photos: no photo has its two faces in one cluster")
    func cannotLinkAtScale() {
        // Both faces of a photo drawn from one identity: every photo is pulled together.
        var gen = SyntheticFaces(identities: 150, seed: 11)
        var faces = FaceDescriptors(capacity: 6000)
        var photo: [Int] = []
        for p in 0..<3000 {
            let id = gen.identity()
            faces.append(gen.face(of: id))
            faces.append(gen.face(of: id))
            photo += [p, p]
        }
        let graph = NeighbourGraph.approximate(faces, threshold: 0.6)
        let labels = FaceIdentities.cluster(graph: graph, groups: photo)
        let together = stride(from: 0, to: labels.count, by: 2).filter { labels[$0] == labels[$0 + 1] }.count
        #expect(together == 0)
        #expect(Set(labels).count >= 300)
    }

    @Test("hand-set labels: kept, never merged when they differ, and faces that had the label stay with it")
    func fixedLabels() {
        var gen = SyntheticFaces(identities: 2, seed: 3)
        // Faces 0..9 one identity; 0 is fixed to 7 and 1 to 8 (a person split by hand); 10..19 another.
        let rows = (0..<10).map { _ in gen.face(of: 0) } + (0..<10).map { _ in gen.face(of: 1) }
        let graph = NeighbourGraph.exact(FaceDescriptors(rows), threshold: 0.6)
        var fixed = [Int](repeating: -1, count: 20)
        fixed[0] = 7
        fixed[1] = 8
        fixed[10] = 3
        var existing = fixed
        for i in 11..<20 { existing[i] = 3 }
        let labels = FaceIdentities.rebuild(
            graph: graph, existing: existing, fixed: fixed, groups: Array(0..<20))
        #expect(labels[0] == 7)
        #expect(labels[1] == 8)
        #expect(labels[10] == 3)
        #expect(labels[2..<10].allSatisfy { $0 == 7 || $0 == 8 })
        #expect(labels[11..<20].allSatisfy { $0 == 3 })
    }

    @Test("a face whose photo-mate has a hand-set label never shares it; the unpinned one leaves")
    func fixedAndPhoto() {
        var gen = SyntheticFaces(identities: 1, seed: 5)
        let rows = (0..<6).map { _ in gen.face(of: 0) }
        let graph = NeighbourGraph.exact(FaceDescriptors(rows), threshold: 0.6)
        var fixed = [Int](repeating: -1, count: 6)
        fixed[0] = 4
        let labels = FaceIdentities.rebuild(
            graph: graph, existing: [Int](repeating: 4, count: 6), fixed: fixed, groups: [0, 0, 1, 2, 3, 4])
        #expect(labels[0] == 4)
        #expect(labels[1] != 4)
        #expect(labels[2..<6].allSatisfy { $0 == 4 })
    }

    @Test("B-cubed: perfect, all-in-one and all-alone clusterings")
    func bcubed() {
        let truth = [0, 0, 1, 1]
        #expect(BCubed(labels: [5, 5, 6, 6], truth: truth).f == 1)
        #expect(BCubed(labels: [1, 1, 1, 1], truth: truth).precision == 0.5)
        #expect(BCubed(labels: [1, 2, 3, 4], truth: truth).recall == 0.5)
    }
}
