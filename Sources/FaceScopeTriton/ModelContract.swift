import FaceScopeCore

/// A tensor FaceScope sends or reads: name, datatype and the dims of one batch item.
public struct TensorSpec: Sendable, Equatable {
    public var name: String
    public var datatype: TensorDataType
    public var dims: [Int]
    /// Other datatypes the model may take for an input with the same meaning (values, not
    /// scaling: an FP32 face chip holds 0-255 like the UINT8 one); the client converts.
    public var alternatives: [TensorDataType]

    /// A tensor spec from its parts.
    public init(name: String, datatype: TensorDataType, dims: [Int], alternatives: [TensorDataType] = []) {
        self.name = name
        self.datatype = datatype
        self.dims = dims
        self.alternatives = alternatives
    }

    /// Every datatype accepted, the preferred first.
    public var datatypes: [TensorDataType] { [datatype] + alternatives }
}

/// The tensor names of the models' contracts (docs/model-contracts.md), in one place.
public enum TensorName {
    /// FaceNet's input: 3x416x736 planar RGB.
    public static let faceNetInput = "input_1"
    /// FaceNet's coverage (confidence) grid.
    public static let coverage = "output_cov/Sigmoid"
    /// FaceNet's box offsets grid.
    public static let boxes = "output_bbox/BiasAdd"
    /// FPENet's input: 80x80 grey face crops.
    public static let fpeNetInput = "input_face_images"
    /// FPENet's 80 keypoints (x, y) in crop pixels.
    public static let keypoints = "softargmax"
    /// FPENet's confidence per keypoint.
    public static let keypointConfidence = "softargmax:1"
    /// The encoded ensemble's input: an image file's bytes.
    public static let encodedImage = "image_bytes"
    /// The encoded ensemble's decoded image shape (height, width, 3).
    public static let imageShape = "image_shape"
    /// The face-descriptor model's input: a 150x150 RGB chip.
    public static let faceChip = "input_chip"
    /// The face-descriptor model's 128-D output.
    public static let embedding = "embedding"
}

/// The tensors a model must have for FaceScope to use it, checked against what Triton serves
/// before the first request, so a wrong model fails with a precise message instead of garbage.
public struct ModelContract: Sendable, Equatable {
    /// What the model is for, in messages ("FaceNet face detector").
    public var role: String
    /// The inputs FaceScope sends.
    public var inputs: [TensorSpec]
    /// The outputs FaceScope reads (the model may have more).
    public var outputs: [TensorSpec]

    /// A contract from its parts.
    public init(role: String, inputs: [TensorSpec], outputs: [TensorSpec]) {
        self.role = role
        self.inputs = inputs
        self.outputs = outputs
    }

    /// NVIDIA FaceNet (DetectNet_v2 GridBox).
    public static let faceNet = ModelContract(
        role: "FaceNet face detector",
        inputs: [
            TensorSpec(name: TensorName.faceNetInput, datatype: .fp32, dims: [3, 416, 736], alternatives: [.fp16])
        ],
        outputs: [
            TensorSpec(name: TensorName.coverage, datatype: .fp32, dims: [1, 26, 46]),
            TensorSpec(name: TensorName.boxes, datatype: .fp32, dims: [4, 26, 46]),
        ])

    /// NVIDIA FPENet (80 facial keypoints).
    public static let fpeNet = ModelContract(
        role: "FPENet landmark estimator",
        inputs: [TensorSpec(name: TensorName.fpeNetInput, datatype: .fp32, dims: [1, 80, 80], alternatives: [.fp16])],
        outputs: [
            TensorSpec(name: TensorName.keypoints, datatype: .fp32, dims: [80, 2]),
            TensorSpec(name: TensorName.keypointConfidence, datatype: .fp32, dims: [80]),
        ])

    /// FaceNet on an encoded image file (the GPU server's `facenet_encoded` ensemble, the CPU
    /// backend's model of that name): the file's bytes in, FaceNet's outputs and the decoded
    /// image's shape (height, width, 3) out; the server decodes and resizes.
    public static let faceNetEncoded = ModelContract(
        role: "FaceNet face detector on encoded images",
        inputs: [TensorSpec(name: TensorName.encodedImage, datatype: .uint8, dims: [-1])],
        outputs: [
            TensorSpec(name: TensorName.coverage, datatype: .fp32, dims: [1, 26, 46]),
            TensorSpec(name: TensorName.boxes, datatype: .fp32, dims: [4, 26, 46]),
            TensorSpec(name: TensorName.imageShape, datatype: .int32, dims: [3]),
        ])

