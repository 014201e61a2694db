import FaceScopeCore
import FaceScopePipeline
import FaceScopeTriton
import Foundation
import Testing

@Test("FACESCOPE_ENCODED_MODEL reaches the pipeline options; empty means raw tensors")
func encodedModelSetting() throws {
    let unset = try Settings.resolve(flags: [:], environment: [:], dotenv: [:])
    #expect(unset.encodedModel.isEmpty)
    #expect(PipelineOptions(settings: unset).encodedModel == nil)
    let set = try Settings.resolve(
        flags: [:], environment: ["FACESCOPE_ENCODED_MODEL": "facenet_encoded"], dotenv: [:])
    #expect(PipelineOptions(settings: set).encodedModel == "facenet_encoded")
    let flag = try Settings.resolve(
        flags: [.encodedModel: "other"], environment: ["FACESCOPE_ENCODED_MODEL": "facenet_encoded"], dotenv: [:])
    #expect(flag.encodedModel == "other")
}

/// The encoded-image detector (`facenet_encoded`, the CPU backend's stand-in for the GPU
/// ensemble) against the raw-tensor path on the same photos.
@Suite("Detection with the encoded-image model", .enabled(if: Services.available))
struct EncodedPipelineTests {
    static let model = "facenet_encoded"
    static let photos = [
        "faces/group-6-faces.jpg", "faces/portrait-grace-hopper.jpg", "faces/portrait-astronaut.png",
        "faces/portrait-football.jpg", "no-faces/fruits.jpg", "no-faces/starry-night.jpg",
    ]

    static func encodedPipeline() throws -> DetectionPipeline {
        try Services.pipeline(PipelineOptions(encodedModel: model))
    }

    func box(_ face: Face) -> DetectionBox {
        DetectionBox(
            x1: Double(face.bbox.x1), y1: Double(face.bbox.y1), x2: Double(face.bbox.x2), y2: Double(face.bbox.y2))
    }

    @Test("the same faces, boxes (IoU > 0.9) and image size as raw tensors", arguments: photos)
    func sameFacesAsRawTensors(name: String) throws {
        let file = Services.photo(name)
        let raw = try Services.pipeline().analyze(file)
        let pipeline = try Self.encodedPipeline()
        // The CPU backend's encoded model declares letterbox, as its facenet does.
        #expect(pipeline.encoded?.model == Self.model)
        #expect(pipeline.encoded?.resizeMode == .letterbox)
        #expect(pipeline.encoded?.batched == true)
        let encoded = try pipeline.analyze(file)
        #expect(encoded.filename == name)
        #expect(encoded.faceCount == raw.faceCount)
        #expect(encoded.width == raw.width && encoded.height == raw.height && encoded.channels == raw.channels)
        for face in raw.faces ?? [] {
            let best = (encoded.faces ?? []).map { box($0).iou(box(face)) }.max() ?? 0
            #expect(best > 0.9, "best IoU \(best) for the raw path's \(face.bbox) in \(name)")
        }
        // Landmarks still come from the local decode's crops.
        for face in encoded.faces ?? [] {
            #expect(face.rotation != nil)
            #expect(try FaceLandmarks.points(fromDescriptors: face.descriptors ?? .null).count == 68)
        }
    }

    @Test("the request carries the file's bytes, not FaceNet's 3.6 MB tensor", arguments: photos)
    func requestIsTheFile(name: String) throws {
        let file = Services.photo(name)
        let size = try #require(
            try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? NSNumber
        ).intValue
        let input = try #require(try Self.encodedPipeline().encodedInputForTesting(file))
        #expect(input.name == "image_bytes" && input.datatype == .uint8)
        #expect(input.shape == [1, size])
        #expect(input.byteCount == size)
        #expect(input.byteCount < 3 * 416 * 736 * 4 / 4)
        #expect(try Services.pipeline().encodedInputForTesting(file) == nil, "raw tensors by default")
    }

    @Test("a resize mode that contradicts the server's is refused")
    func conflictingResizeMode() throws {
        do {
            _ = try Services.pipeline(PipelineOptions(resizeMode: .stretch, encodedModel: Self.model))
            Issue.record("stretch was accepted for a model that letterboxes")
        } catch {
            #expect("\(error)".contains(Self.model), "\(error)")
            #expect("\(error)".contains("letterbox"), "\(error)")
        }
    }

    @Test("a missing encoded-image model is named")
    func missingModel() throws {
        do {
            _ = try Services.pipeline(PipelineOptions(encodedModel: "no_such_model"))
            Issue.record("a pipeline was made with a missing model")
        } catch {
            #expect("\(error)".contains("no_such_model"), "\(error)")
        }
    }

    @Test("a model of the wrong contract is refused")
    func wrongContract() throws {
        do {
            _ = try Services.pipeline(PipelineOptions(encodedModel: "facenet"))
            Issue.record("facenet was accepted as an encoded-image model")
        } catch {
            #expect("\(error)".contains("image_bytes"), "\(error)")
        }
    }

    @Test("bad files fail with the file named before anything is sent")
    func badFile() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fs-enc-\(UUID().uuidString).jpg")
        try Data("just some text".utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        do {
            _ = try Self.encodedPipeline().analyze(ImageFile(path: url.path, filename: "notes.jpg"))
            Issue.record("a text file was accepted")
        } catch {
            #expect("\(error)".contains(url.lastPathComponent), "\(error)")
            #expect("\(error)".contains("not an image"), "\(error)")
        }
    }
}
