import FaceScopeCore
import Foundation
import Synchronization

/// A KServe v2 HTTP client for Triton Inference Server, over libcurl.
///
/// Safe to share between threads: each request borrows a curl handle of its own from a small
/// pool (handles keep their connections alive between requests), and the shared state is behind a mutex.
/// Calls block the calling thread until the reply arrives.
///
/// Requests go round-robin over the configured servers. A connection failure or an HTTP 503 is
/// retried with exponential back-off, on another server when there is one, a bounded number of
/// times; a server that failed is skipped for `recheckInterval` seconds. Errors Triton reports as
/// `{"error": "..."}` surface as `InferenceError` with exactly that (sanitized) text.
///
/// Tensors travel with the binary tensor data extension, or, when every server is on this host
/// and accepts a test registration, through system shared memory (see `Transport`).
public final class TritonClient: Sendable {
    /// How tensors travel to and from the server.
    public enum Transport: Sendable, Equatable {
        /// Shared memory when every server is on this host (loopback) and registering a test region
        /// succeeds; HTTP bodies otherwise. The choice and its reason are logged once.
        case automatic
        /// Always HTTP bodies (binary tensor data extension).
        case http
        /// Always shared memory; requests fail when it is not possible.
        case sharedMemory
    }

    /// What `Transport.automatic` chose.
    public enum TransportChoice: Sendable, Equatable {
        case sharedMemory
        case http(reason: String)
    }

    /// Timeouts, retries and transport.
    public struct Configuration: Sendable {
        /// Seconds to wait for a TCP connection.
        public var connectTimeout: Double
        /// Seconds a whole request may take, upload and reply included.
        public var requestTimeout: Double
        /// How many times a request that could not connect (or got HTTP 503) is tried again.
        public var maxRetries: Int
        /// The first retry's delay in seconds; it doubles with each retry, up to `maxRetryDelay`.
        public var retryDelay: Double
        /// The longest delay between retries.
        public var maxRetryDelay: Double
        /// Seconds a server that failed is skipped before it is tried again.
        public var recheckInterval: Double
        /// How tensors travel.
        public var transport: Transport
        /// Where the client says what it decided (transport choice, servers skipped); nil: silent.
        public var log: (@Sendable (String) -> Void)?

        /// The configuration; the defaults suit a server on the local network.
        public init(
            connectTimeout: Double = 3, requestTimeout: Double = 30, maxRetries: Int = 3, retryDelay: Double = 0.05,
            maxRetryDelay: Double = 1, recheckInterval: Double = 5, transport: Transport = .automatic,
            log: (@Sendable (String) -> Void)? = nil
        ) {
            self.connectTimeout = connectTimeout
            self.requestTimeout = requestTimeout
            self.maxRetries = maxRetries
            self.retryDelay = retryDelay
            self.maxRetryDelay = maxRetryDelay
            self.recheckInterval = recheckInterval
            self.transport = transport
            self.log = log
        }
    }

    /// The servers.
    public let endpoints: TritonEndpoints
    /// Timeouts, retries and transport.
    public let configuration: Configuration

    private let pool = CurlHandlePool()
    private let rotation: EndpointRotation
    private struct State {
        var choice: TransportChoice?
        var idleSlots: [SharedMemorySlot] = []
        var metadataCache: [String: ModelMetadata] = [:]
    }

    private let state = Mutex(State())
    private static let maxIdleSlots = 8

    /// A client for the given servers. Nothing is sent until the first call.
    public init(endpoints: TritonEndpoints, configuration: Configuration = Configuration()) {
        self.endpoints = endpoints
        self.configuration = configuration
        rotation = EndpointRotation(count: endpoints.endpoints.count)
    }

    /// A client for a `TRITON_SERVER_URL` value.
    /// - Throws: `InferenceError.invalidEndpoint` when the value does not parse.
    public convenience init(url: String, configuration: Configuration = Configuration()) throws(InferenceError) {
        self.init(endpoints: try TritonEndpoints.parse(url), configuration: configuration)
    }

