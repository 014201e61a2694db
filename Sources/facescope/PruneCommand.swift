import ArgumentParser
import FaceScopeCore
import FaceScopePipeline
import FaceScopeRedis
import Foundation

struct PruneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prune",
        abstract: "Remove the documents of images whose files were deleted.",
        discussion: reflowed(
            """
            Reads every stored document (or those under PATH, a folder inside the images folder
            IMAGES_DIR) page by page and removes the documents whose image file no longer exists.
            --dry-run lists them and changes nothing. Each removed (or, with --dry-run, removable)
            filename is printed on standard output; progress goes to standard error on a terminal.

            A file that cannot be seen right now is never taken for deleted: when the images
            folder is missing, empty or unreadable (a drive or share not mounted), nothing is
            pruned and the command says why (exit 1); a document whose file cannot be checked
            (permission denied, a folder that is missing under an empty folder, a mount point of
            /etc/fstab that is not mounted) is kept, and the warning says why.

            Examples:
              facescope prune --dry-run              what would go
              facescope prune                        remove them
              facescope prune ~/Pictures/2019        only under this folder
            """))

    @OptionGroup var store: StoreOptions

    @Argument(help: "Only documents of files under this folder (inside the images folder).")
    var path: String?

    @Flag(name: .customLong("dry-run"), help: "List the documents that would be removed; change nothing.")
    var dryRun = false

    @Option(
        name: .customLong("images-dir"),
        help: ArgumentHelp("Folder stored filenames are relative to (IMAGES_DIR).", valueName: "dir"))
    var imagesDir: String?

    func run() throws {
        var flags: [SettingKey: String] = [:]
        if let imagesDir { flags[.imagesDir] = imagesDir }
        let settings = try store.settings(flags)
        var checker = FilePresenceChecker(imagesRoot: settings.imagesDir)
        if let problem = checker.rootProblem() {
            throw PartialFailure(message: "\(problem): nothing pruned, since every file would look deleted")
        }
        let filter = try Self.filter(path: path, root: checker.root)
        let s = try RedisStore.open(settings: settings, access: dryRun ? .read : .write)
        defer { reportSkipped(s) }
        let progress = ProgressLine("checked", total: filter == nil ? try? s.count() : nil)
        var out = Output()
        var checked = 0
        var removed = 0
        var kept: [String: Int] = [:]
        try s.forEachPage(filter: filter) { page throws(StoreError) in
            var gone: [(pk: String, filename: String)] = []
            for doc in page {
                switch checker.presence(of: doc.filename) {
                case .present: break
                case .gone: gone.append((doc.pk, doc.filename))
                case .unknown(let reason):
                    if kept[reason] == nil {
                        progress.clear()
                        printWarning("kept \(doc.filename): cannot tell whether its file exists: \(reason)")
                    }
                    kept[reason, default: 0] += 1
                }
            }
            let names = dryRun ? gone.map(\.filename) : try s.deleteDocuments(gone)
            for name in names { out.line((dryRun ? "would remove " : "removed ") + TerminalText.sanitize(name)) }
            removed += names.count
            checked += page.count
            out.flush()
            progress.advance(by: page.count)
        }
        progress.finish()
        for (reason, count) in kept.sorted(by: { $0.key < $1.key }) where count > 1 {
            printWarning("kept \(count) documents whose files cannot be checked: \(reason)")
        }
        let keptCount = kept.values.reduce(0, +)
        printNote(
            "checked \(checked) documents: \(removed) \(dryRun ? "would be removed (dry run: nothing changed)" : "removed")"
                + (keptCount > 0 ? ", \(keptCount) kept because their files cannot be checked" : ""))
    }

    /// The index filter for the stored filenames under `path` (nil: every document).
    static func filter(path: String?, root: String) throws -> String? {
        guard let path else { return nil }
        let folder = ImageFiles.canonical(path)
        if folder == root { return nil }
        let real = ImageFiles.realPath(folder).flatMap { real in ImageFiles.realPath(root).map { (real, $0) } }
        var relative = ImageFiles.storedName(folder, root: root)
        if relative == folder, let (real, realRoot) = real {
            relative = ImageFiles.storedName(real, root: realRoot)
            if relative == real, real == realRoot { return nil }
        }
        guard !relative.hasPrefix("/") else {
            throw FaceScopeError.usage(
                "\(path) is not inside the images folder \(root) (IMAGES_DIR, --images-dir): "
                    + "stored filenames are relative to it")
        }
        return RedisStore.filenamePrefixFilter(relative + "/")
    }
}
