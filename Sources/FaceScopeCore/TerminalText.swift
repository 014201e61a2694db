/// Makes untrusted text (filenames, server replies) safe to print on a terminal.
public enum TerminalText {
    /// Replaces C0 and C1 control characters and DEL (escape sequences, carriage returns, bells)
    /// with U+FFFD, and bidirectional overrides with nothing, so text can neither move the cursor
    /// nor change the terminal's state.
    public static func sanitize(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var changed = false
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x00...0x1F, 0x7F...0x9F:
                out.append("\u{FFFD}")
                changed = true
            case 0x202A...0x202E, 0x2066...0x2069:
                changed = true
            default:
                out.append(scalar)
            }
        }
        return changed ? String(out) : text
    }

    /// Display width in terminal columns (wide East Asian characters and emoji count 2,
    /// combining marks 0).
    public static func width(_ text: String) -> Int {
        text.unicodeScalars.reduce(0) { $0 + columns(of: $1) }
    }

    public static func columns(of s: Unicode.Scalar) -> Int {
        let v = s.value
        if v == 0 { return 0 }
        if s.properties.generalCategory == .nonspacingMark || s.properties.generalCategory == .enclosingMark
            || v == 0x200D || (0xFE00...0xFE0F).contains(v)
        {
            return 0
        }
        if (0x1100...0x115F).contains(v) || (0x2E80...0xA4CF).contains(v) || (0xAC00...0xD7A3).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0xFE30...0xFE4F).contains(v) || (0xFF00...0xFF60).contains(v)
            || (0xFFE0...0xFFE6).contains(v) || (0x1F300...0x1F64F).contains(v) || (0x1F900...0x1F9FF).contains(v)
            || (0x1F680...0x1F6FF).contains(v) || (0x20000...0x3FFFD).contains(v)
        {
            return 2
        }
        return 1
    }

    /// Cuts `text` to at most `columns` display columns, marking a cut with an ellipsis.
    public static func truncate(_ text: String, columns: Int) -> String {
        guard columns > 0 else { return "" }
        if width(text) <= columns { return text }
        var out = String.UnicodeScalarView()
        var used = 0
        for scalar in text.unicodeScalars {
            let w = Self.columns(of: scalar)
            if used + w > columns - 1 { break }
            out.append(scalar)
            used += w
        }
        return String(out) + "…"
    }

    /// Pads with spaces to exactly `columns` display columns (truncating when longer).
    public static func pad(_ text: String, columns: Int) -> String {
        let t = truncate(text, columns: columns)
        return t + String(repeating: " ", count: max(0, columns - width(t)))
    }
}
