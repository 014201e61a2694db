import FaceScopeCore

/// A face record as the save script writes it: the face's pk and its record.
struct StoredFaceRecord: Sendable {
    var facePK: String
    var record: FaceRecord
}

extension KeyLayout {
    /// A face member holding landmarks in the compact text form
    /// (``FaceRecord/landmarks(fromDescriptors:)``) while `descriptors` is null: taken on import.
    public static let landmarksField = "landmarks"
}

extension RedisStore {
    // MARK: - The stored layout of a document

    /// A document as FaceScope stores it, and its faces' records: each face's `descriptors`
    /// (landmarks) null and no `embedding` in the document (both live in the face record, see
    /// ``FaceRecord``). Every other member is kept as it is, in order.
    static func storedForm(_ document: ImageDocument) -> (json: JSONValue, records: [StoredFaceRecord]) {
        var records: [StoredFaceRecord] = []
        guard case .object(var members) = document.json else { return (document.json, []) }
        let faces = document.faces ?? []
        for face in faces where !face.pk.isEmpty {
            records.append(StoredFaceRecord(facePK: face.pk, record: FaceRecord(documentPK: document.pk, face: face)))
        }
        if let at = members.firstIndex(where: { $0.0 == "faces" }), case .array(let items) = members[at].1 {
            members[at].1 = .array(items.map(compactFace))
        }
        return (.object(members), records)
    }

    /// One face object in the stored layout (see ``storedForm(_:)``).
    static func compactFace(_ face: JSONValue) -> JSONValue {
        guard case .object(let members) = face else { return face }
        var out: [(String, JSONValue)] = []
        out.reserveCapacity(members.count)
        for (name, value) in members {
            switch name {
            case Face.embeddingField, KeyLayout.landmarksField: continue
            case "descriptors": out.append((name, .null))
            default: out.append((name, value))
            }
        }
        return .object(out)
    }

    /// A document with faces whose landmarks are in the compact `landmarks` member, as redis-om's
    /// layout has it: the landmarks back in `descriptors` (where that is null). Stored documents
    /// are joined with their face records instead (``attachRecords(_:)``).
    public static func expandStoredFaces(_ document: inout JSONValue) throws(DocumentFormatError) {
        guard case .object(var members) = document,
            let at = members.firstIndex(where: { $0.0 == "faces" }), case .array(var faces) = members[at].1
        else { return }
        var changed = false
        for i in faces.indices {
            guard case .object(var face) = faces[i],
                let l = face.firstIndex(where: { $0.0 == KeyLayout.landmarksField })
            else { continue }
            guard case .string(let text) = face[l].1 else {
                throw DocumentFormatError("a face's landmarks are not text")
            }
            face.remove(at: l)
            let descriptors = try FaceRecord.descriptors(fromLandmarks: text)
            if let d = face.firstIndex(where: { $0.0 == "descriptors" }) {
                if face[d].1.isNull { face[d].1 = descriptors }
            } else {
                face.append(("descriptors", descriptors))
            }
            faces[i] = .object(face)
            changed = true
        }
        guard changed else { return }
        members[at].1 = .array(faces)
        document = .object(members)
    }

    /// The save script's arguments for a document's face records: the record prefix, then seven
    /// a face (pk, label, fixed, probability, descriptor bytes or empty, its FLOAT16 copy or
    /// empty, landmarks or empty).
    func recordArguments(_ records: [StoredFaceRecord]) -> [RedisArgument] {
        var args: [RedisArgument] = [.text(layout.faceRecordPrefix)]
        args.reserveCapacity(1 + 7 * records.count)
        for item in records {
            let record = item.record
            args.append(.text(item.facePK))
            args.append(.text(String(record.label ?? FaceRecord.unlabelled)))
            args.append(.text(record.fixed ? "1" : "0"))
            args.append(.text(String(record.probability)))
            args.append(.bytes(record.embedding.map(FaceRecord.blob) ?? []))
            args.append(.bytes(record.embedding.map(FaceRecord.halfBlob) ?? []))
            args.append(.text(record.landmarks ?? ""))
        }
        return args
    }

    // MARK: - Reads joined with the records

