import FaceScopeCore

extension RedisStore: FaceVectorStore {
    /// Pages of documents in filename order, their faces with descriptors in batches: memory
    /// holds one page however large the library is.
    public func forEachFaceVector(unlabelledOnly: Bool, _ body: ([FaceVector]) throws(StoreError) -> Void)
        throws(StoreError)
    {
        try forEachPage { page throws(StoreError) in
            var batch: [FaceVector] = []
            for document in page {
                for face in document.faces ?? [] {
                    guard let embedding = face.embedding, !unlabelledOnly || face.label == nil else { continue }
                    batch.append(
                        FaceVector(
                            facePK: face.pk, documentPK: document.pk, label: face.label, labelFixed: face.labelFixed,
                            embedding: embedding))
                }
            }
            if !batch.isEmpty { try body(batch) }
        }
    }

    public func setFaceLabels(_ changes: [FaceLabelChange]) throws(StoreError) -> Int {
        try setLabels(
            changes.map { change in
                let face = Face(
                    pk: change.facePK, bbox: BoundingBox(pk: "", x1: 0, y1: 0, x2: 0, y2: 0), probability: 0)
                return (StoredFace(documentPK: change.documentPK, filename: "", faceIndex: 0, face: face), change.label)
            })
    }

    public func nearestLabelledFaces(to embedding: [Float], k: Int) throws(StoreError)
        -> [(face: FaceVector, distance: Float)]
    {
        try similarFaces(to: embedding, limit: max(1, k) * 2).compactMap { found in
            let face = found.stored.face
            guard let label = face.label, let vector = face.embedding else { return nil }
            return (
                FaceVector(
                    facePK: face.pk, documentPK: found.stored.documentPK, label: label, labelFixed: face.labelFixed,
                    embedding: vector),
                found.distance
            )
        }.prefix(max(1, k)).map { $0 }
    }

    /// Found by halving numeric ranges on FaceScope's index (a range query matches a document when
    /// any of its faces' labels falls in it): about 30 counts, whatever the library's size.
    public func largestLabel() throws(StoreError) -> Int? {
        func any(above value: Int) throws(StoreError) -> Bool {
            try total(query: "@label:[(\(value) +inf]") > 0
        }
        // Labels with a name but no face any more count too: a new person must not take a name.
        let named = try peopleNames().keys.max()
        guard try total(query: "@label:[-inf +inf]") > 0 else { return named }
        var low = -1
        var high = 1
        while try any(above: high) {
            low = high
            high *= 2
        }
        // Some label is > low (or low is -1), none is > high.
        while high - low > 1 {
            let middle = low + (high - low) / 2
            if try any(above: middle) { low = middle } else { high = middle }
        }
        return max(high, named ?? high)
    }
}
