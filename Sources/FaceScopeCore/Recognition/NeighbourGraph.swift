import Dispatch
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Face descriptors in one contiguous buffer (`count` rows of `dimension` floats): 512 bytes a
/// face for dlib's 128-D descriptors, with no per-face allocation.
public struct FaceDescriptors: Sendable {
    public private(set) var values: [Float]
    public let dimension: Int

    public init(dimension: Int = 128, capacity: Int = 0) {
        self.dimension = max(1, dimension)
        values = []
        values.reserveCapacity(capacity * self.dimension)
    }

    public init(_ rows: [[Float]]) {
        self.init(dimension: rows.first?.count ?? 128, capacity: rows.count)
        for row in rows { append(row) }
    }

    public var count: Int { values.count / dimension }

    /// Appends one descriptor (cut or padded with zeros to `dimension`).
    public mutating func append(_ row: [Float]) {
        if row.count == dimension {
            values += row
        } else {
            for i in 0..<dimension { values.append(i < row.count ? row[i] : 0) }
        }
    }

    public func row(_ i: Int) -> ArraySlice<Float> { values[(i * dimension)..<((i + 1) * dimension)] }
}

/// Links between faces closer than a threshold, each face's nearest `k` at most (in both
/// directions: a link either face found), as compressed rows: the neighbours of face `i` are
/// `targets[offsets[i]..<offsets[i + 1]]` with their `weights` (1 - distance / threshold).
public struct NeighbourGraph: Sendable, Equatable {
    public var offsets: [Int]
    public var targets: [Int32]
    public var weights: [Float]

    public var count: Int { offsets.count - 1 }
    public var edges: Int { targets.count }

    /// Builds the graph from each face's own neighbour list (made symmetric, duplicates dropped).
    init(count: Int, lists: [[(Int32, Float)]]) {
        var degree = [Int](repeating: 0, count: count + 1)
        for (i, list) in lists.enumerated() {
            for (j, _) in list {
                degree[i] += 1
                degree[Int(j)] += 1
            }
        }
        var offsets = [Int](repeating: 0, count: count + 1)
        for i in 0..<count { offsets[i + 1] = offsets[i] + degree[i] }
        var fill = offsets
        var targets = [Int32](repeating: 0, count: offsets[count])
        var weights = [Float](repeating: 0, count: offsets[count])
        for (i, list) in lists.enumerated() {
            for (j, w) in list {
                targets[fill[i]] = j
                weights[fill[i]] = w
                fill[i] += 1
                targets[fill[Int(j)]] = Int32(i)
                weights[fill[Int(j)]] = w
                fill[Int(j)] += 1
            }
        }
        // Sort each row by target and drop the second copy of links both faces found.
        var compactOffsets = [Int](repeating: 0, count: count + 1)
        var out = 0
        for i in 0..<count {
            let row = (offsets[i]..<offsets[i + 1]).map { (targets[$0], weights[$0]) }.sorted { $0.0 < $1.0 }
            var last: Int32 = -1
            for (j, w) in row where j != last {
                targets[out] = j
                weights[out] = w
                out += 1
                last = j
            }
            compactOffsets[i + 1] = out
        }
        targets.removeLast(targets.count - out)
        weights.removeLast(weights.count - out)
        self.offsets = compactOffsets
        self.targets = targets
        self.weights = weights
    }

    /// Every pair closer than `threshold` (all pairs compared): the reference the approximate
    /// search is measured against, and what small inputs use.
    public static func exact(_ faces: FaceDescriptors, threshold: Float) -> NeighbourGraph {
        let n = faces.count
        let dim = faces.dimension
        let limit = threshold * threshold
        var lists = [[(Int32, Float)]](repeating: [], count: n)
        faces.values.withUnsafeBufferPointer { v in
            for i in 0..<n {
                for j in (i + 1)..<max(n, i + 1) {
                    let d2 = squaredDistance(v, i * dim, j * dim, dim)
                    if d2 < limit { lists[i].append((Int32(j), 1 - d2.squareRoot() / max(threshold, 1e-6))) }
                }
            }
        }
        return NeighbourGraph(count: n, lists: lists)
    }

