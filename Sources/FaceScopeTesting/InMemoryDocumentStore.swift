import FaceScopeCore
import Synchronization

/// An in-memory `DocumentStore` with the Redis store's rules: one document per filename (byte
/// for byte), a document saved for a stored filename takes the stored pk, missing keys get
/// ULIDs. Failures can be planted to test what callers do with them.
public final class InMemoryDocumentStore: DocumentStore {
    private struct State {
        var byFilename: [String: ImageDocument] = [:]
        var failing: [String: StoreError] = [:]
        var failWholeSave: [StoreError] = []
        var saveBatches: [[String]] = []
        var keys = ULIDGenerator()
    }

    private let state = Mutex(State())

    public init(_ documents: [ImageDocument] = []) {
        state.withLock { state in
            for var document in documents {
                document.assignMissingKeys(using: &state.keys)
                state.byFilename[document.filename] = document
            }
        }
    }

    /// Every stored document, in filename order.
    public var all: [ImageDocument] {
        state.withLock { $0.byFilename.values.sorted { $0.filename < $1.filename } }
    }

    /// The filenames of each `saveAll` call, in order.
    public var saveBatches: [[String]] { state.withLock { $0.saveBatches } }

    /// Saving `filename` fails with `error` (that document only) from now on.
    public func failSaving(_ filename: String, with error: StoreError) {
        state.withLock { $0.failing[filename] = error }
    }

    /// The next `saveAll` call fails as a whole with `error` (nothing of it is stored).
    public func failNextSave(with error: StoreError) {
        state.withLock { $0.failWholeSave.append(error) }
    }

    public func documents(filenames: [String]) throws(StoreError) -> [String: ImageDocument] {
        state.withLock { state in
            var found: [String: ImageDocument] = [:]
            for name in filenames { found[name] = state.byFilename[name] }
            return found
        }
    }

    public func saveAll(_ documents: [ImageDocument]) throws(StoreError) -> [Result<ImageDocument, StoreError>] {
        let outcome: Result<[Result<ImageDocument, StoreError>], StoreError> = state.withLock { state in
            state.saveBatches.append(documents.map(\.filename))
            if !state.failWholeSave.isEmpty { return .failure(state.failWholeSave.removeFirst()) }
            return .success(
                documents.map { document in
                    if let error = state.failing[document.filename] { return .failure(error) }
                    var saved = document
                    if let stored = state.byFilename[document.filename] { saved.pk = stored.pk }
                    saved.assignMissingKeys(using: &state.keys)
                    state.byFilename[saved.filename] = saved
                    return .success(saved)
                })
        }
        return try outcome.get()
    }

    @discardableResult
    public func recordSources(_ items: [(pk: String, filename: String, source: FileSource)]) throws(StoreError)
        -> Int
    {
        state.withLock { state in
            var updated = 0
            for item in items {
                guard var document = state.byFilename[item.filename], document.pk == item.pk else { continue }
                document.source = item.source
                state.byFilename[item.filename] = document
                updated += 1
            }
            return updated
        }
    }
}
