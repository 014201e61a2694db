import CPNG
import CTurboJPEG
import FaceScopeCore
import FaceScopeImaging
import FaceScopePipeline
import FaceScopeTriton
import Foundation
import Synchronization

#if canImport(FoundationNetworking)
    import FoundationNetworking
#endif

/// The detection benchmark (`facescope-bench detect`): in one run, against one Triton server and
/// one set of sample photos,
///  1. FaceScope's client versus the official Python client (bench/python_client.py) doing the
///     same work: images/s and client CPU seconds per image, at the same concurrency;
///  2. FaceScope's preprocessing (decode + FaceNet input) versus TurboJPEG's decode alone;
///  3. FaceScope's images/s versus what the server sustains (the same requests, tensors made
///     in advance, no client work);
///  4. the FaceNet request through HTTP bodies versus system shared memory;
///  5. the peak RSS of `facescope detect --dry-run` over N and 10N files.
/// Throughput rounds are interleaved (the order rotates each round) and medians reported, so
/// that drift on a shared machine hits every variant alike.
struct DetectBench {
    var tritonURL: String
    var photos: [String]
    var quick: Bool
    var concurrency: Int
    var rounds: Int
    var imagesPerRound: Int
    var prepRepeats: Int
    var transportRepeats: Int
    var rssCounts: [Int]
    var python: String
    var pythonClient: String
    var facescope: String

    static let coverage = TensorName.coverage
    static let boxes = TensorName.boxes

    /// Image files under `sources` (files or folders, not recursive), one per distinct content,
    /// sorted by name.
    static func distinctImages(_ sources: [String]) throws -> [String] {
        let fm = FileManager.default
        var seen: Set<Data> = []
        var result: [String] = []
        for source in sources {
            var isDirectory: ObjCBool = false
            guard fm.fileExists(atPath: source, isDirectory: &isDirectory) else { continue }
            let files =
                isDirectory.boolValue
                ? (try fm.contentsOfDirectory(atPath: source)).sorted().map { source + "/" + $0 } : [source]
            for file in files where ImageFiles.extensions.contains((file as NSString).pathExtension.lowercased()) {
                guard let data = fm.contents(atPath: file), seen.insert(data).inserted else { continue }
                result.append(ImageFiles.canonical(file))
            }
        }
        return result
    }

    static func siblingExecutable(_ name: String) -> String {
        let own =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (own as NSString).deletingLastPathComponent + "/" + name
    }

    static func name(_ path: String) -> String { (path as NSString).lastPathComponent }

    static func log(_ message: String) {
        FileHandle.standardError.write(Data(("  .. " + message + "\n").utf8))
    }

    // MARK: - Run

