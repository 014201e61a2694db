import FaceScopeCore
import Foundation
import Testing

@testable import FaceScopeRedis

/// The face records beside the documents: written, relabelled, marked, replaced and deleted with
/// their documents, older layouts upgraded, and other writers' rewrites counted from the documents.
@Suite(
    "Face records in step with their documents, against a real Redis Stack", .enabled(if: TestRedis.available),
    .serialized)
struct FaceRecordStoreTests {
    static func vector(_ seed: Int) -> [Float] {
        (0..<128).map { Float((seed * 37 + $0 * 11) % 101) / 101 - 0.5 }
    }

    static func landmarks(_ seed: Int) -> JSONValue {
        .object([
            ("chin", .object((0..<3).map { (String($0), .object([("x", .int(Int64(seed + $0))), ("y", .int(7))])) })),
            ("nose", .object([("27", .object([("x", .int(Int64(seed))), ("y", .int(9))]))])),
        ])
    }

    /// A photo of `faces` faces with descriptors and landmarks; face i labelled `labels[i]`.
    static func photo(_ name: String, labels: [Int?]) -> ImageDocument {
        var doc = document(name, faces: labels.count)
        for i in labels.indices {
            doc.faces?[i].label = labels[i]
            doc.faces?[i].embedding = vector(i + name.count)
            doc.faces?[i].descriptors = landmarks(i * 10)
        }
        return doc
    }

    /// Every face record under the store's prefix: key to field to bytes.
    static func records(_ store: RedisStore) throws -> [String: [String: [UInt8]]] {
        var out: [String: [String: [UInt8]]] = [:]
        var cursor = "0"
        repeat {
            let reply = try store.connection.call([
                "SCAN", cursor, "MATCH", store.layout.faceRecordPrefix + "*", "COUNT", "1000",
            ])
            let pair = reply.array ?? []
            cursor = pair.first?.string ?? "0"
            for key in (pair.last?.array ?? []).compactMap(\.string) {
                let items = try store.connection.call(["HGETALL", key]).array ?? []
                var fields: [String: [UInt8]] = [:]
                var i = 0
                while i + 1 < items.count {
                    if let name = items[i].string, let value = items[i + 1].bytes { fields[name] = value }
                    i += 2
                }
                out[key] = fields
            }
        } while cursor != "0"
        return out
    }

    static func text(_ bytes: [UInt8]?) -> String? { bytes.map { String(decoding: $0, as: UTF8.self) } }

    @Test("a save writes a record a face; labels, marks, a re-detection and a delete keep them in step")
    func recordsFollowTheirDocument() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let original = Self.photo("trip/beach.jpg", labels: [nil, 3])
        let saved = try store.save(original)
        var found = try Self.records(store)
        #expect(found.count == 2)
        let faces = try #require(saved.faces)
        let first = try #require(found[store.layout.faceRecordKey(documentPK: saved.pk, facePK: faces[0].pk)])
        let second = try #require(found[store.layout.faceRecordKey(documentPK: saved.pk, facePK: faces[1].pk)])
        #expect(Self.text(first["label"]) == "-1" && Self.text(second["label"]) == "3")
        #expect(Self.text(first["doc"]) == saved.pk)
        #expect(first["embedding"] == FaceRecord.blob(try #require(faces[0].embedding)))
        #expect(Self.text(first["landmarks"]) == FaceRecord.landmarks(fromDescriptors: Self.landmarks(0)))
        // The document itself holds neither the descriptors nor the landmarks...
        let stored = try #require(try store.connection.call(["JSON.GET", store.layout.key(pk: saved.pk), "$"]).string)
        #expect(!stored.contains("\"embedding\"") && !stored.contains("\"x\":"))
        #expect(stored.contains("\"descriptors\":null"))
        // ...and reads give them back from the records.
        let read = try #require(try store.get(pk: saved.pk))
        #expect(read.faces?.map(\.embedding) == faces.map(\.embedding))
        #expect(read.faces?.map(\.descriptors) == original.faces?.map(\.descriptors))

