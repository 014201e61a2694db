import FaceScopeCore
import Foundation
import Testing

@testable import FaceScopeTriton

/// The real Triton these tests talk to: `FACESCOPE_TRITON_URL` (e.g. 127.0.0.1:18000, as
/// `scripts/services.sh start triton` serves the CPU backend). Unset, the tests are skipped;
/// with `FACESCOPE_REQUIRE_SERVICES=1` they fail instead.
enum LiveTriton {
    static let environment = ProcessInfo.processInfo.environment
    static let url = environment["FACESCOPE_TRITON_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let required = environment["FACESCOPE_REQUIRE_SERVICES"] == "1"
    static let enabled = url != nil || required

    struct NotConfigured: Error, CustomStringConvertible {
        var description: String {
            "FACESCOPE_REQUIRE_SERVICES=1 but FACESCOPE_TRITON_URL is not set (start the server with "
                + "scripts/services.sh start triton and export FACESCOPE_TRITON_URL=127.0.0.1:18000)"
        }
    }

    static func client(_ transport: TritonClient.Transport = .automatic, log: Log? = nil) throws -> TritonClient {
        guard let url else { throw NotConfigured() }
        var configuration = TritonClient.Configuration(requestTimeout: 60, transport: transport)
        if let log {
            configuration.log = { line in log.add(line) }
        }
        return try TritonClient(url: url, configuration: configuration)
    }
}

/// Log lines a client wrote.
final class Log: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func add(_ line: String) {
        lock.lock()
        storage.append(line)
        lock.unlock()
    }
    var lines: [String] {
        lock.lock()
        defer { lock.unlock() }
        return storage
    }
}

/// A deterministic pattern of bytes (so the models see something other than zeros).
func pattern(_ count: Int, seed: Int) -> [UInt8] {
    (0..<count).map { i in UInt8(truncatingIfNeeded: (i &* 2_654_435_761 &+ seed &* 40503) >> 7) }
}

/// A FaceNet input of zeros for `batch` frames, written straight into the client's buffer.
func zeroFrames(_ batch: Int) -> TensorInput {
    TensorInput(name: "input_1", datatype: .fp32, shape: [batch, 3, 416, 736]) { buffer in
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }
}

@Suite(
    .enabled(if: LiveTriton.enabled, "set FACESCOPE_TRITON_URL (e.g. 127.0.0.1:18000) to test against a real Triton"),
    .serialized)
struct LiveTritonTests {
    @Test func serverAndModelsAreReady() throws {
        let client = try LiveTriton.client()
        #expect(try client.serverLive())
        #expect(try client.serverReady())
        for model in ["facenet", "fpenet", "facerec"] {
            #expect(try client.modelReady(model), "\(model)")
            #expect(try client.modelReady(model, version: "1"), "\(model) v1")
        }
        #expect(try !client.modelReady("no-such-model"))
        #expect(try client.serverMetadata()["name"]?.stringValue == "triton")
    }

    @Test func modelsFitTheirContracts() throws {
        let client = try LiveTriton.client()
        let config = try client.verify(model: "facenet", contract: .faceNet)
        #expect(config.parameters["resize_mode"] == "letterbox")
        #expect(config.maxBatchSize >= 1)
        try client.verify(model: "fpenet", contract: .fpeNet)
        try client.verify(model: "facerec", version: "1", contract: .faceRecognition)
        // The wrong contract names the difference.
        #expect(throws: InferenceError.self) { try client.verify(model: "fpenet", contract: .faceNet) }
        do {
            _ = try client.modelMetadata("no-such-model")
            Issue.record("metadata of a missing model")
        } catch {
            #expect(error.description.contains("no-such-model"), "\(error)")
        }
    }