    /// Gives the faces of these documents what their face records hold and the documents do
    /// not: the descriptor (`embedding`) and the landmarks (`descriptors`), one pipelined `HMGET`
    /// a face. A face whose document has its own (another tool's) keeps them.
    func attachRecords(_ documents: inout [ImageDocument]) throws(StoreError) {
        var wanted: [(doc: Int, face: Int)] = []
        var commands: [[String]] = []
        for (d, document) in documents.enumerated() {
            for (f, face) in (document.faces ?? []).enumerated()
            where !face.pk.isEmpty && (face.embedding == nil || face.descriptors?.isNull ?? true) {
                wanted.append((d, f))
                commands.append([
                    "HMGET", layout.faceRecordKey(documentPK: document.pk, facePK: face.pk), "embedding", "landmarks",
                ])
            }
        }
        guard !commands.isEmpty else { return }
        let replies = try connection.pipeline(commands)
        for (place, reply) in zip(wanted, replies) {
            if case .error(let message) = reply {
                throw .refused("reading a face's record failed: \(TerminalText.sanitize(message))")
            }
            guard let values = reply.array, values.count == 2, var face = documents[place.doc].faces?[place.face]
            else { continue }
            if face.embedding == nil, let bytes = values[0].bytes, let vector = FaceRecord.vector(fromBlob: bytes) {
                face.embedding = vector
            }
            if face.descriptors?.isNull ?? true, let text = values[1].string,
                let descriptors = try? FaceRecord.descriptors(fromLandmarks: text)
            {
                face.descriptors = descriptors
            }
            documents[place.doc].faces?[place.face] = face
        }
    }

    // MARK: - The face record index

    /// Creates the face record index when it is missing (or of an older version). Returns true
    /// when the documents already stored need their records written
    /// (``rewriteDocuments(progress:)``): there was no face index before. An index of an
    /// earlier version of this layout (version 2 on) is only created again, over the records
    /// there are, and waited for.
    func ensureFaceIndex() throws(StoreError) -> Bool {
        let exists = try indexExists(layout.faceIndex)
        let version =
            exists ? try connection.send(["GET", layout.faceIndexVersionKey]).string.flatMap { Int($0) } : nil
        if version == KeyLayout.faceIndexVersion { return false }
        if exists {
            try write(["FT.DROPINDEX", layout.faceIndex], what: "upgrade FaceScope's face index")
        }
        try write(layout.faceIndexCreateArguments, what: "create FaceScope's face index")
        try write(
            ["SET", layout.faceIndexVersionKey, String(KeyLayout.faceIndexVersion)],
            what: "record the face index version")
        if let version, version >= 2 {
            if version < 4 { try writeHalfVectors() }
            try waitForIndexing(layout.faceIndex)
            return false
        }
        return true
    }

    /// Gives every face record with a descriptor its FLOAT16 copy (`vector`), which versions of
    /// the face index before 4 did not have: a `SCAN` over the record keys, then a pipelined
    /// `HGET` and `HSET` a batch.
    func writeHalfVectors() throws(StoreError) {
        try scanKeys(startingWith: layout.faceRecordPrefix, type: "hash", count: 2000) { keys throws(StoreError) in
            let blobs = try connection.pipeline(keys.map { ["HGET", $0, "embedding"] })
            var writes: [[RedisArgument]] = []
            for (key, blob) in zip(keys, blobs) {
                guard let bytes = blob.bytes, let values = FaceRecord.vector(fromBlob: bytes) else { continue }
                writes.append([.text("HSET"), .text(key), .text("vector"), .bytes(FaceRecord.halfBlob(values))])
            }
            for reply in try connection.pipeline(arguments: writes) {
                if case .error(let message) = reply {
                    throw .refused("Redis refused a face record's vector: \(TerminalText.sanitize(message))")
                }
            }
            return true
        }
    }

