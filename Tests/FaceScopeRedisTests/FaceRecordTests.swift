import FaceScopeCore
import FaceScopeRedis
import Foundation
import Testing

/// Face records as values: the embedding blob and the compact landmarks rebuild exactly.
@Suite("Face record values")
struct FaceRecordValueTests {
    static func keypoints() -> [Keypoint] {
        var points: [Keypoint] = []
        for i in 0..<80 {
            let x: Double = Double(100 + i * 3) + 0.4
            let y: Double = Double(2000 - i * 7)
            points.append(Keypoint(x: x, y: y, confidence: 0.9))
        }
        return points
    }

    @Test func landmarksOfFaceScopesOwnShapeAreCompactAndRebuildExactly() throws {
        let descriptors = FaceLandmarks.descriptors(Self.keypoints())
        let text = FaceRecord.landmarks(fromDescriptors: descriptors)
        #expect(!text.hasPrefix("="))
        #expect(text.hasPrefix("chin:0,100,2000 1,103,1993"))
        #expect(text.utf8.count * 3 < descriptors.serialized.utf8.count * 2)
        #expect(try FaceRecord.descriptors(fromLandmarks: text) == descriptors)
    }

    @Test func landmarksOfAnotherShapeKeepTheirJSON() throws {
        let foreign = try JSONValue.parse(#"{"chin":{"0":{"x":1.5,"y":2}},"odd":[1,2]}"#)
        let text = FaceRecord.landmarks(fromDescriptors: foreign)
        #expect(text.hasPrefix("="))
        #expect(try FaceRecord.descriptors(fromLandmarks: text) == foreign)
        let reordered = try JSONValue.parse(#"{"chin":{"0":{"y":2,"x":1}}}"#)
        #expect(
            try FaceRecord.descriptors(fromLandmarks: FaceRecord.landmarks(fromDescriptors: reordered)) == reordered)
        #expect(
            try FaceRecord.descriptors(fromLandmarks: FaceRecord.landmarks(fromDescriptors: .object([]))) == .object([])
        )
    }

    @Test func malformedLandmarksAreRejected() {
        #expect(throws: DocumentFormatError.self) { try FaceRecord.descriptors(fromLandmarks: "chin:0,1") }
        #expect(throws: DocumentFormatError.self) { try FaceRecord.descriptors(fromLandmarks: "chin") }
        #expect(throws: DocumentFormatError.self) { try FaceRecord.descriptors(fromLandmarks: "={") }
    }

    @Test func embeddingBlobIsLittleEndianFloat32AndRoundTrips() {
        var values = [Float](repeating: 0, count: 128)
        values[0] = 1
        values[127] = -0.123456
        let blob = FaceRecord.blob(values)
        #expect(blob.count == 512)
        #expect(Array(blob[0..<4]) == [0x00, 0x00, 0x80, 0x3F])
        #expect(FaceRecord.vector(fromBlob: blob) == values)
        #expect(FaceRecord.vector(fromBlob: Array(blob.dropLast())) == nil)
    }

    @Test func recordFieldsCarryLabelFixedAndTheUnlabelledSentinel() throws {
        var face = Face(pk: "F1", bbox: BoundingBox(pk: "B1", x1: 0, y1: 0, x2: 9, y2: 9), probability: 97, label: 4)
        face.labelFixed = true
        face.embedding = [Float](repeating: 0.5, count: 128)
        face.descriptors = FaceLandmarks.descriptors(Self.keypoints())
        let record = FaceRecord(documentPK: "D1", face: face)
        var raw: [String: [UInt8]] = [:]
        for (name, value) in record.fields {
            switch value {
            case .text(let s): raw[name] = Array(s.utf8)
            case .bytes(let b): raw[name] = b
            }
        }
        #expect(raw["label"] == Array("4".utf8))
        #expect(raw["fixed"] == Array("1".utf8))
        #expect(try FaceRecord(fields: raw) == record)
        face.label = nil
        face.labelFixed = false
        let unlabelled = FaceRecord(documentPK: "D1", face: face)
        #expect(unlabelled.fields.first { $0.0 == "label" }?.1 == .text("-1"))
        #expect(unlabelled.fields.first { $0.0 == "fixed" }?.1 == .text("0"))
    }

    @Test func keysFollowFaceScopesNaming() throws {
        let layout = try KeyLayout()
        #expect(layout.faceRecordKey(documentPK: "01D", facePK: "01ABC") == "facescope::utils.Model:face:01D:01ABC")
        #expect(layout.facePK(fromRecordKey: "facescope::utils.Model:face:01D:01ABC", documentPK: "01D") == "01ABC")
        #expect(layout.facePK(fromRecordKey: "facescope::utils.Model:face:01E:01ABC", documentPK: "01D") == nil)
        #expect(layout.facePK(fromRecordKey: ":utils.Model:01ABC", documentPK: "01D") == nil)
        #expect(layout.faceIndex == "facescope::utils.Model:faces")
    }
}

