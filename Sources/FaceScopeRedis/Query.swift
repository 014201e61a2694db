import FaceScopeCore

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

    static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
        switch s.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A, 0x5F: return true
        default: return false
        }
    }
}

extension SearchPlan {
    /// RediSearch query text for the whole words over `field` (words are letters and digits
    /// only, so nothing in them is query syntax); `*` when there are none. `fuzzy` allows one
    /// typo in each word of three letters or more.
    public func wordQuery(field: String, fuzzy: Bool = false) -> String {
        guard !words.isEmpty else { return "*" }
        let terms = words.map { fuzzy && $0.count >= 3 ? "%\(SearchQuery.escapeTag($0))%" : SearchQuery.escapeTag($0) }
        return "@\(field):(\(terms.joined(separator: " ")))"
    }
}
