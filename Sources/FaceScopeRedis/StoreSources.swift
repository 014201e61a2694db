import FaceScopeCore

/// Writes that keep stored documents in step with their image files: a touched file's new
/// modification time, the removal of documents whose files are gone.
extension RedisStore {
    /// Sets the `source` field of documents (by pk) whose stored filename is still the one given,
    /// leaving everything else in them as it is; pipelined. Returns how many were updated (a
    /// document deleted or renamed meanwhile is left alone).
    @discardableResult
    public func recordSources(_ items: [(pk: String, filename: String, source: FileSource)]) throws(StoreError)
        -> Int
    {
        guard !items.isEmpty else { return 0 }
        let replies = try connection.runScript(
            RedisStore.recordSourceScript, sha: RedisStore.recordSourceSHA,
            calls: items.map { ([layout.key(pk: $0.pk)], [$0.filename, $0.source.json.serialized]) })
        var updated = 0
        for reply in replies {
            if case .error(let message) = reply {
                throw .refused("recording a file's modification time failed: \(TerminalText.sanitize(message))")
            }
            if reply.integer == 1 { updated += 1 }
        }
        return updated
    }

    /// Deletes documents (by pk) whose stored filename is still the one given; pipelined.
    /// Returns the filenames deleted (a document renamed or deleted meanwhile is left alone).
    public func deleteDocuments(_ items: [(pk: String, filename: String)]) throws(StoreError) -> [String] {
        guard !items.isEmpty else { return [] }
        let replies = try connection.runScript(
            RedisStore.deleteNamedScript, sha: RedisStore.deleteNamedSHA,
            calls: items.map { ([layout.key(pk: $0.pk)], [$0.filename, layout.faceRecordPrefix, $0.pk]) })
        var deleted: [String] = []
        for (item, reply) in zip(items, replies) {
            if case .error(let message) = reply {
                let reason = RedisStore.isPermissionError(message) ? "the Redis user may not delete" : "Redis refused"
                throw .refused(
                    "deleting the document of \(TerminalText.sanitize(item.filename)) failed: \(reason): "
                        + TerminalText.sanitize(message))
            }
            if reply.integer == 1 { deleted.append(item.filename) }
        }
        return deleted
    }

    /// The index filter (for `forEachPage(filter:)`) of stored filenames that start with `prefix`.
    public static func filenamePrefixFilter(_ prefix: String) -> String {
        "startswith(@filename, \(expressionString(prefix)))"
    }

    static let recordSourceScript = """
        local ok, value = pcall(redis.call, 'JSON.GET', KEYS[1], '$.filename')
        if not ok or not value then return 0 end
        if cjson.decode(value)[1] ~= ARGV[1] then return 0 end
        redis.call('JSON.SET', KEYS[1], '$.source', ARGV[2])
        return 1
        """
    static let recordSourceSHA = SHA1.hexDigest(recordSourceScript)

    static let deleteNamedScript =
        deleteRecordsLua + "\n"
            + """
            local ok, value = pcall(redis.call, 'JSON.GET', KEYS[1], '$.filename')
            if not ok or not value then return 0 end
            if cjson.decode(value)[1] ~= ARGV[1] then return 0 end
            delete_records(KEYS[1], ARGV[2], ARGV[3])
            return redis.call('DEL', KEYS[1])
            """
    static let deleteNamedSHA = SHA1.hexDigest(deleteNamedScript)
}
