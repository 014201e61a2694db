import ArgumentParser
import FaceScopeCore
import FaceScopeRedis
import FaceScopeTUI
import Foundation

struct DoctorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check the setup: Redis (version, modules, indexes), Triton (models, contracts), graphics.",
        discussion: "Exits 1 when a check fails, with what to do about it.")

    @OptionGroup var store: StoreOptions

    @Flag(name: .long, help: "Print the checks as JSON.")
    var json = false

    static func storeChecks(_ settings: Settings) -> [HealthCheck] {
        let result = Result { () throws(StoreError) -> [HealthCheck] in
            let store = try RedisStore.open(settings: settings, access: .read)
            return try store.healthChecks() + [try documentCheck(store)]
        }
        switch result {
        case .success(let checks): return checks
        case .failure(let error): return [HealthCheck(name: "redis", ok: false, detail: error.description)]
        }
    }

    /// Reads every stored document (page by page, from the keys) and reports those FaceScope
    /// cannot read.
    static func documentCheck(_ store: RedisStore) throws(StoreError) -> HealthCheck {
        var total = 0
        try store.forEachStoredDocument { total += $0.count }
        let skipped = store.skippedDocuments()
        if skipped.isEmpty {
            return HealthCheck(name: "documents", ok: true, detail: "\(total) documents, every one readable")
        }
        let examples = skipped.prefix(3).map { "\(TerminalText.sanitize($0.key)) (\($0.reason))" }
        return HealthCheck(
            name: "documents", ok: false,
            detail: "\(skipped.count) of \(total + skipped.count) documents cannot be read and are skipped by "
                + "every command: \(examples.joined(separator: "; "))\(skipped.count > 3 ? "; …" : ""); "
                + "fix or delete them with the tool that wrote them")
    }

    /// What the terminal browser would draw pictures with here, and why (never a failure:
    /// symbols work everywhere).
    static func graphicsCheck(_ environment: [String: String]) -> HealthCheck {
        let detected = GraphicsDetector.detect(choice: .auto, environment: environment)
        return HealthCheck(
            name: "terminal graphics", ok: true,
            detail: "\(detected.mode.rawValue): \(detected.reason) (browse --graphics symbols|sixel|kitty forces one)")
    }

    static func json(_ checks: [HealthCheck]) -> JSONValue {
        JSONValue.array(
            checks.map {
                .object([("check", .string($0.name)), ("ok", .bool($0.ok)), ("detail", .string($0.detail))])
            })
    }

    @Option(
        name: .customLong("triton-url"),
        help: ArgumentHelp("Triton HTTP endpoint(s) (TRITON_SERVER_URL).", valueName: "url"))
    var tritonURL: String?

    @Flag(name: .customLong("no-triton"), help: "Check Redis only (for browsing stored results without Triton).")
    var skipTriton = false

    func run() throws {
        let settings: Settings
        do {
            settings = try store.settings(tritonURL.map { [.tritonURL: $0] } ?? [:])
        } catch let error as FaceScopeError where json {
            // Bad settings are a failed check too, in the JSON asked for.
            print(Self.json([HealthCheck(name: "settings", ok: false, detail: error.description)]).serialized)
            throw ExitCode(error.exitCode)
        }
        var checks: [HealthCheck] = [
            HealthCheck(
                name: "settings", ok: true,
                detail: "Redis \(settings.redis), key prefix \(settings.keyPrefix)")
        ]
        checks += DoctorCommand.storeChecks(settings)
        if !skipTriton { checks += TritonDoctor.checks(settings) }
        checks.append(DoctorCommand.graphicsCheck(ProcessInfo.processInfo.environment))
        if json {
            print(Self.json(checks).serialized)
        } else {
            for check in checks {
                print(
                    "\(check.ok ? "ok  " : "FAIL")  \(TerminalText.pad(check.name, columns: 20)) \(TerminalText.sanitize(check.detail))"
                )
            }
        }
        if checks.contains(where: { !$0.ok }) { throw ExitCode(1) }
    }
}
