import FaceScopeCore

extension RedisStore: FaceVectorStore {
    /// Faces with a descriptor, a cursor batch at a time, read from the face records
    /// (`FT.AGGREGATE ... LOAD ... WITHCURSOR` over the face index: each face's pk, document,
    /// label, hand-set mark and descriptor; never a document). With `unlabelledOnly` the query
    /// asks the index for the faces without a label (`@label:[-1 -1]`) alone. Memory stays at
    /// one batch.
    public func forEachFaceVector(unlabelledOnly: Bool, _ body: ([FaceVector]) throws(StoreError) -> Void)
        throws(StoreError)
    {
        guard hasIndex else { return }
        try forEachFaceRecordBatch(
            query: unlabelledOnly ? "@label:[\(FaceRecord.unlabelled) \(FaceRecord.unlabelled)]" : "*",
            load: ["doc", "label", "fixed", "embedding"], count: 2000, what: "reading the faces"
        ) { rows throws(StoreError) in
            let batch = rows.compactMap(faceVector)
            if !batch.isEmpty { try body(batch) }
        }
    }

    /// Walks an `FT.AGGREGATE ... LOAD ... WITHCURSOR` over FaceScope's index (no time limit,
    /// DIALECT 3), handing each cursor batch's rows to `body` as field name to text, the
    /// document's key under `__key`; `what` names the work in errors.
    func forEachAggregateBatch(
        query: String, load paths: [String], count: Int, what: String,
        _ body: ([[String: String]]) throws(StoreError) -> Void
    ) throws(StoreError) {
        try walkLoading(
            index: layout.ownIndex, query: query, load: paths, count: count, dialect: ["DIALECT", "3"], what: what
        ) { rows throws(StoreError) in try body(rows.map { $0.compactMapValues(\.string) }) }
    }

    /// Walks `FT.AGGREGATE index query ... LOAD load @__key WITHCURSOR` (no time limit) to its
    /// end, handing each cursor batch's rows to `body` as field name to reply, the key under
    /// `__key`; `what` names the work in errors.
    func walkLoading(
        index: String, query: String, load: [String], count: Int, dialect: [String] = [], what: String,
        _ body: ([[String: RedisReply]]) throws(StoreError) -> Void
    ) throws(StoreError) {
        try walkCursor(
            index: index,
            [query, "TIMEOUT", "0", "LOAD", String(load.count + 1)] + load + [
                "@__key", "WITHCURSOR", "COUNT", String(max(1, count)),
            ] + dialect, what: what
        ) { rows throws(StoreError) in try body(rows.map(Self.rowReplies)) }
    }

    /// Runs `FT.AGGREGATE index arguments` (which ask for a cursor) and reads the cursor to its
    /// end, handing each batch's rows to `body`; `what` names the work in errors.
    func walkCursor(
        index: String, _ arguments: [String], what: String, _ body: ([RedisReply]) throws(StoreError) -> Void
    ) throws(StoreError) {
        var reply = try connection.send(["FT.AGGREGATE", index] + arguments)
        while true {
            if case .error(let message) = reply {
                throw .refused("\(what) failed: \(TerminalText.sanitize(message))")
            }
            guard let parts = reply.array, parts.count == 2, let rows = parts[0].array, let cursor = parts[1].integer
            else { throw .malformed("unexpected reply to FT.AGGREGATE WITHCURSOR") }
            try body(Array(rows.dropFirst()))
            if cursor == 0 { break }
            reply = try connection.send(["FT.CURSOR", "READ", index, String(cursor)])
        }
    }

    /// A row of an aggregation: field name to value text (values that are not text left out).
    static func rowFields(_ row: RedisReply) -> [String: String] {
        rowReplies(row).compactMapValues(\.string)
    }

    static func faceVectors(_ text: String, documentPK: String) -> [FaceVector]? {
        guard let members = try? JSONValue.parse(text) else { return nil }
        return faceVectors(members, documentPK: documentPK)
    }

    /// Faces from the flattened members of `$.faces[*]['pk','label','label_fixed','embedding']`:
    /// per face its pk (a string) first, then what it has of a label (a number or null), a
    /// hand-set mark (a boolean) and a descriptor (an array of numbers). nil when the values do
    /// not read that way.
    static func faceVectors(_ members: JSONValue, documentPK: String) -> [FaceVector]? {
        guard let values = members.arrayValue else { return nil }
        var faces: [FaceVector] = []
        for value in values {
            switch value {
            case .string(let pk):
                faces.append(FaceVector(facePK: pk, documentPK: documentPK, label: nil, embedding: []))
            case .int, .double, .null:
                guard !faces.isEmpty else { return nil }
                if value.isNull { continue }
                guard let label = value.intValue else { return nil }
                faces[faces.count - 1].label = Int(label)
            case .bool(let fixed):
                guard !faces.isEmpty else { return nil }
                faces[faces.count - 1].labelFixed = fixed
            case .array(let numbers):
                guard !faces.isEmpty else { return nil }
                let floats = numbers.compactMap(\.doubleValue).map { Float($0) }
                guard floats.count == numbers.count else { return nil }
                faces[faces.count - 1].embedding = floats
            case .object:
                return nil
            }
        }
        return faces
    }

    public func setFaceLabels(_ changes: [FaceLabelChange]) throws(StoreError) -> Int {
        try setLabels(
            changes.map { change in
                let face = Face(
                    pk: change.facePK, bbox: BoundingBox(pk: "", x1: 0, y1: 0, x2: 0, y2: 0), probability: 0)
                return (StoredFace(documentPK: change.documentPK, filename: "", faceIndex: 0, face: face), change.label)
            })
    }

    /// The nearest labelled faces: KNN over the face records with a label (the index narrows to
    /// them before the search), each record's pk, document, label, mark and descriptor; nearest
    /// first.
    public func nearestLabelledFaces(to embedding: [Float], k: Int) throws(StoreError)
        -> [(face: FaceVector, distance: Float)]
    {
        let rows = try nearestFaceRecords(
            to: embedding, count: max(1, k), filter: "@label:[0 +inf]", fields: ["doc", "label", "fixed", "embedding"])
        let near = rows.compactMap { row -> (face: FaceVector, distance: Float)? in
            guard let face = faceVector(row), face.label != nil, face.embedding.count == embedding.count else {
                return nil
            }
            return (face, FaceIdentities.distance(embedding, face.embedding))
        }
        return Array(near.sorted { $0.distance < $1.distance }.prefix(max(1, k)))
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
