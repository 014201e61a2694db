import CHiredis
import FaceScopeCore
import Foundation

/// A reply from Redis (RESP2).
public enum RedisReply: Sendable, Equatable {
    case string(String)
    /// A bulk string that is not UTF-8 text (a FLOAT32 vector, say).
    case data([UInt8])
    case status(String)
    case error(String)
    case integer(Int64)
    case array([RedisReply])
    case null

    public var string: String? {
        switch self {
        case .string(let s), .status(let s): return s
        default: return nil
        }
    }

    /// A bulk string's bytes, text or not.
    public var bytes: [UInt8]? {
        switch self {
        case .string(let s): return Array(s.utf8)
        case .data(let bytes): return bytes
        default: return nil
        }
    }

    public var integer: Int64? {
        switch self {
        case .integer(let v): return v
        case .string(let s): return Int64(s)
        default: return nil
        }
    }

    public var array: [RedisReply]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

/// One argument of a command: text, or raw bytes.
public enum RedisArgument: Sendable, Equatable {
    case text(String)
    case bytes([UInt8])
}

/// One connection to Redis over hiredis, safe to share between threads (calls are serialised).
/// Reconnects once and retries when the connection was dropped; every command FaceScope sends
/// is idempotent, so a retry cannot store anything twice.
///
/// Unchecked: it owns a hiredis context (a C pointer the compiler cannot check), which is only
/// used while `lock` is held; the other stored properties are constants.
public final class RedisConnection: @unchecked Sendable {
    public let endpoint: RedisEndpoint
    let connectTimeout: Double
    let commandTimeout: Double
    private var context: UnsafeMutablePointer<redisContext>?
    private let lock = NSLock()

    public init(endpoint: RedisEndpoint, connectTimeout: Double = 3, commandTimeout: Double = 10) throws(StoreError) {
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        lock.lock()
        defer { lock.unlock() }
        try connect()
    }

    deinit {
        if let context { redisFree(context) }
    }

    private static func timeval(_ seconds: Double) -> Glibc.timeval {
        let whole = Int(seconds)
        return Glibc.timeval(tv_sec: whole, tv_usec: Int((seconds - Double(whole)) * 1_000_000))
    }

    private var location: String {
        switch endpoint.address {
        case .tcp(let host, let port): return "\(host):\(port)"
        case .unix(let path): return path
        }
    }

    private static func errorText(_ ctx: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: ctx.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// Connects, authenticates and selects the database. Caller holds the lock.
    private func connect() throws(StoreError) {
        if let context {
            redisFree(context)
            self.context = nil
        }
        let tv = RedisConnection.timeval(connectTimeout)
        let ctx: UnsafeMutablePointer<redisContext>?
        switch endpoint.address {
        case .tcp(let host, let port): ctx = redisConnectWithTimeout(host, Int32(port), tv)
        case .unix(let path): ctx = redisConnectUnixWithTimeout(path, tv)
        }
        guard let ctx else { throw .unreachable("cannot connect to Redis at \(location): out of memory") }
        if ctx.pointee.err != 0 {
            let reason = RedisConnection.errorText(ctx)
            redisFree(ctx)
            throw .unreachable(
                "cannot connect to Redis at \(location): \(reason). Is Redis Stack running there? "
                    + "Start the local one with scripts/services.sh start, or point REDIS_OM_URL / --redis-url at yours."
            )
        }
        redisSetTimeout(ctx, RedisConnection.timeval(commandTimeout))
        redisEnableKeepAlive(ctx)
        context = ctx
        if let password = endpoint.password {
            var args = ["AUTH"]
            if let user = endpoint.username { args.append(user) }
            args.append(password)
            let reply = try roundTrip([args.map(RedisArgument.text)])[0]
            if case .error(let message) = reply {
                disconnect()
                throw .refused(
                    "Redis at \(location) refused the credentials (\(TerminalText.sanitize(message))): "
                        + "check the user and password in REDIS_OM_URL")
            }
        }
        let hello = try roundTrip([[.text("SELECT"), .text(String(endpoint.database))]])[0]
        if case .error(let message) = hello {
            disconnect()
            if message.hasPrefix("NOAUTH") {
                throw .refused(
                    "Redis at \(location) requires a password: give it in REDIS_OM_URL as redis://[user]:password@host:port"
                )
            }
            throw .refused(
                "Redis at \(location) refused database \(endpoint.database): \(TerminalText.sanitize(message))")
        }
    }

    private func disconnect() {
        if let context { redisFree(context) }
        context = nil
    }

    /// Sends the commands in one write and reads every reply. Server errors come back as
    /// `.error` replies; connection failures throw.
    private func roundTrip(_ commands: [[RedisArgument]]) throws(StoreError) -> [RedisReply] {
        try append(commands)
        return try readReplies(commands.count)
    }

    /// Queues commands in hiredis's output buffer (sent by the next flush or read). Caller holds
    /// the lock.
    fileprivate func append(_ commands: [[RedisArgument]]) throws(StoreError) {
        guard let ctx = context else { throw .unreachable("not connected to Redis at \(location)") }
        var storage: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int] = []
        for args in commands {
            storage.removeAll(keepingCapacity: true)
            offsets.removeAll(keepingCapacity: true)
            lengths.removeAll(keepingCapacity: true)
            for arg in args {
                offsets.append(storage.count)
                switch arg {
                case .text(let text):
                    storage.append(contentsOf: text.utf8)
                case .bytes(let bytes):
                    storage.append(contentsOf: bytes)
                }
                lengths.append(storage.count - offsets[offsets.count - 1])
            }
            storage.append(0)
            let rc = storage.withUnsafeBufferPointer { buffer -> Int32 in
                guard let base = buffer.baseAddress else { return -1 }
                let raw = UnsafeRawPointer(base)
                var argv: [UnsafePointer<CChar>?] = offsets.map {
                    raw.advanced(by: $0).assumingMemoryBound(to: CChar.self)
                }
                return redisAppendCommandArgv(ctx, Int32(args.count), &argv, lengths)
            }
            if rc != 0 { throw connectionError(ctx) }
        }
    }

