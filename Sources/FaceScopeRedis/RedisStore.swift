import FaceScopeCore
import Foundation
import Synchronization

extension ListOrder {
    /// The sortable field of FaceScope's index that holds this order.
    var field: String { self == .filename ? "filename" : KeyLayout.facesOrderField }
}

/// What a command means to do with the store: a read never creates or changes anything that
/// holds data, so a mistyped key prefix or a read-only Redis user leaves the server as it was.
public enum StoreAccess: Sendable {
    case read
    case write
}

/// A stored document that could not be read (another tool wrote something FaceScope cannot
/// use): reads skip it and say so instead of failing.
public struct SkippedDocument: Sendable, Equatable {
    public var key: String
    public var reason: String
}

/// What the server runs, as `doctor` reports it.
public struct ServerInfo: Sendable {
    public var version: String
    public var modules: [String: Int]
    /// Modules whose presence is known only because their commands answered (a user that may
    /// not run MODULE LIST).
    public var probed: Bool = false
    public var searchVersion: Int? { modules["search"] }
    public var jsonVersion: Int? { modules["ReJSON"] }
}

/// The image documents in Redis, read and written in redis-om's layout for the original
/// `Model` class, so FaceScope and the original Python tools share one database.
///
/// Every read goes through FaceScope's own RediSearch index, which Redis keeps up to date on
/// every write whoever makes it, so documents other tools add, change, rename or delete are seen
/// at once. There is no cache of FaceScope's own to go stale. One document per image file:
/// saving a filename that is already stored replaces that document in place (same pk), decided
/// and written in one server-side script, so racing writers never duplicate it.
public final class RedisStore: Sendable {
    public let connection: RedisConnection
    public let layout: KeyLayout
    /// False when a read found no FaceScope index and no document under the prefix (nothing is
    /// stored there): reads answer empty without creating anything.
    public let hasIndex: Bool
    private let keys = KeyGenerator()
    private let skipped = Mutex<[String: String]>([:])

    /// Hears how far a one-time upgrade of the stored documents has got (done, total): set by
    /// front ends that show progress.
    public static let upgradeProgress = Mutex<(@Sendable (Int, Int) -> Void)?>(nil)
    private let checkpoints = WalkCheckpoints()

    /// FT.SEARCH's and FT.AGGREGATE's result caps on Redis Stack's defaults
    /// (MAXSEARCHRESULTS, MAXAGGREGATERESULTS); pages beyond are read window by window.
    static let resultCap = 10_000

    /// Connects, checks that the server has the JSON and search modules, and (for writes)
    /// creates the indexes that are missing: redis-om's exactly as redis-om would, and FaceScope's
    /// own. A read creates FaceScope's index only when documents exist under the prefix (it is
    /// needed to read them) and never creates redis-om's.
    public static func open(settings: Settings, access: StoreAccess = .write) throws(StoreError) -> RedisStore {
        let endpoint = settings.redis
        let connection = try RedisConnection(
            endpoint: endpoint, connectTimeout: settings.connectTimeout, commandTimeout: settings.commandTimeout)
        let layout = try KeyLayout(prefix: settings.keyPrefix)
        let probe = RedisStore(connection: connection, layout: layout)
        try probe.requireModules()
        switch access {
        case .write:
            try probe.ensureIndexes()
            return probe
        case .read:
            if try probe.ownIndexIsCurrent() { return probe }
            if try probe.anyDocumentKey() == nil {
                return RedisStore(connection: connection, layout: layout, hasIndex: false)
            }
            try probe.ensureOwnIndex()
            return probe
        }
    }

    public init(connection: RedisConnection, layout: KeyLayout, hasIndex: Bool = true) {
        self.connection = connection
        self.layout = layout
        self.hasIndex = hasIndex
    }

    // MARK: - Server checks