    deinit {
        close()
    }

    /// The names of the shared-memory regions the client holds between calls (for checks like
    /// doctor's and the tests': other clients of the same process have regions of their own).
    public var sharedMemoryRegionNames: Set<String> {
        state.withLock { Set($0.idleSlots.map(\.region.name)) }
    }

    /// Unregisters and frees the shared-memory regions the client made (best effort). Calls made
    /// after this still work and make new regions.
    public func close() {
        let slots = state.withLock { state in
            defer { state.idleSlots = [] }
            return state.idleSlots
        }
        for slot in slots { discard(slot) }
    }

    // MARK: - Health and model information

    /// Whether a server is live (`GET /v2/health/live`).
    /// - Throws: `InferenceError` when no server can be reached.
    public func serverLive() throws(InferenceError) -> Bool {
        try get("/v2/health/live").status == 200
    }

    /// Whether at least one server is ready (`GET /v2/health/ready`), asking each; servers that
    /// are not ready are skipped by later requests until `recheckInterval` has passed.
    /// - Throws: `InferenceError` when no server can be reached at all.
    public func serverReady() throws(InferenceError) -> Bool {
        var ready = false
        var answered = false
        var firstError: InferenceError?
        for index in endpoints.endpoints.indices {
            switch trySend(method: "GET", path: "/v2/health/ready", only: index) {
            case .success(let (response, _)):
                answered = true
                if response.status == 200 {
                    ready = true
                } else {
                    rotation.markDown(index, for: configuration.recheckInterval)
                    note("Triton at \(endpoints.endpoints[index]) is not ready (HTTP \(response.status))")
                }
            case .failure(let failure):
                firstError = firstError ?? failure.error
            }
        }
        if !answered, let firstError { throw firstError }
        return ready
    }

    /// Whether a model is ready (`GET /v2/models/{m}[/versions/{v}]/ready`).
    /// - Throws: `InferenceError` when no server can be reached.
    public func modelReady(_ model: String, version: String? = nil) throws(InferenceError) -> Bool {
        try get(modelPath(model, version) + "/ready").status == 200
    }

    /// The server's metadata (`GET /v2`): name, version, extensions.
    public func serverMetadata() throws(InferenceError) -> JSONValue {
        try getJSON("/v2", what: "server metadata")
    }

    /// A model's metadata (`GET /v2/models/{m}[/versions/{v}]`).
    public func modelMetadata(_ model: String, version: String? = nil) throws(InferenceError) -> ModelMetadata {
        let metadata = try ModelMetadata(json: try getJSON(modelPath(model, version), what: "model metadata"))
        state.withLock { $0.metadataCache[cacheKey(model, version)] = metadata }
        return metadata
    }

    /// A model's configuration (`GET /v2/models/{m}[/versions/{v}]/config`).
    public func modelConfig(_ model: String, version: String? = nil) throws(InferenceError) -> ModelConfig {
        try ModelConfig(json: try getJSON(modelPath(model, version) + "/config", what: "model configuration"))
    }

    /// Checks a model's metadata and configuration against a contract; returns the configuration
    /// (for its `parameters`, such as `resize_mode`).
    /// - Throws: `InferenceError` naming each mismatch, or why the server could not tell.
    @discardableResult
    public func verify(model: String, version: String? = nil, contract: ModelContract) throws(InferenceError)
        -> ModelConfig
    {
        try contract.verify(try modelMetadata(model, version: version))
        let config = try modelConfig(model, version: version)
        try contract.verify(config)
        return config
    }

    // MARK: - Inference

