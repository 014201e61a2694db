import FaceScopeCore
import Testing

@testable import FaceScopeTriton

/// Little-endian bytes of floats.
func leBytes(_ floats: [Float]) -> [UInt8] {
    floats.flatMap { f in withUnsafeBytes(of: f.bitPattern.littleEndian) { Array($0) } }
}

@Suite struct InferRequestTests {
    @Test func bodyIsTheJSONHeaderThenTheRawInputs() throws {
        let a = TensorInput(name: "input_1", shape: [1, 2], floats: [1.5, -2])
        let b = TensorInput(name: "chip", datatype: .uint8, shape: [1, 3]) { buffer in
            buffer.copyBytes(from: [7, 8, 9])
        }
        let (body, headerLength) = try InferProtocol.requestBody(
            inputs: [a, b], outputs: [OutputRequest("out_a"), OutputRequest("out_b", placement: .json)])
        let header = String(decoding: body[0..<headerLength], as: UTF8.self)
        #expect(
            header
                == #"{"inputs":[{"name":"input_1","shape":[1,2],"datatype":"FP32","parameters":{"binary_data_size":8}},"#
                + #"{"name":"chip","shape":[1,3],"datatype":"UINT8","parameters":{"binary_data_size":3}}],"#
                + #""outputs":[{"name":"out_a","parameters":{"binary_data":true}},"#
                + #"{"name":"out_b","parameters":{"binary_data":false}}]}"#)
        #expect(Array(body[headerLength...]) == leBytes([1.5, -2]) + [7, 8, 9])
        #expect(body.count == headerLength + 11)
    }

    @Test func sharedMemoryTensorsNameTheirRegion() {
        let input = TensorInput(name: "x", datatype: .fp32, shape: [2, 4], sharedMemoryRegion: "r_in", offset: 0)
        #expect(input.byteCount == 32)
        let header = InferProtocol.requestHeader(
            inputs: [(input, .sharedMemory(region: "r_in", offset: 128))],
            outputs: [OutputRequest("y", placement: .sharedMemory(region: "r_out", offset: 0, byteSize: 16))])
        #expect(
            String(decoding: header, as: UTF8.self)
                == #"{"inputs":[{"name":"x","shape":[2,4],"datatype":"FP32","parameters":{"shared_memory_region":"r_in","#
                + #""shared_memory_byte_size":32,"shared_memory_offset":128}}],"#
                + #""outputs":[{"name":"y","parameters":{"shared_memory_region":"r_out","shared_memory_byte_size":16}}]}"#
        )
    }

    @Test func inputSizeMustFitItsShape() {
        let short = TensorInput(name: "input_1", datatype: .fp32, shape: [1, 3], bytes: [0, 0, 0, 0])
        #expect(throws: InferenceError.local("input 'input_1' has 4 bytes, but FP32 [1,3] takes 12")) {
            try short.validate()
        }
        let negative = TensorInput(name: "x", datatype: .uint8, shape: [-1, 3], bytes: [])
        #expect(throws: InferenceError.local("input 'x' has an invalid shape [-1,3]")) { try negative.validate() }
        let filled = TensorInput(name: "x", datatype: .fp16, shape: [2, 5]) { _ in }
        #expect(filled.byteCount == 20)
    }

    @Test func datatypeNames() {
        #expect(TensorDataType(tritonName: "TYPE_FP32") == .fp32)
        #expect(TensorDataType(tritonName: "TYPE_STRING") == .bytes)
        #expect(TensorDataType(tritonName: "UINT8") == .uint8)
        #expect(TensorDataType(tritonName: "TYPE_INVALID") == nil)
        #expect(TensorDataType.int64.elementSize == 8 && TensorDataType.bytes.elementSize == nil)
    }
}

@Suite struct InferResponseTests {
    /// A binary reply: JSON header, then the outputs' bytes in order.
    static func reply(_ json: String, _ payloads: [[UInt8]]) -> (body: [UInt8], headerLength: Int) {
        let header = Array(json.utf8)
        return (header + payloads.flatMap { $0 }, header.count)
    }

    @Test func binaryOutputsFollowTheHeaderInOrder() throws {
        let cov = leBytes([0.25, 0.5, 0.75])
        let box = leBytes([1, 2, 3, 4, 5, 6])
        let (body, length) = Self.reply(
            #"{"model_name":"facenet","model_version":"1","outputs":["#
                + #"{"name":"output_cov/Sigmoid","datatype":"FP32","shape":[1,1,3],"parameters":{"binary_data_size":12}},"#
                + #"{"name":"output_bbox/BiasAdd","datatype":"FP32","shape":[1,2,3],"parameters":{"binary_data_size":24}}]}"#,
            [cov, box])
        let outputs = try InferProtocol.parseResponse(body: body, headerLength: length)
        #expect(outputs.count == 2)
        #expect(try outputs["output_cov/Sigmoid"]?.floats() == [0.25, 0.5, 0.75])
        #expect(outputs["output_bbox/BiasAdd"]?.shape == [1, 2, 3])
        #expect(try outputs["output_bbox/BiasAdd"]?.floats() == [1, 2, 3, 4, 5, 6])
        #expect(outputs["output_cov/Sigmoid"]?.elementCount == 3)
    }

