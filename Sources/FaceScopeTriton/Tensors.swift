import FaceScopeCore

// Tensor bytes go on the wire as the host stores them: KServe v2 binary data is little-endian.
#if _endian(big)
    #error("FaceScopeTriton sends tensors in host byte order, which must be little-endian")
#endif

/// A KServe v2 tensor datatype.
public enum TensorDataType: String, Sendable, CaseIterable {
    case bool = "BOOL"
    case uint8 = "UINT8"
    case uint16 = "UINT16"
    case uint32 = "UINT32"
    case uint64 = "UINT64"
    case int8 = "INT8"
    case int16 = "INT16"
    case int32 = "INT32"
    case int64 = "INT64"
    case fp16 = "FP16"
    case fp32 = "FP32"
    case fp64 = "FP64"
    case bf16 = "BF16"
    case bytes = "BYTES"

    /// Bytes per element; nil for BYTES (length-prefixed strings).
    public var elementSize: Int? {
        switch self {
        case .bool, .uint8, .int8: return 1
        case .uint16, .int16, .fp16, .bf16: return 2
        case .uint32, .int32, .fp32: return 4
        case .uint64, .int64, .fp64: return 8
        case .bytes: return nil
        }
    }

    /// A datatype as the metadata (`FP32`) or the model configuration (`TYPE_FP32`, `TYPE_STRING`)
    /// spells it.
    public init?(tritonName: String) {
        var name = tritonName.uppercased()
        if name.hasPrefix("TYPE_") { name.removeFirst(5) }
        if name == "STRING" { name = "BYTES" }
        self.init(rawValue: name)
    }
}

/// The number of elements of a shape; nil for a negative (dynamic) dimension or an overflow.
func elementCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape {
        guard d >= 0 else { return nil }
        let (p, overflow) = n.multipliedReportingOverflow(by: d)
        if overflow { return nil }
        n = p
    }
    return n
}

/// Renders a shape as Triton does: `[1,3,416,736]`.
func shapeText(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ",") + "]" }

/// One input tensor of an inference request. The bytes are raw little-endian elements in
/// row-major order; to avoid copies they can be written by a closure straight into the request
/// buffer (or the shared-memory region) the client owns.
public struct TensorInput {
    /// Where the tensor's bytes come from.
    public enum Source {
        /// Bytes the caller already has.
        case bytes([UInt8])
        /// A closure that writes exactly `byteCount` bytes into the buffer it is given (the
        /// request body or the shared-memory region), called once per request.
        case fill((UnsafeMutableRawBufferPointer) throws -> Void)
        /// Bytes the caller placed in a system shared-memory region registered with the server.
        case sharedMemory(region: String, offset: Int)
    }

    /// The input's name in the model.
    public var name: String
    /// The element type.
    public var datatype: TensorDataType
    /// The full shape, batch dimension included when the model batches.
    public var shape: [Int]
    /// Where the bytes come from.
    public var source: Source
    /// The tensor's size in bytes.
    public var byteCount: Int

    /// An input from bytes already at hand.
    public init(name: String, datatype: TensorDataType, shape: [Int], bytes: [UInt8]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.source = .bytes(bytes)
        self.byteCount = bytes.count
    }

    /// An FP32 input from floats.
    public init(name: String, shape: [Int], floats: [Float]) {
        var bytes = [UInt8](repeating: 0, count: floats.count * 4)
        bytes.withUnsafeMutableBytes { dst in floats.withUnsafeBytes { dst.copyMemory(from: $0) } }
        self.init(name: name, datatype: .fp32, shape: shape, bytes: bytes)
    }

