/// FaceScope's errors: each says what went wrong and, where possible, how to fix it, in one
/// sentence fit to print after `error: `.
public enum FaceScopeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Bad flags, settings or arguments (exit status 2).
    case usage(String)
    /// Redis could not be reached, refused us, or lacks what FaceScope needs.
    case redis(String)
    /// A stored document or a reply had an unexpected shape.
    case data(String)
    /// Something was asked for that does not exist.
    case notFound(String)
    /// A file could not be read or used.
    case file(path: String, reason: String)
    /// The inference server failed or refused.
    case inference(String)
    /// A service is unavailable for now (no answer, HTTP 503, Redis out of memory): the same
    /// request may succeed later, so a batch pauses and retries instead of failing each item.
    case unavailable(String)

    public var description: String {
        switch self {
        case .usage(let m), .redis(let m), .data(let m), .notFound(let m), .inference(let m), .unavailable(let m):
            return m
        case .file(let path, let reason): return "\(TerminalText.sanitize(path)): \(reason)"
        }
    }

    /// The process exit status for this error: 2 for usage errors, 1 otherwise.
    public var exitCode: Int32 {
        if case .usage = self { return 2 }
        return 1
    }
}
