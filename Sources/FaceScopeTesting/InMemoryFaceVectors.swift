import FaceScopeCore
import Synchronization

/// An in-memory `FaceVectorStore`: faces with descriptors and labels, batches of a chosen size,
/// and every label change recorded.
public final class InMemoryFaceVectors: FaceVectorStore {
    private struct State {
        var faces: [FaceVector]
        var writes: [[FaceLabelChange]] = []
    }

    private let state: Mutex<State>
    private let batchSize: Int

    public init(_ faces: [FaceVector], batchSize: Int = 1000) {
        state = Mutex(State(faces: faces))
        self.batchSize = max(1, batchSize)
    }

    /// The faces as they are now.
    public var faces: [FaceVector] { state.withLock { $0.faces } }

    /// Each `setFaceLabels` call's changes, in order.
    public var writes: [[FaceLabelChange]] { state.withLock { $0.writes } }

    public func forEachFaceVector(unlabelledOnly: Bool, _ body: ([FaceVector]) throws(StoreError) -> Void)
        throws(StoreError)
    {
        let selected = state.withLock { state in state.faces.filter { !unlabelledOnly || $0.label == nil } }
        var start = 0
        while start < selected.count {
            let end = min(selected.count, start + batchSize)
            try body(Array(selected[start..<end]))
            start = end
        }
    }

    public func nearestLabelledFaces(to embedding: [Float], k: Int) throws(StoreError)
        -> [(face: FaceVector, distance: Float)]
    {
        nearestLabelled(state.withLock { $0.faces }, to: embedding, k: k)
    }

    public func largestLabel() throws(StoreError) -> Int? {
        state.withLock { $0.faces.compactMap(\.label).max() }
    }

    public func setFaceLabels(_ changes: [FaceLabelChange]) throws(StoreError) -> Int {
        state.withLock { state in
            state.writes.append(changes)
            var updated = 0
            for change in changes {
                guard let i = state.faces.firstIndex(where: { $0.facePK == change.facePK }) else { continue }
                state.faces[i].label = change.label
                updated += 1
            }
            return updated
        }
    }
}

/// The labelled faces nearest to a descriptor, closest first, at most `k` (what the store's KNN
/// answers, by brute force).
func nearestLabelled(_ faces: [FaceVector], to embedding: [Float], k: Int) -> [(face: FaceVector, distance: Float)] {
    let scored = faces.filter { $0.label != nil }.map {
        (face: $0, distance: FaceIdentities.distance(embedding, $0.embedding))
    }
    return Array(scored.sorted { $0.distance < $1.distance }.prefix(max(1, k)))
}
