import FaceScopeCore
import Testing

@testable import FaceScopeRedis
@testable import FaceScopeTUI

@Suite("Undo in the people view (no terminal)")
struct PeopleUndoTests {
    @Test("z asks the store worker to undo; its answer is on the status line and the people are read again")
    func undo() {
        var h = Harness(labelled: 9)
        h.openPeople()
        h.effects = []
        h.press(.character("z"))
        #expect(h.peopleChanges == [.undo])
        guard case .changePeople(let token, _)? = h.effects.last else {
            Issue.record("no undo asked for")
            return
        }
        h.effects = []
        h.effects += h.browser.apply(
            .peopleChanged(token: token, message: "undone: merged label 2 into 1 (3 faces)", error: nil), now: h.now)
        #expect(h.browser.message == StatusMessage(text: "undone: merged label 2 into 1 (3 faces)", isError: false))
        #expect(h.peopleLoads.count == 1)
        #expect(h.browser.context == .people)
    }

    @Test("z is listed in the people view's help, and does nothing in the list of images")
    func keymap() {
        let people = Keymap.standard.bindings.filter { $0.contexts.contains(.people) }
        #expect(people.contains { $0.action == .undoPeopleEdit && $0.description.contains("undo") })
        var h = Harness(labelled: 3)
        h.start()
        h.answerPages()
        h.effects = []
        h.press(.character("z"))
        #expect(h.peopleChanges.isEmpty)
    }
}
