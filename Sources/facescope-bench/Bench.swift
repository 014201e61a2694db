import ArgumentParser
import FaceScopeCore
import FaceScopeImaging
import FaceScopePipeline
import FaceScopeRedis
import Foundation

/// Prints benchmark tables. Figures are medians (and p95) of repeated runs, with ratios against a
/// reference measured in the same run, because the machine is shared and noisy.
@main
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "facescope-bench",
        abstract: "FaceScope's benchmarks: each prints a markdown table (scripts/bench.sh runs them).",
        subcommands: [
            StoreBench.self, DetectBenchCommand.self, PhoneBenchCommand.self, PreprocessBench.self,
            QueueBenchCommand.self, RecognitionBenchCommand.self, HashBenchCommand.self, ClusterBenchCommand.self,
        ],
        defaultSubcommand: StoreBench.self)
}

/// Where the services are.
struct ServiceOptions: ParsableArguments {
    @Option(help: "Redis Stack to measure against (a prefix of the benchmark's own is used and removed).")
    var redisURL = ProcessInfo.processInfo.environment["REDIS_OM_URL"] ?? "redis://127.0.0.1:16379/0"

    @Option(help: "Triton server (host:port).")
    var tritonURL = ProcessInfo.processInfo.environment["TRITON_SERVER_URL"] ?? "127.0.0.1:18000"
}

/// The detection benchmarks' knobs.
struct DetectOptions: ParsableArguments {
    @OptionGroup var services: ServiceOptions

    @Flag(help: "Smaller counts: under a minute.")
    var quick = false

    @Option(help: "Sample photos: files or folders (not recursive); default the shared photos and samples/.")
    var images: [String] = []

    @Option(help: "Images in flight at once.")
    var concurrency = 2

    @Option(help: "Measured rounds (default 8, 3 with --quick).")
    var rounds: Int?

    @Option(help: "Images per round (default twice the photos, once with --quick).")
    var imagesPerRound: Int?

    @Option(help: "File counts whose peak RSS is measured (default 100,1000; 20,100 with --quick).")
    var rssFiles: String?

    @Option(help: "The Python that runs the official client.")
    var python = ".services/venv/bin/python"

    @Option(help: "The official-client script.")
    var pythonClient = "bench/python_client.py"

    @Option(help: "The facescope binary measured (default: beside this one).")
    var facescope: String?

    func bench() throws -> DetectBench {
        let sources = images.isEmpty ? ["../shared/data/faces", "../shared/data/no-faces", "samples"] : images
        let photos = try DetectBench.distinctImages(sources)
        guard !photos.isEmpty else { throw BenchError("no sample photos found in \(sources)") }
        return DetectBench(
            tritonURL: services.tritonURL, photos: photos, quick: quick, concurrency: concurrency,
            rounds: rounds ?? (quick ? 3 : 8), imagesPerRound: imagesPerRound ?? photos.count * (quick ? 1 : 2),
            prepRepeats: quick ? 8 : 30, transportRepeats: quick ? 10 : 40,
            rssCounts: (rssFiles ?? (quick ? "20,100" : "100,1000")).split(separator: ",").compactMap { Int($0) },
            python: python, pythonClient: pythonClient,
            facescope: facescope ?? ProcessInfo.processInfo.environment["FACESCOPE_BIN"]
                ?? DetectBench.siblingExecutable("facescope"))
    }
}

struct StoreBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store", abstract: "The store: saves, listings, deep pages and searches over N documents.")
    @OptionGroup var services: ServiceOptions
    @Option(help: "Documents to store.") var docs = 100_000
    func run() throws { try Bench.storeBenchmark(redisURL: services.redisURL, count: docs) }
}

struct DetectBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detect",
        abstract: "Detection: FaceScope vs the Python client, preprocessing, what Triton sustains, transports, RSS.")
    @OptionGroup var options: DetectOptions
    func run() throws { try options.bench().run() }
}

struct PhoneBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "phone", abstract: "12-megapixel JPEGs: client CPU, decode cost per DCT scale, accuracy.")
    @OptionGroup var options: DetectOptions
    func run() throws { try PhoneBench(detect: options.bench()).run() }
}

