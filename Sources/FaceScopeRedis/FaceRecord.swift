import FaceScopeCore

/// One face as a Redis hash beside its document (``KeyLayout/faceRecordKey(documentPK:facePK:)``): what
/// people counts, similarity search and clustering read without loading whole documents, and the
/// one home of the face's descriptor.
///
/// Fields: `doc` (the document's pk), `label` (the face's label, or ``unlabelled`` when it has
/// none, so the numeric index finds unlabelled faces with one range), `fixed` (`1` when the label
/// was set by hand), `probability`, `embedding` (128 FLOAT32 values, little-endian; absent
/// when the face has none), `vector` (the same as FLOAT16, which the face index searches) and
/// `landmarks` (``landmarks(fromDescriptors:)``; absent when the
/// face has none). The document keeps the label and the mark too (redis-om reads them), and
/// `descriptors: null`; every FaceScope write changes document and records in one server-side
/// script.
public struct FaceRecord: Sendable, Equatable {
    /// The `label` of a face without one: labels are never negative.
    public static let unlabelled = -1

    public var documentPK: String
    public var label: Int?
    public var fixed: Bool
    public var probability: Int
    public var embedding: [Float]?
    /// The landmarks' text (``landmarks(fromDescriptors:)``).
    public var landmarks: String?

    public init(
        documentPK: String, label: Int?, fixed: Bool, probability: Int, embedding: [Float]?, landmarks: String? = nil
    ) {
        self.documentPK = documentPK
        self.label = label
        self.fixed = fixed
        self.probability = probability
        self.embedding = embedding
        self.landmarks = landmarks
    }

    /// The record of a face of a document.
    public init(documentPK: String, face: Face) {
        self.init(
            documentPK: documentPK, label: face.label, fixed: face.labelFixed, probability: face.probability,
            embedding: face.embedding,
            landmarks: face.descriptors.flatMap { $0.isNull ? nil : FaceRecord.landmarks(fromDescriptors: $0) })
    }

    /// The field-value pairs for `HSET`, in a fixed order.
    public var fields: [(String, RedisArgument)] {
        var out: [(String, RedisArgument)] = [
            ("doc", .text(documentPK)),
            ("label", .text(String(label ?? FaceRecord.unlabelled))),
            ("fixed", .text(fixed ? "1" : "0")),
            ("probability", .text(String(probability))),
        ]
        if let embedding {
            out.append(("embedding", .bytes(FaceRecord.blob(embedding))))
            out.append(("vector", .bytes(FaceRecord.halfBlob(embedding))))
        }
        if let landmarks { out.append(("landmarks", .text(landmarks))) }
        return out
    }

    /// A record from the fields `HGETALL` returned; `embedding` as raw bytes.
    public init(fields: [String: [UInt8]]) throws(DocumentFormatError) {
        func text(_ name: String) -> String? { fields[name].map { String(decoding: $0, as: UTF8.self) } }
        guard let doc = text("doc"), !doc.isEmpty else { throw DocumentFormatError("the face record has no doc") }
        guard let labelText = text("label"), let label = Int(labelText) else {
            throw DocumentFormatError("the face record of \(doc) has no numeric label")
        }
        guard let probabilityText = text("probability"), let probability = Int(probabilityText) else {
            throw DocumentFormatError("the face record of \(doc) has no numeric probability")
        }
        var embedding: [Float]?
        if let blob = fields["embedding"] {
            guard let values = FaceRecord.vector(fromBlob: blob) else {
                throw DocumentFormatError("the face record of \(doc) has an embedding of \(blob.count) bytes")
            }
            embedding = values
        }
        self.init(
            documentPK: doc, label: label < 0 ? nil : label, fixed: text("fixed") == "1", probability: probability,
            embedding: embedding, landmarks: text("landmarks"))
    }

    // MARK: Embedding blob

