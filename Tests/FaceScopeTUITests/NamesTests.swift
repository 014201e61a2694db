import FaceScopeCore
import Testing

@testable import FaceScopeRedis
@testable import FaceScopeTUI

@Suite("Names in the browser (no terminal)")
struct NamesTests {
    @Test("the names read with the pages go to the preview (only the image's labels) and a rename renders again")
    func previewNames() {
        var h = Harness(labelled: 6)
        h.start()
        h.answerPages()
        #expect(h.previewRequests.last?.names == [:])
        h.effects = []
        h.effects += h.browser.apply(.names([0: "Joe Biden", 1: "Ann", 2: "Bob"]), now: h.now)
        // Image 0's face has label 0: only that name travels, and the preview is asked again.
        #expect(h.previewRequests.last?.names == [0: "Joe Biden"])
        h.effects = []
        h.effects += h.browser.apply(.names([0: "Joe Biden", 1: "Ann", 2: "Robert"]), now: h.now)
        #expect(h.previewRequests.isEmpty)  // nothing this image shows changed
        h.effects += h.browser.apply(.names([0: "Joseph Biden", 1: "Ann"]), now: h.now)
        #expect(h.previewRequests.last?.names == [0: "Joseph Biden"])
    }

    @Test("the face detail writes the name beside the label")
    func labelText() {
        #expect(Painter.labelText(2, names: [2: "Joe Biden"]) == "2 · Joe Biden")
        #expect(Painter.labelText(3, names: [2: "Joe Biden"]) == "3")
        #expect(Painter.labelText(nil, names: [2: "Joe Biden"]) == "-")
    }

    @Test("name tags sit on the box's top edge, as wide as the box allows, none on tiny boxes")
    func tags() {
        // A 200x100 picture of a 200x100 image in 20x10 cells: 10x10 pixels a cell.
        let mapping = FaceOverlay.Mapping(crop: (0, 0, 200, 100), width: 200, height: 100)
        func face(_ x1: Int, _ y1: Int, _ x2: Int, _ y2: Int, label: Int?) -> Face {
            Face(pk: "", bbox: BoundingBox(pk: "", x1: x1, y1: y1, x2: x2, y2: y2), probability: 90, label: label)
        }
        let faces = [
            face(20, 30, 160, 90, label: 1),  // 14 cells wide: the whole name and the probability
            face(0, 0, 60, 20, label: 2),  // 6 cells: the first word
            face(100, 0, 140, 20, label: 3),  // 4 cells: the first word cut short
            face(180, 0, 200, 20, label: 1),  // 2 cells: no tag
            face(60, 60, 160, 90, label: 9),  // no name
        ]
        let names = [1: "Joe Biden", 2: "Grace Hopper", 3: "Margaret Hamilton"]
        let tags = FaceOverlay.nameTags(faces, names: names, mapping: mapping, columns: 20, rows: 10)
        #expect(
            tags == [
                NameTag(column: 2, row: 3, text: "Joe Biden 90%"), NameTag(column: 0, row: 0, text: "Grace"),
                NameTag(column: 10, row: 0, text: "Mar…"),
            ])
        // Stamped into a grid: the characters replace the picture's cells in the box colours.
        let grid = CellGrid(
            width: 20, height: 10,
            cells: Array(repeating: Cell(character: " ", foreground: 1, background: 2), count: 200))
        let stamped = FaceOverlay.stamp(tags, into: grid, foreground: 16, background: 46)
        let row3 = (0..<20).map { Character(stamped[$0, 3].character) }
        #expect(String(row3) == "  Joe Biden 90%     ")
        #expect(stamped[2, 3].background == 46 && stamped[2, 3].foreground == 16)
        #expect(stamped[1, 3].background == 2)
        // Control characters in a name never reach the terminal.
        let hostile = FaceOverlay.nameTags(
            [faces[0]], names: [1: "Ev\u{1B}[2Jil"], mapping: mapping, columns: 20, rows: 10)
        #expect(hostile.allSatisfy { !$0.text.unicodeScalars.contains { $0.value == 0x1B } })
    }
}