    public func serverInfo() throws(StoreError) -> ServerInfo {
        let replies = try connection.pipeline([["INFO", "server"], ["MODULE", "LIST"]])
        var version = "unknown"
        if let info = replies[0].string {
            for line in info.split(whereSeparator: \.isNewline) where line.hasPrefix("redis_version:") {
                version = String(line.dropFirst("redis_version:".count))
            }
        }
        if case .error(let message) = replies[1] {
            // A user without MODULE LIST (a read-only ACL user): ask the modules' own commands.
            guard RedisStore.isPermissionError(message) else {
                throw .refused("Redis refused MODULE LIST: \(TerminalText.sanitize(message))")
            }
            return try probeModules(version: version)
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

    /// Whether an error reply is an ACL refusal.
    public static func isPermissionError(_ message: String) -> Bool { message.hasPrefix("NOPERM") }

    /// Whether an error reply says maxmemory is reached ("OOM command not allowed when used
    /// memory > 'maxmemory'").
    public static func isOutOfMemory(_ message: String) -> Bool { message.hasPrefix("OOM") }

    private func probeModules(version: String) throws(StoreError) -> ServerInfo {
        let replies = try connection.pipeline([
            ["JSON.TYPE", layout.prefix + "\u{1}facescope-probe"], ["FT.INFO", layout.ownIndex],
        ])
        var modules: [String: Int] = [:]
        for (name, reply) in zip(["ReJSON", "search"], replies) {
            if case .error(let message) = reply {
                let lower = message.lowercased()
                if lower.contains("unknown command") { continue }
                if RedisStore.isPermissionError(message) {
                    throw .refused(
                        "the Redis user may not run \(name == "ReJSON" ? "JSON.TYPE" : "FT.INFO") "
                            + "(\(TerminalText.sanitize(message))): FaceScope's reads need the JSON and search "
                            + "commands; grant them with ACL SETUSER (e.g. +@read +@search +@json)")
                }
            }
            modules[name] = 0
        }
        return ServerInfo(version: version, modules: modules, probed: true)
    }

    func requireModules() throws(StoreError) {
        let info = try serverInfo()
        var missing: [String] = []
        if info.jsonVersion == nil { missing.append("JSON (RedisJSON)") }
        if info.searchVersion == nil { missing.append("search (RediSearch)") }
        if !missing.isEmpty {
            throw .refused(
                "Redis \(info.version) at \(connection.endpoint) has no \(missing.joined(separator: " and ")) module: "
                    + "FaceScope needs Redis Stack (docker image redis/redis-stack-server, or scripts/setup.sh here) or Redis 8 or later"
            )
        }
    }

    /// Runs a command that changes something, naming an ACL refusal as such.
    @discardableResult
    func write(_ args: [String], what: String) throws(StoreError) -> RedisReply {
        let reply = try connection.send(args)
        if case .error(let message) = reply {
            if RedisStore.isPermissionError(message) {
                throw .refused(
                    "the Redis user may not \(what) (\(TerminalText.sanitize(message))): "
                        + "this needs a user with write access")
            }
            throw .refused("Redis refused to \(what): \(TerminalText.sanitize(message))")
        }
        return reply
    }

    func indexExists(_ name: String) throws(StoreError) -> Bool {
        let reply = try connection.send(["FT.INFO", name])
        if case .error(let message) = reply {
            let lower = message.lowercased()
            if lower.contains("unknown index") || lower.contains("no such index") { return false }
            throw .refused("Redis refused FT.INFO \(name): \(TerminalText.sanitize(message))")
        }
        return true
    }

    private func ownIndexIsCurrent() throws(StoreError) -> Bool {
        guard try indexExists(layout.ownIndex) else { return false }
        return try connection.send(["GET", layout.ownIndexVersionKey]).string == String(KeyLayout.ownIndexVersion)
    }

    /// A key under the prefix that holds a JSON document, if there is any (a SCAN: no index
    /// needed, nothing written).
    func anyDocumentKey() throws(StoreError) -> String? {
        var found: String?
        try scanKeys(startingWith: layout.prefix, type: "ReJSON-RL") { keys throws(StoreError) in
            found = keys.first { $0 != layout.redisOMIndex }
            return found == nil
        }
        return found
    }

    /// Walks the keys that start with `prefix` (of `type`, when given) with `SCAN`, a step's keys
    /// at a time, until `body` answers false or the scan ends. A key may come twice (SCAN's own
    /// rule while the keyspace is resized).
    func scanKeys(
        startingWith prefix: String, type: String? = nil, count: Int = 1000,
        _ body: ([String]) throws(StoreError) -> Bool
    ) throws(StoreError) {
        var cursor = "0"
        repeat {
            var command = ["SCAN", cursor, "MATCH", RedisStore.globEscaped(prefix) + "*", "COUNT", String(count)]
            if let type { command += ["TYPE", type] }
            let reply = try connection.call(command)
            guard let pair = reply.array, pair.count == 2 else { throw .malformed("unexpected SCAN reply") }
            cursor = pair[0].string ?? "0"
            let keys = (pair[1].array ?? []).compactMap(\.string)
            if !keys.isEmpty, try !body(keys) { return }
        } while cursor != "0"
    }

    static func globEscaped(_ text: String) -> String {
        var out = ""
        for c in text {
            if "*?[]\\".contains(c) { out.append("\\") }
            out.append(c)
        }
        return out
    }

    /// Creates redis-om's index (and its `:hash` bookkeeping, so Python's `Migrator().run()`
    /// leaves it alone) and FaceScope's own index when they are missing.
    public func ensureIndexes() throws(StoreError) {
        if try !indexExists(layout.redisOMIndex) {
            try write(layout.redisOMCreateArguments, what: "create redis-om's index")
            try write(["SET", layout.redisOMHashKey, layout.redisOMSchemaHash], what: "record redis-om's schema")
        }
        let newFaceIndex = try ensureFaceIndex()
        let upgraded = try ensureOwnIndex()
        // Documents stored before face records existed (or while their index was gone) are
        // written again: compact landmarks, descriptors and labels in the records.
        if newFaceIndex || upgraded, try anyDocumentKey() != nil {
            let observer = RedisStore.upgradeProgress.withLock { $0 }
            try rewriteDocuments(progress: observer)
        }
    }

    /// Creates (or upgrades) FaceScope's own index and waits until RediSearch has indexed the
    /// documents already stored. Upgrading from an index before version 3 removes the sort sets
    /// and filename hash older versions kept beside it.
    @discardableResult
    func ensureOwnIndex() throws(StoreError) -> Bool {
        if try ownIndexIsCurrent() { return false }
        let upgrading = try indexExists(layout.ownIndex)
        if upgrading {
            // An index from an older FaceScope: rebuild it (the documents stay).
            try write(["FT.DROPINDEX", layout.ownIndex], what: "upgrade FaceScope's index")
        }
        try write(layout.ownCreateArguments, what: "create FaceScope's index")
        try write(
            ["SET", layout.ownIndexVersionKey, String(KeyLayout.ownIndexVersion)], what: "record the index version")
        try write(["DEL"] + layout.obsoleteKeys, what: "remove an older version's lookups")
        try waitForIndexing(layout.ownIndex)
        // Documents stored before (or by other tools) get the fields the index reads; an
        // upgrade rewrites every document anyway.
        if !upgrading { try fillDerivedFields() }
        return upgrading
    }

    /// Waits until RediSearch has indexed the documents that existed when an index was created
    /// (it scans them in the background).
    public func waitForIndexing(_ index: String, timeout: Double = 600) throws(StoreError) {
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
                throw .refused("RediSearch is still indexing \(index) after \(Int(timeout)) s")
            }
            usleep(20_000)
        }
    }

    // MARK: - Reading documents

    /// Documents skipped by reads so far because they could not be decoded (key and reason),
    /// sorted by key.
    public func skippedDocuments() -> [SkippedDocument] {
        skipped.withLock { $0.map { SkippedDocument(key: $0.key, reason: $0.value) } }.sorted { $0.key < $1.key }
    }

    /// Decodes a stored document; nil (and remembered as skipped) when it does not have the
    /// shape redis-om's `Model` gives it.
    func decode(key: String, json: String) -> ImageDocument? {
        do {
            var value = try JSONValue.parse(json)
            // `$` paths answer with a one-element array.
            if case .array(let items) = value, items.count == 1 { value = items[0] }
            try RedisStore.expandStoredFaces(&value)
            var document = try ImageDocument(json: value)
            document.extra.removeAll { RedisStore.derivedFields.contains($0.name) }
            if document.pk.isEmpty, let pk = layout.pk(fromKey: key) { document.pk = pk }
            return document
        } catch let error as JSONParseError {
            skip(key, "not valid JSON: \(error)")
        } catch let error as DocumentFormatError {
            skip(key, "not a FaceScope document: \(error)")
        } catch {
            skip(key, "\(error)")
        }
        return nil
    }

    private func skip(_ key: String, _ reason: String) {
        _ = skipped.withLock { $0.updateValue(reason, forKey: key) }
    }

