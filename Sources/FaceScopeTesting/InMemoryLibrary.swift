import FaceScopeCore
import Synchronization

/// An in-memory library (`PhotoLibrary`, and `DocumentStore` and `FaceVectorStore` below) with the store's orders and rules (byte order of filenames, face
/// counts then filename, words of filenames, people as labels with names), and failures that can
/// be planted: the next calls throw as if Redis had gone away.
public final class InMemoryLibrary: PhotoLibrary {
    fileprivate struct State {
        var documents: [ImageDocument]
        var names: [Int: String]
        var failures = 0
        var calls = 0
        var keys = ULIDGenerator()
    }

    private let state: Mutex<State>

    public init(_ documents: [ImageDocument], names: [Int: String] = [:]) {
        state = Mutex(State(documents: documents, names: names))
    }

    /// The next `count` calls fail with `StoreError.unreachable`.
    public func failNext(_ count: Int) { state.withLock { $0.failures = count } }

    /// How many calls were answered (failed ones included).
    public var calls: Int { state.withLock { $0.calls } }

    /// The documents as they are now.
    public var documents: [ImageDocument] { state.withLock { $0.documents } }

    fileprivate func answer<T>(_ body: (inout State) -> T) throws(StoreError) -> T {
        let result: Result<T, StoreError> = state.withLock { state in
            state.calls += 1
            if state.failures > 0 {
                state.failures -= 1
                return .failure(.unreachable("Redis is not reachable (connection refused)"))
            }
            return .success(body(&state))
        }
        return try result.get()
    }

    static func precedes(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(b.utf8) }

    static func sorted(_ documents: [ImageDocument], _ order: ListOrder, descending: Bool) -> [ImageDocument] {
        let ascending = documents.sorted { a, b in
            if order == .faces, a.faceCount != b.faceCount { return a.faceCount < b.faceCount }
            return precedes(a.filename, b.filename)
        }
        return descending ? ascending.reversed() : ascending
    }

    public func page(of source: ListSource, offset: Int, limit: Int) throws(StoreError) -> ListingPage {
        try answer { state in
            let listing: [ImageDocument]
            switch source {
            case .all(let order, let descending):
                listing = Self.sorted(state.documents, order, descending: descending)
            case .search(let text):
                let plan = SearchPlan(text)
                listing = Self.sorted(
                    state.documents.filter { plan.matches(name: $0.filename) }, .filename, descending: false)
            case .person(let label):
                listing = Self.sorted(
                    state.documents.filter { ($0.faces ?? []).contains { $0.label == label } }, .filename,
                    descending: false)
            case .image(let filename):
                listing = state.documents.filter { $0.filename == filename }
            }
            let start = min(max(0, offset), listing.count)
            let end = min(listing.count, start + max(0, limit))
            return ListingPage(rows: Array(listing[start..<end]), total: listing.count)
        }
    }

    public func count() throws(StoreError) -> Int { try answer { $0.documents.count } }

    public func position(of document: ImageDocument, order: ListOrder, descending: Bool) throws(StoreError) -> Int {
        try answer { state in
            Self.sorted(state.documents, order, descending: descending).firstIndex { $0.filename == document.filename }
                ?? 0
        }
    }

    public func peopleNames() throws(StoreError) -> [Int: String] { try answer { $0.names } }

    public func people() throws(StoreError) -> [Person] {
        try answer { state in
            var tally = PeopleTally(names: state.names)
            for document in state.documents { tally.add(document) }
            return tally.people
        }
    }

    public func rename(label: Int, to name: String) throws(StoreError) {
        try answer { $0.names[label] = name.isEmpty ? nil : name }
    }

    public func merge(label: Int, into: Int) throws(StoreError) -> Int {
        try answer { state in
            guard label != into else { return 0 }
            var moved = 0
            for d in state.documents.indices {
                guard var faces = state.documents[d].faces else { continue }
                for f in faces.indices where faces[f].label == label {
                    faces[f].label = into
                    moved += 1
                }
                state.documents[d].faces = faces
            }
            if state.names[into] == nil { state.names[into] = state.names[label] }
            state.names[label] = nil
            return moved
        }
    }