    /// Runs a model: `POST /v2/models/{m}[/versions/{v}]/infer`. Inputs whose source is bytes or
    /// a fill closure travel the way the configuration's `transport` chose (shared memory, or the
    /// request body with the binary tensor data extension); the outputs come back the same way.
    ///
    /// - Parameters:
    ///   - model: the model's name.
    ///   - version: a version, or nil (or empty) for the server's choice.
    ///   - inputs: the input tensors, batch dimension included when the model batches.
    ///   - outputs: the names of the outputs to return.
    /// - Returns: the outputs by name, with their bytes.
    /// - Throws: `InferenceError`: the server's own error text for a refused request
    ///   (wrong shape, batch too large, ...), or why it could not be reached.
    public func infer(model: String, version: String? = nil, inputs: [TensorInput], outputs: [String])
        throws(InferenceError) -> [String: TensorOutput]
    {
        let allInBody = inputs.allSatisfy {
            if case .sharedMemory = $0.source { return false }
            return true
        }
        if allInBody, case .sharedMemory = try transport() {
            return try inferThroughSharedMemory(model: model, version: version, inputs: inputs, outputs: outputs)
        }
        return try infer(model: model, version: version, inputs: inputs, outputs: outputs.map { OutputRequest($0) })
    }

    /// Runs a model with each tensor placed as given: inputs from bytes or a fill closure go in the
    /// request body (binary tensor data extension), inputs naming a shared-memory region are read
    /// there by the server; outputs come back as binary data, JSON, or in a caller's registered
    /// shared-memory region (their `data` is then empty: read the region).
    public func infer(model: String, version: String? = nil, inputs: [TensorInput], outputs: [OutputRequest])
        throws(InferenceError) -> [String: TensorOutput]
    {
        for input in inputs { try input.validate() }
        var placed: [(input: TensorInput, placement: InferProtocol.InputPlacement)] = []
        var inBody: [TensorInput] = []
        for input in inputs {
            if case .sharedMemory(let region, let offset) = input.source {
                placed.append((input, .sharedMemory(region: region, offset: offset)))
            } else {
                placed.append((input, .binary))
                inBody.append(input)
            }
        }
        let header = InferProtocol.requestHeader(inputs: placed, outputs: outputs)
        let total = header.count + inBody.reduce(0) { $0 + $1.byteCount }
        let path = modelPath(model, version) + "/infer"
        return try pool.withHandle { (handle) throws(InferenceError) -> [String: TensorOutput] in
            let buffer = handle.requestBuffer(count: total)
            try fillInputs { () throws in try InferProtocol.writeBody(header: header, inputs: inBody, into: buffer) }
            let headers =
                inBody.isEmpty
                ? ["Content-Type: application/json"]
                : ["Content-Type: application/octet-stream", "Inference-Header-Content-Length: \(header.count)"]
            let limit = inferReplyLimit(model, version, batch: inputs.first?.shape.first ?? 1, outputs: outputs)
            let (response, endpoint) = try send(
                handle: handle, method: "POST", path: path, body: UnsafeRawBufferPointer(buffer), headers: headers,
                replyLimit: limit)
            try check(response, endpoint: endpoint, what: "inference on model '\(TerminalText.sanitize(model))'")
            return try InferProtocol.parseResponse(body: response.body, headerLength: headerLength(response))
        }
    }

    /// Which transport `infer(model:version:inputs:outputs:)` uses; decided (and logged) on the
    /// first call: for `.automatic`, shared memory when every server is on this host and accepts
    /// a test region.
    /// - Throws: `InferenceError` when `.sharedMemory` was asked for and is not possible,
    ///   or when the servers cannot be reached to find out.
    public func transport() throws(InferenceError) -> TransportChoice {
        if let decided = state.withLock({ $0.choice }) { return decided }
        let decision = try decideTransport()
        let first = state.withLock { state -> TransportChoice? in
            if let choice = state.choice { return choice }
            state.choice = decision
            return nil
        }
        if let first { return first }
        switch decision {
        case .sharedMemory:
            note("Triton: tensors travel through system shared memory (server on this host)")
        case .http(let reason):
            note("Triton: tensors travel in HTTP bodies: \(reason)")
        }
        return decision
    }

    // MARK: - System shared memory

