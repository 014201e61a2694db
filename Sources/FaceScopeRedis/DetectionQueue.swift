import FaceScopeCore
import Foundation

/// The keys of the detection queue, beside the documents of one key prefix.
extension KeyLayout {
    /// The stream of files to detect: one entry per file (`filename`, `force`).
    public var queueStream: String { "facescope:" + prefix + "queue" }
    /// The filenames that have an entry in the stream, so a file is queued once however often
    /// it is enqueued.
    public var queueNames: String { queueStream + ":names" }
    /// Dead letters: filename -> JSON (error, attempts, force, worker, time).
    public var queueFailed: String { queueStream + ":failed" }
    /// The last error of an entry that failed and waits to be tried again: entry ID -> message.
    public var queueErrors: String { queueStream + ":errors" }
    /// Counters: `done` (stored), `skipped` (stored already when a worker got to it).
    public var queueStats: String { queueStream + ":stats" }
    /// Every key of the queue.
    public var queueKeys: [String] { [queueStream, queueNames, queueFailed, queueErrors, queueStats] }
}

/// One file waiting in the queue, as a worker got it.
public struct QueueEntry: Sendable, Equatable {
    /// The stream entry's ID.
    public var id: String
    /// The stored filename: the path relative to the images folder.
    public var filename: String
    /// Detect it even if it is stored already.
    public var force: Bool
    /// How many times the entry has been handed to a worker, this time included.
    public var deliveries: Int

    public init(id: String, filename: String, force: Bool, deliveries: Int = 1) {
        self.id = id
        self.filename = filename
        self.force = force
        self.deliveries = deliveries
    }

    /// The stream fields of a file's entry.
    public static func fields(filename: String, force: Bool) -> [String] {
        ["filename", filename, "force", force ? "1" : "0"]
    }

    /// The entry from a stream reply's `[id, [field, value, ...]]`; nil when it is not one of
    /// FaceScope's (no filename) or was deleted (fields null).
    public static func parse(_ reply: RedisReply) -> QueueEntry? {
        guard let pair = reply.array, pair.count == 2, let id = pair[0].string, let fields = pair[1].array else {
            return nil
        }
        var filename: String?
        var force = false
        var i = 0
        while i + 1 < fields.count {
            switch fields[i].string {
            case "filename": filename = fields[i + 1].string
            case "force": force = fields[i + 1].string == "1"
            default: break
            }
            i += 2
        }
        guard let filename, !filename.isEmpty else { return nil }
        return QueueEntry(id: id, filename: filename, force: force)
    }

    /// Whether a queued name may be opened under the images folder: relative, without `..`
    /// (anyone who can write to Redis can write an entry; a worker reads only inside the folder).
    public static func isInsideImagesFolder(_ filename: String) -> Bool {
        !filename.hasPrefix("/") && !filename.split(separator: "/").contains("..") && !filename.contains("\0")
    }
}

/// A file that failed for good: kept with its error until `queue retry` or `queue clear`.
public struct DeadLetter: Sendable, Equatable {
    public var filename: String
    public var error: String
    public var attempts: Int
    public var force: Bool
    public var worker: String
    /// Seconds since 1970.
    public var time: Double

    public init(filename: String, error: String, attempts: Int, force: Bool, worker: String, time: Double) {
        self.filename = filename
        self.error = error
        self.attempts = attempts
        self.force = force
        self.worker = worker
        self.time = time
    }

    /// The JSON kept in the dead-letter hash (the filename is the hash field).
    public var json: JSONValue {
        .object([
            ("error", .string(error)), ("attempts", .int(Int64(attempts))), ("force", .bool(force)),
            ("worker", .string(worker)), ("time", .double(time)),
        ])
    }

    public static func parse(filename: String, json text: String) -> DeadLetter {
        let value = try? JSONValue.parse(text)
        var force = false
        if case .bool(let b)? = value?["force"] { force = b }
        return DeadLetter(
            filename: filename, error: value?["error"]?.stringValue ?? text,
            attempts: Int(value?["attempts"]?.intValue ?? 0), force: force,
            worker: value?["worker"]?.stringValue ?? "", time: value?["time"]?.doubleValue ?? 0)
    }
}

