import CCrypto
import FaceScopeCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Where a stored image file stands against the document stored for it.
public enum SourceChange: Sendable, Equatable {
    /// No document is stored for the file.
    case new
    /// The file's content differs from what the document was computed from.
    case changed
    /// The document was computed from this file as it is (or was stored before FaceScope
    /// recorded sources, and is taken as it is).
    case unchanged
    /// Same content, but the file was touched (a new modification time): only the stored time
    /// needs updating, not the faces.
    case touched(FileSource)
}

/// Sizes, times and content hashes of image files: what a document records it was computed from.
public enum SourceFiles {
    /// The file's size and modification time (no hash).
    public static func sizeAndTime(_ path: String) throws(FaceScopeError) -> FileSource {
        var info = stat()
        guard stat(path, &info) == 0 else { throw .file(path: path, reason: errnoText()) }
        let nanoseconds = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        return FileSource(size: Int64(info.st_size), mtimeNanoseconds: nanoseconds, sha256: nil)
    }

    /// The SHA-256 of the file's bytes in lowercase hex, read a megabyte at a time (libcrypto:
    /// about 1.7 GB/s with the CPU's SHA extensions, so a 5 MB photo costs 3 ms).
    public static func sha256(_ path: String) throws(FaceScopeError) -> String {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else { throw .file(path: path, reason: errnoText()) }
        defer { close(fd) }
        guard let context = EVP_MD_CTX_new() else { throw .file(path: path, reason: "cannot start SHA-256") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else {
            throw .file(path: path, reason: "cannot start SHA-256")
        }
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .file(path: path, reason: errnoText())
            }
            if count == 0 { break }
            _ = buffer.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, count) }
        }
        var digest = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        guard EVP_DigestFinal_ex(context, &digest, &length) == 1, length == 32 else {
            throw .file(path: path, reason: "cannot finish SHA-256")
        }
        return hex(digest)
    }

    /// Size, time and hash of a file. The size and time are those before reading: a file that
    /// changes while it is read or detected then looks changed to the next run, never unchanged.
    public static func fingerprint(_ path: String) throws(FaceScopeError) -> FileSource {
        var source = try sizeAndTime(path)
        source.sha256 = try sha256(path)
        return source
    }

    /// Where `path` stands against `stored`, the document stored under its name (nil: none).
    /// Size and time decide first; a file with the recorded size but another time is hashed, and
    /// is `touched` when its content is the same. A document without a recorded source (stored
    /// before FaceScope recorded sources, or by another tool) is `unchanged`.
    public static func compare(_ path: String, stored: ImageDocument?) throws(FaceScopeError) -> SourceChange {
        guard let stored else { return .new }
        guard let recorded = stored.source else { return .unchanged }
        let now = try sizeAndTime(path)
        if now.sameStat(recorded) { return .unchanged }
        guard now.size == recorded.size, let hash = recorded.sha256 else { return .changed }
        var current = now
        current.sha256 = try sha256(path)
        return current.sha256 == hash ? .touched(current) : .changed
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func errnoText() -> String { String(cString: strerror(errno)).lowercased() }
}