    /// Registers a region with every server (`POST /v2/systemsharedmemory/region/{name}/register`).
    public func registerSystemSharedMemory(name: String, key: String, offset: Int = 0, byteSize: Int)
        throws(InferenceError)
    {
        for index in endpoints.endpoints.indices {
            try register(name: name, key: key, offset: offset, byteSize: byteSize, endpoint: index)
        }
    }

    /// Registers a region made by `SharedMemoryRegion` with every server, under its own name.
    public func registerSystemSharedMemory(_ region: SharedMemoryRegion) throws(InferenceError) {
        try registerSystemSharedMemory(name: region.name, key: region.key, byteSize: region.byteSize)
    }

    /// Unregisters a region from every server, or all regions when `name` is nil
    /// (`POST /v2/systemsharedmemory[/region/{name}]/unregister`).
    public func unregisterSystemSharedMemory(name: String?) throws(InferenceError) {
        for index in endpoints.endpoints.indices {
            try unregister(name: name, endpoint: index)
        }
    }

    /// The regions registered with the first server that answers (`GET /v2/systemsharedmemory/status`).
    public func systemSharedMemoryStatus() throws(InferenceError) -> [SharedMemoryStatus] {
        SharedMemoryStatus.parse(try getJSON("/v2/systemsharedmemory/status", what: "shared-memory status"))
    }

    // MARK: - Shared-memory inference

    private func decideTransport() throws(InferenceError) -> TransportChoice {
        if configuration.transport == .http { return .http(reason: "the configuration asks for HTTP") }
        let decision: TransportChoice
        if let remote = endpoints.endpoints.first(where: { !$0.isLoopback }) {
            decision = .http(reason: "\(remote) is not on this host (shared memory needs a loopback address)")
        } else {
            decision = try probeSharedMemory()
        }
        if configuration.transport == .sharedMemory, case .http(let reason) = decision {
            throw .local("shared memory was asked for, but \(reason)")
        }
        return decision
    }

    /// Registers and unregisters a small region with every server.
    private func probeSharedMemory() throws(InferenceError) -> TransportChoice {
        let region: SharedMemoryRegion
        do {
            region = try SharedMemoryRegion(byteSize: 64)
        } catch {
            return .http(reason: "no shared memory on this host (\(error))")
        }
        var unreachable: InferenceError?
        var answered = false
        for index in endpoints.endpoints.indices {
            let url = endpoints.endpoints[index]
            switch registerResult(name: region.name, key: region.key, offset: 0, byteSize: 64, endpoint: index) {
            case .unreachable(let error):
                // A server that is down now is checked when a request first goes to it.
                unreachable = unreachable ?? error
            case .refused(let message):
                return .http(reason: "\(url) refused a shared-memory region: \(message)")
            case .ok:
                answered = true
                try? unregister(name: region.name, endpoint: index, retries: 0)
            }
        }
        if !answered, let unreachable { throw unreachable }
        return .sharedMemory
    }