/// Where the queue stands.
public struct QueueSummary: Sendable, Equatable {
    /// Entries no worker has taken yet.
    public var waiting = 0
    /// Entries a worker has taken and not finished (stream pending entries), per worker.
    public var inProgress = 0
    public var workers: [Worker] = []
    /// Files stored through the queue, and files found stored already when their turn came.
    public var done = 0
    public var skipped = 0
    /// Files in the dead-letter hash.
    public var failed = 0

    public struct Worker: Sendable, Equatable {
        public var name: String
        public var pending: Int
        public init(name: String, pending: Int) {
            self.name = name
            self.pending = pending
        }
    }

    public init(
        waiting: Int = 0, inProgress: Int = 0, workers: [Worker] = [], done: Int = 0, skipped: Int = 0,
        failed: Int = 0
    ) {
        self.waiting = waiting
        self.inProgress = inProgress
        self.workers = workers
        self.done = done
        self.skipped = skipped
        self.failed = failed
    }

    /// Whether there is work left (waiting or in progress).
    public var isRunning: Bool { waiting + inProgress > 0 }

    /// One line for a status bar, or nil when the queue has nothing to say (empty, nothing failed).
    public var statusText: String? {
        guard isRunning || failed > 0 else { return nil }
        var parts: [String] = []
        if isRunning {
            let total = done + skipped + waiting + inProgress
            parts.append("queue \(done + skipped)/\(total)")
            if inProgress > 0 {
                let count = workers.count
                parts.append("\(inProgress) in progress (\(count) worker\(count == 1 ? "" : "s"))")
            }
        } else {
            parts.append("queue done")
        }
        if failed > 0 { parts.append("\(failed) failed") }
        return parts.joined(separator: " · ")
    }

    /// The summary from the replies to `DetectionQueue.summaryCommands`, in order.
    public static func parse(_ replies: [RedisReply]) -> QueueSummary {
        var summary = QueueSummary()
        let length = replies.count > 0 ? Int(replies[0].integer ?? 0) : 0
        if replies.count > 1, let pending = replies[1].array, pending.count == 4 {
            summary.inProgress = Int(pending[0].integer ?? 0)
            summary.workers = (pending[3].array ?? []).compactMap { pair in
                guard let item = pair.array, item.count == 2, let name = item[0].string else { return nil }
                return Worker(name: name, pending: Int(item[1].integer ?? 0))
            }
            summary.workers.sort { $0.name < $1.name }
        }
        summary.waiting = max(0, length - summary.inProgress)
        if replies.count > 2, let counts = replies[2].array, counts.count == 2 {
            summary.done = Int(counts[0].integer ?? 0)
            summary.skipped = Int(counts[1].integer ?? 0)
        }
        if replies.count > 3 { summary.failed = Int(replies[3].integer ?? 0) }
        return summary
    }
}

/// The detection queue on a Redis Stream: `enqueue` adds files, workers take them through a
/// consumer group, acknowledge each once its document is saved (the entry is then deleted),
/// claim what a dead worker left once it has been idle long enough, and move files that fail
/// for good to a dead-letter hash. Every step that changes more than one key is one
/// server-side script, so a worker dying between two commands leaves nothing half done, and
/// running a step twice (a retry after a dropped connection) changes nothing the second time.
public final class DetectionQueue: Sendable {
    public let connection: RedisConnection
    public let layout: KeyLayout
    /// The consumer group every worker reads through.
    public static let group = "workers"

    public init(connection: RedisConnection, layout: KeyLayout) {
        self.connection = connection
        self.layout = layout
    }

    /// A queue on a connection of its own (streams are core Redis: no module is needed).
    public static func open(settings: Settings) throws(StoreError) -> DetectionQueue {
        let endpoint = settings.redis
        let connection = try RedisConnection(
            endpoint: endpoint, connectTimeout: settings.connectTimeout, commandTimeout: settings.commandTimeout)
        return DetectionQueue(connection: connection, layout: try KeyLayout(prefix: settings.keyPrefix))
    }

    private var stream: String { layout.queueStream }

    /// The longest a blocking read may wait: half the connection's reply timeout.
    public var longestBlock: Double { max(0.05, connection.commandTimeout / 2) }

    private func refused(_ what: String, _ message: String) -> StoreError {
        if RedisStore.isPermissionError(message) {
            return .refused(
                "the Redis user may not \(what) (\(TerminalText.sanitize(message))): the queue needs a user with write access"
            )
        }
        return .refused("Redis refused to \(what): \(TerminalText.sanitize(message))")
    }

