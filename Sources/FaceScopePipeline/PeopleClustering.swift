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

/// Gives faces identity labels (the `cluster` command, and the browser after a re-detection).
public enum PeopleClustering {
    /// Faces without a label join the person most of their close neighbours belong to, or form new
    /// people among themselves; with `rebuild`, every face is clustered afresh and each group keeps
    /// the old label most of its faces had. Two faces of one photo are never one person, and a
    /// label set by hand (`Face.labelFixed`) is kept.
    public static func run(store: some FaceVectorStore, threshold: Float, rebuild: Bool)
        throws(FaceScopeError) -> ClusterSummary
    {
        var faces: [FaceVector] = []
        try store.forEachFaceVector(unlabelledOnly: false) { faces += $0 }
        guard !faces.isEmpty else { return ClusterSummary(faces: 0, people: 0, updated: 0) }
        var photos: [String: Int] = [:]
        let groups = faces.map { face in
            if let known = photos[face.documentPK] { return known }
            photos[face.documentPK] = photos.count
            return photos.count - 1
        }
        let labels = FaceIdentities.assign(
            descriptors: faces.map(\.embedding), existing: faces.map(\.label), threshold: threshold,
            relabelAll: rebuild, groups: groups)
        // A label set by hand (moved, or "not this person") is never changed by clustering.
        let changes = zip(faces, labels).filter { $0.0.label != $0.1 && !$0.0.labelFixed }.map {
            FaceLabelChange(facePK: $0.0.facePK, documentPK: $0.0.documentPK, label: $0.1)
        }
        let updated = try store.setFaceLabels(changes)
        return ClusterSummary(faces: faces.count, people: Set(labels).count, updated: updated)
    }
}
