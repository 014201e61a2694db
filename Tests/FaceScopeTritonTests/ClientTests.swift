import FaceScopeCore
import Foundation
import Testing

@testable import FaceScopeTriton

/// The client against a scripted local HTTP server: what goes over the wire, retries, errors.
@Suite struct ClientTests {
    static func client(_ url: String, retries: Int = 3, transport: TritonClient.Transport = .http, log: Log? = nil)
        throws
        -> TritonClient
    {
        var configuration = TritonClient.Configuration(
            connectTimeout: 1, requestTimeout: 5, maxRetries: retries, retryDelay: 0.01, transport: transport)
        if let log { configuration.log = { line in log.add(line) } }
        return try TritonClient(url: url, configuration: configuration)
    }

    static let ok = FakeHTTPServer.Response(status: 200)

    @Test func inferSendsOneBinaryBodyWithoutExpectAndParsesTheReply() throws {
        let replyHeader = Array(
            (#"{"model_name":"facenet","outputs":[{"name":"out","datatype":"FP32","shape":[1,2],"#
                + #""parameters":{"binary_data_size":8}}]}"#).utf8)
        let reply = FakeHTTPServer.Response(
            status: 200,
            headers: [
                ("Content-Type", "application/octet-stream"),
                ("Inference-Header-Content-Length", "\(replyHeader.count)"),
            ],
            body: replyHeader + leBytes([0.5, 2]))
        let server = try FakeHTTPServer(responses: [reply])
        let client = try Self.client(server.url)
        // 1.2 MB: over the 1 MiB at which libcurl would otherwise send `Expect: 100-continue`.
        let count = 300_000
        let input = TensorInput(name: "input_1", datatype: .fp32, shape: [1, count]) { buffer in
            let floats = buffer.bindMemory(to: Float.self)
            for i in 0..<count { floats[i] = Float(i) }
        }
        let outputs = try client.infer(model: "facenet", version: "2", inputs: [input], outputs: ["out"])
        #expect(try outputs["out"]?.floats() == [0.5, 2])

        let request = try #require(server.requests.first)
        #expect(request.method == "POST" && request.path == "/v2/models/facenet/versions/2/infer")
        #expect(request.headers["expect"] == nil)
        #expect(request.headers["content-type"] == "application/octet-stream")
        let headerLength = try #require(request.headers["inference-header-content-length"].flatMap { Int($0) })
        let header = try JSONValue.parse(String(decoding: request.body[0..<headerLength], as: UTF8.self))
        #expect(header["inputs"]?.arrayValue?.first?["parameters"]?["binary_data_size"] == .int(Int64(count * 4)))
        #expect(header["outputs"]?.arrayValue?.first?["parameters"]?["binary_data"] == .bool(true))
        #expect(request.body.count == headerLength + count * 4)
        let sent = request.body[headerLength...].withUnsafeBytes { raw in
            (0..<count).allSatisfy { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) == Float($0) }
        }
        #expect(sent)
    }

    @Test func aJSONOnlyReplyIsParsedToo() throws {
        let server = try FakeHTTPServer(responses: [
            .json(200, #"{"outputs":[{"name":"out","datatype":"FP32","shape":[2],"data":[1.0,-1.5]}]}"#)
        ])
        let client = try Self.client(server.url)
        let outputs = try client.infer(
            model: "m", inputs: [TensorInput(name: "i", shape: [1], floats: [1])],
            outputs: [OutputRequest("out", placement: .json)])
        #expect(try outputs["out"]?.floats() == [1, -1.5])
    }

    @Test func http503IsRetriedWithBackOff() throws {
        let server = try FakeHTTPServer(responses: [.json(503, "{}"), .json(503, "{}"), Self.ok])
        let client = try Self.client(server.url)
        #expect(try client.modelReady("facenet"))
        #expect(server.requests.count == 3)
        #expect(server.requests.allSatisfy { $0.path == "/v2/models/facenet/ready" })
    }

    @Test func persistent503GivesUpAfterTheRetries() throws {
        let server = try FakeHTTPServer(responses: [], fallback: .json(503, #"{"error":"overloaded"}"#))
        let client = try Self.client(server.url, retries: 2)
        let error = #expect(throws: InferenceError.self) { try client.modelConfig("facenet") }
        #expect(error?.kind == .unavailable, "a server answering 503 is away for now: a batch pauses for it")
        #expect(server.requests.count == 3)
        do {
            _ = try client.modelConfig("facenet")
        } catch {
            #expect(error.description.contains("HTTP 503"), "\(error)")
            #expect(error.description.contains(server.url), "\(error)")
        }
    }

    @Test func anErrorReplyIsExactlyTheServersSanitizedMessage() throws {
        let server = try FakeHTTPServer(responses: [
            .json(400, #"{"error":"unexpected shape for input 'input_1'\u001b[2J"}"#),
            FakeHTTPServer.Response(status: 404, body: Array("not here".utf8)),
        ])
        let client = try Self.client(server.url)
        let input = TensorInput(name: "input_1", shape: [1], floats: [0])
        #expect(throws: InferenceError.rejected("unexpected shape for input 'input_1'\u{FFFD}[2J")) {
            try client.infer(model: "facenet", inputs: [input], outputs: ["o"])
        }
        #expect(
            throws: InferenceError.rejected(
                "Triton at http://\(server.url) answered HTTP 404 to model metadata: not here")
        ) {
            try client.modelMetadata("facenet")
        }
        #expect(server.requests.count == 2, "errors other than 503 are not retried")
    }

    @Test func connectionsAreKeptAlive() throws {
        let server = try FakeHTTPServer(responses: [], fallback: Self.ok)
        let client = try Self.client(server.url)
        for _ in 0..<5 { #expect(try client.serverLive()) }
        #expect(server.requests.count == 5)
        #expect(server.connections == 1)
    }

    @Test func oneClientServesManyThreads() throws {
        let server = try FakeHTTPServer(responses: [], fallback: Self.ok)
        let client = try Self.client(server.url)
        let failures = Log()
        DispatchQueue.concurrentPerform(iterations: 32) { i in
            do {
                if try !client.modelReady("m\(i)") { failures.add("m\(i) not ready") }
            } catch {
                failures.add("\(error)")
            }
        }
        #expect(failures.lines.isEmpty, "\(failures.lines)")
        #expect(Set(server.requests.map(\.path)).count == 32)
        #expect(server.connections <= 32)
    }

    @Test func requestsGoRoundRobin() throws {
        let a = try FakeHTTPServer(responses: [], fallback: Self.ok)
        let b = try FakeHTTPServer(responses: [], fallback: Self.ok)
        let client = try Self.client("\(a.url),http://\(b.url)")
        for _ in 0..<6 { _ = try client.modelReady("m") }
        #expect(a.requests.count == 3 && b.requests.count == 3)
    }

    @Test func automaticTransportExplainsWhyItUsesHTTP() throws {
        // A server that refuses the shared-memory API (PyTriton without its access token does).
        let server = try FakeHTTPServer(responses: [
            .json(403, #"{"error":"This API is restricted, expecting header 'triton-access-token'"}"#)
        ])
        let log = Log()
        let client = try Self.client(server.url, transport: .automatic, log: log)
        let choice = try client.transport()
        #expect(
            choice
                == .http(
                    reason:
                        "http://\(server.url) refused a shared-memory region: This API is restricted, expecting header "
                        + "'triton-access-token'"))
        #expect(
            log.lines == [
                "Triton: tensors travel in HTTP bodies: http://\(server.url) refused a shared-memory region: "
                    + "This API is restricted, expecting header 'triton-access-token'"
            ])
        #expect(server.requests.first?.path.hasPrefix("/v2/systemsharedmemory/region/facescope_") == true)
        // Decided once.
        #expect(try client.transport() == choice)
        #expect(server.requests.count == 1)

        // A remote server: no probe at all.
        let remote = try Self.client("10.255.255.1:8000,127.0.0.1:1", transport: .automatic)
        #expect(
            try remote.transport()
                == .http(
                    reason: "http://10.255.255.1:8000 is not on this host (shared memory needs a loopback address)"))
        let forced = try Self.client("10.255.255.1:8000", transport: .sharedMemory)
        #expect(throws: InferenceError.self) { try forced.transport() }
    }

    @Test func sharedMemoryRegionsAreUniqueAndUnlinked() throws {
        let a = try SharedMemoryRegion(byteSize: 4096)
        var key = ""
        do {
            let b = try SharedMemoryRegion(byteSize: 100)
            #expect(a.key != b.key && a.name != b.name)
            #expect(a.key.hasPrefix("/facescope-\(getpid())-"))
            b.buffer.storeBytes(of: 42, toByteOffset: 99, as: UInt8.self)
            #expect(b.buffer[99] == 42 && b.buffer[0] == 0)
            key = b.key
            #expect(FileManager.default.fileExists(atPath: "/dev/shm" + key))
        }
        #expect(!FileManager.default.fileExists(atPath: "/dev/shm" + key))
        #expect(throws: InferenceError.self) { try SharedMemoryRegion(byteSize: 0) }
    }
}

/// Replies larger than they can be: cut off at a limit, with an error naming the server and it.
@Suite struct ReplyLimitTests {
    static let twoGiB = 2 << 30

    @Test(arguments: [true, false])
    func aHugeMetadataReplyIsCutOffAtTheSmallLimit(announcesLength: Bool) throws {
        let server = try FakeHTTPServer(
            responses: [
                FakeHTTPServer.Response(
                    status: 200, headers: [("Content-Type", "application/json")], streamed: Self.twoGiB,
                    announcesLength: announcesLength)
            ])
        let client = try ClientTests.client(server.url)
        do {
            _ = try client.modelMetadata("facenet")
            Issue.record("a 2 GiB reply was accepted")
        } catch {
            let text = error.description
            #expect(text.contains("Triton at http://\(server.url) sent a reply to GET /v2/models/facenet"), "\(text)")
            #expect(text.contains("larger than FaceScope's limit of 4 MiB"), "\(text)")
        }
        // Not retried: one request.
        #expect(server.requests.count == 1)
    }

    @Test func anInferenceReplyIsLimitedByTheModelsOutputSizes() throws {
        let metadata = FakeHTTPServer.Response.json(
            200,
            #"{"name":"m","inputs":[{"name":"i","datatype":"FP32","shape":[-1,1]}],"#
                + #""outputs":[{"name":"out","datatype":"FP32","shape":[-1,2]}]}"#)
        let server = try FakeHTTPServer(responses: [
            metadata,
            FakeHTTPServer.Response(status: 200, streamed: Self.twoGiB, announcesLength: false),
        ])
        let client = try ClientTests.client(server.url)
        _ = try client.modelMetadata("m")
        #expect(client.inferReplyLimit("m", nil, batch: 4, outputs: [OutputRequest("out")]) == (1 << 20) + 32)
        do {
            _ = try client.infer(
                model: "m", inputs: [TensorInput(name: "i", shape: [4, 1], floats: [1, 2, 3, 4])],
                outputs: [OutputRequest("out")])
            Issue.record("a 2 GiB reply was accepted")
        } catch {
            #expect(error.description.contains("POST /v2/models/m/infer larger than FaceScope's limit of 1 MiB"))
        }
    }
}
