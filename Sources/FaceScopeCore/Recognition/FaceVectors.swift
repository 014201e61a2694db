/// One face as clustering sees it: where it is, its label, and its descriptor.
public struct FaceVector: Sendable, Equatable {
    public var facePK: String
    public var documentPK: String
    public var label: Int?
    /// The label was set by hand (see `Face.labelFixed`): clustering keeps it.
    public var labelFixed: Bool
    public var embedding: [Float]

    public init(facePK: String, documentPK: String, label: Int?, labelFixed: Bool = false, embedding: [Float]) {
        self.facePK = facePK
        self.documentPK = documentPK
        self.label = label
        self.labelFixed = labelFixed
        self.embedding = embedding
    }
}

/// A new label for one face (nil removes it).
public struct FaceLabelChange: Sendable, Equatable {
    public var facePK: String
    public var documentPK: String
    public var label: Int?

    public init(facePK: String, documentPK: String, label: Int?) {
        self.facePK = facePK
        self.documentPK = documentPK
        self.label = label
    }
}

/// Where clustering reads faces' descriptors and writes their labels: the Redis store, or an
/// in-memory twin in tests.
public protocol FaceVectorStore: Sendable {
    /// Calls `body` with batches of the faces that have a descriptor (only the unlabelled ones when
    /// `unlabelledOnly`).
    func forEachFaceVector(unlabelledOnly: Bool, _ body: ([FaceVector]) throws(StoreError) -> Void)
        throws(StoreError)

    /// Sets faces' labels. Faces removed or re-detected in the meantime are left alone; returns how
    /// many faces were updated.
    func setFaceLabels(_ changes: [FaceLabelChange]) throws(StoreError) -> Int

    /// Labelled faces near a descriptor, closest first, at most `k` (through the store's vector
    /// index: no scan), with their distances.
    func nearestLabelledFaces(to embedding: [Float], k: Int) throws(StoreError) -> [(
        face: FaceVector, distance: Float
    )]

    /// The largest label in use: any face's, or one a name is given to (a person whose faces were
    /// all replaced keeps the name; a new person must not inherit it). nil when there is none.
    func largestLabel() throws(StoreError) -> Int?
}
