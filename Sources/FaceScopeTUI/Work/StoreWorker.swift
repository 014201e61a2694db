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
            let result = withStore { store throws(FaceScopeError) -> (rows: [ImageDocument], total: Int) in
                switch request.source {
                case .all(let order, let descending):
                    let rows = try store.list(
                        order: order, descending: descending, offset: request.offset, limit: request.limit)
                    return (rows, try store.count())
                case .search(let text):
                    let found = try store.search(.text(text), offset: request.offset, limit: request.limit)
                    return (found.documents, found.total)
                }
            }
            switch result {
            case .success(let page):
                mailbox.post(.page(token: request.token, page: request.page, rows: page.rows, total: page.total))
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
        }
    }

    private func withStore<T>(_ body: (RedisStore) throws(FaceScopeError) -> T) -> Result<T, FaceScopeError> {
        do throws(FaceScopeError) {
            let open: RedisStore
            if let store {
                open = store
            } else {
                open = try RedisStore.open(settings: settings)
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
