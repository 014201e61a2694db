import FaceScopeCore
import Testing

@testable import FaceScopeRedis

@Suite("People counted from the index, not from whole documents", .serialized)
struct PeopleCountTests {
    /// `count` documents of two faces each: labels cycling over `people`, probabilities varying.
    func labelled(_ count: Int, people: Int) -> [ImageDocument] {
        (0..<count).map { n in
            var doc = document("people/photo-\(n).jpg", faces: 2)
            for k in 0..<2 {
                doc.faces?[k].label = (2 * n + k) % people
                doc.faces?[k].probability = 50 + (7 * n + 3 * k) % 50
            }
            return doc
        }
    }

    /// The tally of whole documents, as people were counted before.
    func wholeTally(_ store: RedisStore) throws -> [Person] {
        var tally = PeopleTally(names: try store.peopleNames())
        for document in try store.list() { tally.add(document) }
        return tally.people
    }

    @Test("counts, names and each person's most confident face match a tally of the whole documents")
    func matchesWholeDocuments() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        _ = try store.saveAll(labelled(40, people: 6) + [document("nobody.jpg", faces: 1)])
        try store.rename(label: 2, to: "Ada Lovelace")
        let people = try store.people()
        #expect(people.count == 6 && people.map(\.faces).reduce(0, +) == 80)
        #expect(people.first { $0.label == 2 }?.name == "Ada Lovelace")
        let whole = try wholeTally(store)
        #expect(people.map(\.label) == whole.map(\.label))
        #expect(people.map(\.faces) == whole.map(\.faces))
        for (a, b) in zip(people, whole) {
            #expect(a.example?.filename == b.example?.filename)
            #expect(a.example?.faceIndex == b.example?.faceIndex)
            #expect(a.example?.face.probability == b.example?.face.probability)
            #expect(a.example?.face.bbox == b.example?.face.bbox)
            #expect(a.example?.face.pk == b.example?.face.pk && a.example?.face.pk.isEmpty == false)
        }
    }

    @Test("a cursor read in several batches sees every document once")
    func severalBatches() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        _ = try store.saveAll(labelled(23, people: 5))
        var seen: [String] = []
        try store.forEachLabelledFaceSummary(batch: 4) { seen.append($0.filename) }
        #expect(seen.count == 23 && Set(seen).count == 23)
    }

    @Test("another tool's document whose faces cannot be lined up (a face without a label) is read whole")
    func unalignedForeignDocument() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        _ = try store.saveAll(labelled(3, people: 2))
        var generator = ULIDGenerator()
        let pk = generator.next()
        let json =
            #"{"pk":"\#(pk)","filename":"foreign.jpg","faces":[{"pk":"\#(generator.next())","#
            + #""bbox":{"pk":"\#(generator.next())","x1":1,"y1":2,"x2":30,"y2":40},"probability":99},"#
            + #"{"pk":"\#(generator.next())","bbox":{"pk":"\#(generator.next())","x1":50,"y1":2,"x2":90,"y2":40},"#
            + #""probability":98,"label":7}],"channels":3,"height":100,"width":100,"portrait":0}"#
        try store.connection.call(["JSON.SET", store.layout.key(pk: pk), "$", json])
        let seven = try store.people().first { $0.label == 7 }
        #expect(seven?.faces == 1)
        #expect(seven?.example?.filename == "foreign.jpg" && seven?.example?.faceIndex == 1)
        #expect(try store.people().map(\.faces) == (try wholeTally(store)).map(\.faces))
    }
}
