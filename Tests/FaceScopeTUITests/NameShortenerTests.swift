import FaceScopeCore
import FaceScopeRedis
import Testing

@testable import FaceScopeTUI

@Suite("Filenames shortened in the middle")
struct NameShortenerTests {
    @Test("the first folder and the file's own name stay; short names are left alone")
    func shorten() {
        #expect(NameShortener.shorten("examples/people/john1.jpeg", columns: 21) == "examples/…/john1.jpeg")
        #expect(NameShortener.shorten("examples/people/john1.jpeg", columns: 26) == "examples/people/john1.jpeg")
        #expect(NameShortener.shorten("examples/people/john1.jpeg", columns: 19) == "examples/…ohn1.jpeg")
        // A first folder too long to keep: cut in the middle, the end kept.
        let long = NameShortener.shorten("a-very-long-folder-name/portrait-astronaut.png", columns: 20)
        #expect(long.count == 20 && long.hasSuffix("astronaut.png") && long.contains("…"))
        #expect(NameShortener.shorten("x", columns: 0) == "")
    }

    @Test("names that would look alike are cut elsewhere until they differ, at the same width")
    func collisions() {
        let names = [
            "photos/2019/summer/IMG_0001.jpg", "photos/2020/summer/IMG_0001.jpg", "photos/2020/summer/IMG_0002.jpg",
            "",
        ]
        let short = NameShortener.shortenAll(names, columns: 20)
        #expect(Set(short.prefix(3)).count == 3, "\(short)")
        #expect(short.prefix(3).allSatisfy { $0.count <= 20 })
        #expect(short[2] == "photos/…IMG_0002.jpg")  // told apart already: left as it was
        #expect(short[0].hasPrefix("photos/201") && short[1].hasPrefix("photos/202") && short[0].hasSuffix(".jpg"))
        #expect(short[3] == "")
        // A difference deep in the middle of long names still shows.
        let deep = [
            "a/" + String(repeating: "x", count: 30) + "1" + String(repeating: "y", count: 30) + ".jpg",
            "a/" + String(repeating: "x", count: 30) + "2" + String(repeating: "y", count: 30) + ".jpg",
        ]
        let both = NameShortener.shortenAll(deep, columns: 12)
        #expect(both[0] != both[1] && both.allSatisfy { $0.count <= 12 }, "\(both)")
        // The same file twice is the same row text.
        #expect(Set(NameShortener.shortenAll([names[0], names[0]], columns: 20)).count == 1)
    }
}

@Suite("Opening and copying the image; short searches (no terminal)")
struct OpenCopyTests {
    @Test("o and y ask to open and copy the highlighted image; one letter is too short to search")
    func keys() {
        var h = Harness(count: 3)
        h.start()
        h.answerPages()
        h.effects = []
        h.press(.character("j"), .character("o"))
        #expect(h.effects.contains(.openImage(filename: "photos/img-00001.jpg")))
        h.press(.character("y"))
        #expect(h.effects.contains(.copyPath(filename: "photos/img-00001.jpg")))
        #expect(h.browser.message?.text.contains("copied") == true)
        _ = h.browser.apply(.notice("the viewer x failed with status 3", isError: true), now: h.now)
        #expect(h.browser.message == StatusMessage(text: "the viewer x failed with status 3", isError: true))
        #expect(Opener.clipboardSequence("a/b.jpg") == "\u{1B}]52;c;YS9iLmpwZw==\u{07}")
        h.press(.character("/"), .character("c"))
        #expect(h.browser.searchTooShort)
        h.type("x")
        #expect(!h.browser.searchTooShort)
    }
}

@Suite("The highlighted image stays highlighted (no terminal)")
struct KeepHighlightedTests {
    var locates: (Harness) -> [(UInt64, ImageDocument, ListOrder, Bool)] = { h in
        h.effects.compactMap {
            if case .locate(let t, let d, let o, let r) = $0 { return (t, d, o, r) } else { return nil }
        }
    }

    @Test("Esc leaving a search and a new order look the image up and move to it, whichever answer comes first")
    func keep() {
        var h = Harness(count: 120)
        h.start()
        h.answerPages()
        h.press(.character("/"))
        h.type("00042")
        h.press(.enter)
        h.answerPages()
        #expect(h.browser.list.current?.filename == "photos/img-00042.jpg")
        h.effects = []
        h.press(.escape)
        let asked = locates(h)
        #expect(asked.count == 1 && asked.first?.1.filename == "photos/img-00042.jpg" && asked.first?.2 == .filename)
        // A stale answer is dropped; the right one, before the page, moves there once it comes.
        _ = h.browser.apply(.located(token: (asked.first?.0 ?? 0) &+ 99, index: 3), now: h.now)
        _ = h.browser.apply(.located(token: asked.first?.0 ?? 0, index: 42), now: h.now)
        h.answerPages()
        h.answerPages()
        #expect(h.browser.list.cursor == 42 && h.browser.list.current?.filename == "photos/img-00042.jpg")
        // S twice in a row, before any page came: the same image is looked up both times.
        h.effects = []
        h.press(.character("S"), .character("S"))
        let again = locates(h)
        #expect(again.count == 2 && again.allSatisfy { $0.1.filename == "photos/img-00042.jpg" })
        #expect(again.last?.3 == false)
    }
}