    @Test func faceNetOnZeroFramesGivesFullSizedEmptyGrids() throws {
        let client = try LiveTriton.client(.http)
        let outputs = try client.infer(
            model: "facenet", inputs: [zeroFrames(2)], outputs: ["output_cov/Sigmoid", "output_bbox/BiasAdd"])
        let cov = try #require(outputs["output_cov/Sigmoid"])
        let box = try #require(outputs["output_bbox/BiasAdd"])
        #expect(cov.shape == [2, 1, 26, 46] && cov.data.count == 2 * GridBox.coverageCount * 4)
        #expect(box.shape == [2, 4, 26, 46] && box.data.count == 2 * GridBox.boxCount * 4)
        let transform = ImageTransform.letterbox(imageWidth: 736, imageHeight: 416)
        for image in 0..<2 {
            #expect(
                try GridBox.faces(coverage: cov.floats(), boxes: box.floats(), imageIndex: image, transform: transform)
                    .isEmpty)
        }
    }

    @Test func aWrongShapeSurfacesTritonsMessage() throws {
        let client = try LiveTriton.client(.http)
        let input = TensorInput(name: "input_1", shape: [1, 3, 100, 100], floats: [Float](repeating: 0, count: 30_000))
        do {
            _ = try client.infer(model: "facenet", inputs: [input], outputs: ["output_cov/Sigmoid"])
            Issue.record("a wrong shape was accepted")
        } catch {
            guard error.kind == .rejected else {
                Issue.record("not the server's refusal: \(error)")
                return
            }
            let message = error.message
            #expect(
                message.contains(
                    "unexpected shape for input 'input_1' for model 'facenet'. Expected [-1,3,416,736], got [1,3,100,100]"
                ),
                "\(message)")
        }
        // A batch over max_batch_size is refused the same way.
        let config = try client.modelConfig("fpenet")
        let n = config.maxBatchSize + 1
        let big = TensorInput(name: "input_face_images", datatype: .fp32, shape: [n, 1, 80, 80]) {
            $0.initializeMemory(as: UInt8.self, repeating: 0)
        }
        #expect(throws: InferenceError.self) {
            try client.infer(model: "fpenet", inputs: [big], outputs: ["softargmax"])
        }
    }

    @Test func sharedMemoryGivesTheSameOutputsAsHTTP() throws {
        let log = Log()
        let shm = try LiveTriton.client(.automatic, log: log)
        let http = try LiveTriton.client(.http)
        #expect(try shm.transport() == .sharedMemory)
        #expect(log.lines.contains { $0.contains("shared memory") }, "\(log.lines)")
        #expect(try http.transport() == .http(reason: "the configuration asks for HTTP"))

        let chips = pattern(2 * 150 * 150 * 3, seed: 1)
        let faces = (0..<(3 * 80 * 80)).map { (i: Int) -> Float in Float((i * 37) % 256) }
        let frames = (0..<(3 * 416 * 736)).map { (i: Int) -> Float in
            let level: Int = (i / 736 + i % 736) % 256
            return Float(level) / 255
        }
        let cases: [(String, () -> TensorInput, [String])] = [
            (
                "facerec",
                { TensorInput(name: "input_chip", datatype: .uint8, shape: [2, 150, 150, 3], bytes: chips) },
                ["embedding"]
            ),
            (
                "fpenet", { TensorInput(name: "input_face_images", shape: [3, 1, 80, 80], floats: faces) },
                ["softargmax", "softargmax:1"]
            ),
            (
                "facenet", { TensorInput(name: "input_1", shape: [1, 3, 416, 736], floats: frames) },
                ["output_cov/Sigmoid", "output_bbox/BiasAdd"]
            ),
        ]
        for (model, input, outputs) in cases {
            let a = try http.infer(model: model, inputs: [input()], outputs: outputs)
            let b = try shm.infer(model: model, inputs: [input()], outputs: outputs)
            #expect(a.count == outputs.count)
            #expect(a == b, "\(model)")
            for name in outputs { #expect(a[name]?.data.isEmpty == false, "\(model) \(name)") }
        }
        // The embedding is a real one: 128 numbers of unit-ish length.
        let embedding = try #require(
            try http.infer(model: "facerec", inputs: [cases[0].1()], outputs: ["embedding"])["embedding"])
        let v = try embedding.floats()
        #expect(v.count == 256)
        #expect(v.prefix(128).reduce(0) { $0 + $1 * $1 } > 0.1)

        // A server that forgot the client's regions (restarted) gets them registered again. (Other
        // tests of this process have regions of their own, in use at the same time: only this
        // client's are touched.)
        let mine = shm.sharedMemoryRegionNames
        #expect(!mine.isEmpty)
        for name in mine { try http.unregisterSystemSharedMemory(name: name) }
        let again = try shm.infer(model: "facerec", inputs: [cases[0].1()], outputs: ["embedding"])
        #expect(again["embedding"] == embedding)

        // The region is registered while the client lives, and gone after close().
        let held = shm.sharedMemoryRegionNames
        #expect(try shm.systemSharedMemoryStatus().contains { held.contains($0.name) })
        shm.close()
        let left = try http.systemSharedMemoryStatus().filter { held.contains($0.name) }
        #expect(left.isEmpty, "\(left)")
    }

    @Test func concurrentCallsShareOneClient() throws {
        let shm = try LiveTriton.client(.automatic)
        let http = try LiveTriton.client(.http)
        let inputs = (0..<6).map { i in pattern(80 * 80 * 4, seed: i) }
        @Sendable func faces(_ i: Int) -> TensorInput {
            TensorInput(name: "input_face_images", datatype: .fp32, shape: [1, 1, 80, 80], bytes: inputs[i])
        }
        let expected = try (0..<6).map { i in
            try http.infer(model: "fpenet", inputs: [faces(i)], outputs: ["softargmax"])
        }
        let results = Log()
        DispatchQueue.concurrentPerform(iterations: 6) { i in
            do {
                let got = try shm.infer(model: "fpenet", inputs: [faces(i)], outputs: ["softargmax"])
                if got != expected[i] { results.add("\(i): different outputs") }
            } catch {
                results.add("\(i): \(error)")
            }
        }
        #expect(results.lines.isEmpty, "\(results.lines)")
    }

    @Test func explicitSharedMemoryRegions() throws {
        let client = try LiveTriton.client(.http)
        let region = try SharedMemoryRegion(byteSize: 1 << 20)
        try client.registerSystemSharedMemory(region)
        defer { try? client.unregisterSystemSharedMemory(name: region.name) }
        #expect(try client.systemSharedMemoryStatus().contains { $0.name == region.name && $0.byteSize == 1 << 20 })
        let chip = pattern(150 * 150 * 3, seed: 7)
        chip.withUnsafeBytes { region.buffer.copyMemory(from: $0) }
        let outputs = try client.infer(
            model: "facerec",
            inputs: [
                TensorInput(
                    name: "input_chip", datatype: .uint8, shape: [1, 150, 150, 3], sharedMemoryRegion: region.name)
            ],
            outputs: [
                OutputRequest("embedding", placement: .sharedMemory(region: region.name, offset: 65536, byteSize: 512))
            ])
        #expect(outputs["embedding"]?.shape == [1, 128] && outputs["embedding"]?.data == [])
        let fromRegion = Array(region.buffer[65536..<(65536 + 512)])
        let viaHTTP = try client.infer(
            model: "facerec",
            inputs: [TensorInput(name: "input_chip", datatype: .uint8, shape: [1, 150, 150, 3], bytes: chip)],
            outputs: ["embedding"])
        #expect(viaHTTP["embedding"]?.data == fromRegion)
    }

    @Test func aServerThatIsDownIsSkipped() throws {
        guard let url = LiveTriton.url else { throw LiveTriton.NotConfigured() }
        let log = Log()
        let client = try TritonClient(
            url: "127.0.0.1:1,\(url)", configuration: .init(transport: .http, log: { log.add($0) }))
        for _ in 0..<6 { #expect(try client.modelReady("facenet")) }
        #expect(try client.serverReady())
        // One failure, then the down server is skipped for recheckInterval (logged once).
        #expect(
            log.lines.filter { $0.contains("http://127.0.0.1:1") && $0.contains("skipping it") }.count == 1,
            "\(log.lines)")
    }

    /// Prints round-trip times (not a pass/fail check): the same requests over HTTP bodies and
    /// over shared memory, averaged over a few calls after a warm-up. Runs with
    /// `FACESCOPE_TRITON_BENCH=1` (it takes about half a minute on the CPU backend).
    @Test(.enabled(if: LiveTriton.environment["FACESCOPE_TRITON_BENCH"] == "1", "set FACESCOPE_TRITON_BENCH=1"))
    func measureHTTPAndSharedMemoryLatency() throws {
        let http = try LiveTriton.client(.http)
        let shm = try LiveTriton.client(.sharedMemory)
        func milliseconds(_ client: TritonClient, _ n: Int, _ call: (TritonClient) throws -> Void) throws -> Double {
            try call(client)
            let start = ContinuousClock.now
            for _ in 0..<n { try call(client) }
            let d = (ContinuousClock.now - start).components
            return (Double(d.seconds) + Double(d.attoseconds) / 1e18) * 1000 / Double(n)
        }
        let ready = try milliseconds(http, 50) { _ = try $0.modelReady("facenet") }
        print("GET model ready (kept-alive connection): \(String(format: "%.2f", ready)) ms")
        let cases: [(String, Int, String, () -> TensorInput, [String])] = [
            ("facenet", 1, "input_1", { zeroFrames(1) }, ["output_cov/Sigmoid", "output_bbox/BiasAdd"]),
            ("facenet", 4, "input_1", { zeroFrames(4) }, ["output_cov/Sigmoid", "output_bbox/BiasAdd"]),
            (
                "fpenet", 16, "",
                {
                    TensorInput(name: "input_face_images", datatype: .fp32, shape: [16, 1, 80, 80]) {
                        $0.initializeMemory(as: UInt8.self, repeating: 0)
                    }
                }, ["softargmax", "softargmax:1"]
            ),
            (
                "facerec", 16, "",
                {
                    TensorInput(name: "input_chip", datatype: .uint8, shape: [16, 150, 150, 3]) {
                        $0.initializeMemory(as: UInt8.self, repeating: 0)
                    }
                }, ["embedding"]
            ),
        ]
        // The transport alone: a full-size frame the server refuses once it has parsed the request
        // (an input name the model lacks), so no model code runs.
        for batch in [1, 4] {
            let frames = TensorInput(name: "no_such_input", datatype: .fp32, shape: [batch, 3, 416, 736]) {
                $0.initializeMemory(as: UInt8.self, repeating: 0)
            }
            func refused(_ client: TritonClient) {
                _ = try? client.infer(model: "facenet", inputs: [frames], outputs: ["output_cov/Sigmoid"])
            }
            let h = try milliseconds(http, 20) { refused($0) }
            let s = try milliseconds(shm, 20) { refused($0) }
            print(
                "facenet batch \(batch) request refused after parsing (transport only): HTTP "
                    + "\(String(format: "%.1f", h)) ms, shared memory \(String(format: "%.1f", s)) ms")
        }
        for (model, batch, _, input, outputs) in cases {
            let n = model == "facenet" ? 5 : 10
            let h = try milliseconds(http, n) { _ = try $0.infer(model: model, inputs: [input()], outputs: outputs) }
            let s = try milliseconds(shm, n) { _ = try $0.infer(model: model, inputs: [input()], outputs: outputs) }
            print(
                "\(model) batch \(batch) (\(input().byteCount) input bytes) round trip: HTTP "
                    + "\(String(format: "%.1f", h)) ms, shared memory \(String(format: "%.1f", s)) ms")
        }
    }
}

@Suite struct UnreachableServerTests {
    @Test func aDownServerGivesAClearErrorAfterBoundedFastRetries() throws {
        let client = try TritonClient(url: "127.0.0.1:1", configuration: .init(connectTimeout: 1, maxRetries: 3))
        let start = ContinuousClock.now
        do {
            _ = try client.serverReady()
            Issue.record("port 1 answered")
        } catch {
            let elapsed = ContinuousClock.now - start
            let text = error.description
            #expect(text.contains("cannot reach Triton at http://127.0.0.1:1 (GET /v2/health/ready)"), "\(text)")
            #expect(text.contains("gave up after 4 attempts"), "\(text)")
            #expect(text.contains("TRITON_SERVER_URL"), "\(text)")
            #expect(elapsed < .seconds(2), "\(elapsed)")
            #expect(elapsed > .milliseconds(300), "back-off 50 + 100 + 200 ms: \(elapsed)")
        }
        // Inference fails the same way (the transport choice needs the server too).
        let error = #expect(throws: InferenceError.self) {
            try client.infer(model: "facenet", inputs: [zeroFrames(1)], outputs: ["x"])
        }
        #expect(error?.kind == .unavailable)
    }
}
