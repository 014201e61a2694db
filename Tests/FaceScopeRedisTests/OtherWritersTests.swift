import FaceScopeCore
import FaceScopeRedis
import Foundation
import Testing

/// Other tools writing the same documents (the original Python services, redis-cli), and
/// documents FaceScope did not write the way it would: everything a read returns comes from the
/// documents as they are now.
@Suite(
    "Other writers and foreign documents, against a real Redis Stack", .enabled(if: TestRedis.available), .serialized)
struct OtherWritersTests {
    /// Writes a document the way another tool would: a plain JSON.SET, nothing else.
    func writeForeign(_ store: RedisStore, pk: String, _ json: String) throws {
        try store.connection.call(["JSON.SET", store.layout.key(pk: pk), "$", json])
    }

    func foreignJSON(pk: String, filename: String, faces: Int = 0) -> String {
        var document = document(filename, faces: faces)
        document.pk = pk
        var generator = ULIDGenerator()
        document.assignMissingKeys(using: &generator)
        return document.json.serialized
    }

    func pks(_ count: Int) -> [String] {
        var generator = ULIDGenerator()
        return (0..<count).map { _ in generator.next() }
    }

    @Test("reads change nothing: another writer's document gets FaceScope's fields only through the explicit step")
    func readsDoNotWrite() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let pk = pks(1)[0]
        try writeForeign(store, pk: pk, foreignJSON(pk: pk, filename: "trip/obama_and_biden.jpg", faces: 2))
        _ = try store.list(order: .faces, descending: true)
        #expect(try store.search(.text("biden")).total == 0)
        let orderField = ["JSON.GET", store.layout.key(pk: pk), "$.\(KeyLayout.facesOrderField)"]
        #expect(try store.connection.call(orderField).string == "[]")
        try store.fillDerivedFields()
        #expect(try store.connection.call(orderField).string != "[]")
        #expect(try store.search(.text("biden")).total == 1)
    }

    @Test("a delete plus the same number of inserts by another writer is seen by the very next read")
    func deleteAndInsertSameCount() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let old = pks(5)
        for (i, pk) in old.enumerated() {
            try writeForeign(store, pk: pk, foreignJSON(pk: pk, filename: "old-\(i).jpg"))
        }
        #expect(try store.list().map(\.filename) == (0..<5).map { "old-\($0).jpg" })
        // Another writer deletes them all and writes as many others.
        try store.connection.call(["DEL"] + old.map(store.layout.key(pk:)))
        for (i, pk) in pks(5).enumerated() {
            try writeForeign(store, pk: pk, foreignJSON(pk: pk, filename: "new-\(i).jpg", faces: i))
        }
        #expect(try store.list().map(\.filename) == (0..<5).map { "new-\($0).jpg" })
        // Listing by face count reads a field FaceScope derives: the explicit step fills it first.
        try store.fillDerivedFields()
        #expect(try store.list(order: .faces, descending: true).map(\.filename).first == "new-4.jpg")
        #expect(try store.get(filename: "new-3.jpg")?.faceCount == 3)
        #expect(try store.get(filename: "old-3.jpg") == nil)
        #expect(try store.search(.prefix("new-")).total == 5)
        #expect(try store.count() == 5)
    }

    @Test("a document renamed by another writer is found under its new name only, and never overwritten")
    func renamedByAnotherWriter() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let saved = try store.save(document("before.jpg", faces: 2))
        try store.connection.call(["JSON.SET", store.layout.key(pk: saved.pk), "$.filename", "\"after.jpg\""])
        #expect(try store.get(filename: "before.jpg") == nil)
        #expect(try store.get(filename: "after.jpg")?.pk == saved.pk)
        #expect(try store.list().map(\.filename) == ["after.jpg"])
        // Storing the old name again makes a new document; the renamed one is left as it is.
        let again = try store.save(document("before.jpg", faces: 1))
        #expect(again.pk != saved.pk)
        #expect(try store.get(pk: saved.pk)?.filename == "after.jpg")
        #expect(try store.get(pk: saved.pk)?.faceCount == 2)
        #expect(try store.list().map(\.filename) == ["after.jpg", "before.jpg"])
    }

    @Test("a saved document whose pk belongs to another filename gets a new pk; the other is untouched")
    func pkOfAnotherFilename() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let original = try store.save(document("original.jpg", faces: 2))
        var incoming = document("incoming.jpg", faces: 1)
        incoming.pk = original.pk
        let stored = try store.save(incoming)
        #expect(stored.pk != original.pk)
        #expect(ULIDGenerator.isValid(stored.pk))
        #expect(try store.get(filename: "original.jpg")?.pk == original.pk)
        #expect(try store.get(filename: "original.jpg")?.faceCount == 2)
        #expect(try store.get(filename: "incoming.jpg")?.pk == stored.pk)
        #expect(try store.get(pk: stored.pk)?.pk == stored.pk)
        #expect(try store.list().map(\.filename) == ["incoming.jpg", "original.jpg"])
    }

    @Test("a malformed foreign document is skipped and named; every other document is still read")
    func malformedDocumentIsSkipped() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        _ = try store.saveAll((0..<4).map { document("good-\($0).jpg", faces: 1) })
        let bad = pks(1)[0]
        try writeForeign(
            store, pk: bad,
            #"{"pk":"\#(bad)","filename":"bad.jpg","faces":null,"channels":3,"height":1.5,"width":-7,"portrait":0}"#)
        #expect(try store.list().map(\.filename) == (0..<4).map { "good-\($0).jpg" })
        #expect(try store.search(.text("bad")).documents.isEmpty)
        #expect(try store.people().isEmpty)
        var exported = 0
        try store.forEachStoredDocument { exported += $0.count }
        #expect(exported == 4)
        let skipped = store.skippedDocuments()
        #expect(skipped.map(\.key) == [store.layout.key(pk: bad)])
        #expect(skipped.first?.reason.contains("height") == true)
    }

    @Test("reading walks documents the index cannot hold: export reads the keys themselves")
    func exportReadsTheKeys() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        _ = try store.saveAll((0..<3).map { document("kept-\($0).jpg") })
        // A number where FaceScope's index reads text: RediSearch refuses to index the document,
        // so it is not in FaceScope's index; export must still write it.
        let pk = pks(1)[0]
        try writeForeign(
            store, pk: pk,
            #"{"pk":"\#(pk)","filename":"unindexed.jpg","faces":[{"pk":"A","bbox":{"pk":"B","x1":0,"y1":0,"x2":5,"y2":5},"probability":90,"label":null,"rotation":null,"descriptors":null}],"channels":3,"height":9,"width":9,"portrait":0,"filename_words":5}"#
        )
        var names: [String] = []
        try store.forEachStoredDocument { names += $0.map(\.filename) }
        #expect(names.sorted() == ["kept-0.jpg", "kept-1.jpg", "kept-2.jpg", "unindexed.jpg"])
        #expect(try store.indexingFailures().count >= 1)
        #expect(try store.list().count == 3)
    }

    @Test("a read under a key prefix nothing is stored under creates nothing")
    func readsCreateNothing() throws {
        var generator = ULIDGenerator()
        let prefix = ":typo\(generator.next().suffix(6)).Model:"
        let store = try RedisStore.open(settings: try TestRedis.settings(prefix: prefix), access: .read)
        #expect(store.hasIndex == false)
        #expect(try store.list().isEmpty)
        #expect(try store.count() == 0)
        #expect(try store.get(filename: "x.jpg") == nil)
        _ = try store.healthChecks()
        let indexes = (try store.connection.call(["FT._LIST"]).array ?? []).compactMap(\.string)
        #expect(!indexes.contains { $0.contains(prefix) })
        let keys = try store.connection.call(["KEYS", "*" + prefix + "*"]).array ?? []
        #expect(keys.isEmpty)
    }

    @Test("a read-only ACL user lists, searches and shows; a write is named a permission error")
    func readOnlyUser() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        _ = try store.saveAll((0..<3).map { document("ro-\($0).jpg", faces: $0) })
        let user = "fsro" + String(pks(1)[0].suffix(6)).lowercased()
        try store.connection.call([
            "ACL", "SETUSER", user, "on", ">secret-pw", "~*", "resetchannels", "-@all", "+@read", "+@connection",
            "+ft.search", "+ft.aggregate", "+ft.info", "+ft.cursor", "+json.get", "+json.mget", "+json.type",
            "+scan", "+info",
        ])
        defer { _ = try? store.connection.call(["ACL", "DELUSER", user]) }
        guard let url = TestRedis.url, let at = url.range(of: "://") else { return }
        let readURL = url.replacingCharacters(in: at, with: "://\(user):secret-pw@")
        let settings = try Settings.resolve(
            flags: [.redisURL: readURL, .keyPrefix: store.layout.prefix], environment: [:], dotenv: [:])
        let reader = try RedisStore.open(settings: settings, access: .read)
        #expect(try reader.list().map(\.filename) == ["ro-0.jpg", "ro-1.jpg", "ro-2.jpg"])
        #expect(try reader.list(order: .faces, descending: true).first?.filename == "ro-2.jpg")
        #expect(try reader.get(filename: "ro-1.jpg")?.faceCount == 1)
        #expect(try reader.search(.text("ro")).total == 3)
        let failure = try reader.saveAll([document("ro-3.jpg")]).first
        guard case .failure(let error)? = failure else {
            Issue.record("a read-only user saved a document")
            return
        }
        #expect(error.description.contains("may not write"))
        #expect(error.description.contains("NOPERM"))
    }

    @Test("pages past RediSearch's result cap in every order and direction")
    func deepPagesEveryOrder() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let count = 10_030
        let docs = (0..<count).map { document(String(format: "deep/%05d.jpg", $0), faces: $0 % 3) }
        _ = try store.saveAll(docs, batchSize: 1000)
        // Another tool's document without a filename (nor any field FaceScope sorts on): a
        // window's comparison must pass it by, not fail the whole listing.
        let stray = pks(1)[0]
        try writeForeign(store, pk: stray, #"{"pk":"\#(stray)","faces":[]}"#)
        let byFaces = docs.sorted { a, b in
            a.faceCount != b.faceCount
                ? a.faceCount < b.faceCount : a.filename.utf8.lexicographicallyPrecedes(b.filename.utf8)
        }.map(\.filename)
        #expect(
            try store.list(order: .faces, offset: 10_010, limit: 10).map(\.filename) == Array(byFaces[10_010..<10_020]))
        #expect(
            try store.list(order: .faces, descending: true, offset: 5_000, limit: 6_000).map(\.filename)
                == Array(byFaces.reversed()[5_000..<10_030]))
        #expect(
            try store.list(descending: true, offset: 10_001, limit: 3).map(\.filename)
                == Array(docs.reversed()[10_001..<10_004].map(\.filename)))
        // Page after page past the cap (a browser scrolling down continues where the last page
        // ended), in both directions: the same rows as one walk.
        var paged: [String] = []
        for offset in stride(from: 10_000, to: 10_030, by: 7) {
            paged += try store.list(order: .faces, offset: offset, limit: 7).map(\.filename)
        }
        #expect(paged == Array(byFaces[10_000..<10_030]))
        var backwards: [String] = []
        for offset in stride(from: 12, to: 10_030, by: 2_500) {
            backwards += try store.list(descending: true, offset: offset, limit: 3).map(\.filename)
        }
        let reversed = Array(docs.reversed().map(\.filename))
        #expect(backwards == stride(from: 12, to: 10_030, by: 2_500).flatMap { reversed[$0..<min($0 + 3, 10_030)] })
        #expect(try store.search(.prefix("deep/100")).total == 30)
        #expect(
            try store.search(.prefix("deep/"), offset: 10_025).documents.map(\.filename)
                == Array(docs[10_025...].map(\.filename)))
    }
}
