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
        defer { reportSkipped(s) }
        let total = try s.count()
        // Documents other tools wrote get their face-count order first (a step of its own).
        if sort == .faces { try s.fillDerivedFields() }
        var out = Output()
        var width: Int?
        var shown = 0
        // The table shows face counts: the faces' records are read for JSON only.
        try s.forEachPage(
            order: sort, descending: descending, offset: offset, limit: limit, records: output.json
        ) { page in
            if output.json {
                for doc in page { out.line(doc.json.serialized) }
            } else {
                if width == nil {
                    width = DocumentPrinter.width(for: page)
                    out.line(DocumentPrinter.header(width: width ?? 8))
                }
                for doc in page { out.line(DocumentPrinter.row(doc, width: width ?? 8)) }
            }
            shown += page.count
            out.flush()
        }
        if !output.json {
            if shown == 0 { out.line("no images") } else if total != shown { out.line("(\(shown) of \(total))") }
        }
        out.flush()
        if limit == nil, offset == 0 { try checkIndexComplete(s) }
    }
}

/// Fails loudly when documents under the prefix are missing from FaceScope's index (RediSearch
/// could not index them), so a full listing never looks complete when it is not.
func checkIndexComplete(_ store: RedisStore) throws {
    let failures = try store.indexingFailures()
    guard failures.count > 0 else { return }
    throw PartialFailure(
        message: "\(failures.count) stored documents are not in FaceScope's index and were not listed"
            + (failures.lastError.map { " (RediSearch: \(TerminalText.sanitize($0)))" } ?? "")
            + "; 'facescope export' still writes them, 'facescope doctor' shows them")
}

struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search stored images by the words of their filenames, or by a person's name.",
        discussion: reflowed(
            """
            TEXT's words match the words of filenames as you would say them: split at any
            punctuation, between letters and digits and at capitals, folder names included, case
            and accents ignored. 'biden' finds examples/obama_and_biden.jpg, '000123' finds
            IMG_000123.jpg, 'wedding' finds grandpaWedding.png, 'cafe' finds Café.jpg. The last
            word matches as a prefix unless a space follows it ('holi' finds holiday-2023.jpg);
            'holi*' asks for a prefix anywhere. A person's name (see 'facescope people') finds the
            photos where that person is. When nothing matches, words within one typo are shown,
            and the command says so. Counts are exact, however many images match. The browser's
            '/' search is the same search.
            """))

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "Words to search for (or the filename with --exact, the start with --prefix).")
    var text: String

    @Flag(help: "Match the whole filename exactly as stored.")
    var exact = false

    @Flag(help: "Match filenames that start with TEXT (case-sensitive).")
    var prefix = false

    @Flag(help: "Print only the number of matching images.")
    var count = false

    @Option(help: "Skip this many results.")
    var offset = 0

    @Option(help: "Show at most this many results.")
    var limit: Int?

    func validate() throws {
        if exact && prefix { throw ValidationError("--exact and --prefix exclude each other") }
        if offset < 0 { throw ValidationError("--offset must be 0 or more") }
        if !exact, !prefix, SearchPlan(text).isEmpty {
            throw ValidationError("give a word to search for ('facescope list' shows every image)")
        }
    }

    func run() throws {
        let s = try store.openStore()
        defer { reportSkipped(s) }
        let kind: RedisStore.SearchKind = exact ? .exact(text) : prefix ? .prefix(text) : .text(text)
        // Documents other tools wrote get the words searches read first (a step of its own).
        try s.fillDerivedFields()
        let result = try s.search(kind, offset: offset, limit: count ? 0 : limit)
        if result.closeMatches { printNote("no exact match; showing close matches") }
        if count {
            print(result.total)
            return
        }
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
        discussion: reflowed(
            """
            FILE is the filename as stored (see 'facescope list'), the path of the file as given to
            'facescope detect' (relative, ./…, or absolute under the images folder, IMAGES_DIR), or
            the document's 26-character pk. When nothing matches, stored names with the same words
            are suggested.
            """))

    @OptionGroup var store: StoreOptions
    @OptionGroup var output: OutputOptions

    @Argument(help: "The stored filename or the document's pk.")
    var file: String

    func run() throws {
        let s = try store.openStore()
        let doc = try lookUpImage(file, in: s, options: store)
        if output.json {
            print(doc.json.serialized)
            return
        }
        let names = try s.peopleNames()
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
            var line = "  #\(i + 1)  box (\(b.x1),\(b.y1))-(\(b.x2),\(b.y2))  probability \(face.probabilityText)"
            if let r = face.rotation { line += "  rotation \(r)°" }
            line += "  label \(face.label.map(String.init) ?? "-")"
            if let label = face.label, let name = names[label] { line += " (\(TerminalText.sanitize(name)))" }
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
        abstract: "Write every stored document as JSON lines.",
        discussion: reflowed(
            """
            The output is what 'facescope import' reads back: a backup, or a way to move data. Every
            document under the key prefix is written, read straight from the keys (not from an
            index), a page at a time, so memory stays flat however large the library is. The order
            is Redis's own. Progress (count, rate, time left) goes to standard error when it is a
            terminal and the documents do not go to that terminal.
            """))

    @OptionGroup var store: StoreOptions

    @Option(
        name: [.short, .long], help: ArgumentHelp("Write to this file instead of standard output.", valueName: "path"))
    var output: String?

    func run() throws {
        let s = try store.openStore()
        defer { reportSkipped(s) }
        let target = output ?? "standard output"
        let fd: Int32
        if let output {
            fd = open(output, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else {
                throw FaceScopeError.file(path: output, reason: "cannot write: \(String(cString: strerror(errno)))")
            }
        } else {
            fd = STDOUT_FILENO
        }
        var isOpen = output != nil
        defer { if isOpen { close(fd) } }
        // Progress on a terminal's standard error, unless the documents go to that terminal.
        let progress = ProgressLine(
            "exported", total: try? s.count(), enabled: output != nil || isatty(STDOUT_FILENO) == 0)
        var lines: [UInt8] = []
        lines.reserveCapacity(1 << 22)
        // A failed write ends the walk: the store's walk stops on its error, and the write's is
        // the one reported.
        var writeFailure: FaceScopeError?
        let joiner = ExportJoiner(store: s, records: try s.withOwnConnection())
        defer { joiner.drain() }
        let walked = Result { () throws(StoreError) in
            try s.forEachStoredJSON { page throws(StoreError) in
                let written = try joiner.add(page, to: &lines)
                if case .failure(let failure) = Result(catching: { () throws(FaceScopeError) in
                    try writeAll(lines, to: fd, name: target)
                }) {
                    writeFailure = failure
                    throw .invalidRequest("export stopped: \(failure.description)")
                }
                lines.removeAll(keepingCapacity: true)
                progress.advance(by: written)
            }
        }
        if let writeFailure { throw writeFailure }
        try walked.get()
        let last = try joiner.finish(to: &lines)
        try writeAll(lines, to: fd, name: target)
        progress.advance(by: last)
        progress.finish()
        if let output {
            isOpen = false
            guard close(fd) == 0 else {
                throw FaceScopeError.file(path: output, reason: "cannot write: \(String(cString: strerror(errno)))")
            }
            printNote("exported \(progress.count) documents to \(output)")
        }
    }
}