    /// An input whose bytes `fill` writes into the client's buffer: shape times element size bytes
    /// (`byteCount` must be given for BYTES).
    public init(
        name: String, datatype: TensorDataType, shape: [Int], byteCount: Int? = nil,
        fill: @escaping (UnsafeMutableRawBufferPointer) throws -> Void
    ) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.source = .fill(fill)
        self.byteCount = byteCount ?? (elementCount(shape) ?? 0) * (datatype.elementSize ?? 0)
    }

    /// An input whose `fill` writes `written` elements (UINT8 or FP32), sent as `datatype`: when
    /// the two differ, converted on the client (UINT8 to FP32 or FP16, FP32 to FP16; values kept).
    public static func converting(
        name: String, written: TensorDataType, sent datatype: TensorDataType, shape: [Int],
        fill: @escaping (UnsafeMutableRawBufferPointer) throws -> Void
    ) -> TensorInput {
        guard written != datatype else { return TensorInput(name: name, datatype: datatype, shape: shape, fill: fill) }
        let count = elementCount(shape) ?? 0
        return TensorInput(name: name, datatype: datatype, shape: shape) { raw in
            let scratch = UnsafeMutableRawBufferPointer.allocate(
                byteCount: max(1, count * (written.elementSize ?? 1)), alignment: 16)
            defer { scratch.deallocate() }
            try fill(UnsafeMutableRawBufferPointer(rebasing: scratch[0..<count * (written.elementSize ?? 1)]))
            try convert(scratch, from: written, into: raw, as: datatype, count: count)
        }
    }

    static func convert(
        _ source: UnsafeMutableRawBufferPointer, from: TensorDataType, into target: UnsafeMutableRawBufferPointer,
        as to: TensorDataType, count: Int
    ) throws {
        switch (from, to) {
        case (.uint8, .fp32):
            let out = target.bindMemory(to: Float.self)
            for i in 0..<count { out[i] = Float(source[i]) }
        case (.uint8, .fp16):
            let out = target.bindMemory(to: Float16.self)
            for i in 0..<count { out[i] = Float16(source[i]) }
        case (.fp32, .fp16):
            let values = source.bindMemory(to: Float.self)
            let out = target.bindMemory(to: Float16.self)
            for i in 0..<count { out[i] = Float16(values[i]) }
        default:
            throw InferenceError.local("FaceScope cannot convert \(from.rawValue) input to \(to.rawValue)")
        }
    }

    /// An input already in a registered system shared-memory region.
    public init(name: String, datatype: TensorDataType, shape: [Int], sharedMemoryRegion: String, offset: Int = 0) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.source = .sharedMemory(region: sharedMemoryRegion, offset: offset)
        self.byteCount = (elementCount(shape) ?? 0) * (datatype.elementSize ?? 0)
    }

    /// Checks that the byte count fits the shape and datatype.
    func validate() throws(InferenceError) {
        guard let count = elementCount(shape) else {
            throw .local("input '\(name)' has an invalid shape \(shapeText(shape))")
        }
        if let size = datatype.elementSize, count * size != byteCount {
            throw .local(
                "input '\(name)' has \(byteCount) bytes, but \(datatype.rawValue) \(shapeText(shape)) takes \(count * size)"
            )
        }
    }

    /// Writes the tensor's bytes into `buffer` (exactly `byteCount` bytes long).
    func write(into buffer: UnsafeMutableRawBufferPointer) throws {
        switch source {
        case .bytes(let bytes):
            bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        case .fill(let fill):
            try fill(buffer)
        case .sharedMemory:
            break
        }
    }
}

/// One output to ask for, and where its bytes should go.
public struct OutputRequest: Sendable, Equatable {
    /// Where the server puts the output.
    public enum Placement: Sendable, Equatable {
        /// Raw bytes after the reply's JSON header (the binary tensor extension).
        case binary
        /// Numbers in the reply's JSON (twice the bytes; for debugging).
        case json
        /// A registered system shared-memory region.
        case sharedMemory(region: String, offset: Int, byteSize: Int)
    }

    /// The output's name in the model.
    public var name: String
    /// Where its bytes go.
    public var placement: Placement

    /// A request for one output.
    public init(_ name: String, placement: Placement = .binary) {
        self.name = name
        self.placement = placement
    }
}

/// One output tensor of an inference reply.
public struct TensorOutput: Sendable, Equatable {
    /// The output's name.
    public var name: String
    /// The element type.
    public var datatype: TensorDataType
    /// The full shape, batch dimension included.
    public var shape: [Int]
    /// The raw little-endian bytes; empty for an output the caller placed in its own shared-memory
    /// region (read it there).
    public var data: [UInt8]

    /// An output from its parts.
    public init(name: String, datatype: TensorDataType, shape: [Int], data: [UInt8]) {
        self.name = name
        self.datatype = datatype
        self.shape = shape
        self.data = data
    }

    /// Elements in the shape.
    public var elementCount: Int { FaceScopeTriton.elementCount(shape) ?? 0 }

    /// The data as floats (FP32 only).
    /// - Throws: `InferenceError` (a malformed reply) for another datatype or a size that does not fit.
    public func floats() throws(InferenceError) -> [Float] {
        guard datatype == .fp32 else {
            throw .malformedReply("output '\(name)' is \(datatype.rawValue), not FP32")
        }
        guard data.count % 4 == 0, data.count / 4 == elementCount else {
            throw .malformedReply("output '\(name)' has \(data.count) bytes for FP32 \(shapeText(shape))")
        }
        return [Float](unsafeUninitializedCapacity: data.count / 4) { buffer, initialized in
            data.withUnsafeBytes { UnsafeMutableRawBufferPointer(buffer).copyMemory(from: $0) }
            initialized = data.count / 4
        }
    }
}
