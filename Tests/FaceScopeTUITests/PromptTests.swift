import FaceScopeCore
import Testing

@testable import FaceScopeTUI

@Suite("The prompts' reducer")
struct PromptTests {
    @Test("a typed label is checked before the merge is asked")
    func mergeTarget() {
        var prompt: Prompt? = .mergeTarget(label: 3, text: "")
        Prompt.type("x", on: &prompt)
        #expect(
            Prompt.perform(.submitPrompt, on: &prompt)
                == .refused("type the label of the person to merge into (a number)"))
        #expect(prompt == .mergeTarget(label: 3, text: "x"))
        #expect(Prompt.perform(.deleteBackward, on: &prompt) == .kept)
        Prompt.type("3", on: &prompt)
        #expect(Prompt.perform(.submitPrompt, on: &prompt) == .refused("a person cannot be merged into itself"))
        #expect(Prompt.perform(.clearQuery, on: &prompt) == .kept && prompt?.text == "")
        Prompt.type(" 7 ", on: &prompt)
        #expect(Prompt.perform(.submitPrompt, on: &prompt) == .askMerge(label: 3, into: 7))
    }

    @Test("confirming a re-detection closes the prompt with the mode chosen")
    func redetect() {
        var prompt: Prompt? = .redetect(target: .files(["a.jpg"]), count: 1, what: "a.jpg", labels: 2)
        #expect(Prompt.perform(.confirmKeepLabels, on: &prompt) == .detect(.files(["a.jpg"]), .keepLabels))
        #expect(prompt == nil)
        prompt = .redetect(target: .files(["a.jpg"]), count: 1, what: "a.jpg", labels: 2)
        #expect(Prompt.perform(.confirmReplace, on: &prompt) == .detect(.files(["a.jpg"]), .replace))
        prompt = .merge(label: 1, into: 2, what: "")
        #expect(Prompt.perform(.confirmMerge, on: &prompt) == .merge(label: 1, into: 2) && prompt == nil)
        prompt = .rename(label: 4, text: "  Ada ")
        #expect(Prompt.perform(.submitPrompt, on: &prompt) == .rename(label: 4, name: "Ada"))
        prompt = .rename(label: 4, text: "")
        #expect(Prompt.perform(.cancelPrompt, on: &prompt) == .closed && prompt == nil)
        #expect(Prompt.perform(.submitPrompt, on: &prompt) == nil)
    }
}
