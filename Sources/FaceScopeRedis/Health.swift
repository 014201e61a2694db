import FaceScopeCore

/// One check `facescope doctor` reports.
public struct HealthCheck: Sendable {
    public var name: String
    public var ok: Bool
    public var detail: String

    public init(name: String, ok: Bool, detail: String) {
        self.name = name
        self.ok = ok
        self.detail = detail
    }
}

extension RedisStore {
    /// What FT.INFO says of an index: its fields as (path, name, type) and its key prefixes.
    public struct IndexDescription: Sendable, Equatable {
        public var fields: [[String]]
        public var prefixes: [String]
        public var documents: Int
        public var indexingFailures: Int
        public var lastIndexingError: String? = nil
        public var lastIndexingErrorKey: String? = nil
    }

    public func describeIndex(_ name: String) throws(StoreError) -> IndexDescription? {
        let reply = try connection.send(["FT.INFO", name])
        if case .error = reply { return nil }
        let items = reply.array ?? []
        var description = IndexDescription(fields: [], prefixes: [], documents: 0, indexingFailures: 0)
        var i = 0
        while i + 1 < items.count {
            let key = items[i].string ?? ""
            let value = items[i + 1]
            switch key {
            case "attributes":
                for attribute in value.array ?? [] {
                    let a = attribute.array ?? []
                    var path = ""
                    var alias = ""
                    var type = ""
                    var j = 0
                    while j + 1 < a.count {
                        switch a[j].string {
                        case "identifier": path = a[j + 1].string ?? ""
                        case "attribute": alias = a[j + 1].string ?? ""
                        case "type": type = a[j + 1].string ?? ""
                        default: break
                        }
                        j += 2
                    }
                    description.fields.append([path, alias, type])
                }
            case "index_definition":
                let d = value.array ?? []
                var j = 0
                while j + 1 < d.count {
                    if d[j].string == "prefixes" { description.prefixes = (d[j + 1].array ?? []).compactMap(\.string) }
                    j += 2
                }
            case "num_docs":
                description.documents = Int(value.integer ?? Int64(Double(value.string ?? "") ?? 0))
            case "hash_indexing_failures":
                description.indexingFailures = Int(value.integer ?? Int64(Double(value.string ?? "") ?? 0))
            case "Index Errors":
                let e = value.array ?? []
                var j = 0
                while j + 1 < e.count {
                    let text = e[j + 1].string
                    if e[j].string == "last indexing error", text != "N/A" { description.lastIndexingError = text }
                    if e[j].string == "last indexing error key", text != "N/A" {
                        description.lastIndexingErrorKey = text
                    }
                    j += 2
                }
            default: break
            }
            i += 2
        }
        return description
    }

    /// The fields redis-om's index must have, as FT.INFO lists them.
    public var expectedRedisOMFields: [[String]] {
        [
            ["$.pk", "pk", "TAG"], ["$.filename", "filename", "TAG"], ["$.filename", "filename_fts", "TEXT"],
            ["$.faces[*].pk", "faces_pk", "TAG"], ["$.faces[*].bbox.pk", "faces_bbox_pk", "TAG"],
        ]
    }

