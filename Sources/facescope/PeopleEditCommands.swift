import ArgumentParser
import FaceScopeCore
import FaceScopeRedis
import Foundation

/// One face of a stored image, by its number as 'facescope show' prints it (from 1).
func storedFace(
    _ file: String, number: Int, in store: RedisStore, options: StoreOptions
) throws -> StoredFace {
    let doc = try lookUpImage(file, in: store, options: options)
    let faces = doc.faces ?? []
    let name = TerminalText.sanitize(doc.filename)
    if faces.isEmpty {
        throw FaceScopeError.notFound(
            doc.faces == nil ? "'\(name)' has not been through detection yet" : "'\(name)' has no faces")
    }
    guard let stored = StoredFace(document: doc, faceIndex: number - 1) else {
        throw FaceScopeError.notFound(
            "'\(name)' has \(faces.count) face\(faces.count == 1 ? "" : "s"): FACE_NUMBER is 1 to \(faces.count) "
                + "(see 'facescope show \(name)')")
    }
    return stored
}

struct PeopleMove: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "move",
        abstract: "Move one face to another person (clustering keeps it there).",
        discussion: reflowed(
            """
            Gives face FACE_NUMBER of IMAGE the label of PERSON and marks it as set by hand
            (label_fixed), so that 'facescope cluster' keeps it. Face numbers are the ones
            'facescope show IMAGE' prints, from 1.

            Examples:
              facescope people move holiday/IMG_0042.jpg 2 "Ada Lovelace"
              facescope people move holiday/IMG_0042.jpg 2 17
            """))
    @OptionGroup var store: StoreOptions
    @Argument(help: "The stored image (filename or pk).") var image: String
    @Argument(help: ArgumentHelp("Which face, from 1 (as 'facescope show' numbers them).", valueName: "FACE_NUMBER"))
    var faceNumber: Int
    @Argument(help: "The person to move it to: a label, or a name (or the start of one).") var person: String

    func run() throws {
        let s = try store.openStore(.write)
        let stored = try storedFace(image, number: faceNumber, in: s, options: store)
        let label = try s.person(matching: person)
        let edit = try s.moveFace(stored, to: label)
        print(edit.summary)
    }
}

struct PeopleApart: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apart",
        abstract: "Not this person: give one face a new person of its own.",
        discussion: reflowed(
            """
            Gives face FACE_NUMBER of IMAGE a new label (one above the largest in use) and marks
            it as set by hand (label_fixed), so that 'facescope cluster' keeps it apart from the
            person it was in. Face numbers are the ones 'facescope show IMAGE' prints, from 1.

            Example:
              facescope people apart holiday/IMG_0042.jpg 2
            """))
    @OptionGroup var store: StoreOptions
    @Argument(help: "The stored image (filename or pk).") var image: String
    @Argument(help: ArgumentHelp("Which face, from 1 (as 'facescope show' numbers them).", valueName: "FACE_NUMBER"))
    var faceNumber: Int

    func run() throws {
        let s = try store.openStore(.write)
        let stored = try storedFace(image, number: faceNumber, in: s, options: store)
        let edit = try s.separateFace(stored)
        print(edit.summary)
    }
}
