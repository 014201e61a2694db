import FaceScopeCore

extension RedisStore: FaceVectorStore {
    public func forEachFaceVector(unlabelledOnly: Bool, _ body: ([FaceVector]) throws(FaceScopeError) -> Void)
        throws(FaceScopeError)
    {
        var batch: [FaceVector] = []
        for stored in try facesWithEmbeddings() {
            guard let embedding = stored.face.embedding, !unlabelledOnly || stored.face.label == nil else { continue }
            batch.append(
                FaceVector(
                    facePK: stored.face.pk, documentPK: stored.documentPK, label: stored.face.label,
                    labelFixed: stored.face.labelFixed, embedding: embedding))
            if batch.count == 1000 {
                try body(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        if !batch.isEmpty { try body(batch) }
    }

    public func setFaceLabels(_ changes: [FaceLabelChange]) throws(FaceScopeError) -> Int {
        try setLabels(
            changes.map { change in
                let face = Face(
                    pk: change.facePK, bbox: BoundingBox(pk: "", x1: 0, y1: 0, x2: 0, y2: 0), probability: 0)
                return (StoredFace(documentPK: change.documentPK, filename: "", faceIndex: 0, face: face), change.label)
            })
    }
}
