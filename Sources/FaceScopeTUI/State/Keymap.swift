import FaceScopeCore

/// A key press, independent of the terminal library that read it.
enum Key: Hashable, Sendable {
    /// A printable character (Space included).
    case character(Character)
    /// A letter pressed with Control (`ctrl("l")` is Ctrl-L).
    case ctrl(Character)
    case up, down, left, right, pageUp, pageDown, home, end
    case enter, escape, backspace, tab, backTab, delete
    /// The terminal changed size.
    case resize
    /// A mouse event: a click at a screen cell, or the wheel.
    case mouse(MouseEvent)

    /// How the help screen writes this key.
    var label: String {
        switch self {
        case .character(" "): return "Space"
        case .character(let c): return String(c)
        case .ctrl(let c): return "Ctrl-" + String(c).uppercased()
        case .up: return "↑"
        case .down: return "↓"
        case .left: return "←"
        case .right: return "→"
        case .pageUp: return "PgUp"
        case .pageDown: return "PgDn"
        case .home: return "Home"
        case .end: return "End"
        case .enter: return "Enter"
        case .escape: return "Esc"
        case .backspace: return "Backspace"
        case .tab: return "Tab"
        case .backTab: return "Shift-Tab"
        case .delete: return "Delete"
        case .resize: return "(resize)"
        case .mouse: return "(mouse)"
        }
    }
}

/// What the mouse did.
enum MouseEvent: Hashable, Sendable {
    /// A left click on the cell at `column`, `row` (0-based screen coordinates).
    case click(column: Int, row: Int)
    case wheelUp, wheelDown
}

/// Everything a key can ask the browser to do.
enum Action: String, Hashable, Sendable, CaseIterable {
    case moveDown, moveUp, pageDown, pageUp, top, bottom
    case nextMatch, previousMatch
    case startSearch, clearSearch
    case toggleSelect, selectAll, clearSelection
    case toggleSort, reverseSort
    case toggleBoxes, toggleLandmarks, toggleZoom
    case narrowList, widenList, toggleListOnly
    case openDetail, closeView, nextFace, previousFace
    case redetect, confirmReplace, confirmKeepLabels, cancelPrompt, cancelDetection
    case reload, redraw, help, quit
    case submitSearch, cancelSearch, deleteBackward, clearQuery
    case showPeople, openPerson, renamePerson, mergePerson, confirmMerge, submitPrompt
    case moreLikeThis, jumpToFace
    case filterPeople, toggleUnnamed, toggleSingles, undoPeopleEdit
    case moveFace, separateFace, showFaces
    case showSuggestions, mergeSuggested, skipSuggestion
    case openImage, copyPath
}

/// Where the user is; each context has its own bindings.
enum KeyContext: String, Hashable, Sendable, CaseIterable {
    /// The list and the preview.
    case browse
    /// One face enlarged.
    case detail
    /// The people (face labels).
    case people
    /// The faces most like one face.
    case similar
    /// A person's faces as a grid of thumbnails.
    case faces
    /// Pairs of people that may be one person.
    case suggestions
    /// Typing a search.
    case search
    /// Typing a filter on the people's names.
    case peopleFilter
    /// Asked how to re-detect.
    case confirm
    /// Typing a line: a person's name, or the label to merge into.
    case input
    /// Asked whether to merge two people.
    case confirmMerge
    /// The help screen.
    case help

    /// The heading of this context's section on the help screen.
    var title: String {
        switch self {
        case .browse: return "Browsing"
        case .detail: return "Face detail (Enter)"
        case .people: return "People (p)"
        case .similar: return "More like this (L in face detail)"
        case .faces: return "A person's faces (f in people)"
        case .suggestions: return "Merge suggestions (s in people)"
        case .search: return "Searching (/)"
        case .peopleFilter: return "Filtering people (/ in people)"
        case .confirm: return "Re-detect prompt (r)"
        case .input: return "Name / label prompt (e, M in people; v in face detail)"
        case .confirmMerge: return "Merge prompt"
        case .help: return "This help (?)"
        }
    }
}

/// One line of the keymap: the keys, the action they run, and what the help screen says.
struct KeyBinding: Sendable, Equatable {
    var keys: [Key]
    var action: Action
    var description: String
    var contexts: [KeyContext]

