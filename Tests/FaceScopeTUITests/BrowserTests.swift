import FaceScopeCore
import FaceScopeRedis
import Foundation
import Testing

@testable import FaceScopeTUI

/// Drives the browser like the UI loop does, with a fake store answering page requests.
struct Harness {
    var browser = Browser(columns: 120, rows: 40, pageSize: 50)
    var documents: [ImageDocument]
    var effects: [Effect] = []
    var now = 100.0

    init(count: Int) {
        documents = (0..<count).map { i in
            ImageDocument(
                pk: "PK\(i)", filename: String(format: "photos/img-%05d.jpg", i),
                faces: [Face(pk: "F\(i)", bbox: BoundingBox(pk: "", x1: 1, y1: 1, x2: 5, y2: 5), probability: 90)],
                channels: 3, height: 10, width: 20, portrait: 0)
        }
    }

    mutating func start() {
        effects = browser.start(now: now)
    }

    mutating func press(_ keys: Key...) {
        for key in keys { effects += browser.handle(key, now: now) }
    }

    mutating func type(_ text: String) {
        for c in text { effects += browser.handle(.character(c), now: now) }
    }

    var pageRequests: [PageRequest] {
        effects.compactMap { if case .loadPage(let r) = $0 { return r } else { return nil } }
    }

    var previewRequests: [PreviewRequest] {
        effects.compactMap { if case .loadPreview(let r) = $0 { return r } else { return nil } }
    }

    /// Answers every page request waiting, as the store would.
    mutating func answerPages() {
        let requests = pageRequests
        effects.removeAll { if case .loadPage = $0 { return true } else { return false } }
        for r in requests {
            let rows: [ImageDocument]
            let narrowed: [ImageDocument]?
            switch r.source {
            case .all, .search: narrowed = nil
            case .person(let label): narrowed = documents.filter { $0.faces?.contains { $0.label == label } == true }
            case .image(let filename): narrowed = documents.filter { $0.filename == filename }
            }
            if let narrowed {
                effects += browser.apply(
                    .page(
                        token: r.token, page: r.page, rows: Array(narrowed.dropFirst(r.offset).prefix(r.limit)),
                        total: narrowed.count), now: now)
                continue
            }
            switch r.source {
            case .all, .person, .image: rows = Array(documents.dropFirst(r.offset).prefix(r.limit))
            case .search(let q):
                let word = q.replacingOccurrences(of: "*", with: "")
                let matching = documents.filter { $0.filename.contains(word) }
                effects += browser.apply(
                    .page(
                        token: r.token, page: r.page, rows: Array(matching.dropFirst(r.offset).prefix(r.limit)),
                        total: matching.count), now: now)
                continue
            }
            effects += browser.apply(.page(token: r.token, page: r.page, rows: rows, total: documents.count), now: now)
        }
    }
}

@Suite("The browser's rules (no terminal)")
struct BrowserTests {
    @Test("starting counts the documents, checks Triton and asks for the first page only")
    func start() {
        var h = Harness(count: 1000)
        h.start()
        #expect(h.effects.contains(.pingRedis) && h.effects.contains(.checkTriton))
        #expect(h.pageRequests.map(\.offset) == [0])
        h.answerPages()
        #expect(h.browser.list.total == 1000)
        #expect(h.browser.list.current?.filename == "photos/img-00000.jpg")
        // The first row is known: its preview is asked for, once.
        #expect(h.previewRequests.count == 1)
        #expect(h.previewRequests.first?.document.pk == "PK0")
        h.effects = []
        h.press(.character("b"), .character("b"))
        #expect(h.previewRequests.count == 2)  // boxes off, boxes on: two renderings
    }

    @Test("moving pages in what is needed; an answer carrying another token is dropped")
    func paging() {
        var h = Harness(count: 1000)
        h.start()
        h.answerPages()
        h.effects = []
        h.press(.end)
        let wanted = h.pageRequests
        #expect(wanted.map(\.page).contains(19))
        // An answer with a token nobody is waiting for (an overtaken request): not stored.
        for r in wanted {
            _ = h.browser.apply(.page(token: r.token &+ 999, page: r.page, rows: [], total: 1000), now: h.now)
        }
        #expect(!h.browser.list.isLoaded(page: 19))
        h.answerPages()
        #expect(h.browser.list.current?.filename == "photos/img-00999.jpg")
        #expect(h.browser.list.loadedPageCount <= 6)
    }

    @Test("search as you type asks for the matching filenames and says when nothing matches")
    func search() {
        var h = Harness(count: 120)
        h.start()
        h.answerPages()
        h.effects = []
        h.press(.character("/"))
        #expect(h.browser.context == .search)
        h.type("img-0001")
        // Every keystroke asks again; only the newest counts.
        let searches = h.pageRequests.filter { if case .search = $0.source { return true } else { return false } }
        #expect(searches.count == 8)
        #expect(searches.last?.source == .search("img-0001"))
        h.answerPages()
        #expect(h.browser.list.total == 10)
        #expect(!h.browser.searchFoundNothing)
        h.press(.enter)
        #expect(h.browser.context == .browse)
        h.press(.character("n"), .character("n"))
        #expect(h.browser.list.cursor == 2)
        h.press(.character("N"), .character("N"), .character("N"))
        #expect(h.browser.list.cursor == 9)  // wraps around
        h.press(.character("/"))
        h.type("zz")
        h.answerPages()
        #expect(h.browser.searchFoundNothing)
        h.press(.escape)
        #expect(h.browser.search.query == nil && h.browser.source == .all(order: .filename, descending: false))
        h.answerPages()
        #expect(h.browser.list.total == 120)
    }

