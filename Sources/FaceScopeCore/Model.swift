/// A face's bounding box in the upright image's pixel coordinates (redis-om's `Bbox`).
public struct BoundingBox: Sendable, Equatable {
    public var pk: String
    public var x1: Int
    public var y1: Int
    public var x2: Int
    public var y2: Int
    /// Members other tools wrote into the box; kept on every save.
    public var extra: [ExtraField]

    public init(pk: String, x1: Int, y1: Int, x2: Int, y2: Int, extra: [ExtraField] = []) {
        self.pk = pk
        self.x1 = x1
        self.y1 = y1
        self.x2 = x2
        self.y2 = y2
        self.extra = extra
    }

    public var width: Int { x2 - x1 }
    public var height: Int { y2 - y1 }

    /// Intersection over union with another box; 0 when either is empty.
    public func iou(_ other: BoundingBox) -> Double {
        let ix = max(0, min(x2, other.x2) - max(x1, other.x1))
        let iy = max(0, min(y2, other.y2) - max(y1, other.y1))
        let inter = Double(ix) * Double(iy)
        let union = Double(max(0, width) * max(0, height)) + Double(max(0, other.width) * max(0, other.height)) - inter
        return union > 0 ? inter / union : 0
    }
}

/// A member of a JSON object that FaceScope does not model itself; kept so that saving a
/// document read from Redis never drops what another tool wrote.
public struct ExtraField: Sendable, Equatable {
    public var name: String
    public var value: JSONValue
    public init(name: String, value: JSONValue) {
        self.name = name
        self.value = value
    }
}

/// One detected face (redis-om's `Face`).
public struct Face: Sendable, Equatable {
    public var pk: String
    public var bbox: BoundingBox
    /// The detector's confidence in percent (0-100), rounded; see docs/data-model.md.
    public var probability: Int
    /// Identity cluster id; nil until faces are clustered.
    public var label: Int?
    /// In-plane roll in degrees from the line between the pupil (or eye) centres.
    public var rotation: Int?
    /// Landmarks grouped by facial region (see `LandmarkRegion`), in image coordinates.
    public var descriptors: JSONValue?
    public var extra: [ExtraField]

    public init(
        pk: String, bbox: BoundingBox, probability: Int, label: Int? = nil, rotation: Int? = nil,
        descriptors: JSONValue? = nil, extra: [ExtraField] = []
    ) {
        self.pk = pk
        self.bbox = bbox
        self.probability = probability
        self.label = label
        self.rotation = rotation
        self.descriptors = descriptors
        self.extra = extra
    }
}

extension Face {
    /// The name of the extra field that holds a face's 128-D descriptor (redis-om ignores it).
    public static let embeddingField = "embedding"

    /// The face's identity descriptor (dlib's 128-D vector), kept in an extra field.
    public var embedding: [Float]? {
        get {
            guard let value = extra.first(where: { $0.name == Face.embeddingField })?.value.arrayValue else {
                return nil
            }
            let numbers = value.compactMap(\.doubleValue).map { Float($0) }
            return numbers.count == value.count ? numbers : nil
        }
        set {
            extra.removeAll { $0.name == Face.embeddingField }
            guard let newValue else { return }
            // Six decimals keep the vector exact to float precision and the JSON short.
            let values = newValue.map { JSONValue.double((Double($0) * 1e6).rounded() / 1e6) }
            extra.append(ExtraField(name: Face.embeddingField, value: .array(values)))
        }
    }
}

extension Face {
    /// The name of the extra field that marks a label a person set by hand (redis-om ignores it).
    public static let labelFixedField = "label_fixed"

    /// True when a person put this face under its label by hand (moved it, or said "not this
    /// person"): clustering never changes such a label, and never joins two faces whose fixed
    /// labels differ.
    public var labelFixed: Bool {
        get { extra.first(where: { $0.name == Face.labelFixedField })?.value == .bool(true) }
        set {
            extra.removeAll { $0.name == Face.labelFixedField }
            if newValue { extra.append(ExtraField(name: Face.labelFixedField, value: .bool(true))) }
        }
    }
}

/// One image file and what was found in it (redis-om's `Model`): one document per file.
public struct ImageDocument: Sendable, Equatable {
    /// The 26-character ULID that is also the suffix of the document's key.
    public var pk: String
    /// The path relative to the images folder, exactly as stored.
    public var filename: String
    public var faces: [Face]?
    public var channels: Int?
    public var height: Int?
    public var width: Int?
    /// 1 when the upright image is taller than wide, 0 otherwise.
    public var portrait: Int?
    public var extra: [ExtraField]

    public init(
        pk: String, filename: String, faces: [Face]? = nil, channels: Int? = nil, height: Int? = nil,
        width: Int? = nil, portrait: Int? = nil, extra: [ExtraField] = []
    ) {
        self.pk = pk
        self.filename = filename
        self.faces = faces
        self.channels = channels
        self.height = height
        self.width = width
        self.portrait = portrait
        self.extra = extra
    }

    public var faceCount: Int { faces?.count ?? 0 }
}

// MARK: - JSON in redis-om's layout

