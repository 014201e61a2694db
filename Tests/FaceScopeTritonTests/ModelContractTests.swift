import FaceScopeCore
import Testing

@testable import FaceScopeTriton

@Suite struct ModelInfoTests {
    /// `GET /v2/models/facenet` from tritonserver 2.51 serving the CPU backend.
    static let facenetMetadata = #"""
        {"name":"facenet","versions":["1"],"platform":"python","inputs":[{"name":"input_1","datatype":"FP32","shape":[-1,3,416,736]}],"outputs":[{"name":"output_cov/Sigmoid","datatype":"FP32","shape":[-1,1,26,46]},{"name":"output_bbox/BiasAdd","datatype":"FP32","shape":[-1,4,26,46]}]}
        """#

    /// `GET /v2/models/facenet/config` from the same server, shortened.
    static let facenetConfig = #"""
        {"name":"facenet","platform":"","backend":"python","max_batch_size":16,"input":[{"name":"input_1","data_type":"TYPE_FP32","format":"FORMAT_NONE","dims":[3,416,736],"is_shape_tensor":false}],"output":[{"name":"output_cov/Sigmoid","data_type":"TYPE_FP32","dims":[1,26,46],"label_filename":""},{"name":"output_bbox/BiasAdd","data_type":"TYPE_FP32","dims":[4,26,46],"label_filename":""}],"dynamic_batching":{"preferred_batch_size":[16]},"parameters":{"resize_mode":{"string_value":"letterbox"}},"model_warmup":[]}
        """#

    static func metadata(_ text: String = facenetMetadata) throws -> ModelMetadata {
        try ModelMetadata(json: try JSONValue.parse(text))
    }

    static func config(_ text: String = facenetConfig) throws -> ModelConfig {
        try ModelConfig(json: try JSONValue.parse(text))
    }

    @Test func parsesMetadata() throws {
        let m = try Self.metadata()
        #expect(m.name == "facenet" && m.versions == ["1"] && m.platform == "python")
        #expect(m.inputs == [TensorMetadata(name: "input_1", datatype: "FP32", shape: [-1, 3, 416, 736])])
        #expect(m.outputs.map(\.name) == ["output_cov/Sigmoid", "output_bbox/BiasAdd"])
        #expect(m.outputs[1].shape == [-1, 4, 26, 46])
    }

    @Test func parsesConfigWithParameters() throws {
        let c = try Self.config()
        #expect(c.name == "facenet" && c.maxBatchSize == 16)
        #expect(c.inputs == [ConfigTensor(name: "input_1", datatype: "FP32", dims: [3, 416, 736])])
        #expect(c.outputs[0] == ConfigTensor(name: "output_cov/Sigmoid", datatype: "FP32", dims: [1, 26, 46]))
        #expect(c.parameters == ["resize_mode": "letterbox"])
        // Protobuf's JSON mapping may write 64-bit numbers as strings.
        let strings = try Self.config(
            #"{"name":"m","max_batch_size":"4","input":[{"name":"i","data_type":"TYPE_UINT8","dims":["150","150","3"]}]}"#
        )
        #expect(
            strings.maxBatchSize == 4 && strings.inputs[0].dims == [150, 150, 3]
                && strings.inputs[0].datatype == "UINT8")
        #expect(throws: InferenceError.self) { try Self.config(#"{"max_batch_size":1}"#) }
        #expect(throws: InferenceError.self) { try Self.metadata(#"{"name":"m","inputs":[{"name":"i"}]}"#) }
    }
}

@Suite struct ModelContractTests {
    @Test func theServedFaceNetFitsItsContract() throws {
        try ModelContract.faceNet.verify(try ModelInfoTests.metadata())
        try ModelContract.faceNet.verify(try ModelInfoTests.config())
    }

    @Test func nonBatchedAndDynamicShapesAreAccepted() throws {
        let plain = ModelMetadata(
            name: "facerec", versions: [], platform: "",
            inputs: [TensorMetadata(name: "input_chip", datatype: "UINT8", shape: [150, 150, 3])],
            outputs: [TensorMetadata(name: "embedding", datatype: "FP32", shape: [128])])
        try ModelContract.faceRecognition.verify(plain)
        let dynamic = ModelMetadata(
            name: "fpenet", versions: [], platform: "",
            inputs: [TensorMetadata(name: "input_face_images", datatype: "FP32", shape: [-1, 1, -1, -1])],
            outputs: [
                TensorMetadata(name: "softargmax", datatype: "FP32", shape: [-1, 80, 2]),
                TensorMetadata(name: "softargmax:1", datatype: "FP32", shape: [-1, 80]),
                TensorMetadata(name: "conv_keypoints_m80", datatype: "FP32", shape: [-1, 80, 80, 80]),
            ])
        try ModelContract.fpeNet.verify(dynamic)
    }

    @Test func mismatchesNameModelTensorExpectedAndActual() throws {
        var m = try ModelInfoTests.metadata()
        m.outputs[0].shape = [-1, 1, 13, 23]
        #expect(
            throws: InferenceError.contractMismatch(
                "Triton model 'facenet' does not fit FaceScope's FaceNet face detector (per its metadata): output "
                    + "'output_cov/Sigmoid' is FP32 [-1,1,13,23], expected FP32 [1,26,46] (or [-1,1,26,46] batched)")
        ) { try ModelContract.faceNet.verify(m) }

        m = try ModelInfoTests.metadata()
        m.inputs[0].datatype = "UINT8"
        m.outputs.removeLast()
        #expect(
            throws: InferenceError.contractMismatch(
                "Triton model 'facenet' does not fit FaceScope's FaceNet face detector (per its metadata): input "
                    + "'input_1' is UINT8 [-1,3,416,736], expected FP32 or FP16 [3,416,736] (or [-1,3,416,736] batched); it has "
                    + "no output 'output_bbox/BiasAdd' (its outputs: 'output_cov/Sigmoid')")
        ) { try ModelContract.faceNet.verify(m) }

        m = try ModelInfoTests.metadata()
        m.inputs.append(TensorMetadata(name: "extra", datatype: "FP32", shape: [1]))
        #expect(
            throws: InferenceError.contractMismatch(
                "Triton model 'facenet' does not fit FaceScope's FaceNet face detector (per its metadata): it has "
                    + "input(s) FaceScope does not send: 'extra'")
        ) { try ModelContract.faceNet.verify(m) }

        // The wrong model altogether.
        do {
            try ModelContract.fpeNet.verify(try ModelInfoTests.metadata())
            Issue.record("facenet passed as FPENet")
        } catch let error as InferenceError {
            #expect(error.description.contains("it has no input 'input_face_images' (its inputs: 'input_1')"))
            #expect(error.description.contains("FPENet landmark estimator"))
        }
    }

    @Test func configMismatchesUseDimsWithoutTheBatch() throws {
        var c = try ModelInfoTests.config()
        c.inputs[0].dims = [3, 544, 960]
        #expect(
            throws: InferenceError.contractMismatch(
                "Triton model 'facenet' does not fit FaceScope's FaceNet face detector (per its configuration): input "
                    + "'input_1' is FP32 [3,544,960], expected FP32 or FP16 [3,416,736]")
        ) { try ModelContract.faceNet.verify(c) }
    }
}

/// Inputs with another datatype of the same meaning: accepted by the contracts, converted here.
@Suite struct InputConversionTests {
    @Test func floatChipsAreAcceptedAndUINT8ForTheDetectorIsNot() throws {
        for type in ["UINT8", "FP32", "FP16"] {
            try ModelContract.faceRecognition.verify(
                ModelConfig(
                    name: "facerec", maxBatchSize: 16,
                    inputs: [ConfigTensor(name: "input_chip", datatype: type, dims: [150, 150, 3])],
                    outputs: [ConfigTensor(name: "embedding", datatype: "FP32", dims: [128])], parameters: [:]))
        }
        let config = ModelConfig(
            name: "facerec", maxBatchSize: 16,
            inputs: [ConfigTensor(name: "input_chip", datatype: "FP16", dims: [150, 150, 3])],
            outputs: [], parameters: [:])
        #expect(ModelContract.faceRecognition.inputDatatype("input_chip", in: config) == .fp16)
        #expect(throws: InferenceError.self) {
            try ModelContract.faceNet.verify(
                ModelConfig(
                    name: "facenet", maxBatchSize: 1,
                    inputs: [ConfigTensor(name: "input_1", datatype: "UINT8", dims: [3, 416, 736])],
                    outputs: ModelContract.faceNet.outputs.map {
                        ConfigTensor(name: $0.name, datatype: "FP32", dims: $0.dims)
                    }, parameters: [:]))
        }
    }

    @Test func bytesBecomeFloatsAndHalvesWithTheSameValues() throws {
        for sent in [TensorDataType.fp32, .fp16] {
            let input = TensorInput.converting(name: "c", written: .uint8, sent: sent, shape: [1, 3]) { raw in
                raw.copyBytes(from: [0, 128, 255])
            }
            #expect(input.byteCount == 3 * (sent.elementSize ?? 0))
            var out = [UInt8](repeating: 0, count: input.byteCount)
            try out.withUnsafeMutableBytes { try input.write(into: $0) }
            let values: [Float] =
                sent == .fp32
                ? out.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
                : out.withUnsafeBytes { $0.bindMemory(to: Float16.self).map(Float.init) }
            #expect(values == [0, 128, 255])
        }
    }
}
