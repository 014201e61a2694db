import FaceScopeCore

/// The export line of a stored document taken straight from the JSON text RedisJSON returned,
/// without decoding it, when that text is byte for byte what decoding it and writing it again
/// would give: the fields in redis-om's order (`ImageDocument.json`), whole numbers where the
/// model has them, every string and number written the way ``JSONValue/serialized`` writes it,
/// nothing but FaceScope's derived fields to leave out. Documents FaceScope and redis-om wrote
/// are like that (numbers below 1e-4 aside, which are rewritten in FaceScope's exponent
/// notation); anything else (another order, `3.0` for a whole number, an escape written another
/// way, a number of more than 15 significant digits, an empty pk) is not taken, and is decoded.
enum ExportedJSON {
    /// Appends the document's export line (without the newline) to `out` and returns true, or
    /// leaves `out` as it was and returns false. `json` is a `JSON.GET`/`JSON.MGET` reply, for
    /// the `$` path (a one-element array) or the root.
    static func appendLine(_ json: UnsafeBufferPointer<UInt8>, to out: inout [UInt8]) -> Bool {
        let bytes = unwrapped(json)
        var scanner = Scanner(bytes: bytes)
        guard scanner.document(), scanner.index == bytes.count else { return false }
        appendEdited(bytes, scanner.edits, upTo: bytes.count, to: &out)
        return true
    }

    /// A stored document with faces, scanned for its export line: the line is the document's
    /// text with `edits`, each face's `null` descriptors replaced by the landmarks its record
    /// holds, and its record's descriptor added as the face's last member (``joinedLine(_:records:to:)``).
    struct Joinable {
        var bytes: [UInt8]
        var edits: [(Range<Int>, [UInt8])]
        var documentPK: String
        var faces: [(pk: String, nullDescriptors: Range<Int>?, end: Int)]
    }

    /// The document ready to be joined with its face records, when its text is what decoding it
    /// and writing it again would give (as for ``appendLine(_:to:)``), every face has a pk
    /// without escapes (the document too, when it has faces), and no face has a member of the
    /// stored layout's own; nil otherwise (it is decoded). A document without faces is its
    /// export line as it is (``appendJoinedLine(_:records:to:)`` with no records).
    static func joinable(_ json: UnsafeBufferPointer<UInt8>) -> Joinable? {
        let bytes = unwrapped(json)
        var scanner = Scanner(bytes: bytes)
        guard scanner.document(), scanner.index == bytes.count, !scanner.emptyKey,
            !scanner.faceTokens.contains(where: { $0.embedding != nil || $0.landmarks })
        else { return nil }
        var faces: [(pk: String, nullDescriptors: Range<Int>?, end: Int)] = []
        faces.reserveCapacity(scanner.faceTokens.count)
        for tokens in scanner.faceTokens {
            guard let pk = plainString(bytes, tokens.pk) else { return nil }
            let isNull = tokens.descriptors.count == 4 && bytes[tokens.descriptors.lowerBound] == UInt8(ascii: "n")
            faces.append((pk, isNull ? tokens.descriptors : nil, tokens.end))
        }
        guard let documentPK = plainString(bytes, scanner.pk) ?? (faces.isEmpty ? "" : nil) else { return nil }
        return Joinable(bytes: Array(bytes), edits: scanner.edits, documentPK: documentPK, faces: faces)
    }

    /// A `JSON.GET`/`JSON.MGET` reply for the `$` path (a one-element array) as the document's text.
    private static func unwrapped(_ json: UnsafeBufferPointer<UInt8>) -> UnsafeBufferPointer<UInt8> {
        guard json.count >= 2, json[0] == UInt8(ascii: "["), json[json.count - 1] == UInt8(ascii: "]") else {
            return json
        }
        return UnsafeBufferPointer(rebasing: json[1..<(json.count - 1)])
    }

    /// A string token's content (quotes left off) when it has no escapes.
    private static func plainString(_ bytes: UnsafeBufferPointer<UInt8>, _ token: Range<Int>) -> String? {
        let inner = bytes[(token.lowerBound + 1)..<(token.upperBound - 1)]
        if inner.contains(UInt8(ascii: "\\")) { return nil }
        return String(decoding: UnsafeBufferPointer(rebasing: inner), as: UTF8.self)
    }

    /// The end of a whole number at `from` in `text` (before `end`) that the decoder reads as an
    /// Int64 and writes back with the same digits: no leading zero (`0` alone), at most 18
    /// digits, a minus sign only when `signed` (never `-0`); nil when there is none.
    private static func wholeNumberEnd(
        _ text: UnsafeBufferPointer<UInt8>, from: Int, end: Int, signed: Bool
    ) -> Int? {
        var i = from
        if signed, i < end, text[i] == UInt8(ascii: "-") { i += 1 }
        let first = i
        while i < end, text[i] >= UInt8(ascii: "0"), text[i] <= UInt8(ascii: "9") { i += 1 }
        let count = i - first
        guard count > 0, count <= 18, count == 1 || text[first] != UInt8(ascii: "0") else { return nil }
        if first != from, count == 1, text[first] == UInt8(ascii: "0") { return nil }  // -0
        return i
    }