/// Face records in the real Redis Stack: the face index finds them, counts labels on the server
/// and answers KNN with distances whose square roots are the Euclidean distances.
@Suite("Face record index", .enabled(if: TestRedis.available))
struct FaceRecordIndexTests {
    static func vector(_ seed: Int) -> [Float] {
        var values: [Float] = []
        for i in 0..<128 {
            let step: Int = (seed * 31 + i * 17) % 97
            values.append(Float(step) / 97 - 0.5)
        }
        return values
    }

    @Test func labelsAreCountedAndNeighboursFoundOnTheServer() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let layout = store.layout
        let connection = store.connection
        defer { _ = try? connection.pipeline([["FT.DROPINDEX", layout.faceIndex, "DD"]]) }
        // The store made the index when it opened; this test makes it afresh from the arguments.
        _ = try connection.pipeline([["FT.DROPINDEX", layout.faceIndex, "DD"]])
        #expect(try connection.call(layout.faceIndexCreateArguments).string == "OK")
        var expected: [Int: Int] = [:]
        var commands: [[RedisArgument]] = []
        for i in 0..<300 {
            let label: Int? = i % 7 == 0 ? nil : i % 23
            if let label { expected[label, default: 0] += 1 }
            let record = FaceRecord(
                documentPK: "D\(i / 2)", label: label, fixed: i % 5 == 0, probability: 50 + i % 50,
                embedding: Self.vector(i))
            commands.append(
                [.text("HSET"), .text(layout.faceRecordKey(documentPK: "D\(i / 2)", facePK: "F\(i)"))]
                    + record.fields.flatMap { [RedisArgument.text($0.0), $0.1] })
        }
        for reply in try connection.pipeline(arguments: commands) { #expect(reply.integer != nil) }
        let deadline = Date().addingTimeInterval(20)
        var indexed = 0
        while Date() < deadline {
            let info = try connection.call(["FT.SEARCH", layout.faceIndex, "*", "LIMIT", "0", "0"])
            indexed = Int(info.array?.first?.integer ?? 0)
            if indexed == 300 { break }
        }
        #expect(indexed == 300)

        let grouped = try connection.call([
            "FT.AGGREGATE", layout.faceIndex, "@label:[0 +inf]", "GROUPBY", "1", "@label", "REDUCE", "COUNT", "0",
            "AS", "n", "LIMIT", "0", "1000",
        ])
        var counted: [Int: Int] = [:]
        for row in (grouped.array ?? []).dropFirst() {
            let pairs = row.array ?? []
            var label: Int?
            var n: Int?
            for j in stride(from: 0, to: pairs.count - 1, by: 2) {
                if pairs[j].string == "label" { label = pairs[j + 1].string.flatMap { Int($0) } }
                if pairs[j].string == "n" { n = pairs[j + 1].string.flatMap { Int($0) } }
            }
            if let label, let n { counted[label] = n }
        }
        #expect(counted == expected)
        let unlabelled = try connection.call(["FT.SEARCH", layout.faceIndex, "@label:[-1 -1]", "LIMIT", "0", "0"])
        #expect(unlabelled.array?.first?.integer == Int64((0..<300).filter { $0 % 7 == 0 }.count))

        let query = Self.vector(42).map { $0 + 0.001 }
        let knn = try connection.pipeline(arguments: [
            [
                .text("FT.SEARCH"), .text(layout.faceIndex), .text("*=>[KNN 3 @vector $v AS distance]"),
                .text("PARAMS"), .text("2"), .text("v"), .bytes(FaceRecord.halfBlob(query)), .text("SORTBY"),
                .text("distance"), .text("RETURN"), .text("2"), .text("distance"), .text("doc"), .text("DIALECT"),
                .text("2"),
            ]
        ])[0]
        let rows = knn.array ?? []
        #expect(rows.count == 7)
        #expect(rows.count > 2 && rows[1].string == layout.faceRecordKey(documentPK: "D21", facePK: "F42"))
        let fields = rows.count > 2 ? rows[2].array ?? [] : []
        let squared = fields.count > 1 ? Double(fields[1].string ?? "") : nil
        var sum: Double = 0
        // The index compares the FLOAT16 copies.
        for (a, b) in zip(query, Self.vector(42)) {
            let d = Double(Float(Float16(a))) - Double(Float(Float16(b)))
            sum += d * d
        }
        let euclidean = sqrt(sum)
        #expect(squared.map { abs(sqrt($0) - euclidean) < 1e-4 } == true)
        #expect(fields.count > 3 && fields[3].string == "D21")
    }
}