    private func inferThroughSharedMemory(
        model: String, version: String?, inputs: [TensorInput], outputs: [String]
    ) throws(InferenceError) -> [String: TensorOutput] {
        for input in inputs { try input.validate() }
        let metadata = try cachedMetadata(model, version)
        // Output sizes come from the metadata, with the request's batch size for a -1 batch dim.
        let batched = metadata.inputs.first?.shape.first == -1
        let batch = inputs.first?.shape.first ?? 1
        func align(_ n: Int) -> Int { (n + 63) & ~63 }
        var offset = 0
        var inputOffsets: [Int] = []
        for input in inputs {
            inputOffsets.append(offset)
            offset = align(offset + input.byteCount)
        }
        var outputPlaces: [(name: String, offset: Int, byteSize: Int)?] = []
        for name in outputs {
            guard let tensor = metadata.outputs.first(where: { $0.name == name }),
                let type = TensorDataType(tritonName: tensor.datatype), let size = type.elementSize
            else {
                outputPlaces.append(nil)
                continue
            }
            var shape = tensor.shape
            if batched, shape.first == -1 { shape[0] = batch }
            guard let count = elementCount(shape), count > 0 else {
                outputPlaces.append(nil)
                continue
            }
            outputPlaces.append((name, offset, count * size))
            offset = align(offset + count * size)
        }
        let slot = try takeSlot(minimumSize: max(offset, 64))
        defer { returnSlot(slot) }
        let region = slot.region
        for (input, start) in zip(inputs, inputOffsets) {
            let target = UnsafeMutableRawBufferPointer(rebasing: region.buffer[start..<start + input.byteCount])
            try fillInputs { () throws in try input.write(into: target) }
        }
        let placed = zip(inputs, inputOffsets).map { input, start in
            (input: input, placement: InferProtocol.InputPlacement.sharedMemory(region: region.name, offset: start))
        }
        let requests = zip(outputs, outputPlaces).map { name, place in
            guard let place else { return OutputRequest(name) }
            return OutputRequest(
                name, placement: .sharedMemory(region: region.name, offset: place.offset, byteSize: place.byteSize))
        }
        let header = InferProtocol.requestHeader(inputs: placed, outputs: requests)
        let path = modelPath(model, version) + "/infer"
        return try pool.withHandle { (handle) throws(InferenceError) -> [String: TensorOutput] in
            let buffer = handle.requestBuffer(count: header.count)
            try fillInputs { () throws in try InferProtocol.writeBody(header: header, inputs: [], into: buffer) }
            var attempt = 0
            while true {
                attempt += 1
                let (response, endpoint) = try send(
                    handle: handle, method: "POST", path: path, body: UnsafeRawBufferPointer(buffer),
                    headers: ["Content-Type: application/json"],
                    replyLimit: inferReplyLimit(model, version, batch: batch, outputs: requests),
                    prepare: { (index) throws(InferenceError) in try self.ensureRegistered(slot, endpoint: index) })
                // A server restarted since the registration has forgotten the region: register again.
                // (Triton 2.51 answers 404 "Unable to find shared memory region: '...'".)
                if response.status == 400 || response.status == 404, attempt == 1,
                    let message = InferProtocol.errorMessage(response.body)?.lowercased(),
                    message.contains("shared memory region") || message.contains("shared_memory_region")
                {
                    slot.registeredOn.remove(endpoint)
                    continue
                }
                try check(response, endpoint: endpoint, what: "inference on model '\(TerminalText.sanitize(model))'")
                var result = try InferProtocol.parseResponse(body: response.body, headerLength: headerLength(response))
                for case let (name, offset, byteSize)? in outputPlaces {
                    guard var output = result[name] else { continue }
                    let size = min(byteSize, (output.datatype.elementSize ?? 0) * output.elementCount)
                    output.data = Array(region.buffer[offset..<offset + size])
                    result[name] = output
                }
                return result
            }
        }
    }

    /// The most bytes a reply other than an inference result may have (health, metadata,
    /// configuration, shared-memory calls: a few KiB in practice).
    public static let smallReplyLimit = 4 << 20
    /// The most bytes an inference reply may have when the model's output sizes are not known.
    public static let unknownInferReplyLimit = 256 << 20

    /// The most bytes an inference reply may have: the requested outputs' sizes by the model's
    /// metadata (when the client has it: `verify` or `modelMetadata` was called), with the
    /// request's batch size and 1 MiB for the JSON header; `unknownInferReplyLimit` otherwise.
    func inferReplyLimit(_ model: String, _ version: String?, batch: Int, outputs: [OutputRequest]) -> Int {
        let cached = state.withLock { $0.metadataCache[cacheKey(model, version)] }
        guard let metadata = cached else { return Self.unknownInferReplyLimit }
        let batched = metadata.inputs.first?.shape.first == -1
        var total = 1 << 20
        for request in outputs {
            guard let tensor = metadata.outputs.first(where: { $0.name == request.name }),
                let size = TensorDataType(tritonName: tensor.datatype)?.elementSize
            else { return Self.unknownInferReplyLimit }
            var shape = tensor.shape
            if batched, shape.first == -1 { shape[0] = max(1, batch) }
            guard let count = elementCount(shape) else { return Self.unknownInferReplyLimit }
            switch request.placement {
            case .binary: total += count * size
            // Numbers as JSON text: up to ~25 characters each.
            case .json: total += count * 32
            case .sharedMemory: break
            }
        }
        return total
    }

