import FaceScopeCore
import Testing

@testable import FaceScopeTUI

@Suite("Boxes and landmarks drawn into the pixels")
struct OverlayTests {
    @Test("a box is drawn in the box colour along its sides, inside the picture only")
    func box() {
        let width = 40
        let height = 20
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        // The image is 400x200; the picture shows it at a tenth.
        let face = Face(pk: "", bbox: BoundingBox(pk: "", x1: 100, y1: 50, x2: 300, y2: 150), probability: 90)
        let mapping = FaceOverlay.Mapping(crop: (0, 0, 400, 200), width: width, height: height)
        FaceOverlay.draw(
            [face], into: &pixels, mapping: mapping,
            style: OverlayStyle(lineWidth: 1, lineHeight: 1, dotWidth: 1, dotHeight: 1), boxes: true, landmarks: false)
        func at(_ x: Int, _ y: Int) -> RGB {
            let i = (y * width + x) * 3
            return RGB(pixels[i], pixels[i + 1], pixels[i + 2])
        }
        #expect(at(10, 5) == FaceOverlay.boxColor)  // top-left corner
        #expect(at(20, 5) == FaceOverlay.boxColor)  // top side
        #expect(at(10, 10) == FaceOverlay.boxColor)  // left side
        #expect(at(29, 10) == FaceOverlay.boxColor)  // right side (inside the box)
        #expect(at(20, 10) == RGB(0, 0, 0))  // the face itself is untouched
        #expect(at(5, 5) == RGB(0, 0, 0))
        // A box half outside the picture is clipped, not a crash.
        let outside = Face(pk: "", bbox: BoundingBox(pk: "", x1: -100, y1: -100, x2: 900, y2: 900), probability: 1)
        FaceOverlay.draw(
            [outside], into: &pixels, mapping: mapping,
            style: OverlayStyle(lineWidth: 2, lineHeight: 2, dotWidth: 1, dotHeight: 1), boxes: true, landmarks: false)
    }

    @Test("landmarks are drawn in their region's colour, and toggled apart from boxes")
    func landmarks() {
        var pixels = [UInt8](repeating: 0, count: 10 * 10 * 3)
        let descriptors = FaceLandmarks.descriptors(
            (0..<80).map { Keypoint(x: $0 == 30 ? 5 : -50, y: $0 == 30 ? 5 : -50, confidence: 1) })
        let face = Face(
            pk: "", bbox: BoundingBox(pk: "", x1: 0, y1: 0, x2: 10, y2: 10), probability: 90, descriptors: descriptors)
        let mapping = FaceOverlay.Mapping(crop: (0, 0, 10, 10), width: 10, height: 10)
        let style = OverlayStyle(lineWidth: 1, lineHeight: 1, dotWidth: 1, dotHeight: 1)
        FaceOverlay.draw([face], into: &pixels, mapping: mapping, style: style, boxes: false, landmarks: true)
        let i = (5 * 10 + 5) * 3
        #expect(RGB(pixels[i], pixels[i + 1], pixels[i + 2]) == FaceOverlay.color(of: .nose))
        #expect(pixels[0] == 0)  // no box drawn
    }

    @Test("the detail crop frames the face with a margin, in the area's shape, inside the image")
    func detailCrop() {
        let box = BoundingBox(pk: "", x1: 1110, y1: 277, x2: 1223, y2: 390)
        let crop = FaceOverlay.detailCrop(box: box, imageWidth: 1280, imageHeight: 886, aspect: 1.5)
        #expect(abs(crop.width / crop.height - 1.5) < 1e-9)
        #expect(crop.x >= 0 && crop.x + crop.width <= 1280 + 1e-9)
        #expect(crop.x <= 1110 && crop.x + crop.width >= 1223)
        #expect(crop.y <= 277 && crop.y + crop.height >= 390)
        let huge = FaceOverlay.detailCrop(
            box: BoundingBox(pk: "", x1: 0, y1: 0, x2: 100, y2: 100), imageWidth: 100, imageHeight: 100, aspect: 2)
        #expect(huge.width <= 100 && huge.height <= 100 && huge.x >= 0 && huge.y >= 0)
    }
}

