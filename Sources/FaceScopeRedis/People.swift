import FaceScopeCore

extension RedisStore {
    /// Every stored face that has a descriptor, in filename order.
    public func facesWithEmbeddings() throws(StoreError) -> [StoredFace] {
        var result: [StoredFace] = []
        try forEachPage { page in
            for document in page {
                for (i, face) in (document.faces ?? []).enumerated() where face.embedding != nil {
                    result.append(
                        StoredFace(documentPK: document.pk, filename: document.filename, faceIndex: i, face: face))
                }
            }
        }
        return result
    }

    /// Sets faces' labels in place (matched by the face's pk, so a document re-detected in the
    /// meantime is left alone). Returns how many faces were updated.
    @discardableResult
    public func setLabels(_ labels: [(face: StoredFace, label: Int?)]) throws(StoreError) -> Int {
        var calls: [(keys: [String], args: [String])] = []
        for (stored, label) in labels {
            let pk = stored.face.pk
            guard !pk.isEmpty, !pk.contains("\""), !pk.contains("\\") else { continue }
            calls.append(
                (
                    [],
                    [
                        "JSON.SET", layout.key(pk: stored.documentPK),
                        "$.faces[?(@.pk==\"\(stored.face.pk)\")].label", label.map(String.init) ?? "null",
                        layout.faceRecordKey(documentPK: stored.documentPK, facePK: pk), "label",
                        String(label ?? FaceRecord.unlabelled),
                    ]
                ))
        }
        var updated = 0
        var start = 0
        while start < calls.count {
            let chunk = Array(calls[start..<min(calls.count, start + 1000)])
            start += chunk.count
            for reply in try connection.runScript(
                RedisStore.faceFieldScript, sha: RedisStore.faceFieldSHA, calls: chunk)
            {
                if case .error(let message) = reply {
                    throw .refused("Redis refused a label: \(TerminalText.sanitize(message))")
                }
                if reply.string == "OK" { updated += 1 }
            }
        }
        return updated
    }

    /// The faces nearest to `embedding` by descriptor distance (KNN on the face records' vector
    /// index, then the documents of the faces found), closest first.
    public func similarFaces(to embedding: [Float], limit: Int = 10, excludingFace facePK: String? = nil)
        throws(StoreError) -> [SimilarFace]
    {
        guard embedding.count == KeyLayout.embeddingDimension else {
            throw .malformed("a face descriptor has \(KeyLayout.embeddingDimension) values, not \(embedding.count)")
        }
        let rows = try nearestFaceRecords(to: embedding, count: max(1, limit) + 1, fields: ["doc"])
        let wanted = Set(
            rows.compactMap { row -> String? in
                guard let key = row["__key"]?.string, let doc = row["doc"]?.string else { return nil }
                return layout.facePK(fromRecordKey: key, documentPK: doc).map { doc + ":" + $0 }
            })
        var keys: [String] = []
        for row in rows {
            if let doc = row["doc"]?.string, !keys.contains(layout.key(pk: doc)) { keys.append(layout.key(pk: doc)) }
        }
        var found: [SimilarFace] = []
        for document in try load(keys: keys) {
            for (i, face) in (document.faces ?? []).enumerated() where wanted.contains(document.pk + ":" + face.pk) {
                guard let other = face.embedding, face.pk != facePK || facePK == nil else { continue }
                let stored = StoredFace(documentPK: document.pk, filename: document.filename, faceIndex: i, face: face)
                found.append(SimilarFace(stored: stored, distance: FaceIdentities.distance(embedding, other)))
            }
        }
        return Array(found.sorted { $0.distance < $1.distance }.prefix(limit))
    }

    /// Names given to labels.
    public func peopleNames() throws(StoreError) -> [Int: String] {
        let items = try connection.call(["HGETALL", layout.peopleKey]).array ?? []
        var names: [Int: String] = [:]
        var i = 0
        while i + 1 < items.count {
            if let label = items[i].string.flatMap({ Int($0) }), let name = items[i + 1].string { names[label] = name }
            i += 2
        }
        return names
    }

    /// Names a label (an empty name removes it).
    public func rename(label: Int, to name: String) throws(StoreError) {
        if name.isEmpty {
            try connection.call(["HDEL", layout.peopleKey, String(label)])
        } else {
            try connection.call(["HSET", layout.peopleKey, String(label), name])
        }
    }

    /// Every person (label) with its face count and name, most faces first, counted by the
    /// server over the face records (``peopleFromRecords()``).
    public func people() throws(StoreError) -> [Person] {
        try peopleFromRecords()
    }