    /// Writes every stored document again in the current layout (compact landmarks, descriptors
    /// in face records), page by page: the upgrade from a version that kept landmarks and
    /// descriptors inside the documents. `progress` hears how many are done of how many.
    public func rewriteDocuments(progress: ((Int, Int) -> Void)? = nil) throws(StoreError) {
        let total = try count()
        var done = 0
        try forEachPage(pageSize: 500) { page throws(StoreError) in
            for result in try saveAll(page) {
                if case .failure(let error) = result { throw error }
            }
            done += page.count
            progress?(done, total)
        }
    }

    // MARK: - People from the face records

    /// Every person (label) with its face count, name and most confident face, counted by the
    /// server: one `FT.AGGREGATE ... GROUPBY @label` over the face records, then the example
    /// faces' documents read for their filename and box (one pipelined `JSON.GET` a person).
    /// Documents another tool wrote or rewrote since FaceScope last did (they lack
    /// `faces_order`) are counted from the documents themselves, and the records FaceScope's
    /// last write of them left are not counted, so the counts are always the documents'.
    public func peopleFromRecords() throws(StoreError) -> [Person] {
        guard hasIndex else { return [] }
        let names = try peopleNames()
        var groups: [Int: (faces: Int, doc: String, face: String, probability: Int)] = [:]
        try walkCursor(
            index: layout.faceIndex,
            [
                "@label:[0 +inf]", "TIMEOUT", "0",
                "GROUPBY", "1", "@label", "REDUCE", "COUNT", "0", "AS", "n",
                "REDUCE", "FIRST_VALUE", "4", "@doc", "BY", "@probability", "DESC", "AS", "doc",
                "REDUCE", "MAX", "1", "@probability", "AS", "p",
                "WITHCURSOR", "COUNT", "5000",
            ], what: "counting people"
        ) { rows in
            for row in rows {
                let fields = Self.rowFields(row)
                guard let label = fields["label"].flatMap({ Int($0) }), let n = fields["n"].flatMap({ Int($0) }),
                    let doc = fields["doc"]
                else { continue }
                // The face itself is the document's face of this label (a photo has one).
                groups[label] = (n, doc, "", fields["p"].flatMap { Double($0) }.map { Int($0) } ?? 0)
            }
        }
        try countOtherWriters(into: &groups)
        let ordered = groups.map { (label: $0.key, faces: $0.value.faces, doc: $0.value.doc, face: $0.value.face) }
            .filter { $0.faces > 0 }
        let path = "$.faces[*]['pk','probability','label','bbox']"
        var people: [Person] = []
        people.reserveCapacity(ordered.count)
        var start = 0
        while start < ordered.count {
            let chunk = ordered[start..<min(ordered.count, start + 1000)]
            start += chunk.count
            let replies = try connection.pipeline(
                chunk.map { ["JSON.GET", layout.key(pk: $0.doc), "$.filename", path] })
            for (group, reply) in zip(chunk, replies) {
                var example: StoredFace?
                if let text = reply.string, case .object(let found)? = try? JSONValue.parse(text),
                    let filename = found.first(where: { $0.0 == "$.filename" })?.1.arrayValue?.first?.stringValue,
                    let members = found.first(where: { $0.0 == path })?.1.arrayValue, members.count % 4 == 0
                {
                    let faces = stride(from: 0, to: members.count, by: 4).map { k in
                        (
                            pk: members[k].stringValue ?? "", probability: members[k + 1].intValue.map { Int($0) },
                            label: members[k + 2].intValue.map { Int($0) }, box: members[k + 3]
                        )
                    }
                    if let at = Self.exampleFace(
                        faces.map { ($0.pk, $0.label, $0.probability ?? 0) }, label: group.label, pk: group.face),
                        let probability = faces[at].probability, let box = try? BoundingBox(json: faces[at].box)
                    {
                        let face = Face(pk: faces[at].pk, bbox: box, probability: probability, label: group.label)
                        example = StoredFace(documentPK: group.doc, filename: filename, faceIndex: at, face: face)
                    }
                }
                people.append(
                    Person(label: group.label, name: names[group.label], faces: group.faces, example: example))
            }
        }
        // Another tool's document whose faces lack a member cannot be lined up: read whole.
        let unaligned = people.indices.filter { people[$0].example == nil }
        if !unaligned.isEmpty {
            let wanted = Dictionary(
                ordered.map { ($0.label, (doc: $0.doc, face: $0.face)) }, uniquingKeysWith: { a, _ in a })
            let documents = try load(
                keys: Array(Set(unaligned.compactMap { wanted[people[$0].label]?.doc })).map {
                    layout.key(pk: $0)
                })
            let byPK = Dictionary(documents.map { ($0.pk, $0) }, uniquingKeysWith: { a, _ in a })
            for i in unaligned {
                guard let place = wanted[people[i].label], let document = byPK[place.doc],
                    let index = Self.exampleFace(
                        (document.faces ?? []).map { ($0.pk, $0.label, $0.probability) }, label: people[i].label,
                        pk: place.face),
                    let face = document.faces?[index]
                else { continue }
                people[i].example = StoredFace(
                    documentPK: document.pk, filename: document.filename, faceIndex: index, face: face)
            }
        }
        return people.sorted { ($0.faces, -$0.label) > ($1.faces, -$1.label) }
    }

