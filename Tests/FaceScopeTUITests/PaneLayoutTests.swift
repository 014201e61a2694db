import FaceScopeCore
import Testing

@testable import FaceScopeTUI

@Suite("The list's width and the list-only layout")
struct PaneLayoutTests {
    @Test("< and > change the list's width in steps, within bounds; the preview keeps its room")
    func steps() throws {
        var h = Harness(count: 3)
        h.start()
        h.answerPages()
        let start = try #require(h.browser.layout.list?.width)
        #expect(start == 48)
        h.effects = []
        h.press(.character(">"))
        let wider = try #require(h.browser.layout.list?.width)
        #expect(wider > start)
        #expect(h.browser.layout.preview?.x == wider + 1)
        // The preview changed size: rendered again at once.
        #expect(h.previewRequests.count == 1)
        #expect(h.browser.message?.text == "list 45% of the width")
        for _ in 0..<20 { h.press(.character(">")) }
        #expect(h.browser.panes.listPercent == PaneLayout.percentRange.upperBound)
        #expect(h.browser.message?.text == "the list is already as wide as it goes")
        let widest = try #require(h.browser.layout.preview?.width)
        #expect(widest >= PaneLayout.minimumPaneColumns)
        for _ in 0..<20 { h.press(.character("<")) }
        #expect(h.browser.panes.listPercent == PaneLayout.percentRange.lowerBound)
        let narrowest = try #require(h.browser.layout.list?.width)
        #expect(narrowest < start && narrowest >= PaneLayout.minimumPaneColumns)
        #expect(h.browser.message?.text == "the list is already as narrow as it goes")
    }

    @Test("a resize keeps the chosen share")
    func resizeKeepsShare() throws {
        var h = Harness(count: 3)
        h.start()
        h.answerPages()
        h.press(.character(">"), .character(">"))
        #expect(h.browser.panes.listPercent == 50)
        _ = h.browser.resize(columns: 80, rows: 24, now: 100)
        #expect(h.browser.layout.list?.width == 42)
        _ = h.browser.resize(columns: 120, rows: 40, now: 100)
        #expect(h.browser.layout.list?.width == 60)
        #expect(h.browser.panes.listPercent == 50)
    }

    @Test("widths at 80 and 120 columns for each share")
    func widths() {
        var panes = PaneLayout()
        #expect(panes.listWidth(columns: 80) == 34 && panes.listWidth(columns: 120) == 48)
        #expect(panes.listWidth(columns: 200) == 64)
        _ = panes.narrow()
        #expect(panes.listWidth(columns: 80) == 29 && panes.listWidth(columns: 120) == 42)
        var wide = PaneLayout()
        while wide.widen() {}
        // The preview keeps its 20 columns beside the separator.
        #expect(wide.listWidth(columns: 80) == 59 && wide.listWidth(columns: 120) == 96)
    }

    @Test("w: the list takes the whole width, no preview is rendered; w again brings it back")
    func listOnly() throws {
        var h = Harness(count: 3)
        h.start()
        h.answerPages()
        h.effects = []
        h.press(.character("w"))
        #expect(h.browser.panes.listOnly)
        #expect(h.browser.layout.list?.width == 120)
        #expect(h.browser.layout.preview == nil && h.browser.layout.image == nil)
        h.press(.character("j"), .character("j"))
        #expect(h.browser.list.cursor == 2)
        #expect(h.previewRequests.isEmpty)
        h.press(.character("w"))
        #expect(h.browser.layout.list?.width == 48 && h.browser.layout.preview != nil)
        #expect(h.previewRequests.map(\.document.pk) == ["PK2"])
    }

    @Test("the face detail still shows the picture in the list-only layout")
    func detailInListOnly() {
        var h = Harness(count: 3)
        h.start()
        h.answerPages()
        h.press(.character("w"), .enter)
        #expect(h.browser.focusedFace == 0 && h.browser.layout.image != nil)
        h.press(.escape)
        #expect(h.browser.layout.preview == nil)
    }

    @Test("the help lists <, > and w")
    func help() {
        let text = Keymap.standard.helpText(width: 120).joined(separator: "\n")
        #expect(text.contains("narrow the list") && text.contains("widen the list") && text.contains("list only"))
        #expect(Keymap.standard.keyLabel(for: .narrowList, in: .browse) == "<")
        #expect(Keymap.standard.keyLabel(for: .widenList, in: .browse) == ">")
        #expect(Keymap.standard.keyLabel(for: .toggleListOnly, in: .browse) == "w")
    }

    @Test("Enter at the re-detect prompt keeps the people; replacing is asked for with r")
    func redetectDefault() {
        var h = Harness(count: 3)
        h.start()
        h.answerPages()
        h.press(.character("r"))
        #expect(h.browser.context == .confirm)
        h.effects = []
        h.press(.enter)
        guard case .startDetection(let request)? = h.effects.first else {
            Issue.record("no detection started")
            return
        }
        #expect(request.mode == .keepLabels)
        #expect(Keymap.standard.action(for: .enter, in: .confirm) == .confirmKeepLabels)
        #expect(Keymap.standard.action(for: .character("r"), in: .confirm) == .confirmReplace)
    }
}

@Suite("Probability text")
struct ProbabilityTextTests {
    @Test("the stored percent with a % sign, clamped to 0...100")
    func format() {
        #expect(ProbabilityText.format(97) == "97%")
        #expect(ProbabilityText.format(0) == "0%")
        #expect(ProbabilityText.format(140) == "100%" && ProbabilityText.format(-3) == "0%")
        #expect(
            Face(pk: "", bbox: BoundingBox(pk: "", x1: 0, y1: 0, x2: 1, y2: 1), probability: 88).probabilityText
                == "88%")
    }
}
