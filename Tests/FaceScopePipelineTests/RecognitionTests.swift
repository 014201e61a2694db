import FaceScopeCore
import FaceScopeImaging
import FaceScopePipeline
import FaceScopeRedis
import FaceScopeTriton
import Foundation
import Testing

@Suite("Face recognition through the real Triton CPU backend", .enabled(if: Services.available), .serialized)
struct RecognitionTests {
    @Test("descriptors through Triton equal dlib's computed directly on the same chip")
    func descriptorsMatchDlib() throws {
        let pipeline = try Services.pipeline()
        let file = Services.photo("faces/portrait-grace-hopper.jpg")
        let image = try ImageDecoder.decode(path: file.path, maxPixels: 100_000_000)
        let faces = try pipeline.detectFaces(in: image, name: file.path)
        let face = try #require(faces.first)
        let tritonEmbedding = try #require(face.embedding)
        // The same chip, made again from the unrounded keypoints the pipeline used, handed to
        // dlib directly.
        let detections = try pipeline.runDetectorForTesting(image, name: file.path)
        let exact = try pipeline.runLandmarksForTesting(image, detections: detections, name: file.path)
        let alignment = try #require(FaceAlignment.align(exact[0]))
        var chip = [UInt8](repeating: 0, count: 150 * 150 * 3)
        chip.withUnsafeMutableBufferPointer { Preprocess.faceChip(image, alignment: alignment, into: $0) }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("chip-\(UUID().uuidString).rgb")
        try Data(chip).write(to: path)
        defer { try? FileManager.default.removeItem(at: path) }
        let output = try Services.python([Services.repository + "/backends/cpu/reference.py", "--chip", path.path])
        let direct =
            try JSONValue.parse(output.trimmingCharacters(in: .whitespacesAndNewlines))["embedding"]?
            .arrayValue?.compactMap(\.doubleValue).map { Float($0) } ?? []
        try #require(direct.count == 128)
        let distance = FaceIdentities.distance(tritonEmbedding, direct)
        #expect(distance < 0.01, "distance \(distance)")
    }

    @Test("the group photo is six people, a changed copy of it the same six, each portrait its own person")
    func identities() throws {
        guard let redisURL = Services.redisURL else {
            Issue.record("FACESCOPE_TEST_REDIS_URL is not set")
            return
        }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-people-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The same photo rescaled, recompressed and mirrored, in a second file.
        let group = Services.dataDirectory + "/faces/group-6-faces.jpg"
        let copy = dir.appendingPathComponent("group-copy.jpg").path
        _ = try Services.python([
            "-c",
            "import sys; from PIL import Image, ImageOps; im = Image.open(sys.argv[1]).convert('RGB'); "
                + "im = ImageOps.mirror(im.resize((int(im.width * 0.8), int(im.height * 0.8)), Image.LANCZOS)); "
                + "im.save(sys.argv[2], quality=70)",
            group, copy,
        ])
        var generator = ULIDGenerator()
        let settings = try Settings.resolve(
            flags: [.redisURL: redisURL, .keyPrefix: ":r\(generator.next().suffix(8)).Model:"], environment: [:],
            dotenv: [:])
        let store = try RedisStore.open(settings: settings)
        defer { try? store.destroyEverything() }
        let files = [
            ImageFile(path: group, filename: "group.jpg"), ImageFile(path: copy, filename: "group-copy.jpg"),
            Services.photo("faces/portrait-grace-hopper.jpg"), Services.photo("faces/portrait-astronaut.png"),
            Services.photo("faces/portrait-football.jpg"),
        ]
        let summary = try DetectionRun(pipeline: try Services.pipeline(), store: store).run(files, force: false) { _ in
        }
        #expect(summary.failed == 0)
        let faces = try store.facesWithEmbeddings()
        let assigned = FaceIdentities.assign(
            descriptors: faces.compactMap(\.face.embedding), existing: faces.map(\.face.label), threshold: 0.5)
        try store.setLabels(zip(faces, assigned).map { (face: $0.0, label: Optional($0.1)) })
        func labels(of filename: String) throws -> [Int] {
            try store.get(filename: filename)?.faces?.compactMap(\.label) ?? []
        }
        let original = try labels(of: "group.jpg")
        let changed = try labels(of: "group-copy.jpg")
        #expect(original.count == 6 && Set(original).count == 6, "\(original)")
        #expect(Set(changed) == Set(original), "copy \(changed) vs original \(original)")
        var seen = Set(original)
        for portrait in [
            "faces/portrait-grace-hopper.jpg", "faces/portrait-astronaut.png", "faces/portrait-football.jpg",
        ] {
            let label = try labels(of: portrait)
            #expect(label.count == 1)
            #expect(seen.isDisjoint(with: label), "\(portrait) shares a label: \(label)")
            seen.formUnion(label)
        }
        // Clustering again (incrementally or afresh) keeps the labels.
        let again = FaceIdentities.assign(
            descriptors: faces.compactMap(\.face.embedding), existing: assigned.map(Optional.some), threshold: 0.5,
            relabelAll: true)
        #expect(again == assigned)
        // Similar faces: the copy's mirror image of a face is its nearest neighbour.
        let first = try #require(try store.get(filename: "group.jpg")?.faces?.first)
        let nearest = try store.similarFaces(to: try #require(first.embedding), limit: 1, excludingFace: first.pk)
        #expect(nearest.first?.stored.filename == "group-copy.jpg")
        #expect(nearest.first?.stored.face.label == first.label)
    }
}
