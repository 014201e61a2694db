import Foundation

/// Descriptors with known identities, shaped like dlib's: identity centres about 1.0 apart, faces
/// of one identity about `spread` apart (0.35 by default). Deterministic for a seed: benchmarks and
/// tests of clustering at scale use them.
public struct SyntheticFaces: Sendable {
    public let dimension: Int
    public let identities: Int
    private let centres: [Float]
    private let spread: Float
    private var rng: SeededRandom

    public init(identities: Int, dimension: Int = 128, spread: Float = 0.35, seed: UInt64 = 1) {
        self.identities = max(1, identities)
        self.dimension = dimension
        self.spread = spread
        var rng = SeededRandom(seed: seed)
        // Components N(0, 1/sqrt(2d)): two centres are about 1.0 apart.
        let sigma = 1 / Float(2 * dimension).squareRoot()
        centres = (0..<(self.identities * dimension)).map { _ in Self.gaussian(&rng) * sigma }
        self.rng = rng
    }

    /// One face of `identity`: its centre plus noise (two faces of it are about `spread` apart).
    public mutating func face(of identity: Int) -> [Float] {
        let sigma = spread / Float(2 * dimension).squareRoot()
        let base = (identity % identities) * dimension
        return (0..<dimension).map { centres[base + $0] + Self.gaussian(&rng) * sigma }
    }

    /// A random identity.
    public mutating func identity() -> Int { Int(rng.next() % UInt64(identities)) }

    /// `count` photos of two faces each, of two different identities (at least two identities):
    /// every face's descriptor, identity and photo number, photo by photo.
    public mutating func photos(_ count: Int) -> [(descriptor: [Float], identity: Int, photo: Int)] {
        var faces: [(descriptor: [Float], identity: Int, photo: Int)] = []
        faces.reserveCapacity(count * 2)
        for photo in 0..<count {
            let a = identity()
            var b = identity()
            while b == a { b = identity() }
            for id in [a, b] { faces.append((face(of: id), id, photo)) }
        }
        return faces
    }

    static func gaussian(_ rng: inout SeededRandom) -> Float {
        let u1 = max(Double(rng.next() >> 11) / Double(1 << 53), 1e-12)
        let u2 = Double(rng.next() >> 11) / Double(1 << 53)
        return Float((-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2))
    }
}

/// B-cubed precision, recall and F of a clustering against known identities: for each face, the
/// share of its cluster that is its identity (precision) and the share of its identity that is in
/// its cluster (recall), averaged over faces.
public struct BCubed: Sendable, Equatable {
    public var precision: Double
    public var recall: Double
    public var f: Double { precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0 }

    public init(labels: [Int], truth: [Int]) {
        precondition(labels.count == truth.count)
        var pair: [Int64: Int] = [:]
        var cluster: [Int: Int] = [:]
        var identity: [Int: Int] = [:]
        for (l, t) in zip(labels, truth) {
            pair[Int64(l) << 32 | Int64(t), default: 0] += 1
            cluster[l, default: 0] += 1
            identity[t, default: 0] += 1
        }
        var p = 0.0
        var r = 0.0
        for (l, t) in zip(labels, truth) {
            let both = Double(pair[Int64(l) << 32 | Int64(t)] ?? 0)
            p += both / Double(cluster[l] ?? 1)
            r += both / Double(identity[t] ?? 1)
        }
        let n = Double(max(1, labels.count))
        precision = p / n
        recall = r / n
    }
}
