/// What re-detection does with the faces an image already has.
public enum FaceMergeMode: String, Sendable, Equatable, CaseIterable {
    /// The new faces replace the old ones; labels are lost.
    case replace
    /// The new faces replace the old ones, but a new face that overlaps an old one (IoU above
    /// ``FaceMerge/defaultThreshold``) takes over its label, so identity clusters survive a re-run.
    case keepLabels
}

/// Combines the faces stored for an image with the faces a new detection found.
public enum FaceMerge {
    /// The overlap (intersection over union) above which a new box is the same face as an old one.
    public static let defaultThreshold = 0.5

    /// The faces to store after re-detection: `detected`, in its order, where each new face that
    /// overlaps an old one by more than `threshold` keeps the old face's extra fields (what other
    /// tools wrote into it), and in `keepLabels` mode its label.
    ///
    /// Pairs are matched one to one, best overlap first, so two new boxes never inherit the label
    /// of one old face; a new face that overlaps nothing keeps its own label (nil from the
    /// detector), and an old face with no label passes none on. Face and box pks stay those of the
    /// new detection.
    public static func merge(
        existing: [Face], detected: [Face], mode: FaceMergeMode, threshold: Double = defaultThreshold
    ) -> [Face] {
        guard !existing.isEmpty, !detected.isEmpty else { return detected }
        var pairs: [(new: Int, old: Int, iou: Double)] = []
        for (n, face) in detected.enumerated() where plausible(face.bbox) {
            for (o, old) in existing.enumerated() where plausible(old.bbox) {
                let overlap = face.bbox.iou(old.bbox)
                if overlap > threshold { pairs.append((n, o, overlap)) }
            }
        }
        // Best overlap first; ties in a fixed order so the result never depends on sorting.
        pairs.sort { a, b in
            if a.iou != b.iou { return a.iou > b.iou }
            if a.new != b.new { return a.new < b.new }
            return a.old < b.old
        }
        var result = detected
        var usedNew = Set<Int>()
        var usedOld = Set<Int>()
        for pair in pairs where !usedNew.contains(pair.new) && !usedOld.contains(pair.old) {
            usedNew.insert(pair.new)
            usedOld.insert(pair.old)
            let old = existing[pair.old]
            if mode == .keepLabels, let label = old.label { result[pair.new].label = label }
            // What other tools wrote into the face and its box stays with the same face; what the
            // new detection computed wins, and an old descriptor never outlives its face crop.
            result[pair.new].extra = carried(
                old.extra.filter { $0.name != Face.embeddingField }, into: result[pair.new].extra)
            result[pair.new].bbox.extra = carried(old.bbox.extra, into: result[pair.new].bbox.extra)
        }
        return result
    }

    private static func carried(_ old: [ExtraField], into new: [ExtraField]) -> [ExtraField] {
        let names = Set(new.map(\.name))
        return old.filter { !names.contains($0.name) } + new
    }

    /// Whether a stored box has coordinates an image can have (so its area cannot overflow);
    /// others overlap nothing.
    static func plausible(_ box: BoundingBox) -> Bool {
        let limit = 1 << 31
        return [box.x1, box.y1, box.x2, box.y2].allSatisfy { $0 > -limit && $0 < limit }
    }

    /// The document to store after re-detecting an image: the new detection (faces, size,
    /// channels, its own extra fields such as `source`) under the stored document's pk, with the
    /// stored document's other extra fields kept and its faces merged as `mode` says. With no
    /// stored document, `detected` as it is.
    public static func updated(
        existing: ImageDocument?, detected: ImageDocument, mode: FaceMergeMode, threshold: Double = defaultThreshold
    ) -> ImageDocument {
        guard let existing else { return detected }
        var document = detected
        document.pk = existing.pk
        document.extra = carried(existing.extra, into: detected.extra)
        if let faces = detected.faces {
            document.faces = merge(existing: existing.faces ?? [], detected: faces, mode: mode, threshold: threshold)
        }
        return document
    }
}
