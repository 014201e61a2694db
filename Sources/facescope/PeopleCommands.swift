import ArgumentParser
import FaceScopeCore
import FaceScopePipeline
import FaceScopeRedis
import Foundation

struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Give faces identity labels: faces whose descriptors are close are one person.",
        discussion: reflowed(
            """
            Faces without a label join the person most of their nearest labelled faces belong to
            (found through the vector index, never a person another face of the same photo is), or
            form new people among themselves (chinese whispers on the faces closer than the
            threshold); labels already given stay as they are. 'facescope detect' does this for the
            faces it stores, so this is for faces stored with --no-cluster or by other tools.
            --rebuild clusters every face afresh and keeps each group's old label where most of its
            faces had one; labels set by hand stay. It holds about 512 bytes a face plus each
            face's 16 nearest neighbours (found through an inverted file, not all pairs) and shows
            its progress on a terminal. Faces need descriptors (the facerec model).
            """))

    @OptionGroup var store: StoreOptions

    @Option(
        help: ArgumentHelp("Same person below this descriptor distance (FACESCOPE_CLUSTER_THRESHOLD).", valueName: "d"))
    var threshold: Double?

    @Flag(help: "Cluster every face again instead of only the unlabelled ones.")
    var rebuild = false

    func run() throws {
        var flags: [SettingKey: String] = [:]
        if let threshold { flags[.clusterThreshold] = String(threshold) }
        let settings = try store.settings(flags)
        let services = FaceScopeServices(settings: settings)
        // Count, rate and time left for each stage of a rebuild on a terminal; quiet in pipes.
        var line: ProgressLine?
        var stage: ClusterProgress.Stage?
        var shown = 0
        let summary = try services.cluster(try services.store(), rebuild: rebuild) { step in
            if step.stage != stage {
                line?.finish()
                line = ProgressLine(step.stage.rawValue, total: step.total)
                stage = step.stage
                shown = 0
            }
            line?.advance(by: step.count - shown)
            shown = step.count
        }
        line?.finish()
        if summary.faces == 0 {
            print(
                rebuild
                    ? "no faces with descriptors yet: run 'facescope detect' with the facerec model on the server"
                    : "every face with a descriptor has a person ('--rebuild' regroups them all)")
            return
        }
        if rebuild {
            print("\(summary.faces) faces, \(summary.people) people; \(summary.updated) labels set")
        } else {
            print("\(summary.faces) faces without a person; \(summary.updated) labels set")
        }
    }
}

struct PeopleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "people",
        abstract: "List the people (face labels), name them, merge them, move faces between them, list their images.",
        subcommands: [
            PeopleList.self, PeopleShow.self, PeopleRename.self, PeopleMerge.self, PeopleMove.self, PeopleApart.self,
        ],
        defaultSubcommand: PeopleList.self)
}

struct PeopleList: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "Every person with a face count.")
    @OptionGroup var store: StoreOptions
    @Flag(help: "Print JSON lines.") var json = false
    @Option(name: .customLong("min-faces"), help: "Only the people with at least this many faces.")
    var minimumFaces = 1
    @Flag(help: "Only the people without a name.") var unnamed = false

    func validate() throws {
        guard minimumFaces >= 1 else { throw ValidationError("--min-faces must be 1 or more, not \(minimumFaces)") }
    }

    func run() throws {
        let s = try store.openStore()
        defer { reportSkipped(s) }
        let people = try s.people().filter { p in
            p.faces >= minimumFaces && !(unnamed && !(p.name ?? "").isEmpty)
        }
        var out = Output()
        if json {
            for p in people {
                out.line(
                    JSONValue.object([
                        ("label", .int(Int64(p.label))), ("name", p.name.map(JSONValue.string) ?? .null),
                        ("faces", .int(Int64(p.faces))), ("example", p.example.map { .string($0.filename) } ?? .null),
                        ("example_probability", p.example.map { .int(Int64($0.face.probability)) } ?? .null),
                    ]).serialized)
            }
        } else if people.isEmpty {
            out.line("no people yet: run 'facescope cluster'")
        } else {
            out.line("LABEL  FACES  NAME                  PROB  EXAMPLE")
            for p in people {
                let label = String(p.label)
                let faces = String(p.faces)
                out.line(
                    String(repeating: " ", count: max(0, 5 - label.count)) + label + "  "
                        + String(repeating: " ", count: max(0, 5 - faces.count)) + faces + "  "
                        + TerminalText.pad(TerminalText.sanitize(p.name ?? "-"), columns: 20) + "  "
                        + TerminalText.pad(p.example?.face.probabilityText ?? "-", columns: 4) + "  "
                        + TerminalText.sanitize(p.example?.filename ?? ""))
            }
        }
        out.flush()
    }
}

