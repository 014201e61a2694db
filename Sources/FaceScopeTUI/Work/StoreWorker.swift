import FaceScopeCore
import FaceScopeRedis
import Foundation

/// Reads pages and counts from Redis on a thread of its own, with a connection of its own. A
/// failed call drops the connection; the next request opens a new one, so Redis coming back is
/// noticed by the next retry.
final class StoreWorker: @unchecked Sendable {
    private let queue = DispatchQueue(label: "facescope.tui.redis")
    private let settings: Settings
    private let mailbox: Mailbox
    private let latestSource = LatestRequest<ListSourceKey>()
    private let pingQueued = Flag()
    /// Touched on `queue` only.
    private var store: RedisStore?
    /// This session's people edits, last one last, for undo (touched on `queue` only).
    private var edits: [PeopleEdit] = []
    private static let undoDepth = 200

    init(settings: Settings, mailbox: Mailbox) {
        self.settings = settings
        self.mailbox = mailbox
    }

    /// Fetches a page; skipped when another listing was asked for while it waited.
    func loadPage(_ request: PageRequest) {
        let key = ListSourceKey(request.source)
        latestSource.set(key)
        queue.async { [self] in
            guard latestSource.isLatest(key) else { return }
            let result = withStore { store throws(FaceScopeError) in
                try store.page(of: request.source, offset: request.offset, limit: request.limit)
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

    /// Checks Redis and counts the documents; one check at a time.
    func ping() {
        guard pingQueued.setIfClear() else { return }
        queue.async { [self] in
            pingQueued.clear()
            switch withStore({ store throws(FaceScopeError) in try store.count() }) {
            case .success(let total): mailbox.post(.redisPing(total: total, error: nil))
            case .failure(let error): mailbox.post(.redisPing(total: nil, error: error.description))
            }
            // The detection queue in one round trip; a queue that cannot be read shows nothing.
            if let store {
                let queue = DetectionQueue(connection: store.connection, layout: store.layout)
                mailbox.post(.queueProgress((try? queue.summary())?.statusText))
            }
        }
    }

    /// Reads every person with a face count and an example face.
    func loadPeople(token: UInt64) {
        queue.async { [self] in
            switch withStore({ store throws(FaceScopeError) in try store.people() }) {
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
            let result = withStore { store throws(FaceScopeError) -> String in
                switch change {
                case .rename(let label, let name):
                    record(try store.renameRecording(label: label, to: name))
                    return name.isEmpty ? "person \(label) has no name now" : "person \(label) renamed"
                case .merge(let label, let into):
                    let edit = try store.mergeRecording(label: label, into: into)
                    record(edit)
                    guard case .merged(_, _, let faces, _, _) = edit else { return edit.summary }
                    let moved = faces.count
                    return "\(moved) face\(moved == 1 ? "" : "s") moved from person \(label) to \(into) (z undoes)"
                case .undo:
                    guard let last = edits.last else { return "nothing to undo" }
                    try store.undo(last)
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
            let found = withStore { store throws(FaceScopeError) in
                try store.position(of: document, order: order, descending: descending)
            }
            mailbox.post(.located(token: token, index: try? found.get()))
        }
    }

    /// Finds the faces nearest to a descriptor.
    func findSimilar(_ request: SimilarRequest) {
        queue.async { [self] in
            let result = withStore { store throws(FaceScopeError) in
                try store.similarFaces(to: request.embedding, limit: request.limit, excludingFace: request.facePK)
            }
            switch result {
            case .success(let faces): mailbox.post(.similar(token: request.token, faces: faces))
            case .failure(let error): mailbox.post(.similarFailed(token: request.token, error: error.description))
            }
        }
    }

    private func withStore<T>(_ body: (RedisStore) throws(FaceScopeError) -> T) -> Result<T, FaceScopeError> {
        do throws(FaceScopeError) {
            let open: RedisStore
            if let store {
                open = store
            } else {
                open = try RedisStore.open(settings: settings, access: .read)
            }
            store = open
            return .success(try body(open))
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

extension RedisStore {
    /// Where `document` is in the listing of every image in `order`: how many documents sort
    /// before it (one aggregation on FaceScope's index, comparing the sort field's strings).
    func position(of document: ImageDocument, order: ListOrder, descending: Bool) throws(FaceScopeError) -> Int {
        let field = order == .filename ? "filename" : KeyLayout.facesOrderField
        let value =
            order == .filename
            ? document.filename : KeyLayout.facesOrder(faceCount: document.faceCount, filename: document.filename)
        let quoted = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        let reply = try connection.send([
            "FT.AGGREGATE", layout.ownIndex, "*", "LOAD", "1", "@\(field)", "FILTER",
            "@\(field) \(descending ? ">" : "<") '\(quoted)'", "GROUPBY", "0", "REDUCE", "COUNT", "0", "AS", "n",
            "DIALECT", "2",
        ])
        if case .error(let message) = reply {
            throw .redis("finding the image in the listing failed: \(TerminalText.sanitize(message))")
        }
        // [1, ["n", "count"]], or no row when nothing sorts before it.
        guard let rows = reply.array, rows.count > 1, let row = rows[1].array, row.count > 1 else { return 0 }
        return Int(row[1].string ?? "") ?? row[1].integer.map(Int.init) ?? 0
    }

    /// A page of a listing and the listing's length.
    func page(of source: ListSource, offset: Int, limit: Int) throws(FaceScopeError) -> (
        rows: [ImageDocument], total: Int, closeMatches: Bool
    ) {
        switch source {
        case .all(let order, let descending):
            let rows = try list(order: order, descending: descending, offset: offset, limit: limit)
            return (rows, try count(), false)
        case .search(let text):
            let found = try search(.text(text), offset: offset, limit: limit)
            return (found.documents, found.total, found.closeMatches)
        case .person(let label):
            let found = try documents(withLabel: label, offset: max(0, offset), limit: max(0, limit))
            return (found.documents, found.total, false)
        case .image(let filename):
            let all = try get(filename: filename).map { [$0] } ?? []
            return (offset == 0 ? all : [], all.count, false)
        }
    }
}

/// A boolean shared between threads.
final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false

    /// Sets the flag; false when it was set already.
    func setIfClear() -> Bool {
        lock.withLock {
            if value { return false }
            value = true
            return true
        }
    }

    func clear() { lock.withLock { value = false } }
}
