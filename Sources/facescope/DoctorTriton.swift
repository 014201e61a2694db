import FaceScopeCore
import FaceScopeRedis
import FaceScopeTriton

/// `facescope doctor`'s Triton checks: the server, each model against its contract, and how
/// tensors will travel.
enum TritonDoctor {
    static func checks(_ settings: Settings) -> [HealthCheck] {
        let client: TritonClient
        do {
            client = try TritonClient(
                url: settings.tritonURL,
                configuration: TritonClient.Configuration(connectTimeout: 2, requestTimeout: 10, maxRetries: 1))
        } catch {
            return [HealthCheck(name: "triton", ok: false, detail: error.description)]
        }
        defer { client.close() }
        var checks: [HealthCheck] = []
        switch Result(catching: { () throws(InferenceError) in try client.serverReady() }) {
        case .success(true):
            checks.append(HealthCheck(name: "triton", ok: true, detail: "ready at \(client.endpoints)"))
        case .success(false):
            return [HealthCheck(name: "triton", ok: false, detail: "\(client.endpoints) answers but is not ready yet")]
        case .failure(let error):
            return [HealthCheck(name: "triton", ok: false, detail: error.description)]
        }
        let version = settings.modelVersion.isEmpty ? nil : settings.modelVersion
        var models: [(String, ModelContract, Bool)] = [
            (settings.faceDetectModel, .faceNet, true), (settings.landmarkModel, .fpeNet, true),
        ]
        if !settings.recognitionModel.isEmpty { models.append((settings.recognitionModel, .faceRecognition, false)) }
        for (model, contract, required) in models {
            let name = "model " + TerminalText.sanitize(model)
            let result = Result { () throws(InferenceError) -> String in
                guard try client.modelReady(model, version: version) else { return "" }
                let config = try client.verify(model: model, version: version, contract: contract)
                var detail = "ready, matches the \(contract.role) contract, max batch \(config.maxBatchSize)"
                if let mode = config.parameters["resize_mode"] { detail += ", resize_mode \(mode)" }
                return detail
            }
            switch result {
            case .success(""):
                checks.append(
                    HealthCheck(
                        name: name, ok: !required,
                        detail: required ? "not ready on the server" : "not on the server: faces get no descriptors"))
            case .success(let detail):
                checks.append(HealthCheck(name: name, ok: true, detail: detail))
            case .failure(let error):
                checks.append(HealthCheck(name: name, ok: false, detail: error.description))
            }
        }
        switch Result(catching: { () throws(InferenceError) in try client.transport() }) {
        case .success(.sharedMemory):
            checks.append(HealthCheck(name: "tensor transport", ok: true, detail: "system shared memory (same host)"))
        case .success(.http(let reason)):
            checks.append(HealthCheck(name: "tensor transport", ok: true, detail: "HTTP bodies: \(reason)"))
        case .failure(let error):
            checks.append(HealthCheck(name: "tensor transport", ok: false, detail: error.description))
        }
        return checks
    }
}
