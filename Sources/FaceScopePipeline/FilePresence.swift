import FaceScopeCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Whether the image file of a stored document is there.
public enum FilePresence: Sendable, Equatable {
    case present
    /// The file does not exist, and the folder that should hold it can be read: it was deleted.
    case gone
    /// Cannot tell now (permission denied, a folder that looks unmounted); the reason says which.
    case unknown(String)
}

/// Tells whether stored images' files are there, telling a deleted file from one that merely
/// cannot be seen right now: a file is `gone` only when the nearest folder above it that exists
/// can be read and does not look like an unmounted drive (an empty folder other than the file's
/// own, or a mount point of /etc/fstab that is not mounted now). Never throws; remembers the
/// verdict per missing folder, so a deleted folder of 10,000 photos costs a few calls.
public struct FilePresenceChecker {
    /// The images folder, made absolute (links kept).
    public let root: String
    private var folderVerdicts: [String: FilePresence] = [:]
    private let unmounted: Set<String>

    public init(imagesRoot: String) {
        root = ImageFiles.canonical(imagesRoot)
        unmounted = Self.unmountedMountPoints()
    }

    /// Why nothing may be pruned under the images folder at all: it is missing, not a folder,
    /// unreadable, empty, or a mount point that is not mounted. nil when it looks fine.
    public func rootProblem() -> String? {
        var info = stat()
        let shown = TerminalText.sanitize(root)
        guard stat(root, &info) == 0 else {
            return "the images folder \(shown) does not exist (\(SourceFiles.errnoText()); not mounted?)"
        }
        guard info.st_mode & S_IFMT == S_IFDIR else { return "the images folder \(shown) is not a folder" }
        guard access(root, R_OK | X_OK) == 0 else {
            return "the images folder \(shown) cannot be read (\(SourceFiles.errnoText()))"
        }
        if unmounted.contains(root) { return "the images folder \(shown) is a mount point that is not mounted now" }
        if Self.isEmptyFolder(root) { return "the images folder \(shown) is empty (not mounted?)" }
        return nil
    }

    /// Whether the file stored as `filename` (relative to the images folder, or absolute) is there.
    public mutating func presence(of filename: String) -> FilePresence {
        let path = ImageFiles.path(of: filename, imagesRoot: root)
        var info = stat()
        if stat(path, &info) == 0 { return .present }
        let error = errno
        guard error == ENOENT || error == ENOTDIR else {
            return .unknown("\(String(cString: strerror(error)).lowercased())")
        }
        if lstat(path, &info) == 0 {
            return .unknown("a symbolic link whose target is missing (on a drive not mounted now?)")
        }
        let folder = (path as NSString).deletingLastPathComponent
        if let known = folderVerdicts[folder] { return known }
        let verdict = missingVerdict(folder: folder)
        if folderVerdicts.count > 10_000 { folderVerdicts.removeAll() }
        folderVerdicts[folder] = verdict
        return verdict
    }

    /// The verdict for a file missing from `folder` (which may itself be missing).
    private func missingVerdict(folder: String) -> FilePresence {
        var current = folder
        var info = stat()
        while true {
            if unmounted.contains(current) {
                return .unknown("\(TerminalText.sanitize(current)) is a mount point that is not mounted now")
            }
            if stat(current, &info) == 0 { break }
            let error = errno
            if error != ENOENT && error != ENOTDIR {
                return .unknown("cannot look into \(TerminalText.sanitize(current)): \(SourceFiles.errnoText())")
            }
            let parent = (current as NSString).deletingLastPathComponent
            if parent == current || parent.isEmpty { return .unknown("no folder above it exists") }
            current = parent
        }
        let insideRoot = current == root || current.hasPrefix(root == "/" ? "/" : root + "/")
        if !insideRoot && (root == current || root.hasPrefix(current == "/" ? "/" : current + "/")) {
            return .unknown("the images folder \(TerminalText.sanitize(root)) is missing (not mounted?)")
        }
        guard info.st_mode & S_IFMT == S_IFDIR, access(current, R_OK | X_OK) == 0 else {
            return .unknown("cannot look into \(TerminalText.sanitize(current)): \(SourceFiles.errnoText())")
        }
        if current != folder, Self.isEmptyFolder(current) {
            return .unknown(
                "its folder is missing and \(TerminalText.sanitize(current)) is empty (a drive not mounted now?); "
                    + "remove the empty folder to prune these")
        }
        return .gone
    }

    static func isEmptyFolder(_ path: String) -> Bool {
        guard let dir = opendir(path) else { return false }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            if name != [UInt8(ascii: ".")] && name != [UInt8(ascii: "."), UInt8(ascii: ".")] { return false }
        }
        return true
    }

    /// Mount points listed in /etc/fstab that are not mounted now (/proc/self/mounts).
    static func unmountedMountPoints() -> Set<String> {
        func points(_ path: String) -> Set<String> {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [] }
            var found = Set<String>()
            for line in text.split(separator: "\n") where !line.hasPrefix("#") {
                let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
                guard fields.count >= 2, fields[1].hasPrefix("/") else { continue }
                // fstab and mounts write a space in a path as \040.
                let point = String(fields[1]).replacingOccurrences(of: "\\040", with: " ")
                found.insert(point.count > 1 && point.hasSuffix("/") ? String(point.dropLast()) : point)
            }
            return found
        }
        return points("/etc/fstab").subtracting(points("/proc/self/mounts")).subtracting(["/", "none", "swap"])
    }
}
