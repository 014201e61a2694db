import FaceScopeCore
import FaceScopeImaging
import FaceScopeRedis
import Foundation

/// Prints benchmark tables. Figures are medians (and p95) of repeated runs, with ratios against a
/// reference measured in the same run, because the machine is shared and noisy.
@main
enum Bench {
    static func main() {
        let args = CommandLine.arguments.dropFirst()
        let env = ProcessInfo.processInfo.environment
        let redisURL = env["REDIS_OM_URL"] ?? "redis://127.0.0.1:16379/0"
        let count = Int(env["BENCH_DOCS"] ?? "") ?? 100_000
        do {
            switch args.first ?? "store" {
            case "store": try storeBenchmark(redisURL: redisURL, count: count)
            case "detect": try DetectBench.fromEnvironment(env).run()
            case "phone": try PhoneBench(detect: DetectBench.fromEnvironment(env)).run()
            case "preprocess":
                try DetectBench.fromEnvironment(env).runPreprocessingOnly(
                    mode: ResizeMode(rawValue: env["BENCH_RESIZE"] ?? "letterbox") ?? .letterbox)
            case "queue": try QueueBench.fromEnvironment(env).run()
            case "recognition":
                try RecognitionBench.run(
                    redisURL: redisURL, faces: Int(env["BENCH_FACES"] ?? "") ?? 100_000,
                    clusterFaces: Int(env["BENCH_CLUSTER_FACES"] ?? "") ?? 10_000)
            case "hash":
                try HashBench.run(sizesMB: [1, 5, 20], rounds: Int(env["BENCH_ROUNDS"] ?? "") ?? 9)
            default:
                FileHandle.standardError.write(
                    Data("usage: facescope-bench [store|detect|phone|preprocess|recognition|hash|queue]\n".utf8))
                exit(2)
            }
        } catch {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            exit(1)
        }
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

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
        let settings = try Settings.resolve(
            flags: [.redisURL: url, .keyPrefix: ":\(tag).Model:"], environment: [:], dotenv: [:])
        let store = try RedisStore.open(settings: settings)
        drop(store)
        return try RedisStore.open(settings: settings)
    }

    static func drop(_ store: RedisStore) {
        try? store.destroyEverything()
    }
}
