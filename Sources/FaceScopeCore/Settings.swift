/// Where and how to reach Redis: `redis://[[user]:password@]host[:port][/db]` or
/// `unix:///path/to/redis.sock[?db=N]` (with optional `user:password@` before the path).
public struct RedisEndpoint: Sendable, Equatable, CustomStringConvertible {
    public enum Address: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
    }

    public var address: Address
    public var username: String?
    public var password: String?
    public var database: Int

    public init(address: Address, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.address = address
        self.username = username
        self.password = password
        self.database = database
    }

    /// The URL with any password masked, for messages.
    public var description: String {
        var auth = ""
        if username != nil || password != nil {
            auth = (username ?? "") + (password != nil ? ":***" : "") + "@"
        }
        switch address {
        case .tcp(let host, let port):
            let h = host.contains(":") ? "[\(host)]" : host
            return "redis://\(auth)\(h):\(port)/\(database)"
        case .unix(let path):
            return "unix://\(auth)\(path)" + (database != 0 ? "?db=\(database)" : "")
        }
    }

    public static func parse(_ url: String) throws(FaceScopeError) -> RedisEndpoint {
        let bad = { (why: String) in
            FaceScopeError.usage("invalid Redis URL '\(TerminalText.sanitize(masked(url)))': \(why)")
        }
        var rest: Substring
        let isUnix: Bool
        if url.hasPrefix("redis://") {
            rest = url.dropFirst("redis://".count)
            isUnix = false
        } else if url.hasPrefix("unix://") {
            rest = url.dropFirst("unix://".count)
            isUnix = true
        } else if url.hasPrefix("rediss://") {
            throw bad("TLS (rediss://) is not supported by this build's hiredis; use a TLS tunnel or a local socket")
        } else {
            throw bad("expected redis://host:port/db or unix:///path.sock")
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userinfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = userinfo.firstIndex(of: ":") {
                let user = percentDecode(userinfo[..<colon])
                username = user.isEmpty ? nil : user
                password = percentDecode(userinfo[userinfo.index(after: colon)...])
            } else if !userinfo.isEmpty {
                // `redis://secret@host` is a password alone, as redis-py reads it.
                password = percentDecode(userinfo)
            }
        }
        var database = 0
        if isUnix {
            var path = rest
            if let q = rest.firstIndex(of: "?") {
                path = rest[..<q]
                for pair in rest[rest.index(after: q)...].split(separator: "&") {
                    let kv = pair.split(separator: "=", maxSplits: 1)
                    if kv.count == 2, kv[0] == "db" {
                        guard let n = Int(kv[1]), n >= 0 else { throw bad("db must be a number") }
                        database = n
                    }
                }
            }
            guard path.hasPrefix("/") else { throw bad("a unix socket path must be absolute (unix:///path)") }
            return RedisEndpoint(
                address: .unix(path: String(path)), username: username, password: password, database: database)
        }
        var hostPort = rest
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            let db = rest[rest.index(after: slash)...]
            if !db.isEmpty {
                guard let n = Int(db), n >= 0 else { throw bad("the database after / must be a number") }
                database = n
            }
        }
        var host = "localhost"
        var port = 6379
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw bad("unclosed [ in IPv6 address") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw bad("invalid port") }
                port = p
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            if colon != hostPort.startIndex { host = String(hostPort[..<colon]) }
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else {
                throw bad("invalid port")
            }
            port = p
        } else if !hostPort.isEmpty {
            host = String(hostPort)
        }
        return RedisEndpoint(
            address: .tcp(host: host, port: port), username: username, password: password, database: database)
    }

    /// A Redis URL as text for messages, with any password masked (`redis://user:***@host`),
    /// whatever the URL's shape: a bad port or database, another scheme, no scheme at all.
    /// Everything between the scheme's `://` (or the start) and the last `@` is credentials; of
    /// those, only a user name before a `:` is kept.
    public static func masked(_ url: String) -> String {
        guard let at = url.lastIndex(of: "@") else { return url }
        var start = url.startIndex
        var index = url.startIndex
        while index < at {
            if url[index...].hasPrefix("://") {
                start = url.index(index, offsetBy: 3)
                break
            }
            index = url.index(after: index)
        }
        let userinfo = url[start..<at]
        let user = userinfo.firstIndex(of: ":").map { userinfo[..<$0] + ":" } ?? ""
        return url[..<start] + user + "***" + url[at...]
    }

    private static func percentDecode(_ s: Substring) -> String {
        var bytes: [UInt8] = []
        var utf8 = Array(s.utf8)[...]
        while let b = utf8.popFirst() {
            if b == UInt8(ascii: "%"), utf8.count >= 2,
                let v = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16)
            {
                bytes.append(v)
                utf8 = utf8.dropFirst(2)
            } else {
                bytes.append(b)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Reads `.env` files: `KEY=VALUE` lines, `#` comments, optional `export `, single or double
/// quotes (double quotes understand `\n`, `\"` and `\\`).
public enum DotEnv {
    public static func parse(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" }) {
            var line = rawLine.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = line.dropFirst("export ".count).trimmingSpaces() }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingSpaces()
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
            var value = line[line.index(after: eq)...].trimmingSpaces()
            if value.hasPrefix("\"") {
                var out = ""
                var escaped = false
                for ch in value.dropFirst() {
                    if escaped {
                        out.append(ch == "n" ? "\n" : ch)
                        escaped = false
                    } else if ch == "\\" {
                        escaped = true
                    } else if ch == "\"" {
                        break
                    } else {
                        out.append(ch)
                    }
                }
                result[String(key)] = out
            } else if value.hasPrefix("'") {
                let inner = value.dropFirst()
                result[String(key)] = String(inner.prefix { $0 != "'" })
            } else {
                // An unquoted value ends at a ` #` comment.
                var previous: Character = "x"
                if let hash = value.indices.first(where: { i in
                    defer { previous = value[i] }
                    return value[i] == "#" && (previous == " " || previous == "\t")
                }) {
                    value = value[..<hash].trimmingSpaces()
                }
                result[String(key)] = String(value)
            }
        }
        return result
    }
}