@Suite("Choosing the graphics mode")
struct GraphicsDetectionTests {
    let none = TerminalCapabilities(kitty: false, sixel: false)

    @Test("tmux and screen get symbols whatever the outer terminal")
    func multiplexers() {
        let inTmux = GraphicsDetector.decide(
            environment: ["TMUX": "/tmp/tmux-1000/default,1,0", "TERM": "tmux-256color"],
            capabilities: TerminalCapabilities(kitty: true, sixel: true))
        #expect(inTmux.mode == .symbols && inTmux.reason.contains("tmux"))
        #expect(GraphicsDetector.decide(environment: ["TERM": "screen-256color"], capabilities: none).mode == .symbols)
    }

    @Test("kitty before sixel before symbols, with the reason naming the terminal")
    func order() {
        let kitty = GraphicsDetector.decide(
            environment: ["TERM": "xterm-kitty"], capabilities: TerminalCapabilities(kitty: true, sixel: true))
        #expect(kitty.mode == .kitty && kitty.reason.contains("xterm-kitty"))
        let sixel = GraphicsDetector.decide(
            environment: ["TERM": "foot"], capabilities: TerminalCapabilities(kitty: false, sixel: true))
        #expect(sixel.mode == .sixel)
        #expect(GraphicsDetector.decide(environment: ["TERM": "xterm-256color"], capabilities: none).mode == .symbols)
    }

    @Test("a forced mode wins; chafa's database knows kitty and plain xterm apart")
    func forcedAndProbe() {
        let forced = GraphicsDetector.detect(choice: .sixel, environment: ["TMUX": "x"])
        #expect(forced.mode == .sixel && forced.reason.contains("forced"))
        #expect(GraphicsDetector.probe(environment: ["TERM": "xterm-kitty"]).kitty)
        #expect(!GraphicsDetector.probe(environment: ["TERM": "vt100"]).kitty)
    }
}

@Suite("chafa renderers")
struct RendererTests {
    func picture() -> RGBPicture {
        // A 37x21 picture (rows not a multiple of four bytes): left half red, right half green.
        var pixels: [UInt8] = []
        for _ in 0..<21 {
            for x in 0..<37 { pixels += x < 18 ? [255, 0, 0] : [0, 255, 0] }
        }
        return RGBPicture(width: 37, height: 21, pixels: pixels)
    }

    @Test("symbols come back cell by cell with 256-colour palette indices")
    func symbols() throws {
        let content = SymbolsRenderer(colors: 256, unicode: true).render(picture(), columns: 10, rows: 4)
        guard case .cells(let grid) = content else {
            Issue.record("expected cells")
            return
        }
        #expect(grid.width == 10 && grid.height == 4)
        let left = grid[1, 1]
        let right = grid[8, 2]
        // Pure red and green are palette entries 196 and 46.
        #expect([left.foreground, left.background].contains(196))
        #expect([right.foreground, right.background].contains(46))
    }

    @Test("sixel and kitty renderers produce their protocols' sequences")
    func pixels() {
        let environment = ["TERM": "xterm-kitty"]
        if case .pixels(let image) = PixelRenderer(
            mode: .sixel, cellWidth: 10, cellHeight: 20, environment: environment
        ).render(
            picture(), columns: 4, rows: 2)
        {
            #expect(image.sequence.hasPrefix("\u{1B}P"))
        } else {
            Issue.record("no sixel image")
        }
        let kitty = PixelRenderer(mode: .kitty, cellWidth: 10, cellHeight: 20, environment: environment)
        if case .pixels(let image) = kitty.render(picture(), columns: 4, rows: 2) {
            #expect(image.sequence.hasPrefix("\u{1B}_G"))
            #expect(kitty.placement(image, column: 3, row: 1).hasPrefix(PixelRenderer.kittyClearAll + "\u{1B}[2;4H"))
        } else {
            Issue.record("no kitty image")
        }
    }
}
