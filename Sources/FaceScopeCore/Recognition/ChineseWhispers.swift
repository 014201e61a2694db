/// Groups face descriptors into identities: faces closer than a threshold are linked, and
/// chinese whispers (dlib's `chinese_whispers`) finds the groups. Deterministic for a given seed.
public enum FaceIdentities {
    /// Euclidean distance between two descriptors.
    public static func distance(_ a: [Float], _ b: [Float]) -> Float {
        var sum: Float = 0
        for i in 0..<min(a.count, b.count) {
            let d = a[i] - b[i]
            sum += d * d
        }
        return sum.squareRoot()
    }

    /// A cluster index for each descriptor: linked when closer than `threshold`, then chinese
    /// whispers for `iterations` rounds (random order from `seed`, ties to the smallest label).
    /// Cluster indices are 0..<k, numbered in order of first appearance.
    ///
    /// `groups` (one value per descriptor: the photo it comes from) is a cannot-link rule: two
    /// faces of one group never end in one cluster. A face never takes a label another face of its
    /// group holds; where the rounds still leave two together, the one less tied to the cluster
    /// gets a cluster of its own.
    public static func cluster(
        _ descriptors: [[Float]], threshold: Float, groups: [Int]? = nil, iterations: Int = 100, seed: UInt64 = 1
    ) -> [Int] {
        let n = descriptors.count
        let members = groupMembers(groups, count: n)
        var neighbours = [[(Int, Float)]](repeating: [], count: n)
        for i in 0..<n {
            for j in (i + 1)..<max(n, i + 1) {
                let d = distance(descriptors[i], descriptors[j])
                if d < threshold {
                    // dlib weights edges by similarity; closer faces pull harder.
                    let w = 1 - d / max(threshold, 1e-6)
                    neighbours[i].append((j, w))
                    neighbours[j].append((i, w))
                }
            }
        }
        var labels = Array(0..<n)
        var rng = SeededRandom(seed: seed)
        var order = Array(0..<n)
        for _ in 0..<iterations {
            var changed = false
            for i in stride(from: n - 1, to: 0, by: -1) {
                order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
            for node in order where !neighbours[node].isEmpty {
                var votes: [Int: Float] = [:]
                for (other, w) in neighbours[node] { votes[labels[other], default: 0] += w }
                // Labels another face of the same photo holds are not on offer.
                for other in members[node] where other != node { votes[labels[other]] = nil }
                let best = votes.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }
                if let best, best.key != labels[node] {
                    labels[node] = best.key
                    changed = true
                }
            }
            if !changed { break }
        }
        // Where two faces of one photo still share a label, the one less tied to the others
        // carrying it leaves for a label of its own (node indices are free labels: every node
        // started with its own).
        var inUse = Set(labels)
        var spare = 0
        for node in 0..<n {
            for other in members[node] where other > node && labels[other] == labels[node] {
                func tie(_ x: Int) -> Float {
                    neighbours[x].reduce(0) { $0 + (labels[$1.0] == labels[x] ? $1.1 : 0) }
                }
                let leaver = tie(node) >= tie(other) ? other : node
                while inUse.contains(spare) { spare += 1 }
                labels[leaver] = spare
                inUse.insert(spare)
            }
        }
        var renumber: [Int: Int] = [:]
        return labels.map { label in
            if let known = renumber[label] { return known }
            let next = renumber.count
            renumber[label] = next
            return next
        }
    }

    /// Labels for faces, keeping the labels faces already have. Unlabelled faces join the label
    /// most of their linked, labelled neighbours share; the rest are clustered among themselves and
    /// get new labels after the largest in use. With `relabelAll`, every face is clustered afresh
    /// and each new cluster takes the old label most of its members had (so labels stay stable).
    ///
    /// `groups` (the photo of each face) keeps two faces of one photo apart: never one label.
    public static func assign(
        descriptors: [[Float]], existing: [Int?], threshold: Float, relabelAll: Bool = false, groups: [Int]? = nil
    ) -> [Int] {
        precondition(descriptors.count == existing.count)
        precondition(groups == nil || groups?.count == descriptors.count)
        var next = (existing.compactMap { $0 }.max() ?? 0) + 1
        if relabelAll {
            let clusters = cluster(descriptors, threshold: threshold, groups: groups)
            var byCluster: [Int: [Int: Int]] = [:]
            for (i, c) in clusters.enumerated() {
                if let old = existing[i] { byCluster[c, default: [:]][old, default: 0] += 1 }
            }
            var used: Set<Int> = []
            var mapping: [Int: Int] = [:]
            // Biggest clusters choose first.
            let sizes = Dictionary(grouping: clusters.indices, by: { clusters[$0] }).mapValues(\.count)
            for c in sizes.keys.sorted(by: { (sizes[$0] ?? 0, -$0) > (sizes[$1] ?? 0, -$1) }) {
                let votes = (byCluster[c] ?? [:]).filter { !used.contains($0.key) }
                if let best = votes.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) {
                    mapping[c] = best.key
                    used.insert(best.key)
                } else {
                    while used.contains(next) { next += 1 }
                    mapping[c] = next
                    used.insert(next)
                    next += 1
                }
            }
            return clusters.map { mapping[$0] ?? 0 }
        }
        var labels = existing
        let members = groupMembers(groups, count: descriptors.count)
        let unlabelled = existing.indices.filter { existing[$0] == nil }
        var rest: [Int] = []
        for i in unlabelled {
            var votes: [Int: Int] = [:]
            for j in existing.indices {
                guard let label = existing[j], distance(descriptors[i], descriptors[j]) < threshold else { continue }
                votes[label, default: 0] += 1
            }
            // Not a label another face of this photo has (or was just given).
            for other in members[i] where other != i { if let taken = labels[other] { votes[taken] = nil } }
            if let best = votes.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) {
                labels[i] = best.key
            } else {
                rest.append(i)
            }
        }
        let clusters = cluster(
            rest.map { descriptors[$0] }, threshold: threshold, groups: groups.map { g in rest.map { g[$0] } })
        var fresh: [Int: Int] = [:]
        for (k, i) in rest.enumerated() {
            if fresh[clusters[k]] == nil {
                fresh[clusters[k]] = next
                next += 1
            }
            labels[i] = fresh[clusters[k]]
        }
        return labels.map { $0 ?? 0 }
    }
}

extension FaceIdentities {
    /// For each index, the indices of its group (itself included); each alone without groups.
    static func groupMembers(_ groups: [Int]?, count: Int) -> [[Int]] {
        guard let groups else { return (0..<count).map { [$0] } }
        var byGroup: [Int: [Int]] = [:]
        for (i, g) in groups.enumerated() { byGroup[g, default: []].append(i) }
        return groups.map { byGroup[$0] ?? [] }
    }
}

/// SplitMix64: a small, fast, seedable generator (reproducible clustering and tests).
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
