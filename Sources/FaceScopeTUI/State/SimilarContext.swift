import FaceScopeCore

/// The face "more like this" started from.
struct SimilarOrigin: Sendable, Equatable {
    var filename: String
    var face: Int
}

/// The "more like this" view: the faces nearest to one face, and the request in flight.
struct SimilarContext: Sendable {
    /// The view's keys.
    static let bindings: [KeyBinding] = [
        KeyBinding([.character("j"), .down], .moveDown, "next face", in: [.similar]),
        KeyBinding([.character("k"), .up], .moveUp, "previous face", in: [.similar]),
        KeyBinding([.enter], .jumpToFace, "show that face in its image (Esc comes back)", in: [.similar]),
        KeyBinding([.escape, .character("q")], .closeView, "back to the face", in: [.similar]),
    ]

    /// The faces most like `origin`, nearest first, all in one page.
    private(set) var list = PagedList<SimilarFace>(pageSize: Browser.wholeList)
    private(set) var origin: SimilarOrigin?
    private(set) var error: String?
    private var token: UInt64?

    /// Starts a search from a face (the answer carries `token`).
    mutating func start(
        token: UInt64, origin: SimilarOrigin, embedding: [Float], facePK: String?, limit: Int
    ) -> Effect {
        self.token = token
        list = PagedList(pageSize: Browser.wholeList)
        error = nil
        self.origin = origin
        return .findSimilar(SimilarRequest(token: token, embedding: embedding, facePK: facePK, limit: limit))
    }

    /// The faces came; false when the answer was overtaken.
    mutating func received(token: UInt64, faces: [SimilarFace], viewHeight: Int) -> Bool {
        guard token == self.token else { return false }
        self.token = nil
        list.store(page: 0, rows: faces, total: faces.count, viewHeight: viewHeight)
        return true
    }

    /// The search failed; false when the answer was overtaken.
    mutating func failed(token: UInt64, error: String, viewHeight: Int) -> Bool {
        guard token == self.token else { return false }
        self.token = nil
        self.error = error
        list.setTotal(0, viewHeight: viewHeight)
        return true
    }

    /// Moves the highlight.
    mutating func step(_ action: Action, viewHeight: Int) { Browser.step(&list, action, viewHeight: viewHeight) }
}