@Suite("The people filter (no terminal)")
struct PeopleFilterTests {
    static let crowd = [
        Person(label: 0, name: "Joe Biden", faces: 2, example: nil),
        Person(label: 1, name: "Ann", faces: 5, example: nil),
        Person(label: 2, name: nil, faces: 1, example: nil),
        Person(label: 3, name: "Anna Karenina", faces: 1, example: nil),
        Person(label: 4, name: nil, faces: 7, example: nil),
    ]

    func opened() -> Harness {
        var h = Harness(labelled: 9)
        h.start()
        h.answerPages()
        h.effects = []
        h.press(.character("p"))
        h.effects += h.browser.apply(.people(token: h.peopleLoads.last ?? 0, people: Self.crowd), now: h.now)
        return h
    }

    func shown(_ h: Harness) -> [Int] {
        (0..<(h.browser.people.total ?? 0)).compactMap { h.browser.people.row(at: $0)?.label }
    }

    @Test("most faces first; / types a name filter whose letters never run commands")
    func typing() {
        var h = opened()
        #expect(shown(h) == [4, 1, 0, 2, 3])
        h.press(.character("/"))
        #expect(h.browser.context == .peopleFilter)
        h.effects = []
        // "ann" has n (next), a, and e renames, M merges in the people view: typed, not run.
        h.type("aNn")
        #expect(h.browser.peopleFilter.text == "aNn" && h.browser.prompt == nil && h.browser.message == nil)
        #expect(h.peopleChanges.isEmpty && h.browser.view == .people)
        #expect(shown(h) == [1, 3])
        h.type("e")  // "anne": nobody
        #expect(shown(h).isEmpty)
        h.press(.backspace)
        #expect(shown(h) == [1, 3])
        h.press(.down)
        #expect(h.browser.people.current?.label == 3)
        // Enter keeps the filter; Enter again opens the person (no rename).
        h.press(.enter)
        #expect(h.browser.context == .people && h.browser.peopleFilter.text == "aNn")
        h.press(.enter)
        #expect(h.browser.view == .browse && h.peopleChanges.isEmpty)
    }

    @Test(
        "u keeps the unnamed, 1 steps the least face count up; Esc clears the name first; the cursor stays on its person"
    )
    func toggles() {
        var h = opened()
        h.press(.character("j"))  // Ann
        h.press(.character("1"))
        #expect(shown(h) == [4, 1, 0])
        #expect(h.browser.people.current?.label == 1)
        h.press(.character("u"))
        #expect(shown(h) == [4])
        h.press(.character("u"))
        #expect(h.browser.peopleView.filter.minimumFaces == 2)
        h.press(.character("1"))
        #expect(
            h.browser.peopleView.filter.minimumFaces == 5
                && shown(h).allSatisfy { label in
                    (Self.crowd.first { $0.label == label }?.faces ?? 0) >= 5
                })
        h.press(.character("1"), .character("1"), .character("1"))
        #expect(h.browser.peopleView.filter.minimumFaces == 1)
        #expect(shown(h) == [4, 1, 0, 2, 3])
        #expect(h.browser.people.current?.label == 4)  // the one left highlighted while Ann was hidden
        h.press(.character("/"))
        h.type("joe")
        h.press(.enter, .escape)
        #expect(h.browser.view == .people && shown(h).count == 5)
        h.press(.escape)
        #expect(h.browser.view == .browse)
        // A merge describes people the filter hides too.
        h.press(.character("p"))
        h.effects += h.browser.apply(.people(token: h.peopleLoads.last ?? 0, people: Self.crowd), now: h.now)
        h.press(.character("/"))
        h.type("joe")
        h.press(.enter, .character("M"))
        h.type("4")
        h.press(.enter)
        guard case .merge(_, _, let what)? = h.browser.prompt else {
            Issue.record("no merge question")
            return
        }
        #expect(what.contains("person 0 \"Joe Biden\" (2 faces) into person 4") && !what.contains("nobody"))
    }

    @Test("the help lists the people filter's keys")
    func help() {
        let text = Keymap.standard.helpText(width: 100).joined(separator: "\n")
        #expect(text.contains("Filtering people"))
        #expect(text.contains("filter the people by name"))
        #expect(text.contains("unnamed people only"))
        #expect(text.contains("at least 2, 5, 10, 25 faces"))
    }
}
