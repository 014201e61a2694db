import FaceScopeCore
import FaceScopePipeline
import Foundation

/// Checks whether listed images' files exist, on a thread of its own (a slow or hung network
/// folder never holds up the UI), and posts the answers to the mailbox.
final class FileCheckWorker: Sendable {
    private let queue = DispatchQueue(label: "facescope.tui.files", qos: .utility)
    private let imagesRoot: String
    private let mailbox: Mailbox

    init(imagesRoot: String, mailbox: Mailbox) {
        self.imagesRoot = imagesRoot
        self.mailbox = mailbox
    }

    func check(_ filenames: [String]) {
        queue.async { [self] in
            var results: [String: Bool] = [:]
            for name in filenames {
                var info = stat()
                let path = ImageFiles.path(of: name, imagesRoot: imagesRoot)
                results[name] = stat(path, &info) != 0 && (errno == ENOENT || errno == ENOTDIR)
            }
            mailbox.post(.filesChecked(results))
        }
    }
}
