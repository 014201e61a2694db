import FaceScopeCore
import Testing

@testable import FaceScopeRedis
@testable import FaceScopeTUI

extension Harness {
    /// The list shown and the face detail open on the first image's face.
    mutating func openFaceDetail() {
        start()
        answerPages()
        effects = []
        press(.enter)
    }
}

@Suite("Moving a face and not this person from the face detail (no terminal)")
struct FaceEditTests {
    @Test("v asks for the person on a line prompt; Enter asks the store to move that very face")
    func move() {
        var h = Harness(labelled: 6)
        h.openFaceDetail()
        #expect(h.browser.context == .detail)
        h.press(.character("v"))
        #expect(h.browser.context == .input)
        guard case .moveFace(let face, "")? = h.browser.prompt else {
            Issue.record("no move prompt: \(String(describing: h.browser.prompt))")
            return
        }
        #expect(face.documentPK == "PK0" && face.faceIndex == 0 && face.face.pk == "F0")
        h.type("Ann")
        h.press(.enter)
        #expect(h.browser.prompt == nil)
        #expect(h.peopleChanges == [.move(face: face, to: "Ann")])
    }

    @Test("an empty person is refused on the prompt; Esc closes it and nothing is asked")
    func emptyAndCancel() {
        var h = Harness(labelled: 3)
        h.openFaceDetail()
        h.press(.character("v"), .enter)
        #expect(h.browser.message?.isError == true)
        #expect(h.browser.context == .input)
        h.press(.escape)
        #expect(h.browser.prompt == nil && h.browser.context == .detail)
        #expect(h.peopleChanges.isEmpty)
    }

    @Test("x asks the store to set the face apart; the answer is on the status line and pages are read again")
    func apart() {
        var h = Harness(labelled: 3)
        h.openFaceDetail()
        h.press(.character("x"))
        guard case .changePeople(let token, .apart(let face))? = h.effects.last else {
            Issue.record("no apart asked for: \(h.effects)")
            return
        }
        #expect(face.face.pk == "F0")
        h.effects = []
        h.effects += h.browser.apply(
            .peopleChanged(
                token: token, message: "gave a face of photos/img-00000.jpg a label of its own (3)", error: nil),
            now: h.now)
        #expect(h.browser.message?.text.contains("label of its own") == true)
        #expect(h.browser.context == .detail)
        #expect(!h.pageRequests.isEmpty)
        // While the page is read again the face stays at hand: v works at once.
        #expect(h.browser.focusedStoredFace == face)
        h.press(.character("v"))
        #expect(h.browser.prompt == .moveFace(face: face, text: ""))
    }

    @Test("pages marked stale keep their rows, are asked for again, and are fresh once stored")
    func stalePages() {
        var list = PagedList<Int>(pageSize: 10)
        list.store(page: 0, rows: Array(0..<10), total: 10, viewHeight: 5)
        #expect(list.missingPages(viewHeight: 5) == [])
        list.markStale()
        #expect(list.row(at: 3) == 3 && list.isStale(page: 0))
        #expect(list.missingPages(viewHeight: 5) == [0])
        list.store(page: 0, rows: Array(100..<110), total: 10, viewHeight: 5)
        #expect(list.row(at: 3) == 103 && !list.isStale(page: 0))
        #expect(list.missingPages(viewHeight: 5) == [])
    }

    @Test("a store that refuses the move (unknown person) puts its error on the status line")
    func refused() {
        var h = Harness(labelled: 3)
        h.openFaceDetail()
        h.press(.character("v"))
        h.type("Nobody")
        h.press(.enter)
        guard case .changePeople(let token, _)? = h.effects.last else {
            Issue.record("no move asked for")
            return
        }
        h.effects += h.browser.apply(
            .peopleChanged(token: token, message: "", error: "no person named 'Nobody' (see 'facescope people')"),
            now: h.now)
        #expect(
            h.browser.message == StatusMessage(text: "no person named 'Nobody' (see 'facescope people')", isError: true)
        )
    }

    @Test("v, x and z are the face detail's keys (in its help); z there undoes")
    func keymap() {
        let detail = Keymap.standard.bindings.filter { $0.contexts.contains(.detail) }
        for action in [Action.moveFace, .separateFace, .undoPeopleEdit] {
            #expect(detail.contains { $0.action == action })
        }
        var h = Harness(labelled: 3)
        h.openFaceDetail()
        h.press(.character("z"))
        #expect(h.peopleChanges == [.undo])
        // In the list of images v and x do nothing to the people.
        var list = Harness(labelled: 3)
        list.start()
        list.answerPages()
        list.effects = []
        list.press(.character("v"), .character("x"))
        #expect(list.peopleChanges.isEmpty && list.browser.prompt == nil)
    }
}
