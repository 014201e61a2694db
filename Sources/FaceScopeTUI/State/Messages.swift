import FaceScopeCore

/// A page of the list to fetch from the store.
struct PageRequest: Sendable, Equatable {
    /// Answers carrying another token are stale and dropped.
    var token: UInt64
    var page: Int
    var offset: Int
    var limit: Int
    var source: ListSource
}

/// A picture to render for the preview area.
struct PreviewRequest: Sendable, Equatable {
    var token: UInt64
    var document: ImageDocument
    /// The cells available (the picture is fitted inside, aspect ratio kept).
    var area: Rect
    var boxes: Bool
    var landmarks: Bool
    /// The face to zoom on (face-detail view), nil for the whole image.
    var focus: Int?
    /// The names of the labels of the image's faces, written on their boxes.
    var names: [Int: String] = [:]
}

/// The images a detection run works on.
enum DetectionTarget: Sendable, Equatable {
    /// These stored filenames.
    case files([String])
    /// Every image of a listing except the pks in `except`.
    case all(source: ListSource, except: Set<String>)
}

/// A re-detection to start.
struct DetectionRequest: Sendable, Equatable {
    var token: UInt64
    var target: DetectionTarget
    var mode: FaceMergeMode
}

/// A change to the people (labels) to make in the store.
enum PeopleChange: Sendable, Equatable {
    /// Give `label` this name (empty removes it).
    case rename(label: Int, name: String)
    /// Give every face of `label` the label `into`.
    case merge(label: Int, into: Int)
    /// Give one face the person `person` names (a label, a name or the unique start of one).
    case move(face: StoredFace, to: String)
    /// "Not this person": give one face a new label of its own, kept apart by clustering.
    case apart(face: StoredFace)
    /// Undo the last people edit of this browser session (the store worker keeps the records).
    case undo
}

/// A "more like this" search: the faces nearest to one face's descriptor.
struct SimilarRequest: Sendable, Equatable {
    var token: UInt64
    var embedding: [Float]
    /// The face itself, left out of the answer.
    var facePK: String?
    var limit: Int
}

/// What the browser asks the outside world to do; the app carries effects out on background
/// workers and feeds their answers back as ``WorkResult``s.
enum Effect: Sendable, Equatable {
    case loadPage(PageRequest)
    case loadPreview(PreviewRequest)
    /// Check that Redis answers and count the documents.
    case pingRedis
    /// Check that Triton answers.
    case checkTriton
    case startDetection(DetectionRequest)
    case cancelDetection
    /// Read every person (label) with face counts and an example face.
    case loadPeople(token: UInt64)
    /// Rename or merge people; answered with ``WorkResult/peopleChanged(token:message:error:)``.
    case changePeople(token: UInt64, change: PeopleChange)
    case findSimilar(SimilarRequest)
    /// Pairs of people whose faces are close; answered with ``WorkResult/suggestions(token:found:)``.
    case loadSuggestions(token: UInt64)
    /// A page of a person's images for the face grid; answered with ``WorkResult/facePage(token:page:rows:total:)``.
    case loadFacePage(PageRequest)
    /// Face thumbnails for the grid's cells; each answered with ``WorkResult/thumbnail(token:key:content:)``.
    case loadThumbnails(ThumbnailRequest)
    /// Check whether these stored images' files exist; answered with ``WorkResult/filesChecked(_:)``.
    case checkFiles([String])
    /// Find where this image is in the listing of every image in this order (to keep it
    /// highlighted when a search is left or the order changes); answered with
    /// ``WorkResult/located(token:index:)``.
    case locate(token: UInt64, document: ImageDocument, order: ListOrder, descending: Bool)
    /// Open this stored image's file in the system viewer.
    case openImage(filename: String)
    /// Put this stored image's path on the terminal's clipboard (OSC 52).
    case copyPath(filename: String)
    /// Repaint the whole terminal (it may hold garbage).
    case redraw
    case quit
}

/// An answer from a background worker.
enum WorkResult: Sendable, Equatable {
    case page(token: UInt64, page: Int, rows: [ImageDocument], total: Int, closeMatches: Bool = false)
    case pageFailed(token: UInt64, page: Int, error: String)
    case redisPing(total: Int?, error: String?)
    /// The detection queue's progress for the status line (nil: no queue running).
    case queueProgress(String?)
    case triton(up: Bool, detail: String)
    case preview(token: UInt64, content: PreviewContent)
    case detectionStarted(token: UInt64, total: Int)
    case detectionImage(token: UInt64, document: ImageDocument)
    case detectionFailed(token: UInt64, file: String, error: String)
    case detectionFinished(token: UInt64, cancelled: Bool, error: String?)
    case people(token: UInt64, people: [Person])
    /// Every person's name by label (read with the pages and the people).
    case names([Int: String])
    case peopleFailed(token: UInt64, error: String)
    /// A rename or merge was done (`message` says what) or failed (`error`).
    case peopleChanged(token: UInt64, message: String, error: String?)
    case similar(token: UInt64, faces: [SimilarFace])
    /// The merge suggestions.
    case suggestions(token: UInt64, found: FoundSuggestions)
    case suggestionsFailed(token: UInt64, error: String)
    /// A page of the face grid's person's images.
    case facePage(token: UInt64, page: Int, rows: [ImageDocument], total: Int)
    case facePageFailed(token: UInt64, page: Int, error: String)
    /// One face thumbnail of the grid.
    case thumbnail(token: UInt64, key: String, content: PreviewContent)
    case similarFailed(token: UInt64, error: String)
    /// Where a located image is in its listing (nil: not found).
    case located(token: UInt64, index: Int?)
    /// A line for the status line (an image viewer that failed).
    case notice(String, isError: Bool)
    /// Filename → whether its file is missing.
    case filesChecked([String: Bool])
}

/// The state of a service as the status line shows it.
enum ServiceStatus: Sendable, Equatable {
    case unknown
    case connecting
    case up(String)
    case down(String)

    /// Whether the service answered last time.
    var isUp: Bool {
        if case .up = self { return true }
        return false
    }

    /// Whether the service failed last time.
    var isDown: Bool {
        if case .down = self { return true }
        return false
    }
}
