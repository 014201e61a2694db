import FaceScopeCore

/// Filenames fitted to a list column by cutting them in the middle, so both the folder they
/// start with and the file's own name stay readable (`examples/…/john1.jpeg`), and rows that
/// hold different files never look the same.
enum NameShortener {
    /// `name` (sanitized already) in at most `columns` columns: whole when it fits; else its first
    /// folder, "…/" and as much of the end as fits; else a cut in the middle.
    static func shorten(_ name: String, columns: Int) -> String {
        guard columns > 0 else { return "" }
        if TerminalText.width(name) <= columns { return name }
        let scalars = Array(name.unicodeScalars)
        if let slash = scalars.firstIndex(of: "/"), slash > 0 {
            let head = String(String.UnicodeScalarView(scalars[...slash]))
            let tail = suffix(scalars[(slash + 1)...], columns: columns - TerminalText.width(head) - 1)
            // Worth it only when most of the file's own name is left.
            let base = scalars.lastIndex(of: "/").map { scalars.count - $0 - 1 } ?? scalars.count
            if tail.unicodeScalars.count >= min(base, 8) { return head + "…" + tail }
        }
        return cut(scalars, keepingFirst: (columns - 1) / 3, columns: columns)
    }

    /// Every name shortened to `columns`; names that come out alike although they differ are
    /// shortened again at other cuts until they are told apart (as far as `columns` allows).
    static func shortenAll(_ names: [String], columns: Int) -> [String] {
        var out = names.map { shorten($0, columns: columns) }
        var groups: [String: Set<String>] = [:]
        for (name, short) in zip(names, out) { groups[short, default: []].insert(name) }
        for (short, originals) in groups where originals.count > 1 {
            let group = Array(originals)
            var chosen: [String: String]?
            // Longer and longer starts (shorter ends) until the differing characters come into view.
            for first in 0...max(0, columns - 2) {
                let tries = group.map { cut(Array($0.unicodeScalars), keepingFirst: first, columns: columns) }
                if Set(tries).count == group.count {
                    chosen = Dictionary(uniqueKeysWithValues: zip(group, tries))
                    break
                }
            }
            // Still alike (the difference lies deep in the middle): show around where they differ.
            let picked = chosen ?? around(group, columns: columns)
            for i in out.indices where out[i] == short { out[i] = picked[names[i]] ?? out[i] }
        }
        return out
    }

    /// The first `keepingFirst` columns, "…", and the end, in `columns` columns.
    static func cut(_ scalars: [Unicode.Scalar], keepingFirst: Int, columns: Int) -> String {
        let whole = String(String.UnicodeScalarView(scalars))
        if TerminalText.width(whole) <= columns { return whole }
        var head = String.UnicodeScalarView()
        var used = 0
        for s in scalars {
            let w = TerminalText.columns(of: s)
            if used + w > keepingFirst { break }
            head.append(s)
            used += w
        }
        return String(head) + "…" + suffix(scalars[head.count...], columns: columns - used - 1)
    }

    private static func suffix(_ scalars: ArraySlice<Unicode.Scalar>, columns: Int) -> String {
        var out: [Unicode.Scalar] = []
        var used = 0
        for s in scalars.reversed() {
            let w = TerminalText.columns(of: s)
            if used + w > columns { break }
            out.append(s)
            used += w
        }
        return String(String.UnicodeScalarView(out.reversed()))
    }

    /// "…" + the part around the first character where the names differ + "…".
    private static func around(_ group: [String], columns: Int) -> [String: String] {
        let arrays = group.map { Array($0.unicodeScalars) }
        var common = 0
        while arrays.allSatisfy({ common < $0.count }), Set(arrays.map { $0[common] }).count == 1 { common += 1 }
        var result: [String: String] = [:]
        for (name, scalars) in zip(group, arrays) {
            let start = max(0, min(common - (columns - 2) / 2, scalars.count - (columns - 2)))
            let window = scalars[start..<min(scalars.count, start + columns - 2)]
            result[name] = "…" + String(String.UnicodeScalarView(window)) + "…"
        }
        return result
    }
}
