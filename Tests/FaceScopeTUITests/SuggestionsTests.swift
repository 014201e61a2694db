import FaceScopeCore
import Testing

@testable import FaceScopeTUI

extension Harness {
    var suggestionLoads: [UInt64] {
        effects.compactMap { if case .loadSuggestions(let token) = $0 { return token } else { return nil } }
    }

    /// Answers the newest suggestions request with pairs of this harness's people.
    mutating func answerSuggestions(_ pairs: [(Int, Int, Float)]) {
        guard let token = suggestionLoads.last else { return }
        let everyone = Dictionary(uniqueKeysWithValues: people.map { ($0.label, $0) })
        let found = FoundSuggestions(
            pairs: pairs.compactMap { a, b, d in
                guard let first = everyone[a], let second = everyone[b] else { return nil }
                return SuggestedPair(first: first, second: second, distance: d)
            }, compared: everyone.count, people: everyone.count, threshold: 0.5)
        effects = []
        effects += browser.apply(.suggestions(token: token, found: found), now: now)
    }
}

@Suite("Merge suggestions (no terminal)")
struct SuggestionsTests {
    @Test("s asks the store for suggestions; the pairs are listed closest first as they came")
    func open() {
        var h = Harness(labelled: 9)
        h.openPeople()
        h.effects = []
        h.press(.character("s"))
        #expect(h.browser.context == .suggestions)
        #expect(h.suggestionLoads.count == 1)
        h.answerSuggestions([(0, 2, 0.1), (0, 1, 0.3)])
        #expect(h.browser.suggestionsView.list.total == 2)
        #expect(h.browser.suggestionsView.list.current?.second.label == 2)
        // The preview shows the first person's example face.
        #expect(h.browser.previewSubject?.document.filename == h.people[0].example?.filename)
    }

    @Test("Enter merges the pair's second person into the first; the answer asks for the suggestions again")
    func merge() {
        var h = Harness(labelled: 9)
        h.openPeople()
        h.press(.character("s"))
        h.answerSuggestions([(0, 2, 0.1)])
        h.press(.enter)
        #expect(h.peopleChanges == [.merge(label: 2, into: 0)])
        guard case .changePeople(let token, _)? = h.effects.last else {
            Issue.record("no merge asked for")
            return
        }
        h.effects = []
        h.effects += h.browser.apply(
            .peopleChanged(token: token, message: "3 faces moved from person 2 to 0 (z undoes)", error: nil), now: h.now
        )
        #expect(h.suggestionLoads.count == 1 && h.peopleLoads.count == 1)
        #expect(h.browser.message?.text == "3 faces moved from person 2 to 0 (z undoes)")
        h.press(.character("z"))
        #expect(h.peopleChanges == [.undo])
    }

    @Test("d skips the pair for the session, also when the suggestions are read again; Esc goes back")
    func skip() {
        var h = Harness(labelled: 9)
        h.openPeople()
        h.press(.character("s"))
        h.answerSuggestions([(0, 2, 0.1), (0, 1, 0.3)])
        h.press(.character("d"))
        #expect(h.browser.suggestionsView.list.total == 1)
        #expect(h.browser.suggestionsView.list.current?.second.label == 1)
        #expect(h.peopleChanges.isEmpty)
        h.press(.escape)
        #expect(h.browser.context == .people)
        h.press(.character("s"))
        h.answerSuggestions([(0, 2, 0.1), (0, 1, 0.3)])
        #expect(h.browser.suggestionsView.list.total == 1)
    }

    @Test("a stale answer is dropped; a failure is kept for the view")
    func staleAndFailed() {
        var h = Harness(labelled: 9)
        h.openPeople()
        h.press(.character("s"))
        let first = h.suggestionLoads.last ?? 0
        h.press(.escape, .character("s"))
        _ = h.browser.apply(
            .suggestions(token: first, found: FoundSuggestions(pairs: [], compared: 0, people: 0, threshold: 0.5)),
            now: h.now)
        #expect(h.browser.suggestionsView.found == nil)
        let token = h.suggestionLoads.last ?? 0
        _ = h.browser.apply(.suggestionsFailed(token: token, error: "Redis went away"), now: h.now)
        #expect(h.browser.suggestionsView.error == "Redis went away")
    }
}