/// Writes every byte to a file descriptor (retrying short writes and interruptions).
func writeAll(_ bytes: [UInt8], to fd: Int32, name: String) throws(FaceScopeError) {
    let failure: Int32? = bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let n = write(fd, raw.baseAddress.map { $0 + offset }, raw.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += n
        }
        return nil
    }
    if let failure {
        throw FaceScopeError.file(path: name, reason: "cannot write: \(String(cString: strerror(failure)))")
    }
}

struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Store documents from JSON lines files (as 'facescope export' writes them).",
        discussion: reflowed(
            """
            A document whose filename is already stored replaces it in place (same pk): importing
            twice never duplicates anything. A document whose pk belongs to another image is stored
            under a new pk (the other image's document is never replaced), and says so. A line
            that is not a valid document (not JSON, no filename, an empty filename, a pk that is
            not a 26-character ULID) is reported with its file and line number; the others are
            stored. Files are read a batch at a time, the next batch while the server stores the
            last, so memory stays flat; progress (count, rate, time left) goes to standard error
            when it is a terminal.
            """))

    @OptionGroup var store: StoreOptions

    @Argument(help: "JSON lines files ('-' for standard input).")
    var files: [String]

    func run() throws {
        let s = try store.openStore(.write)
        defer { reportSkipped(s) }
        var failures = 0
        var stored = 0
        var renumbered = 0
        let progress = ProgressLine("imported")
        for file in files {
            let handle = file == "-" ? FileHandle.standardInput : FileHandle(forReadingAtPath: file)
            guard let handle else {
                printError(FaceScopeError.file(path: file, reason: "cannot read").description)
                failures += 1
                continue
            }
            defer { if file != "-" { try? handle.close() } }
            var reader = LineReader(handle: handle)
            // How far through the file, for the time left (a regular file's size is known).
            var status = stat()
            let size =
                fstat(handle.fileDescriptor, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG
                ? Int(status.st_size) : 0
            // Line numbers, given pks and filenames of the batches on their way, oldest first.
            var sent: [[(line: Int, pk: String, filename: String)]] = []
            try s.saveStreaming(
                {
                    var batch: [StorableDocument] = []
                    var items: [(line: Int, pk: String)] = []
                    while batch.count < ImportCommand.batchSize,
                        let (number, parsed) = reader.next({ ($0, ImportCommand.document($1, store: s)) })
                    {
                        switch parsed {
                        case .none: continue
                        case .success(let (doc, givenPK))?:
                            batch.append(doc)
                            items.append((number, givenPK))
                        case .failure(let reason)?:
                            progress.clear()
                            printError("\(TerminalText.sanitize(file)):\(number): \(reason)")
                            failures += 1
                        }
                    }
                    if batch.isEmpty { return nil }
                    sent.append(zip(items, batch).map { ($0.line, $0.pk, $1.filename) })
                    return batch
                },
                saved: { results in
                    let items = sent.isEmpty ? [] : sent.removeFirst()
                    for (item, result) in zip(items, results) {
                        switch result {
                        case .success(let pk):
                            stored += 1
                            if !item.pk.isEmpty, pk != item.pk {
                                renumbered += 1
                                progress.clear()
                                printWarning(
                                    "\(file):\(item.line): pk \(item.pk) belongs to another image; "
                                        + "'\(TerminalText.sanitize(item.filename))' was stored under \(pk)")
                            }
                        case .failure(let error):
                            progress.clear()
                            printError("\(TerminalText.sanitize(file)):\(item.line): \(error.description)")
                            failures += 1
                        }
                    }
                    progress.advance(
                        by: results.count, fraction: size > 0 ? Double(reader.bytesDone) / Double(size) : nil)
                })
        }
        progress.finish()
        var summary = "stored \(stored) documents"
        if renumbered > 0 { summary += " (\(renumbered) under a new pk)" }
        if failures > 0 { summary += ", \(failures) failed" }
        printNote(summary)
        if failures > 0 { throw PartialFailure(message: "\(failures) documents could not be imported") }
    }

    /// Documents sent to the server in one round trip.
    static let batchSize = 500

    /// The document on a line, ready to store, and the pk the line gave it (empty when none):
    /// nil for a blank line, else the document or why the line is not one. A line written as
    /// FaceScope writes documents is taken as it is; any other is decoded and written again.
    static func document(_ line: UnsafeBufferPointer<UInt8>, store: RedisStore) -> Result<
        (StorableDocument, String), ImportLineError
    >? {
        if line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) { return nil }
        do throws(ImportLineError) {
            if let ready = RedisStore.storable(line: line) {
                do { try validate(filename: ready.filename, pk: ready.pk) } catch {
                    throw ImportLineError(reason: error.description)
                }
                return .success((ready, ready.pk))
            }
            var json: JSONValue
            do { json = try JSONValue.parse(bytes: line) } catch { throw ImportLineError(reason: error.description) }
            // Landmarks in FaceScope's compact stored form are taken too.
            do { try RedisStore.expandStoredFaces(&json) } catch { throw ImportLineError(reason: error.description) }
            let doc: ImageDocument
            do {
                doc = try ImageDocument(json: json)
                try validate(doc)
            } catch {
                throw ImportLineError(reason: error.description)
            }
            return .success((store.storable(doc), doc.pk))
        } catch {
            return .failure(error)
        }
    }

    /// What an imported document must satisfy beyond its JSON shape.
    static func validate(_ doc: ImageDocument) throws(DocumentFormatError) {
        try validate(filename: doc.filename, pk: doc.pk)
    }

    static func validate(filename: String, pk: String) throws(DocumentFormatError) {
        if filename.isEmpty { throw DocumentFormatError("the filename is empty") }
        if filename.contains("\u{0}") { throw DocumentFormatError("the filename contains a NUL character") }
        if !pk.isEmpty, !ULIDGenerator.isValid(pk) {
            throw DocumentFormatError(
                "the pk '\(TerminalText.sanitize(pk))' is not a 26-character ULID (leave it out to get a new one)")
        }
    }
}