    /// Each face's `k` nearest faces closer than `threshold`, found through an inverted file: the
    /// faces are split among k-means lists of about `listSize` faces (``InvertedFile``: two
    /// levels of centroids, so finding a face's lists costs about sqrt(n / listSize)), and each
    /// face is compared with the faces of its `probes` nearest lists only: the work grows with n,
    /// not n^1.5. The work is shared among the processor's cores, in waves: `progress` hears how
    /// many faces were searched after each. Inputs under `exactBelow` faces compare all pairs
    /// (`exact`), keeping every link.
    public static func approximate(
        _ faces: FaceDescriptors, threshold: Float, k: Int = 16, probes: Int = 8, listSize: Int = 128,
        exactBelow: Int = 2000, seed: UInt64 = 1, progress: (Int) -> Void = { _ in }
    ) -> NeighbourGraph {
        let n = faces.count
        if n < exactBelow { return exact(faces, threshold: threshold) }
        let dim = faces.dimension
        let index = InvertedFile(faces, listSize: listSize, seed: seed)
        let limit = threshold * threshold
        let k = max(1, k)
        let probes = min(max(1, probes), index.centroidCount)
        // The faces copied in list order: a list's faces are one contiguous run of memory, and
        // faces are searched in that order (the lists they probe stay in cache).
        var order: [Int32] = []
        order.reserveCapacity(n)
        var starts = [0]
        for list in index.members {
            order += list
            starts.append(order.count)
        }
        var ordered = [Float](repeating: 0, count: n * dim)
        faces.values.withUnsafeBufferPointer { v in
            for (p, i) in order.enumerated() {
                for d in 0..<dim { ordered[p * dim + d] = v[Int(i) * dim + d] }
            }
        }
        let chunks = max(1, min(n, 64 * ProcessInfoCores.count))
        let results = SharedSlots<[[(Int32, Float)]]>(count: chunks, empty: [])
        let (listStarts, listOrder) = (starts, order)
        /// Searches the faces of one chunk.
        @Sendable func search(_ chunk: Int, _ v: UnsafeBufferPointer<Float>) {
            let start = chunk * n / chunks
            let end = (chunk + 1) * n / chunks
            var found: [[(Int32, Float)]] = []
            found.reserveCapacity(end - start)
            var best: [(Int32, Float)] = []
            for p in start..<end {
                best.removeAll(keepingCapacity: true)
                for list in index.nearestLists(v, p * dim, probes) {
                    for q in listStarts[list]..<listStarts[list + 1] where q != p {
                        let d2 = squaredDistance(v, p * dim, q * dim, dim)
                        guard d2 < limit else { continue }
                        if best.count == k, let worst = best.last, d2 >= worst.1 { continue }
                        var at = best.count
                        while at > 0 && best[at - 1].1 > d2 { at -= 1 }
                        best.insert((listOrder[q], d2), at: at)
                        if best.count > k { best.removeLast() }
                    }
                }
                // The graph adds the other direction and drops links both ends found.
                found.append(best.map { ($0.0, 1 - $0.1.squareRoot() / max(threshold, 1e-6)) })
            }
            results.set(chunk, found)
        }
        let waves = min(chunks, 20)
        ordered.withUnsafeBufferPointer { v in
            let values = UnsafeSendable(v)
            for wave in 0..<waves {
                let first = wave * chunks / waves
                let last = (wave + 1) * chunks / waves
                DispatchQueue.concurrentPerform(iterations: last - first) { offset in
                    search(first + offset, values.value)
                }
                progress(last * n / chunks)
            }
        }
        var lists = [[(Int32, Float)]](repeating: [], count: n)
        var p = 0
        for chunk in 0..<chunks {
            for list in results.get(chunk) {
                lists[Int(order[p])] = list
                p += 1
            }
        }
        return NeighbourGraph(count: n, lists: lists)
    }
}
/// Squared Euclidean distance between rows starting at `a` and `b`.
@inline(__always)
func squaredDistance(_ v: UnsafeBufferPointer<Float>, _ a: Int, _ b: Int, _ dim: Int) -> Float {
    guard let base = v.baseAddress else { return 0 }
    return squaredDistance(base + a, base + b, dim)
}

/// Squared Euclidean distance between `dim` floats at `a` and at `b`, sixteen lanes at a time.
@inline(__always)
func squaredDistance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ dim: Int) -> Float {
    var sum = SIMD16<Float>()
    var i = 0
    let ra = UnsafeRawPointer(a)
    let rb = UnsafeRawPointer(b)
    while i + 16 <= dim {
        let d =
            ra.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
            - rb.loadUnaligned(fromByteOffset: i * 4, as: SIMD16<Float>.self)
        sum += d * d
        i += 16
    }
    var total = sum.sum()
    while i < dim {
        let d = a[i] - b[i]
        total += d * d
        i += 1
    }
    return total
}