    /// Loads documents by key, in order; keys that no longer exist, and documents that cannot be
    /// decoded (see ``skippedDocuments()``), are left out.
    /// Without `records`, the faces' landmarks and descriptors are not read from their face
    /// records (for callers that only count or list faces: one `HMGET` a face saved).
    public func load(keys docKeys: [String], records: Bool = true) throws(StoreError) -> [ImageDocument] {
        var result: [ImageDocument] = []
        result.reserveCapacity(docKeys.count)
        var start = 0
        while start < docKeys.count {
            let chunk = Array(docKeys[start..<min(docKeys.count, start + 500)])
            start += chunk.count
            let reply = try connection.call(["JSON.MGET"] + chunk + ["$"])
            var page: [ImageDocument] = []
            for (key, item) in zip(chunk, reply.array ?? []) {
                guard let text = item.string, let document = decode(key: key, json: text) else { continue }
                page.append(document)
            }
            if records { try attachRecords(&page) }
            result += page
        }
        return result
    }

    public func get(pk: String) throws(StoreError) -> ImageDocument? {
        try load(keys: [layout.key(pk: pk)]).first
    }

    /// The document stored for exactly this filename (case and bytes as stored).
    public func get(filename: String) throws(StoreError) -> ImageDocument? {
        try documents(filenames: [filename])[filename]
    }

    /// The stored documents for these filenames (those that have one), by filename: looked up
    /// in FaceScope's index, then checked byte for byte (RediSearch's tags trim spaces). Where
    /// another tool stored one filename twice, the oldest pk answers.
    public func documents(filenames: [String]) throws(StoreError) -> [String: ImageDocument] {
        guard hasIndex else { return [:] }
        var found: [String: ImageDocument] = [:]
        var start = 0
        while start < filenames.count {
            let chunk = filenames[start..<min(filenames.count, start + 500)].filter { !$0.isEmpty }
            start += min(filenames.count - start, 500)
            let lookups = chunk.map { RedisStore.filenameLookup($0) }
            let replies = try connection.pipeline(
                lookups.map { lookup in
                    lookup.isTag
                        ? ["FT.SEARCH", layout.ownIndex, lookup.text, "NOCONTENT", "LIMIT", "0", "100"]
                        : ["FT.AGGREGATE", layout.ownIndex, "*", "FILTER", lookup.text, "LOAD", "1", "@__key"]
                })
            var candidates = Set<String>()
            for (lookup, reply) in zip(lookups, replies) {
                if case .error(let message) = reply {
                    throw .refused("looking up a filename failed: \(TerminalText.sanitize(message))")
                }
                let rows = (reply.array ?? []).dropFirst()
                if lookup.isTag {
                    candidates.formUnion(rows.compactMap(\.string))
                } else {
                    for row in rows {
                        let fields = row.array ?? []
                        if let i = fields.firstIndex(where: { $0.string == "__key" }), i + 1 < fields.count,
                            let key = fields[i + 1].string
                        {
                            candidates.insert(key)
                        }
                    }
                }
            }
            let wanted = Set(chunk)
            for document in try load(keys: candidates.sorted()) where wanted.contains(document.filename) {
                if let known = found[document.filename], known.pk <= document.pk { continue }
                found[document.filename] = document
            }
        }
        return found
    }

    /// How to find a filename in FaceScope's index: an exact tag query, or (for names a tag
    /// query cannot express: control characters, nothing but spaces) an aggregation filter that
    /// compares the whole name.
    static func filenameLookup(_ name: String) -> (isTag: Bool, text: String) {
        let trimmed = name.trimmingCharacters(in: .whitespaces)
        let awkward =
            trimmed.isEmpty || name.unicodeScalars.contains { $0.value < 0x20 && $0 != "\t" || $0.value == 0x7F }
        if awkward { return (false, "exists(@filename) && @filename == \(expressionString(name))") }
        return (true, SearchQuery.tagEquals(field: "filename", value: trimmed))
    }

    /// Which of these filenames have a stored document.
    public func existing(filenames: [String]) throws(StoreError) -> Set<String> {
        Set(try documents(filenames: filenames).keys)
    }

    /// How many documents are stored (as FaceScope's index counts them).
    public func count() throws(StoreError) -> Int {
        try total(query: "*")
    }

    /// How many documents match a query of FaceScope's index.
    public func total(query: String) throws(StoreError) -> Int {
        guard hasIndex else { return 0 }
        let reply = try connection.send(["FT.SEARCH", layout.ownIndex, query, "TIMEOUT", "0", "LIMIT", "0", "0"])
        if case .error(let message) = reply { throw .refused("counting failed: \(TerminalText.sanitize(message))") }
        return Int(reply.array?.first?.integer ?? 0)
    }

    /// A page of documents in the given order; `limit` nil means every document from `offset`.
    public func list(order: ListOrder = .filename, descending: Bool = false, offset: Int = 0, limit: Int? = nil)
        throws(StoreError) -> [ImageDocument]
    {
        var result: [ImageDocument] = []
        try forEachPage(order: order, descending: descending, offset: offset, limit: limit) { page in
            result += page
        }
        return result
    }

    /// Reads documents in order, page by page (at most `pageSize` in memory at once), from
    /// `offset`, at most `limit` of them; `body` sees each page.
    public func forEachPage(
        query: String = "*", filter: String? = nil, order: ListOrder = .filename, descending: Bool = false,
        offset: Int = 0, limit: Int? = nil, pageSize: Int = 500, records: Bool = true,
        _ body: ([ImageDocument]) throws(StoreError) -> Void
    ) throws(StoreError) {
        guard hasIndex, limit != 0 else { return }
        func load(keys: [String]) throws(StoreError) -> [ImageDocument] { try self.load(keys: keys, records: records) }
        let wanted = limit ?? Int.max
        if filter == nil, offset + wanted <= RedisStore.resultCap {
            let keys = try searchKeys(
                query: query, field: order.field, descending: descending, offset: offset, limit: wanted)
            var start = 0
            while start < keys.count {
                let chunk = Array(keys[start..<min(keys.count, start + pageSize)])
                start += chunk.count
                try body(try load(keys: chunk))
            }
            return
        }
        if filter == nil, limit != nil, offset > RedisStore.resultCap {
            // Deep pages: count from the other end when that is nearer (only when every match
            // has the sort field: RediSearch puts the others last in both directions).
            let all = try total(query: query)
            let end = min(all, offset + wanted)
            if end > offset, all - offset <= RedisStore.resultCap, try missing(order.field, query: query) == 0 {
                let keys = try searchKeys(
                    query: query, field: order.field, descending: !descending, offset: all - end, limit: end - offset)
                try body(try load(keys: keys.reversed()))
                return
            }
        }
        var pending: [String] = []
        try walkKeys(
            query: query, filter: filter, field: order.field, descending: descending, offset: offset, limit: wanted
        ) { key throws(StoreError) in
            pending.append(key)
            if pending.count >= pageSize {
                try body(try load(keys: pending))
                pending.removeAll(keepingCapacity: true)
            }
        }
        if !pending.isEmpty { try body(try load(keys: pending)) }
    }