    static func sizeText(_ bytes: Int) -> String {
        bytes >= 1 << 20 ? "\(bytes >> 20) MiB" : bytes >= 1 << 10 ? "\(bytes >> 10) KiB" : "\(bytes) bytes"
    }

    private func cachedMetadata(_ model: String, _ version: String?) throws(InferenceError) -> ModelMetadata {
        if let cached = state.withLock({ $0.metadataCache[cacheKey(model, version)] }) { return cached }
        return try modelMetadata(model, version: version)
    }

    private func cacheKey(_ model: String, _ version: String?) -> String { model + "\u{0}" + (version ?? "") }

    /// An idle region of at least `minimumSize` bytes, or a new one.
    private func takeSlot(minimumSize: Int) throws(InferenceError) -> SharedMemorySlot {
        let found = state.withLock { state -> SharedMemorySlot? in
            let slots = state.idleSlots
            guard
                let index = slots.indices.filter({ slots[$0].region.byteSize >= minimumSize })
                    .min(by: { slots[$0].region.byteSize < slots[$1].region.byteSize })
            else { return nil }
            return state.idleSlots.remove(at: index)
        }
        if let found { return found }
        // Round up to whole MiB so slightly larger batches reuse the region.
        let size = (minimumSize + (1 << 20) - 1) & ~((1 << 20) - 1)
        return try SharedMemorySlot(byteSize: size)
    }

    private func returnSlot(_ slot: SharedMemorySlot) {
        let extra = state.withLock { state -> SharedMemorySlot? in
            state.idleSlots.append(slot)
            guard state.idleSlots.count > Self.maxIdleSlots else { return nil }
            // Drop the smallest region.
            let slots = state.idleSlots
            guard let index = slots.indices.min(by: { slots[$0].region.byteSize < slots[$1].region.byteSize })
            else { return nil }
            return state.idleSlots.remove(at: index)
        }
        if let extra { discard(extra) }
    }

    private func discard(_ slot: SharedMemorySlot) {
        for index in slot.registeredOn.sorted() {
            // No retries: this runs on close and deinit, possibly with the server gone.
            try? unregister(name: slot.region.name, endpoint: index, retries: 0)
        }
        slot.registeredOn = []
    }

    private func ensureRegistered(_ slot: SharedMemorySlot, endpoint: Int) throws(InferenceError) {
        guard !slot.registeredOn.contains(endpoint) else { return }
        try register(
            name: slot.region.name, key: slot.region.key, offset: 0, byteSize: slot.region.byteSize, endpoint: endpoint)
        slot.registeredOn.insert(endpoint)
    }

    private enum RegisterResult {
        case ok
        case refused(String)
        case unreachable(InferenceError)
    }

    private func registerResult(name: String, key: String, offset: Int, byteSize: Int, endpoint: Int)
        -> RegisterResult
    {
        let body = JSONValue.object([
            ("key", .string(key)), ("offset", .int(Int64(offset))), ("byte_size", .int(Int64(byteSize))),
        ])
        let bytes = Array(body.serialized.utf8)
        let path = "/v2/systemsharedmemory/region/\(percentEncoded(name))/register"
        let result = bytes.withUnsafeBytes { raw in
            trySend(method: "POST", path: path, body: raw, headers: ["Content-Type: application/json"], only: endpoint)
        }
        switch result {
        case .failure(let failure):
            return .unreachable(failure.error)
        case .success(let (response, _)):
            if response.status == 200 { return .ok }
            return .refused(
                InferProtocol.errorMessage(response.body)
                    ?? "HTTP \(response.status)\(snippet(response.body))")
        }
    }