    /// dlib's ResNet face descriptor (128-D); its chip is RGB 0-255 as UINT8, or as FP32 or FP16
    /// (the ONNX and TensorRT exports of the same network).
    public static let faceRecognition = ModelContract(
        role: "face descriptor",
        inputs: [
            TensorSpec(name: TensorName.faceChip, datatype: .uint8, dims: [150, 150, 3], alternatives: [.fp32, .fp16])
        ],
        outputs: [TensorSpec(name: TensorName.embedding, datatype: .fp32, dims: [128])])

    /// Checks the model's metadata. Shapes there include the batch dimension as -1 when the model
    /// batches: `[-1] + dims` and `dims` are both accepted; a -1 the server reports for another
    /// dimension matches anything (the model takes any size there). An input FaceScope does not
    /// send is a mismatch too.
    /// - Throws: `InferenceError` (a contract mismatch) listing every mismatch, naming the model and tensor
    ///   with the expected and the actual datatype and shape.
    public func verify(_ metadata: ModelMetadata) throws(InferenceError) {
        func served(_ list: [TensorMetadata]) -> [Served] {
            list.map { Served(name: $0.name, datatype: $0.datatype, shape: $0.shape, batched: $0.shape.first == -1) }
        }
        var problems = compare(served(metadata.inputs), served(metadata.outputs), batchNote: true)
        let extra = metadata.inputs.map(\.name).filter { name in !inputs.contains { $0.name == name } }
        if !extra.isEmpty {
            problems.append("it has input(s) FaceScope does not send: \(names(extra))")
        }
        try report(problems, model: metadata.name, source: "metadata")
    }

    /// Checks the model's configuration (dims without the batch dimension).
    /// - Throws: `InferenceError` (a contract mismatch) listing every mismatch.
    public func verify(_ config: ModelConfig) throws(InferenceError) {
        func served(_ list: [ConfigTensor]) -> [Served] {
            list.map { Served(name: $0.name, datatype: $0.datatype, shape: $0.dims, batched: false) }
        }
        let problems = compare(served(config.inputs), served(config.outputs), batchNote: false)
        try report(problems, model: config.name, source: "configuration")
    }

    /// A tensor as the server describes it; `batched` when `shape` may start with the batch
    /// dimension (a leading -1 in the metadata: it is then dropped when one dim too many).
    private struct Served {
        var name: String
        var datatype: String
        var shape: [Int]
        var batched: Bool
    }

    private func compare(_ servedInputs: [Served], _ servedOutputs: [Served], batchNote: Bool) -> [String] {
        var problems: [String] = []
        for (kind, specs, actual) in [("input", inputs, servedInputs), ("output", outputs, servedOutputs)] {
            for spec in specs {
                guard let tensor = actual.first(where: { $0.name == spec.name }) else {
                    problems.append("it has no \(kind) '\(spec.name)' (its \(kind)s: \(names(actual.map(\.name))))")
                    continue
                }
                let batched = tensor.batched && tensor.shape.count == spec.dims.count + 1
                let dims = batched ? Array(tensor.shape.dropFirst()) : tensor.shape
                let datatypes = spec.datatypes.map(\.rawValue)
                guard !datatypes.contains(tensor.datatype) || !matches(dims, spec.dims) else { continue }
                let typeText =
                    datatypes.count == 1
                    ? datatypes[0] : datatypes.dropLast().joined(separator: ", ") + " or " + (datatypes.last ?? "")
                var expected = "\(typeText) \(shapeText(spec.dims))"
                if batchNote { expected += " (or \(shapeText([-1] + spec.dims)) batched)" }
                problems.append(
                    "\(kind) '\(spec.name)' is \(clean(tensor.datatype)) \(shapeText(tensor.shape)), expected \(expected)"
                )
            }
        }
        return problems
    }

    /// The datatype a model's configuration declares for one of the contract's inputs, when it
    /// is one the contract accepts; else the contract's own.
    public func inputDatatype(_ name: String, in config: ModelConfig) -> TensorDataType {
        guard let spec = inputs.first(where: { $0.name == name }) else { return .fp32 }
        guard let served = config.inputs.first(where: { $0.name == name }),
            let type = TensorDataType(tritonName: served.datatype), spec.datatypes.contains(type)
        else { return spec.datatype }
        return type
    }

    private func matches(_ actual: [Int], _ expected: [Int]) -> Bool {
        actual.count == expected.count && zip(actual, expected).allSatisfy { $0 == $1 || $0 == -1 }
    }

    private func clean(_ s: String) -> String { TerminalText.sanitize(s) }

    private func names(_ list: [String]) -> String {
        list.isEmpty ? "none" : list.map { "'\(clean($0))'" }.joined(separator: ", ")
    }

    private func report(_ problems: [String], model: String, source: String) throws(InferenceError) {
        guard !problems.isEmpty else { return }
        throw .contractMismatch(
            "Triton model '\(clean(model))' does not fit FaceScope's \(role) (per its \(source)): "
                + problems.joined(separator: "; "))
    }
}
