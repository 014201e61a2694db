import Foundation

/// The words of a filename as people type them: `examples/obama_and_biden.jpg` is `examples obama
/// and biden jpg`, `IMG_000123.JPG` is `img 000123 jpg`, `grandpaWedding2008.png` is `grandpa
/// wedding 2008 png`, `Café.jpg` is `cafe jpg`.
///
/// Words are split at every character that is not a letter or a digit (any script), between
/// letters and digits, and where a lower-case letter is followed by an upper-case one (or an
/// upper-case run by an upper-case letter and a lower-case one: `XMLFile` is `xml file`). Then
/// they are folded: lower case, accents removed. Folder names are words like any other.
public enum FilenameWords {
    /// The folded words of `text`, in order (repeats kept).
    public static func split(_ text: String) -> [String] {
        var words: [String] = []
        var current: [Character] = []
        func finish() {
            if !current.isEmpty {
                words.append(fold(String(current)))
                current.removeAll()
            }
        }
        let characters = Array(text)
        for (i, c) in characters.enumerated() {
            guard isWordCharacter(c) else {
                finish()
                continue
            }
            if let previous = current.last {
                let next = i + 1 < characters.count ? characters[i + 1] : nil
                if boundary(previous, c, next) { finish() }
            }
            current.append(c)
        }
        finish()
        return words.filter { !$0.isEmpty }
    }

    /// The value FaceScope stores for a filename in its index (`filename_words`): the words,
    /// each preceded by a space, so `contains(@filename_words, ' pre')` finds a word start.
    public static func indexed(_ filename: String) -> String {
        indexed(words: split(filename))
    }

    /// ``indexed(_:)`` of a filename whose words (``split(_:)``) are known.
    public static func indexed(words: [String]) -> String {
        words.map { " " + $0 }.joined()
    }

    /// The longest word start FaceScope indexes as a tag of its own (``starts(_:)``); longer typed
    /// starts are narrowed by this one, then checked exactly.
    public static let longestIndexedStart = 12

    /// Every start of every word of `filename`, one to ``longestIndexedStart`` characters, each
    /// once, space-separated: the tags that make a typed word start an exact index lookup
    /// (RediSearch's own prefix queries stop expanding at 200 words).
    public static func starts(_ filename: String) -> String {
        starts(words: split(filename))
    }

    /// ``starts(_:)`` of a filename whose words (``split(_:)``) are known.
    public static func starts(words: [String]) -> String {
        var seen = Set<String>()
        var out: [String] = []
        for word in words {
            var start = ""
            for c in word.prefix(longestIndexedStart) {
                start.append(c)
                if seen.insert(start).inserted { out.append(start) }
            }
        }
        return out.joined(separator: " ")
    }

    /// Lower case without accents (`Émile` is `emile`); letters that have no plain form stay.
    public static func fold(_ word: String) -> String {
        word.folding(options: [.caseInsensitive, .diacriticInsensitive, .widthInsensitive], locale: nil)
            .lowercased()
    }

    static func isWordCharacter(_ c: Character) -> Bool {
        c.isLetter || c.isNumber || c.unicodeScalars.allSatisfy { $0.properties.generalCategory == .nonspacingMark }
    }

    /// Whether a word ends between `a` and `b` (`c` follows `b`).
    static func boundary(_ a: Character, _ b: Character, _ c: Character?) -> Bool {
        if a.isNumber != b.isNumber { return true }
        if a.isLowercase && b.isUppercase { return true }
        if a.isUppercase, b.isUppercase, let c, c.isLowercase { return true }
        return false
    }
}

/// What a search text asks for: words that must be in a filename (or a person's name), and
/// words of which only the start was typed.
///
/// The text is split like filenames (``FilenameWords``). A word ending in `*` is a prefix; so is
/// the last word while it is still being typed (no space or punctuation after it), which makes
/// the command line and the browser's search-as-you-type one and the same search.
public struct SearchPlan: Sendable, Equatable {
    public var words: [String]
    public var prefixes: [String]

    public init(words: [String], prefixes: [String]) {
        self.words = words
        self.prefixes = prefixes
    }

    public init(_ text: String) {
        var words: [String] = []
        var prefixes: [String] = []
        // Split at spaces first, so `*` marks the piece it ends.
        let pieces = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let openEnd = text.last.map { FilenameWords.isWordCharacter($0) || $0 == "*" } ?? false
        for (i, piece) in pieces.enumerated() {
            let starred = piece.hasSuffix("*")
            let parts = FilenameWords.split(piece)
            guard let last = parts.last else { continue }
            words += parts.dropLast()
            let lastPiece = i == pieces.count - 1
            let pieceEndsInWord = piece.last.map(FilenameWords.isWordCharacter) ?? false
            if starred || (lastPiece && openEnd && pieceEndsInWord) {
                prefixes.append(last)
            } else {
                words.append(last)
            }
        }
        self.init(words: words, prefixes: prefixes)
    }

    public var isEmpty: Bool { words.isEmpty && prefixes.isEmpty }

    /// Whether a name (a person's) matches: every word is one of its words and every prefix
    /// starts one.
    public func matches(name: String) -> Bool {
        guard !isEmpty else { return false }
        let nameWords = FilenameWords.split(name)
        return words.allSatisfy { nameWords.contains($0) }
            && prefixes.allSatisfy { p in nameWords.contains { $0.hasPrefix(p) } }
    }
}