    func run() throws {
        let fmt = Bench.fmt
        print("FaceScope detection benchmark")
        print("Triton \(tritonURL); \(photos.count) photos: \(photos.map(Self.name).joined(separator: ", "))")
        print(
            "\(concurrency) images in flight for every client; \(rounds) interleaved round(s) of \(imagesPerRound) images"
                + (quick ? " (--quick)" : ""))

        // Built like the command line builds them, one per transport.
        let services = FaceScopeServices(
            settings: try Settings.resolve(flags: [.tritonURL: tritonURL], environment: [:], dotenv: [:]))
        let auto = try services.tritonClient(transport: .automatic)
        let http = try services.tritonClient(transport: .http)
        let shm = try services.tritonClient(transport: .sharedMemory)
        defer {
            auto.close()
            shm.close()
        }
        // The work the Python client does: FaceNet and FPENet. Face descriptors (the facerec model,
        // on by default in `facescope detect` when the server has it) are left out here; the
        // RSS runs of part 5 use the CLI's defaults.
        let options = PipelineOptions(recognitionModel: nil)
        let pipeline = try DetectionPipeline(client: auto, options: options)
        let pipelineHTTP = try DetectionPipeline(client: http, options: options)
        let autoChoice: String
        switch try auto.transport() {
        case .sharedMemory: autoChoice = "system shared memory"
        case .http(let reason): autoChoice = "HTTP bodies (\(reason))"
        }
        print(
            "FaceNet resize mode (declared by the model): \(pipeline.resizeMode.rawValue); automatic transport chose \(autoChoice)"
        )

        // Warm-up and the faces each client finds (they must agree for the comparison to hold).
        Self.log("warming up FaceScope")
        var documents: [ImageDocument] = []
        for photo in photos {
            documents.append(try pipeline.analyze(ImageFile(path: photo, filename: photo)))
            _ = try pipelineHTTP.analyze(ImageFile(path: photo, filename: photo))
        }
        Self.log("starting the Python client (warm-up pass)")
        let pythonProcess = try LineProcess(
            python, [pythonClient, "--url", tritonURL, "--concurrency", String(concurrency)] + photos)
        defer { pythonProcess.close() }
        let ready = try pythonProcess.request(nil)
        let pythonFaces = ready["faces"] as? [String: Int] ?? [:]
        print(
            "faces found, FaceScope / Python: "
                + zip(photos, documents).map { photo, doc in
                    "\(Self.name(photo)) \(doc.faceCount)/\(pythonFaces[photo].map(String.init) ?? "?")"
                }.joined(separator: ", "))
        if zip(photos, documents).contains(where: { pythonFaces[$0] != $1.faceCount }) {
            print("WARNING: the two clients disagree on some photo: the comparison below is not like for like")
        }

        // 2. Preprocessing versus the bare decode.
        Self.log("preprocessing: \(prepRepeats) repeats per photo")
        let prep = try preprocessing(mode: pipeline.resizeMode)
        let fill = tensorFillFloor()
        let pythonPrep = (try pythonProcess.request("prep \(prepRepeats)")["prep_ms"] as? [String: Double]) ?? [:]

        // 1 and 3. Throughput and client CPU, interleaved rounds.
        let replay = try ReplayRequests(photos: photos, documents: documents, pipeline: pipeline)
        var results: [String: [RoundResult]] = [:]
        let variants = ["server", "facescope", "facescope-http", "python"]
        for round in 0..<rounds {
            let order = (0..<variants.count).map { variants[($0 + round) % variants.count] }
            for variant in order {
                let result: RoundResult
                switch variant {
                case "server": result = try replay.run(client: auto, count: imagesPerRound, concurrency: concurrency)
                case "facescope": result = try detect(pipeline, count: imagesPerRound)
                case "facescope-http": result = try detect(pipelineHTTP, count: imagesPerRound)
                default:
                    let reply = try pythonProcess.request("run \(imagesPerRound)")
                    if let errors = reply["errors"] as? [String], !errors.isEmpty {
                        throw BenchError("the Python client failed: \(errors.joined(separator: "; "))")
                    }
                    result = RoundResult(
                        images: reply["images"] as? Int ?? 0, faces: reply["faces"] as? Int ?? 0,
                        wall: reply["wall_s"] as? Double ?? .nan, cpu: reply["cpu_s"] as? Double ?? .nan)
                }
                results[variant, default: []].append(result)
                Self.log(
                    "round \(round + 1) \(variant): \(fmt(result.rate, 2)) images/s, \(fmt(result.cpuPerImage * 1000, 1)) ms CPU/image, \(result.faces) faces"
                )
            }
        }

        // 4. HTTP bodies versus shared memory for the FaceNet request.
        Self.log("transport: \(transportRepeats) FaceNet requests each way, alternating")
        let transport = try replay.transportLatency(http: http, shm: shm, repeats: transportRepeats, url: tritonURL)

        // 5. Peak RSS of `facescope detect --dry-run`.
        var rss: [RSSResult] = []
        for count in rssCounts {
            Self.log("facescope detect --dry-run over \(count) files")
            rss.append(try peakRSS(files: count))
        }

        printThroughput(results)
        printPreprocessing(prep, python: pythonPrep, fill: fill)
        printServerRatio(results)
        printTransport(transport)
        printRSS(rss)
    }

    // MARK: - 1 and 3: throughput

    struct RoundResult {
        var images: Int
        var faces: Int
        var wall: Double
        var cpu: Double
        var failed = 0
        var rate: Double { Double(images) / wall }
        var cpuPerImage: Double { cpu / Double(images) }
    }

    /// `count` images (the photos repeated) through FaceScope's pipeline as `facescope detect
    /// --dry-run` runs it: DetectionRun, `concurrency` workers, nothing stored.
    func detect(_ pipeline: DetectionPipeline, count: Int) throws -> RoundResult {
        let files = (0..<count).map { i in ImageFile(path: photos[i % photos.count], filename: "\(i)") }
        let run = DetectionRun(pipeline: pipeline, store: nil, concurrency: concurrency)
        let cpu0 = Measure.processCPU()
        let t0 = Bench.now()
        let summary = try run.run(files, force: true) { _ in }
        let wall = Bench.now() - t0
        let cpu = Measure.processCPU() - cpu0
        if summary.failed > 0 { throw BenchError("\(summary.failed) images failed in FaceScope's run") }
        return RoundResult(images: summary.images, faces: summary.faces, wall: wall, cpu: cpu)
    }