    /// Which of a document's faces (pk, label, probability) is a person's example: the one of
    /// this pk when one is given, else the most confident of the person's label.
    static func exampleFace(_ faces: [(String, Int?, Int)], label: Int, pk: String) -> Int? {
        if !pk.isEmpty { return faces.firstIndex { $0.0 == pk } }
        var best: Int?
        for (i, face) in faces.enumerated() where face.1 == label {
            if let b = best, faces[b].2 >= face.2 { continue }
            best = i
        }
        return best
    }

    /// Counts the labelled faces of documents another tool wrote or rewrote (no
    /// `faces_order`) from the documents, taking away what their faces' records counted.
    private func countOtherWriters(into groups: inout [Int: (faces: Int, doc: String, face: String, probability: Int)])
        throws(StoreError)
    {
        var keys: [String] = []
        try forEachAggregateBatch(
            query: "@label:[0 +inf] ismissing(@\(KeyLayout.facesOrderField))", load: ["$.pk"], count: 5000,
            what: "counting people"
        ) { rows throws(StoreError) in keys += rows.compactMap { $0["__key"] } }
        var start = 0
        while start < keys.count {
            let chunk = Array(keys[start..<min(keys.count, start + 500)])
            start += chunk.count
            let documents = try load(keys: chunk)
            let faces = documents.flatMap { document in (document.faces ?? []).map { (document.pk, $0) } }
            let recorded = try connection.pipeline(
                faces.map { ["HGET", layout.faceRecordKey(documentPK: $0.0, facePK: $0.1.pk), "label"] })
            for ((documentPK, face), record) in zip(faces, recorded) {
                if let old = record.string.flatMap({ Int($0) }), old >= 0 { groups[old]?.faces -= 1 }
                guard let label = face.label else { continue }
                var group = groups[label] ?? (0, documentPK, face.pk, -1)
                group.faces += 1
                if face.probability > group.probability {
                    group.doc = documentPK
                    group.face = face.pk
                    group.probability = face.probability
                }
                groups[label] = group
            }
        }
    }

    // MARK: - Vectors from the face records

    /// Walks the face records matching `query` with `FT.AGGREGATE ... LOAD ... WITHCURSOR`
    /// over the face index, handing each batch's rows (field name to reply, `__key` the
    /// record's key) to `body`.
    func forEachFaceRecordBatch(
        query: String, load fields: [String], count: Int, what: String,
        _ body: ([[String: RedisReply]]) throws(StoreError) -> Void
    ) throws(StoreError) {
        try walkLoading(
            index: layout.faceIndex, query: query, load: fields.map { "@" + $0 }, count: count, what: what, body)
    }

    /// One aggregate row as field name to reply.
    static func rowReplies(_ row: RedisReply) -> [String: RedisReply] {
        var out: [String: RedisReply] = [:]
        let items = row.array ?? []
        var i = 0
        while i + 1 < items.count {
            if let name = items[i].string { out[name] = items[i + 1] }
            i += 2
        }
        return out
    }

