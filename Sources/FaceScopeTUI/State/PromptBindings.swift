/// The prompts' keys: confirming a re-detection, typing a name or label, confirming a merge.
extension Prompt {
    static let bindings: [KeyBinding] = [
        KeyBinding([.character("r"), .enter], .confirmReplace, "replace the faces with the new ones", in: [.confirm]),
        KeyBinding(
            [.character("k")], .confirmKeepLabels, "keep labels of faces that overlap a new box (IoU > 0.5)",
            in: [.confirm]),
        KeyBinding([.escape, .character("q"), .ctrl("c")], .cancelPrompt, "do nothing", in: [.confirm]),
        // Name / label prompt
        KeyBinding([.enter], .submitPrompt, "done", in: [.input]),
        KeyBinding([.escape, .ctrl("c")], .cancelPrompt, "cancel", in: [.input]),
        KeyBinding([.backspace], .deleteBackward, "delete a character", in: [.input]),
        KeyBinding([.ctrl("u")], .clearQuery, "delete the whole line", in: [.input]),
        // Merge prompt
        KeyBinding(
            [.character("y"), .enter], .confirmMerge, "merge (every face takes the other label)", in: [.confirmMerge]),
        KeyBinding(
            [.character("n"), .escape, .character("q"), .ctrl("c")], .cancelPrompt, "do nothing", in: [.confirmMerge]),
    ]
}