    /// The median over rounds of `metric(a) / metric(b)` measured in the same round: drift on a
    /// shared machine cancels out of each pair.
    static func pairedRatio(
        _ results: [String: [RoundResult]], _ a: String, _ b: String, _ metric: (RoundResult) -> Double
    ) -> Double {
        let ratios = zip(results[a, default: []], results[b, default: []]).map { metric($0) / metric($1) }
        return Measure.median(ratios)
    }

    func printThroughput(_ results: [String: [RoundResult]]) {
        let fmt = Bench.fmt
        func rate(_ v: String) -> Double { Measure.median(results[v, default: []].map(\.rate)) }
        func cpu(_ v: String) -> Double { Measure.median(results[v, default: []].map(\.cpuPerImage)) * 1000 }
        func faces(_ v: String) -> String {
            let all = Set(results[v, default: []].map(\.faces)).sorted().map(String.init)
            return all.joined(separator: "/")
        }
        print("")
        print("### 1. Detection: FaceScope's client vs the official Python client")
        print("")
        print(
            "\(concurrency) images in flight for every client, \(rounds) interleaved rounds of \(imagesPerRound) images "
                + "(order rotating). images/s and CPU: medians over rounds; ratios: median of the ratios within each round. "
                + "Client CPU = user+system CPU of the client process (getrusage) over the run; Triton's own CPU is "
                + "excluded (another process).")
        print("")
        print("| client | images/s | vs server | client CPU ms/image | vs Python | faces per round |")
        print("| --- | --- | --- | --- | --- | --- |")
        let rows: [(String, String)] = [
            ("server", "Triton alone: same requests, tensors made in advance (reference)"),
            ("facescope", "FaceScope (automatic transport: shared memory)"),
            ("facescope-http", "FaceScope (HTTP bodies)"),
            ("python", "Python: tritonclient[http] 2.51 + numpy + Pillow (HTTP bodies)"),
        ]
        for (key, label) in rows {
            let vsServer = Self.pairedRatio(results, key, "server", \.rate)
            let vsPython = Self.pairedRatio(results, key, "python", \.cpuPerImage)
            print(
                "| \(label) | \(fmt(rate(key), 2)) | \(fmt(vsServer, 2)) | \(fmt(cpu(key), 1)) | "
                    + "\(key == "server" || key == "python" ? "" : fmt(vsPython, 2)) | \(faces(key)) |")
        }
        let ratio = Self.pairedRatio(results, "facescope", "python", \.cpuPerImage)
        let ratioHTTP = Self.pairedRatio(results, "facescope-http", "python", \.cpuPerImage)
        print("")
        print(
            "Target: FaceScope's client CPU per image <= 1/3 of the Python client's: "
                + "\(fmt(ratio, 2)) with shared memory (\(ratio <= 1.0 / 3 ? "met" : "MISSED")), "
                + "\(fmt(ratioHTTP, 2)) with HTTP bodies (\(ratioHTTP <= 1.0 / 3 ? "met" : "MISSED")).")
    }

    func printServerRatio(_ results: [String: [RoundResult]]) {
        let fmt = Bench.fmt
        let server = results["server", default: []].map(\.rate)
        let ours = results["facescope", default: []].map(\.rate)
        let python = results["python", default: []].map(\.rate)
        let ratio = Self.pairedRatio(results, "facescope", "server", \.rate)
        let pythonRatio = Self.pairedRatio(results, "python", "server", \.rate)
        print("")
        print("### 3. FaceScope's images/s vs what the server sustains")
        print("")
        print("| | images/s, median | vs server (median of per-round ratios) | each round |")
        print("| --- | --- | --- | --- |")
        print(
            "| server: same requests, pre-made tensors, no client work | \(fmt(Measure.median(server), 2)) | 1.00 | \(server.map { fmt($0, 2) }.joined(separator: ", ")) |"
        )
        print(
            "| FaceScope pipeline (decode, resize, infer, post-process) | \(fmt(Measure.median(ours), 2)) | \(fmt(ratio, 2)) | \(ours.map { fmt($0, 2) }.joined(separator: ", ")) |"
        )
        print(
            "| Python client, for comparison | \(fmt(Measure.median(python), 2)) | \(fmt(pythonRatio, 2)) | \(python.map { fmt($0, 2) }.joined(separator: ", ")) |"
        )
        print("")
        let paired = zip(ours, server).map { $0 / $1 }
        print(
            "Target: FaceScope >= 0.9x the server: \(fmt(ratio, 2))x (\(ratio >= 0.9 ? "met" : "MISSED")); ratio of the "
                + "medians \(fmt(Measure.median(ours) / Measure.median(server), 2))x; per-round ratios "
                + "\(fmt(paired.min() ?? .nan, 2))-\(fmt(paired.max() ?? .nan, 2))x.")
    }

