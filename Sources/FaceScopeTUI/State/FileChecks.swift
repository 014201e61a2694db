/// Which listed images' files are missing from the images folder. Only the rows on screen are
/// checked, by a worker off the UI thread (``FileCheckWorker``); answers are kept until the list
/// is read again, so scrolling back costs nothing.
struct FileChecks: Sendable, Equatable {
    /// Filename → whether its file is missing, for the filenames checked.
    private var missing: [String: Bool] = [:]
    private var asked: Set<String> = []

    /// The filenames among `names` not checked or asked for yet; they count as asked now.
    mutating func toCheck(_ names: [String]) -> [String] {
        if missing.count + asked.count > 20_000 { forget() }
        let fresh = names.filter { missing[$0] == nil && !asked.contains($0) }
        asked.formUnion(fresh)
        return fresh
    }

    /// Takes a worker's answer.
    mutating func store(_ results: [String: Bool]) {
        for (name, gone) in results {
            asked.remove(name)
            missing[name] = gone
        }
    }

    /// Whether the file of `filename` was found missing.
    func isMissing(_ filename: String) -> Bool { missing[filename] == true }

    /// Forgets every answer (the list is read again, files may have come or gone).
    mutating func forget() {
        missing = [:]
        asked = []
    }
}
