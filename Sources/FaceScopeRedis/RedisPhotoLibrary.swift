import FaceScopeCore

extension RedisStore: PhotoLibrary {
    /// Where `document` is in the listing of every image in `order`: how many documents sort
    /// before it (one aggregation on FaceScope's index, comparing the sort field's strings).
    public func position(of document: ImageDocument, order: ListOrder, descending: Bool) throws(StoreError) -> Int {
        let field = order == .filename ? "filename" : KeyLayout.facesOrderField
        let value =
            order == .filename
            ? document.filename : KeyLayout.facesOrder(faceCount: document.faceCount, filename: document.filename)
        let quoted = value.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'")
        let reply = try connection.send([
            "FT.AGGREGATE", layout.ownIndex, "*", "TIMEOUT", "0", "LOAD", "1", "@\(field)", "FILTER",
            "@\(field) \(descending ? ">" : "<") '\(quoted)'", "GROUPBY", "0", "REDUCE", "COUNT", "0", "AS", "n",
            "DIALECT", "2",
        ])
        if case .error(let message) = reply {
            throw .refused("finding the image in the listing failed: \(TerminalText.sanitize(message))")
        }
        // [1, ["n", "count"]], or no row when nothing sorts before it.
        guard let rows = reply.array, rows.count > 1, let row = rows[1].array, row.count > 1 else { return 0 }
        return Int(row[1].string ?? "") ?? row[1].integer.map(Int.init) ?? 0
    }

    public func page(of source: ListSource, offset: Int, limit: Int) throws(StoreError) -> ListingPage {
        switch source {
        case .all(let order, let descending):
            let rows = try list(order: order, descending: descending, offset: offset, limit: limit)
            return ListingPage(rows: rows, total: try count())
        case .search(let text):
            let found = try search(.text(text), offset: offset, limit: limit)
            return ListingPage(rows: found.documents, total: found.total, closeMatches: found.closeMatches)
        case .person(let label):
            let found = try documents(withLabel: label, offset: max(0, offset), limit: max(0, limit))
            return ListingPage(rows: found.documents, total: found.total)
        case .image(let filename):
            let all = try get(filename: filename).map { [$0] } ?? []
            return ListingPage(rows: offset == 0 ? all : [], total: all.count)
        }
    }

    public func queueStatusText() -> String? {
        (try? DetectionQueue(connection: connection, layout: layout).summary())?.statusText
    }
}
