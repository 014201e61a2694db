import FaceScopeCore
import Testing

@testable import FaceScopeRedis
@testable import FaceScopeTUI

extension Harness {
    /// Documents whose faces carry labels and descriptors: image i has one face labelled i % 3.
    init(labelled count: Int) {
        self.init(count: count)
        documents = documents.enumerated().map { i, doc in
            var doc = doc
            var face = Face(
                pk: "F\(i)", bbox: BoundingBox(pk: "", x1: 1, y1: 1, x2: 5, y2: 5), probability: 90, label: i % 3)
            face.embedding = [Float](repeating: Float(i) / 100, count: 128)
            doc.faces = [face]
            return doc
        }
    }

    /// The people the store would report for these documents.
    var people: [Person] {
        (0..<3).map { label in
            let faces = documents.filter { $0.faces?.first?.label == label }
            let example = faces.first.flatMap { doc in
                doc.faces.map { StoredFace(documentPK: doc.pk, filename: doc.filename, faceIndex: 0, face: $0[0]) }
            }
            return Person(label: label, name: label == 1 ? "Ann" : nil, faces: faces.count, example: example)
        }
    }

    var peopleLoads: [UInt64] {
        effects.compactMap { if case .loadPeople(let token) = $0 { return token } else { return nil } }
    }

    var peopleChanges: [PeopleChange] {
        effects.compactMap { if case .changePeople(_, let change) = $0 { return change } else { return nil } }
    }

    var similarRequests: [SimilarRequest] {
        effects.compactMap { if case .findSimilar(let r) = $0 { return r } else { return nil } }
    }

    /// Answers the newest people request.
    mutating func answerPeople() {
        guard let token = peopleLoads.last else { return }
        effects = []
        effects += browser.apply(.people(token: token, people: people), now: now)
    }

    /// Starts, loads the first page and opens the people view.
    mutating func openPeople() {
        start()
        answerPages()
        effects = []
        press(.character("p"))
        answerPeople()
    }
}

@Suite("People and more like this (no terminal)")
struct PeopleTests {
    @Test("p lists the people; the cursor moves; the preview shows the example face; stale answers dropped")
    func list() {
        var h = Harness(labelled: 9)
        h.start()
        h.answerPages()
        h.effects = []
        h.press(.character("p"))
        #expect(h.browser.view == .people && h.browser.context == .people)
        let first = h.peopleLoads
        #expect(first.count == 1)
        // An overtaken answer is dropped.
        _ = h.browser.apply(.people(token: (first.first ?? 0) &+ 50, people: []), now: h.now)
        #expect(h.browser.people.total == nil)
        h.answerPeople()
        #expect(h.browser.people.total == 3)
        #expect(h.browser.people.current?.label == 0)
        // The highlighted person's example face, cut from its image.
        let preview = h.previewRequests.last
        #expect(preview?.document.filename == "photos/img-00000.jpg")
        #expect(preview?.focus == 0)
        #expect(preview?.document.faces?.count == 1)
        h.effects = []
        h.press(.character("j"))
        #expect(h.browser.people.current?.label == 1)
        #expect(h.previewRequests.last?.document.filename == "photos/img-00001.jpg")
        h.press(.character("G"))
        #expect(h.browser.people.cursor == 2)
        h.press(.character("j"))
        #expect(h.browser.people.cursor == 2)  // stops at the end
        h.press(.character("g"))
        #expect(h.browser.people.cursor == 0)
        // The image list did not move meanwhile.
        #expect(h.browser.list.cursor == 0)
        h.press(.escape)
        #expect(h.browser.view == .browse)
        #expect(h.previewRequests.last?.document.pk == "PK0")
    }

    @Test("a failed read is shown; an empty list clears the preview")
    func failure() {
        var h = Harness(labelled: 3)
        h.start()
        h.answerPages()
        h.effects = []
        h.press(.character("p"))
        _ = h.browser.apply(.peopleFailed(token: h.peopleLoads.last ?? 0, error: "boom"), now: h.now)
        #expect(h.browser.peopleError == "boom")
        h.press(.character("R"))
        _ = h.browser.apply(.people(token: h.peopleLoads.last ?? 0, people: []), now: h.now)
        #expect(h.browser.peopleError == nil)
        #expect(h.browser.people.total == 0)
        #expect(h.browser.previewSubject == nil)
        #expect(h.browser.preview.key == nil)
    }