struct PreprocessBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preprocess", abstract: "Preprocessing alone (decode + FaceNet input), no server.")
    @OptionGroup var options: DetectOptions
    @Option(help: "stretch or letterbox.") var resize: ResizeMode = .letterbox
    func run() throws { try options.bench().runPreprocessingOnly(mode: resize) }
}

struct QueueBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "queue", abstract: "The detection queue: 1, 2, 4 workers against one and two Triton servers.")
    @OptionGroup var services: ServiceOptions
    @Flag(help: "Smaller counts.") var quick = false
    @Option(help: "Files per run (default 40, 12 with --quick).") var files: Int?
    @Option(help: "Measured rounds (default 3, 1 with --quick).") var rounds: Int?
    @Option(help: "Worker counts, comma-separated.") var workers = "1,2,4"
    @Option(help: "A second Triton (host:port) for the two-server rows.") var secondTriton: String?
    @Option(help: "The photo copied into the files.") var photo = "samples/portrait-grace-hopper.jpg"
    @Option(help: "The facescope binary (default: beside this one).") var facescope: String?

    func run() throws {
        try QueueBench(
            binary: facescope ?? ProcessInfo.processInfo.environment["FACESCOPE_BIN"]
                ?? DetectBench.siblingExecutable("facescope"),
            redisURL: services.redisURL, tritonURLs: [services.tritonURL] + (secondTriton.map { [$0] } ?? []),
            files: files ?? (quick ? 12 : 40), rounds: rounds ?? (quick ? 1 : 3),
            workerCounts: workers.split(separator: ",").compactMap { Int($0) }, photo: photo
        ).run()
    }
}

struct RecognitionBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recognition", abstract: "KNN over stored face descriptors, and clustering time.")
    @OptionGroup var services: ServiceOptions
    @Option(help: "Stored faces.") var faces = 100_000
    @Option(help: "Faces clustered.") var clusterFaces = 10_000
    func run() throws {
        try RecognitionBench.run(redisURL: services.redisURL, faces: faces, clusterFaces: clusterFaces)
    }
}

struct HashBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hash", abstract: "SHA-256 of image files (the source check), against reading them.")
    @Option(help: "Measured rounds.") var rounds = 9
    func run() throws { try HashBench.run(sizesMB: [1, 5, 20], rounds: rounds) }
}

extension ResizeMode: ExpressibleByArgument {}

/// Helpers the benchmarks share.
enum Bench {
    static func now() -> Double { Monotonic.seconds() }