    // MARK: - 2: preprocessing

    /// The preprocessing table alone (no Triton, no Python): `facescope-bench preprocess`.
    func runPreprocessingOnly(mode: ResizeMode) throws {
        print("FaceScope preprocessing benchmark (\(mode.rawValue)), \(prepRepeats) repeats per photo\n")
        printPreprocessing(try preprocessing(mode: mode), python: [:], fill: tensorFillFloor())
    }

    struct PrepResult {
        var photo: String
        var width: Int
        var height: Int
        var format: String
        var floorName: String
        var floor: Double?
        var decode: Double
        var input: Double
        var prep: Double
        /// The median of each run's (decode + input) / floor.
        var ratio: Double?
    }

    /// Median ms to zero-fill the FaceNet tensor (3,674,112 bytes): the memory-bandwidth floor
    /// of writing FaceNet's input at all, whatever the image.
    func tensorFillFloor() -> Double {
        var tensor = [Float](repeating: 1, count: Preprocess.faceNetInputCount)
        let times = (0..<max(prepRepeats, 10)).map { _ in
            let t = Bench.now()
            tensor.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
            return (Bench.now() - t) * 1000
        }
        return Measure.median(times) + Double(tensor[Int.random(in: 0..<tensor.count)])  // keep the writes
    }

    /// Medians of decode alone (TurboJPEG or libpng, into a buffer kept between calls), FaceScope's
    /// decode, and FaceScope's decode + FaceNet input, all from bytes in memory, interleaved.
    func preprocessing(mode: ResizeMode) throws -> [PrepResult] {
        let floor = DecodeFloor()
        var tensor = [Float](repeating: 0, count: Preprocess.faceNetInputCount)
        var results: [PrepResult] = []
        for photo in photos {
            guard let data = FileManager.default.contents(atPath: photo) else {
                throw BenchError("cannot read \(photo)")
            }
            let bytes = [UInt8](data)
            let first = try ImageDecoder.decode(data: bytes, name: photo, maxPixels: 100_000_000)
            let isJPEG = bytes.starts(with: [0xFF, 0xD8])
            let isPNG = bytes.starts(with: [0x89, 0x50, 0x4E, 0x47])
            var floorTimes: [Double] = []
            var ratios: [Double] = []
            var decodeTimes: [Double] = []
            var prepTimes: [Double] = []
            var inputTimes: [Double] = []
            for _ in 0..<prepRepeats {
                if isJPEG || isPNG {
                    let t = Bench.now()
                    try isJPEG ? floor.jpeg(bytes) : floor.png(bytes)
                    floorTimes.append((Bench.now() - t) * 1000)
                }
                let t0 = Bench.now()
                let image = try ImageDecoder.decode(data: bytes, name: photo, maxPixels: 100_000_000)
                let t1 = Bench.now()
                tensor.withUnsafeMutableBufferPointer { _ = Preprocess.faceNetInput(image, mode: mode, into: $0) }
                let t2 = Bench.now()
                decodeTimes.append((t1 - t0) * 1000)
                inputTimes.append((t2 - t1) * 1000)
                prepTimes.append((t2 - t0) * 1000)
                if let floor = floorTimes.last { ratios.append((t2 - t0) * 1000 / floor) }
            }
            results.append(
                PrepResult(
                    photo: photo, width: first.width, height: first.height, format: first.format.rawValue,
                    floorName: isJPEG ? "TurboJPEG" : isPNG ? "libpng" : "n/a",
                    floor: floorTimes.isEmpty ? nil : Measure.median(floorTimes), decode: Measure.median(decodeTimes),
                    input: Measure.median(inputTimes), prep: Measure.median(prepTimes),
                    ratio: ratios.isEmpty ? nil : Measure.median(ratios)))
        }
        return results
    }