    @Test("Enter lists a person's images; Esc comes back to the people, then to every image")
    func open() {
        var h = Harness(labelled: 9)
        h.openPeople()
        h.press(.down)
        h.effects = []
        h.press(.enter)
        #expect(h.browser.view == .browse)
        #expect(h.browser.source == .person(label: 1))
        #expect(h.pageRequests.map(\.source) == [.person(label: 1)])
        h.answerPages()
        #expect(h.browser.list.total == 3)
        #expect(h.browser.list.current?.filename == "photos/img-00001.jpg")
        h.press(.character("j"))
        #expect(h.browser.list.current?.filename == "photos/img-00004.jpg")
        // Back to the people, the listing as it was before.
        h.effects = []
        h.press(.escape)
        #expect(h.browser.view == .people)
        #expect(h.browser.source == .all(order: .filename, descending: false))
        #expect(h.browser.people.current?.label == 1)
        // Another person: Esc still comes back to the people, then stays on every image.
        h.press(.down, .enter)
        #expect(h.browser.source == .person(label: 2))
        h.press(.character("p"))
        h.answerPeople()
        h.press(.character("g"), .enter)
        #expect(h.browser.source == .person(label: 0))
        h.press(.escape)
        #expect(h.browser.view == .people)
        h.press(.escape)
        #expect(h.browser.view == .browse)
        #expect(h.browser.source == .all(order: .filename, descending: false))
        h.answerPages()
        #expect(h.browser.list.total == 9)
        h.press(.escape)
        #expect(h.browser.view == .browse)  // nothing left to go back to
    }

    @Test("e renames on a line prompt; Enter saves, Esc cancels; the people are read again")
    func rename() {
        var h = Harness(labelled: 9)
        h.openPeople()
        h.press(.down, .character("e"))
        #expect(h.browser.context == .input)
        #expect(h.browser.prompt == .rename(label: 1, text: "Ann"))
        h.press(.backspace, .backspace, .backspace)
        h.type("  Bo")
        h.press(.backspace)
        h.type("ob ")
        #expect(h.browser.prompt == .rename(label: 1, text: "  Bob "))
        // Keys that mean something elsewhere are typed here.
        h.type("q")
        h.press(.ctrl("u"))
        h.type(" Bob\u{1b}[31m ")
        h.effects = []
        h.press(.enter)
        #expect(h.browser.prompt == nil)
        #expect(h.peopleChanges == [.rename(label: 1, name: "Bob\u{1b}[31m")])
        guard case .changePeople(let token, _)? = h.effects.last else {
            Issue.record("no change asked for")
            return
        }
        h.effects = []
        h.effects += h.browser.apply(.peopleChanged(token: token, message: "person 1 renamed", error: nil), now: h.now)
        #expect(h.browser.message?.text == "person 1 renamed")
        #expect(h.peopleLoads.count == 1)
        // Esc leaves the name alone.
        h.effects = []
        h.press(.character("e"))
        h.type("Zed")
        h.press(.escape)
        #expect(h.browser.prompt == nil)
        #expect(h.browser.context == .people)
        #expect(h.peopleChanges.isEmpty)
    }

    @Test("M asks the label to merge into, refuses nonsense, and merges only once confirmed")
    func merge() {
        var h = Harness(labelled: 9)
        h.openPeople()
        h.press(.down, .character("M"))
        #expect(h.browser.prompt == .mergeTarget(label: 1, text: ""))
        h.type("x")
        h.press(.enter)
        #expect(h.browser.message?.isError == true)
        #expect(h.browser.context == .input)
        h.press(.ctrl("u"))
        h.type("1")
        h.press(.enter)
        #expect(h.browser.message?.text.contains("itself") == true)
        h.press(.backspace)
        h.type("2")
        h.press(.enter)
        #expect(h.browser.context == .confirmMerge)
        guard case .merge(1, 2, let what)? = h.browser.prompt else {
            Issue.record("no confirmation asked")
            return
        }
        #expect(what == "person 1 \"Ann\" (3 faces) into person 2")
        // Esc: nothing merged.
        h.effects = []
        h.press(.escape)
        #expect(h.browser.prompt == nil)
        #expect(h.peopleChanges.isEmpty)
        h.press(.character("M"))
        h.type("2")
        h.press(.enter, .character("y"))
        #expect(h.peopleChanges == [.merge(label: 1, into: 2)])
        // A failure is reported; the people are read again all the same.
        guard case .changePeople(let token, _)? = h.effects.last else { return }
        h.effects = []
        h.effects += h.browser.apply(.peopleChanged(token: token, message: "", error: "Redis went away"), now: h.now)
        #expect(h.browser.message == StatusMessage(text: "Redis went away", isError: true))
        #expect(h.peopleLoads.count == 1)
        // An unknown label is allowed, and said.
        h.press(.character("M"))
        h.type("77")
        h.press(.enter)
        if case .merge(_, 77, let what)? = h.browser.prompt {
            #expect(what.contains("nobody has that label yet"))
        } else {
            Issue.record("no confirmation for 77")
        }
    }