        // A label and a hand-set mark change the record too.
        let stored0 = StoredFace(documentPK: saved.pk, filename: saved.filename, faceIndex: 0, face: faces[0])
        #expect(try store.setLabels([(stored0, 5)]) == 1)
        _ = try store.moveFace(
            StoredFace(documentPK: saved.pk, filename: saved.filename, faceIndex: 1, face: faces[1]), to: 9)
        found = try Self.records(store)
        #expect(
            Self.text(found[store.layout.faceRecordKey(documentPK: saved.pk, facePK: faces[0].pk)]?["label"]) == "5")
        let moved = found[store.layout.faceRecordKey(documentPK: saved.pk, facePK: faces[1].pk)]
        #expect(Self.text(moved?["label"]) == "9" && Self.text(moved?["fixed"]) == "1")
        #expect(try store.people().map(\.label).sorted() == [5, 9])

        // Detected again with one face: the old faces' records go.
        var again = Self.photo("trip/beach.jpg", labels: [nil])
        again.pk = saved.pk
        let resaved = try store.save(again)
        found = try Self.records(store)
        #expect(found.count == 1)
        #expect(
            found.keys.first
                == store.layout.faceRecordKey(documentPK: saved.pk, facePK: try #require(resaved.faces?[0].pk)))
        #expect(try store.people().isEmpty)

        #expect(try store.delete(pk: saved.pk))
        #expect(try Self.records(store).isEmpty)
    }

    @Test("documents stored in the older layout are rewritten when the store is opened: nothing lost")
    func olderLayoutIsUpgraded() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        // The older layout: landmarks and descriptors inside the document, no records.
        var expected: [String: ImageDocument] = [:]
        var generator = ULIDGenerator()
        for (n, labels) in [[Int?](arrayLiteral: 1, 2), [1], [nil]].enumerated() {
            var doc = Self.photo("old/\(n).jpg", labels: labels)
            doc.pk = generator.next()
            for i in doc.faces?.indices ?? 0..<0 {
                doc.faces?[i].pk = generator.next()
                doc.faces?[i].bbox.pk = generator.next()
            }
            expected[doc.filename] = doc
            try store.connection.call(["JSON.SET", store.layout.key(pk: doc.pk), "$", doc.json.serialized])
        }
        _ = try store.connection.call(["SET", store.layout.ownIndexVersionKey, "5"])
        let reopened = try RedisStore.open(settings: try TestRedis.settings(prefix: store.layout.prefix))
        #expect(try Self.records(reopened).count == 4)
        for (name, doc) in expected {
            let read = try #require(try reopened.get(filename: name))
            #expect(read.pk == doc.pk)
            #expect(read.faces?.map(\.embedding) == doc.faces?.map(\.embedding))
            #expect(read.faces?.map(\.descriptors) == doc.faces?.map(\.descriptors))
            #expect(read.faces?.map(\.label) == doc.faces?.map(\.label))
            let stored = try reopened.connection.call(["JSON.GET", reopened.layout.key(pk: doc.pk), "$"]).string
            #expect(stored?.contains("\"embedding\"") == false)
        }
        #expect(try reopened.people().map { [$0.label, $0.faces] } == [[1, 2], [2, 1]])
    }

    @Test("a load without records has the faces, not their landmarks and descriptors")
    func loadWithoutRecords() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let saved = try store.save(Self.photo("bare/0.jpg", labels: [3, nil]))
        let key = store.layout.key(pk: saved.pk)
        let bare = try #require(try store.load(keys: [key], records: false).first)
        let full = try #require(try store.load(keys: [key]).first)
        #expect(bare.faces?.map(\.pk) == saved.faces?.map(\.pk))
        #expect(bare.faces?.map(\.label) == [3, nil])
        #expect(bare.faces?.allSatisfy { $0.embedding == nil && $0.descriptors == nil } == true)
        #expect(full.faces?.map(\.embedding) == saved.faces?.map(\.embedding))
        #expect(full.faces?.map(\.descriptors) == saved.faces?.map(\.descriptors))
    }

    @Test("an earlier face index over the records is created again, and the documents are not rewritten")
    func earlierFaceIndexIsRecreated() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        for (n, labels) in [[Int?](arrayLiteral: 1, 2), [1], [nil]].enumerated() {
            var doc = Self.photo("v2/\(n).jpg", labels: labels)
            for i in labels.indices { doc.faces?[i].probability = 50 + 10 * n + i }
            try store.save(doc)
        }
        // Version 2 of the face index: the document pk not sortable, the FLOAT32 descriptors
        // indexed, no FLOAT16 copies in the records.
        var create = store.layout.faceIndexCreateArguments
        let sortable = try #require(create.firstIndex(of: "CASESENSITIVE")).advanced(by: 1)
        #expect(create[sortable] == "SORTABLE")
        create.remove(at: sortable)
        let vector = try #require(create.firstIndex(of: "vector"))
        create[vector] = "embedding"
        create[vector + 5] = "FLOAT32"
        try store.connection.call(["FT.DROPINDEX", store.layout.faceIndex])
        try store.connection.call(create)
        try store.connection.call(["SET", store.layout.faceIndexVersionKey, "2"])
        let before = try Self.records(store)
        #expect(before.count == 4 && before.values.allSatisfy { $0["vector"] != nil })
        for key in before.keys { try store.connection.call(["HDEL", key, "vector"]) }
        // A field no save writes: a rewrite of the documents would replace the records.
        let record = try #require(before.keys.sorted().first)
        try store.connection.call(["HSET", record, "sentinel", "1"])

        let reopened = try RedisStore.open(settings: try TestRedis.settings(prefix: store.layout.prefix))
        #expect(
            try reopened.connection.call(["GET", reopened.layout.faceIndexVersionKey]).string
                == String(KeyLayout.faceIndexVersion))
        let info = try reopened.connection.call(["FT.INFO", reopened.layout.faceIndex]).array ?? []
        let attributes = try #require(info.firstIndex { $0.string == "attributes" }.map { info[$0 + 1].array ?? [] })
        let doc = attributes.map { ($0.array ?? []).compactMap(\.string) }.first { $0.contains("doc") } ?? []
        #expect(doc.contains("SORTABLE"))
        let after = try Self.records(reopened)
        #expect(Self.text(after[record]?["sentinel"]) == "1")
        // Every record has its FLOAT16 copy again, and the similarity search finds by it.
        for (key, fields) in after {
            let embedding = try #require(fields["embedding"].flatMap(FaceRecord.vector(fromBlob:)))
            #expect(fields["vector"] == FaceRecord.halfBlob(embedding), "\(key)")
        }
        let probe = Self.vector(1 + "v2/0.jpg".count)
        let similar = try reopened.similarFaces(to: probe, limit: 2)
        #expect(similar.first?.stored.filename == "v2/0.jpg")
        #expect(similar.first.map { $0.distance < 1e-3 } == true)
        let people = try reopened.people()
        #expect(people.map { [$0.label, $0.faces] } == [[1, 2], [2, 1]])
        #expect(people.map { $0.example?.filename } == ["v2/1.jpg", "v2/0.jpg"])
        #expect(people.map { $0.example?.face.probability } == [60, 51])
        #expect(people.map { $0.example?.face.label } == [1, 2])
    }

    @Test("another tool's rewrite is counted from the document, not from the records it left behind")
    func otherWritersRewriteIsCountedFromTheDocument() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let saved = try store.save(Self.photo("a.jpg", labels: [3]))
        _ = try store.save(Self.photo("b.jpg", labels: [3]))
        #expect(try store.people().map { [$0.label, $0.faces] } == [[3, 2]])
        // As redis-om saves a model: its own fields only (FaceScope's derived fields dropped),
        // the face relabelled.
        var rewritten = saved
        rewritten.faces?[0].label = 4
        rewritten.faces?[0].embedding = nil
        try store.connection.call(["JSON.SET", store.layout.key(pk: saved.pk), "$", rewritten.json.serialized])
        #expect(try store.people().map { [$0.label, $0.faces] } == [[3, 1], [4, 1]])
        #expect(try store.people().first { $0.label == 4 }?.example?.filename == "a.jpg")
        // The explicit step brings the records in step; the counts stay the documents'.
        try store.fillDerivedFields()
        let record = try Self.records(store)[
            store.layout.faceRecordKey(documentPK: saved.pk, facePK: try #require(saved.faces?[0].pk))]
        #expect(Self.text(record?["label"]) == "4")
        #expect(record?["embedding"] == FaceRecord.blob(try #require(saved.faces?[0].embedding)))
        #expect(try store.people().map { [$0.label, $0.faces] } == [[3, 1], [4, 1]])
    }
}
