import FaceScopeCore

/// One Triton HTTP endpoint: `http(s)://host:port[/base]`.
public struct TritonEndpoint: Sendable, Equatable, CustomStringConvertible {
    /// `http` or `https`.
    public var scheme: String
    /// A host name or an IP address (IPv6 without brackets).
    public var host: String
    /// The TCP port.
    public var port: Int
    /// A path prefix in front of `/v2/...` (a reverse proxy's mount point): empty or `/x[/y...]`.
    public var basePath: String

    /// An endpoint from its parts.
    public init(scheme: String = "http", host: String, port: Int, basePath: String = "") {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.basePath = basePath
    }

    /// The URL that `/v2/...` paths are appended to, without a trailing slash.
    public var baseURL: String {
        let h = host.contains(":") ? "[\(host)]" : host
        return "\(scheme)://\(h):\(port)\(basePath)"
    }

    public var description: String { baseURL }

    /// Whether the host is this machine's loopback interface (127.0.0.0/8, localhost, ::1): the
    /// condition for system shared memory, which only works between processes of one host.
    public var isLoopback: Bool {
        let h = host.lowercased()
        if h == "localhost" || h.hasSuffix(".localhost") || h == "::1" || h == "0:0:0:0:0:0:0:1" { return true }
        let parts = h.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }
}

/// The Triton servers FaceScope talks to, from `TRITON_SERVER_URL`: `host:port`, `host`
/// (port 8000), `http://host[:port][/base]`, `https://...`, or several of those separated by
/// commas. Requests are spread over them round-robin.
public struct TritonEndpoints: Sendable, Equatable, CustomStringConvertible {
    /// The servers, in the order given.
    public var endpoints: [TritonEndpoint]

    /// A list of endpoints; it must not be empty.
    public init(_ endpoints: [TritonEndpoint]) {
        self.endpoints = endpoints
    }

    public var description: String { endpoints.map(\.baseURL).joined(separator: ",") }

    /// Whether every server is on this host.
    public var allLoopback: Bool { endpoints.allSatisfy(\.isLoopback) }

    /// Parses a `TRITON_SERVER_URL` value.
    /// - Throws: `InferenceError.invalidEndpoint` naming the bad part.
    public static func parse(_ text: String) throws(InferenceError) -> TritonEndpoints {
        var result: [TritonEndpoint] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let trimmed = item.trimmingSpaces()
            if trimmed.isEmpty { continue }
            result.append(try parseOne(String(trimmed), whole: text))
        }
        guard !result.isEmpty else {
            throw .invalidEndpoint(
                "TRITON_SERVER_URL is empty: give host:port or http://host:port, comma-separated for several")
        }
        return TritonEndpoints(result)
    }

    static func parseOne(_ item: String, whole: String) throws(InferenceError) -> TritonEndpoint {
        let bad = { (why: String) in
            InferenceError.invalidEndpoint("invalid TRITON_SERVER_URL '\(TerminalText.sanitize(whole))': \(why)")
        }
        var scheme = "http"
        var rest = Substring(item)
        var defaultPort = 8000
        if let range = item.range(of: "://") {
            scheme = item[..<range.lowerBound].lowercased()
            guard scheme == "http" || scheme == "https" else {
                throw bad("'\(scheme)://' is not supported (Triton's HTTP endpoint is http:// or https://)")
            }
            rest = item[range.upperBound...]
            defaultPort = scheme == "https" ? 443 : 80
        }
        var authority = rest
        var path = Substring("")
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            path = rest[slash...]
        }
        guard !authority.contains("@") else { throw bad("credentials in the URL are not supported") }
        while path.hasSuffix("/") { path = path.dropLast() }
        guard !path.contains("?"), !path.contains("#") else { throw bad("a query or fragment is not allowed") }
        var host: Substring
        var port = defaultPort
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw bad("unclosed [ in an IPv6 address") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                    throw bad("invalid port in '\(item)'")
                }
                port = p
            }
        } else if let colon = authority.firstIndex(of: ":") {
            host = authority[..<colon]
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                throw bad("invalid port in '\(item)'")
            }
            port = p
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw bad("no host in '\(item)'") }
        guard host.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "." || $0 == "-" || $0 == "_" || $0 == ":" }),
            host.unicodeScalars.allSatisfy(\.isASCII)
        else {
            throw bad("invalid host '\(host)'")
        }
        return TritonEndpoint(scheme: scheme, host: String(host), port: port, basePath: String(path))
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" || f == "\n" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" { s = s.dropLast() }
        return s
    }
}
