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

/// Which list the browser shows.
public enum ListSource: Sendable, Equatable {
    /// Every stored image in this order.
    case all(order: ListOrder, descending: Bool)
    /// The images whose filename matches a full-text query, by filename.
    case search(String)
    /// The images with a face of this label (a person), by filename.
    case person(label: Int)
    /// One image, by filename (a face picked from "more like this").
    case image(filename: String)
}

extension ListSource {
    /// Whether the listing reads the fields FaceScope derives from each document (the words of
    /// its filename, its face-count order).
    public var readsDerivedFields: Bool {
        switch self {
        case .search: return true
        case .all(let order, _): return order == .faces
        case .person, .image: return false
        }
    }
}

/// A page of a listing and the listing's length.
public struct ListingPage: Sendable, Equatable {
    public var rows: [ImageDocument]
    public var total: Int
    /// Nothing matched a search exactly: these are close matches (one typo per word).
    public var closeMatches: Bool

    public init(rows: [ImageDocument], total: Int, closeMatches: Bool = false) {
        self.rows = rows
        self.total = total
        self.closeMatches = closeMatches
    }
}

/// What the browser reads and changes in the library: pages of listings, people, similar faces.
/// The Redis store is the adapter; `FaceScopeTesting` has an in-memory twin.
public protocol PhotoLibrary: Sendable {
    /// A page of a listing and the listing's length.
    func page(of source: ListSource, offset: Int, limit: Int) throws(StoreError) -> ListingPage
    /// How many images are stored.
    func count() throws(StoreError) -> Int
    /// How many images sort before `document` in the listing of every image.
    func position(of document: ImageDocument, order: ListOrder, descending: Bool) throws(StoreError) -> Int
    /// Names given to labels.
    func peopleNames() throws(StoreError) -> [Int: String]
    /// Every person with a face count, most faces first.
    func people() throws(StoreError) -> [Person]
    /// Names a label (an empty name removes it).
    func rename(label: Int, to name: String) throws(StoreError)
    /// Gives every face of `label` the label `into`; returns how many faces moved.
    func merge(label: Int, into: Int) throws(StoreError) -> Int
    /// The faces nearest to a descriptor, closest first.
    func similarFaces(to embedding: [Float], limit: Int, excludingFace facePK: String?) throws(StoreError)
        -> [SimilarFace]
    /// The detection queue's progress in a few words, nil when there is none (or no queue).
    func queueStatusText() -> String?
    /// Gives documents other tools wrote the fields FaceScope's searches and face-count order read
    /// (an explicit step before such reads; the reads themselves change nothing).
    func fillDerivedFields() throws(StoreError)
}

/// People counted from documents: each label's faces and its most confident face, kept as the
/// documents come (page by page: only the per-person tallies stay in memory).
public struct PeopleTally: Sendable {
    private let names: [Int: String]
    private var byLabel: [Int: Person] = [:]

    /// A tally naming people from `names` (label → name).
    public init(names: [Int: String]) { self.names = names }

    /// Counts a document's labelled faces.
    public mutating func add(_ document: ImageDocument) {
        for (i, face) in (document.faces ?? []).enumerated() {
            guard let label = face.label else { continue }
            var person = byLabel[label] ?? Person(label: label, name: names[label], faces: 0, example: nil)
            person.faces += 1
            if person.example == nil || (person.example?.face.probability ?? 0) < face.probability {
                person.example = StoredFace(
                    documentPK: document.pk, filename: document.filename, faceIndex: i, face: face)
            }
            byLabel[label] = person
        }
    }

    /// Everyone counted, most faces first (ties: the smaller label first).
    public var people: [Person] { byLabel.values.sorted { ($0.faces, -$0.label) > ($1.faces, -$1.label) } }
}
