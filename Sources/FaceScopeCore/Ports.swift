/// Where image documents live: the Redis store, or an in-memory twin in tests. A detection run
/// reads and writes through this port alone.
public protocol DocumentStore: Sendable {
    /// The documents stored under these filenames (exact, byte for byte), by filename.
    func documents(filenames: [String]) throws(StoreError) -> [String: ImageDocument]

    /// Stores documents, one per filename: a document for a filename already stored takes the
    /// stored pk. One result per document, in order; a failure of one does not stop the others.
    func saveAll(_ documents: [ImageDocument]) throws(StoreError) -> [Result<ImageDocument, StoreError>]

    /// Records a new `source` (size, time, digest) for stored documents whose file was touched but
    /// not changed. Returns how many were updated.
    @discardableResult
    func recordSources(_ items: [(pk: String, filename: String, source: FileSource)]) throws(StoreError) -> Int
}

/// An image file to process: where it is, and the name it is stored under.
public struct ImageFile: Sendable, Equatable {
    /// The path to open.
    public var path: String
    /// The stored filename: the path relative to the images folder (absolute when the file lies
    /// outside it).
    public var filename: String

    public init(path: String, filename: String) {
        self.path = path
        self.filename = filename
    }
}

/// Turns one image file into its document (faces, landmarks, descriptors): the Triton pipeline
/// (`DetectionPipeline`), or an in-memory twin in tests.
public protocol ImageAnalyzer: Sendable {
    func analyze(_ file: ImageFile) throws(AnalysisError) -> ImageDocument
}
