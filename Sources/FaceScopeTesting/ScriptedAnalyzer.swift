import FaceScopeCore
import FaceScopePipeline
import Synchronization

/// An `ImageAnalyzer` that answers from a script instead of Triton, and counts its calls.
public final class ScriptedAnalyzer: ImageAnalyzer {
    private let script: @Sendable (ImageFile) throws(AnalysisError) -> ImageDocument
    private let calls = Mutex<[String]>([])

    public init(_ script: @escaping @Sendable (ImageFile) throws(AnalysisError) -> ImageDocument) {
        self.script = script
    }

    /// The filenames analysed so far, in the order the calls started.
    public var analysed: [String] { calls.withLock { $0 } }

    public func analyze(_ file: ImageFile) throws(AnalysisError) -> ImageDocument {
        calls.withLock { $0.append(file.filename) }
        return try script(file)
    }
}
