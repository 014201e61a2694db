import FaceScopeCore

/// What a clustering pass did.
public struct ClusterSummary: Sendable, Equatable {
    /// Faces with descriptors that were considered.
    public var faces: Int
    /// Distinct labels among them afterwards.
    public var people: Int
    /// Labels written.
    public var updated: Int
}

/// How far a rebuild has come: one stage's count, of `total` where it is known.
public struct ClusterProgress: Sendable, Equatable {
    public enum Stage: String, Sendable {
        case reading = "faces read"
        case searching = "faces searched"
        case writing = "labels written"
    }

    public var stage: Stage
    public var count: Int
    public var total: Int?
}

/// Gives faces identity labels (the `cluster` command, and the browser after a re-detection).
public enum PeopleClustering {
    /// Faces without a label join the person most of their close neighbours belong to, or form new
    /// people among themselves (read in batches, neighbours through the store's vector index: memory
    /// holds one batch); with `rebuild`, every face is clustered afresh and each group keeps the old
    /// label most of its faces had. Two faces of one photo are never one person, and a
    /// label set by hand (`Face.labelFixed`) is kept.
    ///
    /// `progress` hears each stage's count as it grows (faces read, faces searched, labels written),
    /// with the total where it is known.
    public static func run(
        store: some FaceVectorStore, threshold: Float, rebuild: Bool,
        progress: (ClusterProgress) -> Void = { _ in }
    ) throws(StoreError) -> ClusterSummary {
        if !rebuild { return try labelUnlabelled(store: store, threshold: threshold) }
        return try rebuildAll(store: store, threshold: threshold, progress: progress)
    }

    /// Faces written per `setFaceLabels` call in a rebuild.
    public static let writeBatch = 1000

    /// Every face clustered afresh: descriptors read batch by batch into one contiguous buffer
    /// (512 bytes a face) with their keys, the nearest neighbours under the threshold found
    /// through an inverted file (`NeighbourGraph.approximate`), chinese whispers over that sparse
    /// graph, and the labels that changed written in batches of `writeBatch`.
    static func rebuildAll(
        store: some FaceVectorStore, threshold: Float, progress: (ClusterProgress) -> Void
    ) throws(StoreError) -> ClusterSummary {
        var descriptors = FaceDescriptors()
        var facePKs: [String] = []
        var photoOf: [Int] = []
        var photoPKs: [String] = []
        var photos: [String: Int] = [:]
        var existing: [Int] = []
        var fixed: [Int] = []
        var anyFixed = false
        try store.forEachFaceVector(unlabelledOnly: false) { batch in
            for face in batch where !face.embedding.isEmpty {
                descriptors.append(face.embedding)
                facePKs.append(face.facePK)
                if let known = photos[face.documentPK] {
                    photoOf.append(known)
                } else {
                    photos[face.documentPK] = photoPKs.count
                    photoOf.append(photoPKs.count)
                    photoPKs.append(face.documentPK)
                }
                existing.append(face.label ?? -1)
                let pinned = face.labelFixed ? (face.label ?? -1) : -1
                fixed.append(pinned)
                if pinned >= 0 { anyFixed = true }
            }
            progress(ClusterProgress(stage: .reading, count: facePKs.count, total: nil))
        }
        photos = [:]
        let n = facePKs.count
        guard n > 0 else { return ClusterSummary(faces: 0, people: 0, updated: 0) }
        progress(ClusterProgress(stage: .searching, count: 0, total: n))
        let graph = NeighbourGraph.approximate(descriptors, threshold: threshold) { searched in
            progress(ClusterProgress(stage: .searching, count: searched, total: n))
        }
        descriptors = FaceDescriptors()
        progress(ClusterProgress(stage: .searching, count: n, total: n))
        let labels = FaceIdentities.rebuild(
            graph: graph, existing: existing, fixed: anyFixed ? fixed : nil, groups: photoOf)
        var changed: [Int] = []
        for i in 0..<n where labels[i] != existing[i] && fixed[i] < 0 { changed.append(i) }
        var updated = 0
        var start = 0
        progress(ClusterProgress(stage: .writing, count: 0, total: changed.count))
        while start < changed.count {
            let end = min(changed.count, start + writeBatch)
            updated += try store.setFaceLabels(
                changed[start..<end].map { i in
                    FaceLabelChange(facePK: facePKs[i], documentPK: photoPKs[photoOf[i]], label: labels[i])
                })
            start = end
            progress(ClusterProgress(stage: .writing, count: end, total: changed.count))
        }
        return ClusterSummary(faces: n, people: Set(labels).count, updated: updated)
    }