    /// The values as FLOAT32 little-endian bytes, as RediSearch's vector fields read them.
    public static func blob(_ values: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 4)
        for value in values {
            withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
        }
        return bytes
    }

    /// The values as FLOAT16 little-endian bytes: the copy the face index searches (`vector`).
    public static func halfBlob(_ values: [Float]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(values.count * 2)
        for value in values {
            let bits = Float16(value).bitPattern
            bytes.append(UInt8(truncatingIfNeeded: bits))
            bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
        }
        return bytes
    }

    /// The values of a blob of ``KeyLayout/embeddingDimension`` FLOAT32s; nil for any other length.
    public static func vector(fromBlob bytes: [UInt8]) -> [Float]? {
        guard bytes.count == KeyLayout.embeddingDimension * 4 else { return nil }
        var values: [Float] = []
        values.reserveCapacity(KeyLayout.embeddingDimension)
        var i = 0
        while i < bytes.count {
            let bits =
                UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16 | UInt32(bytes[i + 3]) << 24
            values.append(Float(bitPattern: bits))
            i += 4
        }
        return values
    }

    // MARK: Landmarks text

    /// The compact form of a `descriptors` object (what a stored face keeps in its `landmarks`
    /// field). FaceScope's own shape (regions of keypoints
    /// keyed by index, whole-number `x` and `y`) becomes `region:index,x,y index,x,y;region:...`
    /// (about 1 KB for 80 keypoints, half their JSON text, and one string instead of 240 JSON nodes); any
    /// other shape is kept as `=` followed by its JSON text. Either rebuilds the object exactly
    /// (``descriptors(fromLandmarks:)``), member order included.
    public static func landmarks(fromDescriptors descriptors: JSONValue) -> String {
        compact(descriptors) ?? "=" + descriptors.serialized
    }

    /// The `descriptors` object a ``landmarks(fromDescriptors:)`` text stands for.
    public static func descriptors(fromLandmarks text: String) throws(DocumentFormatError) -> JSONValue {
        if text.hasPrefix("=") {
            let parsed = Result { () throws(JSONParseError) -> JSONValue in
                try JSONValue.parse(String(text.dropFirst()))
            }
            guard case .success(let value) = parsed else {
                throw DocumentFormatError("the face record's landmarks are not JSON")
            }
            return value
        }
        if text.isEmpty { return .object([]) }
        var regions: [(String, JSONValue)] = []
        for region in text.split(separator: ";", omittingEmptySubsequences: false) {
            guard let colon = region.firstIndex(of: ":") else {
                throw DocumentFormatError("the face record's landmarks have a region without ':'")
            }
            let name = String(region[..<colon])
            var points: [(String, JSONValue)] = []
            for point in region[region.index(after: colon)...].split(separator: " ") {
                let parts = point.split(separator: ",", omittingEmptySubsequences: false)
                guard parts.count == 3, let index = Int(parts[0]), index >= 0, let x = Int64(parts[1]),
                    let y = Int64(parts[2])
                else {
                    throw DocumentFormatError("the face record's landmarks have a malformed point in \(name)")
                }
                points.append((String(index), .object([("x", .int(x)), ("y", .int(y))])))
            }
            regions.append((name, .object(points)))
        }
        return .object(regions)
    }

    /// Bytes a region's name may not hold in the compact form (they separate its parts).
    static let regionNameSeparators: Set<UInt8> = Set(":; ,=".utf8)

    private static func compact(_ descriptors: JSONValue) -> String? {
        guard case .object(let regions) = descriptors else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        for (n, (name, value)) in regions.enumerated() {
            guard !name.isEmpty, !name.utf8.contains(where: regionNameSeparators.contains),
                case .object(let members) = value
            else { return nil }
            if n > 0 { out.append(UInt8(ascii: ";")) }
            out.append(contentsOf: name.utf8)
            out.append(UInt8(ascii: ":"))
            for (m, (key, point)) in members.enumerated() {
                guard let index = Int(key), index >= 0, String(index) == key,
                    case .object(let coordinates) = point, coordinates.count == 2,
                    coordinates[0].0 == "x", coordinates[1].0 == "y",
                    case .int(let x) = coordinates[0].1, case .int(let y) = coordinates[1].1
                else { return nil }
                if m > 0 { out.append(UInt8(ascii: " ")) }
                out.append(contentsOf: key.utf8)
                out.append(UInt8(ascii: ","))
                JSONValue.appendInteger(x, to: &out)
                out.append(UInt8(ascii: ","))
                JSONValue.appendInteger(y, to: &out)
            }
        }
        return regions.isEmpty ? "" : String(decoding: out, as: UTF8.self)
    }
}