    static func percentile(_ values: [Double], _ p: Double) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }

    static func fmt(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }

    /// Documents like the detector writes: three faces each, with boxes, rotation and pks.
    static func documents(_ count: Int) -> [ImageDocument] {
        var generator = ULIDGenerator()
        let words = ["holiday", "beach", "family", "party", "portrait", "trip", "garden", "birthday"]
        return (0..<count).map { i in
            var doc = ImageDocument(
                pk: "", filename: "photos/\(words[i % words.count])-\(i / 1000)/img_\(String(format: "%06d", i)).jpg",
                faces: (0..<3).map { f in
                    Face(
                        pk: "", bbox: BoundingBox(pk: "", x1: 100 * f, y1: 40, x2: 100 * f + 80, y2: 130),
                        probability: 90 + f, rotation: f - 1)
                }, channels: 3, height: 886, width: 1280, portrait: 0)
            doc.assignMissingKeys(using: &generator)
            return doc
        }
    }

    static func storeBenchmark(redisURL: String, count: Int) throws {
        let rounds = 3
        print("FaceScope store benchmark: \(count) documents x 3 faces, \(rounds) rounds, Redis \(redisURL)")
        let docs = documents(count)
        let bytes = docs.reduce(0) { $0 + $1.json.serialized.utf8.count } / max(1, count)
        print("average document: \(bytes) bytes of JSON\n")
        var rawRates: [Double] = []
        var storeRates: [Double] = []
        var kept: RedisStore?
        for round in 0..<rounds {
            // Reference: raw pipelined JSON.SET of the same documents (1000 per pipeline) into a
            // prefix with the same two indexes, so both pay the same indexing cost.
            let raw = try freshStore(redisURL, tag: "braw\(round)")
            let t0 = now()
            var start = 0
            while start < docs.count {
                let chunk = docs[start..<min(docs.count, start + 1000)]
                _ = try raw.connection.pipeline(
                    chunk.map { ["JSON.SET", raw.layout.key(pk: $0.pk), "$", $0.json.serialized] })
                start += chunk.count
            }
            rawRates.append(Double(count) / (now() - t0))
            drop(raw)
            let store = try freshStore(redisURL, tag: "bstore\(round)")
            let t1 = now()
            let results = try store.saveAll(docs, batchSize: 1000)
            storeRates.append(Double(count) / (now() - t1))
            precondition(results.allSatisfy { if case .success = $0 { true } else { false } })
            if round == rounds - 1 { kept = store } else { drop(store) }
            print("round \(round + 1): raw \(Int(rawRates[round])) docs/s, FaceScope \(Int(storeRates[round])) docs/s")
        }
        guard let store = kept else { return }
        defer { drop(store) }
        func measure(_ n: Int, _ body: () throws -> Void) rethrows -> [Double] {
            try (0..<n).map { _ in
                let t = now()
                try body()
                return (now() - t) * 1000
            }
        }
        _ = try store.list(limit: 50)
        let listFirst = try measure(200) { _ = try store.list(limit: 50) }
        let listDeep = try measure(50) { _ = try store.list(offset: 90_000 * count / 100_000, limit: 50) }
        let listMiddle = try measure(10) { _ = try store.list(offset: count / 2, limit: 50) }
        let listFaces = try measure(200) { _ = try store.list(order: .faces, descending: true, limit: 50) }
        let searchWide = try measure(200) { _ = try store.search(.text("holiday "), limit: 50) }
        let searchTyped = try measure(100) { _ = try store.search(.text("holi"), limit: 50) }
        let searchPrefix = try measure(100) { _ = try store.search(.text("birth*"), limit: 50) }
        let searchNarrow = try measure(100) { _ = try store.search(.text("img_000123"), limit: 50) }
        let searchTypo = try measure(100) { _ = try store.search(.text("holidy "), limit: 50) }
        let showOne = try measure(200) { _ = try store.get(filename: "photos/holiday-0/img_000000.jpg") }
        let countAll = try measure(200) { _ = try store.count() }
        let rawMedian = percentile(rawRates, 0.5)
        let storeMedian = percentile(storeRates, 0.5)
        print("")
        print("| operation | median | p95 | note |")
        print("| --- | --- | --- | --- |")
        print("| raw pipelined JSON.SET (reference) | \(Int(rawMedian)) docs/s | | 1000 per pipeline |")
        print(
            "| FaceScope saveAll (upsert by filename) | \(Int(storeMedian)) docs/s | | ratio \(fmt(storeMedian / rawMedian, 2)) of raw |"
        )
        for (name, values, note) in [
            ("list first page (50, by filename)", listFirst, ""),
            ("list page at 90% offset (50)", listDeep, "past the 10,000 cap: read from the other end"),
            ("list page at 50% offset (50)", listMiddle, "past the cap: keyset windows of 10,000"),
            ("list first page by face count (50)", listFaces, ""),
            ("search 'holiday ' (whole word, 1/8 match), first 50", searchWide, ""),
            ("search 'holi' (as typed: a word start, exact filter), first 50", searchTyped, ""),
            ("search 'birth*', first 50", searchPrefix, ""),
            ("search 'img_000123' (as typed), first 50", searchNarrow, ""),
            ("search 'holidy ' (a typo: nothing exact, then close matches)", searchTypo, ""),
            ("show one filename (index lookup)", showOne, ""),
            ("count", countAll, ""),
        ] {
            print(
                "| \(name) | \(fmt(percentile(values, 0.5), 2)) ms | \(fmt(percentile(values, 0.95), 2)) ms | \(note) |"
            )
        }
    }

    static func freshStore(_ url: String, tag: String) throws -> RedisStore {
        let services = FaceScopeServices(
            settings: try Settings.resolve(
                flags: [.redisURL: url, .keyPrefix: ":\(tag).Model:"], environment: [:], dotenv: [:]))
        drop(try services.store())
        return try services.store()
    }

    static func drop(_ store: RedisStore) {
        try? store.destroyEverything()
    }
}