    func printPreprocessing(_ results: [PrepResult], python: [String: Double], fill: Double) {
        let fmt = Bench.fmt
        print("")
        print("### 2. Preprocessing per image: FaceScope's decode + FaceNet input vs the bare decode")
        print("")
        print(
            "Median of \(prepRepeats) runs per photo, one thread, from bytes in memory; the ratio is the median of each run's own ratio (floor and FaceScope run back to back). Floor: the decoder library alone "
                + "(TurboJPEG tjDecompress2 to RGB, or libpng's simplified API for PNG) into a reused buffer. FaceScope: "
                + "ImageDecoder.decode (format sniffing, EXIF orientation, limits) + Preprocess.faceNetInput (letterbox "
                + "736x416, planar float). Python: Pillow decode + resize + numpy planar float, for context.")
        print("")
        print(
            "| photo | size | floor: decode alone ms | FaceScope decode ms | FaceScope faceNetInput ms | FaceScope decode + input ms | ratio to floor | Python decode + input ms |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- | --- |")
        var worst = 0.0
        var ratios: [Double] = []
        for r in results {
            let ratio = r.ratio
            if let ratio {
                worst = max(worst, ratio)
                ratios.append(ratio)
            }
            print(
                "| \(Self.name(r.photo)) | \(r.width)x\(r.height) \(r.format) | \(r.floor.map { fmt($0, 2) } ?? "n/a") (\(r.floorName)) | "
                    + "\(fmt(r.decode, 2)) | \(fmt(r.input, 2)) | \(fmt(r.prep, 2)) | \(ratio.map { fmt($0, 2) + "x" } ?? "n/a") | "
                    + "\(python[r.photo].map { fmt($0, 2) } ?? "") |")
        }
        print("")
        print(
            "Zero-filling the 3,674,112-byte FaceNet tensor alone takes \(fmt(fill, 2)) ms here (its memory traffic); the "
                + "rest of faceNetInput's time is resampling arithmetic, about the same for every image near the network "
                + "size, so it weighs most against the decode of small images.")
        print("")
        print(
            "Target: <= 2x the bare decode: median ratio \(fmt(Measure.median(ratios), 2))x, worst \(fmt(worst, 2))x "
                + "(\(worst <= 2 ? "met on every photo" : ratios.allSatisfy { $0 <= 2 } ? "met" : "MISSED on \(ratios.filter { $0 > 2 }.count) of \(ratios.count) photos"))."
        )
    }

    // MARK: - 4: transport

    func printTransport(_ t: ReplayRequests.TransportResult) {
        let fmt = Bench.fmt
        print("")
        print("### 4. FaceNet request: HTTP bodies vs system shared memory")
        print("")
        print(
            "One request in flight, \(t.http.latency.count) requests each way, alternating; the same pre-made 3,674,112-byte "
                + "tensor (\(Self.name(t.photo))). Latency: call to parsed reply. Model: Triton's compute_infer for that "
                + "request (dlib's HOG), read from the server's statistics; latency - model = what the transport and "
                + "protocol cost, client and server side. Client CPU: the calling thread's (curl runs on it)."
                + (t.contaminated > 0 ? " \(t.contaminated) requests that overlapped someone else's were dropped." : "")
        )
        print("")
        print(
            "| transport | latency median ms | latency p95 ms | model ms | latency - model, median ms | p95 ms | client CPU ms/request |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for (name, samples) in [("HTTP bodies (binary tensor extension)", t.http), ("system shared memory", t.shm)] {
            print(
                "| \(name) | \(fmt(Measure.median(samples.latency), 2)) | \(fmt(Bench.percentile(samples.latency, 0.95), 2)) | "
                    + "\(fmt(Measure.median(samples.infer), 2)) | \(fmt(Measure.median(samples.overhead), 2)) | "
                    + "\(fmt(Bench.percentile(samples.overhead, 0.95), 2)) | \(fmt(Measure.median(samples.cpu), 2)) |")
        }
        let saved = Measure.median(t.http.overhead) - Measure.median(t.shm.overhead)
        let cpuSaved = Measure.median(t.http.cpu) - Measure.median(t.shm.cpu)
        print("")
        print(
            "Shared memory saves \(fmt(saved, 2)) ms of transport per FaceNet request (median of latency - model; "
                + "\(fmt(100 * saved / Measure.median(t.http.latency), 1))% of the whole request) and \(fmt(cpuSaved, 2)) ms "
                + "of client CPU; see the two FaceScope rows of table 1 for what that does to throughput.")
    }

    // MARK: - 5: peak RSS

    struct RSSResult {
        var files: Int
        var rssBytes: Int
        var seconds: Double
        var rate: String
        var status: Int32
    }

