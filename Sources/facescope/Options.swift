import ArgumentParser
import FaceScopeCore
import FaceScopePipeline
import FaceScopeRedis
import Foundation

/// Flags shared by every command that talks to Redis.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("redis-url"), help: ArgumentHelp("Redis Stack URL (REDIS_OM_URL).", valueName: "url"))
    var redisURL: String?

    @Option(
        name: .customLong("key-prefix"),
        help: ArgumentHelp("Document key prefix (FACESCOPE_KEY_PREFIX).", valueName: "prefix"))
    var keyPrefix: String?

    @Option(
        name: .customLong("env-file"),
        help: ArgumentHelp("Settings file read after the environment.", valueName: "path"))
    var envFile: String = ".env"

    func settings(_ extra: [SettingKey: String] = [:]) throws -> Settings {
        var flags = extra
        if let redisURL { flags[.redisURL] = redisURL }
        if let keyPrefix { flags[.keyPrefix] = keyPrefix }
        var dotenv: [String: String] = [:]
        if let data = FileManager.default.contents(atPath: envFile) {
            dotenv = DotEnv.parse(String(decoding: data, as: UTF8.self))
        } else if envFile != ".env" {
            throw FaceScopeError.usage("cannot read the settings file \(envFile)")
        }
        return try Settings.resolve(flags: flags, environment: ProcessInfo.processInfo.environment, dotenv: dotenv)
    }

    /// Opens the store; `.read` creates nothing (see ``StoreAccess``).
    func openStore(_ access: StoreAccess = .read) throws -> RedisStore {
        if isatty(STDERR_FILENO) == 1 {
            // A library of an earlier version is written again once, page by page.
            RedisStore.upgradeProgress.withLock {
                $0 = { done, total in
                    let text =
                        done >= total
                        ? "\r\u{1B}[K"
                        : "\rupgrading the stored documents to this version's layout: \(done) of \(total)\u{1B}[K"
                    FileHandle.standardError.write(Data(text.utf8))
                }
            }
        }
        return try RedisStore.open(settings: try settings(), access: access)
    }
}

/// The stored document a user means by FILE: the filename exactly as stored, a pk, or a path to
/// the file as it was given to `detect` (relative, `./…`, absolute, through links) under the
/// images folder. When nothing matches, the error suggests stored names with the same words.
func lookUpImage(_ file: String, in store: RedisStore, options: StoreOptions) throws -> ImageDocument {
    if let doc = try store.get(filename: file) { return doc }
    if ULIDGenerator.isValid(file), let doc = try store.get(pk: file) { return doc }
    let root = try options.settings().imagesDir
    var candidates: [String] = []
    if !root.isEmpty {
        let canonicalRoot = ImageFiles.canonical(root)
        candidates.append(
            ImageFiles.storedName(
                path: ImageFiles.canonical(file), root: canonicalRoot, realRoot: ImageFiles.realPath(canonicalRoot)))
    }
    var trimmed = Substring(file)
    while trimmed.hasPrefix("./") { trimmed = trimmed.dropFirst(2) }
    candidates.append(String(trimmed))
    for name in candidates where name != file {
        if let doc = try store.get(filename: name) { return doc }
    }
    let base = file.split(separator: "/").last.map(String.init) ?? file
    try store.fillDerivedFields()
    let near = try store.searchWords(SearchPlan(base + " "), limit: 5).documents.map(\.filename)
    var message = "no stored image '\(TerminalText.sanitize(file))'"
    if near.isEmpty {
        message += " (try 'facescope search')"
    } else {
        message += "; did you mean " + near.map { "'\(TerminalText.sanitize($0))'" }.joined(separator: ", ") + "?"
    }
    throw FaceScopeError.notFound(message)
}

/// Tells on standard error which stored documents a command had to skip, and why.
func reportSkipped(_ store: RedisStore) {
    let skipped = store.skippedDocuments()
    guard !skipped.isEmpty else { return }
    for item in skipped.prefix(20) {
        printWarning("skipped document \(item.key): \(item.reason)")
    }
    if skipped.count > 20 { printWarning("… and \(skipped.count - 20) more documents skipped") }
    printWarning("\(skipped.count) stored documents could not be read and were skipped (see 'facescope doctor')")
}

