import FaceScopeCore
import FaceScopeImaging
import FaceScopePipeline
import FaceScopeTriton
import Foundation

/// `facescope-bench phone`: twelve 12-megapixel JPEGs (4032x3024 stored, as phones write them),
/// made from the sample photos with Pillow's Lanczos enlargement at quality 90 in a temporary
/// folder: seven landscape (orientation 1) and five portrait photos stored turned (EXIF
/// orientation 6). In one run:
///  1. client CPU per photo: FaceScope with reduced-scale decoding, FaceScope decoding at full
///     size, and the Python reference client (bench/python_client.py), interleaved rounds;
///  2. decode CPU per photo at 1/1, 1/2, 1/4 and 1/8, and a face region's finer decode (lossless
///     crop + decode) against decoding the whole image at that scale;
///  3. faces, boxes, landmarks and descriptors of the reduced path against the full-size one.
struct PhoneBench {
    var detect: DetectBench

    static let landscape = 7
    static let portrait = 5

    /// Writes the twelve photos into `dir`; their paths.
    func makePhotos(in dir: String) throws -> [String] {
        let faces = detect.photos.filter { $0.contains("/faces/") }
        let sources = Array(detect.photos.prefix(Self.landscape))
        let turned = Array((faces + detect.photos.filter { !faces.contains($0) }).prefix(Self.portrait))
        let jobs = sources.map { ($0, 1) } + turned.map { ($0, 6) }
        let script = """
            import sys
            from PIL import Image
            out = sys.argv[1]
            for i, (src, o) in enumerate(zip(sys.argv[2::2], sys.argv[3::2])):
                o = int(o)
                im = Image.open(src).convert('RGB')
                W, H = (3024, 4032) if o >= 5 else (4032, 3024)
                s = max(W / im.width, H / im.height)
                im = im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS)
                l, t = (im.width - W) // 2, (im.height - H) // 2
                im = im.crop((l, t, l + W, t + H))
                if o == 6:
                    im = im.transpose(Image.ROTATE_90)
                exif = Image.Exif()
                exif[0x0112] = o
                name = src.rsplit('/', 1)[-1].rsplit('.', 1)[0]
                im.save(f"{out}/{i:02d}-{name}-o{o}.jpg", quality=90, exif=exif.tobytes())
            """
        let result = try Measure.spawn(
            detect.python, ["-c", script, dir] + jobs.flatMap { [$0.0, String($0.1)] }, stdoutPath: "/dev/null",
            stderrPath: dir + "/make.err")
        guard result.status == 0 else {
            let message = (try? String(contentsOfFile: dir + "/make.err", encoding: .utf8)) ?? ""
            throw BenchError("cannot make the 12-megapixel photos: \(message.suffix(1000))")
        }
        return try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".jpg") }.sorted()
            .map { dir + "/" + $0 }
    }

    func run() throws {
        let fmt = Bench.fmt
        let dir = NSTemporaryDirectory() + "facescope-phone-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        DetectBench.log("making twelve 12-megapixel JPEGs (Pillow, Lanczos, quality 90)")
        let photos = try makePhotos(in: dir)
        let bytes = photos.compactMap { FileManager.default.contents(atPath: $0)?.count }
        print("FaceScope phone-photo benchmark")
        print(
            "Triton \(detect.tritonURL); \(photos.count) JPEGs, 4032x3024 stored (\(Self.landscape) orientation 1, "
                + "\(Self.portrait) orientation 6), \(fmt(Double(bytes.reduce(0, +)) / Double(max(1, bytes.count)) / 1e6, 2)) MB "
                + "each on average: \(photos.map(DetectBench.name).joined(separator: ", "))")
        print(
            "\(detect.concurrency) images in flight for every client; \(detect.rounds) interleaved round(s) of "
                + "\(photos.count) images")

        let client = try TritonClient(url: detect.tritonURL)
        defer { client.close() }
        // As in `facescope-bench detect`: the Python client's work (FaceNet and FPENet).
        let reduced = try DetectionPipeline(client: client, options: PipelineOptions(recognitionModel: nil))
        let full = try DetectionPipeline(
            client: client, options: PipelineOptions(recognitionModel: nil, reducedDecode: false))
        let whole = try DetectionPipeline(
            client: client, options: PipelineOptions(recognitionModel: nil, cropRegions: false))
        print("FaceNet resize mode (declared by the model): \(reduced.resizeMode.rawValue)")

        DetectBench.log("warming up; accuracy against the full-size decode (with descriptors)")
        let accuracy = try compare(photos: photos, client: client)
        var documents: [String: ImageDocument] = [:]
        for photo in photos {
            documents[photo] = try reduced.analyze(ImageFile(path: photo, filename: photo))
            _ = try full.analyze(ImageFile(path: photo, filename: photo))
            _ = try whole.analyze(ImageFile(path: photo, filename: photo))
        }
        DetectBench.log("starting the Python client (warm-up pass)")
        let python = try LineProcess(
            detect.python,
            [detect.pythonClient, "--url", detect.tritonURL, "--concurrency", String(detect.concurrency)] + photos)
        defer { python.close() }
        let pythonFaces = (try python.request(nil))["faces"] as? [String: Int] ?? [:]
        let agree = photos.allSatisfy { pythonFaces[$0] == documents[$0]?.faceCount }
        print(
            "faces found, FaceScope / Python: "
                + photos.map {
                    "\(DetectBench.name($0)) \(documents[$0]?.faceCount ?? -1)/\(pythonFaces[$0].map(String.init) ?? "?")"
                }.joined(separator: ", "))
        if !agree { print("WARNING: the two clients disagree on some photo: the comparison is not like for like") }

        // 1. Client CPU, interleaved rounds.
        var bench = detect
        bench.photos = photos
        var results: [String: [DetectBench.RoundResult]] = [:]
        let variants = ["reduced", "whole", "full", "python"]
        for round in 0..<detect.rounds {
            for k in 0..<variants.count {
                let variant = variants[(k + round) % variants.count]
                let result: DetectBench.RoundResult
                switch variant {
                case "reduced": result = try bench.detect(reduced, count: photos.count)
                case "whole": result = try bench.detect(whole, count: photos.count)
                case "full": result = try bench.detect(full, count: photos.count)
                default:
                    let reply = try python.request("run \(photos.count)")
                    if let errors = reply["errors"] as? [String], !errors.isEmpty {
                        throw BenchError("the Python client failed: \(errors.joined(separator: "; "))")
                    }
                    result = DetectBench.RoundResult(
                        images: reply["images"] as? Int ?? 0, faces: reply["faces"] as? Int ?? 0,
                        wall: reply["wall_s"] as? Double ?? .nan, cpu: reply["cpu_s"] as? Double ?? .nan)
                }
                results[variant, default: []].append(result)
                DetectBench.log(
                    "round \(round + 1) \(variant): \(fmt(result.cpuPerImage * 1000, 1)) ms CPU/photo, \(result.faces) faces"
                )
            }
        }

        // 2. Decode CPU per scale, and a face region's finer decode.
        DetectBench.log("decode CPU per scale, \(detect.prepRepeats) repeats")
        let decodes = try decodeCosts(photos: photos, documents: documents, mode: reduced.resizeMode)

        print("")
        print("### Client CPU per 12-megapixel photo")
        print("")
        print(
            "Medians over rounds of the client process's user+system CPU (getrusage) per photo; ratios: median of "
                + "the per-round ratios to the Python client.")
        print("")
        print("| client | CPU ms/photo | vs Python | CPU per round, s | faces per round |")
        print("| --- | --- | --- | --- | --- |")
        for (key, label) in [
            ("reduced", "FaceScope, reduced-scale decoding (regions cropped losslessly)"),
            ("whole", "FaceScope, reduced-scale decoding (finer scales: whole image)"),
            ("full", "FaceScope, full-size decoding"),
            ("python", "Python: tritonclient[http] + numpy + Pillow (full-size decode)"),
        ] {
            let rounds = results[key, default: []]
            let ratio = DetectBench.pairedRatio(results, key, "python", \.cpuPerImage)
            print(
                "| \(label) | \(fmt(Measure.median(rounds.map(\.cpuPerImage)) * 1000, 1)) | "
                    + "\(key == "python" ? "" : fmt(ratio, 2)) | "
                    + "\(rounds.map { fmt($0.cpu, 2) }.joined(separator: ", ")) | "
                    + "\(Set(rounds.map(\.faces)).sorted().map(String.init).joined(separator: "/")) |")
        }
        let ratio = DetectBench.pairedRatio(results, "reduced", "python", \.cpuPerImage)
        print("")
        print(
            "Target: FaceScope's client CPU per 12-megapixel photo <= 0.15 of the Python client's, same faces: "
                + "\(fmt(ratio, 2)) (\(ratio <= 0.15 && agree ? "met" : "MISSED")).")

        print("")
        print("### Decode CPU per scale")
        print("")
        print(
            "One thread, bytes in memory, CPU time of the calling thread; median over \(detect.prepRepeats) repeats "
                + "per photo, then the median over the photos. `ScaledJPEG.decode` (TurboJPEG tjDecompress2 at the "
                + "scaled size, EXIF orientation applied).")
        print("")
        print("| scale | decoded size | ms per photo | vs 1/1 |")
        print("| --- | --- | --- | --- |")
        let fullMs = decodes.scales[DecodeScale.full] ?? .nan
        for scale in DecodeScale.all.reversed() {
            let ms = decodes.scales[scale] ?? .nan
            print(
                "| \(scale) | \(scale.scaled(4032))x\(scale.scaled(3024)) | \(fmt(ms, 2)) | \(fmt(ms / fullMs, 2)) |")
        }
        print("")
        print(
            "The smallest face of each photo whose chip needs a finer decode than the detector's "
                + "(\(decodes.regionCount) photos): its region (landmark square and the margin for its chip, "
                + "\(fmt(decodes.regionSide, 0)) pixels square on average), against the whole image at that scale:")
        print("")
        print("| finer decode | ms per face | note |")
        print("| --- | --- | --- |")
        for (scale, ms) in decodes.regions.sorted(by: { $0.key > $1.key }) {
            print("| region at \(scale): lossless crop (tjTransform) + decode | \(fmt(ms, 2)) | |")
            print(
                "| whole image at \(scale) | \(fmt(decodes.scales[scale] ?? .nan, 2)) | the fallback "
                    + "(`cropRegions: false`) |")
        }

        print("")
        print("### Accuracy against the full-size decode")
        print("")
        print(
            "The same photos through the CLI's default pipeline (landmarks and descriptors), reduced-scale against "
                + "full-size decoding; each face matched to the full-size face its box overlaps most. Landmark "
                + "error: mean distance over the stored (integer) keypoints, as a fraction of the inter-ocular "
                + "distance. Descriptor distance: Euclidean, dlib's same-person threshold is 0.6.")
        print("")
        print(
            "| | faces | box IoU, min | landmark error, median | landmark error, max | descriptor distance, median | descriptor distance, max |"
        )
        print("| --- | --- | --- | --- | --- | --- | --- |")
        for row in accuracy {
            print(
                "| \(row.label) | \(row.faces) (full size: \(row.fullFaces)) | \(fmt(row.iou.min() ?? .nan, 3)) | "
                    + "\(fmt(Measure.median(row.landmarks), 4)) | \(fmt(row.landmarks.max() ?? .nan, 4)) | "
                    + "\(fmt(Measure.median(row.descriptors), 3)) | \(fmt(row.descriptors.max() ?? .nan, 3)) |")
        }
    }

    struct Decodes {
        var scales: [DecodeScale: Double] = [:]
        var regions: [DecodeScale: Double] = [:]
        var regionSide = 0.0
        var regionCount = 0
    }

    /// Median thread CPU ms of `body` over the repeats.
    func cpu(_ body: () throws -> Void) rethrows -> Double {
        var samples: [Double] = []
        for _ in 0..<detect.prepRepeats {
            let c0 = Measure.threadCPU()
            try body()
            samples.append((Measure.threadCPU() - c0) * 1000)
        }
        return Measure.median(samples)
    }

    func decodeCosts(photos: [String], documents: [String: ImageDocument], mode: ResizeMode) throws -> Decodes {
        var result = Decodes()
        var perScale: [DecodeScale: [Double]] = [:]
        var perRegion: [DecodeScale: [Double]] = [:]
        var sides: [Double] = []
        for photo in photos {
            let data = try ImageDecoder.readFile(photo)
            guard let jpeg = try ScaledJPEG(bytes: data, name: photo, maxPixels: 100_000_000) else { continue }
            for scale in DecodeScale.all {
                perScale[scale, default: []].append(try cpu { _ = try jpeg.decode(scale: scale) })
            }
            // The smallest face's region, as ImageViews asks for it with descriptors on, where its
            // chip needs a finer decode than the detector's.
            let detector = try ImageViews(jpeg: jpeg, resizeMode: mode).detection.scale
            guard let face = documents[photo]?.faces?.min(by: { $0.bbox.width < $1.bbox.width }) else { continue }
            let b = face.bbox
            let square = Preprocess.landmarkSquare(
                box: (Double(b.x1), Double(b.y1), Double(b.x2), Double(b.y2)), imageWidth: jpeg.width,
                imageHeight: jpeg.height)
            let scale = DecodePlan.cropScale(fullPixelsPerOutput: square.width / ImageViews.chipPixelsPerSquarePixel)
            let m = square.width * ImageViews.regionMargin
            // Regions over ImageViews.regionAreaLimit of the image are not cropped.
            let side = min(Double(jpeg.width), square.width + 2 * m) * min(Double(jpeg.height), square.width + 2 * m)
            guard scale > detector, side <= ImageViews.regionAreaLimit * Double(jpeg.width * jpeg.height) else {
                continue
            }
            sides.append(square.width + 2 * m)
            let region = (square.x0 - m, square.y0 - m, square.x0 + square.width + m, square.y0 + square.width + m)
            perRegion[scale, default: []].append(
                try cpu {
                    guard jpeg.decodeRegions([(region.0, region.1, region.2, region.3, scale)]) != nil else {
                        throw BenchError("\(photo): the region could not be cropped")
                    }
                })
        }
        result.scales = perScale.mapValues { Measure.median($0) }
        result.regions = perRegion.mapValues { Measure.median($0) }
        result.regionCount = sides.count
        result.regionSide = sides.isEmpty ? .nan : sides.reduce(0, +) / Double(sides.count)
        return result
    }

    struct AccuracyRow {
        var label: String
        var faces = 0
        var fullFaces = 0
        var iou: [Double] = []
        var landmarks: [Double] = []
        var descriptors: [Double] = []
    }

    /// The CLI's pipeline (descriptors on) with reduced-scale decoding, regions and whole-image
    /// finer decodes, against full-size decoding.
    func compare(photos: [String], client: TritonClient) throws -> [AccuracyRow] {
        let full = try DetectionPipeline(client: client, options: PipelineOptions(reducedDecode: false))
        var rows = [AccuracyRow(label: "reduced scales, regions"), AccuracyRow(label: "reduced scales, whole image")]
        let pipelines = [
            try DetectionPipeline(client: client, options: PipelineOptions()),
            try DetectionPipeline(client: client, options: PipelineOptions(cropRegions: false)),
        ]
        for photo in photos {
            let file = ImageFile(path: photo, filename: photo)
            let reference = try full.analyze(file).faces ?? []
            for (k, pipeline) in pipelines.enumerated() {
                let faces = try pipeline.analyze(file).faces ?? []
                rows[k].faces += faces.count
                rows[k].fullFaces += reference.count
                for face in faces {
                    guard let match = reference.max(by: { $0.bbox.iou(face.bbox) < $1.bbox.iou(face.bbox) }) else {
                        continue
                    }
                    rows[k].iou.append(face.bbox.iou(match.bbox))
                    if let a = face.descriptors, let b = match.descriptors,
                        let error = try? Self.landmarkError(a, b)
                    {
                        rows[k].landmarks.append(error)
                    }
                    if let a = face.embedding, let b = match.embedding {
                        rows[k].descriptors.append(Double(FaceIdentities.distance(a, b)))
                    }
                }
            }
        }
        return rows
    }

    /// Mean keypoint distance over the inter-ocular distance of `reference`.
    static func landmarkError(_ descriptors: JSONValue, _ reference: JSONValue) throws -> Double {
        let a = try FaceLandmarks.points(fromDescriptors: descriptors)
        let b = try FaceLandmarks.points(fromDescriptors: reference)
        guard a.map(\.index) == b.map(\.index), !a.isEmpty else { return .nan }
        func eye(_ r: ClosedRange<Int>) -> (Double, Double) {
            let p = b.filter { r.contains($0.index) }
            let n = Double(max(1, p.count))
            return (Double(p.map(\.x).reduce(0, +)) / n, Double(p.map(\.y).reduce(0, +)) / n)
        }
        let (l, r) = (eye(36...41), eye(42...47))
        let interocular = ((l.0 - r.0) * (l.0 - r.0) + (l.1 - r.1) * (l.1 - r.1)).squareRoot()
        let mean =
            zip(a, b).map { p, q in Double((p.x - q.x) * (p.x - q.x) + (p.y - q.y) * (p.y - q.y)).squareRoot() }
            .reduce(0, +) / Double(a.count)
        return mean / interocular
    }
}