    /// What counting people needs of each document with a labelled face: its pk, filename and
    /// its faces' pks, labels, probabilities and boxes (no landmarks, no descriptors), read through one
    /// cursor over FaceScope's index (`FT.AGGREGATE ... LOAD ... WITHCURSOR`), a few dozen bytes a
    /// photo instead of the whole document, in constant memory. A document whose faces lack
    /// one of those members (another tool's) cannot be lined up face by face: it is read whole.
    public func forEachLabelledFaceSummary(batch: Int = 5000, _ body: (ImageDocument) -> Void) throws(StoreError) {
        guard hasIndex else { return }
        // One selector a document, one a face: per face its pk, label, probability and box, in
        // that order (a union selector answers in its own order).
        let paths = ["$['pk','filename']", "$.faces[*]['pk','label','probability','bbox']"]
        var unaligned: [String] = []
        try forEachAggregateBatch(query: "@label:[-inf +inf]", load: paths, count: batch, what: "counting people") {
            rows throws(StoreError) in
            for row in rows {
                switch Self.faceSummary(row, paths: paths) {
                case .summary(let document): body(document)
                case .unaligned(let key): unaligned.append(key)
                case .none: break
                }
            }
        }
        var start = 0
        while start < unaligned.count {
            let chunk = Array(unaligned[start..<min(unaligned.count, start + 500)])
            start += chunk.count
            for document in try load(keys: chunk) { body(document) }
        }
    }

    enum FaceSummary {
        case summary(ImageDocument)
        case unaligned(key: String)
        case none
    }

    /// One row of the people cursor, field name to text (DIALECT 3: each path's values as a
    /// JSON array; `__key` the document's key).
    static func faceSummary(_ texts: [String: String], paths: [String]) -> FaceSummary {
        guard let key = texts["__key"] else { return .none }
        guard let document = texts[paths[0]].flatMap({ try? JSONValue.parse($0) })?.arrayValue,
            document.count == 2, let pk = document[0].stringValue, let filename = document[1].stringValue,
            let members = texts[paths[1]].flatMap({ try? JSONValue.parse($0) })?.arrayValue,
            !members.isEmpty, members.count % 4 == 0
        else { return .unaligned(key: key) }
        var faces: [Face] = []
        faces.reserveCapacity(members.count / 4)
        var k = 0
        while k < members.count {
            guard let facePK = members[k].stringValue, members[k + 1].isNull || members[k + 1].intValue != nil,
                let probability = members[k + 2].intValue, let box = try? BoundingBox(json: members[k + 3])
            else { return .unaligned(key: key) }
            let label = members[k + 1].intValue.map { Int($0) }
            faces.append(Face(pk: facePK, bbox: box, probability: Int(probability), label: label))
            k += 4
        }
        return .summary(ImageDocument(pk: pk, filename: filename, faces: faces))
    }

    /// The documents with a face of this label (RediSearch numeric query on FaceScope's index),
    /// in filename order.
    public func documents(withLabel label: Int) throws(StoreError) -> [ImageDocument] {
        var result: [ImageDocument] = []
        try forEachPage(query: "@label:[\(label) \(label)]") { result += $0 }
        return result
    }

    /// A page of the documents with a face of this label, in filename order, and how many
    /// there are: read from the server page by page, however many there are.
    public func documents(withLabel label: Int, offset: Int, limit: Int) throws(StoreError) -> SearchResult {
        let query = "@label:[\(label) \(label)]"
        var page: [ImageDocument] = []
        try forEachPage(query: query, offset: offset, limit: limit) { page += $0 }
        return SearchResult(total: try total(query: query), documents: page)
    }

    /// The label a person is known by: a label number that has faces or a name, or a name (case
    /// and accents ignored), whole or a prefix that only one name starts with.
    public func person(matching text: String) throws(StoreError) -> Int {
        let names = try peopleNames()
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let label = Int(trimmed) {
            if names[label] != nil { return label }
            if try total(query: "@label:[\(label) \(label)]") > 0 { return label }
            throw .notFound("no person with label \(label) (see 'facescope people')")
        }
        let wanted = FilenameWords.fold(trimmed)
        guard !wanted.isEmpty else { throw .invalidRequest("give a person's label or name") }
        let folded = names.map { (label: $0.key, name: $0.value, folded: FilenameWords.fold($0.value)) }
        let exact = folded.filter { $0.folded == wanted }
        if exact.count == 1, let only = exact.first { return only.label }
        let candidates = exact.isEmpty ? folded.filter { $0.folded.hasPrefix(wanted) } : exact
        if candidates.count == 1, let only = candidates.first { return only.label }
        if candidates.isEmpty {
            throw .notFound("no person named '\(TerminalText.sanitize(trimmed))' (see 'facescope people')")
        }
        let listed = candidates.sorted { $0.label < $1.label }.prefix(5).map {
            "\(TerminalText.sanitize($0.name)) (\($0.label))"
        }
        throw .notFound(
            "'\(TerminalText.sanitize(trimmed))' could be \(listed.joined(separator: ", "))\(candidates.count > 5 ? ", …" : ""): "
                + "give more of the name or the label")
    }

    /// Gives every face of label `from` the label `into`, and keeps `into`'s name (or takes
    /// `from`'s when `into` has none). Returns how many faces moved.
    @discardableResult
    public func merge(label from: Int, into: Int) throws(StoreError) -> Int {
        guard from != into else { return 0 }
        var moves: [(face: StoredFace, label: Int?)] = []
        for document in try documents(withLabel: from) {
            for (i, face) in (document.faces ?? []).enumerated() where face.label == from {
                moves.append(
                    (StoredFace(documentPK: document.pk, filename: document.filename, faceIndex: i, face: face), into))
            }
        }
        let moved = try setLabels(moves)
        let names = try peopleNames()
        if names[into] == nil, let name = names[from] { try rename(label: into, to: name) }
        try connection.call(["HDEL", layout.peopleKey, String(from)])
        return moved
    }
}