    /// Creates the stream and the consumer group when missing (reading from the start, so files
    /// queued before any worker started are all delivered).
    public func ensureGroup() throws(StoreError) {
        let reply = try connection.send(["XGROUP", "CREATE", stream, Self.group, "0", "MKSTREAM"])
        if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") {
            throw refused("create the queue's consumer group", message)
        }
    }

    // MARK: - Adding

    /// Queues files (filename relative to the images folder, and whether to detect it even if
    /// stored); a file that has an entry already is not queued twice. Returns how many were added.
    @discardableResult
    public func enqueue(_ files: [(filename: String, force: Bool)], batch: Int = 1000) throws(StoreError) -> Int {
        try ensureGroup()
        var added = 0
        var start = 0
        while start < files.count {
            let chunk = files[start..<min(files.count, start + batch)]
            start += chunk.count
            let replies = try connection.runScript(
                Self.enqueueScript, sha: Self.enqueueSHA,
                calls: chunk.map { ([stream, layout.queueNames], [$0.filename, $0.force ? "1" : "0"]) })
            for reply in replies {
                if case .error(let message) = reply { throw refused("add to the queue", message) }
                added += Int(reply.integer ?? 0)
            }
        }
        return added
    }

    static let enqueueScript = """
        if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
        redis.call('XADD', KEYS[1], '*', 'filename', ARGV[1], 'force', ARGV[2])
        return 1
        """
    static let enqueueSHA = SHA1.hexDigest(enqueueScript)

    // MARK: - Taking

    /// New entries for `consumer` (never delivered before), waiting up to `block` seconds for
    /// some when there are none (nil: answer at once).
    public func read(consumer: String, count: Int, block: Double? = nil) throws(StoreError) -> [QueueEntry] {
        var args = ["XREADGROUP", "GROUP", Self.group, consumer, "COUNT", String(max(1, count))]
        if let block { args += ["BLOCK", String(max(1, Int(block * 1000)))] }
        args += ["STREAMS", stream, ">"]
        var reply = try connection.send(args)
        if case .error(let message) = reply, message.hasPrefix("NOGROUP") {
            // Cleared (or never created) while workers wait: start again.
            try ensureGroup()
            reply = try connection.send(args)
        }
        if case .error(let message) = reply { throw refused("read the queue", message) }
        guard let streams = reply.array, let first = streams.first?.array, first.count == 2 else { return [] }
        return (first[1].array ?? []).compactMap(QueueEntry.parse)
    }

    /// Claims for `consumer` entries other workers took and have not touched for `minIdle`
    /// seconds (a worker that died or hangs), with their delivery counts. `cursor` carries the
    /// scan position between calls ("0-0" to start). Entries without a filename are dropped.
    public func reclaim(consumer: String, minIdle: Double, count: Int, cursor: inout String) throws(StoreError)
        -> [QueueEntry]
    {
        let reply = try connection.send([
            "XAUTOCLAIM", stream, Self.group, consumer, String(max(0, Int(minIdle * 1000))), cursor, "COUNT",
            String(max(1, count)),
        ])
        if case .error(let message) = reply {
            if message.hasPrefix("NOGROUP") {
                cursor = "0-0"
                return []
            }
            throw refused("claim entries of stopped workers", message)
        }
        guard let parts = reply.array, parts.count >= 2 else { return [] }
        cursor = parts[0].string ?? "0-0"
        let items = parts[1].array ?? []
        var claimed: [QueueEntry] = []
        var malformed: [String] = []
        for item in items {
            if let entry = QueueEntry.parse(item) {
                claimed.append(entry)
            } else if let id = item.array?.first?.string {
                malformed.append(id)
            }
        }
        if !malformed.isEmpty {
            _ = try connection.pipeline([["XACK", stream, Self.group] + malformed, ["XDEL", stream] + malformed])
        }
        guard !claimed.isEmpty else { return [] }
        let counts = try connection.pipeline(
            claimed.map { ["XPENDING", stream, Self.group, $0.id, $0.id, "1", consumer] })
        for (i, reply) in counts.enumerated() {
            if let row = reply.array?.first?.array, row.count == 4, let n = row[3].integer {
                claimed[i].deliveries = Int(n)
            }
        }
        return claimed
    }

    /// Tells the group that `consumer` still works on these entries (their idle time starts
    /// again), so no other worker claims them; entries another worker claimed meanwhile stay
    /// with it. Does not count as a delivery.
    public func heartbeat(consumer: String, ids: [String]) throws(StoreError) {
        guard !ids.isEmpty else { return }
        let reply = try connection.send(
            ["EVAL", Self.heartbeatScript, "1", stream, Self.group, consumer] + ids)
        if case .error(let message) = reply, !message.hasPrefix("NOGROUP") {
            throw refused("keep the worker's entries", message)
        }
    }

    static let heartbeatScript = """
        for i = 3, #ARGV do
          local row = redis.call('XPENDING', KEYS[1], ARGV[1], ARGV[i], ARGV[i], 1)
          if row[1] and row[1][2] == ARGV[2] then
            redis.call('XCLAIM', KEYS[1], ARGV[1], ARGV[2], 0, ARGV[i], 'JUSTID')
          end
        end
        return 1
        """

    // MARK: - Finishing

    /// The entry's file is stored (`skipped`: it was stored already): acknowledged and deleted.
    /// Returns false when another worker finished it first (or the queue was cleared).
    @discardableResult
    public func complete(_ entry: QueueEntry, skipped: Bool = false) throws(StoreError) -> Bool {
        let reply = try connection.runScript(
            Self.completeScript, sha: Self.completeSHA,
            calls: [
                (
                    [stream, layout.queueNames, layout.queueErrors, layout.queueStats],
                    [Self.group, entry.id, entry.filename, skipped ? "skipped" : "done"]
                )
            ])[0]
        if case .error(let message) = reply { throw refused("acknowledge a queue entry", message) }
        return reply.integer == 1
    }

    static let completeScript = """
        if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
        redis.call('XDEL', KEYS[1], ARGV[2])
        redis.call('SREM', KEYS[2], ARGV[3])
        redis.call('HDEL', KEYS[3], ARGV[2])
        redis.call('HINCRBY', KEYS[4], ARGV[4], 1)
        return 1
        """
    static let completeSHA = SHA1.hexDigest(completeScript)

    /// The entry's file failed for good: acknowledged, deleted, and kept in the dead-letter hash
    /// with its error. Returns false when another worker finished it first.
    @discardableResult
    public func deadLetter(_ entry: QueueEntry, error: String, worker: String) throws(StoreError) -> Bool {
        let letter = DeadLetter(
            filename: entry.filename, error: error, attempts: entry.deliveries, force: entry.force, worker: worker,
            time: Date().timeIntervalSince1970)
        let reply = try connection.runScript(
            Self.deadLetterScript, sha: Self.deadLetterSHA,
            calls: [
                (
                    [stream, layout.queueNames, layout.queueErrors, layout.queueFailed],
                    [Self.group, entry.id, entry.filename, letter.json.serialized]
                )
            ])[0]
        if case .error(let message) = reply { throw refused("record a failed file", message) }
        return reply.integer == 1
    }

    static let deadLetterScript = """
        if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
        redis.call('XDEL', KEYS[1], ARGV[2])
        redis.call('SREM', KEYS[2], ARGV[3])
        redis.call('HDEL', KEYS[3], ARGV[2])
        redis.call('HSET', KEYS[4], ARGV[3], ARGV[4])
        return 1
        """
    static let deadLetterSHA = SHA1.hexDigest(deadLetterScript)

    /// Keeps the error of an entry that failed and stays pending, to be tried again (by any
    /// worker) once it has been idle for the reclaim time; a later dead letter shows it.
    public func noteFailure(_ entry: QueueEntry, error: String) throws(StoreError) {
        let reply = try connection.send(["HSET", layout.queueErrors, entry.id, error])
        if case .error(let message) = reply { throw refused("record a failure", message) }
    }

    /// The last errors noted for entries (by ID).
    public func lastErrors(_ ids: [String]) throws(StoreError) -> [String: String] {
        guard !ids.isEmpty else { return [:] }
        let reply = try connection.send(["HMGET", layout.queueErrors] + ids)
        var found: [String: String] = [:]
        for (id, value) in zip(ids, reply.array ?? []) {
            if let text = value.string { found[id] = text }
        }
        return found
    }

    /// Gives entries back to the queue at once (a worker stopping with entries it did not start):
    /// each is acknowledged and added again at the end, for any worker to take.
    public func release(_ entries: [QueueEntry]) throws(StoreError) {
        guard !entries.isEmpty else { return }
        let replies = try connection.runScript(
            Self.releaseScript, sha: Self.releaseSHA,
            calls: entries.map { ([stream], [Self.group, $0.id, $0.filename, $0.force ? "1" : "0"]) })
        for reply in replies {
            if case .error(let message) = reply { throw refused("give entries back to the queue", message) }
        }
    }

    static let releaseScript = """
        if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
        redis.call('XDEL', KEYS[1], ARGV[2])
        redis.call('XADD', KEYS[1], '*', 'filename', ARGV[3], 'force', ARGV[4])
        return 1
        """
    static let releaseSHA = SHA1.hexDigest(releaseScript)

    /// Removes `consumer` from the group when it holds no entries (a worker leaving).
    public func leave(consumer: String) throws(StoreError) {
        let reply = try connection.send(["XPENDING", stream, Self.group, "-", "+", "1", consumer])
        guard let rows = reply.array, rows.isEmpty else { return }
        _ = try connection.send(["XGROUP", "DELCONSUMER", stream, Self.group, consumer])
    }

    // MARK: - Looking and managing

    /// Entries in the stream: waiting plus in progress (finished ones are deleted).
    public func length() throws(StoreError) -> Int {
        Int(try connection.call(["XLEN", stream]).integer ?? 0)
    }

    /// The commands of a summary (one round trip; read-only).
    public var summaryCommands: [[String]] {
        [
            ["XLEN", stream], ["XPENDING", stream, Self.group], ["HMGET", layout.queueStats, "done", "skipped"],
            ["HLEN", layout.queueFailed],
        ]
    }

    /// Waiting, in progress per worker, done and failed, in one round trip.
    public func summary() throws(StoreError) -> QueueSummary {
        let replies = try connection.pipeline(summaryCommands)
        for reply in replies {
            // No group yet (NOGROUP) reads as nothing in progress.
            if case .error(let message) = reply, !message.hasPrefix("NOGROUP") {
                throw refused("read the queue", message)
            }
        }
        return QueueSummary.parse(replies)
    }

    /// The dead letters, by filename.
    public func failures() throws(StoreError) -> [DeadLetter] {
        let reply = try connection.call(["HGETALL", layout.queueFailed])
        let items = reply.array ?? []
        var letters: [DeadLetter] = []
        var i = 0
        while i + 1 < items.count {
            if let name = items[i].string, let text = items[i + 1].string {
                letters.append(DeadLetter.parse(filename: name, json: text))
            }
            i += 2
        }
        return letters.sorted { $0.filename.utf8.lexicographicallyPrecedes($1.filename.utf8) }
    }

    /// Puts failed files back in the queue (those named, or all), with the force they had.
    /// Returns how many were queued again.
    @discardableResult
    public func retry(filenames: [String] = []) throws(StoreError) -> Int {
        try ensureGroup()
        let reply = try connection.send(
            ["EVAL", Self.retryScript, "3", stream, layout.queueNames, layout.queueFailed] + filenames)
        if case .error(let message) = reply { throw refused("queue failed files again", message) }
        return Int(reply.integer ?? 0)
    }

    static let retryScript = """
        local names = ARGV
        if #names == 0 then names = redis.call('HKEYS', KEYS[3]) end
        local added = 0
        for _, name in ipairs(names) do
          local letter = redis.call('HGET', KEYS[3], name)
          if letter then
            local ok, decoded = pcall(cjson.decode, letter)
            local force = '0'
            if ok and type(decoded) == 'table' and decoded.force == true then force = '1' end
            redis.call('HDEL', KEYS[3], name)
            if redis.call('SADD', KEYS[2], name) == 1 then
              redis.call('XADD', KEYS[1], '*', 'filename', name, 'force', force)
              added = added + 1
            end
          end
        end
        return added
        """

    /// Deletes the queue: entries, workers' claims, dead letters and counters. Workers still
    /// running find an empty queue (what they are doing is stored, not acknowledged).
    public func clear() throws(StoreError) {
        let reply = try connection.send(["DEL"] + layout.queueKeys)
        if case .error(let message) = reply { throw refused("clear the queue", message) }
    }

}