    /// How many matches of `query` lack `field` (indexed with INDEXMISSING).
    private func missing(_ field: String, query: String) throws(StoreError) -> Int {
        let clause = "ismissing(@\(field))"
        let reply = try connection.send([
            "FT.SEARCH", layout.ownIndex, query == "*" ? clause : "(\(query)) \(clause)", "TIMEOUT", "0", "LIMIT", "0",
            "0",
            "DIALECT", "2",
        ])
        if case .error(let message) = reply { throw .refused("the listing failed: \(TerminalText.sanitize(message))") }
        return Int(reply.array?.first?.integer ?? 0)
    }

    /// Keys in order from one FT.SEARCH (within RediSearch's result cap).
    private func searchKeys(query: String, field: String, descending: Bool, offset: Int, limit: Int)
        throws(StoreError) -> [String]
    {
        let reply = try connection.send([
            "FT.SEARCH", layout.ownIndex, query, "NOCONTENT", "TIMEOUT", "0", "SORTBY", field,
            descending ? "DESC" : "ASC", "LIMIT",
            String(offset), String(limit),
        ])
        if case .error(let message) = reply { throw .refused("the listing failed: \(TerminalText.sanitize(message))") }
        return (reply.array ?? []).dropFirst().compactMap(\.string)
    }

    /// Walks the keys matching `query` (and the aggregation `filter`, if any) in the order of a
    /// sortable field, any number of them: window after window of at most `resultCap` keys, each
    /// starting after the last value the previous one ended on (ties carried over by key).
    func walkKeys(
        query: String, filter: String?, field: String, descending: Bool, offset: Int, limit: Int,
        _ visit: (String) throws(StoreError) -> Void
    ) throws(StoreError) {
        // Start from the nearest place an earlier walk of the same listing passed (a browser
        // scrolling down asks for one page after another), else from the top.
        let walk = "\(query)\u{1}\(filter ?? "")\u{1}\(field)\u{1}\(descending)"
        let start = checkpoints.nearest(walk, atOrBefore: offset)
        var skippedRows = start?.offset ?? 0
        var visited = 0
        var boundary: (value: String, keys: Set<String>)? = start.map { ($0.value, $0.keys) }
        defer {
            if let boundary { checkpoints.record(walk, offset: skippedRows + visited, boundary.value, boundary.keys) }
        }
        while visited < limit {
            let ahead = min(offset - skippedRows, RedisStore.resultCap) + min(limit - visited, RedisStore.resultCap)
            let need = min(RedisStore.resultCap, ahead + (boundary?.keys.count ?? 0))
            // No time limit: with the server's default (500 ms, ON_TIMEOUT RETURN) a busy server
            // answers a partial window without saying so, and the walk would skip documents.
            var args = ["FT.AGGREGATE", layout.ownIndex, query, "TIMEOUT", "0"]
            if let filter { args += ["FILTER", filter] }
            if let boundary {
                args += [
                    // `exists` first: a document written meanwhile without the field must not fail
                    // the comparison (RediSearch stops the whole query on a missing value).
                    "FILTER",
                    "exists(@\(field)) && @\(field) \(descending ? "<=" : ">=") "
                        + RedisStore.expressionString(boundary.value),
                ]
            }
            args += [
                "SORTBY", "2", "@\(field)", descending ? "DESC" : "ASC", "MAX", String(max(1, need)), "LOAD", "1",
                "@__key",
            ]
            let reply = try connection.send(args)
            if case .error(let message) = reply {
                throw .refused("reading the index failed: \(TerminalText.sanitize(message))")
            }
            var fresh = 0
            for row in (reply.array ?? []).dropFirst() {
                let fields = row.array ?? []
                var key: String?
                var value: String?
                var i = 0
                while i + 1 < fields.count {
                    if fields[i].string == "__key" { key = fields[i + 1].string }
                    if fields[i].string == field { value = fields[i + 1].string }
                    i += 2
                }
                guard let key else { continue }
                // A document without the field (written by another tool) sorts last; it ends a walk.
                guard let value else { continue }
                if let b = boundary, value == b.value, b.keys.contains(key) { continue }
                fresh += 1
                if boundary?.value == value {
                    boundary?.keys.insert(key)
                } else {
                    boundary = (value, [key])
                }
                if skippedRows < offset {
                    skippedRows += 1
                } else {
                    try visit(key)
                    visited += 1
                    if visited >= limit { return }
                }
            }
            if fresh == 0 { return }
        }
    }

    /// A string literal for a RediSearch expression (FILTER, APPLY): a backslash before `\\`, `'`
    /// and a line feed; every other character as it is (measured against RediSearch 2.10: other
    /// control characters only match unescaped).
    static func expressionString(_ text: String) -> String {
        var out = "'"
        for scalar in text.unicodeScalars {
            if scalar == "\\" || scalar == "'" || scalar == "\n" { out.unicodeScalars.append("\\") }
            out.unicodeScalars.append(scalar)
        }
        return out + "'"
    }

    /// Gives documents other tools wrote (which lack FaceScope's derived fields: the face-count
    /// order and the filename's words) those fields, so listings by face count place them and
    /// searches find them. Each document is updated by a server-side script that checks the
    /// filename is still the one the words were made from, counts the faces and sets the two
    /// fields in one step; nothing else in the document is touched. A user without write access
    /// leaves them as they are (they then sort last and are not found by words).
    ///
    /// Reads never do this themselves: it is a step of its own that the front ends take before a
    /// search or a listing by face count (`facescope search`, `list --order faces`, the browser's
    /// first page of such a listing), so a read is only ever a read.
    public func fillDerivedFields() throws(StoreError) {
        guard hasIndex else { return }
        var done = Set<String>()
        while true {
            let reply = try connection.send([
                "FT.SEARCH", layout.ownIndex,
                "ismissing(@\(KeyLayout.facesOrderField)) | ismissing(@\(KeyLayout.filenameWordsField))", "NOCONTENT",
                "TIMEOUT", "0", "LIMIT", "0", "1000", "DIALECT", "2",
            ])
            if case .error(let message) = reply {
                throw .refused(
                    "looking for documents without FaceScope's fields failed: \(TerminalText.sanitize(message))")
            }
            let missing = (reply.array ?? []).dropFirst().compactMap(\.string).filter { !done.contains($0) }
            if missing.isEmpty { return }
            done.formUnion(missing)
            // Written again through the save script: the derived fields and the face records,
            // under the pk the filename already has.
            for result in try saveAll(try load(keys: missing)) {
                if case .failure(let error) = result {
                    if error.kind == .refused, error.message.contains("may not write") { return }
                    throw error
                }
            }
        }
    }