/// Lists of faces around k-means centroids, on two levels: about sqrt(n / listSize) coarse
/// centroids, each coarse group split again into lists of about `listSize` faces. A face's
/// nearest lists are found among the fine centroids of its nearest coarse groups, so neither
/// training, assigning nor searching compares a face with every list.
struct InvertedFile: Sendable {
    /// The fine centroids, group by group.
    let centroids: [Float]
    let centroidCount: Int
    let dimension: Int
    /// The faces of each fine list.
    let members: [[Int32]]
    let coarse: [Float]
    let coarseCount: Int
    /// The fine centroids of coarse group g: `groupStarts[g]..<groupStarts[g + 1]`.
    let groupStarts: [Int]
    /// Coarse groups whose lists a search considers.
    static let coarseProbes = 3

    init(_ faces: FaceDescriptors, listSize: Int, seed: UInt64, rounds: Int = 8) {
        let n = faces.count
        let dim = faces.dimension
        let size = max(1, listSize)
        let coarseCount = max(1, min(n, Int(Double(max(1, n / size)).squareRoot().rounded())))
        var rng = SeededRandom(seed: seed)
        var coarse: [Float] = []
        var groups = [[Int32]](repeating: [], count: coarseCount)
        faces.values.withUnsafeBufferPointer { v in
            coarse = Self.kmeans(v, dim, Self.sample(Array(0..<Int32(n)), 64 * coarseCount, &rng), coarseCount, rounds)
            // Every face to its nearest coarse centroid (shared among the cores).
            let chunks = max(1, min(n, 16 * ProcessInfoCores.count))
            let assigned = SharedSlots<[Int32]>(count: chunks, empty: [])
            let values = UnsafeSendable(v)
            let frozen = coarse
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                let start = chunk * n / chunks
                let end = (chunk + 1) * n / chunks
                let part = frozen.withUnsafeBufferPointer { cv in
                    (start..<end).map { Int32(Self.nearest(cv, coarseCount, values.value, $0 * dim, dim)) }
                }
                assigned.set(chunk, part)
            }
            var i: Int32 = 0
            for chunk in 0..<chunks {
                for g in assigned.get(chunk) {
                    groups[Int(g)].append(i)
                    i += 1
                }
            }
        }
        // Each coarse group split into lists of about `size` (the groups shared among the cores).
        let split = SharedSlots<(centroids: [Float], members: [[Int32]])>(count: coarseCount, empty: ([], []))
        let frozenGroups = groups
        faces.values.withUnsafeBufferPointer { v in
            let values = UnsafeSendable(v)
            DispatchQueue.concurrentPerform(iterations: coarseCount) { g in
                let rows = frozenGroups[g]
                guard !rows.isEmpty else { return }
                let count = max(1, min(rows.count, Int((Double(rows.count) / Double(size)).rounded())))
                var rng = SeededRandom(seed: seed &+ UInt64(g + 1) &* 0x9E37_79B9_7F4A_7C15)
                let centroids = Self.kmeans(
                    values.value, dim, Self.sample(rows, 32 * count, &rng), count, max(1, rounds - 2))
                var members = [[Int32]](repeating: [], count: count)
                centroids.withUnsafeBufferPointer { cv in
                    for row in rows {
                        members[Self.nearest(cv, count, values.value, Int(row) * dim, dim)].append(row)
                    }
                }
                split.set(g, (centroids, members))
            }
        }
        var centroids: [Float] = []
        var members: [[Int32]] = []
        var starts = [0]
        for g in 0..<coarseCount {
            let part = split.get(g)
            centroids += part.centroids
            members += part.members
            starts.append(members.count)
        }
        self.centroids = centroids
        centroidCount = members.count
        dimension = dim
        self.members = members
        self.coarse = coarse
        self.coarseCount = coarseCount
        groupStarts = starts
    }

    /// Up to `count` of `rows`, distinct, in random order.
    static func sample(_ rows: [Int32], _ count: Int, _ rng: inout SeededRandom) -> [Int32] {
        var rows = rows
        let size = min(rows.count, count)
        for i in 0..<size { rows.swapAt(i, i + Int(rng.next() % UInt64(rows.count - i))) }
        rows.removeLast(rows.count - size)
        return rows
    }

    /// `count` k-means centroids of the sampled rows (at least `count` of them), starting from
    /// the first sampled rows.
    static func kmeans(
        _ v: UnsafeBufferPointer<Float>, _ dim: Int, _ sample: [Int32], _ count: Int, _ rounds: Int
    ) -> [Float] {
        var centroids = [Float](repeating: 0, count: count * dim)
        for c in 0..<min(count, sample.count) {
            for d in 0..<dim { centroids[c * dim + d] = v[Int(sample[c]) * dim + d] }
        }
        for _ in 0..<rounds {
            var sums = [Float](repeating: 0, count: count * dim)
            var sizes = [Int](repeating: 0, count: count)
            centroids.withUnsafeBufferPointer { cv in
                for s in sample {
                    let at = Int(s) * dim
                    let c = Self.nearest(cv, count, v, at, dim)
                    sizes[c] += 1
                    for d in 0..<dim { sums[c * dim + d] += v[at + d] }
                }
            }
            for c in 0..<count where sizes[c] > 0 {
                for d in 0..<dim { centroids[c * dim + d] = sums[c * dim + d] / Float(sizes[c]) }
            }
        }
        return centroids
    }

    static func nearest(
        _ cv: UnsafeBufferPointer<Float>, _ count: Int, _ v: UnsafeBufferPointer<Float>, _ at: Int, _ dim: Int
    )
        -> Int
    {
        guard let centres = cv.baseAddress, let values = v.baseAddress else { return 0 }
        var best = 0
        var bestD = Float.infinity
        for c in 0..<count {
            let s = squaredDistance(centres + c * dim, values + at, dim)
            if s < bestD {
                bestD = s
                best = c
            }
        }
        return best
    }

    /// Keeps the `keep` nearest of the centroids `range` of `cv` to the row at `row` in `best`
    /// (sorted, nearest first).
    @inline(__always)
    static func nearestOf(
        _ cv: UnsafePointer<Float>, _ range: Range<Int>, _ row: UnsafePointer<Float>, _ dim: Int, _ keep: Int,
        _ best: inout [(Int, Float)]
    ) {
        for c in range {
            let s = squaredDistance(cv + c * dim, row, dim)
            if best.count == keep, let worst = best.last, s >= worst.1 { continue }
            var i = best.count
            while i > 0 && best[i - 1].1 > s { i -= 1 }
            best.insert((c, s), at: i)
            if best.count > keep { best.removeLast() }
        }
    }

    /// The `probes` lists whose centroids are nearest the row at `at`, among the lists of its
    /// ``coarseProbes`` nearest coarse groups.
    func nearestLists(_ v: UnsafeBufferPointer<Float>, _ at: Int, _ probes: Int) -> [Int] {
        guard let base = v.baseAddress else { return [] }
        let row = base + at
        var groups: [(Int, Float)] = []
        groups.reserveCapacity(Self.coarseProbes + 1)
        coarse.withUnsafeBufferPointer { cv in
            guard let c = cv.baseAddress else { return }
            Self.nearestOf(c, 0..<coarseCount, row, dimension, Self.coarseProbes, &groups)
        }
        var lists: [(Int, Float)] = []
        lists.reserveCapacity(probes + 1)
        centroids.withUnsafeBufferPointer { cv in
            guard let c = cv.baseAddress else { return }
            for (g, _) in groups {
                Self.nearestOf(c, groupStarts[g]..<groupStarts[g + 1], row, dimension, probes, &lists)
            }
        }
        return lists.map(\.0)
    }
}

/// The number of cores to share work among.
enum ProcessInfoCores {
    static let count: Int = {
        #if canImport(Glibc)
            let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        #else
            let n = 2
        #endif
        return max(1, n)
    }()
}

/// A read-only pointer handed to concurrent workers that only read through it while the owner
/// keeps the memory alive (the call that spawns them waits for them all).
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// One result slot per concurrent worker; each worker writes only its own slot, and the slots are
/// read after all workers have finished (`concurrentPerform` returns then).
final class SharedSlots<T: Sendable>: Sendable {
    private let slots: Mutex<[T]>

    init(count: Int, empty: T) { slots = Mutex([T](repeating: empty, count: count)) }

    func set(_ i: Int, _ value: T) { slots.withLock { $0[i] = value } }
    func get(_ i: Int) -> T { slots.withLock { $0[i] } }
}