/// A stored document that does not have the shape FaceScope (and redis-om) expect.
public struct DocumentFormatError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

private func optionalInt(_ v: Int?) -> JSONValue { v.map { .int(Int64($0)) } ?? .null }

private func readInt(_ value: JSONValue?, _ field: String) throws(DocumentFormatError) -> Int? {
    guard let value, !value.isNull else { return nil }
    guard let i = value.intValue, let v = Int(exactly: i) else {
        throw DocumentFormatError("field '\(field)' is not a whole number")
    }
    return v
}

private func requireInt(_ value: JSONValue?, _ field: String) throws(DocumentFormatError) -> Int {
    guard let v = try readInt(value, field) else { throw DocumentFormatError("field '\(field)' is missing") }
    return v
}

private func extras(of value: JSONValue, known: Set<String>) -> [ExtraField] {
    guard case .object(let members) = value else { return [] }
    return members.filter { !known.contains($0.0) }.map { ExtraField(name: $0.0, value: $0.1) }
}

extension BoundingBox {
    static let knownFields: Set<String> = ["pk", "x1", "y1", "x2", "y2"]

    public var json: JSONValue {
        .object(
            [
                ("pk", .string(pk)), ("x1", .int(Int64(x1))), ("y1", .int(Int64(y1))),
                ("x2", .int(Int64(x2))), ("y2", .int(Int64(y2))),
            ] + extra.map { ($0.name, $0.value) })
    }

    public init(json: JSONValue) throws(DocumentFormatError) {
        guard case .object = json else { throw DocumentFormatError("bbox is not an object") }
        self.init(
            pk: json["pk"]?.stringValue ?? "",
            x1: try requireInt(json["x1"], "bbox.x1"), y1: try requireInt(json["y1"], "bbox.y1"),
            x2: try requireInt(json["x2"], "bbox.x2"), y2: try requireInt(json["y2"], "bbox.y2"),
            extra: extras(of: json, known: BoundingBox.knownFields))
    }
}

extension Face {
    static let knownFields: Set<String> = ["pk", "bbox", "probability", "label", "rotation", "descriptors"]

    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("pk", .string(pk)), ("bbox", bbox.json), ("probability", .int(Int64(probability))),
            ("label", optionalInt(label)), ("rotation", optionalInt(rotation)),
            ("descriptors", descriptors ?? .null),
        ]
        members += extra.map { ($0.name, $0.value) }
        return .object(members)
    }

    public init(json: JSONValue) throws(DocumentFormatError) {
        guard case .object = json else { throw DocumentFormatError("a face is not an object") }
        guard let bbox = json["bbox"] else { throw DocumentFormatError("a face has no bbox") }
        let descriptors = json["descriptors"]
        self.init(
            pk: json["pk"]?.stringValue ?? "",
            bbox: try BoundingBox(json: bbox),
            probability: try requireInt(json["probability"], "probability"),
            label: try readInt(json["label"], "label"),
            rotation: try readInt(json["rotation"], "rotation"),
            descriptors: (descriptors?.isNull ?? true) ? nil : descriptors,
            extra: extras(of: json, known: Face.knownFields))
    }
}

extension ImageDocument {
    static let knownFields: Set<String> = ["pk", "filename", "faces", "channels", "height", "width", "portrait"]

    /// The document as redis-om writes it: its fields in declaration order, absent optionals as
    /// explicit nulls, then any extra fields.
    public var json: JSONValue {
        var members: [(String, JSONValue)] = [
            ("pk", .string(pk)), ("filename", .string(filename)),
            ("faces", faces.map { .array($0.map(\.json)) } ?? .null),
            ("channels", optionalInt(channels)), ("height", optionalInt(height)),
            ("width", optionalInt(width)), ("portrait", optionalInt(portrait)),
        ]
        members += extra.map { ($0.name, $0.value) }
        return .object(members)
    }

    public init(json: JSONValue) throws(DocumentFormatError) {
        guard case .object = json else { throw DocumentFormatError("the document is not a JSON object") }
        guard let filename = json["filename"]?.stringValue else {
            throw DocumentFormatError("the document has no filename")
        }
        var faces: [Face]?
        if let list = json["faces"], !list.isNull {
            guard let items = list.arrayValue else { throw DocumentFormatError("faces is not a list") }
            faces = []
            for item in items { faces?.append(try Face(json: item)) }
        }
        self.init(
            pk: json["pk"]?.stringValue ?? "", filename: filename, faces: faces,
            channels: try readInt(json["channels"], "channels"), height: try readInt(json["height"], "height"),
            width: try readInt(json["width"], "width"), portrait: try readInt(json["portrait"], "portrait"),
            extra: extras(of: json, known: ImageDocument.knownFields))
    }

    /// Gives this document, its faces and their boxes fresh primary keys where they have none.
    public mutating func assignMissingKeys(using generator: inout ULIDGenerator) {
        if pk.isEmpty { pk = generator.next() }
        guard var list = faces else { return }
        for i in list.indices {
            if list[i].pk.isEmpty { list[i].pk = generator.next() }
            if list[i].bbox.pk.isEmpty { list[i].bbox.pk = generator.next() }
        }
        faces = list
    }
}
