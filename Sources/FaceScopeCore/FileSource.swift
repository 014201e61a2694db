/// What a stored document was computed from: the image file's size, modification time and the
/// SHA-256 of its content, kept in the document's top-level extra field `source` (redis-om
/// ignores it): `"source": {"size": 48213, "mtime_ns": 1714557600123456789, "sha256": "9f86…"}`.
///
/// `detect` compares a file with it to tell a changed file (re-detected) from an unchanged one
/// (skipped); size and time are compared first, the hash only confirms a change when the size is
/// the same and the time is not.
public struct FileSource: Sendable, Equatable {
    /// The name of the document's extra field.
    public static let field = "source"

    /// The file's size in bytes.
    public var size: Int64
    /// The file's modification time in nanoseconds since the epoch.
    public var mtimeNanoseconds: Int64
    /// The SHA-256 of the file's bytes, 64 lowercase hex digits; nil when it was not computed.
    public var sha256: String?

    public init(size: Int64, mtimeNanoseconds: Int64, sha256: String?) {
        self.size = size
        self.mtimeNanoseconds = mtimeNanoseconds
        self.sha256 = sha256
    }

    /// Whether a file with this size and time looks exactly like the one recorded.
    public func sameStat(_ other: FileSource) -> Bool {
        size == other.size && mtimeNanoseconds == other.mtimeNanoseconds
    }

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [("size", .int(size)), ("mtime_ns", .int(mtimeNanoseconds))]
        if let sha256 { members.append(("sha256", .string(sha256))) }
        return .object(members)
    }

    /// The source recorded in a stored value; nil when it is not one FaceScope wrote (another
    /// tool's field of the same name is left alone and counts as no source).
    public init?(json: JSONValue) {
        guard case .object = json, let size = json["size"]?.intValue, let mtime = json["mtime_ns"]?.intValue,
            size >= 0
        else { return nil }
        let hash = json["sha256"]?.stringValue
        if let hash, hash.utf8.count != 64 || !hash.utf8.allSatisfy({ Self.isHexDigit($0) }) { return nil }
        self.init(size: size, mtimeNanoseconds: mtime, sha256: hash)
    }

    private static func isHexDigit(_ c: UInt8) -> Bool {
        (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "f"))
    }
}

extension ImageDocument {
    /// What the document was computed from (the `source` extra field); nil for documents stored
    /// before FaceScope recorded it, or written by other tools.
    public var source: FileSource? {
        get { extra.first(where: { $0.name == FileSource.field }).flatMap { FileSource(json: $0.value) } }
        set {
            let at = extra.firstIndex(where: { $0.name == FileSource.field })
            extra.removeAll { $0.name == FileSource.field }
            guard let newValue else { return }
            let field = ExtraField(name: FileSource.field, value: newValue.json)
            extra.insert(field, at: min(at ?? extra.count, extra.count))
        }
    }
}
