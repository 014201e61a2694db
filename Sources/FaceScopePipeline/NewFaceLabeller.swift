import FaceScopeCore
import Synchronization

/// Labels the faces a detection run stores as the documents land: faces with a descriptor and no
/// label are collected and, every `chunk` faces and at the end, given labels by
/// `PeopleClustering.labelNew` (their neighbours through the store's vector index), so memory
/// holds one chunk however long the run, and later chunks see the labels earlier ones got.
public final class NewFaceLabeller: Sendable {
    private struct State {
        var pending: [FaceVector] = []
        /// Faces considered and labels written (`people` is left 0: chunks are labelled apart).
        var summary = ClusterSummary(faces: 0, people: 0, updated: 0)
        var error: FaceScopeError?
    }

    private let store: any FaceVectorStore
    private let threshold: Float
    private let chunk: Int
    private let state = Mutex(State())

    public init(store: any FaceVectorStore, threshold: Float, chunk: Int = 2000) {
        self.store = store
        self.threshold = threshold
        self.chunk = max(1, chunk)
    }

    /// Takes a stored document's new faces; labels a chunk when one is full.
    public func stored(_ document: ImageDocument) {
        let faces = (document.faces ?? []).compactMap { face -> FaceVector? in
            guard face.label == nil, let embedding = face.embedding, !face.pk.isEmpty else { return nil }
            return FaceVector(facePK: face.pk, documentPK: document.pk, label: nil, embedding: embedding)
        }
        guard !faces.isEmpty else { return }
        state.withLock { state in
            state.pending += faces
            if state.pending.count >= chunk { label(&state) }
        }
    }

    /// Labels what is left; the tally of every chunk, or the first error.
    public func finish() -> Result<ClusterSummary, FaceScopeError> {
        state.withLock { state in
            label(&state)
            if let error = state.error { return .failure(error) }
            return .success(state.summary)
        }
    }

    private func label(_ state: inout State) {
        guard !state.pending.isEmpty, state.error == nil else { return }
        let faces = state.pending
        state.pending = []
        switch Result(catching: { () throws(FaceScopeError) in
            try fromStore(PeopleClustering.labelNew(faces, store: store, threshold: threshold))
        }) {
        case .success(let done):
            state.summary.faces += done.faces
            state.summary.updated += done.updated
        case .failure(let error):
            state.error = error
        }
    }
}