    private func register(name: String, key: String, offset: Int, byteSize: Int, endpoint: Int)
        throws(InferenceError)
    {
        switch registerResult(name: name, key: key, offset: offset, byteSize: byteSize, endpoint: endpoint) {
        case .ok: return
        case .unreachable(let error): throw error
        case .refused(let message):
            throw .rejected(
                "Triton at \(endpoints.endpoints[endpoint]) refused shared-memory region '\(name)': \(message)")
        }
    }

    private func unregister(name: String?, endpoint: Int, retries: Int? = nil) throws(InferenceError) {
        let path =
            name.map { "/v2/systemsharedmemory/region/\(percentEncoded($0))/unregister" }
            ?? "/v2/systemsharedmemory/unregister"
        let response = try trySend(method: "POST", path: path, only: endpoint, retries: retries).mapError(\.error).get()
            .0
        try check(response, endpoint: endpoint, what: "unregistering shared memory")
    }

    // MARK: - HTTP

    private func modelPath(_ model: String, _ version: String?) -> String {
        var path = "/v2/models/" + percentEncoded(model)
        if let version, !version.isEmpty { path += "/versions/" + percentEncoded(version) }
        return path
    }

    private func headerLength(_ response: HTTPResponse) -> Int? {
        response.headers["inference-header-content-length"].flatMap { Int($0.trimmingCharacters(in: .whitespaces)) }
    }

    /// Runs input fill closures, reporting what they throw as an inference error.
    private func fillInputs(_ body: () throws -> Void) throws(InferenceError) {
        do {
            try body()
        } catch let error as InferenceError {
            throw error
        } catch {
            throw .local("could not fill an input tensor: \(error)")
        }
    }

    private func note(_ message: String) {
        configuration.log?(message)
    }

    private func snippet(_ body: [UInt8]) -> String {
        guard !body.isEmpty else { return "" }
        let text = TerminalText.sanitize(String(decoding: body.prefix(200), as: UTF8.self))
        return ": " + text
    }

    /// Throws the server's error for a reply other than 200.
    private func check(_ response: HTTPResponse, endpoint: Int, what: String) throws(InferenceError) {
        guard response.status != 200 else { return }
        if let message = InferProtocol.errorMessage(response.body) { throw .rejected(message) }
        throw .rejected(
            "Triton at \(endpoints.endpoints[endpoint]) answered HTTP \(response.status) to \(what)\(snippet(response.body))"
        )
    }

    private func get(_ path: String) throws(InferenceError) -> HTTPResponse {
        try trySend(method: "GET", path: path).mapError(\.error).get().0
    }