    @Test("L lists the faces nearest to the one zoomed on; Enter shows one; Esc comes back step by step")
    func moreLikeThis() {
        var h = Harness(labelled: 9)
        h.start()
        h.answerPages()
        h.press(.character("j"), .enter)
        #expect(h.browser.view == .detail(face: 0))
        h.effects = []
        h.press(.character("L"))
        #expect(h.browser.view == .similar && h.browser.context == .similar)
        let request = h.similarRequests.first
        #expect(request?.facePK == "F1")
        #expect(request?.limit == Browser.similarLimit)
        #expect(request?.embedding.count == 128)
        // Stale answers are dropped.
        _ = h.browser.apply(.similar(token: (request?.token ?? 0) &+ 9, faces: []), now: h.now)
        #expect(h.browser.similar.total == nil)
        let found = [4, 7].map { i in
            SimilarFace(
                stored: StoredFace(
                    documentPK: "PK\(i)", filename: h.documents[i].filename, faceIndex: 0,
                    face: h.documents[i].faces?.first
                        ?? Face(pk: "", bbox: BoundingBox(pk: "", x1: 0, y1: 0, x2: 1, y2: 1), probability: 1)),
                distance: Float(i) / 10)
        }
        h.effects = []
        h.effects += h.browser.apply(.similar(token: request?.token ?? 0, faces: found), now: h.now)
        #expect(h.browser.similar.total == 2)
        #expect(h.previewRequests.last?.document.filename == "photos/img-00004.jpg")
        h.press(.character("j"))
        #expect(h.browser.similar.current?.stored.filename == "photos/img-00007.jpg")
        // Enter: that image alone, zoomed on the face once it is loaded.
        h.effects = []
        h.press(.enter)
        #expect(h.pageRequests.map(\.source) == [.image(filename: "photos/img-00007.jpg")])
        h.answerPages()
        #expect(h.browser.view == .detail(face: 0))
        #expect(h.browser.list.current?.filename == "photos/img-00007.jpg")
        // Esc: the image, then the similar faces, then the face it started from.
        h.press(.escape)
        #expect(h.browser.view == .browse)
        h.press(.escape)
        #expect(h.browser.view == .similar)
        #expect(h.browser.similar.cursor == 1)
        h.answerPages()
        h.press(.escape)
        #expect(h.browser.view == .detail(face: 0))
        #expect(h.browser.list.current?.filename == "photos/img-00001.jpg")
    }

    @Test("a face without a descriptor says so; a failed search is shown")
    func noDescriptor() {
        var h = Harness(count: 3)
        h.start()
        h.answerPages()
        h.press(.enter, .character("L"))
        #expect(h.browser.view == .detail(face: 0))
        #expect(h.browser.message?.isError == true)
        var g = Harness(labelled: 3)
        g.start()
        g.answerPages()
        g.press(.enter, .character("L"))
        _ = g.browser.apply(.similarFailed(token: g.similarRequests.last?.token ?? 0, error: "no index"), now: g.now)
        #expect(g.browser.similarError == "no index")
        #expect(g.browser.similar.total == 0)
    }

    @Test("the new keys are in the keymap and its help")
    func keys() {
        let keymap = Keymap.standard
        #expect(keymap.action(for: .character("p"), in: .browse) == .showPeople)
        #expect(keymap.action(for: .character("L"), in: .detail) == .moreLikeThis)
        #expect(keymap.action(for: .character("l"), in: .detail) == .nextFace)
        #expect(keymap.action(for: .character("e"), in: .people) == .renamePerson)
        #expect(keymap.action(for: .character("M"), in: .people) == .mergePerson)
        #expect(keymap.action(for: .enter, in: .similar) == .jumpToFace)
        #expect(keymap.action(for: .character("y"), in: .confirmMerge) == .confirmMerge)
        #expect(keymap.action(for: .character("q"), in: .input) == nil)  // typed
        let help = keymap.helpText(width: 100)
        #expect(help.contains("People (p)"))
        #expect(help.contains { $0.contains("more like this") })
    }
}