    /// What a search matched: the total and the requested page, sorted by filename.
    public struct SearchResult: Sendable {
        public var total: Int
        public var documents: [ImageDocument]
        /// Nothing matched exactly: these are close matches (one typo per word).
        public var closeMatches: Bool = false
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
    /// byte-exact and case-sensitive; text matches use RediSearch's full text. Every page is read
    /// from FaceScope's index, at any offset.
    public func search(_ kind: SearchKind, offset: Int = 0, limit: Int? = nil) throws(StoreError) -> SearchResult {
        switch kind {
        case .exact(let name):
            let docs = try get(filename: name).map { [$0] } ?? []
            return SearchResult(total: docs.count, documents: Array(docs.dropFirst(offset).prefix(limit ?? Int.max)))
        case .prefix(let prefix):
            guard hasIndex else { return SearchResult(total: 0, documents: []) }
            let filter = "exists(@filename) && startswith(@filename, \(RedisStore.expressionString(prefix)))"
            return try run(query: "*", filter: filter, offset: offset, limit: limit)
        case .text(let text):
            return try searchWords(SearchPlan(text), offset: offset, limit: limit)
        }
    }

    /// A search by words (see ``SearchPlan``): whole words through the text index, word starts
    /// through tags of every word start (RediSearch's own prefix queries stop expanding at
    /// MAXPREFIXEXPANSIONS, which would cut results short silently), a person's name through
    /// the labels it names. When nothing matches, words within one typo are tried (a word still
    /// being typed as a whole word), and the result says so.
    public func searchWords(_ plan: SearchPlan, offset: Int = 0, limit: Int? = nil) throws(StoreError)
        -> SearchResult
    {
        guard hasIndex else { return SearchResult(total: 0, documents: []) }
        let field = KeyLayout.filenameWordsField
        let labels = plan.isEmpty ? [] : try peopleNames().filter { plan.matches(name: $0.value) }.keys.sorted()
        // Whole words through the text index, word starts through their tags (exact, no
        // expansion; a start longer than the indexed ones is matched by its first characters).
        var clauses: [String] = plan.words.isEmpty ? [] : [plan.wordQuery(field: field)]
        for start in plan.prefixes {
            let indexed = String(start.prefix(FilenameWords.longestIndexedStart))
            clauses.append("@\(KeyLayout.filenameStartsField):{\(SearchQuery.escapeTag(indexed))}")
        }
        var query = clauses.isEmpty ? "*" : clauses.joined(separator: " ")
        if !labels.isEmpty {
            // Filenames or the named people.
            let people = labels.map { "@label:[\($0) \($0)]" }
            query = ((clauses.isEmpty ? [] : [clauses.joined(separator: " ")]) + people).map { "(\($0))" }
                .joined(separator: " | ")
        }
        var result = try run(query: query, filter: nil, offset: offset, limit: limit)
        if result.total == 0, labels.isEmpty, !plan.isEmpty {
            // Close matches: every word (one still being typed too) within one typo of a word.
            let whole = SearchPlan(words: plan.words + plan.prefixes, prefixes: [])
            result = try run(
                query: whole.wordQuery(field: field, fuzzy: true), filter: nil, offset: offset, limit: limit)
            result.closeMatches = result.total > 0
        }
        return result
    }

    private func run(query: String, filter: String?, offset: Int, limit: Int?) throws(StoreError) -> SearchResult {
        var docs: [ImageDocument] = []
        try forEachPage(query: query, filter: filter, offset: offset, limit: limit) { docs += $0 }
        guard let filter else { return SearchResult(total: try total(query: query), documents: docs) }
        return SearchResult(total: try total(query: query, filter: filter), documents: docs)
    }

    /// How many documents match a query and an aggregation filter.
    func total(query: String, filter: String) throws(StoreError) -> Int {
        let counted = try connection.send([
            "FT.AGGREGATE", layout.ownIndex, query, "TIMEOUT", "0", "FILTER", filter, "GROUPBY", "0", "REDUCE", "COUNT",
            "0", "AS", "n",
        ])
        if case .error(let message) = counted { throw .refused("the search failed: \(TerminalText.sanitize(message))") }
        let row = (counted.array ?? []).dropFirst().first?.array ?? []
        return row.count >= 2 ? Int(row[1].string ?? "") ?? Int(row[1].integer ?? 0) : 0
    }

    // MARK: - Every document, from the keys themselves

    /// Reads every document under the prefix straight from the keys (SCAN), page by page, so
    /// nothing the index lacks is missed: the source for exports and checks. The order is the
    /// server's; a document present for the whole walk is seen exactly once. The walk holds the
    /// store's connection: `body` must not use the store's Redis commands (collect, then act).
    public func forEachStoredDocument(pageSize: Int = 1000, _ body: ([ImageDocument]) throws(StoreError) -> Void)
        throws(StoreError)
    {
        try forEachStoredJSON(pageSize: pageSize) { page throws(StoreError) in
            try body(page.compactMap { decode(key: $0.key, json: $0.json) })
        }
    }

