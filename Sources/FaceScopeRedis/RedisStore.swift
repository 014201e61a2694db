import FaceScopeCore
import Foundation

/// How a listing is ordered.
public enum ListOrder: String, Sendable, CaseIterable {
    /// By filename, in byte order (so `B.jpg` comes before `a.jpg`).
    case filename
    /// By number of faces, ties by filename.
    case faces
}

/// What the server runs, as `doctor` reports it.
public struct ServerInfo: Sendable {
    public var version: String
    public var modules: [String: Int]
    public var searchVersion: Int? { modules["search"] }
    public var jsonVersion: Int? { modules["ReJSON"] }
}

/// The image documents in Redis, read and written in redis-om's layout for the original
/// `Model` class, so FaceScope and the original Python tools share one database.
///
/// One document per image file: saving a filename that is already stored replaces that
/// document in place (same pk), atomically on the server, so racing writers never duplicate it.
/// Listing by filename or face count works at any offset through two sorted sets of FaceScope's
/// own; RediSearch serves full-text and tag searches.
public final class RedisStore: Sendable {
    public let connection: RedisConnection
    public let layout: KeyLayout
    private let keys: KeyGenerator
    private let writerState = FirstSave()

    /// Connects, checks that the server has the JSON and search modules, and creates the
    /// indexes that are missing (redis-om's exactly as redis-om would, and FaceScope's own).
    public static func open(settings: Settings) throws(FaceScopeError) -> RedisStore {
        let endpoint = try RedisEndpoint.parse(settings.redisURL)
        let connection = try RedisConnection(
            endpoint: endpoint, connectTimeout: settings.connectTimeout, commandTimeout: settings.commandTimeout)
        let store = RedisStore(connection: connection, layout: try KeyLayout(prefix: settings.keyPrefix))
        try store.requireModules()
        try store.ensureIndexes()
        return store
    }

    public init(connection: RedisConnection, layout: KeyLayout) {
        self.connection = connection
        self.layout = layout
        self.keys = KeyGenerator()
    }

    // MARK: - Server checks

    public func serverInfo() throws(FaceScopeError) -> ServerInfo {
        let replies = try connection.pipeline([["INFO", "server"], ["MODULE", "LIST"]])
        var version = "unknown"
        if let info = replies[0].string {
            for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("redis_version:") {
                version = String(line.dropFirst("redis_version:".count))
            }
        }
        var modules: [String: Int] = [:]
        for module in replies[1].array ?? [] {
            let fields = module.array ?? []
            var name: String?
            var ver: Int?
            var i = 0
            while i + 1 < fields.count {
                if fields[i].string == "name" { name = fields[i + 1].string }
                if fields[i].string == "ver" { ver = fields[i + 1].integer.map { Int($0) } }
                i += 2
            }
            if let name { modules[name] = ver ?? 0 }
        }
        return ServerInfo(version: version, modules: modules)
    }

    func requireModules() throws(FaceScopeError) {
        let info = try serverInfo()
        var missing: [String] = []
        if info.jsonVersion == nil { missing.append("JSON (RedisJSON)") }
        if info.searchVersion == nil { missing.append("search (RediSearch)") }
        if !missing.isEmpty {
            throw .redis(
                "Redis \(info.version) at \(connection.endpoint) has no \(missing.joined(separator: " and ")) module: "
                    + "FaceScope needs Redis Stack (docker image redis/redis-stack-server, or scripts/setup.sh here) or Redis 8 or later"
            )
        }
    }

    private func indexExists(_ name: String) throws(FaceScopeError) -> Bool {
        let reply = try connection.send(["FT.INFO", name])
        if case .error(let message) = reply {
            let lower = message.lowercased()
            if lower.contains("unknown index") || lower.contains("no such index") { return false }
            throw .redis("Redis refused FT.INFO \(name): \(TerminalText.sanitize(message))")
        }
        return true
    }

    /// Creates redis-om's index (and its `:hash` bookkeeping, so Python's `Migrator().run()`
    /// leaves it alone) and FaceScope's own index when they are missing.
    public func ensureIndexes() throws(FaceScopeError) {
        if try !indexExists(layout.redisOMIndex) {
            try connection.call(layout.redisOMCreateArguments)
            try connection.call(["SET", layout.redisOMHashKey, layout.redisOMSchemaHash])
        }
        if try indexExists(layout.ownIndex),
            try connection.send(["GET", layout.ownIndexVersionKey]).string != String(KeyLayout.ownIndexVersion)
        {
            // An index from an older FaceScope: rebuild it (the documents stay).
            try connection.call(["FT.DROPINDEX", layout.ownIndex])
        }
        if try !indexExists(layout.ownIndex) {
            try connection.call(layout.ownCreateArguments)
            try connection.call(["SET", layout.ownIndexVersionKey, String(KeyLayout.ownIndexVersion)])
            try waitForIndexing(layout.ownIndex)
        }
    }