    /// Checks the server, the modules and both indexes.
    public func healthChecks() throws(StoreError) -> [HealthCheck] {
        var checks: [HealthCheck] = []
        let info = try serverInfo()
        checks.append(HealthCheck(name: "redis", ok: true, detail: "Redis \(info.version) at \(connection.endpoint)"))
        checks.append(
            HealthCheck(
                name: "json module", ok: info.jsonVersion != nil,
                detail: info.jsonVersion.map { "RedisJSON \(RedisStore.moduleVersion($0))" }
                    ?? "missing: use Redis Stack (redis/redis-stack-server) or Redis 8+"))
        checks.append(
            HealthCheck(
                name: "search module", ok: info.searchVersion != nil,
                detail: info.searchVersion.map { "RediSearch \(RedisStore.moduleVersion($0))" }
                    ?? "missing: use Redis Stack (redis/redis-stack-server) or Redis 8+"))
        if let om = try describeIndex(layout.redisOMIndex) {
            // A Python Model with more fields than the original gets an index with those too
            // (and another schema hash): fine as long as the fields FaceScope needs are there.
            let needed = expectedRedisOMFields
            let missing = needed.filter { !om.fields.contains($0) }
            let extra = om.fields.filter { !needed.contains($0) }
            let fieldsMatch = missing.isEmpty && om.prefixes == [layout.prefix]
            let extraText = extra.map { $0.count > 1 ? $0[1] : $0.joined(separator: " ") }.joined(separator: ", ")
            checks.append(
                HealthCheck(
                    name: "redis-om index", ok: fieldsMatch,
                    detail: fieldsMatch
                        ? "\(layout.redisOMIndex): \(om.documents) documents"
                            + (extra.isEmpty ? "" : " (with the fields FaceScope needs, and more: \(extraText))")
                        : "\(layout.redisOMIndex) differs from redis-om's schema for Model: fields \(om.fields), prefixes \(om.prefixes)"
                ))
            let stored = try connection.send(["GET", layout.redisOMHashKey]).string
            let hashOK = stored == layout.redisOMSchemaHash
            // redis-om's Migrator wrote the index for a Model with more fields: its hash is that
            // model's, and the Migrator keeps the index as long as the Python model stays as it is.
            let widerModel = !hashOK && stored != nil && fieldsMatch && !extra.isEmpty
            checks.append(
                HealthCheck(
                    name: "redis-om schema hash", ok: hashOK || widerModel,
                    detail: hashOK
                        ? "\(layout.redisOMHashKey) matches: Migrator().run() keeps the index"
                        : widerModel
                            ? "\(layout.redisOMHashKey) is the hash of a Model with more fields (\(extraText)), as "
                                + "redis-om's Migrator wrote it; the fields FaceScope needs are all there"
                            : "\(layout.redisOMHashKey) is \(stored ?? "missing"), expected \(layout.redisOMSchemaHash): Python's Migrator().run() would rebuild the index"
                ))
            if om.indexingFailures > 0 {
                checks.append(
                    HealthCheck(
                        name: "documents", ok: false,
                        detail:
                            "\(om.indexingFailures) documents under \(layout.prefix) could not be indexed (malformed JSON fields)"
                    ))
            }
        } else if !hasIndex {
            checks.append(
                HealthCheck(
                    name: "redis-om index", ok: true,
                    detail:
                        "nothing is stored under the key prefix \(layout.prefix) yet (check FACESCOPE_KEY_PREFIX if "
                        + "that is unexpected); detect or import creates the indexes"))
        } else {
            checks.append(HealthCheck(name: "redis-om index", ok: false, detail: "\(layout.redisOMIndex) is missing"))
        }
        if let own = try describeIndex(layout.ownIndex) {
            checks.append(
                HealthCheck(
                    name: "facescope index", ok: own.prefixes == [layout.prefix],
                    detail: "\(layout.ownIndex): \(own.documents) documents"))
            var detail = "FaceScope's index holds every document under \(layout.prefix)"
            if own.indexingFailures > 0 {
                detail = "\(own.indexingFailures) documents under \(layout.prefix) are not in FaceScope's index"
                if let key = own.lastIndexingErrorKey { detail += " (e.g. \(TerminalText.sanitize(key))" }
                if let error = own.lastIndexingError { detail += ": \(TerminalText.sanitize(error))" }
                if own.lastIndexingErrorKey != nil { detail += ")" }
                detail += "; list and search miss them, export still writes them"
            }
            checks.append(HealthCheck(name: "indexed documents", ok: own.indexingFailures == 0, detail: detail))
        } else if hasIndex {
            checks.append(HealthCheck(name: "facescope index", ok: false, detail: "\(layout.ownIndex) is missing"))
        }
        return checks
    }

    static func moduleVersion(_ v: Int) -> String { "\(v / 10000).\(v / 100 % 100).\(v % 100)" }
}
