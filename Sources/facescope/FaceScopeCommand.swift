import ArgumentParser
import FaceScopeCore
import Foundation

@main
struct FaceScopeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facescope",
        abstract: "Find faces and facial landmarks in photo collections; browse the results in a terminal.",
        discussion: reflowed(
            """
            Results live in Redis Stack as one JSON document per image, in the layout the Python
            library redis-om writes, so data from the original Python services is found as is.

            Settings come from flags, then the environment, then a .env file in the working
            directory, then defaults. The main ones:
              REDIS_OM_URL          redis://[[user]:password@]host[:port][/db] or unix:///path.sock
              FACESCOPE_KEY_PREFIX  document key prefix (default :utils.Model:)

            Examples:
              facescope                           browse the stored images in the terminal
              facescope detect ~/Pictures --images-dir ~/Pictures
              facescope list --sort faces --desc --limit 20
              facescope search biden              words of filenames, people's names
              facescope search --exact 'trips/a b.jpg'
              facescope show trips/beach.jpg
              facescope doctor                    is everything set up right?
            """),
        subcommands: [
            BrowseCommand.self, DetectCommand.self, ListCommand.self, SearchCommand.self, ShowCommand.self,
            ExportCommand.self,
            ImportCommand.self,
            DeleteCommand.self, ClusterCommand.self, PeopleCommand.self, SimilarCommand.self, DoctorCommand.self,
            PruneCommand.self, WatchCommand.self,
            EnqueueCommand.self, WorkerCommand.self, QueueCommand.self,
        ],
        defaultSubcommand: BrowseCommand.self
    )

    /// Runs the command line with FaceScope's exit statuses: 0 success, 1 failure, 2 usage.
    static func main() {
        if let first = CommandLine.arguments.dropFirst().first, let message = unknownCommand(first) {
            printError(message)
            Foundation.exit(2)
        }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as PartialFailure {
            printError(error.message)
            Foundation.exit(1)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
            // Every layer's error (store, inference, image) becomes a message and a status here.
            if let known = FaceScopeError.from(error) {
                printError(known.description)
                Foundation.exit(known.exitCode)
            }
            let code = exitCode(for: error)
            if code == .success || code == .failure {
                exit(withError: error)
            }
            // Usage errors (ArgumentParser says 64): print its message, exit 2.
            let message = fullMessage(for: error)
            FileHandle.standardError.write(Data((message + "\n").utf8))
            Foundation.exit(2)
        }
    }
}

extension FaceScopeCommand {
    /// The names of the subcommands (and `help`).
    static var commandNames: [String] {
        configuration.subcommands.compactMap { $0.configuration.commandName } + ["help"]
    }

    /// A message for a first argument that is no subcommand (the browser, the default, takes no
    /// arguments): the nearest command names, or where to look.
    static func unknownCommand(_ word: String) -> String? {
        guard !word.hasPrefix("-"), !commandNames.contains(word) else { return nil }
        let near = commandNames.map { (name: $0, distance: editDistance($0, word.lowercased())) }
            .filter { $0.distance <= max(1, min(2, word.count / 3)) }
            .sorted { ($0.distance, $0.name) < ($1.distance, $1.name) }
        let shown = TerminalText.sanitize(word)
        if near.isEmpty { return "unknown command '\(shown)' (see 'facescope --help')" }
        return "unknown command '\(shown)'; did you mean "
            + near.prefix(3).map { "'\($0.name)'" }.joined(separator: " or ") + "?"
    }

    /// Levenshtein distance (insertions, deletions, substitutions; a swap of neighbours counts one).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let x = Array(a)
        let y = Array(b)
        if x.isEmpty { return y.count }
        if y.isEmpty { return x.count }
        var d = [[Int]](repeating: [Int](repeating: 0, count: y.count + 1), count: x.count + 1)
        for i in 0...x.count { d[i][0] = i }
        for j in 0...y.count { d[0][j] = j }
        for i in 1...x.count {
            for j in 1...y.count {
                let cost = x[i - 1] == y[j - 1] ? 0 : 1
                d[i][j] = min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
                if i > 1, j > 1, x[i - 1] == y[j - 2], x[i - 2] == y[j - 1] {
                    d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
                }
            }
        }
        return d[x.count][y.count]
    }
}

/// Some items of a batch failed; each was reported already.
struct PartialFailure: Error {
    let message: String
}

func printError(_ message: String) {
    FileHandle.standardError.write(Data(("error: " + TerminalText.sanitize(message) + "\n").utf8))
}

func printWarning(_ message: String) {
    FileHandle.standardError.write(Data(("warning: " + TerminalText.sanitize(message) + "\n").utf8))
}