extension Substring {
    func trimmingSpaces() -> Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}

/// How an image is fitted into FaceNet's 736x416 input.
public enum ResizeMode: String, Sendable, CaseIterable {
    /// The whole image stretched to 736x416, aspect ratio not kept (NVIDIA's references do this).
    case stretch
    /// Scaled by one factor to fit, placed at the top-left corner, the rest padded with 0.
    case letterbox
}

/// The name of each setting (the keys of `Settings.specs` and of command-line overrides).
public enum SettingKey: String, Sendable, CaseIterable {
    case redisURL, keyPrefix, connectTimeout, commandTimeout, tritonURL, faceDetectModel, landmarkModel, modelVersion,
        imagesDir, resizeMode, maxPixels, concurrency, coverageThreshold, nmsIoU, recognitionModel, clusterThreshold,
        minFaceSize, outageWait, encodedModel
}

/// One configurable value: its environment variable, its default, and what it means.
public struct SettingSpec: Sendable {
    public let variable: String
    public let defaultValue: String
    public let help: String
}

/// FaceScope's settings. Each comes from, in order of precedence: a command-line flag, the
/// environment, a `.env` file in the working directory, the default. Variable names are the
/// original system's where it had one.
public struct Settings: Sendable, Equatable {
    /// The Redis URL as given (shown, and passed on to other processes).
    public private(set) var redisURL: String
    /// Where that URL points, parsed once when the settings are resolved (a bad URL never gets
    /// this far).
    public private(set) var redis = RedisEndpoint(address: .tcp(host: "127.0.0.1", port: 6379))
    public var keyPrefix: String
    public var connectTimeout: Double
    public var commandTimeout: Double
    public var tritonURL: String
    public var faceDetectModel: String
    public var landmarkModel: String
    public var modelVersion: String
    public var imagesDir: String
    /// FaceNet's resize; nil follows the model's `resize_mode` parameter (else stretch).
    public var resizeMode: ResizeMode?
    public var maxPixels: Int
    public var concurrency: Int
    public var coverageThreshold: Double
    public var nmsIoU: Double
    public var minFaceSize: Double
    public var recognitionModel: String
    public var clusterThreshold: Double
    /// The detector model that takes encoded image files (`facenet_encoded`); empty: raw tensors.
    public var encodedModel: String = ""
    /// Seconds a detection run waits, in growing pauses, for an unavailable Triton (or a Redis out
    /// of memory) to come back before it stops.
    public var outageWait: Double = 30