    /// A face vector from a face record's fields (`__key`, `doc`, `label`, `fixed`,
    /// `embedding`); nil when it has no descriptor.
    func faceVector(_ fields: [String: RedisReply]) -> FaceVector? {
        guard let key = fields["__key"]?.string, let doc = fields["doc"]?.string,
            let facePK = layout.facePK(fromRecordKey: key, documentPK: doc), let bytes = fields["embedding"]?.bytes,
            let embedding = FaceRecord.vector(fromBlob: bytes)
        else { return nil }
        let label = fields["label"]?.string.flatMap { Int($0) }.flatMap { $0 < 0 ? nil : $0 }
        return FaceVector(
            facePK: facePK, documentPK: doc, label: label, labelFixed: fields["fixed"]?.string == "1",
            embedding: embedding)
    }

    /// The `count` faces nearest to `embedding` among the face records matching `filter`
    /// (KNN on the face index), nearest first, each with its record's fields.
    func nearestFaceRecords(to embedding: [Float], count: Int, filter: String = "*", fields: [String])
        throws(StoreError) -> [[String: RedisReply]]
    {
        guard embedding.count == KeyLayout.embeddingDimension else {
            throw .malformed("a face descriptor has \(KeyLayout.embeddingDimension) values, not \(embedding.count)")
        }
        let query = filter == "*" ? "*" : "(\(filter))"
        var args: [RedisArgument] = [
            .text("FT.SEARCH"), .text(layout.faceIndex),
            .text("\(query)=>[KNN \(count) @vector $vector AS distance]"),
            .text("PARAMS"), .text("2"), .text("vector"), .bytes(FaceRecord.halfBlob(embedding)), .text("TIMEOUT"),
            .text("0"), .text("SORTBY"), .text("distance"), .text("RETURN"), .text(String(fields.count + 1)),
        ]
        args += (fields + ["distance"]).map(RedisArgument.text)
        args += [.text("LIMIT"), .text("0"), .text(String(count)), .text("DIALECT"), .text("2")]
        let reply = try connection.pipeline(arguments: [args])[0]
        if case .error(let message) = reply {
            throw .refused("the similarity search failed: \(TerminalText.sanitize(message))")
        }
        var rows: [[String: RedisReply]] = []
        let items = (reply.array ?? []).dropFirst()
        var i = items.startIndex
        while i + 1 < items.endIndex {
            var fields = Self.rowReplies(items[i + 1])
            fields["__key"] = items[i]
            rows.append(fields)
            i += 2
        }
        return rows
    }

    // MARK: - Scripts that keep documents and records in step

    /// Changes one face in its document (`JSON.SET` of its label, `JSON.MERGE` of its hand-set
    /// mark, on a filter path) and, when that matched and the face's record exists, the same
    /// field of the record. ARGV: the JSON command, document key, path, JSON value, record key,
    /// record field, record value. Replies as the JSON command did.
    static let faceFieldScript = """
        local ok, reply = pcall(redis.call, ARGV[1], ARGV[2], ARGV[3], ARGV[4])
        if not ok then return reply end
        if reply and redis.call('EXISTS', ARGV[5]) == 1 then redis.call('HSET', ARGV[5], ARGV[6], ARGV[7]) end
        return reply
        """
    static let faceFieldSHA = SHA1.hexDigest(faceFieldScript)

    /// Lua that deletes the face records of the document at `key` with pk `pk` (its faces'
    /// pks), given the record prefix in `recprefix`.
    static let deleteRecordsLua = """
        local function delete_records(key, recprefix, pk)
          local ok, old = pcall(redis.call, 'JSON.GET', key, '$.faces[*].pk')
          if ok and old then
            for _, fpk in ipairs(cjson.decode(old)) do
              if type(fpk) == 'string' then redis.call('DEL', recprefix .. pk .. ':' .. fpk) end
            end
          end
        end
        """

    /// Deletes a document and its face records. KEYS[1]: the document; ARGV[1]: record prefix;
    /// ARGV[2]: the document's pk.
    static let deleteScript =
        deleteRecordsLua + "\n"
            + """
            delete_records(KEYS[1], ARGV[1], ARGV[2])
            return redis.call('DEL', KEYS[1])
            """
    static let deleteSHA = SHA1.hexDigest(deleteScript)
}
