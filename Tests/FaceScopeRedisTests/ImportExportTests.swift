import FaceScopeCore
import Foundation
import Testing

@testable import FaceScopeRedis

/// The export line the slow way: decoded, derived fields dropped, written again.
private func decodedLine(_ json: String) throws -> String {
    var value = try JSONValue.parse(json)
    if case .array(let items) = value, items.count == 1 { value = items[0] }
    var document = try ImageDocument(json: value)
    document.extra.removeAll { RedisStore.derivedFields.contains($0.name) }
    return document.json.serialized
}

/// The export line the direct way, or nil when the text is not taken as it is.
private func directLine(_ json: String) -> String? {
    var text = json
    var out: [UInt8] = []
    let taken = text.withUTF8 { ExportedJSON.appendLine($0, to: &out) }
    return taken ? String(decoding: out, as: UTF8.self) : nil
}

/// The pk a test line gives its document.
private func pkOf(_ line: String) -> String { String(line.dropFirst(#"{"pk":""#.count).prefix(26)) }

/// A page's export lines, one per document.
private func exportLines(_ store: RedisStore, _ page: [(key: String, json: String)], side: RedisStore)
    throws(StoreError) -> [String]
{
    var out: [UInt8] = []
    let written = try store.appendExportLines(page, to: &out, records: side)
    let lines = String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init)
    #expect(written == lines.count && written == page.count)
    return lines
}

private func storableLine(_ line: String) -> StorableDocument? {
    var text = line
    return text.withUTF8 { RedisStore.storable(line: $0) }
}

/// A document of two faces with landmarks and 128-D descriptors (`embedding` first), as the
/// library benchmark writes them.
private func photo(_ n: Int, pk: String, embedding: [Double]) -> String {
    var faces: [String] = []
    for k in 0..<2 {
        let points = (0..<6).map { "\"\($0)\":{\"x\":\(10 + $0),\"y\":\(20 + k)}" }.joined(separator: ",")
        // 128 values, as FaceScope's index wants them: the given ones, then a pattern.
        let values = embedding + (embedding.count..<128).map { Double($0 % 9) / 8 - 0.5 }
        let numbers = values.map { JSONValue.double($0).serialized }.joined(separator: ",")
        faces.append(
            #"{"pk":"\#(pk.prefix(24))F\#(k)","bbox":{"pk":"\#(pk.prefix(24))B\#(k)","x1":\#(k * 100),"y1":20,"x2":90,"y2":110},"probability":97,"label":\#(k == 0 ? "null" : "\(n % 7)"),"rotation":0,"descriptors":{"chin":{\#(points)}},"embedding":[\#(numbers)]}"#
        )
    }
    return
        #"{"pk":"\#(pk)","filename":"lib/\#(n / 100)/IMG_\#(n).jpg","faces":[\#(faces.joined(separator: ","))],"channels":3,"height":886,"width":1280,"portrait":0}"#
}

@Suite("Export and import at library scale: documents passed through as the server writes them")
struct ExportedJSONTests {
    @Test("canonical documents pass through exactly as decoding and writing them again would give")
    func canonicalDocumentsPassThrough() throws {
        var generator = ULIDGenerator()
        let numbers: [Double] = [0, 0.5, -0.25, 0.012346, -0.000123, 0.0001, 3.0, 1e-5, -4.5e-7, 123456.789]
        let line = photo(1, pk: generator.next(), embedding: numbers)
        let stored =
            String(line.dropLast()) + #","faces_order":"000002 x","filename_words":" x","filename_starts":"x"}"#
        for text in [line, "[\(line)]", stored, "[\(stored)]"] {
            #expect(directLine(text) == (try decodedLine(text)))
        }
    }

    @Test(
        "a text that would be written otherwise is not taken as it is",
        arguments: [
            #"{"pk":"","filename":"a.jpg","faces":null,"channels":null,"height":null,"width":null,"portrait":null}"#,
            #"{"filename":"a.jpg","pk":"01J0000000000000000000000A","faces":null,"channels":null,"height":null,"width":null,"portrait":null}"#,
            #"{"pk":"01J0000000000000000000000A","filename":"a.jpg","faces":null,"channels":3.0,"height":null,"width":null,"portrait":null}"#,
            #"{"pk":"01J0000000000000000000000A","filename":"a\/b.jpg","faces":null,"channels":null,"height":null,"width":null,"portrait":null}"#,
            #"{"pk":"01J0000000000000000000000A","filename":"a\u00e9.jpg","faces":null,"channels":null,"height":null,"width":null,"portrait":null}"#,
            #"{"pk":"01J0000000000000000000000A","filename":"a\u000a.jpg","faces":null,"channels":null,"height":null,"width":null,"portrait":null}"#,
            #"{"pk":"01J0000000000000000000000A","filename":"a.jpg","faces":null,"channels":null,"height":null,"width":null,"portrait":null,"x":-0.0}"#,
            #"{"pk":"01J0000000000000000000000A","filename":"a.jpg","faces":null,"channels":null,"height":null,"width":null,"portrait":null,"x":1.50}"#,
            #"{"pk":"01J0000000000000000000000A","filename":"a.jpg","faces":null,"channels":null,"height":null,"width":null,"portrait":null,"x":1e16}"#,
            #"{"pk":"01J0000000000000000000000A","filename":"a.jpg","faces":null,"channels":null,"height":null,"width":null,"portrait":null,"x":123456789012345.69}"#,
            #"{"pk":"01J0000000000000000000000A","filename":"a.jpg","faces":null,"channels":null,"height":null,"width":null,"portrait":null,"pk":"01J0000000000000000000000B"}"#,
            #"{"pk":"01J0000000000000000000000A", "filename":"a.jpg","faces":null,"channels":null,"height":null,"width":null,"portrait":null}"#,
        ])
    func otherTextsAreDecoded(_ text: String) throws {
        #expect(directLine(text) == nil)
    }

    @Test("numbers below 1e-4 are written with an exponent as FaceScope writes them")
    func smallNumbersAreRewritten() throws {
        let text =
            #"{"pk":"01J0000000000000000000000A","filename":"a.jpg","faces":null,"channels":null,"height":null,"width":null,"portrait":null,"v":[0.00001,1e-6,-1.5e-7,0.0000123,0.00012,1e-300]}"#
        let direct = try #require(directLine(text))
        #expect(direct == (try decodedLine(text)))
        #expect(direct.hasSuffix(#""v":[1e-05,1e-06,-1.5e-07,1.23e-05,0.00012,1e-300]}"#))
    }

    @Test("random documents: the direct line is the decoded one whenever it is taken")
    func randomDocuments() throws {
        var generator = ULIDGenerator()
        var rng = SystemRandomNumberGenerator()
        for n in 0..<300 {
            var long = false
            let numbers = (0..<16).map { _ -> Double in
                switch Int.random(in: 0..<4, using: &rng) {
                // Descriptors as FaceScope stores them: six decimals.
                case 0: return (Double.random(in: -1...1, using: &rng) * 1e6).rounded() / 1e6
                case 1: return (Double.random(in: -1e-4...1e-4, using: &rng) * 1e6).rounded() / 1e6
                case 2:
                    long = true
                    return Double(Float.random(in: -1...1, using: &rng))
                default: return Double(Int.random(in: -1000...1000, using: &rng))
                }
            }
            let line = photo(n, pk: generator.next(), embedding: numbers)
            let direct = directLine(line)
            if let direct { #expect(direct == (try decodedLine(line))) }
            // Numbers of up to 15 digits are always taken as they are.
            if !long { #expect(direct != nil) }
        }
    }

    @Test("an import line taken as it is stores exactly what its decoded document would")
    func importLinesMatchDecodedDocuments() throws {
        var generator = ULIDGenerator()
        let line = photo(3, pk: generator.next(), embedding: [0.25, -0.000012, 1e-7, 2.0])
        // A document with faces is split into the document and its face records.
        try expectStoredAsDecoded(line)
        let faces = try #require(line.range(of: #""faces":["#)?.upperBound)
        let channels = try #require(line.range(of: #"],"channels""#)?.lowerBound)
        let faceless = String(line[..<faces]) + String(line[channels...])
        #expect(faceless.contains(#""faces":[],"channels""#))
        // As Python's json.dumps writes it (spaces after colons), and with a stale derived field.
        for text in [
            faceless, faceless.replacingOccurrences(of: "\":", with: "\": "),
            String(faceless.dropLast()) + #","filename_words":" stale"}"#,
        ] {
            let ready = try #require(storableLine(text))
            let document = try ImageDocument(json: try JSONValue.parse(text))
            #expect(ready.pk == document.pk)
            #expect(ready.filename == document.filename)
            #expect(ready.json == RedisStore.storedJSON(document).json)
        }
        // Without a face pk (the import makes one), or not ASCII: decoded instead.
        #expect(
            storableLine(line.replacingOccurrences(of: #"{"pk":"\#(pkOf(line).prefix(24))F0""#, with: #"{"pk":"""#))
                == nil)
        #expect(storableLine(line.replacingOccurrences(of: "IMG_", with: "Café_")) == nil)
    }
}

@Suite("Export lines joined with face records without decoding the documents")
struct JoinedExportTests {
    @Test("a descriptor value is written exactly as the decoded document writes it")
    func descriptorValuesMatch() {
        var rng = SystemRandomNumberGenerator()
        var values: [Float] = [
            0, -0, 1, -1, 0.5, 1e-4, -1e-4, 9.9e-5, 5e-5, 1e-7, 0.0001004, 123.456, 1e9, -3e12, 1e20,
            .infinity, -.infinity, .nan, .leastNonzeroMagnitude, .greatestFiniteMagnitude,
        ]
        for _ in 0..<100_000 {
            switch Int.random(in: 0..<3, using: &rng) {
            case 0: values.append(Float.random(in: -1...1, using: &rng))
            case 1: values.append(Float.random(in: -1e-3...1e-3, using: &rng))
            default: values.append(Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &rng)))
            }
        }
        var mismatches: [Float] = []
        for value in values {
            var fast: [UInt8] = []
            ExportedJSON.appendEmbedding(blob: FaceRecord.blob([value]), to: &fast)
            var face = Face(pk: "f", bbox: BoundingBox(pk: "b", x1: 0, y1: 0, x2: 1, y2: 1), probability: 1)
            face.embedding = [value]
            var slow: [UInt8] = []
            face.extra[0].value.arrayValue?[0].write(to: &slow)
            if fast != slow { mismatches.append(value) }
        }
        #expect(mismatches.isEmpty, "\(mismatches.prefix(5))")
    }

    @Test("landmarks text becomes the descriptors the decoded document has, or is left to the decoder")
    func landmarksMatch() throws {
        var rng = SystemRandomNumberGenerator()
        var texts: [String] = []
        for _ in 0..<500 {
            let regions = (0..<Int.random(in: 0...4, using: &rng)).map { r -> (String, JSONValue) in
                let points = (0..<Int.random(in: 0...20, using: &rng)).map { i -> (String, JSONValue) in
                    let x = Int64.random(in: -3000...3000, using: &rng)
                    let y = Int64.random(in: -5...5, using: &rng)
                    return (String(i * Int.random(in: 1...3, using: &rng)), .object([("x", .int(x)), ("y", .int(y))]))
                }
                return (
                    ["chin", "left_eye", "r\(r)", "é", "a\"b"][Int.random(in: 0..<5, using: &rng)], .object(points)
                )
            }
            texts.append(FaceRecord.landmarks(fromDescriptors: .object(regions)))
        }
        texts += [
            "", "=[1,2]", "=null", "chin:", "chin:1,2,3;", ";chin:1,2,3", "chin:1,2,3  2,3,4", "chin: 1,2,3",
            "chin:01,2,3", "chin:1,-0,3", "chin:1,2,03", "chin:+1,2,3", "chin:1,2", "chin:1,2,3,4",
            "chin:1,2,3;eye:4,5,6", "a:b:1,2,3", ":1,2,3", "chin:1,99999999999999999999,3", "chin:-1,2,3",
            "tab\there:1,2,3", "chin:1,2,3 ",
        ]
        var compactTaken = 0
        for text in texts {
            var fast: [UInt8] = []
            let taken = ExportedJSON.appendDescriptors(landmarks: Array(text.utf8), to: &fast)
            let slow = try? FaceRecord.descriptors(fromLandmarks: text)
            if taken {
                #expect(slow?.serialized == String(decoding: fast, as: UTF8.self), "\(text)")
            } else {
                #expect(fast.isEmpty)
            }
            // Every plain compact text FaceScope writes is taken.
            if !text.hasPrefix("="),
                text.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value < 0x7F && $0 != "\"" && $0 != "\\" }),
                slow != nil,
                FaceRecord.landmarks(fromDescriptors: slow ?? .null) == text
            {
                #expect(taken, "\(text)")
                compactTaken += 1
            }
        }
        #expect(compactTaken > 100)
    }
}

/// The line taken as it is stores exactly what its decoded document stores: the document's
/// text and every face record.
private func expectStoredAsDecoded(_ line: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let ready = try #require(storableLine(line), sourceLocation: sourceLocation)
    try expectSame(ready, line, sourceLocation: sourceLocation)
}

private func expectSame(_ ready: StorableDocument, _ line: String, sourceLocation: SourceLocation) throws {
    var value = try JSONValue.parse(line)
    try RedisStore.expandStoredFaces(&value)
    let document = try ImageDocument(json: value)
    let stored = RedisStore.storedJSON(document)
    #expect(ready.pk == document.pk, sourceLocation: sourceLocation)
    #expect(ready.filename == document.filename, sourceLocation: sourceLocation)
    #expect(ready.json == stored.json, sourceLocation: sourceLocation)
    #expect(ready.records.map(\.facePK) == stored.records.map(\.facePK), sourceLocation: sourceLocation)
    #expect(ready.records.map(\.record) == stored.records.map(\.record), sourceLocation: sourceLocation)
}

@Suite("Import lines with faces stored without decoding them")
struct ImportedFacesTests {
    @Test("random lines with faces store exactly what their decoded documents store")
    func randomLinesWithFaces() throws {
        var generator = ULIDGenerator()
        var rng = SystemRandomNumberGenerator()
        var taken = 0
        for n in 0..<200 {
            // Numbers of more than 15 digits (a Float widened) are not taken as written: decoded.
            let long = n % 6 == 5
            let numbers = (0..<Int.random(in: 0...128, using: &rng)).map { _ -> Double in
                switch Int.random(in: 0..<(long ? 4 : 3), using: &rng) {
                case 0: return (Double.random(in: -1...1, using: &rng) * 1e6).rounded() / 1e6
                case 1: return (Double.random(in: -1e-4...1e-4, using: &rng) * 1e6).rounded() / 1e6
                case 2: return Double(Int.random(in: -1000...1000, using: &rng))
                default: return Double(Float.random(in: -1...1, using: &rng))
                }
            }
            var line = photo(n, pk: generator.next(), embedding: numbers)
            if n % 3 == 0 { line = line.replacingOccurrences(of: #""x":11"#, with: #""x":-11"#) }
            if n % 4 == 0 {
                line = line.replacingOccurrences(of: #""rotation":0,"#, with: #""rotation":null,"#)
                line = line.replacingOccurrences(
                    of: #""embedding":["#, with: #""label_fixed":true,"note":"x","embedding":["#)
            }
            if n % 5 == 0 { line = line.replacingOccurrences(of: "\":", with: "\": ") }
            if n % 7 == 0 {
                line = line.replacingOccurrences(
                    of: #""descriptors":{"chin""#, with: #""descriptors":{"jaw":{},"chin""#)
            }
            if long {
                if let ready = storableLine(line) { try expectSame(ready, line, sourceLocation: #_sourceLocation) }
            } else {
                try expectStoredAsDecoded(line)
                taken += 1
            }
        }
        #expect(taken > 150)
    }

    @Test(
        "lines whose faces the record form does not hold as they are written are decoded",
        arguments: [
            (#""descriptors":{"chin""#, #""descriptors":{"a:b""#),
            (#""descriptors":{"chin""#, #""descriptors":{"ch\u0001in""#),
            (#""x":10,"#, #""x":10.0,"#),
            (#""x":10,"#, #""x":-0,"#),
            (#""x":10,"#, #""x":1e1,"#),
            (#""0":{"x""#, #""00":{"x""#),
            (#""embedding":["#, #""embedding":["a","#),
            (#""embedding":["#, #""landmarks":"chin:0,1,2","embedding":["#),
            (#""embedding":["#, #""embedding":null,"e":["#),
        ])
    func unusualFacesAreDecoded(_ change: (String, String)) throws {
        var generator = ULIDGenerator()
        let line = photo(1, pk: generator.next(), embedding: [0.5, -0.25])
        #expect(line.contains(change.0))
        let changed = line.replacingOccurrences(of: change.0, with: change.1)
        if let ready = storableLine(changed) {
            // Taken only when it is exactly what decoding gives.
            try expectSame(ready, changed, sourceLocation: #_sourceLocation)
        }
        #expect(storableLine(changed) == nil || change.1.contains("null"))
    }
}

@Suite("Import and export against the real Redis Stack", .serialized, .enabled(if: TestRedis.available))
struct ImportExportTests {
    /// Documents as an import hands them over, batch after batch.
    private func stream(_ store: RedisStore, _ lines: [String], batch: Int) throws -> [Result<String, StoreError>] {
        // Lines that are not taken as they are go the decoded way.
        var documents: [StorableDocument] = []
        for line in lines {
            documents.append(try storableLine(line) ?? store.storable(ImageDocument(json: JSONValue.parse(line))))
        }
        var rest = documents[...]
        var results: [Result<String, StoreError>] = []
        var batches = 0
        try store.saveStreaming(
            {
                guard !rest.isEmpty else { return nil }
                let chunk = rest.prefix(batch)
                rest = rest.dropFirst(chunk.count)
                return Array(chunk)
            },
            saved: {
                batches += 1
                results += $0
            })
        #expect(batches == (lines.count + batch - 1) / batch)
        return results
    }

    /// Every export line, each page's records read while the next page is scanned (as the export
    /// command does).
    private func exported(_ store: RedisStore) throws -> [String] {
        var out: [UInt8] = []
        let joiner = ExportJoiner(store: store, records: try store.withOwnConnection())
        defer { joiner.drain() }
        var count = 0
        var pages = 0
        try store.forEachStoredJSON(pageSize: 100) { page throws(StoreError) in
            count += try joiner.add(page, to: &out)
            pages += 1
        }
        count += try joiner.finish(to: &out)
        let lines = String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init)
        #expect(lines.count == count)
        #expect(pages > 1)
        return lines
    }

    @Test("more documents than three batches round-trip exactly; storing them again duplicates nothing")
    func streamedSaveRoundTrips() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        var generator = ULIDGenerator()
        let lines = (0..<1_250).map { photo($0, pk: generator.next(), embedding: [0.125, -0.00005, Double($0)]) }
        let results = try stream(store, lines, batch: 500)
        #expect(results.count == lines.count)
        #expect(try results.map { try $0.get() } == lines.map(pkOf))
        #expect(try exported(store).sorted() == lines.sorted())
        // Again, in other batches: the same keys, nothing more.
        let again = try stream(store, lines.reversed(), batch: 300)
        #expect(Set(try again.map { try $0.get() }) == Set(try results.map { try $0.get() }))
        #expect(try store.count() == lines.count)
        #expect(try exported(store).sorted() == lines.sorted())
    }

    @Test("a streamed save stores byte for byte what save stores, and the index finds it the same")
    func streamedSaveMatchesSave() throws {
        let store = try TestRedis.store()
        let reference = try TestRedis.store()
        defer {
            TestRedis.drop(store)
            TestRedis.drop(reference)
        }
        var generator = ULIDGenerator()
        let lines = (0..<20).map { photo($0, pk: generator.next(), embedding: [0.5, Double($0) / 3]) }
        _ = try stream(store, lines, batch: 7)
        for line in lines {
            try reference.save(try ImageDocument(json: try JSONValue.parse(line)))
        }
        for line in lines {
            let pk = pkOf(line)
            let mine = try store.connection.call(["JSON.GET", store.layout.key(pk: pk)]).string
            let theirs = try reference.connection.call(["JSON.GET", reference.layout.key(pk: pk)]).string
            #expect(mine != nil && mine == theirs)
        }
        #expect(try store.list().map(\.filename) == reference.list().map(\.filename))
        #expect(try store.list(order: .faces).map(\.pk) == reference.list(order: .faces).map(\.pk))
        #expect(
            try store.search(.text("img 7")).documents.map(\.pk) == reference.search(.text("img 7")).documents.map(\.pk)
        )
        #expect(try store.get(filename: "lib/0/IMG_5.jpg")?.pk == pkOf(lines[5]))
    }

    @Test("an export whose connection is dropped midway goes on and writes every document once")
    func exportSurvivesADroppedConnection() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        _ = try store.saveAll((0..<2_000).map { document("walk/\($0).jpg", faces: $0 % 3) })
        let id = try store.connection.call(["CLIENT", "ID"]).integer ?? -1
        let killer = try RedisConnection(endpoint: store.connection.endpoint)
        let side = try store.withOwnConnection()
        var pages = 0
        var names: [String] = []
        try store.forEachStoredJSON(pageSize: 100) { page throws(StoreError) in
            pages += 1
            // Two pages are on their way when the connection goes.
            if pages == 3 {
                let killed = try killer.call(["CLIENT", "KILL", "ID", String(id)]).integer
                #expect(killed == 1)
            }
            for line in try exportLines(store, page, side: side) {
                names.append((try? JSONValue.parse(line))?["filename"]?.stringValue ?? "")
            }
        }
        #expect(pages > 3)
        #expect(names.count == 2_000)
        #expect(names.sorted() == (0..<2_000).map { "walk/\($0).jpg" }.sorted())
        #expect(try store.connection.call(["CLIENT", "ID"]).integer != id)
    }

    @Test("stored documents with faces export exactly as decoding them and joining their records gives")
    func joinedExportMatchesDecoded() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        var rng = SystemRandomNumberGenerator()
        var documents: [ImageDocument] = []
        for n in 0..<300 {
            var doc = document("join/\(n).jpg", faces: n % 4)
            for f in (doc.faces ?? []).indices {
                var face =
                    doc.faces?[f] ?? Face(pk: "", bbox: BoundingBox(pk: "", x1: 0, y1: 0, x2: 1, y2: 1), probability: 1)
                switch (n + f) % 5 {
                case 0: break  // neither landmarks nor a descriptor
                case 1:  // FaceScope's own shape
                    let points = (0..<80).map { i -> (String, JSONValue) in
                        (String(i), .object([("x", .int(Int64.random(in: -50...900, using: &rng))), ("y", .int(7))]))
                    }
                    face.descriptors = .object([
                        ("jaw", .object(Array(points[..<40]))), ("eye", .object(Array(points[40...]))),
                    ])
                    face.embedding = (0..<128).map { _ in Float.random(in: -0.3...0.3, using: &rng) }
                case 2:  // another shape: kept as JSON text
                    face.descriptors = .array([.int(1), .double(0.5), .string("x")])
                    face.embedding = (0..<128).map { _ in Float.random(in: -1e-4...1e-4, using: &rng) }
                case 3:  // a hand-set label (a member after the landmarks)
                    face.label = n % 7
                    face.labelFixed = true
                    face.embedding = (0..<128).map { _ in Float.random(in: -1...1, using: &rng) }
                    if n % 2 == 0 {
                        face.descriptors = .object([
                            ("chin", .object([("0", .object([("x", .int(5)), ("y", .int(6))]))]))
                        ])
                    }
                default:
                    face.descriptors = .object([("nose", .object([("3", .object([("x", .int(-1)), ("y", .int(0))]))]))])
                }
                doc.faces?[f] = face
            }
            documents.append(doc)
        }
        _ = try store.saveAll(documents)
        let side = try store.withOwnConnection()
        var lines = 0
        var withFaces = 0
        try store.forEachStoredJSON(pageSize: 40) { page throws(StoreError) in
            var decoded = page.compactMap { store.decode(key: $0.key, json: $0.json) }
            try side.attachRecords(&decoded)
            withFaces += decoded.filter { !($0.faces ?? []).isEmpty }.count
            let exported = try exportLines(store, page, side: side)
            #expect(exported.sorted() == decoded.map(\.json.serialized).sorted())
            lines += page.count
        }
        #expect(lines == documents.count)
        #expect(withFaces == 225)
        // The export holds what was saved.
        let saved = Dictionary(uniqueKeysWithValues: try store.list().map { ($0.filename, $0) })
        for original in documents {
            let back = try #require(saved[original.filename])
            #expect(back.faces?.map(\.descriptors) == original.faces?.map(\.descriptors))
        }
    }

    @Test("documents other tools wrote export exactly as decoding them would give")
    func foreignDocumentsExportAsDecoded() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        var generator = ULIDGenerator()
        var rng = SystemRandomNumberGenerator()
        var written: [String] = []
        for n in 0..<200 {
            let pk = generator.next()
            let numbers = (0..<24).map { _ -> String in
                switch Int.random(in: 0..<5, using: &rng) {
                case 0: return String(Double.random(in: -1...1, using: &rng))
                case 1: return String(Double.random(in: -1e-4...1e-4, using: &rng))
                case 2: return String(Double(Float.random(in: -1...1, using: &rng)))
                case 3: return String(format: "%.6f", Double.random(in: -1...1, using: &rng))
                default: return String(Int.random(in: -1000...1000, using: &rng))
                }
            }
            let name = ["plain", "tab\\there", "quote\\\"d", "caf\\u00e9", "del\\u007f", "nl\\n", "ctl\\u0001"][n % 7]
            let json =
                #"{"pk":"\#(pk)","filename":"\#(name)-\#(n).jpg","faces":[{"pk":"F\#(n)","bbox":{"pk":"B\#(n)","x1":1,"y1":2,"x2":3,"y2":4},"probability":90,"label":null,"rotation":null,"descriptors":null,"embedding":[\#(numbers.joined(separator: ","))]}],"channels":3,"height":\#(n % 2 == 0 ? "9" : "9.0"),"width":9,"portrait":0}"#
            try store.connection.call(["JSON.SET", store.layout.key(pk: pk), "$", json])
            written.append(json)
        }
        var lines = 0
        let side = try store.withOwnConnection()
        try store.forEachStoredJSON(pageSize: 50) { page throws(StoreError) in
            let decoded = page.compactMap { try? decodedLine($0.json) }
            #expect(decoded.count == page.count)
            let exported = try exportLines(store, page, side: side)
            #expect(exported.sorted() == decoded.sorted())
            lines += page.count
        }
        #expect(lines == written.count)
    }
}