    /// The original deployment's document key prefix: no global prefix, module `utils`.
    public static let defaultKeyPrefix = ":utils.Model:"

    /// A key prefix must be non-empty, with no spaces or control characters.
    public static func checkKeyPrefix(_ prefix: String) throws(FaceScopeError) {
        guard !prefix.isEmpty, !prefix.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 })
        else {
            throw .usage("the key prefix must be non-empty and contain no spaces: '\(TerminalText.sanitize(prefix))'")
        }
    }

    public static let specs: [SettingKey: SettingSpec] = [
        .redisURL: SettingSpec(
            variable: "REDIS_OM_URL", defaultValue: "redis://localhost:6379/0",
            help: "Redis Stack URL: redis://[[user]:password@]host[:port][/db] or unix:///path.sock"),
        .keyPrefix: SettingSpec(
            variable: "FACESCOPE_KEY_PREFIX", defaultValue: Settings.defaultKeyPrefix,
            help: "redis-om key prefix of the documents ({global}:{module}.Model:)"),
        .connectTimeout: SettingSpec(
            variable: "FACESCOPE_REDIS_CONNECT_TIMEOUT", defaultValue: "3",
            help: "seconds to wait for a Redis connection"),
        .commandTimeout: SettingSpec(
            variable: "FACESCOPE_REDIS_TIMEOUT", defaultValue: "10",
            help: "seconds to wait for a Redis reply"),
        .tritonURL: SettingSpec(
            variable: "TRITON_SERVER_URL", defaultValue: "localhost:8000",
            help: "Triton HTTP endpoint(s): host:port or URL, comma-separated for several"),
        .faceDetectModel: SettingSpec(
            variable: "FACE_DETECT_MODEL_NAME", defaultValue: "facenet",
            help: "Triton model name of the face detector"),
        .landmarkModel: SettingSpec(
            variable: "FPENET_MODEL_NAME", defaultValue: "fpenet",
            help: "Triton model name of the landmark estimator"),
        .modelVersion: SettingSpec(
            variable: "MODEL_VERSION", defaultValue: "",
            help: "model version to ask Triton for (empty: the server's choice)"),
        .imagesDir: SettingSpec(
            variable: "IMAGES_DIR", defaultValue: ".", help: "folder that stored filenames are relative to"),
        .resizeMode: SettingSpec(
            variable: "FACESCOPE_RESIZE_MODE", defaultValue: "",
            help: "stretch or letterbox; empty follows the model's resize_mode parameter (else stretch)"),
        .maxPixels: SettingSpec(
            variable: "FACESCOPE_MAX_PIXELS", defaultValue: "100000000",
            help: "images with more pixels are refused before decoding"),
        .concurrency: SettingSpec(
            variable: "FACESCOPE_CONCURRENCY", defaultValue: "4", help: "images in flight at once during detection"),
        .coverageThreshold: SettingSpec(
            variable: "FACESCOPE_MIN_COVERAGE", defaultValue: "0.2",
            help: "FaceNet grid cells below this coverage are ignored"),
        .nmsIoU: SettingSpec(
            variable: "FACESCOPE_NMS_IOU", defaultValue: "0.5", help: "boxes overlapping more than this are merged"),
        .recognitionModel: SettingSpec(
            variable: "FACE_RECOGNITION_MODEL_NAME", defaultValue: "facerec",
            help: "Triton model name of the face descriptor model (empty: no descriptors)"),
        .clusterThreshold: SettingSpec(
            variable: "FACESCOPE_CLUSTER_THRESHOLD", defaultValue: "0.5",
            help: "faces whose descriptors are closer than this are the same person"),
        .minFaceSize: SettingSpec(
            variable: "FACESCOPE_MIN_FACE_SIZE", defaultValue: "0",
            help: "faces narrower or lower than this (pixels) are dropped"),
        .outageWait: SettingSpec(
            variable: "FACESCOPE_OUTAGE_WAIT", defaultValue: "30",
            help: "seconds detection waits for an unavailable Triton or Redis before it stops (0: stop at once)"),
        .encodedModel: SettingSpec(
            variable: "FACESCOPE_ENCODED_MODEL", defaultValue: "",
            help: "Triton model that takes image files' bytes (facenet_encoded); empty: send raw tensors"),
    ]

    /// Resolves every setting. `flags` holds values given on the command line; `environment` the
    /// process environment; `dotenv` the parsed `.env` file.
    public static func resolve(
        flags: [SettingKey: String], environment: [String: String], dotenv: [String: String]
    ) throws(FaceScopeError) -> Settings {
        func value(_ name: SettingKey) -> String {
            guard let spec = specs[name] else { return "" }
            return flags[name] ?? environment[spec.variable] ?? dotenv[spec.variable] ?? spec.defaultValue
        }
        func seconds(_ name: SettingKey) throws(FaceScopeError) -> Double {
            let text = value(name)
            guard let v = Double(text), v > 0, v.isFinite else {
                throw .usage(
                    "\(specs[name]?.variable ?? name.rawValue) must be a positive number of seconds, not '\(TerminalText.sanitize(text))'"
                )
            }
            return v
        }
        var settings = Settings(
            redisURL: value(.redisURL), keyPrefix: value(.keyPrefix),
            connectTimeout: try seconds(.connectTimeout), commandTimeout: try seconds(.commandTimeout),
            tritonURL: value(.tritonURL), faceDetectModel: value(.faceDetectModel),
            landmarkModel: value(.landmarkModel), modelVersion: value(.modelVersion),
            imagesDir: value(.imagesDir), resizeMode: nil, maxPixels: 0, concurrency: 1, coverageThreshold: 0,
            nmsIoU: 0, minFaceSize: 0, recognitionModel: value(.recognitionModel), clusterThreshold: 0)
        func number(_ name: SettingKey, _ range: ClosedRange<Double>) throws(FaceScopeError) -> Double {
            let text = value(name)
            guard let v = Double(text), range.contains(v) else {
                throw .usage(
                    "\(specs[name]?.variable ?? name.rawValue) must be a number from \(range.lowerBound) to \(range.upperBound), "
                        + "not '\(TerminalText.sanitize(text))'")
            }
            return v
        }
        let resize = value(.resizeMode)
        if !resize.isEmpty {
            guard let mode = ResizeMode(rawValue: resize) else {
                throw .usage(
                    "FACESCOPE_RESIZE_MODE must be stretch or letterbox, not '\(TerminalText.sanitize(resize))'")
            }
            settings.resizeMode = mode
        }
        settings.encodedModel = value(.encodedModel)
        settings.maxPixels = Int(try number(.maxPixels, 1...1e12))
        settings.concurrency = Int(try number(.concurrency, 1...256))
        settings.coverageThreshold = try number(.coverageThreshold, 0...1)
        settings.nmsIoU = try number(.nmsIoU, 0...1)
        settings.minFaceSize = try number(.minFaceSize, 0...1e6)
        settings.clusterThreshold = try number(.clusterThreshold, 0...4)
        settings.outageWait = try number(.outageWait, 0...86400)
        settings.redis = try RedisEndpoint.parse(settings.redisURL)
        try checkKeyPrefix(settings.keyPrefix)
        return settings
    }
}
