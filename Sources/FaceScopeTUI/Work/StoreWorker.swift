import FaceScopeCore
import FaceScopeRedis
import Foundation
import Synchronization

/// Reads pages and counts from the library (Redis) on a thread of its own, with a connection of
/// its own. A failed call drops the connection; the next request opens a new one, so Redis coming
/// back is noticed by the next retry.
///
/// Unchecked: the open library (`store`) is confined to the worker's serial queue (opened, used
/// and dropped only in blocks run on `queue`); every other stored property is a constant.
final class StoreWorker: @unchecked Sendable {
    private let queue = DispatchQueue(label: "facescope.tui.redis")
    private let open: @Sendable () throws(StoreError) -> any PhotoLibrary
    private let mailbox: Mailbox
    private let latestSource = LatestRequest<ListSourceKey>()
    private let pingQueued = Flag()
    /// Touched on `queue` only.
    private var store: (any PhotoLibrary)?
    /// This session's people edits, last one last, for undo (touched on `queue` only).
    private var edits: [PeopleEdit] = []
    private static let undoDepth = 200
    /// People whose mean descriptors are closer than this are suggested for a merge.
    private let suggestionThreshold: Float
    /// How many people (those with most faces) merge suggestions compare.
    static let suggestionPeople = 500

    /// A worker on the Redis store the settings name (opened read-only); merge suggestions use
    /// the clustering threshold.
    convenience init(settings: Settings, mailbox: Mailbox) {
        self.init(mailbox: mailbox, suggestionThreshold: Float(settings.clusterThreshold)) {
            () throws(StoreError) in
            try RedisStore.open(settings: settings, access: .read)
        }
    }

    /// A worker on the library `open` opens (again after a failure).
    init(
        mailbox: Mailbox, suggestionThreshold: Float = 0.5,
        open: @escaping @Sendable () throws(StoreError) -> any PhotoLibrary
    ) {
        self.open = open
        self.mailbox = mailbox
        self.suggestionThreshold = suggestionThreshold
    }

    /// Pairs of people whose faces are close (read page by page in the store).
    func loadSuggestions(token: UInt64) {
        queue.async { [self] in
            let threshold = suggestionThreshold
            let result = withStore { store throws(StoreError) -> FoundSuggestions in
                guard let suggesting = store as? any MergeSuggesting else {
                    throw .refused("this library cannot suggest merges")
                }
                let found = try suggesting.mergeSuggestions(threshold: threshold, maxPeople: Self.suggestionPeople)
                return FoundSuggestions(
                    pairs: found.pairs.map { SuggestedPair(first: $0.first, second: $0.second, distance: $0.distance) },
                    compared: found.compared, people: found.people, threshold: threshold)
            }
            switch result {
            case .success(let found): mailbox.post(.suggestions(token: token, found: found))
            case .failure(let error): mailbox.post(.suggestionsFailed(token: token, error: error.description))
            }
        }
    }

    /// Fetches a page; skipped when another listing was asked for while it waited.
    func loadPage(_ request: PageRequest) {
        let key = ListSourceKey(request.source)
        latestSource.set(key)
        queue.async { [self] in
            guard latestSource.isLatest(key) else { return }
            let result = withStore { store throws(StoreError) in
                // Documents other tools wrote get the fields searches and the face-count order read,
                // before the first page of such a listing.
                if request.offset == 0, request.source.readsDerivedFields { try store.fillDerivedFields() }
                return try store.page(of: request.source, offset: request.offset, limit: request.limit)
            }
            switch result {
            case .success(let page):
                // The names with every page, so renames by other tools show up too.
                if let store, let names = try? store.peopleNames() { mailbox.post(.names(names)) }
                mailbox.post(
                    .page(
                        token: request.token, page: request.page, rows: page.rows, total: page.total,
                        closeMatches: page.closeMatches))
            case .failure(let error):
                mailbox.post(.pageFailed(token: request.token, page: request.page, error: error.description))
            }
        }
    }

    /// Fetches a page of a person's images for the face grid.
    func loadFacePage(_ request: PageRequest) {
        queue.async { [self] in
            let result = withStore { store throws(StoreError) in
                try store.page(of: request.source, offset: request.offset, limit: request.limit)
            }
            switch result {
            case .success(let page):
                mailbox.post(.facePage(token: request.token, page: request.page, rows: page.rows, total: page.total))
            case .failure(let error):
                mailbox.post(.facePageFailed(token: request.token, page: request.page, error: error.description))
            }
        }
    }

    /// Checks Redis and counts the documents; one check at a time.
    func ping() {
        guard pingQueued.setIfClear() else { return }
        queue.async { [self] in
            pingQueued.clear()
            switch withStore({ store throws(StoreError) in try store.count() }) {
            case .success(let total): mailbox.post(.redisPing(total: total, error: nil))
            case .failure(let error): mailbox.post(.redisPing(total: nil, error: error.description))
            }
            // The detection queue in one round trip; a queue that cannot be read shows nothing.
            if let store { mailbox.post(.queueProgress(store.queueStatusText())) }
        }
    }

    /// Reads every person with a face count and an example face.
    func loadPeople(token: UInt64) {
        queue.async { [self] in
            switch withStore({ store throws(StoreError) in try store.people() }) {
            case .success(let people):
                var names: [Int: String] = [:]
                for person in people { if let name = person.name { names[person.label] = name } }
                mailbox.post(.names(names))
                mailbox.post(.people(token: token, people: people))
            case .failure(let error): mailbox.post(.peopleFailed(token: token, error: error.description))
            }
        }
    }

