import FaceScopeCore

/// A tensor as a model's metadata (`GET /v2/models/{m}`) lists it.
public struct TensorMetadata: Sendable, Equatable {
    /// The tensor's name.
    public var name: String
    /// The datatype as Triton spells it (`FP32`).
    public var datatype: String
    /// The shape; -1 marks a dynamic dimension (the batch dimension of a batching model).
    public var shape: [Int]

    /// A tensor description from its parts.
    public init(name: String, datatype: String, shape: [Int]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
    }
}

/// A model's metadata: `GET /v2/models/{m}[/versions/{v}]`.
public struct ModelMetadata: Sendable, Equatable {
    public var name: String
    public var versions: [String]
    public var platform: String
    public var inputs: [TensorMetadata]
    public var outputs: [TensorMetadata]

    /// Metadata from its parts.
    public init(name: String, versions: [String], platform: String, inputs: [TensorMetadata], outputs: [TensorMetadata])
    {
        self.name = name
        self.versions = versions
        self.platform = platform
        self.inputs = inputs
        self.outputs = outputs
    }

    /// Parses the metadata reply.
    /// - Throws: `InferenceError` (a malformed reply) when it lacks the expected members.
    public init(json: JSONValue) throws(InferenceError) {
        guard let name = json["name"]?.stringValue else { throw .malformedReply("Triton's model metadata has no name") }
        func tensors(_ key: String) throws(InferenceError) -> [TensorMetadata] {
            guard let list = json[key]?.arrayValue else { return [] }
            var result: [TensorMetadata] = []
            for item in list {
                guard let n = item["name"]?.stringValue, let t = item["datatype"]?.stringValue,
                    let shape = intList(item["shape"])
                else {
                    throw .malformedReply(
                        "Triton's metadata of model '\(TerminalText.sanitize(name))' has a malformed \(key) entry")
                }
                result.append(TensorMetadata(name: n, datatype: t, shape: shape))
            }
            return result
        }
        self.init(
            name: name, versions: json["versions"]?.arrayValue?.compactMap(\.stringValue) ?? [],
            platform: json["platform"]?.stringValue ?? "", inputs: try tensors("inputs"),
            outputs: try tensors("outputs"))
    }
}

/// A tensor as a model's configuration lists it: dims without the batch dimension.
public struct ConfigTensor: Sendable, Equatable {
    /// The tensor's name.
    public var name: String
    /// The datatype in metadata spelling (`FP32`; the configuration's `TYPE_FP32` converted).
    public var datatype: String
    /// The dims of one batch item; -1 marks a dynamic dimension.
    public var dims: [Int]

    /// A tensor description from its parts.
    public init(name: String, datatype: String, dims: [Int]) {
        self.name = name
        self.datatype = datatype
        self.dims = dims
    }
}

/// The parts of a model's configuration (`GET /v2/models/{m}/config`) FaceScope uses.
public struct ModelConfig: Sendable, Equatable {
    public var name: String
    /// 0 for a model without a batch dimension.
    public var maxBatchSize: Int
    public var inputs: [ConfigTensor]
    public var outputs: [ConfigTensor]
    /// The `parameters` map's string values, e.g. `resize_mode` -> `letterbox`.
    public var parameters: [String: String]

    /// A configuration from its parts.
    public init(
        name: String, maxBatchSize: Int, inputs: [ConfigTensor], outputs: [ConfigTensor], parameters: [String: String]
    ) {
        self.name = name
        self.maxBatchSize = maxBatchSize
        self.inputs = inputs
        self.outputs = outputs
        self.parameters = parameters
    }

    /// Parses the configuration reply (Triton's JSON form of `config.pbtxt`; 64-bit numbers may
    /// come as strings, as protobuf's JSON mapping writes them).
    /// - Throws: `InferenceError` (a malformed reply) when it lacks the expected members.
    public init(json: JSONValue) throws(InferenceError) {
        guard let name = json["name"]?.stringValue else {
            throw .malformedReply("Triton's model configuration has no name")
        }
        let safe = TerminalText.sanitize(name)
        func tensors(_ key: String) throws(InferenceError) -> [ConfigTensor] {
            guard let list = json[key]?.arrayValue else { return [] }
            var result: [ConfigTensor] = []
            for item in list {
                guard let n = item["name"]?.stringValue, let dims = intList(item["dims"]) else {
                    throw .malformedReply("Triton's configuration of model '\(safe)' has a malformed \(key) entry")
                }
                let raw = item["data_type"]?.stringValue ?? "TYPE_INVALID"
                let type = TensorDataType(tritonName: raw)?.rawValue ?? raw
                result.append(ConfigTensor(name: n, datatype: type, dims: dims))
            }
            return result
        }
        var parameters: [String: String] = [:]
        if case .object(let members) = json["parameters"] {
            for (key, value) in members {
                if let s = value["string_value"]?.stringValue ?? value.stringValue { parameters[key] = s }
            }
        }
        self.init(
            name: name, maxBatchSize: json["max_batch_size"].flatMap(intValue) ?? 0, inputs: try tensors("input"),
            outputs: try tensors("output"), parameters: parameters)
    }
}

/// An integer that may be written as a JSON number or a numeric string.
func intValue(_ value: JSONValue) -> Int? {
    if let v = value.intValue { return Int(exactly: v) }
    if let s = value.stringValue { return Int(s) }
    return nil
}

/// A list of integers (numbers or numeric strings); nil when absent or malformed.
func intList(_ value: JSONValue?) -> [Int]? {
    guard let items = value?.arrayValue else { return nil }
    var result: [Int] = []
    for item in items {
        guard let v = intValue(item) else { return nil }
        result.append(v)
    }
    return result
}
