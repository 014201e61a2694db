import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A tiny scripted HTTP/1.1 server on 127.0.0.1 for tests: it records each request and answers
/// with the next scripted response, keeping connections alive.
final class FakeHTTPServer: @unchecked Sendable {
    struct Request {
        var method: String
        var path: String
        var headers: [String: String]
        var body: [UInt8]
    }

    struct Response {
        var status: Int
        var headers: [(String, String)] = []
        var body: [UInt8] = []
        /// A body of this many zero bytes, written in chunks as the client reads (never held in
        /// memory); the connection is closed afterwards, or when the client stops reading.
        var streamed: Int? = nil
        /// Whether a streamed body announces its length (else it ends when the connection closes).
        var announcesLength = true

        static func json(_ status: Int, _ text: String) -> Response {
            Response(status: status, headers: [("Content-Type", "application/json")], body: Array(text.utf8))
        }
    }

    let port: Int
    private let listener: Int32
    private let lock = NSLock()
    private var script: [Response]
    private var fallback: Response?
    private var recorded: [Request] = []
    private var accepted = 0

    /// Starts listening; answers with `responses` in order, then `fallback` (or 500).
    init(responses: [Response], fallback: Response? = nil) throws {
        script = responses
        self.fallback = fallback
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.EIO) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0, listen(fd, 16) == 0 else {
            close(fd)
            throw POSIXError(.EADDRINUSE)
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit {
        stop()
    }

    var url: String { "127.0.0.1:\(port)" }

    var requests: [Request] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }

    /// Connections accepted so far.
    var connections: Int {
        lock.lock()
        defer { lock.unlock() }
        return accepted
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 { break }
            lock.lock()
            accepted += 1
            lock.unlock()
            let thread = Thread { [self] in serve(client) }
            thread.start()
        }
        close(listener)
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var buffer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        func fill() -> Bool {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { return false }
            buffer.append(contentsOf: chunk[0..<n])
            return true
        }
        while true {
            var headerEnd: Int?
            while headerEnd == nil {
                if let range = find(Array("\r\n\r\n".utf8), in: buffer) {
                    headerEnd = range
                } else if !fill() {
                    return
                }
            }
            guard let end = headerEnd else { return }
            let head = String(decoding: buffer[0..<end], as: UTF8.self)
            buffer.removeFirst(end + 4)
            var lines = head.components(separatedBy: "\r\n")
            let requestLine = lines.removeFirst().split(separator: " ")
            var headers: [String: String] = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                    in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            while buffer.count < length {
                if !fill() { return }
            }
            let body = Array(buffer[0..<length])
            buffer.removeFirst(length)
            lock.lock()
            recorded.append(
                Request(
                    method: requestLine.first.map(String.init) ?? "",
                    path: requestLine.dropFirst().first.map(String.init) ?? "",
                    headers: headers, body: body))
            let response =
                script.isEmpty ? (fallback ?? .json(500, #"{"error":"no scripted response"}"#)) : script.removeFirst()
            lock.unlock()
            if let streamed = response.streamed {
                stream(streamed, announcesLength: response.announcesLength, headers: response.headers, to: fd)
                return
            }
            var out = "HTTP/1.1 \(response.status) Scripted\r\nContent-Length: \(response.body.count)\r\n"
            for (name, value) in response.headers { out += "\(name): \(value)\r\n" }
            out += "\r\n"
            let bytes = Array(out.utf8) + response.body
            var sent = 0
            while sent < bytes.count {
                let n = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n <= 0 { return }
                sent += n
            }
        }
    }

    private func stream(_ total: Int, announcesLength: Bool, headers: [(String, String)], to fd: Int32) {
        var out = "HTTP/1.1 200 Streamed\r\n"
        out += announcesLength ? "Content-Length: \(total)\r\n" : "Connection: close\r\n"
        for (name, value) in headers { out += "\(name): \(value)\r\n" }
        out += "\r\n"
        let head = Array(out.utf8)
        guard head.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == head.count else {
            return
        }
        let chunk = [UInt8](repeating: 0x30, count: 1 << 16)
        var sent = 0
        while sent < total {
            let n = chunk.withUnsafeBytes { send(fd, $0.baseAddress, min($0.count, total - sent), Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            sent += n
        }
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        for i in 0...(haystack.count - needle.count) where haystack[i] == needle[0] {
            if Array(haystack[i..<i + needle.count]) == needle { return i }
        }
        return nil
    }
}
