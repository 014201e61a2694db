import FaceScopeCore
import Foundation

/// Opens images in the system viewer: `$FACESCOPE_OPENER` (a program, given the path as its one
/// argument), else `xdg-open`. The viewer runs detached from the terminal (no standard input or
/// output, a session of its own through `setsid` where there is one) and is not waited for; a
/// viewer that cannot be started, or that exits with an error, is reported on the status line.
final class Opener: Sendable {
    private let program: String
    private let mailbox: Mailbox

    init(environment: [String: String], mailbox: Mailbox) {
        let chosen = environment["FACESCOPE_OPENER"]?.trimmingCharacters(in: .whitespaces) ?? ""
        program = chosen.isEmpty ? "xdg-open" : chosen
        self.mailbox = mailbox
    }

    /// Starts the viewer on `path`.
    func open(_ path: String) {
        let process = Process()
        let setsid = ["/usr/bin/setsid", "/bin/setsid"].first { FileManager.default.isExecutableFile(atPath: $0) }
        process.executableURL = URL(fileURLWithPath: setsid ?? "/usr/bin/env")
        process.arguments = (setsid == nil ? [] : ["--wait", "/usr/bin/env"]) + ["--", program, path]
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let program = self.program
        let name = (program as NSString).lastPathComponent
        let file = (path as NSString).lastPathComponent
        let mailbox = self.mailbox
        process.terminationHandler = { done in
            guard done.terminationReason == .exit, done.terminationStatus != 0 else { return }
            let why =
                done.terminationStatus == 127
                ? "\(program) was not found (set FACESCOPE_OPENER to your image viewer)"
                : "the viewer \(name) failed with status \(done.terminationStatus)"
            mailbox.post(.notice("\(why) (opening \(file))", isError: true))
        }
        do {
            try process.run()
        } catch {
            mailbox.post(
                .notice("cannot start \(program): \(error.localizedDescription) (opening \(file))", isError: true))
        }
    }

    /// The bytes that ask the terminal to put `text` on the clipboard (OSC 52, "c" selection).
    static func clipboardSequence(_ text: String) -> String {
        "\u{1B}]52;c;" + Data(text.utf8).base64EncodedString() + "\u{07}"
    }
}
