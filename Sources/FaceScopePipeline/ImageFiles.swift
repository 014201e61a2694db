import FaceScopeCore
import Foundation

/// An image file to process: where it is, and the name it is stored under.
public struct ImageFile: Sendable, Equatable {
    /// The path to open.
    public var path: String
    /// The stored filename: the path relative to the images folder (absolute when the file lies
    /// outside it).
    public var filename: String

    public init(path: String, filename: String) {
        self.path = path
        self.filename = filename
    }
}

/// Finds the image files named on a command line.
public enum ImageFiles {
    /// Extensions looked for inside folders (files named directly are taken whatever their name).
    public static let extensions: Set<String> = ["jpg", "jpeg", "jpe", "png", "webp", "heic", "heif"]

    /// The files under `paths`: files as given, folders walked recursively (hidden files and
    /// folders skipped, symbolic links to folders not followed), sorted by stored filename and
    /// without repeats. A path that does not exist is reported in `problems`.
    public static func collect(_ paths: [String], imagesRoot: String) -> (
        files: [ImageFile], problems: [FaceScopeError]
    ) {
        let fm = FileManager.default
        let root = canonical(imagesRoot)
        var found: [String: ImageFile] = [:]
        var problems: [FaceScopeError] = []
        func add(_ path: String) {
            let absolute = canonical(path)
            let file = ImageFile(path: absolute, filename: storedName(absolute, root: root))
            found[file.filename] = file
        }
        for path in paths {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: path, isDirectory: &isDirectory) else {
                problems.append(.file(path: path, reason: "no such file or folder"))
                continue
            }
            if !isDirectory.boolValue {
                add(path)
                continue
            }
            let base = URL(fileURLWithPath: path)
            guard
                let walker = fm.enumerator(
                    at: base, includingPropertiesForKeys: [.isRegularFileKey, .isDirectoryKey],
                    options: [.skipsHiddenFiles])
            else {
                problems.append(.file(path: path, reason: "cannot read the folder"))
                continue
            }
            for case let url as URL in walker {
                guard extensions.contains(url.pathExtension.lowercased()) else { continue }
                // Regular files, and symbolic links to regular files (links to folders are not followed).
                let target =
                    (try? url.resourceValues(forKeys: [.isSymbolicLinkKey]))?.isSymbolicLink == true
                    ? url.resolvingSymlinksInPath() : url
                guard (try? target.resourceValues(forKeys: [.isRegularFileKey]))?.isRegularFile == true else {
                    continue
                }
                add(url.path)
            }
        }
        let files = found.values.sorted { $0.filename.utf8.lexicographicallyPrecedes($1.filename.utf8) }
        return (files, problems)
    }

    /// `path` made absolute and free of `.`/`..`. Symbolic links are kept as they are: a file is
    /// stored under the name it has in the images folder, not its link's target.
    public static func canonical(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let standard = URL(fileURLWithPath: absolute).standardizedFileURL.path
        return standard.count > 1 && standard.hasSuffix("/") ? String(standard.dropLast()) : standard
    }

    /// The stored name of a file: relative to `root` when inside it, else the absolute path.
    public static func storedName(_ absolute: String, root: String) -> String {
        let prefix = root.hasSuffix("/") ? root : root + "/"
        if absolute.hasPrefix(prefix) { return String(absolute.dropFirst(prefix.count)) }
        return absolute
    }

    /// The path of a stored filename under the images folder.
    public static func path(of filename: String, imagesRoot: String) -> String {
        filename.hasPrefix("/") ? filename : canonical(imagesRoot) + "/" + filename
    }
}
