import FaceScopeCore

/// A question on the prompt line.
enum Prompt: Sendable, Equatable {
    /// How to re-detect `count` images (`what` names them); `labels`: how many of their faces have
    /// a person, which replacing would drop (nil when not known: images not read yet).
    case redetect(target: DetectionTarget, count: Int, what: String, labels: Int?)
    /// Typing a new name for person `label`.
    case rename(label: Int, text: String)
    /// Typing the label that person `label` is merged into.
    case mergeTarget(label: Int, text: String)
    /// Asked whether to merge person `label` into `into` (`what` says it in words).
    case merge(label: Int, into: Int, what: String)
    /// Typing the person (a label, or a name or the unique start of one) to move `face` to.
    case moveFace(face: StoredFace, text: String)

    /// The text typed on a line prompt.
    var text: String? {
        switch self {
        case .rename(_, let text), .mergeTarget(_, let text), .moveFace(_, let text): return text
        case .redetect, .merge: return nil
        }
    }

    /// The same prompt with other text typed.
    func with(text new: String) -> Prompt {
        switch self {
        case .rename(let label, _): return .rename(label: label, text: new)
        case .mergeTarget(let label, _): return .mergeTarget(label: label, text: new)
        case .moveFace(let face, _): return .moveFace(face: face, text: new)
        case .redetect, .merge: return self
        }
    }
}

/// What answering a prompt asks the browser to do.
enum PromptOutcome: Sendable, Equatable {
    /// The prompt stays open (text typed or deleted).
    case kept
    /// The prompt was closed without doing anything.
    case closed
    /// Re-detect these images, keeping or replacing labels.
    case detect(DetectionTarget, FaceMergeMode)
    /// Give `label` this name (empty removes it).
    case rename(label: Int, name: String)
    /// Ask whether to merge `label` into `into`.
    case askMerge(label: Int, into: Int)
    /// Merge `label` into `into`.
    case merge(label: Int, into: Int)
    /// Move `face` to the person `person` names (looked up by the store).
    case move(face: StoredFace, person: String)
    /// The answer cannot be taken (the prompt stays open): say why.
    case refused(String)
}

/// The prompts' reducer: each key while a prompt is open.
extension Prompt {
    /// The prompts' keys: confirming a re-detection, typing a name or label, confirming a merge.
    static let bindings: [KeyBinding] = [
        KeyBinding(
            [.enter, .character("k")], .confirmKeepLabels,
            "keep the people: a face on an old box keeps its label", in: [.confirm]),
        KeyBinding(
            [.character("r")], .confirmReplace, "replace the faces, dropping their labels", in: [.confirm]),
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

    /// A character typed on a line prompt.
    static func type(_ text: String, on prompt: inout Prompt?) {
        guard let line = prompt?.text else { return }
        prompt = prompt?.with(text: line + text)
    }

    /// Handles `action` for the open prompt; nil when it is not a prompt's action.
    static func perform(_ action: Action, on prompt: inout Prompt?) -> PromptOutcome? {
        guard let open = prompt else { return nil }
        switch (action, open) {
        case (.cancelPrompt, _):
            prompt = nil
            return .closed
        case (.deleteBackward, _):
            if let line = open.text { prompt = open.with(text: String(line.dropLast())) }
            return .kept
        case (.clearQuery, _):
            if open.text != nil { prompt = open.with(text: "") }
            return .kept
        case (.confirmReplace, .redetect(let target, _, _, _)), (.confirmKeepLabels, .redetect(let target, _, _, _)):
            prompt = nil
            return .detect(target, action == .confirmKeepLabels ? .keepLabels : .replace)
        case (.submitPrompt, .rename(let label, let text)):
            prompt = nil
            return .rename(label: label, name: text.trimmingBlanks())
        case (.submitPrompt, .mergeTarget(let label, let text)):
            guard let into = Int(text.trimmingBlanks()) else {
                return .refused("type the label of the person to merge into (a number)")
            }
            guard into != label else { return .refused("a person cannot be merged into itself") }
            return .askMerge(label: label, into: into)
        case (.submitPrompt, .moveFace(let face, let text)):
            let person = text.trimmingBlanks()
            guard !person.isEmpty else {
                return .refused("type the label or the name of the person to move the face to")
            }
            prompt = nil
            return .move(face: face, person: person)
        case (.confirmMerge, .merge(let label, let into, _)):
            prompt = nil
            return .merge(label: label, into: into)
        default:
            return nil
        }
    }
}