    /// Runs `facescope detect --dry-run` over a temporary folder of `files` hard links to the
    /// photos (hard links, not symbolic links: the file walker resolves links to their targets)
    /// and reports the child's peak RSS from wait4.
    func peakRSS(files: Int) throws -> RSSResult {
        let fm = FileManager.default
        let root = NSTemporaryDirectory() + "facescope-bench-\(getpid())-\(files)"
        try? fm.removeItem(atPath: root)
        defer { try? fm.removeItem(atPath: root) }
        let sources = root + "/sources"
        let folder = root + "/images"
        try fm.createDirectory(atPath: sources, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var copies: [String] = []
        for (i, photo) in photos.enumerated() {
            let copy = sources + "/\(i)-" + Self.name(photo)
            try fm.copyItem(atPath: photo, toPath: copy)
            copies.append(copy)
        }
        for i in 0..<files {
            let source = copies[i % copies.count]
            let link = folder + String(format: "/img_%05d_", i) + Self.name(source)
            guard Glibc.link(source, link) == 0 else {
                throw BenchError("cannot link \(link): \(String(cString: strerror(errno)))")
            }
        }
        setenv("TRITON_SERVER_URL", tritonURL, 1)
        let errPath = root + "/stderr.txt"
        let result = try Measure.spawn(
            facescope, ["detect", "--dry-run", "--images-dir", folder, folder], stdoutPath: "/dev/null",
            stderrPath: errPath)
        let stderr = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
        let summary = stderr.split(separator: "\n").last { $0.contains("images/s") }.map(String.init) ?? ""
        if result.status != 0 {
            FileHandle.standardError.write(
                Data("facescope detect exited \(result.status):\n\(stderr.suffix(2000))\n".utf8))
        }
        let rate =
            summary.range(of: #"[0-9.]+ images/s"#, options: .regularExpression).map { String(summary[$0]) } ?? "?"
        return RSSResult(
            files: files, rssBytes: result.maxRSSBytes, seconds: result.seconds, rate: rate, status: result.status)
    }

    func printRSS(_ results: [RSSResult]) {
        let fmt = Bench.fmt
        print("")
        print("### 5. Peak RSS of `facescope detect --dry-run`")
        print("")
        print(
            "A temporary folder of N hard links cycling over the \(photos.count) photos; the CLI's defaults (4 images in "
                + "flight; landmarks, and face descriptors when the server has the facerec model); peak RSS of the child "
                + "process (wait4 ru_maxrss).")
        print("")
        print("| files | peak RSS MB | wall s | images/s (its summary) | exit |")
        print("| --- | --- | --- | --- | --- |")
        for r in results {
            print(
                "| \(r.files) | \(fmt(Double(r.rssBytes) / 1_048_576, 1)) | \(fmt(r.seconds, 1)) | \(r.rate) | \(r.status) |"
            )
        }
        guard let first = results.first, let last = results.last, results.count > 1 else { return }
        let growth = Double(last.rssBytes - first.rssBytes) / 1_048_576
        let flat = Double(last.rssBytes) <= Double(first.rssBytes) * 1.1
        let under = results.allSatisfy { $0.rssBytes < 300 * 1_048_576 }
        print("")
        print(
            "Target: flat in the number of files and < 300 MB: \(fmt(growth, 1)) MB more for \(last.files / max(1, first.files))x the files "
                + "(\(flat ? "flat: within 10%" : "NOT flat: over 10% more"), \(under ? "under 300 MB" : "OVER 300 MB")): \(flat && under ? "met" : "MISSED")."
        )
    }
}

/// The requests FaceScope's pipeline sends for each photo, with their tensors made in advance,
/// replayed with no client work: what the server sustains.
///
/// Unchecked: it holds the Triton client's request tensors, made once before the replay and only
/// read after (every stored property is a constant).
final class ReplayRequests: @unchecked Sendable {
    struct Item {
        var facenet: [Float]
        var crops: [[Float]]  // one FPENet request per batch of faces
        var cropCounts: [Int]
    }

    let photos: [String]
    let items: [Item]
    let faceNetModel: String
    let landmarkModel: String

    init(photos: [String], documents: [ImageDocument], pipeline: DetectionPipeline) throws {
        self.photos = photos
        faceNetModel = pipeline.options.faceDetectModel
        landmarkModel = pipeline.options.landmarkModel
        var items: [Item] = []
        for (photo, document) in zip(photos, documents) {
            let image = try ImageDecoder.decode(path: photo, maxPixels: pipeline.options.maxPixels)
            var facenet = [Float](repeating: 0, count: Preprocess.faceNetInputCount)
            facenet.withUnsafeMutableBufferPointer {
                _ = Preprocess.faceNetInput(image, mode: pipeline.resizeMode, into: $0)
            }
            var crops: [[Float]] = []
            var counts: [Int] = []
            var start = 0
            let faces = document.faces ?? []
            while start < faces.count {
                let batch = faces[start..<min(faces.count, start + pipeline.landmarkBatch)]
                var tensor = [Float](repeating: 0, count: batch.count * Preprocess.landmarkInputCount)
                tensor.withUnsafeMutableBufferPointer { all in
                    for (i, face) in batch.enumerated() {
                        let n = Preprocess.landmarkInputCount
                        let b = face.bbox
                        _ = Preprocess.landmarkCrop(
                            image, box: (Double(b.x1), Double(b.y1), Double(b.x2), Double(b.y2)),
                            into: UnsafeMutableBufferPointer(rebasing: all[(i * n)..<((i + 1) * n)]))
                    }
                }
                crops.append(tensor)
                counts.append(batch.count)
                start += batch.count
            }
            items.append(Item(facenet: facenet, crops: crops, cropCounts: counts))
        }
        self.items = items
    }

    func facenetRequest(_ client: TritonClient, _ item: Item) throws {
        let input = TensorInput(name: TensorName.faceNetInput, datatype: .fp32, shape: [1, 3, 416, 736]) { raw in
            item.facenet.withUnsafeBytes { raw.copyMemory(from: $0) }
        }
        _ = try client.infer(model: faceNetModel, inputs: [input], outputs: [DetectBench.coverage, DetectBench.boxes])
    }

    func send(_ client: TritonClient, _ item: Item) throws {
        try facenetRequest(client, item)
        for (tensor, n) in zip(item.crops, item.cropCounts) {
            let input = TensorInput(name: TensorName.fpeNetInput, datatype: .fp32, shape: [n, 1, 80, 80]) { raw in
                tensor.withUnsafeBytes { raw.copyMemory(from: $0) }
            }
            _ = try client.infer(
                model: landmarkModel, inputs: [input], outputs: [TensorName.keypoints, TensorName.keypointConfidence])
        }
    }

    /// `count` images' requests, `concurrency` at a time.
    func run(client: TritonClient, count: Int, concurrency: Int) throws -> DetectBench.RoundResult {
        let state = ReplayState(count: count)
        let cpu0 = Measure.processCPU()
        let t0 = Bench.now()
        DispatchQueue.concurrentPerform(iterations: concurrency) { _ in
            while let i = state.next() {
                let item = items[i % items.count]
                do {
                    try send(client, item)
                    state.done(faces: item.cropCounts.reduce(0, +))
                } catch {
                    state.fail(error)
                }
            }
        }
        let wall = Bench.now() - t0
        let cpu = Measure.processCPU() - cpu0
        if let failure = state.failure { throw failure }
        return DetectBench.RoundResult(images: count, faces: state.faces, wall: wall, cpu: cpu)
    }

    struct TransportResult {
        var photo: String
        var http = TransportSamples()
        var shm = TransportSamples()
        var contaminated = 0
    }

    struct TransportSamples {
        /// Call to parsed reply, ms.
        var latency: [Double] = []
        /// The model's own execution (Triton's compute_infer for this request), ms.
        var infer: [Double] = []
        /// The calling thread's CPU, ms.
        var cpu: [Double] = []
        /// Everything but the model: latency - compute_infer, ms.
        var overhead: [Double] { zip(latency, infer).map { $0 - $1 } }
    }

    /// FaceNet requests of the photo with the most faces, alternating HTTP bodies and shared memory.
    /// Triton's statistics (`GET /v2/models/facenet/stats`) are read around each request so that
    /// the model's own time (dlib's HOG: ~100 ms, and noisy) can be taken out; a request during
    /// which the server counted another request (someone else using it) is not kept.
    func transportLatency(http: TritonClient, shm: TritonClient, repeats: Int, url: String) throws -> TransportResult {
        let index = items.indices.max { items[$0].cropCounts.reduce(0, +) < items[$1].cropCounts.reduce(0, +) } ?? 0
        let item = items[index]
        var result = TransportResult(photo: photos[index])
        let stats = try ModelStats(url: url, model: faceNetModel)
        try facenetRequest(http, item)
        try facenetRequest(shm, item)
        var i = 0
        var attempts = 0
        while result.shm.latency.count < repeats, attempts < 4 * repeats {
            let useShm = i % 2 == 1
            let before = try stats.read()
            let c0 = Measure.threadCPU()
            let t0 = Bench.now()
            try facenetRequest(useShm ? shm : http, item)
            let ms = (Bench.now() - t0) * 1000
            let cpu = (Measure.threadCPU() - c0) * 1000
            let after = try stats.read()
            if after.count - before.count != 1 {
                result.contaminated += 1
                attempts += 1
                continue  // retry the same transport
            }
            let infer = Double(after.inferNs - before.inferNs) / 1e6
            if useShm {
                result.shm.latency.append(ms)
                result.shm.infer.append(infer)
                result.shm.cpu.append(cpu)
            } else {
                result.http.latency.append(ms)
                result.http.infer.append(infer)
                result.http.cpu.append(cpu)
            }
            i += 1
            attempts += 1
        }
        return result
    }
}

/// Triton's cumulative statistics of one model.
struct ModelStats {
    let url: URL

    /// `url`: a TRITON_SERVER_URL value (its first server is asked).
    init(url: String, model: String) throws {
        let first = url.split(separator: ",").first.map(String.init) ?? url
        let base = first.contains("://") ? first : "http://" + first
        guard let url = URL(string: base + "/v2/models/\(model)/stats") else {
            throw BenchError("cannot make a statistics URL from \(first)")
        }
        self.url = url
    }

    /// Requests that succeeded, and the model's summed execution time.
    func read() throws -> (count: Int, inferNs: Int) {
        // Written by the completion handler, read after the semaphore says it ran.
        final class Box: @unchecked Sendable {
            var data: Data?
            var error: Error?
        }
        let box = Box()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: url) { data, _, error in
            box.data = data
            box.error = error
            done.signal()
        }.resume()
        done.wait()
        if let error = box.error { throw BenchError("cannot read \(url): \(error)") }
        guard let data = box.data,
            let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
            let model = (json["model_stats"] as? [[String: Any]])?.first,
            let stats = model["inference_stats"] as? [String: Any],
            let success = stats["success"] as? [String: Any],
            let infer = stats["compute_infer"] as? [String: Any]
        else { throw BenchError("unexpected statistics from \(url)") }
        func int(_ v: Any?) -> Int { (v as? NSNumber)?.intValue ?? Int("\(v ?? "")") ?? 0 }
        return (int(success["count"]), int(infer["ns"]))
    }
}

/// Hands out request indices to the replay workers and tallies them.
final class ReplayState: Sendable {
    private struct State {
        var index = 0
        var faces = 0
        var failure: String?
    }