    @Test("re-detect asks first, then starts on the selection; results update the rows")
    func redetect() {
        var h = Harness(count: 10)
        h.start()
        h.answerPages()
        h.press(.character(" "), .character(" "))
        #expect(h.browser.selection.count(total: 10) == 2)
        h.effects = []
        h.press(.character("r"))
        #expect(h.browser.context == .confirm)
        #expect(h.effects.isEmpty)
        h.press(.character("k"))
        guard case .startDetection(let request)? = h.effects.first else {
            Issue.record("no detection started")
            return
        }
        #expect(request.mode == .keepLabels)
        #expect(request.target == .files(["photos/img-00000.jpg", "photos/img-00001.jpg"]))
        #expect(h.browser.layout.panel != nil)
        _ = h.browser.apply(.detectionStarted(token: request.token, total: 2), now: 101)
        var updated = h.documents[0]
        updated.faces = Array(
            repeating: updated.faces?[0]
                ?? Face(pk: "", bbox: .init(pk: "", x1: 0, y1: 0, x2: 1, y2: 1), probability: 1), count: 6)
        _ = h.browser.apply(.detectionImage(token: request.token, document: updated), now: 102)
        #expect(h.browser.list.row(at: 0)?.faceCount == 6)
        _ = h.browser.apply(
            .detectionFailed(token: request.token, file: "photos/img-00001.jpg", error: "boom"), now: 102)
        // A result of an older run is ignored.
        _ = h.browser.apply(.detectionImage(token: request.token &+ 1, document: h.documents[5]), now: 102)
        let finished = h.browser.apply(.detectionFinished(token: request.token, cancelled: false, error: nil), now: 103)
        #expect(finished.contains(.pingRedis))
        let run = h.browser.detection
        #expect(run?.done == 2 && run?.failed == 1 && run?.faces == 6 && run?.running == false)
        #expect(run?.rate(now: 200) == 2.0 / 3.0)
        h.effects = []
        h.press(.character("c"))
        #expect(h.browser.detection == nil && h.browser.layout.panel == nil)
    }

    @Test("select all re-detects the listing minus exceptions; nothing selected means this image")
    func targets() {
        var h = Harness(count: 10)
        h.start()
        h.answerPages()
        h.press(.character("j"), .character("r"))
        if case .redetect(let target, let count, _, let labels)? = h.browser.prompt {
            #expect(target == .files(["photos/img-00001.jpg"]) && count == 1)
            // The image is at hand: what replacing drops is counted.
            #expect(labels == (h.documents[1].faces ?? []).filter { $0.label != nil }.count)
        } else {
            Issue.record("no prompt")
        }
        h.press(.escape, .character("a"), .character(" "), .character("r"))
        if case .redetect(let target, let count, _, let labels)? = h.browser.prompt {
            #expect(target == .all(source: .all(order: .filename, descending: false), except: ["PK1"]))
            #expect(count == 9 && labels == nil)
        } else {
            Issue.record("no prompt")
        }
    }

    @Test("Redis going away shows, is retried every 2 s, and coming back reloads")
    func redisDown() {
        var h = Harness(count: 10)
        h.start()
        let request = h.pageRequests[0]
        h.effects = []
        _ = h.browser.apply(.pageFailed(token: request.token, page: 0, error: "cannot connect"), now: 100)
        #expect(h.browser.redis == .down("cannot connect"))
        // Keys do not hammer a server that is down.
        h.press(.character("j"))
        #expect(h.pageRequests.isEmpty)
        #expect(h.browser.tick(now: 101).isEmpty)
        #expect(h.browser.tick(now: 102.1).contains(.pingRedis))
        let back = h.browser.apply(.redisPing(total: 10, error: nil), now: 102.2)
        #expect(h.browser.redis.isUp)
        #expect(back.contains { if case .loadPage = $0 { return true } else { return false } })
    }

    @Test("a preview answer for an image the user left is dropped")
    func stalePreview() {
        var h = Harness(count: 10)
        h.start()
        h.answerPages()
        let first = h.previewRequests[0]
        h.press(.character("j"))
        let second = h.previewRequests[1]
        _ = h.browser.apply(.preview(token: first.token, content: .message("old")), now: 100)
        #expect(h.browser.preview.content == nil)
        _ = h.browser.apply(.preview(token: second.token, content: .message("new")), now: 100)
        #expect(h.browser.preview.content == .message("new"))
    }

    @Test("the detail view cycles through faces and closes")
    func detail() {
        var h = Harness(count: 3)
        h.documents[0].faces = (h.documents[0].faces ?? []) + (h.documents[0].faces ?? [])
        h.start()
        h.answerPages()
        h.press(.enter)
        #expect(h.browser.focusedFace == 0 && h.browser.context == .detail)
        #expect(h.previewRequests.last?.focus == 0)
        h.press(.character("n"))
        #expect(h.browser.focusedFace == 1)
        h.press(.character("n"))
        #expect(h.browser.focusedFace == 0)
        h.press(.escape)
        #expect(h.browser.focusedFace == nil && h.browser.context == .browse)
    }

    @Test("resizing lays the screen out again and repaints")
    func resize() {
        var h = Harness(count: 3)
        h.start()
        h.answerPages()
        let effects = h.browser.resize(columns: 80, rows: 24, now: 100)
        #expect(effects.first == .redraw)
        #expect(h.browser.layout.columns == 80 && h.browser.layout.listRows == 20)
        // The preview area changed size: a new rendering.
        #expect(effects.contains { if case .loadPreview = $0 { return true } else { return false } })
    }
}
