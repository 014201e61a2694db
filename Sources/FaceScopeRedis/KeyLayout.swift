import FaceScopeCore

/// Where FaceScope's data lives in Redis: redis-om's keys and index for the `Model` class, and
/// FaceScope's own index and keys beside them.
public struct KeyLayout: Sendable, Equatable {
    /// The document key prefix, `{global}:{module}.Model:`; the original deployment's is
    /// `:utils.Model:` (no global prefix, module `utils`).
    public let prefix: String

    public static let defaultPrefix = Settings.defaultKeyPrefix

    public init(prefix: String = KeyLayout.defaultPrefix) throws(StoreError) {
        do throws(FaceScopeError) {
            try Settings.checkKeyPrefix(prefix)
        } catch {
            throw .invalidRequest(error.description)
        }
        self.prefix = prefix
    }

    /// Builds the prefix redis-om derives from `Meta.global_key_prefix` and the model's module.
    public init(globalPrefix: String, module: String) throws(StoreError) {
        try self.init(prefix: "\(globalPrefix):\(module).Model:")
    }

    public func key(pk: String) -> String { prefix + pk }

    /// The pk of a document key, or nil when the key is not under the prefix.
    public func pk(fromKey key: String) -> String? {
        key.hasPrefix(prefix) ? String(key.dropFirst(prefix.count)) : nil
    }

    // MARK: redis-om's index, exactly as redis-om 0.x/1.x builds it for the original Model class

    public var redisOMIndex: String { prefix + "index" }
    public var redisOMHashKey: String { redisOMIndex + ":hash" }

    /// The schema string redis-om builds; its SHA-1 goes to `{index}:hash`.
    public var redisOMSchema: String {
        "ON JSON PREFIX 1 \(prefix) SCHEMA $.pk AS pk TAG SEPARATOR | $.filename AS filename TAG SEPARATOR | "
            + "$.filename AS filename_fts TEXT $.faces[*].pk AS faces_pk TAG SEPARATOR | "
            + "$.faces[*].bbox.pk AS faces_bbox_pk TAG SEPARATOR |    "
    }

    public var redisOMSchemaHash: String { SHA1.hexDigest(redisOMSchema) }

    /// `FT.CREATE` arguments for redis-om's index (redis-py splits the schema on whitespace).
    public var redisOMCreateArguments: [String] {
        ["FT.CREATE", redisOMIndex] + redisOMSchema.split(separator: " ").map(String.init)
    }

    // MARK: FaceScope's own index (never touched by redis-om)

    /// Version 3: listing, filename lookups and the face-count order are served by the index
    /// itself (sortable `filename` and `faces_order`), so other writers are seen at once.
    /// Version 5: search by the words of filenames as people type them (`filename_words`, and
    /// `filename_starts` for word starts).
    /// Version 6: the descriptors left the documents for the face records (``faceIndex``), so
    /// this index has no vector field; documents are rewritten in the compact layout.
    public static let ownIndexVersion = 6

    public var ownIndex: String { "facescope:" + prefix + "index" }
    /// Holds the version of FaceScope's own index schema.
    public var ownIndexVersionKey: String { ownIndex + ":version" }

    /// Keys of FaceScope versions before index version 3 (sort sets and a filename hash that only
    /// FaceScope maintained); removed when the index is upgraded.
    public var obsoleteKeys: [String] {
        ["by-name", "by-faces", "by-filename"].map { "facescope:" + prefix + $0 }
    }

    /// The tag separator of FaceScope's own filename tag: a control character, so names with
    /// `|` or `,` stay whole.
    public static let ownTagSeparator = "\u{1F}"

    /// The document field (FaceScope's own, ignored by redis-om) that orders a listing by face
    /// count: the count as six digits, a space, then the filename.
    public static let facesOrderField = "faces_order"

    /// The document field (FaceScope's own, ignored by redis-om) that full-text search reads:
    /// the filename's folded words (``FilenameWords/indexed(_:)``).
    public static let filenameWordsField = "filename_words"

    /// The document field (FaceScope's own) with every start of every filename word, a tag each
    /// (``FilenameWords/starts(_:)``).
    public static let filenameStartsField = "filename_starts"

    /// The value of ``facesOrderField`` for a document.
    public static func facesOrder(faceCount: Int, filename: String) -> String {
        let digits = String(min(max(0, faceCount), 999_999))
        return String(repeating: "0", count: 6 - digits.count) + digits + " " + filename
    }

