import FaceScopeCore
import FaceScopePipeline
import FaceScopeRedis
import FaceScopeTriton
import Foundation
import Testing

/// The real services scripts/test.sh starts: the Triton CPU backend and Redis Stack.
enum Services {
    static let environment = ProcessInfo.processInfo.environment
    static let tritonURL = environment["FACESCOPE_TRITON_URL"]
    static let redisURL = environment["FACESCOPE_TEST_REDIS_URL"]
    static let required = environment["FACESCOPE_REQUIRE_SERVICES"] == "1"
    static var available: Bool { tritonURL != nil || required }

    /// The shared sample photos beside the checkout (../shared/data).
    static let dataDirectory: String = {
        if let dir = environment["FACESCOPE_SAMPLE_DATA"] { return dir }
        let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        return here.appendingPathComponent("../../../shared/data").standardizedFileURL.path
    }()

    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../..").standardizedFileURL.path

    static func client() throws -> TritonClient {
        guard let tritonURL else {
            Issue.record("FACESCOPE_TRITON_URL is not set: run the tests with scripts/test.sh")
            throw FaceScopeError.usage("no Triton")
        }
        return try TritonClient(url: tritonURL)
    }

    static func pipeline(_ options: PipelineOptions = PipelineOptions()) throws -> DetectionPipeline {
        try DetectionPipeline(client: try client(), options: options)
    }

    static func photo(_ name: String) -> ImageFile {
        ImageFile(path: dataDirectory + "/" + name, filename: name)
    }

