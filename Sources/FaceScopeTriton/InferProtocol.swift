import FaceScopeCore

/// KServe v2 inference requests and replies with the binary tensor data extension: a JSON header,
/// then the raw tensors in the order the header lists them; `Inference-Header-Content-Length`
/// says where the JSON ends. Pure values: no I/O.
enum InferProtocol {
    /// Where one input's bytes travel.
    enum InputPlacement: Equatable {
        /// In the body after the JSON header.
        case binary
        /// In a registered system shared-memory region.
        case sharedMemory(region: String, offset: Int)
    }

    /// The request's JSON header.
    static func requestHeader(
        inputs: [(input: TensorInput, placement: InputPlacement)], outputs: [OutputRequest]
    ) -> [UInt8] {
        var inputItems: [JSONValue] = []
        for (input, placement) in inputs {
            let parameters: [(String, JSONValue)]
            switch placement {
            case .binary:
                parameters = [("binary_data_size", .int(Int64(input.byteCount)))]
            case .sharedMemory(let region, let offset):
                parameters = sharedMemoryParameters(region: region, byteSize: input.byteCount, offset: offset)
            }
            inputItems.append(
                .object([
                    ("name", .string(input.name)),
                    ("shape", .array(input.shape.map { .int(Int64($0)) })),
                    ("datatype", .string(input.datatype.rawValue)),
                    ("parameters", .object(parameters)),
                ]))
        }
        var outputItems: [JSONValue] = []
        for output in outputs {
            var members: [(String, JSONValue)] = [("name", .string(output.name))]
            switch output.placement {
            case .binary:
                members.append(("parameters", .object([("binary_data", .bool(true))])))
            case .json:
                members.append(("parameters", .object([("binary_data", .bool(false))])))
            case .sharedMemory(let region, let offset, let byteSize):
                members.append(
                    ("parameters", .object(sharedMemoryParameters(region: region, byteSize: byteSize, offset: offset))))
            }
            outputItems.append(.object(members))
        }
        let header = JSONValue.object([("inputs", .array(inputItems)), ("outputs", .array(outputItems))])
        return Array(header.serialized.utf8)
    }

    static func sharedMemoryParameters(region: String, byteSize: Int, offset: Int) -> [(String, JSONValue)] {
        var p: [(String, JSONValue)] = [
            ("shared_memory_region", .string(region)), ("shared_memory_byte_size", .int(Int64(byteSize))),
        ]
        if offset != 0 { p.append(("shared_memory_offset", .int(Int64(offset)))) }
        return p
    }

    /// The whole request body for inputs sent in the body: the JSON header, then each input's
    /// bytes. For tests; the client writes the same layout straight into its own buffer.
    static func requestBody(inputs: [TensorInput], outputs: [OutputRequest]) throws -> (
        body: [UInt8], headerLength: Int
    ) {
        let header = requestHeader(inputs: inputs.map { ($0, .binary) }, outputs: outputs)
        let total = header.count + inputs.reduce(0) { $0 + $1.byteCount }
        var body = [UInt8](repeating: 0, count: total)
        try body.withUnsafeMutableBytes { raw in
            try writeBody(header: header, inputs: inputs, into: raw)
        }
        return (body, header.count)
    }