    @Test func aJSONOnlyReplyCarriesTheNumbers() throws {
        let json =
            #"{"outputs":[{"name":"a","datatype":"FP32","shape":[2],"data":[1.5,-3]},"#
            + #"{"name":"b","datatype":"INT32","shape":[3],"data":[1,-2,70000]},"#
            + #"{"name":"c","datatype":"BOOL","shape":[2],"data":[true,false]},"#
            + #"{"name":"d","datatype":"UINT8","shape":[2],"data":[255,300]}]}"#
        let outputs = try InferProtocol.parseResponse(body: Array(json.utf8), headerLength: nil)
        #expect(try outputs["a"]?.floats() == [1.5, -3])
        let ints: [Int32] = [1, -2, 70000]
        #expect(outputs["b"]?.data == ints.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } })
        #expect(outputs["c"]?.data == [1, 0])
        #expect(outputs["d"]?.data == [255, 255])
    }

    @Test func sharedMemoryOutputsHaveNoBytesInTheReply() throws {
        let json =
            #"{"outputs":[{"name":"y","datatype":"FP32","shape":[1,4],"parameters":"#
            + #"{"shared_memory_region":"r","shared_memory_byte_size":16}}]}"#
        let outputs = try InferProtocol.parseResponse(body: Array(json.utf8), headerLength: nil)
        #expect(outputs["y"]?.data == [] && outputs["y"]?.shape == [1, 4])
    }

    @Test func malformedRepliesAreErrors() {
        let good = #"{"outputs":[{"name":"a","datatype":"FP32","shape":[2],"parameters":{"binary_data_size":8}}]}"#
        let header = Array(good.utf8)
        #expect(throws: InferenceError.self) {
            // Truncated binary part.
            try InferProtocol.parseResponse(body: header + [0, 0, 0], headerLength: header.count)
        }
        #expect(throws: InferenceError.self) {
            try InferProtocol.parseResponse(body: header, headerLength: header.count + 1)
        }
        #expect(throws: InferenceError.self) {
            try InferProtocol.parseResponse(body: Array("{".utf8), headerLength: nil)
        }
        #expect(throws: InferenceError.self) {
            try InferProtocol.parseResponse(body: Array("{}".utf8), headerLength: nil)
        }
        #expect(throws: InferenceError.self) {
            try InferProtocol.parseResponse(
                body: Array(#"{"outputs":[{"name":"a","datatype":"FP99","shape":[1]}]}"#.utf8), headerLength: nil)
        }
        let output = TensorOutput(name: "o", datatype: .uint8, shape: [2], data: [1, 2])
        #expect(throws: InferenceError.malformedReply("output 'o' is UINT8, not FP32")) { try output.floats() }
        let odd = TensorOutput(name: "o", datatype: .fp32, shape: [2], data: [1, 2, 3, 4])
        #expect(throws: InferenceError.malformedReply("output 'o' has 4 bytes for FP32 [2]")) { try odd.floats() }
    }

    @Test func errorBodiesGiveTheServersTextSanitized() {
        let body = Array(#"{"error":"unexpected shape for input 'input_1'\u001b[31m"}"#.utf8)
        #expect(InferProtocol.errorMessage(body) == "unexpected shape for input 'input_1'\u{FFFD}[31m")
        #expect(InferProtocol.errorMessage(Array("<html>".utf8)) == nil)
        #expect(InferProtocol.errorMessage(Array(#"{"error":5}"#.utf8)) == nil)
    }

    @Test func headerLinesAreCollectedAndANewStatusLineResetsThem() {
        let sink = ResponseSink()
        func feed(_ line: String) { Array(line.utf8).withUnsafeBytes { sink.header($0) } }
        feed("HTTP/1.1 100 Continue\r\n")
        feed("X-Old: 1\r\n")
        feed("HTTP/1.1 200 OK\r\n")
        feed("Inference-Header-Content-Length: 123\r\n")
        feed("Content-Length: 5000\r\n")
        feed("\r\n")
        #expect(sink.headers == ["inference-header-content-length": "123", "content-length": "5000"])
        #expect(sink.body.capacity >= 5000)
    }
}