    /// A binding of `keys` to `action` in `contexts`.
    init(_ keys: [Key], _ action: Action, _ description: String, in contexts: [KeyContext]) {
        self.keys = keys
        self.action = action
        self.description = description
        self.contexts = contexts
    }
}

/// One line of the generated help screen.
enum HelpLine: Equatable, Sendable {
    case heading(String)
    case binding(keys: String, description: String)
    case blank
}

/// The keymap: data, from which both key handling and the help screen are derived, so the help
/// can never disagree with what the keys do.
struct Keymap: Sendable {
    var bindings: [KeyBinding]

    /// A keymap made of these bindings (first match wins).
    init(bindings: [KeyBinding]) {
        self.bindings = bindings
    }

    /// The action `key` runs in `context`, if any.
    func action(for key: Key, in context: KeyContext) -> Action? {
        bindings.first { $0.contexts.contains(context) && $0.keys.contains(key) }?.action
    }

    /// The keys bound to `action` in `context`, as the help screen writes them ("j / ↓").
    func keyLabel(for action: Action, in context: KeyContext) -> String? {
        guard let binding = bindings.first(where: { $0.action == action && $0.contexts.contains(context) }) else {
            return nil
        }
        return binding.keys.map(\.label).joined(separator: " / ")
    }

    /// The help screen: one section per context, each binding once with its keys and description.
    func helpLines() -> [HelpLine] {
        var lines: [HelpLine] = []
        for context in KeyContext.allCases {
            let section = bindings.filter { $0.contexts.first == context }
            if section.isEmpty { continue }
            if !lines.isEmpty { lines.append(.blank) }
            lines.append(.heading(context.title))
            for binding in section {
                lines.append(
                    .binding(keys: binding.keys.map(\.label).joined(separator: " / "), description: binding.description)
                )
            }
        }
        return lines
    }

    /// The help screen as text lines, keys padded to one column.
    func helpText(width: Int) -> [String] {
        let lines = helpLines()
        let keyWidth = min(
            24,
            lines.reduce(0) { w, line in
                if case .binding(let keys, _) = line { return max(w, TerminalText.width(keys)) }
                return w
            })
        return lines.map { line in
            switch line {
            case .heading(let title): return TerminalText.truncate(title, columns: width)
            case .blank: return ""
            case .binding(let keys, let description):
                return TerminalText.truncate(
                    "  " + TerminalText.pad(keys, columns: keyWidth) + "  " + description, columns: width)
            }
        }
    }