struct PeopleShow: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "show", abstract: "The images of one person.")
    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions
    @Argument(help: "The person: a label, or a name (or the start of one).") var person: String

    func run() throws {
        let s = try store.openStore()
        let label = try s.person(matching: person)
        let docs = try s.documents(withLabel: label)
        if docs.isEmpty { throw FaceScopeError.notFound("no faces with label \(label)") }
        DocumentPrinter.print(docs, json: output.json)
    }
}

struct PeopleRename: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rename", abstract: "Name a person (an empty name removes it).")
    @OptionGroup var store: StoreOptions
    @Argument(help: "The person: a label, or a name (or the start of one).") var person: String
    @Argument(help: "The new name.") var name: String

    func run() throws {
        let s = try store.openStore(.write)
        let label = try s.person(matching: person)
        try s.rename(label: label, to: name)
        print(
            name.isEmpty ? "label \(label) has no name now" : "label \(label) is now '\(TerminalText.sanitize(name))'")
    }
}

struct PeopleMerge: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge", abstract: "Make two people one: every face of FROM takes the label of INTO.")
    @OptionGroup var store: StoreOptions
    @Argument(help: "The person to merge away: a label or a name.") var from: String
    @Argument(help: "The person to keep: a label or a name.") var into: String

    func run() throws {
        let s = try store.openStore(.write)
        let source = try s.person(matching: from)
        let target = try s.person(matching: into)
        if source == target {
            throw FaceScopeError.notFound(
                "'\(TerminalText.sanitize(from))' and '\(TerminalText.sanitize(into))' are the same person (label \(source))"
            )
        }
        let moved = try s.merge(label: source, into: target)
        print("\(moved) faces moved from label \(source) to \(target)")
    }
}

struct SimilarCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "similar",
        abstract: "The faces most like one face of a stored image (nearest descriptors).",
        discussion: "Distances below about 0.6 are usually the same person (dlib's measure).")

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The stored filename (or pk).")
    var file: String

    @Option(help: "Which face of the image, from 1 (see 'facescope show').")
    var face = 1

    @Option(help: "How many faces to list.")
    var limit = 10

    func run() throws {
        let s = try store.openStore()
        let doc = try lookUpImage(file, in: s, options: store)
        let faces = doc.faces ?? []
        if faces.isEmpty {
            throw FaceScopeError.notFound(
                doc.faces == nil
                    ? "'\(TerminalText.sanitize(doc.filename))' has not been through detection yet"
                    : "'\(TerminalText.sanitize(doc.filename))' has no faces")
        }
        guard face >= 1, face <= faces.count else {
            throw FaceScopeError.usage(
                "'\(TerminalText.sanitize(file))' has \(faces.count) faces; --face takes 1 to \(faces.count)")
        }
        guard let embedding = faces[face - 1].embedding else {
            throw FaceScopeError.notFound(
                "face \(face) of '\(TerminalText.sanitize(file))' has no descriptor (detect it again with the facerec model)"
            )
        }
        let similar = try s.similarFaces(to: embedding, limit: limit, excludingFace: faces[face - 1].pk)
        let names = try s.peopleNames()
        var out = Output()
        if output.json {
            for item in similar {
                out.line(
                    JSONValue.object([
                        ("filename", .string(item.stored.filename)), ("face", .int(Int64(item.stored.faceIndex + 1))),
                        ("distance", .double(Double(item.distance))),
                        ("probability", .int(Int64(item.stored.face.probability))),
                        ("label", item.stored.face.label.map { .int(Int64($0)) } ?? .null),
                        ("name", item.stored.face.label.flatMap { names[$0] }.map(JSONValue.string) ?? .null),
                    ]).serialized)
            }
        } else if similar.isEmpty {
            out.line("no other faces with descriptors")
        } else {
            out.line("DISTANCE  FACE  PROB  LABEL  PERSON                FILENAME")
            for item in similar {
                let label = item.stored.face.label.map(String.init) ?? "-"
                let name = item.stored.face.label.flatMap { names[$0] } ?? "-"
                out.line(
                    String(format: "%8.3f  %4d  ", item.distance, item.stored.faceIndex + 1)
                        + TerminalText.pad(item.stored.face.probabilityText, columns: 4) + "  "
                        + String(repeating: " ", count: max(0, 5 - label.count)) + label + "  "
                        + TerminalText.pad(TerminalText.sanitize(name), columns: 20) + "  "
                        + TerminalText.sanitize(item.stored.filename))
            }
        }
        out.flush()
    }
}
