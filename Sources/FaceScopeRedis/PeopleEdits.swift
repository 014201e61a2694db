import FaceScopeCore

/// A face's label and hand-set mark as they were before an edit: what an undo puts back.
public struct FaceLabelState: Sendable, Equatable {
    public var documentPK: String
    public var facePK: String
    public var label: Int?
    public var labelFixed: Bool

    public init(documentPK: String, facePK: String, label: Int?, labelFixed: Bool) {
        self.documentPK = documentPK
        self.facePK = facePK
        self.label = label
        self.labelFixed = labelFixed
    }

    public init(_ stored: StoredFace) {
        self.init(
            documentPK: stored.documentPK, facePK: stored.face.pk, label: stored.face.label,
            labelFixed: stored.face.labelFixed)
    }
}

/// One edit of the people, with what is needed to undo it (face pks and old labels only).
public enum PeopleEdit: Sendable, Equatable {
    case renamed(label: Int, oldName: String?, newName: String)
    case merged(from: Int, into: Int, faces: [FaceLabelState], fromName: String?, intoName: String?)
    case moved(face: FaceLabelState, filename: String, to: Int)
    case separated(face: FaceLabelState, filename: String, newLabel: Int)

    /// What the edit did, in words (names sanitized for the terminal).
    public var summary: String {
        switch self {
        case .renamed(let label, _, let newName):
            return newName.isEmpty
                ? "removed the name of label \(label)" : "named label \(label) '\(TerminalText.sanitize(newName))'"
        case .merged(let from, let into, let faces, _, _):
            return "merged label \(from) into \(into) (\(faces.count) face\(faces.count == 1 ? "" : "s"))"
        case .moved(let face, let filename, let to):
            return
                "moved a face of \(TerminalText.sanitize(filename)) from \(face.label.map(String.init) ?? "no label") to \(to)"
        case .separated(_, let filename, let newLabel):
            return "gave a face of \(TerminalText.sanitize(filename)) a label of its own (\(newLabel))"
        }
    }
}

extension StoredFace {
    /// Face `faceIndex` (from 0) of a stored document, or nil when it has no such face.
    public init?(document: ImageDocument, faceIndex: Int) {
        guard let faces = document.faces, faces.indices.contains(faceIndex) else { return nil }
        self.init(documentPK: document.pk, filename: document.filename, faceIndex: faceIndex, face: faces[faceIndex])
    }
}

extension RedisStore {
    /// Names a label and returns the edit, to be undone with `undo(_:)`.
    public func renameRecording(label: Int, to name: String) throws(StoreError) -> PeopleEdit {
        let old = try peopleNames()[label]
        try rename(label: label, to: name)
        return .renamed(label: label, oldName: old, newName: name)
    }

    /// Merges label `from` into `into` (see `merge(label:into:)`) and returns the edit with every
    /// face that moved and both names, to be undone with `undo(_:)`.
    public func mergeRecording(label from: Int, into: Int) throws(StoreError) -> PeopleEdit {
        let names = try peopleNames()
        var faces: [FaceLabelState] = []
        for document in try documents(withLabel: from) {
            for face in document.faces ?? [] where face.label == from {
                faces.append(
                    FaceLabelState(documentPK: document.pk, facePK: face.pk, label: from, labelFixed: face.labelFixed))
            }
        }
        try merge(label: from, into: into)
        return .merged(from: from, into: into, faces: faces, fromName: names[from], intoName: names[into])
    }

    /// Gives one face the label `label` and marks it as set by hand (clustering keeps it).
    public func moveFace(_ stored: StoredFace, to label: Int) throws(StoreError) -> PeopleEdit {
        let before = FaceLabelState(stored)
        try setLabelAndMark(stored, label: label, fixed: true)
        return .moved(face: before, filename: stored.filename, to: label)
    }

    /// "Not this person": gives one face a new label of its own (one above the largest label in
    /// use, named or not), marked as set by hand.
    public func separateFace(_ stored: StoredFace) throws(StoreError) -> PeopleEdit {
        let before = FaceLabelState(stored)
        let newLabel = try largestLabel().map { $0 + 1 } ?? 0
        try setLabelAndMark(stored, label: newLabel, fixed: true)
        return .separated(face: before, filename: stored.filename, newLabel: newLabel)
    }

    /// Puts back what an edit changed: labels and hand-set marks of the faces, and names.
    public func undo(_ edit: PeopleEdit) throws(StoreError) {
        switch edit {
        case .renamed(let label, let oldName, _):
            try rename(label: label, to: oldName ?? "")
        case .merged(let from, let into, let faces, let fromName, let intoName):
            try restore(faces)
            try rename(label: from, to: fromName ?? "")
            try rename(label: into, to: intoName ?? "")
        case .moved(let face, _, _), .separated(let face, _, _):
            try restore([face])
        }
    }

    private func restore(_ states: [FaceLabelState]) throws(StoreError) {
        try setLabels(states.map { (face: stub($0), label: $0.label) })
        try setMarks(states.map { ($0.documentPK, $0.facePK, $0.labelFixed) })
    }

    private func setLabelAndMark(_ stored: StoredFace, label: Int, fixed: Bool) throws(StoreError) {
        guard try setLabels([(face: stored, label: label)]) > 0 else {
            throw .notFound(
                "face \(stored.faceIndex + 1) of '\(TerminalText.sanitize(stored.filename))' is no longer stored "
                    + "(detected again meanwhile?): look at the image again")
        }
        try setMarks([(stored.documentPK, stored.face.pk, fixed)])
    }