    /// Waits until RediSearch has indexed the documents that existed when an index was created
    /// (it scans them in the background).
    public func waitForIndexing(_ index: String, timeout: Double = 600) throws(FaceScopeError) {
        let deadline = ULIDGenerator.nowMillis() + UInt64(timeout * 1000)
        while true {
            let items = try connection.call(["FT.INFO", index]).array ?? []
            var indexing = false
            var i = 0
            while i + 1 < items.count {
                if items[i].string == "indexing" {
                    indexing = (items[i + 1].integer ?? Int64(items[i + 1].string ?? "0") ?? 0) != 0
                }
                i += 2
            }
            if !indexing { return }
            if ULIDGenerator.nowMillis() > deadline {
                throw .redis("RediSearch is still indexing \(index) after \(Int(timeout)) s")
            }
            usleep(20_000)
        }
    }

    // MARK: - Reading

    private func decode(key: String, json: String) throws(FaceScopeError) -> ImageDocument {
        do {
            var value = try JSONValue.parse(json)
            // `$` paths answer with a one-element array.
            if case .array(let items) = value, items.count == 1 { value = items[0] }
            return try ImageDocument(json: value)
        } catch let error as JSONParseError {
            throw .data("document \(TerminalText.sanitize(key)) is not valid JSON: \(error)")
        } catch let error as DocumentFormatError {
            throw .data("document \(TerminalText.sanitize(key)) does not have the expected shape: \(error)")
        } catch {
            throw .data("document \(TerminalText.sanitize(key)): \(error)")
        }
    }

    /// Loads documents by key, in order; keys that no longer exist are left out.
    public func load(keys docKeys: [String]) throws(FaceScopeError) -> [ImageDocument] {
        var result: [ImageDocument] = []
        result.reserveCapacity(docKeys.count)
        var start = 0
        while start < docKeys.count {
            let chunk = Array(docKeys[start..<min(docKeys.count, start + 500)])
            start += chunk.count
            let reply = try connection.call(["JSON.MGET"] + chunk + ["$"])
            for (key, item) in zip(chunk, reply.array ?? []) {
                guard let text = item.string else { continue }
                result.append(try decode(key: key, json: text))
            }
        }
        return result
    }

    public func get(pk: String) throws(FaceScopeError) -> ImageDocument? {
        try load(keys: [layout.key(pk: pk)]).first
    }

    /// The document stored for exactly this filename (case and bytes as stored).
    public func get(filename: String) throws(FaceScopeError) -> ImageDocument? {
        try documents(filenames: [filename])[filename]
    }

    /// The stored documents for these filenames (those that have one), by filename.
    public func documents(filenames: [String]) throws(FaceScopeError) -> [String: ImageDocument] {
        let pks = try resolve(filenames: filenames)
        var found: [String: ImageDocument] = [:]
        for document in try load(keys: pks.values.map(layout.key(pk:))) where pks[document.filename] == document.pk {
            found[document.filename] = document
        }
        return found
    }

    /// Which of these filenames have a stored document.
    public func existing(filenames: [String]) throws(FaceScopeError) -> Set<String> {
        Set(try resolve(filenames: filenames).keys)
    }

    /// The pk of the stored document of each of these filenames that has one. FaceScope's filename
    /// hash answers first; a name it lacks (or whose claim points nowhere) is looked up in
    /// FaceScope's index, which also holds documents other tools wrote since the lookups were last
    /// brought in step, and the hash is mended for the names found there.
    func resolve(filenames: [String]) throws(FaceScopeError) -> [String: String] {
        try syncLookups()
        var result: [String: String] = [:]
        var start = 0
        while start < filenames.count {
            let chunk = Array(filenames[start..<min(filenames.count, start + 1000)])
            start += chunk.count
            let claims = try connection.call(["HMGET", layout.byFilenameKey] + chunk).array ?? []
            let claimed = zip(chunk, claims).compactMap { name, pk in pk.string.map { (name: name, pk: $0) } }
            let present = try connection.pipeline(claimed.map { ["EXISTS", layout.key(pk: $0.pk)] })
            for (claim, exists) in zip(claimed, present) where exists.integer == 1 { result[claim.name] = claim.pk }
            let missing = chunk.filter { result[$0] == nil }
            if !missing.isEmpty { try lookUpInIndex(missing, into: &result) }
        }
        return result
    }