    private let count: Int
    private let state = Mutex(State())

    init(count: Int) { self.count = count }

    func next() -> Int? {
        state.withLock { state in
            guard state.index < count, state.failure == nil else { return nil }
            defer { state.index += 1 }
            return state.index
        }
    }

    func done(faces: Int) { state.withLock { $0.faces += faces } }
    func fail(_ error: Error) { state.withLock { $0.failure = $0.failure ?? "\(error)" } }
    var faces: Int { state.withLock { $0.faces } }
    var failure: Error? { state.withLock { $0.failure.map(BenchError.init) } }
}

/// Decoder libraries alone: the floor under FaceScope's decode.
final class DecodeFloor {
    private let handle: tjhandle
    private var buffer: [UInt8] = []

    init() { handle = tjInitDecompress() }
    deinit { tjDestroy(handle) }

    private func reserve(_ n: Int) { if buffer.count < n { buffer = [UInt8](repeating: 0, count: n) } }

    func jpeg(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBufferPointer { d in
            var w: Int32 = 0
            var h: Int32 = 0
            var subsampling: Int32 = 0
            var colorspace: Int32 = 0
            guard tjDecompressHeader3(handle, d.baseAddress, UInt(d.count), &w, &h, &subsampling, &colorspace) == 0
            else { throw BenchError("TurboJPEG cannot read the header") }
            reserve(Int(w) * Int(h) * 3)
            let status = buffer.withUnsafeMutableBufferPointer { out in
                tjDecompress2(handle, d.baseAddress, UInt(d.count), out.baseAddress, w, 0, h, TJPF_RGB.rawValue, 0)
            }
            if status != 0 && tjGetErrorCode(handle) != Int32(TJERR_WARNING.rawValue) {
                throw BenchError("TurboJPEG cannot decode")
            }
        }
    }

    func png(_ bytes: [UInt8]) throws {
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        let ok = bytes.withUnsafeBufferPointer { d in png_image_begin_read_from_memory(&image, d.baseAddress, d.count) }
        guard ok != 0 else { throw BenchError("libpng cannot read the header") }
        image.format = UInt32(PNG_FORMAT_FLAG_COLOR)
        reserve(Int(image.width) * Int(image.height) * 3)
        let done = buffer.withUnsafeMutableBufferPointer { out in
            png_image_finish_read(&image, nil, out.baseAddress, 0, nil)
        }
        guard done != 0 else { throw BenchError("libpng cannot decode") }
    }
}