    /// FaceScope's keys: vim-style and arrows.
    static let standard = Keymap(
        bindings: [
            // Browsing
            KeyBinding([.character("j"), .down], .moveDown, "next image", in: [.browse]),
            KeyBinding([.character("k"), .up], .moveUp, "previous image", in: [.browse]),
            KeyBinding([.ctrl("f"), .pageDown, .ctrl("d")], .pageDown, "page down", in: [.browse]),
            KeyBinding([.ctrl("b"), .pageUp, .ctrl("u")], .pageUp, "page up", in: [.browse]),
            KeyBinding([.character("g"), .home], .top, "first image", in: [.browse]),
            KeyBinding([.character("G"), .end], .bottom, "last image", in: [.browse]),
            KeyBinding([.character("/")], .startSearch, "search filenames (full text, as you type)", in: [.browse]),
            KeyBinding([.character("n")], .nextMatch, "next search result", in: [.browse]),
            KeyBinding([.character("N")], .previousMatch, "previous search result", in: [.browse]),
            KeyBinding([.escape], .clearSearch, "clear the search", in: [.browse]),
            KeyBinding([.character(" ")], .toggleSelect, "select / unselect the image", in: [.browse]),
            KeyBinding([.character("a")], .selectAll, "select every image listed", in: [.browse]),
            KeyBinding([.character("x")], .clearSelection, "clear the selection", in: [.browse]),
            KeyBinding([.character("s")], .toggleSort, "sort by filename / face count", in: [.browse]),
            KeyBinding([.character("S")], .reverseSort, "reverse the order", in: [.browse]),
            KeyBinding([.character("b")], .toggleBoxes, "show / hide face boxes", in: [.browse, .detail]),
            KeyBinding([.character("m")], .toggleLandmarks, "show / hide the 80 landmarks", in: [.browse, .detail]),
            KeyBinding([.character("z")], .toggleZoom, "preview full screen / beside the list", in: [.browse]),
            KeyBinding([.character("<")], .narrowList, "narrow the list (the preview gets wider)", in: [.browse]),
            KeyBinding([.character(">")], .widenList, "widen the list (the preview gets narrower)", in: [.browse]),
            KeyBinding(
                [.character("w")], .toggleListOnly, "list only (whole width, no preview) / list and preview",
                in: [.browse]),
            KeyBinding([.enter, .character("f")], .openDetail, "zoom on the faces of the image", in: [.browse]),
            KeyBinding(
                [.character("r")], .redetect, "re-detect the selection (or this image) through Triton",
                in: [.browse, .detail]),
            KeyBinding(
                [.character("c")], .cancelDetection, "cancel the detection run / close its panel",
                in: [.browse, .detail]),
            KeyBinding(
                [.character("o")], .openImage, "open the image in the system viewer ($FACESCOPE_OPENER, else xdg-open)",
                in: [.browse, .detail]),
            KeyBinding(
                [.character("y")], .copyPath, "copy the image's path (to the terminal's clipboard, OSC 52)",
                in: [.browse, .detail]),
            KeyBinding([.character("p")], .showPeople, "people: faces grouped by label", in: [.browse, .detail]),
            KeyBinding([.character("R")], .reload, "reload from Redis", in: [.browse, .people]),
            KeyBinding(
                [.ctrl("l")], .redraw, "redraw the screen",
                in: [.browse, .detail, .people, .similar, .faces, .suggestions]),
            KeyBinding(
                [.character("?")], .help, "this help", in: [.browse, .detail, .people, .similar, .faces, .suggestions]),
            KeyBinding([.character("q"), .ctrl("c")], .quit, "quit", in: [.browse]),
            // Face detail
            KeyBinding([.character("l"), .right, .tab, .character("n")], .nextFace, "next face", in: [.detail]),
            KeyBinding(
                [.character("h"), .left, .backTab, .character("N")], .previousFace, "previous face",
                in: [.detail]),
            KeyBinding(
                [.character("L")], .moreLikeThis, "more like this: the faces nearest to this one", in: [.detail]),
            KeyBinding(
                [.character("v")], .moveFace, "move the face to another person (asks a label or a name)",
                in: [.detail]),
            KeyBinding(
                [.character("x")], .separateFace, "not this person: the face gets a person of its own",
                in: [.detail]),
            KeyBinding(
                [.character("z")], .undoPeopleEdit, "undo the last people edit (move, not this person…)", in: [.detail]),
            KeyBinding([.escape, .character("q"), .backspace], .closeView, "back to the list", in: [.detail]),
            KeyBinding([.ctrl("c")], .quit, "quit", in: [.detail, .people, .similar, .faces, .suggestions]),
        ] + PeopleContext.bindings + SimilarContext.bindings + FaceGridContext.bindings + SuggestionsContext.bindings
            + [
                // Searching
                KeyBinding([.enter], .submitSearch, "keep the results and go back to the list", in: [.search]),
                KeyBinding([.escape, .ctrl("c")], .cancelSearch, "clear the search", in: [.search]),
                KeyBinding([.down, .ctrl("n")], .nextMatch, "next result", in: [.search]),
                KeyBinding([.up, .ctrl("p")], .previousMatch, "previous result", in: [.search]),
                KeyBinding([.backspace], .deleteBackward, "delete a character", in: [.search]),
                KeyBinding([.ctrl("u")], .clearQuery, "delete the whole query", in: [.search]),
            ] + PeopleContext.filterBindings + Prompt.bindings + [
                // Help
                KeyBinding([.character("j"), .down], .moveDown, "scroll down", in: [.help]),
                KeyBinding([.character("k"), .up], .moveUp, "scroll up", in: [.help]),
                KeyBinding([.escape, .character("q"), .character("?")], .closeView, "close the help", in: [.help]),
            ])
}
