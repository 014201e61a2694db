import FaceScopeCore
import Foundation
import Testing

@testable import FaceScopeRedis

/// Moving faces between people, "not this person" and undoing edits, against a real Redis Stack.
@Suite("People edits and their undo, against a real Redis Stack", .enabled(if: TestRedis.available), .serialized)
struct PeopleEditsTests {
    /// Three images: a.jpg has faces of 1 and 2, b.jpg one of 1, c.jpg one of 2.
    func prepared(_ store: RedisStore) throws {
        var docs = [document("a.jpg", faces: 2), document("b.jpg", faces: 1), document("c.jpg", faces: 1)]
        docs[0].faces?[0].label = 1
        docs[0].faces?[1].label = 2
        docs[1].faces?[0].label = 1
        docs[2].faces?[0].label = 2
        _ = try store.saveAll(docs)
        try store.rename(label: 1, to: "Ada")
        try store.rename(label: 2, to: "Grace")
    }

    func face(_ store: RedisStore, _ filename: String, _ index: Int) throws -> StoredFace {
        let doc = try #require(try store.get(filename: filename))
        let faces = try #require(doc.faces)
        return StoredFace(documentPK: doc.pk, filename: doc.filename, faceIndex: index, face: faces[index])
    }

    func labels(_ store: RedisStore) throws -> [String: [Int?]] {
        var result: [String: [Int?]] = [:]
        for name in ["a.jpg", "b.jpg", "c.jpg"] {
            result[name] = try #require(try store.get(filename: name)).faces?.map(\.label)
        }
        return result
    }

    func marks(_ store: RedisStore, _ filename: String) throws -> [Bool] {
        try #require(try store.get(filename: filename)).faces?.map(\.labelFixed) ?? []
    }

    @Test("a face moved to another person keeps the mark; undo puts back its label and removes the mark")
    func moveAndUndo() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        try prepared(store)
        let before = try labels(store)
        let edit = try store.moveFace(try face(store, "b.jpg", 0), to: 2)
        #expect(try labels(store)["b.jpg"] == [2])
        #expect(try marks(store, "b.jpg") == [true])
        #expect(try marks(store, "a.jpg") == [false, false])
        #expect(edit.summary.contains("b.jpg") && edit.summary.contains("to 2"))
        try store.undo(edit)
        #expect(try labels(store) == before)
        #expect(try marks(store, "b.jpg") == [false])
    }

    @Test("not this person gives one face a label above the largest in use, and undo puts it back")
    func apartAndUndo() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        try prepared(store)
        try store.rename(label: 9, to: "Named but faceless")
        let before = try labels(store)
        let target = try face(store, "a.jpg", 1)
        let edit = try store.separateFace(target)
        let old = FaceLabelState(documentPK: target.documentPK, facePK: target.face.pk, label: 2, labelFixed: false)
        #expect(edit == .separated(face: old, filename: "a.jpg", newLabel: 10))
        #expect(try labels(store)["a.jpg"] == [1, 10])
        #expect(try marks(store, "a.jpg") == [false, true])
        try store.undo(edit)
        #expect(try labels(store) == before)
        #expect(try marks(store, "a.jpg") == [false, false])
    }

    @Test("undoing a merge restores every moved face's label and mark, and both names")
    func mergeAndUndo() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        try prepared(store)
        // One of Ada's faces was placed by hand: the undo must keep that mark.
        _ = try store.moveFace(try face(store, "b.jpg", 0), to: 1)
        let before = try labels(store)
        let edit = try store.mergeRecording(label: 1, into: 2)
        #expect(try labels(store) == ["a.jpg": [2, 2], "b.jpg": [2], "c.jpg": [2]])
        #expect(try store.peopleNames() == [2: "Grace"])
        guard case .merged(_, _, let faces, let fromName, let intoName) = edit else {
            Issue.record("not a merge: \(edit)")
            return
        }
        #expect(faces.count == 2 && fromName == "Ada" && intoName == "Grace")
        try store.undo(edit)
        #expect(try labels(store) == before)
        #expect(try store.peopleNames() == [1: "Ada", 2: "Grace"])
        #expect(try marks(store, "b.jpg") == [true])
        #expect(try marks(store, "a.jpg") == [false, false])
    }

    @Test("merge suggestions pair the stored people whose faces are close, within the bound asked for")
    func suggestions() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        var docs = (0..<4).map { document("s\($0).jpg", faces: 1) }
        for (i, (label, value)) in [(1, Float(0)), (1, 0.1), (2, 0.3), (3, 3)].enumerated() {
            docs[i].faces?[0].label = label
            docs[i].faces?[0].embedding = [value] + [Float](repeating: 0, count: 127)
        }
        _ = try store.saveAll(docs)
        let found = try store.mergeSuggestions(threshold: 0.6)
        #expect(found.people == 3 && found.compared == 3)
        #expect(found.pairs.map { [$0.first.label, $0.second.label] } == [[1, 2]])
        #expect(abs((found.pairs.first?.distance ?? 0) - 0.25) < 1e-5)
        #expect(found.pairs.first?.first.faces == 2)
        // Bounded: only the person with most faces is compared, so no pair.
        let bounded = try store.mergeSuggestions(threshold: 0.6, maxPeople: 1)
        #expect(bounded.compared == 1 && bounded.pairs.isEmpty)
    }

    @Test("undoing a rename puts back the old name, or none")
    func renameAndUndo() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        try prepared(store)
        let first = try store.renameRecording(label: 1, to: "Ada Lovelace")
        let second = try store.renameRecording(label: 3, to: "Alan")
        try store.undo(second)
        try store.undo(first)
        #expect(try store.peopleNames() == [1: "Ada", 2: "Grace"])
    }
}

@Suite("Merge suggestions from people's mean descriptors")
struct MergeSuggestionTests {
    func person(_ label: Int, faces: Int) -> Person { Person(label: label, name: nil, faces: faces, example: nil) }

    func stored(_ label: Int, _ value: Float) -> StoredFace {
        var face = Face(
            pk: "f\(label)-\(value)", bbox: BoundingBox(pk: "", x1: 0, y1: 0, x2: 1, y2: 1), probability: 90)
        face.label = label
        face.embedding = [value] + [Float](repeating: 0, count: 127)
        return StoredFace(documentPK: "d", filename: "x.jpg", faceIndex: 0, face: face)
    }

    @Test("means per label; pairs below the threshold only, closest first; people without descriptors left out")
    func pairs() {
        let faces = [stored(1, 0.0), stored(1, 0.2), stored(2, 0.15), stored(3, 0.9), stored(4, 5)]
        let means = MergeSuggestion.means(of: faces, labels: [1, 2, 3, 4])
        #expect(abs((means[1]?[0] ?? -1) - 0.1) < 1e-6)
        let people = [
            person(1, faces: 2), person(2, faces: 1), person(3, faces: 1), person(4, faces: 1), person(5, faces: 3),
        ]
        let found = MergeSuggestion.pairs(people: people, means: means, below: 1.0)
        #expect(found.map { [$0.first.label, $0.second.label] } == [[1, 2], [2, 3], [1, 3]])
        #expect(abs((found.first?.distance ?? 0) - 0.05) < 1e-5)
        // Labels not asked for are not averaged.
        #expect(MergeSuggestion.means(of: faces, labels: [1]).keys.sorted() == [1])
    }
}