    /// Writes the header and the inputs' bytes into `buffer`; returns the bytes written.
    @discardableResult
    static func writeBody(header: [UInt8], inputs: [TensorInput], into buffer: UnsafeMutableRawBufferPointer) throws
        -> Int
    {
        let headerPart = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<header.count])
        header.withUnsafeBytes { headerPart.copyMemory(from: $0) }
        var offset = header.count
        for input in inputs {
            try input.write(into: UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<offset + input.byteCount]))
            offset += input.byteCount
        }
        return offset
    }

    /// The error text of a failed request's body: the `error` member of `{"error": "..."}`,
    /// sanitized for the terminal; nil when the body is not such an object.
    static func errorMessage(_ body: [UInt8]) -> String? {
        let parsed: JSONValue? = body.withUnsafeBufferPointer { try? JSONValue.parse(bytes: $0) }
        guard let message = parsed?["error"]?.stringValue else { return nil }
        return TerminalText.sanitize(message)
    }

    /// One output as the reply's JSON header describes it.
    struct OutputHeader {
        var name: String
        var datatype: TensorDataType
        var shape: [Int]
        /// Bytes after the JSON header (binary data extension); nil when not binary.
        var binarySize: Int?
        /// Numbers in the JSON (`data`), when sent as JSON.
        var jsonData: [JSONValue]?
    }

    /// Parses an inference reply: the JSON header (the first `headerLength` bytes, or the whole
    /// body when the reply carried no `Inference-Header-Content-Length`), then each binary output's
    /// bytes in the order listed. Outputs placed in shared memory come back with empty `data`.
    static func parseResponse(body: [UInt8], headerLength: Int?) throws(InferenceError) -> [String: TensorOutput] {
        let jsonLength = headerLength ?? body.count
        guard jsonLength >= 0, jsonLength <= body.count else {
            throw .malformedReply(
                "Triton's reply says its JSON header has \(jsonLength) bytes, but the reply has only \(body.count)")
        }
        let parsed: Result<JSONValue, JSONParseError> = body.withUnsafeBufferPointer { all in
            Result { () throws(JSONParseError) -> JSONValue in
                try JSONValue.parse(bytes: UnsafeBufferPointer(rebasing: all[0..<jsonLength]))
            }
        }
        let json: JSONValue
        switch parsed {
        case .success(let v): json = v
        case .failure(let e): throw .malformedReply("Triton's reply is not valid JSON: \(e)")
        }
        guard let items = json["outputs"]?.arrayValue else {
            throw .malformedReply("Triton's reply has no outputs")
        }
        var headers: [OutputHeader] = []
        for item in items {
            guard let name = item["name"]?.stringValue else {
                throw .malformedReply("an output in Triton's reply has no name")
            }
            let safeName = TerminalText.sanitize(name)
            guard let typeName = item["datatype"]?.stringValue, let datatype = TensorDataType(tritonName: typeName)
            else {
                throw .malformedReply("output '\(safeName)' in Triton's reply has an unknown datatype")
            }
            guard let dims = item["shape"]?.arrayValue else {
                throw .malformedReply("output '\(safeName)' in Triton's reply has no shape")
            }
            var shape: [Int] = []
            for d in dims {
                guard let v = d.intValue, let i = Int(exactly: v), i >= 0 else {
                    throw .malformedReply("output '\(safeName)' in Triton's reply has an invalid shape")
                }
                shape.append(i)
            }
            var binarySize: Int?
            if let size = item["parameters"]?["binary_data_size"] {
                guard let v = size.intValue, let i = Int(exactly: v), i >= 0 else {
                    throw .malformedReply("output '\(safeName)' in Triton's reply has an invalid binary_data_size")
                }
                binarySize = i
            }
            headers.append(
                OutputHeader(
                    name: name, datatype: datatype, shape: shape, binarySize: binarySize,
                    jsonData: item["data"]?.arrayValue))
        }
        var result: [String: TensorOutput] = [:]
        var offset = jsonLength
        for h in headers {
            var data: [UInt8] = []
            if let size = h.binarySize {
                guard offset + size <= body.count else {
                    throw .malformedReply(
                        "Triton's reply is truncated: output '\(TerminalText.sanitize(h.name))' needs \(size) bytes at "
                            + "\(offset), the reply has \(body.count)")
                }
                data = Array(body[offset..<offset + size])
                offset += size
            } else if let values = h.jsonData {
                data = try bytes(of: values, datatype: h.datatype, name: h.name)
            }
            result[h.name] = TensorOutput(name: h.name, datatype: h.datatype, shape: h.shape, data: data)
        }
        return result
    }

    /// JSON numbers converted to little-endian tensor bytes.
    static func bytes(of values: [JSONValue], datatype: TensorDataType, name: String) throws(InferenceError) -> [UInt8]
    {
        var out: [UInt8] = []
        out.reserveCapacity(values.count * (datatype.elementSize ?? 1))
        func append<T>(_ v: T) { withUnsafeBytes(of: v) { out.append(contentsOf: $0) } }
        for value in values {
            let number: Double?
            switch value {
            case .bool(let b): number = b ? 1 : 0
            default: number = value.doubleValue
            }
            guard let d = number, !d.isNaN else {
                throw .malformedReply(
                    "output '\(TerminalText.sanitize(name))' has a non-numeric value in its JSON data")
            }
            let i = value.intValue ?? Int64(exactly: d.rounded()) ?? (d < 0 ? Int64.min : Int64.max)
            switch datatype {
            case .fp32: append(Float(d))
            case .fp64: append(d)
            case .bool, .uint8: append(UInt8(clamping: i))
            case .int8: append(Int8(clamping: i))
            case .uint16: append(UInt16(clamping: i))
            case .int16: append(Int16(clamping: i))
            case .uint32: append(UInt32(clamping: i))
            case .int32: append(Int32(clamping: i))
            case .uint64: append(UInt64(clamping: i))
            case .int64: append(i)
            case .fp16, .bf16, .bytes:
                throw .malformedReply(
                    "output '\(TerminalText.sanitize(name))' is \(datatype.rawValue) as JSON; ask for it as binary data"
                )
            }
        }
        return out
    }
}
