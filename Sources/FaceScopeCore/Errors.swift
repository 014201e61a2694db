/// Errors by layer. Each layer throws its own type: the image decoders an ``ImageError``, the
/// inference client an ``InferenceError``, the store (Redis and its twins) a ``StoreError``.
/// The use cases and the commands throw ``FaceScopeError``, which wraps them; messages and exit
/// statuses are decided there, at the edge, from the kinds, never from message text.

/// Why an image file could not be used: the file and the cause (thrown by FaceScopeImaging).
public struct ImageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file as it was named to the decoder (a path or a display name).
    public let path: String
    /// The cause, in words ("truncated JPEG", "not an image: ...").
    public let reason: String

    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    public var description: String { "\(TerminalText.sanitize(path)): \(reason)" }
}

/// Why the inference server could not give an answer (thrown by FaceScopeTriton and by the
/// decoders of its outputs).
public struct InferenceError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// No server answered (refused, timed out, 503 not ready): the same request may succeed
        /// later, so a batch pauses and retries instead of failing each item.
        case unavailable
        /// The server answered with an error for this request.
        case rejected
        /// The request failed on the way and is not tried again (a reply too slow or cut off).
        case transport
        /// The reply did not have the shape the model contract promises.
        case malformedReply
        /// The server's model does not match the contract (names, shapes, datatypes).
        case contractMismatch
        /// Something on this side failed (libcurl handle, shared memory, a tensor conversion).
        case local
        /// The server address is not valid (a usage error).
        case invalidEndpoint
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func unavailable(_ m: String) -> InferenceError { InferenceError(.unavailable, m) }
    public static func rejected(_ m: String) -> InferenceError { InferenceError(.rejected, m) }
    public static func transport(_ m: String) -> InferenceError { InferenceError(.transport, m) }
    public static func malformedReply(_ m: String) -> InferenceError { InferenceError(.malformedReply, m) }
    public static func contractMismatch(_ m: String) -> InferenceError { InferenceError(.contractMismatch, m) }
    public static func local(_ m: String) -> InferenceError { InferenceError(.local, m) }
    public static func invalidEndpoint(_ m: String) -> InferenceError { InferenceError(.invalidEndpoint, m) }

    public var description: String { message }
}

/// Why the store could not do what was asked (thrown by FaceScopeRedis and the in-memory twins).
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// Redis could not be reached or the connection broke.
        case unreachable
        /// Redis is there but cannot take writes for now (out of memory): a batch pauses and
        /// retries instead of failing each item.
        case unavailable
        /// Redis answered with an error (a refused command, a missing module, no permission).
        case refused
        /// A stored document or a reply had an unexpected shape.
        case malformed
        /// Something asked for does not exist (a person, an image).
        case notFound
        /// The request itself is not valid (an empty name, a bad key prefix): a usage error.
        case invalidRequest
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public static func unreachable(_ m: String) -> StoreError { StoreError(.unreachable, m) }
    public static func unavailable(_ m: String) -> StoreError { StoreError(.unavailable, m) }
    public static func refused(_ m: String) -> StoreError { StoreError(.refused, m) }
    public static func malformed(_ m: String) -> StoreError { StoreError(.malformed, m) }
    public static func notFound(_ m: String) -> StoreError { StoreError(.notFound, m) }
    public static func invalidRequest(_ m: String) -> StoreError { StoreError(.invalidRequest, m) }

    public var description: String { message }
}

/// Why analysing one image failed: its file, or the inference server (the ``ImageAnalyzer`` port).
public enum AnalysisError: Error, Sendable, Equatable, CustomStringConvertible {
    case image(ImageError)
    case inference(InferenceError)

    public var description: String {
        switch self {
        case .image(let e): return e.description
        case .inference(let e): return e.description
        }
    }
}

/// The error of the use cases and commands: a usage or lookup problem of their own, or a layer's
/// error carried as it was thrown. The edge turns it into a message and an exit status.
public enum FaceScopeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Bad flags, settings or arguments (exit status 2).
    case usage(String)
    /// Something was asked for that does not exist.
    case notFound(String)
    /// A file that is not an image could not be read or written (an import file, an export target).
    case file(path: String, reason: String)
    /// Input the command was given had an unexpected shape (an import line, a reply of our own).
    case data(String)
    /// An image could not be used.
    case image(ImageError)
    /// The inference server failed, refused or is away.
    case inference(InferenceError)
    /// The store failed, refused or is away.
    case store(StoreError)

    public init(_ error: AnalysisError) {
        switch error {
        case .image(let e): self = .image(e)
        case .inference(let e): self = .inference(e)
        }
    }

    /// Any layer's error as FaceScope's own; nil for errors from elsewhere.
    public static func from(_ error: any Error) -> FaceScopeError? {
        switch error {
        case let e as FaceScopeError: return e
        case let e as StoreError: return .store(e)
        case let e as InferenceError: return .inference(e)
        case let e as ImageError: return .image(e)
        case let e as AnalysisError: return FaceScopeError(e)
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .usage(let m), .data(let m), .notFound(let m): return m
        case .file(let path, let reason): return "\(TerminalText.sanitize(path)): \(reason)"
        case .image(let e): return e.description
        case .inference(let e): return e.description
        case .store(let e): return e.description
        }
    }

    /// The process exit status for this error: 2 for usage errors (a bad server address, an
    /// invalid request to the store included), 1 otherwise.
    public var exitCode: Int32 {
        switch self {
        case .usage: return 2
        case .inference(let e) where e.kind == .invalidEndpoint: return 2
        case .store(let e) where e.kind == .invalidRequest: return 2
        default: return 1
        }
    }

    /// Whether the service may come back (Triton away or not ready, Redis out of memory): a batch
    /// pauses and tries again instead of failing every item.
    public var isTransient: Bool {
        switch self {
        case .inference(let e): return e.kind == .unavailable
        case .store(let e): return e.kind == .unavailable
        default: return false
        }
    }
}

/// Evaluates `body`, carrying a store error as ``FaceScopeError/store(_:)``.
@inlinable
public func fromStore<T>(_ body: @autoclosure () throws(StoreError) -> T) throws(FaceScopeError) -> T {
    do throws(StoreError) { return try body() } catch { throw .store(error) }
}

/// Evaluates `body`, carrying an inference error as ``FaceScopeError/inference(_:)``.
@inlinable
public func fromInference<T>(_ body: @autoclosure () throws(InferenceError) -> T) throws(FaceScopeError) -> T {
    do throws(InferenceError) { return try body() } catch { throw .inference(error) }
}

/// Evaluates `body`, carrying an analysis error as the matching ``FaceScopeError``.
@inlinable
public func fromAnalysis<T>(_ body: @autoclosure () throws(AnalysisError) -> T) throws(FaceScopeError) -> T {
    do throws(AnalysisError) { return try body() } catch { throw FaceScopeError(error) }
}

extension AnalysisError {
    /// Runs `body`, carrying an image error as ``AnalysisError/image(_:)``.
    @inlinable
    public static func decoding<T>(_ body: () throws(ImageError) -> T) throws(AnalysisError) -> T {
        do throws(ImageError) { return try body() } catch { throw .image(error) }
    }

    /// Runs `body`, carrying an inference error as ``AnalysisError/inference(_:)``.
    @inlinable
    public static func inferring<T>(_ body: () throws(InferenceError) -> T) throws(AnalysisError) -> T {
        do throws(InferenceError) { return try body() } catch { throw .inference(error) }
    }
}
