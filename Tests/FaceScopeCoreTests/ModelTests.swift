import Testing

@testable import FaceScopeCore

@Suite("Documents in redis-om's layout")
struct ModelTests {
    static let redisOMText = """
        {"pk":"01M8K9V8TA84R79DNWFT8FTPNE","filename":"a b.jpg","faces":[{"pk":"01M8K9V8T9P4H6HGFAD161CN3T",\
        "bbox":{"pk":"01M8K9V8T9DGHJSGTS465YG465","x1":1,"y1":2,"x2":3,"y2":4},"probability":1,"label":null,\
        "rotation":null,"descriptors":{"chin":{"0":{"x":1,"y":2}}}}],"channels":null,"height":null,"width":null,\
        "portrait":null}
        """

    @Test("a document redis-om wrote reads and writes back byte for byte")
    func roundTrip() throws {
        let doc = try ImageDocument(json: try JSONValue.parse(Self.redisOMText))
        #expect(doc.filename == "a b.jpg")
        #expect(doc.faces?.first?.bbox == BoundingBox(pk: "01M8K9V8T9DGHJSGTS465YG465", x1: 1, y1: 2, x2: 3, y2: 4))
        #expect(doc.faces?.first?.label == nil)
        #expect(doc.json.serialized == Self.redisOMText)
    }

    @Test("extra fields written by other tools survive a round trip")
    func extras() throws {
        let text =
            #"{"pk":"X","filename":"f","faces":null,"channels":3,"height":2,"width":1,"portrait":1,"mine":[1,2.5]}"#
        let doc = try ImageDocument(json: try JSONValue.parse(text))
        #expect(doc.extra == [ExtraField(name: "mine", value: .array([.int(1), .double(2.5)]))])
        #expect(doc.json.serialized == text)
    }

    @Test("malformed documents are refused with the field named")
    func malformed() {
        #expect(throws: DocumentFormatError.self) { try ImageDocument(json: .object([("pk", .string("x"))])) }
        #expect(throws: DocumentFormatError.self) {
            try ImageDocument(json: try JSONValue.parse(#"{"filename":"f","width":1.5}"#))
        }
        #expect(throws: DocumentFormatError.self) {
            try ImageDocument(json: try JSONValue.parse(#"{"filename":"f","faces":[{"probability":1}]}"#))
        }
    }

    @Test("missing keys are assigned as ULIDs")
    func keys() {
        var doc = ImageDocument(
            pk: "", filename: "f",
            faces: [Face(pk: "", bbox: BoundingBox(pk: "", x1: 0, y1: 0, x2: 1, y2: 1), probability: 50)])
        var generator = ULIDGenerator()
        doc.assignMissingKeys(using: &generator)
        #expect(ULIDGenerator.isValid(doc.pk))
        #expect(ULIDGenerator.isValid(doc.faces?[0].pk ?? ""))
        #expect(ULIDGenerator.isValid(doc.faces?[0].bbox.pk ?? ""))
        #expect(Set([doc.pk, doc.faces?[0].pk, doc.faces?[0].bbox.pk]).count == 3)
    }

    @Test("a label set by hand is marked in an extra field, written only when set")
    func labelFixed() throws {
        var face = Face(pk: "F", bbox: BoundingBox(pk: "B", x1: 0, y1: 0, x2: 1, y2: 1), probability: 50, label: 3)
        #expect(!face.labelFixed)
        #expect(!face.json.serialized.contains("label_fixed"))
        face.labelFixed = true
        let read = try Face(json: try JSONValue.parse(face.json.serialized))
        #expect(read.labelFixed)
        #expect(face.json.serialized.hasSuffix(#""label_fixed":true}"#))
        face.labelFixed = false
        #expect(!face.json.serialized.contains("label_fixed"))
    }

    @Test("IoU of boxes")
    func iou() {
        let a = BoundingBox(pk: "", x1: 0, y1: 0, x2: 10, y2: 10)
        #expect(a.iou(a) == 1)
        #expect(a.iou(BoundingBox(pk: "", x1: 5, y1: 0, x2: 15, y2: 10)) == 50.0 / 150.0)
        #expect(a.iou(BoundingBox(pk: "", x1: 20, y1: 20, x2: 30, y2: 30)) == 0)
    }
}

@Suite("JSON")
struct JSONTests {
    @Test("parses and serialises nested values, escapes and unicode")
    func parse() throws {
        let text = #"{"a":[1,-2,3.25,1e3,true,false,null],"s":"q\"\\\/\n\u00e9\ud83d\ude00","o":{}}"#
        let value = try JSONValue.parse(text)
        #expect(
            value["a"] == .array([.int(1), .int(-2), .double(3.25), .double(1000), .bool(true), .bool(false), .null]))
        #expect(value["s"] == .string("q\"\\/\né😀"))
        #expect(try JSONValue.parse(value.serialized) == value)
    }

    @Test("control characters are escaped on output", arguments: ["\u{1B}[0m", "\u{07}", "a\u{7F}"])
    func escapes(input: String) throws {
        let out = JSONValue.string(input).serialized
        #expect(!out.unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F })
        #expect(try JSONValue.parse(out) == .string(input))
    }

    @Test("invalid JSON is refused", arguments: ["", "{", "[1,]", "{\"a\" 1}", "tru", "\"abc", "1 2", "{\"a\":1}x"])
    func invalid(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }
}

@Suite("ULIDs")
struct ULIDTests {
    @Test("encoding puts the time in the first ten characters")
    func encoding() {
        #expect(ULIDGenerator.encode(millis: 0, randomHigh: 0, randomLow: 0) == String(repeating: "0", count: 26))
        let max = ULIDGenerator.encode(millis: 0xFFFF_FFFF_FFFF, randomHigh: .max, randomLow: .max)
        #expect(max == "7ZZZZZZZZZZZZZZZZZZZZZZZZZ")
        // Known value from the ULID spec's example timestamp.
        #expect(ULIDGenerator.encode(millis: 1_469_918_176_385, randomHigh: 0, randomLow: 0).prefix(10) == "01ARYZ6S41")
    }

    @Test("keys made in the same millisecond increase")
    func monotonic() {
        var g = ULIDGenerator()
        let keys = (0..<1000).map { _ in g.next(millis: 1_700_000_000_000) }
        #expect(keys == keys.sorted())
        #expect(Set(keys).count == keys.count)
        #expect(keys.allSatisfy(ULIDGenerator.isValid))
    }
}

@Suite("SHA-1")
struct SHA1Tests {
    @Test("matches known digests")
    func known() {
        #expect(SHA1.hexDigest("") == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(SHA1.hexDigest("abc") == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(SHA1.hexDigest(String(repeating: "a", count: 1000)) == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }
}
