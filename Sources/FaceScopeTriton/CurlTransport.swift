import CCurl
import FaceScopeCore
import Foundation
import Synchronization

/// libcurl's global state, initialised once before the first handle (curl_global_init is not
/// thread-safe; a Swift global's initialiser runs exactly once).
private let curlGlobalInit: CURLcode = curl_global_init(Int(CURL_GLOBAL_DEFAULT))

/// An HTTP reply: status, headers (names lowercased) and body.
struct HTTPResponse {
    var status: Int
    var headers: [String: String]
    var body: [UInt8]
}

/// Why a request got no HTTP reply.
struct TransportFailure: Error {
    var code: CURLcode
    var message: String
    /// Whether trying again may help: the connection could not be made, or a kept-alive one was
    /// closed under us.
    var retryable: Bool
    /// The reply was larger than the request's limit (it was cut off there).
    var tooLarge = false
    /// The server answered with something that is not HTTP/1.x: HTTP/2 alone, as a gRPC port does.
    var notHTTP1 = false
}

/// Where the write and header callbacks put what libcurl receives.
final class ResponseSink {
    var body: [UInt8] = []
    var headers: [String: String] = [:]
    var status = 0
    /// The most body bytes taken; a longer reply is cut off (libcurl then fails the transfer).
    var limit = Int.max
    var overLimit = false

    func reset() {
        body = []
        headers = [:]
        overLimit = false
    }

    /// One header line, as libcurl hands it over (with CR LF). A new status line starts a new
    /// header block (after `100 Continue`, or a redirect).
    func header(_ line: UnsafeRawBufferPointer) {
        // Trim CR LF as bytes: in a Swift String "\r\n" is one Character, equal to neither "\r" nor "\n".
        var end = line.count
        while end > 0, line[end - 1] == 0x0D || line[end - 1] == 0x0A { end -= 1 }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: line[0..<end]), as: UTF8.self)
        if text.hasPrefix("HTTP/") {
            headers = [:]
            return
        }
        guard let colon = text.firstIndex(of: ":") else { return }
        let name = text[..<colon].lowercased()
        let value = text[text.index(after: colon)...].trimmingSpaces()
        headers[name] = String(value)
        if name == "content-length", let n = Int(value), n > limit { overLimit = true }
        if name == "content-length", let n = Int(value), n > 0, n <= limit, n < 1 << 32 {
            body.reserveCapacity(n)
        }
    }
}

private let writeCallback: curl_write_callback = { data, size, count, context in
    let bytes = size * count
    guard let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    // Returning fewer bytes than handed over makes libcurl stop with CURLE_WRITE_ERROR.
    if sink.overLimit || sink.body.count + bytes > sink.limit {
        sink.overLimit = true
        return 0
    }
    if let data, bytes > 0 { sink.body.append(contentsOf: UnsafeRawBufferPointer(start: data, count: bytes)) }
    return bytes
}

private let headerCallback: curl_write_callback = { data, size, count, context in
    let bytes = size * count
    guard let context else { return 0 }
    let sink = Unmanaged<ResponseSink>.fromOpaque(context).takeUnretainedValue()
    if let data { sink.header(UnsafeRawBufferPointer(start: data, count: bytes)) }
    // A Content-Length over the limit: stop before the body.
    return sink.overLimit ? 0 : bytes
}

