import ArgumentParser
import FaceScopeCore
import FaceScopeRedis
import Foundation

struct ListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List stored images, every one unless --limit/--offset ask for a page.",
        discussion: "Works at any offset, however many images are stored.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Sort by 'filename' (byte order) or 'faces' (face count, then filename).")
    var sort: ListOrder = .filename

    @Flag(name: .customLong("desc"), help: "Reverse the order.")
    var descending = false

    @Option(help: "Skip this many images.")
    var offset = 0

    @Option(help: "Show at most this many images.")
    var limit: Int?

    func validate() throws {
        if offset < 0 { throw ValidationError("--offset must be 0 or more") }
        if let limit, limit < 0 { throw ValidationError("--limit must be 0 or more") }
    }

    func run() throws {
        let s = try store.openStore()
        let docs = limit == 0 ? [] : try s.list(order: sort, descending: descending, offset: offset, limit: limit)
        DocumentPrinter.print(docs, json: output.json, total: output.json ? nil : try s.count())
    }
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search stored filenames.",
        discussion: """
            TEXT matches the words of filenames (split on punctuation as RediSearch indexes them);
            a word ending in * matches as a prefix: 'holi*' finds holiday-2023.jpg. Any text is
            safe: quotes, dashes and @ are searched for, never read as query syntax.
            """)

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "Words to search for (or the filename with --exact, the start with --prefix).")
    var text: String

    @Flag(help: "Match the whole filename exactly as stored.")
    var exact = false

    @Flag(help: "Match filenames that start with TEXT (case-sensitive).")
    var prefix = false

    @Option(help: "Skip this many results.")
    var offset = 0

    @Option(help: "Show at most this many results.")
    var limit: Int?

    func validate() throws {
        if exact && prefix { throw ValidationError("--exact and --prefix exclude each other") }
        if offset < 0 { throw ValidationError("--offset must be 0 or more") }
    }

    func run() throws {
        let s = try store.openStore()
        let kind: RedisStore.SearchKind = exact ? .exact(text) : prefix ? .prefix(text) : .text(text)
        let result = try s.search(kind, offset: offset, limit: limit)
        if !output.json && result.documents.isEmpty {
            print("no image matches '\(TerminalText.sanitize(text))'")
            throw ExitCode(1)
        }
        DocumentPrinter.print(result.documents, json: output.json, total: result.total)
    }
}

struct ShowCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one stored image and its faces.",
        discussion: "FILE is the filename exactly as stored (see 'facescope list'); a 26-character pk works too.")

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The stored filename or the document's pk.")
    var file: String

    func run() throws {
        let s = try store.openStore()
        var doc = try s.get(filename: file)
        if doc == nil, ULIDGenerator.isValid(file) { doc = try s.get(pk: file) }
        guard let doc else {
            throw FaceScopeError.notFound("no stored image '\(TerminalText.sanitize(file))' (try 'facescope search')")
        }
        if output.json {
            print(doc.json.serialized)
            return
        }
        var out = Output()
        out.line("filename  \(TerminalText.sanitize(doc.filename))")
        out.line("pk        \(TerminalText.sanitize(doc.pk))")
        let size = "\(doc.width.map(String.init) ?? "?") x \(doc.height.map(String.init) ?? "?")"
        out.line(
            "size      \(size), \(doc.channels.map { "\($0) channels" } ?? "channels unknown")"
                + (doc.portrait == 1 ? ", portrait" : doc.portrait == 0 ? ", landscape" : ""))
        guard let faces = doc.faces else {
            out.line("faces     not detected yet")
            out.flush()
            return
        }
        out.line("faces     \(faces.count)")
        for (i, face) in faces.enumerated() {
            let b = face.bbox
            var line = "  #\(i + 1)  box (\(b.x1),\(b.y1))-(\(b.x2),\(b.y2))  probability \(face.probability)"
            if let r = face.rotation { line += "  rotation \(r)°" }
            line += "  label \(face.label.map(String.init) ?? "-")"
            if case .object(let regions) = face.descriptors ?? .null {
                let points = regions.reduce(0) { n, region in
                    if case .object(let pts) = region.1 { return n + pts.count }
                    return n
                }
                line += "  landmarks \(points)"
            }
            out.line(line)
        }
        out.flush()
    }
}

struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write every stored document as JSON lines (sorted by filename).",
        discussion: "The output is what 'facescope import' reads back: a backup, or a way to move data.")

    @OptionGroup var store: StoreOptions

    @Option(
        name: [.short, .long], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path"))
    var output: String?

    func run() throws {
        let s = try store.openStore()
        let docs = try s.list()
        var text = ""
        for doc in docs {
            text += doc.json.serialized
            text += "\n"
        }
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(text.utf8)) else {
                throw FaceScopeError.file(path: output, reason: "cannot write")
            }
            FileHandle.standardError.write(
                Data("exported \(docs.count) documents to \(TerminalText.sanitize(output))\n".utf8))
        } else {
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store documents from JSON lines files (as 'facescope export' writes them).",
        discussion: """
            A document whose filename is already stored replaces it in place (same pk): importing
            twice never duplicates anything. A line that is not a valid document is reported with
            its file and line number; the others are stored.
            """)

    @OptionGroup var store: StoreOptions

    @Argument(help: "JSON lines files ('-' for standard input).")
    var files: [String]

    func run() throws {
        let s = try store.openStore()
        var failures = 0
        var stored = 0
        for file in files {
            let data: Data?
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                data = FileManager.default.contents(atPath: file)
            }
            guard let data else {
                printError(FaceScopeError.file(path: file, reason: "cannot read").description)
                failures += 1
                continue
            }
            var docs: [ImageDocument] = []
            let text = String(decoding: data, as: UTF8.self)
            for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                if line.allSatisfy({ $0 == " " || $0 == "\r" || $0 == "\t" }) { continue }
                do {
                    docs.append(try ImageDocument(json: try JSONValue.parse(String(line))))
                } catch {
                    printError("\(file):\(number + 1): \(error)")
                    failures += 1
                }
            }
            for result in try s.saveAll(docs) {
                switch result {
                case .success: stored += 1
                case .failure(let error):
                    printError(error.description)
                    failures += 1
                }
            }
        }
        FileHandle.standardError.write(
            Data("stored \(stored) documents\(failures > 0 ? ", \(failures) failed" : "")\n".utf8))
        if failures > 0 { throw PartialFailure(message: "\(failures) documents could not be imported") }
    }
}

struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete stored images' documents (the image files are not touched).")

    @OptionGroup var store: StoreOptions

    @Argument(help: "Stored filenames or pks.")
    var files: [String]

    func run() throws {
        let s = try store.openStore()
        var missing = 0
        for file in files {
            var doc = try s.get(filename: file)
            if doc == nil, ULIDGenerator.isValid(file) { doc = try s.get(pk: file) }
            if let doc, try s.delete(pk: doc.pk) {
                print("deleted \(TerminalText.sanitize(doc.filename))")
            } else {
                printError("no stored image '\(file)'")
                missing += 1
            }
        }
        if missing > 0 { throw PartialFailure(message: "\(missing) of \(files.count) not found") }
    }
}
