import Dispatch
import FaceScopeCore

/// Export lines of stored documents, page after page (``ImageDocument/json``: redis-om's layout,
/// landmarks in `descriptors`, each face's descriptor in `embedding`; compact, without
/// FaceScope's derived fields; a newline each).
///
/// A document is taken straight from the server's text when that is already exactly what
/// decoding it would give (``ExportedJSON``), its faces' landmarks and descriptors spliced in
/// from their face records (one pipelined `HMGET` a face, on the `records` store's connection:
/// the pages come from a walk that holds the other's). The records of a page are asked for on
/// another thread while the caller fetches and scans the next page, and its lines are written
/// when that page is added (or at ``finish(to:)``). Other documents are decoded and joined with
/// their records at once; one that cannot be decoded is left out (see
/// ``RedisStore/skippedDocuments()``).
public final class ExportJoiner {
    private let store: RedisStore
    private let records: RedisStore
    private let replies = ReplyMailbox()
    private let sender = DispatchQueue(label: "facescope.export-records")
    /// The documents whose records were asked for and not yet taken.
    private var pending: [ExportedJSON.Joinable]?

    public init(store: RedisStore, records: RedisStore) {
        self.store = store
        self.records = records
    }

    /// Appends the lines of the documents it can write now (those of this page without faces or
    /// decoded, and the previous page's joined ones) to `out`, and returns how many.
    public func add(_ page: [(key: String, json: String)], to out: inout [UInt8]) throws(StoreError) -> Int {
        var written = 0
        var decoded: [ImageDocument] = []
        var joinable: [ExportedJSON.Joinable] = []
        var commands: [[String]] = []
        for item in page {
            var text = item.json
            if let document = text.withUTF8(ExportedJSON.joinable) {
                if document.faces.isEmpty {
                    ExportedJSON.appendJoinedLine(document, records: [], to: &out)
                    out.append(UInt8(ascii: "\n"))
                    written += 1
                    continue
                }
                for face in document.faces {
                    commands.append([
                        "HMGET", store.layout.faceRecordKey(documentPK: document.documentPK, facePK: face.pk),
                        "embedding", "landmarks",
                    ])
                }
                joinable.append(document)
            } else if let document = store.decode(key: item.key, json: item.json) {
                decoded.append(document)
            }
        }
        written += try finish(to: &out)
        if !decoded.isEmpty {
            try records.attachRecords(&decoded)
            for document in decoded {
                document.json.write(to: &out)
                out.append(UInt8(ascii: "\n"))
                written += 1
            }
        }
        if !commands.isEmpty {
            let connection = records.connection
            let replies = self.replies
            let calls = commands
            sender.async {
                replies.put(Result { () throws(StoreError) in try connection.pipeline(calls) })
            }
            pending = joinable
        }
        return written
    }

    /// Appends the lines of the documents whose records were asked for last (waiting for them),
    /// and returns how many.
    public func finish(to out: inout [UInt8]) throws(StoreError) -> Int {
        guard let documents = pending else { return 0 }
        pending = nil
        let replies = try self.replies.take().get()
        var next = 0
        for document in documents {
            var fields: [(embedding: [UInt8]?, landmarks: RedisReply)] = []
            fields.reserveCapacity(document.faces.count)
            for face in 0..<document.faces.count {
                let reply = next + face < replies.count ? replies[next + face] : .null
                if case .error(let message) = reply {
                    throw .refused("reading a face's record failed: \(TerminalText.sanitize(message))")
                }
                let values = reply.array ?? []
                fields.append(values.count == 2 ? (values[0].bytes, values[1]) : (nil, .null))
            }
            next += document.faces.count
            ExportedJSON.appendJoinedLine(document, records: fields, to: &out)
            out.append(UInt8(ascii: "\n"))
        }
        return documents.count
    }

    /// Waits for records still on their way (after a failure: nothing is left running).
    public func drain() {
        if pending != nil {
            pending = nil
            _ = replies.take()
        }
    }
}
