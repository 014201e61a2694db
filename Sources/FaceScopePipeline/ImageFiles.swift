import FaceScopeCore
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds the image files named on a command line.
public enum ImageFiles {
    /// Extensions looked for inside folders (files named directly are taken whatever their name).
    public static let extensions: Set<String> = ["jpg", "jpeg", "jpe", "png", "webp", "heic", "heif"]

    /// The files under `paths`: files as given, folders walked recursively (hidden files and
    /// folders skipped; symbolic links to folders followed, each folder walked once), sorted by
    /// stored filename and without repeats.
    ///
    /// Reported in `problems`, one per file, never skipped in silence: a path that does not
    /// exist, a name that is not UTF-8 (its bytes shown escaped), something that is not a regular
    /// file (a FIFO, a device, a socket: never opened, so nothing hangs), a broken symbolic link.
    ///
    /// The stored name of a file (see `storedName(path:root:)`): a file whose real location (all
    /// symbolic links resolved) lies inside the images folder is stored under that location, so
    /// the same image reached through a linked folder or a linked file is stored once; a file
    /// whose real location lies outside the images folder keeps the name its link has.
    public static func collect(_ paths: [String], imagesRoot: String) -> (
        files: [ImageFile], problems: [FaceScopeError]
    ) {
        var walk = Walk(root: canonical(imagesRoot))
        for path in paths {
            var info = stat()
            guard stat(path, &info) == 0 else {
                let broken = lstat(path, &info) == 0
                walk.problem(path, broken ? "broken symbolic link" : "no such file or folder")
                continue
            }
            if kind(info) == S_IFDIR {
                walk.folder(Array(path.utf8), shown: path, logical: canonical(path), info: info)
            } else {
                walk.file(path, info: info)
            }
        }
        let files = walk.found.values.sorted { $0.filename.utf8.lexicographicallyPrecedes($1.filename.utf8) }
        return (files, walk.problems)
    }

    /// The walk over the paths of one `collect`.
    private struct Walk {
        let root: String
        let realRoot: String?
        var found: [String: ImageFile] = [:]
        var problems: [FaceScopeError] = []
        var reported: Set<String> = []
        /// Folders walked already (device, inode): a link cycle or two links to one folder.
        var walked: Set<[UInt64]> = []

        init(root: String) {
            self.root = root
            realRoot = ImageFiles.realPath(root)
        }

        mutating func problem(_ shown: String, _ reason: String) {
            guard reported.insert(shown).inserted else { return }
            problems.append(.file(path: shown, reason: reason))
        }

        /// A file named directly, or found in a folder with an image extension.
        mutating func file(_ path: String, info: stat) {
            switch ImageFiles.kind(info) {
            case S_IFREG:
                let absolute = canonical(path)
                let name = storedName(path: absolute, root: root, realRoot: realRoot)
                found[name] = ImageFile(path: absolute, filename: name)
            case S_IFIFO:
                problem(path, "is a FIFO (named pipe), not a regular file: not read")
            case S_IFCHR, S_IFBLK:
                problem(path, "is a device, not a regular file: not read")
            case S_IFSOCK:
                problem(path, "is a socket, not a regular file: not read")
            default:
                problem(path, "is not a regular file: not read")
            }
        }

