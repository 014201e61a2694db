import FaceScopeCore
import FaceScopeRedis
import Foundation
import Testing

/// Searches that find what people type, against a real Redis Stack.
@Suite("Search by words, names and typos, against a real Redis Stack", .enabled(if: TestRedis.available), .serialized)
struct SearchTests {
    static let names = [
        "examples/obama_and_biden.jpg", "examples/obama1.jpg", "examples/john1.jpeg", "IMG_000123.jpg",
        "IMG_000124.jpg", "pascal/2008_001009.jpg", "pascal/2009_000001.jpg", "family/grandpaWedding.png",
        "trips/Café de Flore.jpg", "trips/cafeteria.jpg", "holiday-2023/beach.jpg",
    ]

    func found(_ store: RedisStore, _ text: String) throws -> [String] {
        try store.search(.text(text)).documents.map(\.filename)
    }

    @Test("each example finds what it names, and only that")
    func examples() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        _ = try store.saveAll(Self.names.map { document($0) })
        #expect(try found(store, "biden") == ["examples/obama_and_biden.jpg"])
        #expect(try found(store, "000123") == ["IMG_000123.jpg"])
        #expect(try found(store, "2008") == ["pascal/2008_001009.jpg"])
        #expect(try found(store, "wedding") == ["family/grandpaWedding.png"])
        #expect(try found(store, "grandpaWedding") == ["family/grandpaWedding.png"])
        #expect(try found(store, "cafe ") == ["trips/Café de Flore.jpg"])
        #expect(try found(store, "caf") == ["trips/Café de Flore.jpg", "trips/cafeteria.jpg"])
        #expect(try found(store, "pascal ") == ["pascal/2008_001009.jpg", "pascal/2009_000001.jpg"])
        #expect(try found(store, "obama") == ["examples/obama1.jpg", "examples/obama_and_biden.jpg"])
        #expect(try found(store, "holi* beach") == ["holiday-2023/beach.jpg"])
        #expect(try found(store, "nothing-like-this ").isEmpty)
        #expect(try store.search(.text("biden")).closeMatches == false)
    }

    @Test("one typo is tolerated when nothing matches exactly, and the result says so")
    func typos() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        _ = try store.saveAll(Self.names.map { document($0) })
        let result = try store.search(.text("obma "))
        #expect(result.closeMatches)
        #expect(result.documents.map(\.filename) == ["examples/obama1.jpg", "examples/obama_and_biden.jpg"])
        #expect(try store.search(.text("zzzzz ")).total == 0)
    }

    @Test("a person's name finds the photos where that person is")
    func personNames() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        var docs = Self.names.map { document($0, faces: 1) }
        docs[3].faces?[0].label = 7  // IMG_000123.jpg shows person 7
        docs[6].faces?[0].label = 7
        docs[2].faces?[0].label = 8
        _ = try store.saveAll(docs)
        try store.rename(label: 7, to: "Joe Biden")
        try store.rename(label: 8, to: "John Doe")
        #expect(try found(store, "joe biden ") == ["IMG_000123.jpg", "pascal/2009_000001.jpg"])
        #expect(
            try found(store, "Biden") == ["IMG_000123.jpg", "examples/obama_and_biden.jpg", "pascal/2009_000001.jpg"])
        #expect(try found(store, "john doe ") == ["examples/john1.jpeg"])
    }

    @Test("counts are exact past RediSearch's expansion and result caps")
    func exactCounts() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let count = 20_000
        // 20,000 distinct words starting with "dsc": a prefix query in RediSearch would stop
        // expanding at 200 of them.
        let names = (0..<count).map { String(format: "dsc_0%05d_x.jpg", $0) } + ["other.jpg", "img_1.jpg"]
        _ = try store.saveAll(names.map { document($0) }, batchSize: 1000)
        #expect(FilenameWords.split("dsc_000001_x.jpg") == ["dsc", "000001", "x", "jpg"])
        let result = try store.search(.text("dsc"), limit: 5)
        #expect(result.total == count)
        #expect(result.documents.map(\.filename) == Array(names.prefix(5)))
        let digits = try store.search(.text("0"), offset: 19_990, limit: 20)
        #expect(digits.total == count)
        #expect(digits.documents.map(\.filename) == Array(names[19_990..<count]))
        #expect(try store.search(.text("x jpg ")).total == count)
    }
}