    /// Writes everything queued to the socket (blocking until the server has taken it). Caller
    /// holds the lock.
    fileprivate func flush() throws(StoreError) {
        guard let ctx = context else { throw .unreachable("not connected to Redis at \(location)") }
        var done: Int32 = 0
        while done == 0 {
            if redisBufferWrite(ctx, &done) != 0 { throw connectionError(ctx) }
        }
    }

    /// Reads `count` replies. Caller holds the lock.
    fileprivate func readReplies(_ count: Int) throws(StoreError) -> [RedisReply] {
        guard let ctx = context else { throw .unreachable("not connected to Redis at \(location)") }
        var replies: [RedisReply] = []
        replies.reserveCapacity(count)
        for _ in 0..<count {
            var raw: UnsafeMutableRawPointer?
            if redisGetReply(ctx, &raw) != 0 || raw == nil { throw connectionError(ctx) }
            guard let raw else { throw connectionError(ctx) }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            replies.append(RedisConnection.convert(reply))
            freeReplyObject(raw)
        }
        return replies
    }

    /// Reconnects (after a dropped connection). Caller holds the lock.
    fileprivate func reconnect() throws(StoreError) { try connect() }

    private func connectionError(_ ctx: UnsafeMutablePointer<redisContext>) -> StoreError {
        let reason = RedisConnection.errorText(ctx)
        let timedOut = reason.contains("Resource temporarily unavailable") || reason.contains("timed out")
        disconnect()
        if timedOut {
            return .unreachable(
                "Redis at \(location) did not answer within \(commandTimeout) s (FACESCOPE_REDIS_TIMEOUT)")
        }
        return .unreachable(
            "lost the connection to Redis at \(location): \(reason.isEmpty ? "connection closed" : reason)")
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let r = reply.pointee
        func text() -> String {
            guard let str = r.str else { return "" }
            return String(decoding: UnsafeRawBufferPointer(start: str, count: r.len), as: UTF8.self)
        }
        switch r.type {
        case REDIS_REPLY_STRING:
            guard let str = r.str else { return .string("") }
            let raw = UnsafeRawBufferPointer(start: str, count: r.len).bindMemory(to: UInt8.self)
            if let valid = String(validating: raw, as: UTF8.self) { return .string(valid) }
            return .data(Array(raw))
        case REDIS_REPLY_STATUS: return .status(text())
        case REDIS_REPLY_ERROR: return .error(text())
        case REDIS_REPLY_INTEGER: return .integer(r.integer)
        case REDIS_REPLY_ARRAY:
            var items: [RedisReply] = []
            items.reserveCapacity(r.elements)
            if let elements = r.element {
                for i in 0..<r.elements {
                    if let child = elements[i] { items.append(convert(child)) } else { items.append(.null) }
                }
            }
            return .array(items)
        default: return .null
        }
    }

    /// Sends commands pipelined (one write, replies in order). A dropped connection is
    /// re-established and the whole batch sent again once.
    public func pipeline(_ commands: [[String]]) throws(StoreError) -> [RedisReply] {
        try pipeline(arguments: commands.map { $0.map(RedisArgument.text) })
    }

    /// `pipeline` with arguments that may be binary (vectors for KNN queries).
    public func pipeline(arguments commands: [[RedisArgument]]) throws(StoreError) -> [RedisReply] {
        if commands.isEmpty { return [] }
        lock.lock()
        defer { lock.unlock() }
        return try RedisConnection.withoutBrokenPipeSignal { () throws(StoreError) in
            if context == nil { try connect() }
            do {
                return try roundTrip(commands)
            } catch {
                // The connection was dropped (server restart, idle timeout): reconnect, retry once.
                try connect()
                return try roundTrip(commands)
            }
        }
    }

