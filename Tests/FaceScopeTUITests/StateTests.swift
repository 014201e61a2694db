import FaceScopeCore
import Testing

@testable import FaceScopeTUI

@Suite("Paging a long list")
struct PagedListTests {
    @Test("asks for the visible page and a page of look-ahead, nothing more")
    func missingPages() {
        var list = PagedList<Int>(pageSize: 100)
        #expect(list.missingPages(viewHeight: 38) == [0])
        list.store(page: 0, rows: Array(0..<100), total: 100_000, viewHeight: 38)
        #expect(list.missingPages(viewHeight: 38) == [])
        list.moveTo(80, viewHeight: 38)
        // Rows 43...80 are visible; the next page is within half a page.
        #expect(list.missingPages(viewHeight: 38) == [1])
        list.moveTo(250, viewHeight: 38)
        #expect(list.missingPages(viewHeight: 38).first == 2)
    }

    @Test("cursor and view stay inside the list")
    func clamping() {
        var list = PagedList<Int>(pageSize: 10)
        list.store(page: 0, rows: Array(0..<10), total: 25, viewHeight: 5)
        list.move(by: -3, viewHeight: 5)
        #expect(list.cursor == 0 && list.top == 0)
        list.move(by: 7, viewHeight: 5)
        #expect(list.cursor == 7 && list.top == 3)
        list.moveTo(1000, viewHeight: 5)
        #expect(list.cursor == 24 && list.top == 20)
        list.setTotal(12, viewHeight: 5)
        #expect(list.cursor == 11 && list.top == 7)
        list.wrapMove(by: 1, viewHeight: 5)
        #expect(list.cursor == 0 && list.top == 0)
        list.wrapMove(by: -1, viewHeight: 5)
        #expect(list.cursor == 11)
    }

    @Test("rows come from the pages held; pages far from the view are dropped (flat memory)")
    func eviction() {
        var list = PagedList<Int>(pageSize: 100, keepRadius: 2)
        list.setTotal(100_000, viewHeight: 38)
        for page in 0..<1000 {
            list.moveTo(page * 100, viewHeight: 38)
            list.store(page: page, rows: Array((page * 100)..<(page * 100 + 100)), total: 100_000, viewHeight: 38)
            #expect(list.loadedPageCount <= 6)
        }
        #expect(list.row(at: 99_950) == 99_950)
        #expect(list.row(at: 0) == nil)
        #expect(list.current == 99_900)
    }

    @Test("updating rows in place keeps positions")
    func update() {
        var list = PagedList<Int>(pageSize: 10)
        list.store(page: 0, rows: Array(0..<10), total: 10, viewHeight: 5)
        list.updateRows { $0 == 3 ? 33 : nil }
        #expect(list.row(at: 3) == 33)
        list.invalidate()
        #expect(list.row(at: 3) == nil && list.total == 10)
        list.reset()
        #expect(list.total == nil && list.cursor == 0)
    }
}

@Suite("Selecting images")
struct SelectionTests {
    @Test("picks toggle one by one")
    func picks() {
        var s = Selection()
        s.toggle(pk: "A", filename: "b.jpg")
        s.toggle(pk: "B", filename: "a.jpg")
        #expect(s.contains("A") && s.contains("B") && !s.contains("C"))
        #expect(s.count(total: 100) == 2)
        #expect(s.pickedFilenames == ["a.jpg", "b.jpg"])
        s.toggle(pk: "A", filename: "b.jpg")
        #expect(!s.contains("A") && s.count(total: 100) == 1)
        s.clear()
        #expect(s.isEmpty(total: 100))
    }

    @Test("select all costs nothing and remembers exceptions")
    func all() {
        var s = Selection()
        s.selectAll(scope: nil)
        #expect(s.contains("anything") && s.count(total: 100_000) == 100_000)
        s.toggle(pk: "X", filename: "x.jpg")
        #expect(!s.contains("X") && s.count(total: 100_000) == 99_999)
        s.listingChanged(scope: nil)
        #expect(s.allSelected)
        s.listingChanged(scope: "holi*")
        #expect(!s.allSelected && s.isEmpty(total: 10))
    }
}

@Suite("The search line")
struct SearchStateTests {
    @Test("the word being typed matches as a prefix")
    func asYouType() {
        #expect(SearchState.storeQuery(for: "") == nil)
        #expect(SearchState.storeQuery(for: "   ") == nil)
        // The text goes to the store as typed: the same search as `facescope search TEXT`.
        #expect(SearchState.storeQuery(for: "grou") == "grou")
        #expect(SearchState.storeQuery(for: "group ") == "group ")
        #expect(SearchState.storeQuery(for: "a-b") == "a-b")
        #expect(SearchState.storeQuery(for: "été") == "été")
        #expect(SearchState.storeQuery(for: "-.") == nil)
    }

    @Test("editing")
    func editing() {
        var s = SearchState()
        s.insert("ab")
        #expect(s.query == "ab")
        var deleted = s.deleteBackward()
        #expect(deleted && s.text == "a")
        deleted = s.deleteBackward()
        #expect(deleted && s.query == nil)
        deleted = s.deleteBackward()
        #expect(!deleted)
    }
}