/// One libcurl easy handle with its error buffer, response sink and a reusable request buffer.
/// It keeps its connections alive between requests. Used by one thread at a time (the pool
/// hands it out exclusively); it is the only owner of the C handle and frees it.
///
/// Unchecked: a curl easy handle is a C object the compiler cannot check. It may move between
/// threads but never be used by two at once, which `CurlHandlePool` ensures (a handle is either
/// in the pool, behind its mutex, or lent to exactly one request).
final class CurlHandle: @unchecked Sendable {
    private let easy: UnsafeMutableRawPointer
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let sink = ResponseSink()
    /// The request body buffer: grown as needed, reused by later requests.
    private var sendBuffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    init() throws(InferenceError) {
        _ = curlGlobalInit
        guard let easy = curl_easy_init() else { throw .local("libcurl could not create a handle") }
        self.easy = easy
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        _ = fs_curl_setopt_long(easy, CURLOPT_NOSIGNAL, 1)
        _ = fs_curl_setopt_long(easy, CURLOPT_TCP_NODELAY, 1)
        _ = fs_curl_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1)
        _ = fs_curl_setopt_ptr(easy, CURLOPT_ERRORBUFFER, errorBuffer)
        _ = fs_curl_setopt_write_function(easy, writeCallback)
        _ = fs_curl_setopt_header_function(easy, headerCallback)
        let context = Unmanaged.passUnretained(sink).toOpaque()
        _ = fs_curl_setopt_ptr(easy, CURLOPT_WRITEDATA, context)
        _ = fs_curl_setopt_ptr(easy, CURLOPT_HEADERDATA, context)
    }

    deinit {
        curl_easy_cleanup(easy)
        errorBuffer.deallocate()
        sendBuffer.deallocate()
    }

    /// The request buffer, at least `count` bytes long (contents undefined).
    func requestBuffer(count: Int) -> UnsafeMutableRawBufferPointer {
        if sendBuffer.count < count {
            sendBuffer.deallocate()
            // Room to grow a little, so a batch one image larger does not reallocate.
            let capacity = max(count, count + count / 8, 4096)
            sendBuffer = .allocate(byteCount: capacity, alignment: 64)
        }
        return UnsafeMutableRawBufferPointer(rebasing: sendBuffer[0..<count])
    }

    /// Performs one request. `body` must stay valid until this returns (libcurl reads it in place:
    /// CURLOPT_POSTFIELDS does not copy).
    func perform(
        url: String, method: String, body: UnsafeRawBufferPointer?, headers: [String], connectTimeout: Double,
        timeout: Double, replyLimit: Int = Int.max
    ) -> Result<HTTPResponse, TransportFailure> {
        sink.reset()
        sink.limit = replyLimit
        errorBuffer[0] = 0
        _ = url.withCString { fs_curl_setopt_ptr(easy, CURLOPT_URL, $0) }
        _ = fs_curl_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, max(1, Int(connectTimeout * 1000)))
        _ = fs_curl_setopt_long(easy, CURLOPT_TIMEOUT_MS, max(1, Int(timeout * 1000)))
        var list: UnsafeMutablePointer<curl_slist>?
        // An empty `Expect:` stops libcurl from sending `Expect: 100-continue` for bodies over
        // 1 MiB and waiting for the server's go-ahead (about 1 s with Triton) before each upload.
        for header in headers + ["Expect:"] {
            list = curl_slist_append(list, header)
        }
        defer { curl_slist_free_all(list) }
        _ = fs_curl_setopt_ptr(easy, CURLOPT_HTTPHEADER, list)
        // A valid pointer even for an empty body: with POSTFIELDS null, libcurl would read stdin.
        var empty: UInt8 = 0
        let code: CURLcode = withUnsafeMutablePointer(to: &empty) { emptyPointer in
            if method == "GET" {
                _ = fs_curl_setopt_long(easy, CURLOPT_HTTPGET, 1)
            } else {
                _ = fs_curl_setopt_long(easy, CURLOPT_POST, 1)
                _ = fs_curl_setopt_ptr(easy, CURLOPT_POSTFIELDS, body?.baseAddress ?? UnsafeRawPointer(emptyPointer))
                _ = fs_curl_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body?.count ?? 0))
            }
            let code = curl_easy_perform(easy)
            // Never leave a pointer to memory that is about to go away in the handle.
            _ = fs_curl_setopt_ptr(easy, CURLOPT_POSTFIELDS, nil)
            _ = fs_curl_setopt_ptr(easy, CURLOPT_HTTPHEADER, nil)
            return code
        }
        guard code == CURLE_OK else {
            if sink.overLimit {
                sink.reset()
                return .failure(
                    TransportFailure(
                        code: code, message: "the reply is larger than \(replyLimit) bytes", retryable: false,
                        tooLarge: true))
            }
            var detail = String(cString: errorBuffer)
            if detail.isEmpty { detail = String(cString: curl_easy_strerror(code)) }
            var connectTime: curl_off_t = 0
            _ = fs_curl_getinfo_off(easy, CURLINFO_CONNECT_TIME_T, &connectTime)
            let retryable: Bool
            switch code {
            case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_GOT_NOTHING, CURLE_SEND_ERROR,
                CURLE_RECV_ERROR:
                retryable = true
            case CURLE_OPERATION_TIMEDOUT:
                // Only a connect that timed out; a slow reply is not sent again.
                retryable = connectTime == 0
            default:
                retryable = false
            }
            // A gRPC port speaks HTTP/2 only: its first bytes (a SETTINGS frame) are no HTTP/1.x
            // status line, which libcurl reports as HTTP/0.9 (or a weird reply).
            let notHTTP1 =
                (code == CURLE_UNSUPPORTED_PROTOCOL && detail.contains("HTTP/0.9"))
                || code == CURLE_WEIRD_SERVER_REPLY || detail.contains("HTTP/2 preface")
            return .failure(
                TransportFailure(code: code, message: detail, retryable: retryable, notHTTP1: notHTTP1))
        }
        var status = 0
        _ = fs_curl_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        let response = HTTPResponse(status: status, headers: sink.headers, body: sink.body)
        sink.reset()
        return .success(response)
    }
}

/// A few curl handles, each used by one request at a time, kept between requests so their
/// connections stay alive.
final class CurlHandlePool: Sendable {
    private let idle = Mutex<[CurlHandle]>([])
    private let maxIdle: Int

    init(maxIdle: Int = 8) {
        self.maxIdle = maxIdle
    }

    /// Runs `body` with a handle of its own.
    func withHandle<R>(_ body: (CurlHandle) throws(InferenceError) -> R) throws(InferenceError) -> R {
        let reused = idle.withLock { $0.popLast() }
        let handle: CurlHandle
        if let reused { handle = reused } else { handle = try CurlHandle() }
        defer {
            idle.withLock { idle in if idle.count < maxIdle { idle.append(handle) } }
        }
        return try body(handle)
    }
}

/// A path segment with everything but unreserved characters percent-encoded.
func percentEncoded(_ segment: String) -> String {
    var out = ""
    for byte in segment.utf8 {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            out.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = String(byte, radix: 16, uppercase: true)
            out += "%" + (hex.count == 1 ? "0" : "") + hex
        }
    }
    return out
}
