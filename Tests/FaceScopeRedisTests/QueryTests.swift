import FaceScopeCore
import Testing

@testable import FaceScopeRedis

@Suite("RediSearch query escaping")
struct QueryTests {
    @Test(
        "tag values escape every ASCII punctuation and space",
        arguments: [
            ("plain.jpg", "plain\\.jpg"),
            ("a b.jpg", "a\\ b\\.jpg"),
            ("holiday-2023_img.jpg", "holiday\\-2023_img\\.jpg"),
            ("user@host:x|y.png", "user\\@host\\:x\\|y\\.png"),
            ("{curly}?.jpg", "\\{curly\\}\\?\\.jpg"),
            ("tick`quote\"'.jpg", "tick\\`quote\\\"\\'\\.jpg"),
            ("100%*.jpg", "100\\%\\*\\.jpg"),
            ("dir/sub\\x.jpg", "dir\\/sub\\\\x\\.jpg"),
            ("café 😀.jpg", "café\\ 😀\\.jpg"),
            ("tab\there.jpg", "tab\\\there\\.jpg"),
        ])
    func escapeTag(input: String, expected: String) {
        #expect(SearchQuery.escapeTag(input) == expected)
    }

    @Test("escaped tag values contain no unescaped syntax character")
    func noBareSyntax() {
        let hostile = "-.@:|{}?`\"'%*()[]<>!#$^&+=~/\\;, \t"
        let escaped = SearchQuery.escapeTag(hostile)
        var previousWasBackslash = false
        for scalar in escaped.unicodeScalars {
            if previousWasBackslash {
                previousWasBackslash = false
                continue
            }
            if scalar == "\\" {
                previousWasBackslash = true
                continue
            }
            Issue.record("unescaped \(scalar) in \(escaped)")
        }
    }
}

@Suite("Terminal text")
struct TerminalTextTests {
    @Test("control characters and escape sequences are neutralised")
    func sanitize() {
        #expect(TerminalText.sanitize("ok.jpg") == "ok.jpg")
        #expect(TerminalText.sanitize("\u{1B}[31mred\u{07}.jpg") == "\u{FFFD}[31mred\u{FFFD}.jpg")
        #expect(TerminalText.sanitize("a\rb\nc\u{9B}d") == "a\u{FFFD}b\u{FFFD}c\u{FFFD}d")
        #expect(TerminalText.sanitize("evil\u{202E}gpj.exe") == "evilgpj.exe")
    }

    @Test("widths, truncation and padding count columns")
    func widths() {
        #expect(TerminalText.width("abc") == 3)
        #expect(TerminalText.width("日本") == 4)
        #expect(TerminalText.width("😀") == 2)
        #expect(TerminalText.truncate("abcdef", columns: 4) == "abc…")
        #expect(TerminalText.pad("ab", columns: 4) == "ab  ")
        #expect(TerminalText.width(TerminalText.pad("日本語テキスト", columns: 7)) <= 7)
    }
}

@Suite("RediSearch words and redis-om's schema")
struct RedisTextTests {
    @Test("word queries contain nothing but words, and a typo-tolerant form")
    func queries() {
        #expect(SearchPlan("obama biden ").wordQuery(field: "w") == "@w:(obama biden)")
        #expect(SearchPlan("obma ").wordQuery(field: "w", fuzzy: true) == "@w:(%obma%)")
        #expect(SearchPlan("ab ").wordQuery(field: "w", fuzzy: true) == "@w:(ab)")
        #expect(SearchPlan("holi").wordQuery(field: "w") == "*")
        #expect(SearchPlan("user@host-a-b:c 100% ").wordQuery(field: "w") == "@w:(user host a b c 100)")
    }

    @Test("redis-om's schema hash for the original Model class")
    func schemaHash() throws {
        // The value redis-om 0.3.5 computes for the original deployment's Model (module `utils`).
        let layout = try KeyLayout()
        #expect(layout.redisOMIndex == ":utils.Model:index")
        #expect(layout.redisOMSchemaHash == "87e02a5152c1a0ab51e0e4a1886e5b37e9628cf0")
    }
}