    /// ``forEachStoredDocument(pageSize:_:)`` as the server holds the documents (and with the
    /// same rule for `body`): each key with
    /// its JSON text (a `$` reply: a one-element array), undecoded. Two pages are on their way
    /// while `body` handles one (each a JSON.MGET; the SCAN steps, of two pages' worth of keys,
    /// ride along), so the server is always serialising the next page while the caller works;
    /// at most three pages are held.
    public func forEachStoredJSON(
        pageSize: Int = 1000, _ body: ([(key: String, json: String)]) throws(StoreError) -> Void
    ) throws(StoreError) {
        let match = RedisStore.globEscaped(layout.prefix) + "*"
        var seen = Set<String>()
        try connection.stream { stream throws(StoreError) in
            var cursor: String? = "0"  // nil once the scan is complete
            var scanning = false  // a SCAN step is on its way
            var ready: [[String]] = []  // keys scanned, not yet asked for
            var sent: [(keys: [String], scan: Bool)] = []
            /// Keeps two groups on their way: the next page of keys, and a SCAN step when none is.
            func fill() throws(StoreError) {
                while stream.pending < 2, !ready.isEmpty || (!scanning && cursor != nil) {
                    var group: [[String]] = []
                    var keys: [String] = []
                    if !ready.isEmpty {
                        keys = ready.removeFirst()
                        group.append(["JSON.MGET"] + keys + ["$"])
                    }
                    let scan = !scanning && cursor != nil
                    if scan, let cursor {
                        group.append([
                            "SCAN", cursor, "MATCH", match, "COUNT", String(2 * pageSize), "TYPE", "ReJSON-RL",
                        ])
                        scanning = true
                    }
                    try stream.send(group)
                    sent.append((keys, scan))
                }
            }
            try fill()
            while !sent.isEmpty {
                let replies = try stream.receive()
                let group = sent.removeFirst()
                var rest = replies[...]
                var page: [(key: String, json: String)] = []
                if !group.keys.isEmpty, let documents = rest.popFirst() {
                    if case .error(let message) = documents {
                        throw .refused("Redis refused JSON.MGET: \(TerminalText.sanitize(message))")
                    }
                    for (key, item) in zip(group.keys, documents.array ?? []) {
                        // A key deleted meanwhile answers null.
                        if let text = item.string { page.append((key, text)) }
                    }
                }
                if group.scan, let scanned = rest.popFirst() {
                    if case .error(let message) = scanned {
                        throw .refused("Redis refused SCAN: \(TerminalText.sanitize(message))")
                    }
                    guard let pair = scanned.array, pair.count == 2 else { throw .malformed("unexpected SCAN reply") }
                    scanning = false
                    let next = pair[0].string ?? "0"
                    cursor = next == "0" ? nil : next
                    // SCAN may return a key twice while the keyspace is resized.
                    let keys = (pair[1].array ?? []).compactMap(\.string).filter { seen.insert($0).inserted }
                    var start = 0
                    while start < keys.count {
                        ready.append(Array(keys[start..<min(keys.count, start + pageSize)]))
                        start += pageSize
                    }
                }
                // The next pages are asked for before this one is handled.
                try fill()
                if !page.isEmpty { try body(page) }
            }
        }
    }

    /// Appends the export lines of a page of stored documents to `out` and returns how many
    /// (``ExportJoiner``, for one page).
    public func appendExportLines(
        _ page: [(key: String, json: String)], to out: inout [UInt8], records: RedisStore
    ) throws(StoreError) -> Int {
        let joiner = ExportJoiner(store: self, records: records)
        defer { joiner.drain() }
        return try joiner.add(page, to: &out) + joiner.finish(to: &out)
    }

    /// The same store on a connection of its own (for reads inside a walk that holds this one's).
    public func withOwnConnection() throws(StoreError) -> RedisStore {
        RedisStore(connection: try RedisConnection(endpoint: connection.endpoint), layout: layout, hasIndex: hasIndex)
    }

    /// How many documents under the prefix FaceScope's index could not index (RediSearch's
    /// indexing failures) and the last error it gave, if any.
    public func indexingFailures() throws(StoreError) -> (count: Int, lastError: String?) {
        guard hasIndex, let info = try describeIndex(layout.ownIndex) else { return (0, nil) }
        return (info.indexingFailures, info.lastIndexingError)
    }

    // MARK: - Writing

    /// Saves one document (see `saveAll`).
    @discardableResult
    public func save(_ document: ImageDocument) throws(StoreError) -> ImageDocument {
        guard let result = try saveAll([document]).first else { throw .malformed("nothing was saved") }
        return try result.get()
    }

    /// Saves documents in pipelined batches. Each is stored under the pk of the document that
    /// already has its filename, if any, else under its own pk (a new ULID when empty, or when
    /// that pk belongs to another filename's document, which is never replaced); face and box
    /// pks are made where missing. One result per document, in order, with the pk it was stored
    /// under: a document the server refuses fails alone.
    ///
    /// The pk is chosen and the document written by one server-side script (a filename lookup in
    /// FaceScope's index, then JSON.SET and the face records), which Redis runs atomically: writers racing on one
    /// filename all write the same key, whoever else writes to the database.
    public func saveAll(_ documents: [ImageDocument], batchSize: Int = 500) throws(StoreError)
        -> [Result<ImageDocument, StoreError>]
    {
        var results: [Result<ImageDocument, StoreError>] = []
        results.reserveCapacity(documents.count)
        var start = 0
        while start < documents.count {
            var batch = Array(documents[start..<min(documents.count, start + max(1, batchSize))])
            start += batch.count
            keys.assign(&batch)
            let replies = try connection.runScript(
                RedisStore.saveScript, sha: RedisStore.saveSHA,
                arguments: saveCalls(batch.map(RedisStore.storable)))
            for (doc, result) in zip(batch, RedisStore.saveResults(batch.map(\.filename), replies)) {
                results.append(
                    result.map { pk in
                        var saved = doc
                        saved.pk = pk
                        return saved
                    })
            }
        }
        return results
    }

    /// A document ready to store, its missing keys made (see ``storable(_:)``).
    public func storable(_ document: ImageDocument) -> StorableDocument {
        var documents = [document]
        keys.assign(&documents)
        return RedisStore.storable(documents[0])
    }

    /// A document whose keys are all set, ready to store.
    static func storable(_ document: ImageDocument) -> StorableDocument {
        let stored = storedJSON(document)
        return StorableDocument(
            pk: document.pk, filename: document.filename, json: stored.json, records: stored.records)
    }

    /// A JSON line (of an export, say) ready to store without decoding it, when it can be stored
    /// as it is (``ExportedJSON/storable(line:)``: the document, its faces and boxes have pks,
    /// and it is written as FaceScope writes documents, spaces aside): what
    /// ``storable(_:)`` makes of the decoded line, byte for byte. nil when the line must be
    /// decoded (which also says what is wrong with it, if anything).
    public static func storable(line: UnsafeBufferPointer<UInt8>) -> StorableDocument? {
        // Faces are split into the document and their records.
        guard let parsed = ExportedJSON.storable(line: line) else { return nil }
        let records = parsed.faces.map { face in
            StoredFaceRecord(
                facePK: face.pk,
                record: FaceRecord(
                    documentPK: parsed.pk, label: face.label, fixed: face.fixed, probability: face.probability,
                    embedding: face.embedding, landmarks: face.landmarks))
        }
        return storable(open: parsed.openJSON, pk: parsed.pk, filename: parsed.filename, records: records)
    }