    /// Runs the services' Python (scripts/test.sh says which) with arguments; its standard output.
    static func python(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(
            fileURLWithPath: environment["FACESCOPE_PYTHON"] ?? repository + "/.services/venv/bin/python")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "python \(arguments.prefix(2))")
        return String(decoding: data, as: UTF8.self)
    }

    /// dlib run directly on the image (backends/cpu/reference.py), for comparison.
    static func reference(_ path: String, boxes: [BoundingBox]? = nil, crop: Int? = nil) throws -> JSONValue {
        var arguments = [repository + "/backends/cpu/reference.py", path]
        if let boxes {
            arguments += ["--boxes", boxes.map { "\($0.x1),\($0.y1),\($0.x2),\($0.y2)" }.joined(separator: ";")]
        }
        if let crop { arguments += ["--crop", String(crop)] }
        return try JSONValue.parse(try python(arguments).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

@Suite("Detection through the real Triton CPU backend", .enabled(if: Services.available))
struct PipelineTests {
    @Test(
        "face counts on the sample photos",
        arguments: [
            ("faces/group-6-faces.jpg", 6), ("faces/portrait-grace-hopper.jpg", 1), ("faces/portrait-astronaut.png", 1),
            ("faces/portrait-football.jpg", 1), ("no-faces/fruits.jpg", 0), ("no-faces/starry-night.jpg", 0),
        ])
    func counts(name: String, expected: Int) throws {
        let document = try Services.pipeline().analyze(Services.photo(name))
        #expect(document.faceCount == expected)
        #expect(document.filename == name)
        #expect((document.width ?? 0) > 0 && (document.height ?? 0) > 0)
        #expect(document.portrait == ((document.height ?? 0) > (document.width ?? 0) ? 1 : 0))
        for face in document.faces ?? [] {
            #expect((0...100).contains(face.probability))
            #expect(face.bbox.x1 < face.bbox.x2 && face.bbox.y1 < face.bbox.y2)
            #expect(face.rotation != nil)
            let points = try FaceLandmarks.points(fromDescriptors: face.descriptors ?? .null)
            #expect(points.count == 68)
        }
    }

    static let comparedPhotos = [
        "faces/group-6-faces.jpg", "faces/portrait-grace-hopper.jpg", "faces/portrait-football.jpg",
    ]

    @Test("every face dlib's detector finds directly is found, by IoU", arguments: comparedPhotos)
    func boxesMatchDlib(name: String) throws {
        let file = Services.photo(name)
        let document = try Services.pipeline().analyze(file)
        let expected = try Services.reference(file.path)["faces"]?.arrayValue ?? []
        #expect(!expected.isEmpty)
        #expect(expected.count == document.faceCount)
        for face in expected {
            let box = face["box"]?.arrayValue?.compactMap(\.doubleValue) ?? []
            try #require(box.count == 4)
            let truth = DetectionBox(x1: box[0], y1: box[1], x2: box[2], y2: box[3])
            let best = (document.faces ?? []).map { detected($0).iou(truth) }.max() ?? 0
            // The detector sees the image scaled to 736x416; dlib's own run sees it at full size.
            #expect(best > 0.5, "best IoU \(best) for dlib's \(truth) in \(name)")
        }
    }

    /// dlib's predictor run directly (no Triton) on the input FPENet's contract defines (the square
    /// gray 80x80 crop of each face FaceScope found): checks the crop, the transport and the
    /// mapping back. (Against the predictor at full resolution dlib itself differs by up to 16%
    /// of the interocular distance on one face of the group photo: a property of dlib's cascade
    /// at 80 px, not of FaceScope; see docs/cpu-backend.md.)
    @Test("landmarks agree with dlib's predictor run directly on the same input", arguments: comparedPhotos)
    func landmarksMatchDlib(name: String) throws {
        let file = Services.photo(name)
        let faces = try Services.pipeline().analyze(file).faces ?? []
        try #require(!faces.isEmpty)
        let expected =
            try Services.reference(file.path, boxes: faces.map(\.bbox), crop: 80)["faces"]?.arrayValue ?? []
        try #require(expected.count == faces.count)
        for (face, truth) in zip(faces, expected) {
            let points = try FaceLandmarks.points(fromDescriptors: face.descriptors ?? .null)
            let truthPoints =
                truth["landmarks"]?.arrayValue?.map { $0.arrayValue?.compactMap(\.doubleValue) ?? [] } ?? []
            try #require(truthPoints.count == 68 && points.count == 68)
            func centre(_ r: ClosedRange<Int>) -> (Double, Double) {
                (r.map { truthPoints[$0][0] }.reduce(0, +) / 6, r.map { truthPoints[$0][1] }.reduce(0, +) / 6)
            }
            let (l, r) = (centre(36...41), centre(42...47))
            let interocular = ((l.0 - r.0) * (l.0 - r.0) + (l.1 - r.1) * (l.1 - r.1)).squareRoot()
            var total = 0.0
            for p in points {
                let t = truthPoints[p.index]
                total += ((Double(p.x) - t[0]) * (Double(p.x) - t[0]) + (Double(p.y) - t[1]) * (Double(p.y) - t[1]))
                    .squareRoot()
            }
            let error = total / 68 / interocular
            // Mean error over the 68 points, as a share of the interocular distance.
            #expect(error < 0.05, "mean landmark error \(error) of the interocular distance in \(name)")
        }
    }

    func detected(_ face: Face) -> DetectionBox {
        DetectionBox(
            x1: Double(face.bbox.x1), y1: Double(face.bbox.y1), x2: Double(face.bbox.x2), y2: Double(face.bbox.y2))
    }

    @Test("bad files fail with the file and the cause named")
    func badFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let jpeg = try Data(
            contentsOf: URL(fileURLWithPath: Services.dataDirectory + "/faces/portrait-grace-hopper.jpg"))
        let cases: [(String, Data, String)] = [
            ("truncated.jpg", jpeg.prefix(jpeg.count / 2), "truncated"),
            ("notes.jpg", Data("just some text".utf8), "not an image"),
            ("empty.png", Data(), "empty"),
        ]
        let pipeline = try Services.pipeline()
        for (name, data, reason) in cases {
            let url = dir.appendingPathComponent(name)
            try data.write(to: url)
            do {
                _ = try pipeline.analyze(ImageFile(path: url.path, filename: name))
                Issue.record("\(name) was accepted")
            } catch {
                #expect(error.description.contains(name), "\(error)")
                #expect(error.description.contains(reason), "\(error)")
            }
        }
    }

    @Test("a Triton that is down gets a clear error")
    func serverDown() throws {
        let client = try TritonClient(
            url: "127.0.0.1:1", configuration: TritonClient.Configuration(connectTimeout: 1, maxRetries: 1))
        do {
            _ = try DetectionPipeline(client: client, options: PipelineOptions())
            Issue.record("a pipeline was made without a server")
        } catch {
            #expect(error.description.contains("127.0.0.1:1"), "\(error)")
        }
    }

    @Test("a run stores every image once, skips stored ones, and re-detects in place with --force")
    func runAndStore() throws {
        guard let redisURL = Services.redisURL else {
            Issue.record("FACESCOPE_TEST_REDIS_URL is not set")
            return
        }
        var generator = ULIDGenerator()
        let settings = try Settings.resolve(
            flags: [.redisURL: redisURL, .keyPrefix: ":p\(generator.next().suffix(8)).Model:"], environment: [:],
            dotenv: [:])
        let store = try RedisStore.open(settings: settings)
        defer { try? store.destroyEverything() }
        let files = ["faces/portrait-grace-hopper.jpg", "no-faces/starry-night.jpg", "faces/group-6-faces.jpg"]
            .map(Services.photo)
        let run = DetectionRun(pipeline: try Services.pipeline(), store: store, concurrency: 2)
        let events = EventLog()
        let first = try run.run(files, force: false) { events.add($0) }
        #expect(first.images == 3 && first.faces == 7 && first.failed == 0)
        let stored = try store.list()
        #expect(stored.map(\.filename) == files.map(\.filename).sorted())
        let second = try run.run(files, force: false) { _ in }
        #expect(second.images == 0 && second.skipped == 3)
        let third = try run.run(files, force: true) { _ in }
        #expect(third.images == 3)
        #expect(try store.list().map(\.pk) == stored.map(\.pk))
        #expect(try store.count() == 3)
    }
}

final class EventLog: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var events: [DetectionEvent] = []
    func add(_ event: DetectionEvent) { lock.withLock { events.append(event) } }
}