    private func getJSON(_ path: String, what: String) throws(InferenceError) -> JSONValue {
        let (response, endpoint) = try trySend(method: "GET", path: path).mapError(\.error).get()
        try check(response, endpoint: endpoint, what: what)
        let parsed: Result<JSONValue, JSONParseError> = response.body.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try JSONValue.parse(bytes: buffer) }
        }
        switch parsed {
        case .success(let value): return value
        case .failure(let error):
            throw .malformedReply("Triton at \(endpoints.endpoints[endpoint]) sent invalid JSON as \(what): \(error)")
        }
    }

    /// No server answered.
    struct Unreachable: Error {
        var error: InferenceError
    }

    /// `send` with a handle from the pool.
    private func trySend(
        method: String, path: String, body: UnsafeRawBufferPointer? = nil, headers: [String] = [], only: Int? = nil,
        retries: Int? = nil
    ) -> Result<(HTTPResponse, Int), Unreachable> {
        do {
            return .success(
                try pool.withHandle { (handle) throws(InferenceError) -> (HTTPResponse, Int) in
                    try send(
                        handle: handle, method: method, path: path, body: body, headers: headers, only: only,
                        retries: retries)
                })
        } catch {
            return .failure(Unreachable(error: error))
        }
    }

    /// Sends one request, retrying connection failures and HTTP 503 with exponential back-off
    /// (on another server first, when there is one). Returns the reply (any status but 503) and
    /// the index of the server that sent it. `prepare` runs before each attempt with the chosen
    /// server's index.
    /// - Throws: `InferenceError` naming the server(s) and libcurl's reason when no
    ///   attempt got a reply.
    private func send(
        handle: CurlHandle, method: String, path: String, body: UnsafeRawBufferPointer?, headers: [String],
        only: Int? = nil, retries: Int? = nil, replyLimit: Int = TritonClient.smallReplyLimit,
        prepare: ((Int) throws(InferenceError) -> Void)? = nil
    ) throws(InferenceError) -> (HTTPResponse, Int) {
        let maxRetries = retries ?? configuration.maxRetries
        let started = ContinuousClock.now
        let servers = endpoints.endpoints
        var attempts = 0
        var tried: Set<Int> = []
        var failures: [Int: String] = [:]
        var delay = configuration.retryDelay
        while true {
            let index = only ?? rotation.select(excluding: tried)
            try prepare?(index)
            attempts += 1
            let url = servers[index].baseURL + path
            let outcome = handle.perform(
                url: url, method: method, body: body, headers: headers,
                connectTimeout: configuration.connectTimeout, timeout: configuration.requestTimeout,
                replyLimit: replyLimit)
            var failure: String
            switch outcome {
            case .success(let response) where response.status != 503:
                rotation.markUp(index)
                return (response, index)
            case .success(let response):
                failure = "HTTP 503 (unavailable)" + snippet(response.body)
            case .failure(let error) where error.tooLarge:
                throw .malformedReply(
                    "Triton at \(servers[index]) sent a reply to \(method) \(path) larger than FaceScope's "
                        + "limit of \(Self.sizeText(replyLimit)) for it; stopped reading. Is TRITON_SERVER_URL "
                        + "a Triton server, and the model the one FaceScope expects?")
            case .failure(let error) where error.notHTTP1:
                throw .malformedReply(
                    "\(servers[index]) does not answer HTTP/1.1 (it sent HTTP/2 frames): it is a gRPC port; "
                        + "FaceScope speaks HTTP: use Triton's HTTP port (8000) in TRITON_SERVER_URL")
            case .failure(let error):
                failure = error.message
                guard error.retryable else {
                    throw .transport(
                        "request to Triton at \(servers[index]) (\(method) \(path)) failed: \(TerminalText.sanitize(failure))"
                    )
                }
            }
            failures[index] = TerminalText.sanitize(failure)
            if servers.count > 1 {
                if !rotation.isDown(index) {
                    note(
                        "Triton at \(servers[index]) failed (\(failures[index] ?? "")); skipping it for "
                            + "\(configuration.recheckInterval) s")
                }
                rotation.markDown(index, for: configuration.recheckInterval)
            }
            guard attempts <= maxRetries else {
                let spent = (ContinuousClock.now - started).components
                let elapsed = Double(spent.seconds) + Double(spent.attoseconds) / 1e18
                let names = failures.keys.sorted().map { servers[$0].baseURL }.joined(separator: ", ")
                let reasons = failures.keys.sorted().map { failures[$0] ?? "" }
                let reason = Set(reasons).count == 1 ? reasons[0] : reasons.joined(separator: "; ")
                throw .unavailable(
                    "cannot reach Triton at \(names) (\(method) \(path)): \(reason); gave up after \(attempts) "
                        + "attempt\(attempts == 1 ? "" : "s") in \(String(format: "%.2f", elapsed)) s. Check "
                        + "TRITON_SERVER_URL and that the server is running.")
            }
            tried.insert(index)
            if only != nil || tried.count >= servers.count {
                // Every server failed this round: wait, then go round again.
                Thread.sleep(forTimeInterval: delay)
                delay = min(delay * 2, configuration.maxRetryDelay)
                tried = []
            }
        }
    }
}