    public var ownCreateArguments: [String] {
        [
            "FT.CREATE", ownIndex, "ON", "JSON", "PREFIX", "1", prefix, "STOPWORDS", "0", "SCHEMA",
            "$.filename", "AS", "filename", "TAG", "SEPARATOR", KeyLayout.ownTagSeparator, "CASESENSITIVE",
            "INDEXMISSING", "SORTABLE",
            "$.\(KeyLayout.filenameWordsField)", "AS", KeyLayout.filenameWordsField, "TEXT", "NOSTEM", "INDEXMISSING",
            "$.\(KeyLayout.filenameStartsField)", "AS", KeyLayout.filenameStartsField, "TAG", "SEPARATOR", " ",
            "CASESENSITIVE",
            "$.\(KeyLayout.facesOrderField)", "AS", KeyLayout.facesOrderField, "TAG", "SEPARATOR",
            KeyLayout.ownTagSeparator, "CASESENSITIVE", "INDEXMISSING", "SORTABLE",
            "$.faces[*].label", "AS", "label", "NUMERIC",
        ]
    }

    /// The length of a face descriptor (dlib's ResNet).
    public static let embeddingDimension = 128

    // MARK: Face records (FaceScope's own: one hash per face, beside the documents)

    /// The key prefix of the face records: `facescope:{prefix}face:`.
    public var faceRecordPrefix: String { "facescope:" + prefix + "face:" }

    /// The key of the record of a face (``FaceRecord``): `{record prefix}{document pk}:{face pk}`.
    /// The document's pk is part of it: other tools' documents may repeat a face pk.
    public func faceRecordKey(documentPK: String, facePK: String) -> String {
        faceRecordPrefix + documentPK + ":" + facePK
    }

    /// The face pk of a face record key of this document, or nil when the key is not one.
    public func facePK(fromRecordKey key: String, documentPK: String) -> String? {
        let start = faceRecordPrefix + documentPK + ":"
        return key.hasPrefix(start) ? String(key.dropFirst(start.count)) : nil
    }

    /// Version of the face record index: 2 (FLAT FLOAT32 vectors on `embedding`), 3 (the
    /// document pk sortable), 4 (the vector index on a FLOAT16 copy, `vector`); version 1 was
    /// never written.
    public static let faceIndexVersion = 4

    /// FaceScope's index over the face records.
    public var faceIndex: String { "facescope:" + prefix + "faces" }
    /// Holds the version of the face record index's schema.
    public var faceIndexVersionKey: String { faceIndex + ":version" }

    /// `FT.CREATE` arguments for the face record index: labels and probabilities numeric and
    /// sortable (people counts group on `label`; an unlabelled face has ``FaceRecord/unlabelled``),
    /// the document pk a sortable tag (removal by document; people's example faces group on it
    /// without opening each hash: 0.1 s instead of 0.45 s over 200,000 faces), `fixed` a tag,
    /// and the descriptors' FLOAT16 copy (`vector`) a FLAT vector field with the Euclidean
    /// metric that ``FaceIdentities`` uses. The FLOAT32 `embedding` stays the descriptor itself
    /// (exports, clustering, exact distances); the half-size copy halves what a KNN scans (at
    /// 2,000,000 faces 41 ms instead of 64 ms, docs/benchmarks.md) and what the index keeps.
    /// FLAT, not HNSW: a label write re-indexes the whole hash, and HNSW re-inserts the vector
    /// each time (relabelling 40,000 faces 0.5 s FLAT, 47 s HNSW).
    public var faceIndexCreateArguments: [String] {
        [
            "FT.CREATE", faceIndex, "ON", "HASH", "PREFIX", "1", faceRecordPrefix, "STOPWORDS", "0", "SCHEMA",
            "label", "NUMERIC", "SORTABLE",
            "doc", "TAG", "SEPARATOR", KeyLayout.ownTagSeparator, "CASESENSITIVE", "SORTABLE",
            "fixed", "TAG",
            "probability", "NUMERIC", "SORTABLE",
            "vector", "VECTOR", "FLAT", "6", "TYPE", "FLOAT16", "DIM", String(KeyLayout.embeddingDimension),
            "DISTANCE_METRIC", "L2",
        ]
    }

    /// Hash from label to a person's name.
    public var peopleKey: String { "facescope:" + prefix + "people" }
}