    /// Appends the export line of a ``Joinable`` document (without the newline) to `out`, given
    /// each face's record fields (`embedding` bytes and `landmarks` reply, nil where the record
    /// has none): exactly what ``ImageDocument/json`` writes for the decoded document joined
    /// with them.
    static func appendJoinedLine(
        _ document: Joinable, records: [(embedding: [UInt8]?, landmarks: RedisReply)], to out: inout [UInt8]
    ) {
        document.bytes.withUnsafeBufferPointer { bytes in
            // The scanner's edits and the faces' splices, both in text order, merged as written.
            var start = 0
            var edit = 0
            /// Copies the text up to `position`, applying the scanner's edits that begin before it.
            func copy(upTo position: Int) {
                while edit < document.edits.count, document.edits[edit].0.lowerBound < position {
                    let (range, replacement) = document.edits[edit]
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<range.lowerBound]))
                    out.append(contentsOf: replacement)
                    start = range.upperBound
                    edit += 1
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<position]))
                start = position
            }
            for (face, record) in zip(document.faces, records) {
                if let range = face.nullDescriptors {
                    // Where neither form of the landmarks reads, the null stays.
                    copy(upTo: range.lowerBound)
                    if let text = record.landmarks.bytes, appendDescriptors(landmarks: text, to: &out) {
                        start = range.upperBound
                    } else if let text = record.landmarks.string,
                        let descriptors = try? FaceRecord.descriptors(fromLandmarks: text)
                    {
                        descriptors.write(to: &out)
                        start = range.upperBound
                    }
                }
                if let blob = record.embedding, blob.count == KeyLayout.embeddingDimension * 4 {
                    copy(upTo: face.end)
                    out.append(contentsOf: #","embedding":["#.utf8)
                    appendEmbedding(blob: blob, to: &out)
                    out.append(UInt8(ascii: "]"))
                }
            }
            copy(upTo: bytes.count)
        }
    }

    /// A descriptor's JSON array members as ``Face/embedding`` writes them (each value rounded
    /// to six decimals), from its FLOAT32 little-endian blob.
    static func appendEmbedding(blob: [UInt8], to out: inout [UInt8]) {
        let values = blob.count / 4
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: values * 24 + 1) { buffer in
            guard let base = buffer.baseAddress else { return }
            var at = base
            blob.withUnsafeBufferPointer { bytes in
                for v in 0..<values {
                    if v > 0 {
                        at.pointee = UInt8(ascii: ",")
                        at += 1
                    }
                    let i = 4 * v
                    let bits =
                        UInt32(bytes[i]) | UInt32(bytes[i + 1]) << 8 | UInt32(bytes[i + 2]) << 16
                        | UInt32(bytes[i + 3]) << 24
                    at = writeMicros(Double(Float(bitPattern: bits)), at)
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(start: base, count: at - base))
        }
    }

    /// Writes `value` rounded to six decimals at `at` (at most 24 bytes) as ``JSONValue`` writes
    /// that double, and returns the end: from 1e-4 up, the decimal digits of the millionths (the
    /// shortest digits that read back the same double: no shorter decimal lies that close),
    /// trailing zeros left off; anything else as ``JSONValue`` writes it.
    static func writeMicros(_ value: Double, _ at: UnsafeMutablePointer<UInt8>) -> UnsafeMutablePointer<UInt8> {
        var at = at
        let micros = (value * 1e6).rounded()
        guard micros.isFinite, abs(micros) >= 100, abs(micros) < 1e15 else {
            var text: [UInt8] = []
            JSONValue.double(micros / 1e6).write(to: &text)
            for b in text.prefix(24) {
                at.pointee = b
                at += 1
            }
            return at
        }
        let whole = Int64(micros)
        if whole < 0 {
            at.pointee = UInt8(ascii: "-")
            at += 1
        }
        let magnitude = whole.magnitude
        var integer = magnitude / 1_000_000
        let fraction = Int(magnitude % 1_000_000)
        if integer < 10 {
            at.pointee = UInt8(ascii: "0") + UInt8(integer)
            at += 1
        } else {
            // The whole part's digits, most significant first.
            var digits = 1
            var scale: UInt64 = 1
            while integer / scale >= 10 {
                scale *= 10
                digits += 1
            }
            for _ in 0..<digits {
                at.pointee = UInt8(ascii: "0") + UInt8(integer / scale)
                at += 1
                integer %= scale
                scale /= 10
            }
        }
        at.pointee = UInt8(ascii: ".")
        at += 1
        if fraction == 0 {
            at.pointee = UInt8(ascii: "0")
            return at + 1
        }
        // Six digits, two at a time, then the trailing zeros taken back.
        @inline(__always) func pair(_ value: Int, _ i: Int) {
            at[i] = UInt8(ascii: "0") + UInt8(value / 10)
            at[i + 1] = UInt8(ascii: "0") + UInt8(value % 10)
        }
        pair(fraction / 10_000, 0)
        pair(fraction / 100 % 100, 2)
        pair(fraction % 100, 4)
        var count = 6
        while at[count - 1] == UInt8(ascii: "0") { count -= 1 }
        return at + count
    }

    /// The `descriptors` JSON of a record's compact landmarks text (``FaceRecord/landmarks(fromDescriptors:)``),
    /// written as ``FaceRecord/descriptors(fromLandmarks:)`` then ``JSONValue`` would write it,
    /// appended to `out`; false (and `out` as it was) for anything but the plain compact form:
    /// the `=` form, escapes to write, a number written unusually, a space too many.
    static func appendDescriptors(landmarks text: [UInt8], to out: inout [UInt8]) -> Bool {
        if text.isEmpty {
            out.append(UInt8(ascii: "{"))
            out.append(UInt8(ascii: "}"))
            return true
        }
        if text[0] == UInt8(ascii: "=") { return false }
        // Each input byte gives at most five (a region `:` alone is `"":{}`), and the outer braces.
        return text.withUnsafeBufferPointer { input in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 5 * input.count + 16) { buffer in
                guard let base = buffer.baseAddress,
                    let end = writeDescriptors(input, base)
                else { return false }
                out.append(contentsOf: UnsafeBufferPointer(start: base, count: end - base))
                return true
            }
        }
    }

    /// ``appendDescriptors(landmarks:to:)``'s writing: the end, or nil when the text is not plain.
    private static func writeDescriptors(
        _ text: UnsafeBufferPointer<UInt8>, _ start: UnsafeMutablePointer<UInt8>
    ) -> UnsafeMutablePointer<UInt8>? {
        var at = start
        func put(_ b: UInt8) {
            at.pointee = b
            at += 1
        }
        func put(_ literal: StaticString) {
            let count = literal.utf8CodeUnitCount
            at.update(from: literal.utf8Start, count: count)
            at += count
        }
        func put(_ range: Range<Int>) {
            guard let source = text.baseAddress else { return }
            at.update(from: source + range.lowerBound, count: range.count)
            at += range.count
        }
        func number(_ from: Int, signed: Bool) -> Int? {
            wholeNumberEnd(text, from: from, end: text.count, signed: signed)
        }
        put(UInt8(ascii: "{"))
        var i = 0
        var firstRegion = true
        while true {
            // The region's name, up to its colon.
            let nameStart = i
            while i < text.count, text[i] != UInt8(ascii: ":") {
                let b = text[i]
                if b < 0x20 || b >= 0x7F || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\")
                    || b == UInt8(ascii: ";")
                {
                    return nil
                }
                i += 1
            }
            guard i < text.count else { return nil }
            if !firstRegion { put(UInt8(ascii: ",")) }
            firstRegion = false
            put(UInt8(ascii: "\""))
            put(nameStart..<i)
            put(#"":{"#)
            i += 1
            var firstPoint = true
            while i < text.count, text[i] != UInt8(ascii: ";") {
                if !firstPoint {
                    guard text[i] == UInt8(ascii: " ") else { return nil }
                    i += 1
                }
                guard let indexEnd = number(i, signed: false), indexEnd < text.count,
                    text[indexEnd] == UInt8(ascii: ","), let xEnd = number(indexEnd + 1, signed: true),
                    xEnd < text.count, text[xEnd] == UInt8(ascii: ","), let yEnd = number(xEnd + 1, signed: true),
                    yEnd == text.count || text[yEnd] == UInt8(ascii: " ") || text[yEnd] == UInt8(ascii: ";")
                else { return nil }
                if !firstPoint { put(UInt8(ascii: ",")) }
                firstPoint = false
                put(UInt8(ascii: "\""))
                put(i..<indexEnd)
                put(#"":{"x":"#)
                put((indexEnd + 1)..<xEnd)
                put(#","y":"#)
                put((xEnd + 1)..<yEnd)
                put(UInt8(ascii: "}"))
                i = yEnd
            }
            put(UInt8(ascii: "}"))
            if i == text.count { break }
            i += 1  // the semicolon
        }
        put(UInt8(ascii: "}"))
        return at
    }

    /// A face of an import line, as its record stores it (``FaceRecord``).
    struct ImportedFace {
        var pk: String
        var label: Int?
        var fixed: Bool
        var probability: Int
        var embedding: [Float]?
        var landmarks: String?
    }

    /// A line of an import as FaceScope stores it, when the line is (but for spaces between
    /// tokens and FaceScope's derived fields) exactly what decoding it and writing it again would
    /// give, its document and every face and box has a pk, and it is ASCII: the stored
    /// document's compact JSON without the derived fields (each face's `descriptors` null and
    /// its `embedding` left out; the closing brace left off, for the derived fields to follow),
    /// the pk, the filename and each face's record, exactly what decoding the line and storing
    /// the document would give. nil when the line must be decoded: also when a face's pk has an
    /// escape, its landmarks are not FaceScope's own shape (regions of keypoints keyed by index,
    /// whole-number `x` and `y`) or null, its descriptor is not an array of numbers, or it has a
    /// `landmarks` member.
    static func storable(line: UnsafeBufferPointer<UInt8>) -> (
        openJSON: [UInt8], pk: String, filename: String, faces: [ImportedFace]
    )? {
        guard let compact = compacted(line) else { return nil }
        return compact.withUnsafeBufferPointer { bytes in
            var scanner = Scanner(bytes: bytes)
            guard scanner.document(), scanner.index == bytes.count, !scanner.emptyKey,
                let (pk, filename) = names(scanner, bytes)
            else { return nil }
            func text(_ range: Range<Int>) -> String {
                String(decoding: UnsafeBufferPointer(rebasing: bytes[range]), as: UTF8.self)
            }
            var faces: [ImportedFace] = []
            var replaced: [(Range<Int>, [UInt8])] = []
            for tokens in scanner.faceTokens {
                guard !tokens.landmarks, let facePK = plainString(bytes, tokens.pk),
                    let probability = Int(text(tokens.probability))
                else { return nil }
                let labelText = text(tokens.label)
                let label = labelText == "null" ? nil : Int(labelText)
                guard labelText == "null" || label != nil else { return nil }
                var embedding: [Float]?
                if let (member, value) = tokens.embedding {
                    guard let values = numbers(bytes, value) else { return nil }
                    embedding = values
                    replaced.append((member, []))
                }
                var landmarks: String?
                if text(tokens.descriptors) != "null" {
                    guard let compact = compactLandmarks(bytes, tokens.descriptors) else { return nil }
                    landmarks = compact
                    replaced.append((tokens.descriptors, Array("null".utf8)))
                }
                faces.append(
                    ImportedFace(
                        pk: facePK, label: label,
                        fixed: tokens.fixed.map { text($0) == "true" } ?? false, probability: probability,
                        embedding: embedding, landmarks: landmarks))
            }
            // The scanner's edits inside what is replaced go with it.
            var edits = scanner.edits.filter { edit in
                !replaced.contains { $0.0.lowerBound <= edit.0.lowerBound && edit.0.upperBound <= $0.0.upperBound }
            }
            edits += replaced
            edits.sort { $0.0.lowerBound < $1.0.lowerBound }
            return (open(bytes, edits), pk, filename, faces)
        }
    }

    /// The line without spaces between tokens; nil when it is not ASCII.
    private static func compacted(_ line: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        var ascii = true
        let compact = [UInt8](unsafeUninitializedCapacity: line.count) { buffer, count in
            var n = 0
            var inString = false
            var escaped = false
            for b in line {
                if b >= 0x80 {
                    ascii = false
                    break
                }
                if inString {
                    if escaped {
                        escaped = false
                    } else if b == UInt8(ascii: "\\") {
                        escaped = true
                    } else if b == UInt8(ascii: "\"") {
                        inString = false
                    }
                } else if b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D {
                    continue
                } else if b == UInt8(ascii: "\"") {
                    inString = true
                }
                buffer[n] = b
                n += 1
            }
            count = n
        }
        return ascii ? compact : nil
    }

    /// The document's pk and filename, decoded.
    private static func names(_ scanner: Scanner, _ bytes: UnsafeBufferPointer<UInt8>) -> (String, String)? {
        guard case .string(let pk)? = try? JSONValue.parse(bytes: UnsafeBufferPointer(rebasing: bytes[scanner.pk])),
            case .string(let filename)? = try? JSONValue.parse(
                bytes: UnsafeBufferPointer(rebasing: bytes[scanner.filename]))
        else { return nil }
        return (pk, filename)
    }

    /// The text with the edits made, its closing brace left off (for the derived fields to follow).
    private static func open(_ bytes: UnsafeBufferPointer<UInt8>, _ edits: [(Range<Int>, [UInt8])]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 256)
        appendEdited(bytes, edits, upTo: bytes.count - 1, to: &out)
        return out
    }

    /// Appends the text up to `end` with the edits (in order, all before `end`) made.
    private static func appendEdited(
        _ bytes: UnsafeBufferPointer<UInt8>, _ edits: [(Range<Int>, [UInt8])], upTo end: Int, to out: inout [UInt8]
    ) {
        var start = 0
        for (range, replacement) in edits {
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<range.lowerBound]))
            out.append(contentsOf: replacement)
            start = range.upperBound
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<end]))
    }

    /// The values of a JSON array of numbers (each read by the decoder, then a Float, as
    /// ``Face/embedding`` reads them); nil for anything else.
    private static func numbers(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> [Float]? {
        guard range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "["),
            bytes[range.upperBound - 1] == UInt8(ascii: "]")
        else { return nil }
        var values: [Float] = []
        values.reserveCapacity(KeyLayout.embeddingDimension)
        var at = range.lowerBound + 1
        let end = range.upperBound - 1
        while at < end {
            var stop = at
            while stop < end, bytes[stop] != UInt8(ascii: ",") { stop += 1 }
            // The scanner read a value here; only a number is a descriptor's.
            let token = UnsafeBufferPointer(rebasing: bytes[at..<stop])
            guard let value = (try? JSONValue.parse(bytes: token))?.doubleValue else { return nil }
            values.append(Float(value))
            at = stop + 1
        }
        return values
    }

    /// FaceScope's compact landmarks text (``FaceRecord/landmarks(fromDescriptors:)``) of a
    /// `descriptors` object in FaceScope's own shape, read from its text; nil for any other.
    private static func compactLandmarks(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        var i = range.lowerBound
        let end = range.upperBound
        func take(_ b: UInt8) -> Bool {
            guard i < end, bytes[i] == b else { return false }
            i += 1
            return true
        }
        /// A string token's content when it has no escapes.
        func plainString() -> Range<Int>? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            let start = i
            while i < end, bytes[i] != UInt8(ascii: "\"") {
                if bytes[i] == UInt8(ascii: "\\") { return nil }
                i += 1
            }
            guard i < end else { return nil }
            i += 1
            return start..<(i - 1)
        }
        /// A whole number the decoder reads as an Int64 and the compact form writes the same.
        func integer() -> Range<Int>? {
            let start = i
            guard let after = wholeNumberEnd(bytes, from: i, end: end, signed: true) else { return nil }
            i = after
            return start..<i
        }
        guard take(UInt8(ascii: "{")) else { return nil }
        if take(UInt8(ascii: "}")) { return i == end ? "" : nil }
        var firstRegion = true
        repeat {
            guard let name = plainString(), !name.isEmpty, take(UInt8(ascii: ":")), take(UInt8(ascii: "{")) else {
                return nil
            }
            if bytes[name].contains(where: FaceRecord.regionNameSeparators.contains) { return nil }
            if !firstRegion { out.append(UInt8(ascii: ";")) }
            firstRegion = false
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[name]))
            out.append(UInt8(ascii: ":"))
            if !take(UInt8(ascii: "}")) {
                var firstPoint = true
                repeat {
                    guard let key = plainString(), !key.isEmpty, take(UInt8(ascii: ":")), take(UInt8(ascii: "{"))
                    else { return nil }
                    // A non-negative index written as Int writes it.
                    guard
                        wholeNumberEnd(bytes, from: key.lowerBound, end: key.upperBound, signed: false)
                            == key.upperBound
                    else { return nil }
                    let keyBytes = bytes[key]
                    guard take(UInt8(ascii: "\"")), take(UInt8(ascii: "x")), take(UInt8(ascii: "\"")),
                        take(UInt8(ascii: ":")), let x = integer(), take(UInt8(ascii: ",")),
                        take(UInt8(ascii: "\"")), take(UInt8(ascii: "y")), take(UInt8(ascii: "\"")),
                        take(UInt8(ascii: ":")), let y = integer(), take(UInt8(ascii: "}"))
                    else { return nil }
                    if !firstPoint { out.append(UInt8(ascii: " ")) }
                    firstPoint = false
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: keyBytes))
                    out.append(UInt8(ascii: ","))
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[x]))
                    out.append(UInt8(ascii: ","))
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[y]))
                } while take(UInt8(ascii: ","))
                guard take(UInt8(ascii: "}")) else { return nil }
            }
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")), i == end else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    private static let documentFields: [[UInt8]] = [
        "pk", "filename", "faces", "channels", "height", "width", "portrait",
    ]
    .map { Array($0.utf8) }
    private static let faceFields: [[UInt8]] = ["pk", "bbox", "probability", "label", "rotation", "descriptors"].map {
        Array($0.utf8)
    }
    private static let boxFields: [[UInt8]] = ["pk", "x1", "y1", "x2", "y2"].map { Array($0.utf8) }
    private static let derivedFields: [[UInt8]] = RedisStore.derivedFields.map { Array($0.utf8) }
    private static let embeddingField = Array(Face.embeddingField.utf8)
    private static let landmarksField = Array(KeyLayout.landmarksField.utf8)
    private static let labelFixedField = Array(Face.labelFixedField.utf8)

    /// Where a face's members are in a scanned text.
    struct FaceTokens {
        var pk: Range<Int>
        var probability = 0..<0
        var label = 0..<0
        var descriptors = 0..<0
        /// The `embedding` member (its comma included) and its value.
        var embedding: (member: Range<Int>, value: Range<Int>)?
        var fixed: Range<Int>?
        /// Whether the face has a `landmarks` member.
        var landmarks = false
        /// Where its closing brace is.
        var end = 0
    }

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        /// Byte ranges to write otherwise (derived fields left out, numbers rewritten), in order.
        var edits: [(Range<Int>, [UInt8])] = []
        /// The document's pk and filename (string tokens, quotes included).
        var pk = 0..<0
        var filename = 0..<0
        /// Whether a face or a box has an empty pk (an import gives it one).
        var emptyKey = false
        /// Where each face's members are (export and import read them).
        var faceTokens: [FaceTokens] = []

        init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

        mutating func take(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// A key without escapes equal to `name`, then `:`.
        mutating func key(_ name: [UInt8]) -> Bool {
            let end = index + name.count + 2
            guard end < bytes.count, bytes[index] == UInt8(ascii: "\""), bytes[end - 1] == UInt8(ascii: "\""),
                bytes[end] == UInt8(ascii: ":")
            else { return false }
            for (i, b) in name.enumerated() where bytes[index + 1 + i] != b { return false }
            index = end + 1
            return true
        }

        /// The document: its fields in order, then extra fields; the derived fields (each with
        /// the comma before it) become edits that leave them out.
        mutating func document() -> Bool {
            let fields = ExportedJSON.documentFields
            guard take(UInt8(ascii: "{")), key(fields[0]), let pk = string(), pk.count > 2 else { return false }
            guard take(UInt8(ascii: ",")), key(fields[1]), let filename = string() else { return false }
            self.pk = pk
            self.filename = filename
            guard take(UInt8(ascii: ",")), key(fields[2]) else { return false }
            if !literal("null") {
                guard take(UInt8(ascii: "[")) else { return false }
                if !take(UInt8(ascii: "]")) {
                    repeat {
                        guard face() else { return false }
                    } while take(UInt8(ascii: ","))
                    guard take(UInt8(ascii: "]")) else { return false }
                }
            }
            for field in fields[3...] {
                guard take(UInt8(ascii: ",")), key(field), wholeNumberOrNull() else { return false }
            }
            while index < bytes.count, bytes[index] == UInt8(ascii: ",") {
                let start = index
                index += 1
                guard let name = string(), take(UInt8(ascii: ":")), value(depth: 1) else { return false }
                let key = UnsafeBufferPointer(rebasing: bytes[(name.lowerBound + 1)..<(name.upperBound - 1)])
                if ExportedJSON.documentFields.contains(where: { $0.elementsEqual(key) }) { return false }
                if ExportedJSON.derivedFields.contains(where: { $0.elementsEqual(key) }) {
                    edits.append((start..<index, []))
                }
            }
            return take(UInt8(ascii: "}"))
        }

        mutating func face() -> Bool {
            let fields = ExportedJSON.faceFields
            guard take(UInt8(ascii: "{")), key(fields[0]), let pk = string() else { return false }
            if pk.count == 2 { emptyKey = true }
            var tokens = FaceTokens(pk: pk)
            guard take(UInt8(ascii: ",")), key(fields[1]), box() else { return false }
            guard take(UInt8(ascii: ",")), key(fields[2]) else { return false }
            var start = index
            guard wholeNumber() else { return false }
            tokens.probability = start..<index
            guard take(UInt8(ascii: ",")), key(fields[3]) else { return false }
            start = index
            guard wholeNumberOrNull() else { return false }
            tokens.label = start..<index
            guard take(UInt8(ascii: ",")), key(fields[4]), wholeNumberOrNull() else { return false }
            guard take(UInt8(ascii: ",")), key(fields[5]) else { return false }
            let descriptorsStart = index
            guard value(depth: 3) else { return false }
            tokens.descriptors = descriptorsStart..<index
            while index < bytes.count, bytes[index] == UInt8(ascii: ",") {
                let member = index
                index += 1
                guard let name = string(), take(UInt8(ascii: ":")) else { return false }
                let valueStart = index
                guard value(depth: 3) else { return false }
                let key = UnsafeBufferPointer(rebasing: bytes[(name.lowerBound + 1)..<(name.upperBound - 1)])
                if fields.contains(where: { $0.elementsEqual(key) }) { return false }
                if key.elementsEqual(ExportedJSON.embeddingField) {
                    tokens.embedding = (member..<index, valueStart..<index)
                } else if key.elementsEqual(ExportedJSON.landmarksField) {
                    tokens.landmarks = true
                }
                if key.elementsEqual(ExportedJSON.labelFixedField) { tokens.fixed = valueStart..<index }
            }
            tokens.end = index
            faceTokens.append(tokens)
            return take(UInt8(ascii: "}"))
        }

        mutating func box() -> Bool {
            let fields = ExportedJSON.boxFields
            guard take(UInt8(ascii: "{")), key(fields[0]), let pk = string() else { return false }
            if pk.count == 2 { emptyKey = true }
            for field in fields[1...] {
                guard take(UInt8(ascii: ",")), key(field), wholeNumber() else { return false }
            }
            return extras(known: fields, depth: 4)
        }

        /// Extra fields (none named like a known one) and the closing brace.
        mutating func extras(known: [[UInt8]], depth: Int) -> Bool {
            while take(UInt8(ascii: ",")) {
                guard let name = string(), take(UInt8(ascii: ":")), value(depth: depth) else { return false }
                let key = UnsafeBufferPointer(rebasing: bytes[(name.lowerBound + 1)..<(name.upperBound - 1)])
                if known.contains(where: { $0.elementsEqual(key) }) { return false }
            }
            return take(UInt8(ascii: "}"))
        }

        mutating func literal(_ text: StaticString) -> Bool {
            let count = text.utf8CodeUnitCount
            guard index + count <= bytes.count else { return false }
            for i in 0..<count where bytes[index + i] != text.utf8Start[i] { return false }
            index += count
            return true
        }

        /// Any JSON value written as ``JSONValue/serialized`` writes it.
        mutating func value(depth: Int) -> Bool {
            guard depth < 200, index < bytes.count else { return false }
            switch bytes[index] {
            case UInt8(ascii: "\""): return string() != nil
            case UInt8(ascii: "n"): return literal("null")
            case UInt8(ascii: "t"): return literal("true")
            case UInt8(ascii: "f"): return literal("false")
            case UInt8(ascii: "["):
                index += 1
                if take(UInt8(ascii: "]")) { return true }
                repeat {
                    guard value(depth: depth + 1) else { return false }
                } while take(UInt8(ascii: ","))
                return take(UInt8(ascii: "]"))
            case UInt8(ascii: "{"):
                index += 1
                if take(UInt8(ascii: "}")) { return true }
                repeat {
                    guard string() != nil, take(UInt8(ascii: ":")), value(depth: depth + 1) else { return false }
                } while take(UInt8(ascii: ","))
                return take(UInt8(ascii: "}"))
            default:
                return number()
            }
        }

        /// A string written as ``JSONValue`` writes one: no raw control characters or DEL, and
        /// only the escapes it writes (`\"`, `\\`, `\n`, `\r`, `\t`, `\b`, `\f`, lower-case
        /// `\u00xx` for the other control characters and DEL). Returns its range, quotes included.
        mutating func string() -> Range<Int>? {
            let start = index
            guard take(UInt8(ascii: "\"")) else { return nil }
            while index < bytes.count {
                let b = bytes[index]
                if b == UInt8(ascii: "\"") {
                    index += 1
                    return start..<index
                }
                if b < 0x20 || b == 0x7F { return nil }
                if b == UInt8(ascii: "\\") {
                    guard index + 1 < bytes.count else { return nil }
                    switch bytes[index + 1] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "n"), UInt8(ascii: "r"),
                        UInt8(ascii: "t"),
                        UInt8(ascii: "b"), UInt8(ascii: "f"):
                        index += 2
                    case UInt8(ascii: "u"):
                        guard index + 6 <= bytes.count, bytes[index + 2] == UInt8(ascii: "0"),
                            bytes[index + 3] == UInt8(ascii: "0")
                        else { return nil }
                        let high = bytes[index + 4]
                        let low = bytes[index + 5]
                        let lowValue: UInt8
                        switch low {
                        case UInt8(ascii: "0")...UInt8(ascii: "9"): lowValue = low - UInt8(ascii: "0")
                        case UInt8(ascii: "a")...UInt8(ascii: "f"): lowValue = low - UInt8(ascii: "a") + 10
                        default: return nil
                        }
                        let code: UInt8
                        switch high {
                        case UInt8(ascii: "0"): code = lowValue
                        case UInt8(ascii: "1"): code = 0x10 + lowValue
                        case UInt8(ascii: "7") where lowValue == 0xF: code = 0x7F
                        default: return nil
                        }
                        // These have short escapes.
                        if code == 0x08 || code == 0x09 || code == 0x0A || code == 0x0C || code == 0x0D { return nil }
                        index += 6
                    default:
                        return nil
                    }
                    continue
                }
                index += 1
            }
            return nil
        }

        /// Digits without a leading zero (or `0`): `count` of them, or nil.
        mutating func digits() -> Int? {
            let start = index
            while index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                index += 1
            }
            let count = index - start
            if count == 0 || (count > 1 && bytes[start] == UInt8(ascii: "0")) { return nil }
            return count
        }

        /// A whole number the model reads as an `Int` and writes back the same (no `-0`, no
        /// fraction, at most 18 digits).
        mutating func wholeNumber() -> Bool {
            let negative = take(UInt8(ascii: "-"))
            let start = index
            guard let count = digits(), count <= 18 else { return false }
            if negative, count == 1, bytes[start] == UInt8(ascii: "0") { return false }
            return !(index < bytes.count && isNumberByte(bytes[index]))
        }

        mutating func wholeNumberOrNull() -> Bool { literal("null") || wholeNumber() }

        func isNumberByte(_ b: UInt8) -> Bool {
            (b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9")) || b == UInt8(ascii: ".") || b == UInt8(ascii: "e")
                || b == UInt8(ascii: "E") || b == UInt8(ascii: "+") || b == UInt8(ascii: "-")
        }

        /// A number as ``JSONValue`` writes it: a whole number, or a double of at most 15
        /// significant digits (which every writer writes with the same digits) in the notation
        /// ``JSONValue`` uses for it: decimal from 1e-4 up (`x.0` when whole), an exponent below
        /// (`1.5e-05`, where RedisJSON writes `0.000015` or `1.5e-7`: rewritten). Anything else
        /// (more digits, 1e15 and beyond, `-0.0`) is not.
        mutating func number() -> Bool {
            let token = index
            let negative = take(UInt8(ascii: "-"))
            let start = index
            guard let whole = digits() else { return false }
            let zeroWhole = whole == 1 && bytes[start] == UInt8(ascii: "0")
            var fraction = index..<index
            let point = take(UInt8(ascii: "."))
            if point {
                let first = index
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
                guard index > first else { return false }
                fraction = first..<index
            }
            var exponent: Int?
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                let negativeExponent = take(UInt8(ascii: "-"))
                if !negativeExponent { _ = take(UInt8(ascii: "+")) }
                let first = index
                var value = 0
                while index < bytes.count, isDigit(bytes[index]), index - first < 4 {
                    value = value * 10 + Int(bytes[index] - UInt8(ascii: "0"))
                    index += 1
                }
                guard index > first else { return false }
                exponent = negativeExponent ? -value : value
            }
            if index < bytes.count, isNumberByte(bytes[index]) { return false }
            guard point || exponent != nil else {
                // A whole number: read as an Int64, written back with the same digits.
                return whole <= 18 && !(negative && zeroWhole)
            }
            // The significant digits (positions in the digits before and after the point) and the
            // decimal exponent of the first of them.
            let count = whole + fraction.count
            func digit(_ p: Int) -> UInt8 { p < whole ? bytes[start + p] : bytes[fraction.lowerBound + p - whole] }
            var first = 0
            while first < count, digit(first) == UInt8(ascii: "0") { first += 1 }
            guard first < count else {
                // Zero: written 0.0.
                return !negative && exponent == nil && zeroWhole && fraction.count == 1
            }
            var last = count - 1
            while digit(last) == UInt8(ascii: "0") { last -= 1 }
            let leadingZeros = first
            let decimalExponent = whole - leadingZeros - 1 + (exponent ?? 0)
            guard last - first < 15, decimalExponent >= -300, decimalExponent < 15 else { return false }
            if decimalExponent >= -4 {
                // Decimal notation, exactly as written here (shortest digits; `.0` when whole).
                guard exponent == nil, point else { return false }
                if fraction.count == 1, bytes[fraction.lowerBound] == UInt8(ascii: "0") { return true }
                return bytes[fraction.upperBound - 1] != UInt8(ascii: "0")
            }
            var written: [UInt8] = negative ? [UInt8(ascii: "-")] : []
            written.append(digit(first))
            if last > first {
                written.append(UInt8(ascii: "."))
                for p in (first + 1)...last { written.append(digit(p)) }
            }
            written.append(contentsOf: "e-".utf8)
            if -decimalExponent < 10 { written.append(UInt8(ascii: "0")) }
            written.append(contentsOf: String(-decimalExponent).utf8)
            if !written.elementsEqual(UnsafeBufferPointer(rebasing: bytes[token..<index])) {
                edits.append((token..<index, written))
            }
            return true
        }

        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
    }
}