    /// Finds documents for filenames through FaceScope's index (exact, case-sensitive tag), checks
    /// the stored filename byte for byte (the tag trims spaces), and claims the oldest for each.
    private func lookUpInIndex(_ names: [String], into result: inout [String: String]) throws(FaceScopeError) {
        let replies = try connection.pipeline(
            names.map {
                [
                    "FT.SEARCH", layout.ownIndex, SearchQuery.tagEquals(field: "filename", value: $0), "NOCONTENT",
                    "LIMIT", "0", "10",
                ]
            })
        var candidates: [(name: String, key: String)] = []
        for (name, reply) in zip(names, replies) {
            if case .error(let message) = reply {
                throw .redis("looking up a filename failed: \(TerminalText.sanitize(message))")
            }
            for key in (reply.array ?? []).dropFirst().compactMap(\.string) { candidates.append((name, key)) }
        }
        if candidates.isEmpty { return }
        let stored = try connection.pipeline(candidates.map { ["JSON.GET", $0.key, "$.filename"] })
        var repairs: [[String]] = []
        for (candidate, reply) in zip(candidates, stored) {
            guard let text = reply.string, case .array(let values)? = try? JSONValue.parse(text),
                values.first?.stringValue == candidate.name, let pk = layout.pk(fromKey: candidate.key)
            else { continue }
            if let known = result[candidate.name], known <= pk { continue }
            result[candidate.name] = pk
        }
        for name in names { if let pk = result[name] { repairs.append(["HSET", layout.byFilenameKey, name, pk]) } }
        _ = try connection.pipeline(repairs)
    }

    /// How many documents are stored (as RediSearch counts them under the prefix).
    public func count() throws(FaceScopeError) -> Int {
        guard let info = try describeIndex(layout.ownIndex) else {
            throw .redis("FaceScope's index \(layout.ownIndex) is missing")
        }
        return info.documents
    }

    /// Brings FaceScope's lookups (filename -> pk, and the two sort sets) in line with the stored
    /// documents when their sizes differ, as after other tools wrote or deleted documents. Only
    /// adds what is missing and removes what points nowhere, so writers working at the same time
    /// lose nothing. Returns whether anything had to be checked.
    @discardableResult
    public func syncLookups() throws(FaceScopeError) -> Bool {
        let replies = try connection.pipeline([["ZCARD", layout.byNameKey], ["ZCARD", layout.byFacesKey]])
        let docs = Int64(try count())
        if replies.allSatisfy({ $0.integer == docs }) { return false }
        try addMissingLookups()
        try removeStaleLookups()
        return true
    }

    /// Adds every indexed document to the lookups; existing filename claims are kept.
    private func addMissingLookups() throws(FaceScopeError) {
        var entries = try scanIndex(query: "*")
        // Where other tools stored one filename twice, the oldest pk claims it.
        entries.sort { $0.key < $1.key }
        var start = 0
        while start < entries.count {
            let chunk = entries[start..<min(entries.count, start + 1000)]
            start += chunk.count
            let lengths = try connection.pipeline(chunk.map { ["JSON.ARRLEN", $0.key, "$.faces"] })
            var commands: [[String]] = []
            var names = ["ZADD", layout.byNameKey]
            var faces = ["ZADD", layout.byFacesKey]
            for (entry, length) in zip(chunk, lengths) {
                guard let pk = layout.pk(fromKey: entry.key) else { continue }
                let member = KeyLayout.sortMember(filename: entry.filename, pk: pk)
                commands.append(["HSETNX", layout.byFilenameKey, entry.filename, pk])
                names += ["0", member]
                faces += [String(length.array?.first?.integer ?? 0), member]
            }
            if names.count > 2 { _ = try connection.pipeline(commands + [names, faces]) }
        }
    }

