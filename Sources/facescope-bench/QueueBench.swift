import FaceScopeCore
import FaceScopeRedis
import Foundation

/// The detection queue: images/s with 1, 2 and 4 `facescope worker` processes against one and
/// two Triton servers, against `facescope detect` on the same files in the same round (the
/// reference), how busy the servers were (Triton's statistics: compute time over wall time),
/// and the queue's own cost per image (enqueue + take + acknowledge, no detection).
///
/// Options: `facescope-bench queue --help` (without `--second-triton` the two-server rows are left
/// out).
struct QueueBench {
    let binary: String
    let redisURL: String
    let tritonURLs: [String]
    let files: Int
    let rounds: Int
    let workerCounts: [Int]
    let photo: String

    /// One measured run: wall seconds, the servers' compute seconds (Triton's statistics) and
    /// CPU seconds (their processes on this machine) meanwhile.
    struct Sample {
        var seconds: Double
        var compute: Double
        var cpu: Double
    }

    func run() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("facescope-queue-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for i in 0..<files {
            let target = folder.appendingPathComponent(String(format: "photo-%03d.jpg", i))
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: URL(fileURLWithPath: photo), to: target)
        }
        print(
            "FaceScope queue benchmark: \(files) copies of \(photo) per run, \(rounds) rounds, Triton \(tritonURLs.joined(separator: " + ")), Redis \(redisURL)"
        )
        print("")
        var configurations: [(servers: Int, workers: Int)] = []
        for servers in 1...tritonURLs.count {
            for workers in workerCounts { configurations.append((servers, workers)) }
        }
        var reference: [Sample] = []
        var samples: [[Sample]] = Array(repeating: [], count: configurations.count)
        for round in 0..<rounds {
            // The reference: `detect` on the same files through the first server.
            reference.append(
                try measure(servers: 1) { prefix in
                    try spawnAll([["detect", "--force", folder.path]], prefix: prefix, servers: 1, images: folder.path)
                })
            for (index, configuration) in configurations.enumerated() {
                samples[index].append(
                    try measure(servers: configuration.servers) { prefix in
                        try spawnAll([["enqueue", folder.path]], prefix: prefix, servers: 1, images: folder.path)
                        let workers = Array(repeating: ["worker"], count: configuration.workers)
                        try spawnAll(workers, prefix: prefix, servers: configuration.servers, images: folder.path)
                    })
            }
            let line = samples.map { Bench.fmt(Double(files) / ($0.last?.seconds ?? .nan)) }.joined(separator: ", ")
            FileHandle.standardError.write(
                Data(
                    "round \(round + 1): detect \(Bench.fmt(Double(files) / (reference.last?.seconds ?? .nan))) images/s; queue \(line)\n"
                        .utf8))
        }
        let referenceRate = Double(files) / Measure.median(reference.map(\.seconds))
        print(
            "| run | servers | images/s (median) | ratio to detect | facenet busy (compute / wall, per server) | servers' share of the machine's CPU |"
        )
        print("| --- | --- | --- | --- | --- | --- |")
        print(
            "| `facescope detect` (reference) | 1 | \(Bench.fmt(referenceRate)) | 1.00 | \(busy(reference, servers: 1)) |"
        )
        for (index, configuration) in configurations.enumerated() {
            let rate = Double(files) / Measure.median(samples[index].map(\.seconds))
            let label = "\(configuration.workers) worker\(configuration.workers == 1 ? "" : "s")"
            print(
                "| \(label) | \(configuration.servers) | \(Bench.fmt(rate)) | \(Bench.fmt(rate / referenceRate, 2)) | \(busy(samples[index], servers: configuration.servers)) |"
            )
        }
        if tritonURLs.count == 1 {
            print("\n(one Triton server: give --second-triton for the two-server rows)")
        }
        print("")
        try overhead(referenceRate: referenceRate)
    }

    /// The detector's compute time over wall time per server, and the servers' CPU seconds over
    /// the machine's CPU seconds (wall x CPUs) (medians).
    func busy(_ samples: [Sample], servers: Int) -> String {
        let cpus = Double(ProcessInfo.processInfo.activeProcessorCount)
        let share = Measure.median(samples.map { $0.cpu / ($0.seconds * cpus) })
        let compute = Measure.median(samples.map { $0.compute / ($0.seconds * Double(servers)) })
        return "\(Bench.fmt(compute * 100, 0)) % | \(Bench.fmt(share * 100, 0)) %"
    }

    /// CPU seconds (user + system) of every process in the sessions of the local Triton servers
    /// among the first `servers` (found by the `--http-port=` of their tritonserver process).
    func serverCPU(servers: Int) -> Double {
        let ports = Set(tritonURLs.prefix(servers).compactMap { $0.split(separator: ":").last.map(String.init) })
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        var stats: [(session: Int, cpu: Double, command: String)] = []
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] where Int(entry) != nil {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // Fields after the command: state ppid pgrp session ... utime(14) stime(15).
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 13, let session = Int(fields[3]), let user = Double(fields[11]),
                let system = Double(fields[12])
            else { continue }
            let command =
                (try? String(contentsOfFile: "/proc/\(entry)/cmdline", encoding: .utf8))?
                .replacingOccurrences(of: "\u{0}", with: " ") ?? ""
            stats.append((session, (user + system) / ticks, command))
        }
        let sessions = Set(
            stats.filter { item in
                item.command.contains("tritonserver") && ports.contains { item.command.contains("--http-port=\($0) ") }
            }.map(\.session))
        return stats.filter { sessions.contains($0.session) }.reduce(0) { $0 + $1.cpu }
    }

    /// Times `body` on a fresh key prefix (removed afterwards), with the servers' compute time.
    func measure(servers: Int, _ body: (String) throws -> Void) throws -> Sample {
        var generator = ULIDGenerator()
        let prefix = ":bq\(generator.next().suffix(8).lowercased()).Model:"
        defer { drop(prefix) }
        let before = computeSeconds(servers: servers)
        let cpuBefore = serverCPU(servers: servers)
        let started = Bench.now()
        try body(prefix)
        let seconds = Bench.now() - started
        return Sample(
            seconds: seconds, compute: computeSeconds(servers: servers) - before,
            cpu: serverCPU(servers: servers) - cpuBefore)
    }

    /// Runs `facescope` commands at once and waits for all; any failure stops the benchmark.
    func spawnAll(_ commands: [[String]], prefix: String, servers: Int, images: String) throws {
        var environment = ProcessInfo.processInfo.environment
        environment["REDIS_OM_URL"] = redisURL
        environment["FACESCOPE_KEY_PREFIX"] = prefix
        environment["TRITON_SERVER_URL"] = tritonURLs.prefix(servers).joined(separator: ",")
        environment["IMAGES_DIR"] = images
        let processes = try commands.map { arguments in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = arguments
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            return process
        }
        for (process, arguments) in zip(processes, commands) {
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw BenchError(
                    "facescope \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
            }
        }
    }

    /// The servers' cumulative execution time of the detector (`facenet`, one instance per server
    /// on the CPU backend: the busiest model), from Triton's statistics endpoint: its executions'
    /// compute time, so a dynamic batch counts once.
    func computeSeconds(servers: Int) -> Double {
        var total = 0.0
        for url in tritonURLs.prefix(servers) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = ["-fsS", "http://\(url)/v2/models/stats"]
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = FileHandle.nullDevice
            guard (try? process.run()) != nil else { continue }
            let data = pipe.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard let json = try? JSONValue.parse(String(decoding: data, as: UTF8.self)) else { continue }
            for model in json["model_stats"]?.arrayValue ?? [] where model["name"]?.stringValue == "facenet" {
                // Per execution (a dynamic batch counts once), not per request.
                for batch in model["batch_stats"]?.arrayValue ?? [] {
                    total += Double(batch["compute_infer"]?["ns"]?.intValue ?? 0) / 1e9
                }
            }
        }
        return total
    }

    func drop(_ prefix: String) {
        guard
            let settings = try? Settings.resolve(
                flags: [.redisURL: redisURL, .keyPrefix: prefix], environment: [:], dotenv: [:]),
            let queue = try? DetectionQueue.open(settings: settings)
        else { return }
        try? queue.clear()
        if let store = try? RedisStore.open(settings: settings) { Bench.drop(store) }
    }

    /// The queue's cost per image without detection: enqueue, take (XREADGROUP, one at a time
    /// as a worker takes them) and acknowledge (the completion script), against the time
    /// `detect` spends per image.
    func overhead(referenceRate: Double) throws {
        let count = 2000
        var generator = ULIDGenerator()
        let prefix = ":bq\(generator.next().suffix(8).lowercased()).Model:"
        let settings = try Settings.resolve(
            flags: [.redisURL: redisURL, .keyPrefix: prefix], environment: [:], dotenv: [:])
        let queue = try DetectionQueue.open(settings: settings)
        defer { try? queue.clear() }
        var enqueue: [Double] = []
        var take: [Double] = []
        var ack: [Double] = []
        for _ in 0..<max(3, rounds) {
            try queue.clear()
            let names = (0..<count).map { (filename: String(format: "photos/img_%06d.jpg", $0), force: false) }
            var t = Bench.now()
            try queue.enqueue(names)
            enqueue.append((Bench.now() - t) / Double(count))
            var entries: [QueueEntry] = []
            t = Bench.now()
            for _ in 0..<count { entries += try queue.read(consumer: "bench", count: 1) }
            take.append((Bench.now() - t) / Double(count))
            t = Bench.now()
            for entry in entries { try queue.complete(entry) }
            ack.append((Bench.now() - t) / Double(count))
            guard entries.count == count, try queue.length() == 0 else { throw BenchError("the queue lost entries") }
        }
        let perImage = 1000 / referenceRate
        let total = (Measure.median(enqueue) + Measure.median(take) + Measure.median(ack)) * 1000
        print("| queue step (\(count) entries, no detection) | per image (median) | share of detect's time per image |")
        print("| --- | --- | --- |")
        for (name, values) in [
            ("enqueue (script, pipelined 1000 at a time)", enqueue), ("take (XREADGROUP COUNT 1)", take),
            ("acknowledge (XACK + XDEL + counters, one script)", ack),
        ] {
            let ms = Measure.median(values) * 1000
            print("| \(name) | \(Bench.fmt(ms, 3)) ms | \(Bench.fmt(ms / perImage * 100, 2)) % |")
        }
        print(
            "| total | \(Bench.fmt(total, 3)) ms | \(Bench.fmt(total / perImage * 100, 2)) % of \(Bench.fmt(perImage, 0)) ms (`detect`, 1 server) |"
        )
    }
}
