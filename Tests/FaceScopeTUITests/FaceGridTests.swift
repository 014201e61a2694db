import FaceScopeCore
import Testing

@testable import FaceScopeTUI

extension Harness {
    var facePageRequests: [PageRequest] {
        effects.compactMap { if case .loadFacePage(let r) = $0 { return r } else { return nil } }
    }

    var thumbnailRequests: [ThumbnailRequest] {
        effects.compactMap { if case .loadThumbnails(let r) = $0 { return r } else { return nil } }
    }

    /// Answers the grid's page requests waiting with the documents of the person asked for.
    mutating func answerFacePages() {
        let requests = facePageRequests
        effects.removeAll { if case .loadFacePage = $0 { return true } else { return false } }
        for r in requests {
            guard case .person(let label) = r.source else { continue }
            let rows = documents.filter { $0.faces?.contains { $0.label == label } == true }
            effects += browser.apply(
                .facePage(
                    token: r.token, page: r.page, rows: Array(rows.dropFirst(r.offset).prefix(r.limit)),
                    total: rows.count),
                now: now)
        }
    }
}

@Suite("The face grid (no terminal)")
struct FaceGridTests {
    @Test("cells of 20x10 fill the area; a cell's rectangle follows its slot")
    func geometry() {
        let g = FaceGridGeometry(area: Rect(x: 0, y: 1, width: 120, height: 37))
        #expect(g.columns == 6 && g.rows == 3 && g.cellsShown == 18)
        #expect(g.pictureWidth == 18 && g.pictureHeight == 8)
        #expect(g.cell(0) == Rect(x: 0, y: 1, width: 20, height: 10))
        #expect(g.cell(7) == Rect(x: 20, y: 11, width: 20, height: 10))
        let tiny = FaceGridGeometry(area: Rect(x: 0, y: 1, width: 12, height: 5))
        #expect(tiny.columns == 1 && tiny.rows == 1 && tiny.pictureWidth == 10 && tiny.pictureHeight == 3)
    }

    @Test("f opens the person's faces: pages of their images only around the screen, thumbnails of the cells shown")
    func open() {
        var h = Harness(labelled: 600)  // 200 images per person
        h.openPeople()
        h.effects = []
        h.press(.character("f"))
        #expect(h.browser.context == .faces)
        let label = h.browser.faceGrid.person?.label
        #expect(h.facePageRequests.map(\.offset) == [0])
        #expect(h.facePageRequests.allSatisfy { $0.source == .person(label: label ?? -1) })
        h.answerFacePages()
        #expect(h.browser.faceGrid.list.total == 200)
        // 18 cells on a 120x40 screen: one batch of 18 thumbnails, each the person's face.
        #expect(h.thumbnailRequests.count == 1)
        let items = h.thumbnailRequests.first?.items ?? []
        #expect(items.count == 18 && items.allSatisfy { $0.face == 0 && $0.columns == 18 && $0.rows == 8 })
        // Only the pages needed are held, however many faces the person has.
        #expect(h.browser.faceGrid.list.loadedPageCount == 1)
        // A thumbnail that came is kept; the batch is not asked for again.
        let first = items[0]
        let grid = CellGrid(
            width: 1, height: 1, cells: [Cell(character: "x", foreground: 1, background: 2)])
        h.effects = []
        h.effects += h.browser.apply(.thumbnail(token: 1, key: first.key, content: .cells(grid)), now: h.now)
        #expect(h.browser.faceGrid.thumbnails[first.key] == .cells(grid))
        #expect(h.thumbnailRequests.isEmpty)
    }

    @Test("arrows move the selection across and by rows; paging down reads the next page; Esc goes back")
    func moves() {
        var h = Harness(labelled: 600)
        h.openPeople()
        h.press(.character("f"))
        h.answerFacePages()
        h.press(.right)
        #expect(h.browser.faceGrid.list.cursor == 1)
        h.press(.down)
        #expect(h.browser.faceGrid.list.cursor == 7)
        h.press(.left, .up)
        #expect(h.browser.faceGrid.list.cursor == 0)
        h.press(.up)
        #expect(h.browser.faceGrid.list.cursor == 0)
        h.effects = []
        for _ in 0..<4 { h.press(.pageDown) }
        #expect(h.browser.faceGrid.list.cursor == 72)
        #expect(h.browser.faceGrid.topRow == 10)
        #expect(h.facePageRequests.map(\.offset) == [60])
        h.answerFacePages()
        #expect(h.browser.faceGrid.shown == 60..<78)
        // The thumbnails of the cells left are dropped.
        #expect(h.browser.faceGrid.thumbnails.isEmpty)
        h.press(.character("G"))
        #expect(h.browser.faceGrid.list.cursor == 199)
        h.press(.escape)
        #expect(h.browser.context == .people)
        #expect(h.browser.faceGrid.person == nil)
    }

    @Test("v and x act on the selected face; the grid is read again after the change")
    func edits() {
        var h = Harness(labelled: 30)
        h.openPeople()
        h.press(.character("f"))
        h.answerFacePages()
        h.press(.right)
        let selected = h.browser.faceGrid.selectedFace
        #expect(selected?.documentPK == h.browser.faceGrid.list.row(at: 1)?.pk)
        h.effects = []
        h.press(.character("x"))
        guard case .changePeople(let token, .apart(let face))? = h.effects.last else {
            Issue.record("no apart asked for: \(h.effects)")
            return
        }
        #expect(face == selected)
        h.effects = []
        h.effects += h.browser.apply(.peopleChanged(token: token, message: "done", error: nil), now: h.now)
        #expect(h.facePageRequests.map(\.offset) == [0])
        #expect(h.browser.context == .faces)
        h.answerFacePages()
        h.press(.character("v"))
        guard case .moveFace(let moving, _)? = h.browser.prompt else {
            Issue.record("no move prompt")
            return
        }
        #expect(moving == selected)
    }

    @Test("the grid's keys are in its own help section")
    func keymap() {
        let grid = Keymap.standard.bindings.filter { $0.contexts.first == .faces }
        for action in [Action.moveFace, .separateFace, .undoPeopleEdit, .closeView, .nextFace, .previousFace] {
            #expect(grid.contains { $0.action == action })
        }
        #expect(Keymap.standard.action(for: .character("f"), in: .people) == .showFaces)
    }
}