    /// Labels faces just stored (after a detection) without reading the library: each joins the
    /// person most of its labelled neighbours within `threshold` belong to (found through the
    /// store's vector index, `k` per face), never a person another face of its photo is; the rest
    /// are clustered among themselves and get new labels after the largest in use. Faces that have
    /// a label or no descriptor are left alone.
    public static func labelNew(
        _ faces: [FaceVector], store: some FaceVectorStore, threshold: Float, neighbours k: Int = 10
    ) throws(StoreError) -> ClusterSummary {
        let new = faces.filter { $0.label == nil && !$0.embedding.isEmpty }
        guard !new.isEmpty else { return ClusterSummary(faces: 0, people: 0, updated: 0) }
        var labels: [String: Int] = [:]
        var rest: [FaceVector] = []
        for face in new {
            var votes: [Int: Int] = [:]
            var taken = Set<Int>()
            for (neighbour, distance) in try store.nearestLabelledFaces(to: face.embedding, k: k) {
                guard let label = neighbour.label else { continue }
                // A label another face of this photo has is not on offer.
                if neighbour.documentPK == face.documentPK {
                    taken.insert(label)
                    continue
                }
                if distance < threshold { votes[label, default: 0] += 1 }
            }
            for other in new where other.documentPK == face.documentPK && other.facePK != face.facePK {
                if let given = labels[other.facePK] { taken.insert(given) }
            }
            for label in taken { votes[label] = nil }
            if let best = votes.max(by: { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }) {
                labels[face.facePK] = best.key
            } else {
                rest.append(face)
            }
        }
        if !rest.isEmpty {
            var photos: [String: Int] = [:]
            let groups = rest.map { face in
                if let known = photos[face.documentPK] { return known }
                photos[face.documentPK] = photos.count
                return photos.count - 1
            }
            let clusters = FaceIdentities.cluster(
                graph: NeighbourGraph.approximate(FaceDescriptors(rest.map(\.embedding)), threshold: threshold),
                groups: groups)
            let first = (try store.largestLabel() ?? -1) + 1
            for (face, cluster) in zip(rest, clusters) { labels[face.facePK] = first + cluster }
        }
        let changes = new.compactMap { face in
            labels[face.facePK].map { FaceLabelChange(facePK: face.facePK, documentPK: face.documentPK, label: $0) }
        }
        let updated = try store.setFaceLabels(changes)
        return ClusterSummary(faces: new.count, people: Set(labels.values).count, updated: updated)
    }

    /// The unlabelled faces, batch by batch, through `labelNew`.
    static func labelUnlabelled(store: some FaceVectorStore, threshold: Float) throws(StoreError)
        -> ClusterSummary
    {
        var total = ClusterSummary(faces: 0, people: 0, updated: 0)
        var pending: [FaceVector] = []
        func flush() throws(StoreError) {
            guard !pending.isEmpty else { return }
            let done = try labelNew(pending, store: store, threshold: threshold)
            total.faces += done.faces
            total.updated += done.updated
            pending = []
        }
        try store.forEachFaceVector(unlabelledOnly: true) { batch throws(StoreError) in
            pending += batch
            if pending.count >= 2000 { try flush() }
        }
        try flush()
        return total
    }
}
