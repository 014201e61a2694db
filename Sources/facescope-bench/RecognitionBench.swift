import FaceScopeCore
import FaceScopePipeline
import FaceScopeRedis
import Foundation

/// KNN latency over stored face descriptors, and clustering time.
enum RecognitionBench {
    /// Descriptors like dlib's: `people` identities, each face a small jitter around its
    /// identity's point (a same-person distance well under 0.5, different people well over 0.6).
    static func descriptors(count: Int, people: Int) -> [[Float]] {
        var rng = SystemRandomNumberGenerator()
        let centres: [[Float]] = (0..<people).map { _ in
            (0..<128).map { _ in Float.random(in: -0.1...0.1, using: &rng) }
        }
        return (0..<count).map { i in
            centres[i % people].map { $0 + Float.random(in: -0.012...0.012, using: &rng) }
        }
    }

    static func run(redisURL: String, faces: Int, clusterFaces: Int) throws {
        print("FaceScope recognition benchmark: KNN over \(faces) stored faces, clustering \(clusterFaces) faces\n")
        let settings = try Settings.resolve(
            flags: [.redisURL: redisURL, .keyPrefix: ":brec.Model:"], environment: [:], dotenv: [:])
        let services = FaceScopeServices(settings: settings)
        let store = try services.store()
        try store.destroyEverything()
        let fresh = try services.store()
        defer { try? fresh.destroyEverything() }
        let perImage = 2
        let vectors = descriptors(count: faces, people: faces / 10)
        var generator = ULIDGenerator()
        var documents: [ImageDocument] = []
        for start in stride(from: 0, to: faces, by: perImage) {
            var doc = ImageDocument(
                pk: "", filename: String(format: "people/img_%07d.jpg", start / perImage),
                faces: (start..<min(faces, start + perImage)).map { i in
                    var face = Face(
                        pk: "", bbox: BoundingBox(pk: "", x1: 10, y1: 10, x2: 90, y2: 90), probability: 95)
                    face.embedding = vectors[i]
                    return face
                }, channels: 3, height: 480, width: 640, portrait: 0)
            doc.assignMissingKeys(using: &generator)
            documents.append(doc)
        }
        let t0 = Bench.now()
        _ = try fresh.saveAll(documents, batchSize: 1000)
        try fresh.waitForIndexing(fresh.layout.ownIndex)
        let loadSeconds = Bench.now() - t0
        func measure(_ n: Int, _ body: (Int) throws -> Void) rethrows -> [Double] {
            try (0..<n).map { i in
                let t = Bench.now()
                try body(i)
                return (Bench.now() - t) * 1000
            }
        }
        let knn = try measure(200) { i in _ = try fresh.similarFaces(to: vectors[(i * 7919) % faces], limit: 10) }
        let count = try measure(200) { _ in _ = try fresh.count() }
        // Clustering: chinese whispers over all pairs.
        let clusterSet = descriptors(count: clusterFaces, people: clusterFaces / 10)
        let clustering = (0..<3).map { _ -> Double in
            let t = Bench.now()
            _ = FaceIdentities.cluster(clusterSet, threshold: 0.5)
            return Bench.now() - t
        }
        print("| operation | median | p95 | note |")
        print("| --- | --- | --- | --- |")
        print(
            "| store \(faces) faces with descriptors | \(Bench.fmt(loadSeconds, 1)) s | | \(faces / perImage) documents, indexed |"
        )
        print(
            "| KNN: 10 nearest faces of \(faces) | \(Bench.fmt(Bench.percentile(knn, 0.5), 2)) ms | "
                + "\(Bench.fmt(Bench.percentile(knn, 0.95), 2)) ms | FLAT L2 index, then per-face distances |")
        print(
            "| count (reference: a round trip) | \(Bench.fmt(Bench.percentile(count, 0.5), 2)) ms | "
                + "\(Bench.fmt(Bench.percentile(count, 0.95), 2)) ms | |")
        print(
            "| cluster \(clusterFaces) faces (chinese whispers) | \(Bench.fmt(Bench.percentile(clustering, 0.5), 2)) s | "
                + "| median of 3 |")
    }
}