    /// Renames or merges people.
    func changePeople(token: UInt64, change: PeopleChange) {
        queue.async { [self] in
            let result = withStore { store throws(StoreError) -> String in
                // A library that records edits (the Redis store) makes them undoable.
                let recording = store as? any UndoablePeopleEdits
                switch change {
                case .rename(let label, let name):
                    if let recording {
                        record(try recording.renameRecording(label: label, to: name))
                    } else {
                        try store.rename(label: label, to: name)
                    }
                    return name.isEmpty ? "person \(label) has no name now" : "person \(label) renamed"
                case .merge(let label, let into):
                    guard let recording else {
                        let moved = try store.merge(label: label, into: into)
                        return "\(moved) face\(moved == 1 ? "" : "s") moved from person \(label) to \(into)"
                    }
                    let edit = try recording.mergeRecording(label: label, into: into)
                    record(edit)
                    guard case .merged(_, _, let faces, _, _) = edit else { return edit.summary }
                    let moved = faces.count
                    return "\(moved) face\(moved == 1 ? "" : "s") moved from person \(label) to \(into) (z undoes)"
                case .move(let face, let person):
                    guard let recording else { throw .unavailable("this library cannot move faces") }
                    let edit = try recording.moveRecording(face, toPerson: person)
                    record(edit)
                    return edit.summary + " (z undoes)"
                case .apart(let face):
                    guard let recording else { throw .unavailable("this library cannot set faces apart") }
                    let edit = try recording.separateRecording(face)
                    record(edit)
                    return edit.summary + " (z undoes)"
                case .undo:
                    guard let last = edits.last, let recording else { return "nothing to undo" }
                    try recording.undo(last)
                    edits.removeLast()
                    return "undone: \(last.summary)"
                }
            }
            switch result {
            case .success(let message): mailbox.post(.peopleChanged(token: token, message: message, error: nil))
            case .failure(let error):
                mailbox.post(.peopleChanged(token: token, message: "", error: error.description))
            }
        }
    }

    /// Keeps an edit for undo (the last `undoDepth`).
    private func record(_ edit: PeopleEdit) {
        edits.append(edit)
        if edits.count > Self.undoDepth { edits.removeFirst(edits.count - Self.undoDepth) }
    }

    /// Finds where an image is in the listing of every image.
    func locate(token: UInt64, document: ImageDocument, order: ListOrder, descending: Bool) {
        queue.async { [self] in
            let found = withStore { store throws(StoreError) in
                try store.position(of: document, order: order, descending: descending)
            }
            mailbox.post(.located(token: token, index: try? found.get()))
        }
    }

    /// Finds the faces nearest to a descriptor.
    func findSimilar(_ request: SimilarRequest) {
        queue.async { [self] in
            let result = withStore { store throws(StoreError) in
                try store.similarFaces(to: request.embedding, limit: request.limit, excludingFace: request.facePK)
            }
            switch result {
            case .success(let faces): mailbox.post(.similar(token: request.token, faces: faces))
            case .failure(let error): mailbox.post(.similarFailed(token: request.token, error: error.description))
            }
        }
    }

    private func withStore<T>(_ body: (any PhotoLibrary) throws(StoreError) -> T) -> Result<T, StoreError> {
        do throws(StoreError) {
            let opened: any PhotoLibrary
            if let store {
                opened = store
            } else {
                opened = try open()
            }
            store = opened
            return .success(try body(opened))
        } catch {
            store = nil
            return .failure(error)
        }
    }
}

/// A listing, for telling whether a queued page request was overtaken.
struct ListSourceKey: Equatable, Sendable {
    let text: String
    init(_ source: ListSource) {
        switch source {
        case .all(let order, let descending): text = "all:\(order.rawValue):\(descending)"
        case .search(let query): text = "search:\(query)"
        case .person(let label): text = "person:\(label)"
        case .image(let filename): text = "image:\(filename)"
        }
    }
}

/// A boolean shared between threads.
final class Flag: Sendable {
    private let value = Atomic(false)

    /// Sets the flag; false when it was set already.
    func setIfClear() -> Bool {
        value.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
    }

    func clear() { value.store(false, ordering: .releasing) }
}

/// A library that records people edits so they can be undone (the Redis store).
protocol UndoablePeopleEdits {
    func renameRecording(label: Int, to name: String) throws(StoreError) -> PeopleEdit
    func mergeRecording(label from: Int, into: Int) throws(StoreError) -> PeopleEdit
    /// Moves one face to the person `person` names (a label, a name or the unique start of one).
    func moveRecording(_ face: StoredFace, toPerson person: String) throws(StoreError) -> PeopleEdit
    /// "Not this person": gives one face a new label of its own.
    func separateRecording(_ face: StoredFace) throws(StoreError) -> PeopleEdit
    func undo(_ edit: PeopleEdit) throws(StoreError)
}

/// A library that suggests merges of people whose faces are close (the Redis store).
protocol MergeSuggesting {
    func mergeSuggestions(threshold: Float, maxPeople: Int) throws(StoreError) -> MergeSuggestions
}

extension RedisStore: MergeSuggesting {}

extension RedisStore: UndoablePeopleEdits {
    func moveRecording(_ face: StoredFace, toPerson person: String) throws(StoreError) -> PeopleEdit {
        let label = try self.person(matching: person)
        guard label != face.face.label else {
            throw .invalidRequest("the face is already person \(label)'s: nothing moved")
        }
        return try moveFace(face, to: label)
    }

    func separateRecording(_ face: StoredFace) throws(StoreError) -> PeopleEdit {
        try separateFace(face)
    }
}