    /// A stored document from its text without the closing brace: the derived fields added.
    private static func storable(open: [UInt8], pk: String, filename: String, records: [StoredFaceRecord])
        -> StorableDocument
    {
        var json = open
        for (name, value) in derivedValues(filename: filename, faceCount: records.count) {
            json.append(UInt8(ascii: ","))
            JSONValue.string(name).write(to: &json)
            json.append(UInt8(ascii: ":"))
            JSONValue.string(value).write(to: &json)
        }
        json.append(UInt8(ascii: "}"))
        return StorableDocument(
            pk: pk, filename: filename, json: String(decoding: json, as: UTF8.self), records: records)
    }

    /// Saves batch after batch as `next` hands them over (until it answers nil), exactly as
    /// ``saveAll(_:batchSize:)`` saves each document, and hands each batch's results (the pk
    /// each was stored under) to `saved`, in order. While the server stores one batch (a round
    /// trip of its own, on another thread), the next one is asked for and prepared here, so the
    /// caller's work (reading, parsing, encoding) and the server's overlap; at most two batches
    /// are on their way.
    public func saveStreaming(
        _ next: () -> [StorableDocument]?, saved: ([Result<String, StoreError>]) -> Void
    ) throws(StoreError) {
        let connection = self.connection
        let replies = ReplyMailbox()
        let sender = DispatchQueue(label: "facescope.save")
        var sent: [[String]] = []
        // Whatever happens here, no round trip is left running.
        defer { for _ in sent { _ = replies.take() } }
        var finished = false
        while true {
            if !finished, sent.count < 2 {
                if let documents = next() {
                    if documents.isEmpty { continue }
                    let calls = saveCalls(documents)
                    sender.async {
                        replies.put(
                            Result { () throws(StoreError) in
                                try connection.runScript(
                                    RedisStore.saveScript, sha: RedisStore.saveSHA, arguments: calls)
                            })
                    }
                    sent.append(documents.map(\.filename))
                    continue
                }
                finished = true
            }
            guard !sent.isEmpty else { return }
            let result = replies.take()
            let filenames = sent.removeFirst()
            saved(RedisStore.saveResults(filenames, try result.get()))
        }
    }

    /// The save script's calls for documents ready to store.
    private func saveCalls(_ documents: [StorableDocument]) -> [(keys: [String], args: [RedisArgument])] {
        zip(documents, keys.fresh(documents.count)).map { doc, sparePK in
            let lookup = RedisStore.filenameLookup(doc.filename)
            let fixed: [String] = [
                layout.prefix, layout.ownIndex, lookup.text, doc.filename, doc.pk, sparePK, doc.json,
                lookup.isTag ? "tag" : "filter",
            ]
            return (keys: [String](), args: fixed.map(RedisArgument.text) + recordArguments(doc.records))
        }
    }

    /// One result per document (by filename) from the save script's replies: the pk it was
    /// stored under.
    private static func saveResults(_ filenames: [String], _ replies: [RedisReply]) -> [Result<String, StoreError>] {
        var results: [Result<String, StoreError>] = []
        results.reserveCapacity(filenames.count)
        for (filename, reply) in zip(filenames, replies) {
            let name = TerminalText.sanitize(filename)
            switch reply {
            case .error(let message) where RedisStore.isOutOfMemory(message):
                // Not this document's fault, and waiting does not free memory: an outage.
                results.append(
                    .failure(
                        .unavailable(
                            "\(name): Redis is out of memory (maxmemory), not stored: \(TerminalText.sanitize(message))"
                        )))
            case .error(let message):
                let reason =
                    RedisStore.isPermissionError(message)
                    ? "the Redis user may not write" : "Redis refused the document"
                results.append(.failure(.refused("\(name): \(reason): \(TerminalText.sanitize(message))")))
            case .string(let pk):
                results.append(.success(pk))
            default:
                results.append(.failure(.refused("\(name): unexpected reply to the save")))
            }
        }
        return results
    }

    /// Fields FaceScope derives from a document and stores inside it for its index (never read
    /// back as the document's own extra fields).
    static let derivedFields: Set<String> = [
        KeyLayout.facesOrderField, KeyLayout.filenameWordsField, KeyLayout.filenameStartsField,
    ]

    /// The JSON stored for a document (redis-om's layout with compact landmarks and no
    /// descriptors, ``storedForm(_:)``, plus FaceScope's derived fields: the face-count order and
    /// the filename's words) and its faces' records.
    static func storedJSON(_ document: ImageDocument) -> (json: String, records: [StoredFaceRecord]) {
        var (json, records) = storedForm(document)
        if case .object(var members) = json {
            members.removeAll { derivedFields.contains($0.0) }
            for (name, value) in derivedValues(filename: document.filename, faceCount: document.faceCount) {
                members.append((name, .string(value)))
            }
            json = .object(members)
        }
        return (json.serialized, records)
    }

    /// FaceScope's derived fields of a document, in the order they are stored.
    static func derivedValues(filename: String, faceCount: Int) -> [(String, String)] {
        let words = FilenameWords.split(filename)
        return [
            (KeyLayout.facesOrderField, KeyLayout.facesOrder(faceCount: faceCount, filename: filename)),
            (KeyLayout.filenameWordsField, FilenameWords.indexed(words: words)),
            (KeyLayout.filenameStartsField, FilenameWords.starts(words: words)),
        ]
    }