    /// Drops sort-set members and filename claims whose document no longer exists.
    private func removeStaleLookups() throws(FaceScopeError) {
        for set in [layout.byNameKey, layout.byFacesKey] {
            var cursor = "0"
            repeat {
                let reply = try connection.call(["ZSCAN", set, cursor, "COUNT", "1000"]).array ?? []
                guard reply.count == 2 else { throw .data("unexpected ZSCAN reply") }
                cursor = reply[0].string ?? "0"
                let items = reply[1].array ?? []
                let members = stride(from: 0, to: items.count, by: 2).compactMap { items[$0].string }
                let parsed = members.compactMap(KeyLayout.parseSortMember)
                if parsed.isEmpty { continue }
                let exists = try connection.pipeline(parsed.map { ["EXISTS", layout.key(pk: $0.pk)] })
                var stale: [String] = []
                var claims: [[String]] = []
                for (member, (entry, found)) in zip(members, zip(parsed, exists)) where found.integer == 0 {
                    stale.append(member)
                    claims.append(["HGET", layout.byFilenameKey, entry.filename])
                }
                if stale.isEmpty { continue }
                _ = try connection.pipeline([["ZREM", layout.byNameKey] + stale, ["ZREM", layout.byFacesKey] + stale])
                let owners = try connection.pipeline(claims)
                let orphaned = zip(stale.compactMap(KeyLayout.parseSortMember), owners).filter {
                    $0.0.pk == $0.1.string
                }
                if !orphaned.isEmpty {
                    _ = try connection.pipeline(orphaned.map { ["HDEL", layout.byFilenameKey, $0.0.filename] })
                }
            } while cursor != "0"
        }
    }

    /// Every (key, filename) matching `query` in FaceScope's index, read through a cursor so
    /// that RediSearch's result cap (MAXSEARCHRESULTS / MAXAGGREGATERESULTS) does not apply.
    public func scanIndex(query: String) throws(FaceScopeError) -> [(key: String, filename: String)] {
        var out: [(String, String)] = []
        var reply = try connection.call([
            "FT.AGGREGATE", layout.ownIndex, query, "LOAD", "2", "@__key", "@filename", "WITHCURSOR", "COUNT", "5000",
        ])
        while true {
            guard let pair = reply.array, pair.count == 2 else {
                throw .data("unexpected FT.AGGREGATE reply while reading the index")
            }
            for row in (pair[0].array ?? []).dropFirst() {
                let fields = row.array ?? []
                var key: String?
                var filename: String?
                var i = 0
                while i + 1 < fields.count {
                    if fields[i].string == "__key" { key = fields[i + 1].string }
                    if fields[i].string == "filename" { filename = fields[i + 1].string }
                    i += 2
                }
                if let key, let filename { out.append((key, filename)) }
            }
            let cursor = pair[1].integer ?? 0
            if cursor == 0 { break }
            reply = try connection.call(["FT.CURSOR", "READ", layout.ownIndex, String(cursor)])
        }
        return out
    }

    /// A page of documents in the given order; `limit` nil means every document from `offset`.
    public func list(order: ListOrder = .filename, descending: Bool = false, offset: Int = 0, limit: Int? = nil)
        throws(FaceScopeError) -> [ImageDocument]
    {
        try syncLookups()
        let set = order == .filename ? layout.byNameKey : layout.byFacesKey
        var result: [ImageDocument] = []
        var position = max(0, offset)
        var remaining = limit ?? Int.max
        while remaining > 0 {
            let chunk = min(remaining, 1000)
            var args = ["ZRANGE", set, String(position), String(position + chunk - 1)]
            if descending { args.append("REV") }
            let members = (try connection.call(args).array ?? []).compactMap(\.string)
            if members.isEmpty { break }
            let pks = members.compactMap { KeyLayout.parseSortMember($0)?.pk }
            let docs = try load(keys: pks.map(layout.key(pk:)))
            if docs.count < pks.count { try dropStaleMembers(members, present: Set(docs.map(\.pk))) }
            result += docs
            position += members.count
            remaining -= members.count
            if members.count < chunk { break }
        }
        return result
    }

    private func dropStaleMembers(_ members: [String], present: Set<String>) throws(FaceScopeError) {
        let stale = members.filter { KeyLayout.parseSortMember($0).map { !present.contains($0.pk) } ?? true }
        if stale.isEmpty { return }
        _ = try connection.pipeline([["ZREM", layout.byNameKey] + stale, ["ZREM", layout.byFacesKey] + stale])
    }

    /// What a search matched: the total and the requested page, sorted by filename.
    public struct SearchResult: Sendable {
        public var total: Int
        public var documents: [ImageDocument]
    }