    /// A stored face carrying only what `setLabels` matches on (document and face pk).
    private func stub(_ state: FaceLabelState) -> StoredFace {
        StoredFace(
            documentPK: state.documentPK, filename: "", faceIndex: 0,
            face: Face(pk: state.facePK, bbox: BoundingBox(pk: "", x1: 0, y1: 0, x2: 0, y2: 0), probability: 0))
    }

    /// Sets or removes faces' `label_fixed` marks, matched by face pk. JSON.MERGE adds the field
    /// where it is missing (JSON.SET on a filter path only changes existing fields) and removes it
    /// with null. A face no longer stored (re-detected meanwhile) is left alone.
    private func setMarks(_ marks: [(documentPK: String, facePK: String, fixed: Bool)]) throws(StoreError) {
        let calls: [(keys: [String], args: [String])] = marks.compactMap { mark in
            guard !mark.facePK.isEmpty, !mark.facePK.contains("\""), !mark.facePK.contains("\\") else { return nil }
            return (
                [],
                [
                    "JSON.MERGE", layout.key(pk: mark.documentPK), "$.faces[?(@.pk==\"\(mark.facePK)\")]",
                    mark.fixed ? "{\"\(Face.labelFixedField)\":true}" : "{\"\(Face.labelFixedField)\":null}",
                    layout.faceRecordKey(documentPK: mark.documentPK, facePK: mark.facePK), "fixed",
                    mark.fixed ? "1" : "0",
                ]
            )
        }
        var start = 0
        while start < calls.count {
            let chunk = Array(calls[start..<min(calls.count, start + 1000)])
            start += chunk.count
            for reply in try connection.runScript(
                RedisStore.faceFieldScript, sha: RedisStore.faceFieldSHA, calls: chunk)
            {
                // No matching face (re-detected meanwhile) reads "wrong static path": left alone.
                if case .error(let message) = reply, !message.contains("wrong static path") {
                    throw .refused("Redis refused a face's hand-set mark: \(TerminalText.sanitize(message))")
                }
            }
        }
    }
}

/// Two people whose faces are close: perhaps one person.
public struct MergeSuggestion: Sendable, Equatable {
    public var first: Person
    public var second: Person
    /// The distance between the two people's mean descriptors.
    public var distance: Float

    public init(first: Person, second: Person, distance: Float) {
        self.first = first
        self.second = second
        self.distance = distance
    }
}

/// Merge suggestions and how many people were compared.
public struct MergeSuggestions: Sendable, Equatable {
    public var pairs: [MergeSuggestion]
    /// The people compared (those with most faces, at most the bound asked for).
    public var compared: Int
    /// Every person there is.
    public var people: Int
}

extension MergeSuggestion {
    /// The pairs of people whose mean descriptors are closer than `threshold`, closest first
    /// (ties by label). Each person's mean is over its faces' descriptors; people without one are
    /// left out.
    public static func pairs(people: [Person], means: [Int: [Float]], below threshold: Float) -> [MergeSuggestion] {
        let withMeans = people.compactMap { person in means[person.label].map { (person, $0) } }
        var pairs: [MergeSuggestion] = []
        for i in withMeans.indices {
            for j in withMeans.indices where j > i {
                let distance = FaceIdentities.distance(withMeans[i].1, withMeans[j].1)
                if distance < threshold {
                    pairs.append(MergeSuggestion(first: withMeans[i].0, second: withMeans[j].0, distance: distance))
                }
            }
        }
        return pairs.sorted {
            ($0.distance, $0.first.label, $0.second.label) < ($1.distance, $1.first.label, $1.second.label)
        }
    }

    /// The mean of each label's descriptors.
    public static func means(of faces: [StoredFace], labels: Set<Int>) -> [Int: [Float]] {
        var sums = DescriptorSums(labels: labels)
        for stored in faces {
            if let label = stored.face.label, let embedding = stored.face.embedding {
                sums.add(embedding, label: label)
            }
        }
        return sums.means
    }
}

/// Running sums of descriptors per label (only the labels asked for), so means can be taken over
/// faces read page by page.
public struct DescriptorSums: Sendable {
    private let labels: Set<Int>
    private var sums: [Int: [Float]] = [:]
    private var counts: [Int: Int] = [:]

    public init(labels: Set<Int>) { self.labels = labels }

    public mutating func add(_ embedding: [Float], label: Int) {
        guard labels.contains(label) else { return }
        var sum = sums[label] ?? [Float](repeating: 0, count: embedding.count)
        guard sum.count == embedding.count else { return }
        for k in embedding.indices { sum[k] += embedding[k] }
        sums[label] = sum
        counts[label, default: 0] += 1
    }

    /// Each label's mean descriptor.
    public var means: [Int: [Float]] {
        var means: [Int: [Float]] = [:]
        for (label, sum) in sums {
            let n = Float(counts[label] ?? 1)
            means[label] = sum.map { $0 / n }
        }
        return means
    }
}

extension RedisStore {
    /// Pairs of people (among the `maxPeople` with most faces) whose mean descriptors are closer
    /// than `threshold`, closest first.
    public func mergeSuggestions(threshold: Float, maxPeople: Int = 500) throws(StoreError) -> MergeSuggestions {
        let everyone = try people()
        let compared = Array(everyone.prefix(max(0, maxPeople)))
        // The faces page by page: memory holds the sums of the people compared, not the library.
        var sums = DescriptorSums(labels: Set(compared.map(\.label)))
        try forEachFaceVector(unlabelledOnly: false) { batch in
            for face in batch { if let label = face.label { sums.add(face.embedding, label: label) } }
        }
        let means = sums.means
        return MergeSuggestions(
            pairs: MergeSuggestion.pairs(people: compared, means: means, below: threshold), compared: compared.count,
            people: everyone.count)
    }
}