        /// Walks a folder; `bytes` is its path as the file system has it, `shown` as printed,
        /// `logical` as files are named from (its real location when that lies inside the images
        /// folder, so a link that leads back inside gives the names the files have there; the
        /// path through the links otherwise; nil when not UTF-8).
        mutating func folder(_ bytes: [UInt8], shown: String, logical given: String?, info: stat) {
            var logical = given
            if let given, let realRoot, let real = ImageFiles.realPath(given),
                real == realRoot || real.hasPrefix(realRoot.hasSuffix("/") ? realRoot : realRoot + "/")
            {
                logical = real
            }
            guard walked.insert([UInt64(info.st_dev), UInt64(info.st_ino)]).inserted else { return }
            guard let dir = ImageFiles.withCPath(bytes, { opendir($0) }) else {
                problem(shown, "cannot read the folder: \(String(cString: strerror(errno)).lowercased())")
                return
            }
            var entries: [[UInt8]] = []
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    Array(raw.prefix(while: { $0 != 0 }))
                }
                // Hidden files and folders, `.` and `..` included.
                if name.first == UInt8(ascii: ".") || name.isEmpty { continue }
                entries.append(name)
            }
            closedir(dir)
            entries.sort { $0.lexicographicallyPrecedes($1) }
            let prefix = bytes.last == UInt8(ascii: "/") ? bytes : bytes + [UInt8(ascii: "/")]
            let shownPrefix = shown.hasSuffix("/") ? shown : shown + "/"
            for name in entries {
                let path = prefix + name
                let text = String(validating: name, as: UTF8.self).flatMap { name in
                    logical.map { $0 == "/" ? "/" + name : $0 + "/" + name }
                }
                let display = shownPrefix + ImageFiles.escaped(name)
                var entryInfo = stat()
                guard ImageFiles.withCPath(path, { stat($0, &entryInfo) }) == 0 else {
                    if ImageFiles.hasImageExtension(name) {
                        problem(display, "broken symbolic link (or unreadable): not read")
                    }
                    continue
                }
                if ImageFiles.kind(entryInfo) == S_IFDIR {
                    folder(path, shown: display, logical: text, info: entryInfo)
                    continue
                }
                guard ImageFiles.hasImageExtension(name) else { continue }
                guard let text else {
                    problem(
                        display,
                        "the path is not valid UTF-8 (bytes shown as \\xNN), which FaceScope cannot store: "
                            + "rename it to UTF-8 (e.g. convmv -f latin1 -t utf8 --notest)")
                    continue
                }
                file(text, info: entryInfo)
            }
        }
    }

    static func kind(_ info: stat) -> mode_t { info.st_mode & S_IFMT }

    /// Calls `body` with a path's bytes as a NUL-terminated C string.
    static func withCPath<R>(_ bytes: [UInt8], _ body: (UnsafePointer<CChar>) -> R) -> R {
        let text = bytes.map { CChar(bitPattern: $0) } + [0]
        return body(text)
    }

    static func hasImageExtension(_ name: [UInt8]) -> Bool {
        guard let dot = name.lastIndex(of: UInt8(ascii: ".")) else { return false }
        let ext = String(decoding: name[(dot + 1)...], as: UTF8.self).lowercased()
        return extensions.contains(ext)
    }

    /// A file name's bytes as printable text: valid UTF-8 as is (other escaping is left to
    /// `TerminalText.sanitize` when printed), each byte of an invalid sequence as `\xNN`.
    public static func escaped(_ bytes: [UInt8]) -> String {
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var out = ""
        var rest = bytes[...]
        while !rest.isEmpty {
            // The longest valid prefix goes as text; then one byte escaped.
            var length = rest.count
            while length > 0, String(validating: rest.prefix(length), as: UTF8.self) == nil { length -= 1 }
            if length > 0 {
                out += String(decoding: rest.prefix(length), as: UTF8.self)
                rest = rest.dropFirst(length)
            } else if let byte = rest.first {
                out += "\\x" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
                rest = rest.dropFirst()
            }
        }
        return out
    }

    /// `path` made absolute and free of `.`/`..`. Symbolic links are kept as they are.
    public static func canonical(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let standard = URL(fileURLWithPath: absolute).standardizedFileURL.path
        return standard.count > 1 && standard.hasSuffix("/") ? String(standard.dropLast()) : standard
    }

    /// `path` with every symbolic link resolved (`realpath`); nil when it does not exist.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(validatingCString: resolved)
    }

    /// The stored name of a file: relative to `root` when inside it, else the absolute path.
    public static func storedName(_ absolute: String, root: String) -> String {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        if absolute.hasPrefix(prefix) { return String(absolute.dropFirst(prefix.count)) }
        return absolute
    }

    /// The one stored name of the file at `path` (absolute, links not resolved): its real
    /// location relative to the images folder's real location when it lies inside it (so every
    /// link to one file gives one name); else the name as given, relative to `root` when inside.
    public static func storedName(path: String, root: String, realRoot: String?) -> String {
        if let realRoot, let real = realPath(path) {
            let prefix = realRoot.hasSuffix("/") ? realRoot : realRoot + "/"
            if real.hasPrefix(prefix) { return String(real.dropFirst(prefix.count)) }
        }
        return storedName(path, root: root)
    }

    /// The path of a stored filename under the images folder.
    public static func path(of filename: String, imagesRoot: String) -> String {
        filename.hasPrefix("/") ? filename : canonical(imagesRoot) + "/" + filename
    }
}