    /// What to search for.
    public enum SearchKind: Sendable {
        /// Words of the filename, `holi*` for prefixes (RediSearch full-text).
        case text(String)
        /// The filename exactly as stored.
        case exact(String)
        /// Filenames that start with this text.
        case prefix(String)
    }

    /// Searches filenames; results sorted by filename (byte order). Exact and prefix matches are
    /// byte-exact and case-sensitive (read from the sort set); text matches use RediSearch, and
    /// pages past its result cap are read through a cursor.
    public func search(_ kind: SearchKind, offset: Int = 0, limit: Int? = nil) throws(FaceScopeError) -> SearchResult {
        switch kind {
        case .exact(let name):
            let docs = try get(filename: name).map { [$0] } ?? []
            return SearchResult(total: docs.count, documents: Array(docs.dropFirst(offset).prefix(limit ?? Int.max)))
        case .prefix(let prefix):
            try syncLookups()
            let low = "[" + prefix
            let high = "(" + prefix + "\u{10FFFF}"
            let replies = try connection.pipeline([
                ["ZLEXCOUNT", layout.byNameKey, low, high],
                ["ZRANGEBYLEX", layout.byNameKey, low, high, "LIMIT", String(max(0, offset)), String(limit ?? -1)],
            ])
            let pks = (replies[1].array ?? []).compactMap { $0.string.flatMap(KeyLayout.parseSortMember)?.pk }
            return SearchResult(
                total: Int(replies[0].integer ?? 0), documents: try load(keys: pks.map(layout.key(pk:))))
        case .text(let text):
            return try searchText(SearchQuery.fullText(field: "filename_fts", text: text), offset: offset, limit: limit)
        }
    }

    private func searchText(_ q: String, offset: Int, limit: Int?) throws(FaceScopeError) -> SearchResult {
        let cap = 10_000
        if let limit, offset + limit <= cap {
            let reply = try connection.send([
                "FT.SEARCH", layout.ownIndex, q, "SORTBY", "filename", "ASC", "LIMIT", String(offset), String(limit),
            ])
            if case .error(let message) = reply {
                throw .redis("the search failed: \(TerminalText.sanitize(message))")
            }
            let items = reply.array ?? []
            var docs: [ImageDocument] = []
            var i = 1
            while i + 1 < items.count {
                if let key = items[i].string, let fields = items[i + 1].array,
                    let dollar = stride(from: 0, to: fields.count - 1, by: 2).first(where: { fields[$0].string == "$" }
                    ),
                    let json = fields[dollar + 1].string
                {
                    docs.append(try decode(key: key, json: json))
                }
                i += 2
            }
            return SearchResult(total: Int(items.first?.integer ?? 0), documents: docs)
        }
        var entries = try scanIndex(query: q)
        entries.sort { $0.filename.utf8.lexicographicallyPrecedes($1.filename.utf8) }
        let page = entries.dropFirst(offset).prefix(limit ?? Int.max)
        return SearchResult(total: entries.count, documents: try load(keys: page.map(\.key)))
    }

    // MARK: - Writing

    /// Saves one document (see `saveAll`).
    @discardableResult
    public func save(_ document: ImageDocument) throws(FaceScopeError) -> ImageDocument {
        guard let result = try saveAll([document]).first else { throw .data("nothing was saved") }
        return try result.get()
    }