/// A count-and-rate line on standard error for long work, redrawn in place at most a few times
/// a second; silent when standard error is not a terminal.
final class ProgressLine {
    private let label: String
    private let total: Int?
    private let start = Monotonic.seconds()
    private var last = 0.0
    private let enabled: Bool
    private(set) var count = 0

    init(_ label: String, total: Int? = nil, enabled: Bool = true) {
        self.label = label
        self.total = total
        self.enabled = enabled && isatty(STDERR_FILENO) == 1
    }

    /// Counts `n` more; `fraction` (how much of the work is done, 0...1) gives the time left
    /// when the total is not known in items (an import's share of its file read).
    func advance(by n: Int, fraction: Double? = nil) {
        count += n
        let now = Monotonic.seconds()
        guard enabled, now - last > 0.2 else { return }
        last = now
        let elapsed = max(0.001, now - start)
        let rate = Double(count) / elapsed
        var text = "\r\(label) \(count)"
        if let total, total > 0 {
            text += " of \(total)"
            if rate > 0, total > count { text += ", \(Int((Double(total - count) / rate).rounded())) s left" }
        } else if let fraction, fraction > 0, fraction < 1 {
            text += " (\(Int(fraction * 100))%), \(Int((elapsed * (1 - fraction) / fraction).rounded())) s left"
        }
        text += " (\(Int(rate))/s)\u{1B}[K"
        FileHandle.standardError.write(Data(text.utf8))
    }

    func finish() {
        if enabled, last != 0 { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }

    /// Clears the line before other output; the next advance draws it again.
    func clear() {
        finish()
        last = 0
    }
}

struct OutputOptions: ParsableArguments {
    @Flag(name: .long, help: "Print JSON for scripts: one stored document per line.")
    var json = false
}

extension ListOrder: ExpressibleByArgument {}

/// Writes lines to standard output, buffered.
struct Output {
    private var buffer = ""

    mutating func line(_ text: String) {
        buffer += text
        buffer += "\n"
        if buffer.utf8.count > 64 * 1024 { flush() }
    }

    mutating func flush() {
        FileHandle.standardOutput.write(Data(buffer.utf8))
        buffer = ""
    }
}

/// Renders documents as a table or JSON lines.
enum DocumentPrinter {
    static func header(width: Int) -> String {
        TerminalText.pad("FILENAME", columns: width) + "  FACES  " + TerminalText.pad("SIZE", columns: 11) + "  PK"
    }

    static func row(_ doc: ImageDocument, width: Int) -> String {
        let size = (doc.width.map(String.init) ?? "?") + "x" + (doc.height.map(String.init) ?? "?")
        let faces = doc.faces == nil ? "-" : String(doc.faceCount)
        return TerminalText.pad(TerminalText.sanitize(doc.filename), columns: width) + "  "
            + String(repeating: " ", count: max(0, 5 - faces.count)) + faces + "  "
            + TerminalText.pad(size, columns: 11) + "  " + TerminalText.sanitize(doc.pk)
    }

    /// The filename column's width for rows like these.
    static func width(for docs: [ImageDocument]) -> Int {
        let longest = docs.map { TerminalText.width(TerminalText.sanitize($0.filename)) }.max() ?? 8
        return min(max(8, longest), 60)
    }

    static func print(_ docs: [ImageDocument], json: Bool, total: Int? = nil) {
        var out = Output()
        if json {
            for doc in docs { out.line(doc.json.serialized) }
        } else if docs.isEmpty {
            out.line("no images")
        } else {
            let longest = docs.map { TerminalText.width(TerminalText.sanitize($0.filename)) }.max() ?? 8
            let width = min(max(8, longest), 60)
            out.line(header(width: width))
            for doc in docs { out.line(row(doc, width: width)) }
            if let total, total != docs.count {
                out.line("(\(docs.count) of \(total))")
            }
        }
        out.flush()
    }
}

/// Help text as paragraphs that ArgumentParser wraps to the terminal's width: the lines of a
/// paragraph are joined (the source keeps them short); indented lines (examples, tables) and
/// blank lines stay as they are.
func reflowed(_ text: String) -> String {
    var out: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        let indented = line.hasPrefix(" ") || line.hasPrefix("\t")
        if let last = out.last, !last.isEmpty, !line.isEmpty, !indented, !last.hasPrefix(" ") {
            out[out.count - 1] = last + " " + line
        } else {
            out.append(line)
        }
    }
    return out.joined(separator: "\n")
}
