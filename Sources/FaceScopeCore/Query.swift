/// Builds RediSearch query strings from user input. Everything a user or a filename contributes
/// goes through these functions, so no input can change a query's structure or cause a syntax
/// error.
public enum SearchQuery {
    /// Escapes a value for a TAG clause `@field:{...}`: every ASCII character other than a letter,
    /// a digit or `_` is preceded by a backslash (RediSearch's tag lexer treats punctuation,
    /// spaces and `|` as syntax). Characters outside ASCII are kept as they are.
    public static func escapeTag(_ value: String) -> String {
        var out = ""
        out.reserveCapacity(value.utf8.count + 8)
        for scalar in value.unicodeScalars {
            if scalar.isASCII && !isWordCharacter(scalar) { out += "\\" }
            out.unicodeScalars.append(scalar)
        }
        return out
    }

    /// `@field:{value}`: matches documents whose tag equals `value` (case as the index says).
    public static func tagEquals(field: String, value: String) -> String {
        "@\(field):{\(escapeTag(value))}"
    }

    /// The words of a full-text search as RediSearch's tokenizer would split the indexed text,
    /// each with whether the user asked for a prefix match (`holi*`).
    public static func words(of text: String) -> [(word: String, prefix: Bool)] {
        var result: [(String, Bool)] = []
        var current = String.UnicodeScalarView()
        func finish(prefix: Bool) {
            if !current.isEmpty {
                result.append((String(current), prefix))
                current.removeAll()
            }
        }
        var escaped = false
        for scalar in text.unicodeScalars {
            if escaped {
                // The tokenizer keeps a backslash-escaped character in the word, without the backslash.
                current.append(scalar)
                escaped = false
            } else if scalar == "\\" {
                escaped = true
            } else if scalar == "*" {
                finish(prefix: true)
            } else if isSeparator(scalar) {
                finish(prefix: false)
            } else {
                current.append(scalar)
            }
        }
        finish(prefix: false)
        return result
    }

    /// A full-text query over `field` that matches documents containing every word of `text`;
    /// a word ending in `*` matches as a prefix (two characters or more, as RediSearch requires).
    /// Text with no words matches everything.
    public static func fullText(field: String, text: String) -> String {
        let terms = words(of: text).map { word, prefix -> String in
            let escaped = escapeTag(word)
            return prefix && word.count >= 2 ? escaped + "*" : escaped
        }
        if terms.isEmpty { return "*" }
        return "@\(field):(\(terms.joined(separator: " ")))"
    }

    static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F: return true
        default: return false
        }
    }

    /// The characters RediSearch's default tokenizer splits indexed text on (measured against
    /// RediSearch 2.10: space, tab and ASCII punctuation except `_` and `\`). Control characters,
    /// `\` and everything outside ASCII stay inside words.
    static let separators: Set<Unicode.Scalar> = Set(" \t!\"#$%&'()*+,-./:;<=>?@[]^`{|}~".unicodeScalars)

    static func isSeparator(_ s: Unicode.Scalar) -> Bool {
        separators.contains(s)
    }
}
