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
        cluster(
            graph: NeighbourGraph.exact(FaceDescriptors(descriptors), threshold: threshold), groups: groups,
            iterations: iterations, seed: seed)
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
            return rebuild(
                graph: NeighbourGraph.exact(FaceDescriptors(descriptors), threshold: threshold),
                existing: existing.map { $0 ?? -1 }, fixed: nil, groups: groups)
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
    /// Chinese whispers over a sparse graph of links (`NeighbourGraph`): a cluster index for each
    /// face, 0..<k in order of first appearance. Same rounds, weights and ties as `cluster`.
    ///
    /// `groups` (the photo of each face) is the cannot-link rule: a face never takes a label another
    /// face of its photo holds, and where rounds leave two together the one less tied to the cluster
    /// leaves for a cluster of its own. `fixed` (a label set by hand per face, -1 for none): faces
    /// sharing a fixed label start as one cluster and never move; faces with different fixed labels
    /// are never in one cluster; other faces may join them, and those whose old label (`existing`,
    /// -1 for none) is a fixed label start in its cluster.
    public static func cluster(
        graph: NeighbourGraph, groups: [Int]? = nil, fixed: [Int]? = nil, existing: [Int]? = nil,
        iterations: Int = 100, seed: UInt64 = 1
    ) -> [Int] {
        let n = graph.count
        precondition(groups == nil || groups?.count == n)
        precondition(fixed == nil || fixed?.count == n)
        let photos = GroupIndex(groups, count: n)
        var labels = Array(0..<n)
        var pinned = [Bool](repeating: false, count: n)
        if let fixed {
            var first: [Int: Int] = [:]
            for i in 0..<n where fixed[i] >= 0 {
                if first[fixed[i]] == nil { first[fixed[i]] = i }
                labels[i] = first[fixed[i]] ?? i
                pinned[i] = true
            }
            if let existing {
                for i in 0..<n where !pinned[i] && existing[i] >= 0 {
                    if let start = first[existing[i]] { labels[i] = start }
                }
            }
        }
        var rng = SeededRandom(seed: seed)
        var order = Array(0..<n)
        var voteLabels: [Int] = []
        var voteWeights: [Float] = []
        for _ in 0..<iterations {
            var changed = false
            for i in stride(from: n - 1, to: 0, by: -1) {
                order.swapAt(i, Int(rng.next() % UInt64(i + 1)))
            }
            for node in order where !pinned[node] && graph.offsets[node] < graph.offsets[node + 1] {
                voteLabels.removeAll(keepingCapacity: true)
                voteWeights.removeAll(keepingCapacity: true)
                for e in graph.offsets[node]..<graph.offsets[node + 1] {
                    let label = labels[Int(graph.targets[e])]
                    if let at = voteLabels.firstIndex(of: label) {
                        voteWeights[at] += graph.weights[e]
                    } else {
                        voteLabels.append(label)
                        voteWeights.append(graph.weights[e])
                    }
                }
                // Labels another face of the same photo holds are not on offer.
                var bestLabel = -1
                var bestWeight: Float = 0
                for (at, label) in voteLabels.enumerated() {
                    if photos.contains(node, where: { $0 != node && labels[$0] == label }) { continue }
                    let w = voteWeights[at]
                    if bestLabel < 0 || w > bestWeight || (w == bestWeight && label < bestLabel) {
                        bestLabel = label
                        bestWeight = w
                    }
                }
                if bestLabel >= 0, bestLabel != labels[node] {
                    labels[node] = bestLabel
                    changed = true
                }
            }
            if !changed { break }
        }
        // Where two faces of one photo still share a label, the one less tied to the others
        // carrying it (never a face whose label was set by hand) leaves for a label of its own.
        var inUse = Set(labels)
        var spare = 0
        func tie(_ x: Int) -> Float {
            var sum: Float = 0
            for e in graph.offsets[x]..<graph.offsets[x + 1] where labels[Int(graph.targets[e])] == labels[x] {
                sum += graph.weights[e]
            }
            return sum
        }
        for node in 0..<n {
            for other in photos.members(of: node) where other > node && labels[other] == labels[node] {
                if pinned[node] && pinned[other] { continue }
                let leaver =
                    pinned[node] ? other : pinned[other] ? node : (tie(node) >= tie(other) ? other : node)
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

    /// Every face clustered afresh over `graph`: a face with a fixed label (`fixed[i] >= 0`) keeps
    /// it and its cluster carries it; every other cluster takes the old label (`existing`, -1 for
    /// none) most of its faces had, biggest clusters choosing first, or a new label after the
    /// largest in use. Two faces of one photo (`groups`) never share a label.
    public static func rebuild(graph: NeighbourGraph, existing: [Int], fixed: [Int]?, groups: [Int]?) -> [Int] {
        let n = graph.count
        precondition(existing.count == n)
        let clusters = cluster(graph: graph, groups: groups, fixed: fixed, existing: existing)
        var mapping: [Int: Int] = [:]
        var used: Set<Int> = []
        if let fixed {
            for i in 0..<n where fixed[i] >= 0 {
                mapping[clusters[i]] = fixed[i]
                used.insert(fixed[i])
            }
        }
        var next = max(existing.max() ?? 0, fixed?.max() ?? 0) + 1
        var sizes: [Int: Int] = [:]
        var byCluster: [Int: [Int: Int]] = [:]
        for (i, c) in clusters.enumerated() where mapping[c] == nil {
            sizes[c, default: 0] += 1
            if existing[i] >= 0 { byCluster[c, default: [:]][existing[i], default: 0] += 1 }
        }
        // Biggest clusters choose first.
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

/// Faces by photo as compressed rows (no per-face arrays): the faces of one photo, any face's
/// photo-mates.
struct GroupIndex {
    private let groupOf: [Int32]
    private let starts: [Int]
    private let faces: [Int32]

    init(_ groups: [Int]?, count: Int) {
        guard let groups else {
            groupOf = (0..<count).map { Int32($0) }
            starts = Array(0...count)
            faces = (0..<count).map { Int32($0) }
            return
        }
        var dense: [Int: Int32] = [:]
        var groupOf = [Int32](repeating: 0, count: count)
        for (i, g) in groups.enumerated() {
            if let known = dense[g] {
                groupOf[i] = known
            } else {
                let next = Int32(dense.count)
                dense[g] = next
                groupOf[i] = next
            }
        }
        var starts = [Int](repeating: 0, count: dense.count + 1)
        for g in groupOf { starts[Int(g) + 1] += 1 }
        for g in 0..<dense.count { starts[g + 1] += starts[g] }
        var fill = starts
        var faces = [Int32](repeating: 0, count: count)
        for (i, g) in groupOf.enumerated() {
            faces[fill[Int(g)]] = Int32(i)
            fill[Int(g)] += 1
        }
        self.groupOf = groupOf
        self.starts = starts
        self.faces = faces
    }

    func members(of face: Int) -> [Int] {
        let g = Int(groupOf[face])
        return faces[starts[g]..<starts[g + 1]].map { Int($0) }
    }

    func contains(_ face: Int, where test: (Int) -> Bool) -> Bool {
        let g = Int(groupOf[face])
        for i in starts[g]..<starts[g + 1] where test(Int(faces[i])) { return true }
        return false
    }
}
