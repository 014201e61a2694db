/// The domain of identities and listings: what the store answers and the front ends show.

/// How a listing is ordered.
public enum ListOrder: String, Sendable, CaseIterable {
    /// By filename, in byte order (so `B.jpg` comes before `a.jpg`).
    case filename
    /// By number of faces, ties by filename.
    case faces
}

/// One stored face with what recognition needs.
public struct StoredFace: Sendable, Equatable {
    public var documentPK: String
    public var filename: String
    public var faceIndex: Int
    public var face: Face

    public init(documentPK: String, filename: String, faceIndex: Int, face: Face) {
        self.documentPK = documentPK
        self.filename = filename
        self.faceIndex = faceIndex
        self.face = face
    }
}

/// A face found near another, with its descriptor distance.
public struct SimilarFace: Sendable, Equatable {
    public var stored: StoredFace
    public var distance: Float

    public init(stored: StoredFace, distance: Float) {
        self.stored = stored
        self.distance = distance
    }
}

/// A person: a label, its name if one was given, and how many faces carry it.
public struct Person: Sendable, Equatable {
    public var label: Int
    public var name: String?
    public var faces: Int
    /// A face of this person (the most confident), for thumbnails.
    public var example: StoredFace?

    public init(label: Int, name: String?, faces: Int, example: StoredFace?) {
        self.label = label
        self.name = name
        self.faces = faces
        self.example = example
    }
}