    /// Chooses the pk for a filename and writes the document and its face records, atomically
    /// (the records of the faces the document had before are deleted first). ARGV: prefix,
    /// index, lookup (a tag query or a filter expression), filename, proposed pk, spare pk, JSON,
    /// which kind of lookup it is, the face record prefix, then seven a face (pk, label, fixed,
    /// probability, descriptor bytes or empty, their FLOAT16 copy or empty, landmarks or empty).
    /// Returns the pk used.
    /// Undeclared keys are read and written: FaceScope targets a single Redis Stack (not a cluster).
    static let saveScript =
        deleteRecordsLua + "\n"
            + """
            local prefix, index, query, name, proposed, spare, body, kind = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
            local function stored_name(pk)
              local ok, value = pcall(redis.call, 'JSON.GET', prefix .. pk, '$.filename')
              if not ok or not value then return nil end
              return cjson.decode(value)[1]
            end
            local pk = nil
            local keys = {}
            if kind == 'tag' then
              local found = redis.call('FT.SEARCH', index, query, 'NOCONTENT', 'LIMIT', '0', '100')
              for i = 2, #found do keys[#keys + 1] = found[i] end
            else
              local found = redis.call('FT.AGGREGATE', index, '*', 'FILTER', query, 'LOAD', '1', '@__key')
              for i = 2, #found do
                local row = found[i]
                for j = 1, #row - 1, 2 do if row[j] == '__key' then keys[#keys + 1] = row[j + 1] end end
              end
            end
            for _, key in ipairs(keys) do
              local candidate = string.sub(key, #prefix + 1)
              if stored_name(candidate) == name and (pk == nil or candidate < pk) then pk = candidate end
            end
            if pk == nil then
              pk = proposed
              if redis.call('EXISTS', prefix .. pk) == 1 and stored_name(pk) ~= name then pk = spare end
              if redis.call('EXISTS', prefix .. pk) == 1 and stored_name(pk) ~= name then
                return redis.error_reply('ERR no free pk for the document')
              end
            end
            local recprefix = ARGV[9]
            delete_records(prefix .. pk, recprefix, pk)
            redis.call('JSON.SET', prefix .. pk, '$', body)
            if pk ~= proposed then redis.call('JSON.SET', prefix .. pk, '$.pk', cjson.encode(pk)) end
            for i = 10, #ARGV - 6, 7 do
              local key = recprefix .. pk .. ':' .. ARGV[i]
              local fields = {'doc', pk, 'label', ARGV[i + 1], 'fixed', ARGV[i + 2], 'probability', ARGV[i + 3]}
              if ARGV[i + 4] ~= '' then fields[#fields + 1] = 'embedding'; fields[#fields + 1] = ARGV[i + 4] end
              if ARGV[i + 5] ~= '' then fields[#fields + 1] = 'vector'; fields[#fields + 1] = ARGV[i + 5] end
              if ARGV[i + 6] ~= '' then fields[#fields + 1] = 'landmarks'; fields[#fields + 1] = ARGV[i + 6] end
              redis.call('HSET', key, unpack(fields))
            end
            return pk
            """
    static let saveSHA = SHA1.hexDigest(saveScript)

    /// Deletes every document under the prefix and both indexes. For tests and benchmarks
    /// working in a prefix of their own; nothing in the CLI calls it.
    public func destroyEverything() throws(StoreError) {
        _ = try connection.pipeline([
            ["FT.DROPINDEX", layout.redisOMIndex, "DD"], ["FT.DROPINDEX", layout.ownIndex],
            ["FT.DROPINDEX", layout.faceIndex, "DD"],
            ["DEL", layout.redisOMHashKey, layout.ownIndexVersionKey, layout.faceIndexVersionKey, layout.peopleKey]
                + layout.obsoleteKeys,
        ])
        // Documents the indexes did not hold.
        try scanKeys(startingWith: layout.prefix) { found throws(StoreError) in
            try connection.call(["DEL"] + found)
            return true
        }
    }

    /// Deletes the document with this pk; returns whether it existed.
    @discardableResult
    public func delete(pk: String) throws(StoreError) -> Bool {
        let reply = try connection.runScript(
            RedisStore.deleteScript, sha: RedisStore.deleteSHA,
            calls: [([layout.key(pk: pk)], [layout.faceRecordPrefix, pk])])[0]
        if case .error(let message) = reply {
            let reason = RedisStore.isPermissionError(message) ? "the Redis user may not delete" : "Redis refused"
            throw .refused("deleting a document failed: \(reason): \(TerminalText.sanitize(message))")
        }
        return reply.integer == 1
    }
}

/// Where recent walks of a listing got to (rows passed, and the sort value and keys at that
/// point), so the next page of the same listing continues there instead of walking again from the
/// top. Kept a few seconds: a listing that others change meanwhile shifts by what they changed,
/// never shows a document twice within one walk, and is walked afresh soon after.
final class WalkCheckpoints: Sendable {
    struct Checkpoint: Sendable {
        var offset: Int
        var value: String
        var keys: Set<String>
        var at: UInt64
    }

    static let lifetimeMillis: UInt64 = 5_000
    private let state = Mutex<[String: [Checkpoint]]>([:])

    func nearest(_ walk: String, atOrBefore offset: Int) -> Checkpoint? {
        let now = ULIDGenerator.nowMillis()
        return state.withLock { all in
            all[walk]?.removeAll { $0.at + Self.lifetimeMillis < now }
            return all[walk]?.filter { $0.offset <= offset }.max { $0.offset < $1.offset }
        }
    }

    func record(_ walk: String, offset: Int, _ value: String, _ keys: Set<String>) {
        let now = ULIDGenerator.nowMillis()
        state.withLock { all in
            if all.count > 64 { all.removeAll() }
            var list = all[walk] ?? []
            list.removeAll { $0.at + Self.lifetimeMillis < now || $0.offset == offset }
            list.append(Checkpoint(offset: offset, value: value, keys: keys, at: now))
            if list.count > 256 { list.removeFirst(list.count - 256) }
            all[walk] = list
        }
    }
}

/// Makes ULIDs for documents, faces and boxes that have none; shared by concurrent saves.
final class KeyGenerator: Sendable {
    private let generator = Mutex(ULIDGenerator())

    func assign(_ documents: inout [ImageDocument]) {
        generator.withLock { generator in
            for i in documents.indices { documents[i].assignMissingKeys(using: &generator) }
        }
    }

    func fresh(_ count: Int) -> [String] {
        generator.withLock { generator in (0..<count).map { _ in generator.next() } }
    }
}

/// Replies of round trips made on another thread, in the order they were made.
final class ReplyMailbox: Sendable {
    private let results = Mutex<[Result<[RedisReply], StoreError>]>([])
    private let ready = DispatchSemaphore(value: 0)

    func put(_ result: Result<[RedisReply], StoreError>) {
        results.withLock { $0.append(result) }
        ready.signal()
    }

    /// The oldest result, waiting for it.
    func take() -> Result<[RedisReply], StoreError> {
        ready.wait()
        return results.withLock { $0.removeFirst() }
    }
}

/// A document ready to store: the pk proposed for it (the stored document of its filename
/// keeps its own), its filename, and the JSON to store (redis-om's layout and FaceScope's
/// derived fields).
public struct StorableDocument: Sendable {
    public var pk: String
    public var filename: String
    var json: String
    var records: [StoredFaceRecord]
}