/// Why a line of an import is not a document.
struct ImportLineError: Error, CustomStringConvertible {
    let reason: String
    var description: String { reason }
}

/// Reads a file line by line, a megabyte at a time, numbering the lines from 1.
struct LineReader {
    let handle: FileHandle
    private var buffer = [UInt8]()
    private var position = 0
    private var number = 0
    private var finished = false
    /// Bytes read from the file so far.
    private(set) var bytesRead = 0
    /// Bytes of the lines handed out so far.
    var bytesDone: Int { bytesRead - (buffer.count - position) }

    init(handle: FileHandle) { self.handle = handle }

    /// What `body` makes of the next line (its number, and its bytes without the line feed);
    /// nil at the end.
    mutating func next<R>(_ body: (_ number: Int, _ bytes: UnsafeBufferPointer<UInt8>) -> R) -> R? {
        while true {
            if let newline = buffer[position...].firstIndex(of: UInt8(ascii: "\n")) {
                defer { position = newline + 1 }
                number += 1
                return buffer.withUnsafeBufferPointer {
                    body(number, UnsafeBufferPointer(rebasing: $0[position..<newline]))
                }
            }
            if finished {
                guard position < buffer.count else { return nil }
                defer { position = buffer.count }
                number += 1
                return buffer.withUnsafeBufferPointer { body(number, UnsafeBufferPointer(rebasing: $0[position...])) }
            }
            buffer.removeFirst(position)
            position = 0
            let chunk = handle.readData(ofLength: 1 << 20)
            bytesRead += chunk.count
            if chunk.isEmpty { finished = true } else { buffer.append(contentsOf: chunk) }
        }
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
        let s = try store.openStore(.write)
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