    /// Saves documents in pipelined batches. Each is stored under the pk of the document that
    /// already has its filename, if any, else under its own pk (a new ULID when empty); face and
    /// box pks are made where missing. One result per document, in order: a document the server
    /// refuses fails alone.
    ///
    /// The filename's pk is claimed atomically (`HSETNX` on FaceScope's filename hash) before the
    /// document is written, so writers racing on one filename all write the same key: the last
    /// write wins and no duplicate appears.
    public func saveAll(_ documents: [ImageDocument], batchSize: Int = 500) throws(FaceScopeError)
        -> [Result<ImageDocument, FaceScopeError>]
    {
        // Documents other tools stored must be claimed before a save can find them: checked
        // once per store (a detection run), and by every listing.
        if writerState.firstSave() { try syncLookups() }
        var prepared = documents
        keys.assign(&prepared)
        var results: [Result<ImageDocument, FaceScopeError>] = []
        results.reserveCapacity(prepared.count)
        var start = 0
        while start < prepared.count {
            var batch = Array(prepared[start..<min(prepared.count, start + max(1, batchSize))])
            start += batch.count
            // Claim each filename for this document's pk; where another pk holds it, use that one.
            let claims = try connection.pipeline(batch.map { ["HSETNX", layout.byFilenameKey, $0.filename, $0.pk] })
            let taken = batch.indices.filter { claims[$0].integer == 0 }
            if !taken.isEmpty {
                let owners = try connection.call(["HMGET", layout.byFilenameKey] + taken.map { batch[$0].filename })
                for (i, owner) in zip(taken, owners.array ?? []) {
                    if let pk = owner.string { batch[i].pk = pk }
                }
            }
            var writes: [[String]] = []
            writes.reserveCapacity(batch.count + 2)
            var names = ["ZADD", layout.byNameKey]
            var faces = ["ZADD", layout.byFacesKey]
            for doc in batch {
                let member = KeyLayout.sortMember(filename: doc.filename, pk: doc.pk)
                writes.append(["JSON.SET", layout.key(pk: doc.pk), "$", doc.json.serialized])
                names += ["0", member]
                faces += [String(doc.faceCount), member]
            }
            let replies = try connection.pipeline(writes + [names, faces])
            for (i, doc) in batch.enumerated() {
                if case .error(let message) = replies[i] {
                    let name = TerminalText.sanitize(doc.filename)
                    results.append(
                        .failure(.redis("\(name): Redis refused the document: \(TerminalText.sanitize(message))")))
                } else {
                    results.append(.success(doc))
                }
            }
            for reply in replies.suffix(2) {
                if case .error(let message) = reply {
                    throw .redis("Redis refused to update FaceScope's sort sets: \(TerminalText.sanitize(message))")
                }
            }
        }
        return results
    }

    /// Deletes every document under the prefix, both indexes and FaceScope's lookups. For tests
    /// and benchmarks working in a prefix of their own; nothing in the CLI calls it.
    public func destroyEverything() throws(FaceScopeError) {
        _ = try connection.pipeline([
            ["FT.DROPINDEX", layout.redisOMIndex, "DD"], ["FT.DROPINDEX", layout.ownIndex],
            [
                "DEL", layout.byNameKey, layout.byFacesKey, layout.byFilenameKey, layout.redisOMHashKey,
                layout.ownIndexVersionKey, layout.peopleKey,
            ],
        ])
    }

    /// Deletes a document and its lookups in one step on the server.
    static let deleteScript = """
        local key = ARGV[1] .. ARGV[2]
        local stored = redis.call('JSON.GET', key, '$.filename')
        if not stored then return 0 end
        local filename = cjson.decode(stored)[1]
        redis.call('DEL', key)
        if filename then
          local member = filename .. '\\0' .. ARGV[2]
          redis.call('ZREM', KEYS[1], member)
          redis.call('ZREM', KEYS[2], member)
          if redis.call('HGET', KEYS[3], filename) == ARGV[2] then redis.call('HDEL', KEYS[3], filename) end
        end
        return 1
        """
    static let deleteSHA = SHA1.hexDigest(deleteScript)

    /// Deletes the document with this pk; returns whether it existed.
    @discardableResult
    public func delete(pk: String) throws(FaceScopeError) -> Bool {
        let args = [
            "EVALSHA", RedisStore.deleteSHA, "3", layout.byNameKey, layout.byFacesKey, layout.byFilenameKey,
            layout.prefix, pk,
        ]
        var reply = try connection.send(args)
        if case .error(let m) = reply, m.hasPrefix("NOSCRIPT") {
            try connection.call(["SCRIPT", "LOAD", RedisStore.deleteScript])
            reply = try connection.send(args)
        }
        if case .error(let m) = reply { throw .redis("Redis refused the delete: \(TerminalText.sanitize(m))") }
        return reply.integer == 1
    }
}

/// Remembers whether a store has saved before.
final class FirstSave: @unchecked Sendable {
    private let lock = NSLockLike()
    private var done = false

    func firstSave() -> Bool {
        lock.withLock {
            defer { done = true }
            return !done
        }
    }
}

/// Makes ULIDs for documents, faces and boxes that have none; shared by concurrent saves.
final class KeyGenerator: @unchecked Sendable {
    private var generator = ULIDGenerator()
    private let lock = NSLockLike()

    func assign(_ documents: inout [ImageDocument]) {
        lock.withLock {
            for i in documents.indices { documents[i].assignMissingKeys(using: &generator) }
        }
    }
}