@Suite("Layout arithmetic")
struct LayoutTests {
    @Test("a 120x40 screen: list left, preview right, prompt and status at the bottom")
    func standard() throws {
        let l = ScreenLayout(columns: 120, rows: 40)
        #expect(!l.tooSmall)
        let list = try #require(l.list)
        let preview = try #require(l.preview)
        let image = try #require(l.image)
        #expect(list == Rect(x: 0, y: 1, width: 48, height: 37))
        #expect(l.separator == 48)
        #expect(preview.x == 49 && preview.width == 71)
        #expect(l.listRows == 36)
        #expect(image.y == 2 && image.height == 35)
        #expect(l.prompt.y == 38 && l.status.y == 39)
        #expect(l.filenameWidth + 2 + 1 + 5 + 1 + 11 == list.width)
    }

    @Test("narrow screens drop the preview, zoom drops the list, tiny screens draw a notice")
    func sizes() {
        let narrow = ScreenLayout(columns: 60, rows: 20)
        #expect(narrow.preview == nil && narrow.list?.width == 60)
        let zoomed = ScreenLayout(columns: 60, rows: 20, zoomed: true)
        #expect(zoomed.list == nil && zoomed.preview?.width == 60)
        #expect(ScreenLayout(columns: 30, rows: 20).tooSmall)
        #expect(ScreenLayout(columns: 80, rows: 5).tooSmall)
        #expect(ScreenLayout(columns: 200, rows: 60).list?.width == 64)
    }

    @Test("the panel and the detail view take rows from the body")
    func panels() throws {
        let plain = ScreenLayout(columns: 120, rows: 40)
        let panel = ScreenLayout(columns: 120, rows: 40, panel: true)
        #expect(panel.panel == Rect(x: 0, y: 32, width: 120, height: 6))
        #expect(panel.listRows == plain.listRows - 6)
        let detail = ScreenLayout(columns: 120, rows: 40, detail: true)
        #expect(detail.info?.height == ScreenLayout.detailInfoHeight)
        #expect((detail.image?.height ?? 0) == (plain.image?.height ?? 0) - ScreenLayout.detailInfoHeight + 1)
    }

    @Test("pictures are fitted with the aspect ratio kept, cells twice as high as wide")
    func fit() {
        let area = Rect(x: 10, y: 2, width: 70, height: 35)
        // 1280x886: 70 columns -> 70 / (1.4447 * 2) = 24 rows.
        #expect(
            ScreenLayout.fit(imageWidth: 1280, imageHeight: 886, into: area) == Rect(x: 10, y: 7, width: 70, height: 24)
        )
        // A tall picture is limited by height and centred.
        let tall = ScreenLayout.fit(imageWidth: 500, imageHeight: 1000, into: area)
        #expect(tall.height == 35 && tall.width == 35 && tall.x == 27)
        #expect(ScreenLayout.fit(imageWidth: 0, imageHeight: 10, into: area).isEmpty)
    }

    @Test("list entries under the mouse")
    func hitTesting() {
        let l = ScreenLayout(columns: 120, rows: 40)
        #expect(l.listEntry(column: 3, row: 1) == nil)  // the column header
        #expect(l.listEntry(column: 3, row: 2) == 0)
        #expect(l.listEntry(column: 60, row: 2) == nil)  // the preview
    }
}

@Suite("The keymap is data")
struct KeymapTests {
    @Test("no key does two things in one context")
    func noConflicts() {
        for context in KeyContext.allCases {
            var seen: [Key: Action] = [:]
            for binding in Keymap.standard.bindings where binding.contexts.contains(context) {
                for key in binding.keys {
                    #expect(seen[key] == nil, "\(key.label) is bound twice in \(context)")
                    seen[key] = binding.action
                }
            }
        }
    }

    @Test("the help screen lists every binding, generated from the table")
    func help() {
        let keymap = Keymap.standard
        let text = keymap.helpText(width: 100)
        for binding in keymap.bindings {
            let keys = binding.keys.map(\.label).joined(separator: " / ")
            #expect(text.contains { $0.contains(keys) && $0.contains(binding.description) }, "\(binding.description)")
        }
        #expect(text.first == "Browsing")
        // A made-up keymap gets a help screen of its own.
        let tiny = Keymap(bindings: [KeyBinding([.character("x")], .quit, "leave", in: [.browse])])
        #expect(tiny.helpLines() == [.heading("Browsing"), .binding(keys: "x", description: "leave")])
    }

    @Test("lookups follow the context")
    func lookup() {
        let keymap = Keymap.standard
        #expect(keymap.action(for: .character("j"), in: .browse) == .moveDown)
        #expect(keymap.action(for: .down, in: .browse) == .moveDown)
        #expect(keymap.action(for: .character("n"), in: .detail) == .nextFace)
        #expect(keymap.action(for: .character("n"), in: .search) == nil)  // typed into the query
        #expect(keymap.action(for: .escape, in: .search) == .cancelSearch)
        #expect(keymap.action(for: .character("q"), in: .detail) == .closeView)
        #expect(keymap.keyLabel(for: .pageDown, in: .browse) == "Ctrl-F / PgDn / Ctrl-D")
        #expect(Key.character(" ").label == "Space")
    }
}
