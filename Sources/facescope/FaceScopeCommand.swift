import ArgumentParser
import FaceScopeCore
import Foundation

@main
struct FaceScopeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facescope",
        abstract: "Find faces and facial landmarks in photo collections; browse the results in a terminal.",
        discussion: """
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
              facescope search 'holi*'            words of filenames, prefixes with *
              facescope search --exact 'trips/a b.jpg'
              facescope show trips/beach.jpg
              facescope doctor                    is everything set up right?
            """,
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
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as FaceScopeError {
            printError(error.description)
            Foundation.exit(error.exitCode)
        } catch let error as PartialFailure {
            printError(error.message)
            Foundation.exit(1)
        } catch let code as ExitCode {
            Foundation.exit(code.rawValue)
        } catch {
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