    /// Runs `body` with SIGPIPE blocked on this thread, discarding one raised meanwhile: a write
    /// to a connection the server closed then fails with EPIPE, handled as a dropped connection,
    /// instead of the signal ending the process. Only this thread's own socket I/O is covered.
    static func withoutBrokenPipeSignal<T>(_ body: () throws(StoreError) -> T) throws(StoreError) -> T {
        var pipe = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &pipe, &previous)
        defer {
            var pending = sigset_t()
            sigpending(&pending)
            if sigismember(&pending, SIGPIPE) == 1, sigismember(&previous, SIGPIPE) == 0 {
                var now = timespec(tv_sec: 0, tv_nsec: 0)
                _ = sigtimedwait(&pipe, nil, &now)
            }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        return try body()
    }

    /// Sends one command and returns its reply; a server error reply is returned, not thrown.
    public func send(_ args: [String]) throws(StoreError) -> RedisReply {
        try pipeline([args])[0]
    }

    /// Sends one command; a server error reply is thrown as `StoreError.refused`.
    @discardableResult
    public func call(_ args: [String]) throws(StoreError) -> RedisReply {
        let reply = try send(args)
        if case .error(let message) = reply {
            throw .refused("Redis refused \(args.first ?? "a command"): \(TerminalText.sanitize(message))")
        }
        return reply
    }
}

extension RedisConnection {
    /// Runs a script once per (keys, args), pipelined, loading it first if the server lacks it.
    func runScript(_ script: String, sha: String, calls: [(keys: [String], args: [String])])
        throws(StoreError) -> [RedisReply]
    {
        try runScript(script, sha: sha, arguments: calls.map { ($0.keys, $0.args.map(RedisArgument.text)) })
    }

    /// ``runScript(_:sha:calls:)`` with arguments that may be binary.
    func runScript(_ script: String, sha: String, arguments calls: [(keys: [String], args: [RedisArgument])])
        throws(StoreError) -> [RedisReply]
    {
        func commands(_ name: String, _ body: String) -> [[RedisArgument]] {
            calls.map {
                [.text(name), .text(body), .text(String($0.keys.count))] + $0.keys.map(RedisArgument.text) + $0.args
            }
        }
        var replies = try pipeline(arguments: commands("EVALSHA", sha))
        if replies.contains(where: {
            if case .error(let m) = $0 { return m.hasPrefix("NOSCRIPT") } else { return false }
        }) {
            replies = try pipeline(arguments: commands("EVAL", script))
        }
        return replies
    }
}

/// Commands kept on their way while the replies to earlier ones are read: the server works on
/// the next group while the caller handles the previous group's replies (see
/// ``RedisConnection/stream(_:)``). Groups' replies come back in the order they were sent.
///
/// Every command sent through a stream must be safe to run twice: when the connection drops,
/// it is re-established and the groups whose replies have not been read are sent again, once.
public final class RedisStream {
    private let connection: RedisConnection
    private var inFlight: [[[RedisArgument]]] = []
    private var head = 0

    fileprivate init(connection: RedisConnection) { self.connection = connection }

    /// How many groups were sent whose replies have not been read.
    public var pending: Int { inFlight.count - head }

    /// Sends a group of commands without waiting for their replies.
    public func send(_ commands: [[RedisArgument]]) throws(StoreError) {
        inFlight.append(commands)
        try RedisConnection.withoutBrokenPipeSignal { () throws(StoreError) in
            do {
                try connection.append(commands)
                try connection.flush()
            } catch {
                try resend()
            }
        }
    }

    /// `send` with text arguments.
    public func send(_ commands: [[String]]) throws(StoreError) {
        try send(commands.map { $0.map(RedisArgument.text) })
    }

    /// The replies of the oldest group sent and not yet read.
    public func receive() throws(StoreError) -> [RedisReply] {
        guard head < inFlight.count else { return [] }
        let count = inFlight[head].count
        let replies = try RedisConnection.withoutBrokenPipeSignal { () throws(StoreError) -> [RedisReply] in
            do {
                return try connection.readReplies(count)
            } catch {
                // The connection was dropped: reconnect, send what is unanswered again, once.
                try resend()
                return try connection.readReplies(count)
            }
        }
        inFlight[head] = []
        head += 1
        if head == inFlight.count {
            inFlight.removeAll(keepingCapacity: true)
            head = 0
        }
        return replies
    }

    private func resend() throws(StoreError) {
        try connection.reconnect()
        for group in inFlight[head...] { try connection.append(group) }
        try connection.flush()
    }
}

extension RedisConnection {
    /// Runs `body` with the connection to itself, sending through a ``RedisStream``; every
    /// group sent must have been received when `body` returns.
    public func stream<T>(_ body: (RedisStream) throws(StoreError) -> T) throws(StoreError) -> T {
        lock.lock()
        defer { lock.unlock() }
        if context == nil { try connect() }
        let stream = RedisStream(connection: self)
        // Unread replies would answer the next command: start afresh after a stream that stopped
        // early (an error, or a body that returned too soon).
        defer { if stream.pending > 0 { disconnect() } }
        return try body(stream)
    }
}
