import FaceScopeCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What happened in a watched folder tree.
public enum FolderEvent: Sendable, Equatable {
    /// An image file was written, created, moved in or touched (it may still be growing).
    case written(String)
    /// An image file was deleted or moved away.
    case removed(String)
    /// A folder appeared (created or moved in); it is watched now, and these image files were
    /// in it already.
    case folderAdded(String, files: [String])
    /// A folder was deleted or moved away.
    case folderRemoved(String)
    /// The kernel dropped events (too many at once): everything should be looked at again.
    case overflow
}

/// Watches a folder tree with inotify: every folder in it (hidden ones skipped), new folders as
/// they appear. Linux only.
public final class FolderWatcher {
    private let fd: Int32
    private var folders: [Int32: String] = [:]
    private var watched: [String: Int32] = [:]
    /// Folders that could not be watched, with the reason (reported by the caller).
    public private(set) var problems: [FaceScopeError] = []

    static let mask: UInt32 =
        UInt32(IN_CLOSE_WRITE) | UInt32(IN_MOVED_TO) | UInt32(IN_CREATE) | UInt32(IN_MODIFY) | UInt32(IN_ATTRIB)
        | UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM) | UInt32(IN_DELETE_SELF) | UInt32(IN_ONLYDIR)

    public init() throws(FaceScopeError) {
        fd = inotify_init1(Int32(IN_NONBLOCK | IN_CLOEXEC))
        guard fd >= 0 else { throw .usage("cannot watch folders (inotify: \(SourceFiles.errnoText()))") }
    }

    deinit { close(fd) }

    /// How many folders are watched.
    public var folderCount: Int { folders.count }

    /// Watches `path` and every folder below it; returns the image files found in the folders
    /// newly watched. A folder that cannot be watched is added to `problems`.
    @discardableResult
    public func watchTree(_ path: String) -> [String] {
        var files: [String] = []
        var stack = [path]
        while let folder = stack.popLast() {
            if watched[folder] != nil { continue }
            let wd = inotify_add_watch(fd, folder, Self.mask)
            guard wd >= 0 else {
                let reason =
                    errno == ENOSPC
                    ? "too many folders to watch: raise fs.inotify.max_user_watches (sysctl; see docs/troubleshooting.md)"
                    : "cannot watch the folder: \(SourceFiles.errnoText())"
                problems.append(.file(path: folder, reason: reason))
                continue
            }
            folders[wd] = folder
            watched[folder] = wd
            guard let dir = opendir(folder) else { continue }
            while let entry = readdir(dir) {
                let bytes = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
                guard let name = String(validating: bytes, as: UTF8.self), !name.hasPrefix(".") else { continue }
                let child = folder == "/" ? "/" + name : folder + "/" + name
                var info = stat()
                guard stat(child, &info) == 0 else { continue }
                if info.st_mode & S_IFMT == S_IFDIR {
                    stack.append(child)
                } else if Self.isImageName(name) {
                    files.append(child)
                }
            }
            closedir(dir)
        }
        return files
    }

    /// Waits up to `timeout` milliseconds for events, and returns them (empty on a timeout).
    public func next(timeout: Int32) -> [FolderEvent] {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, timeout) > 0 else { return [] }
        var events: [FolderEvent] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            guard count > 0 else { break }
            var offset = 0
            let header = MemoryLayout<inotify_event>.size
            while offset + header <= count {
                let (wd, mask, length) = buffer.withUnsafeBytes { raw in
                    let event = raw.loadUnaligned(fromByteOffset: offset, as: inotify_event.self)
                    return (event.wd, event.mask, Int(event.len))
                }
                let nameBytes = buffer[(offset + header)..<min(count, offset + header + length)].prefix { $0 != 0 }
                offset += header + length
                if mask & UInt32(IN_Q_OVERFLOW) != 0 {
                    events.append(.overflow)
                    continue
                }
                guard let folder = folders[wd] else { continue }
                if mask & UInt32(IN_IGNORED) != 0 || mask & UInt32(IN_DELETE_SELF) != 0 {
                    folders[wd] = nil
                    if watched[folder] == wd { watched[folder] = nil }
                    continue
                }
                guard let name = String(validating: Array(nameBytes), as: UTF8.self), !name.isEmpty,
                    !name.hasPrefix(".")
                else { continue }
                let path = folder == "/" ? "/" + name : folder + "/" + name
                if mask & UInt32(IN_ISDIR) != 0 {
                    if mask & (UInt32(IN_CREATE) | UInt32(IN_MOVED_TO)) != 0 {
                        events.append(.folderAdded(path, files: watchTree(path)))
                    } else if mask & (UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM)) != 0 {
                        forget(below: path)
                        events.append(.folderRemoved(path))
                    }
                    continue
                }
                guard Self.isImageName(name) else { continue }
                if mask & (UInt32(IN_DELETE) | UInt32(IN_MOVED_FROM)) != 0 {
                    events.append(.removed(path))
                } else {
                    events.append(.written(path))
                }
            }
        }
        return events
    }

    /// Stops tracking a folder moved away (and those below it): their watches follow the move.
    private func forget(below path: String) {
        for (folder, wd) in watched where folder == path || folder.hasPrefix(path + "/") {
            inotify_rm_watch(fd, wd)
            watched[folder] = nil
            folders[wd] = nil
        }
    }

    static func isImageName(_ name: String) -> Bool {
        guard let dot = name.lastIndex(of: ".") else { return false }
        return ImageFiles.extensions.contains(name[name.index(after: dot)...].lowercased())
    }
}

/// Files that changed recently, held back until they stop changing: a file is ready once no
/// event came for it for `quiet` seconds and its size is what it was at the last event (so a
/// copy in progress is not read half written).
public struct SettlingFiles {
    private var items: [String: (last: Double, size: Int64?)] = [:]
    public let quiet: Double

    public init(quiet: Double) { self.quiet = quiet }

    public var isEmpty: Bool { items.isEmpty }

    /// Something happened to `path` at `now`.
    public mutating func note(_ path: String, now: Double) {
        items[path] = (now, try? SourceFiles.sizeAndTime(path).size)
    }

    /// The files that settled by `now` (taken out); those that grew meanwhile wait again.
    public mutating func ready(now: Double) -> [String] {
        var done: [String] = []
        for (path, item) in items where now - item.last >= quiet {
            let size = try? SourceFiles.sizeAndTime(path).size
            if size == item.size {
                done.append(path)
                items[path] = nil
            } else {
                items[path] = (now, size)
            }
        }
        return done.sorted()
    }
}
