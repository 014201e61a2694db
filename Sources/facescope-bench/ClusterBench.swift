import ArgumentParser
import FaceScopeCore
import Foundation

/// The neighbour search chosen for clustering, against all pairs: time, links found and the
/// B-cubed scores of chinese whispers over each graph, on synthetic identities (no services).
struct ClusterBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Clustering at scale: the inverted-file neighbour search against all pairs (no services).")
    @Option(help: "Face counts measured with the inverted file, comma-separated.") var faces = "20000,200000"
    @Option(help: "Face count measured with all pairs as well (the reference).") var exactFaces = 20000
    @Option(help: "Nearest neighbours kept per face.") var k = 16
    @Option(help: "Inverted lists probed per face.") var probes = 8
    @Option(help: "Faces per inverted list.") var listSize = 128

    func run() throws {
        print("| faces | search | graph s | whispers s | links | B-cubed P | R | F | photos split |")
        print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
        let counts = faces.split(separator: ",").compactMap { Int($0) }
        for n in ([exactFaces] + counts) {
            let (descriptors, truth, photo) = Self.library(faces: n)
            var searches: [(String, () -> NeighbourGraph)] = [
                (
                    "IVF k=\(k) probes=\(probes) lists of \(listSize)",
                    {
                        NeighbourGraph.approximate(
                            descriptors, threshold: 0.6, k: k, probes: probes, listSize: listSize, exactBelow: 0)
                    }
                )
            ]
            if n == exactFaces { searches.append(("all pairs", { NeighbourGraph.exact(descriptors, threshold: 0.6) })) }
            for (name, search) in searches {
                let t0 = Date()
                let graph = search()
                let t1 = Date()
                let labels = FaceIdentities.cluster(graph: graph, groups: photo)
                let t2 = Date()
                let score = BCubed(labels: labels, truth: truth)
                let split = stride(from: 0, to: n - 1, by: 2).allSatisfy { labels[$0] != labels[$0 + 1] }
                print(
                    "| \(n) | \(name) | \(String(format: "%.2f", t1.timeIntervalSince(t0))) | "
                        + "\(String(format: "%.2f", t2.timeIntervalSince(t1))) | \(graph.edges / 2) | "
                        + String(format: "%.4f | %.4f | %.4f", score.precision, score.recall, score.f)
                        + " | \(split ? "all" : "NOT all") |")
            }
        }
    }

    /// `faces` / 2 photos of two faces of different identities, faces / 20 identities.
    static func library(faces: Int) -> (FaceDescriptors, [Int], [Int]) {
        var gen = SyntheticFaces(identities: max(2, faces / 20), seed: 3)
        var descriptors = FaceDescriptors(capacity: faces)
        let generated = gen.photos(faces / 2)
        for face in generated { descriptors.append(face.descriptor) }
        return (descriptors, generated.map(\.identity), generated.map(\.photo))
    }
}