    public func similarFaces(to embedding: [Float], limit: Int, excludingFace facePK: String?) throws(StoreError)
        -> [SimilarFace]
    {
        try answer { state in
            var found: [SimilarFace] = []
            for document in state.documents {
                for (i, face) in (document.faces ?? []).enumerated() {
                    guard let other = face.embedding, face.pk != facePK else { continue }
                    let stored = StoredFace(
                        documentPK: document.pk, filename: document.filename, faceIndex: i, face: face)
                    found.append(SimilarFace(stored: stored, distance: FaceIdentities.distance(embedding, other)))
                }
            }
            return Array(found.sorted { $0.distance < $1.distance }.prefix(limit))
        }
    }

    public func queueStatusText() -> String? { nil }

    /// Nothing to fill: the twin derives what it needs from each document as it reads.
    public func fillDerivedFields() throws(StoreError) {}
}

/// The library as a document store (one document per filename, the stored pk kept).
extension InMemoryLibrary: DocumentStore {
    public func documents(filenames: [String]) throws(StoreError) -> [String: ImageDocument] {
        try answer { state in
            var found: [String: ImageDocument] = [:]
            for document in state.documents where filenames.contains(document.filename) {
                found[document.filename] = document
            }
            return found
        }
    }

    public func saveAll(_ documents: [ImageDocument]) throws(StoreError) -> [Result<ImageDocument, StoreError>] {
        try answer { state in
            documents.map { document in
                var saved = document
                if let i = state.documents.firstIndex(where: { $0.filename == document.filename }) {
                    saved.pk = state.documents[i].pk
                    saved.assignMissingKeys(using: &state.keys)
                    state.documents[i] = saved
                } else {
                    saved.assignMissingKeys(using: &state.keys)
                    state.documents.append(saved)
                }
                return .success(saved)
            }
        }
    }

    @discardableResult
    public func recordSources(_ items: [(pk: String, filename: String, source: FileSource)]) throws(StoreError)
        -> Int
    {
        try answer { state in
            var updated = 0
            for item in items {
                guard let i = state.documents.firstIndex(where: { $0.pk == item.pk }) else { continue }
                state.documents[i].source = item.source
                updated += 1
            }
            return updated
        }
    }
}

/// The library as clustering's face vectors (the descriptors inside the documents).
extension InMemoryLibrary: FaceVectorStore {
    private static func vectors(_ documents: [ImageDocument]) -> [FaceVector] {
        documents.flatMap { document in
            (document.faces ?? []).compactMap { face in
                face.embedding.map {
                    FaceVector(
                        facePK: face.pk, documentPK: document.pk, label: face.label, labelFixed: face.labelFixed,
                        embedding: $0)
                }
            }
        }
    }

    public func forEachFaceVector(unlabelledOnly: Bool, _ body: ([FaceVector]) throws(StoreError) -> Void)
        throws(StoreError)
    {
        let faces = try answer { Self.vectors($0.documents) }.filter { !unlabelledOnly || $0.label == nil }
        if !faces.isEmpty { try body(faces) }
    }

    public func setFaceLabels(_ changes: [FaceLabelChange]) throws(StoreError) -> Int {
        try answer { state in
            var updated = 0
            for change in changes {
                guard let d = state.documents.firstIndex(where: { $0.pk == change.documentPK }),
                    let f = state.documents[d].faces?.firstIndex(where: { $0.pk == change.facePK })
                else { continue }
                state.documents[d].faces?[f].label = change.label
                updated += 1
            }
            return updated
        }
    }

    public func nearestLabelledFaces(to embedding: [Float], k: Int) throws(StoreError)
        -> [(face: FaceVector, distance: Float)]
    {
        nearestLabelled(try answer { Self.vectors($0.documents) }, to: embedding, k: k)
    }

    public func largestLabel() throws(StoreError) -> Int? {
        try answer { state in
            (Self.vectors(state.documents).compactMap(\.label) + Array(state.names.keys)).max()
        }
    }
}
