import FaceScopeCore
import FaceScopeImaging
import FaceScopeTriton
import Foundation
import Synchronization

/// How detection runs: models, preprocessing and post-processing settings.
public struct PipelineOptions: Sendable {
    /// Triton model names and version (`FACE_DETECT_MODEL_NAME`, `FPENET_MODEL_NAME`, `MODEL_VERSION`).
    public var faceDetectModel: String
    public var landmarkModel: String
    public var modelVersion: String?
    /// How images are fitted to FaceNet's 736x416 input; nil follows what the model declares in
    /// its config `parameters` (`resize_mode`), stretch when it declares nothing (NVIDIA's FaceNet).
    public var resizeMode: ResizeMode?
    /// Thresholds, clustering and the minimum face size.
    public var detection: DetectionSettings
    /// Images with more pixels than this are refused before decoding (decompression bombs).
    public var maxPixels: Int
    /// Whether to run the landmark model on the faces found.
    public var landmarks: Bool
    /// The face descriptor model (`FACE_RECOGNITION_MODEL_NAME`); nil skips descriptors. When the
    /// server does not have it, descriptors are skipped unless `requireRecognition`.
    public var recognitionModel: String?
    public var requireRecognition: Bool
    /// A detector that takes each image file's bytes and decodes and resizes on the server
    /// (`FACESCOPE_ENCODED_MODEL`, e.g. `facenet_encoded`); nil sends FaceNet's raw input tensor.
    public var encodedModel: String?
    /// Whether JPEGs are decoded at reduced DCT scales (1/2, 1/4, 1/8): the coarsest that still
    /// gives FaceNet its input without enlarging, then face regions at the scale their crops need
    /// (see ``DecodePlan``). Off: every image decoded at full size.
    public var reducedDecode: Bool
    /// Where a face needs a finer scale than the detector's decode: its region cropped from the
    /// JPEG (`tjTransform`) and decoded, or (false) the whole image decoded at that scale.
    public var cropRegions: Bool

    public init(
        faceDetectModel: String = "facenet", landmarkModel: String = "fpenet", modelVersion: String? = nil,
        resizeMode: ResizeMode? = nil, detection: DetectionSettings = DetectionSettings(),
        maxPixels: Int = 100_000_000, landmarks: Bool = true, recognitionModel: String? = "facerec",
        requireRecognition: Bool = false, encodedModel: String? = nil, reducedDecode: Bool = true,
        cropRegions: Bool = true
    ) {
        self.reducedDecode = reducedDecode
        self.cropRegions = cropRegions
        self.encodedModel = encodedModel
        self.recognitionModel = recognitionModel
        self.requireRecognition = requireRecognition
        self.faceDetectModel = faceDetectModel
        self.landmarkModel = landmarkModel
        self.modelVersion = modelVersion
        self.resizeMode = resizeMode
        self.detection = detection
        self.maxPixels = maxPixels
        self.landmarks = landmarks
    }
}

/// Finds faces and their 80 landmarks in one image at a time through Triton: decode, FaceNet,
/// GridBox decoding and clustering, FPENet on square crops (batched), regions and roll. Safe to
/// call from several threads at once; each call is independent.
public final class DetectionPipeline: ImageAnalyzer {
    public let client: TritonClient
    public let options: PipelineOptions
    /// The resize mode in force (the option, else the model's declaration, else stretch).
    public let resizeMode: ResizeMode
    /// Faces per FPENet request: the model's max_batch_size (1 when it does not batch).
    public let landmarkBatch: Int
    /// The descriptor model in use, and faces per request; nil when descriptors are skipped.
    public let recognition: (model: String, batch: Int)?
    /// Why descriptors are skipped, when they are.
    public let recognitionNote: String?
    /// Whether they are skipped because the descriptor model does not fit its contract (worth a
    /// warning, unlike a model that is simply not there).
    public let recognitionUnfit: Bool
    /// The input datatypes the models take (the contracts' own, or an accepted alternative the
    /// client converts to: FP16 for FaceNet and FPENet, FP32 or FP16 for the face chip).
    public let detectorInput: TensorDataType
    public let landmarkInput: TensorDataType
    public let recognitionInput: TensorDataType
    /// The encoded-image detector `analyze` uses, with the resize mode it declares (the frame the
    /// server makes) and whether it batches (requests then carry a batch dimension); nil: raw tensors.
    public let encoded: (model: String, resizeMode: ResizeMode, batched: Bool)?

    static let coverageName = TensorName.coverage
    static let boxesName = TensorName.boxes
    static let imageShapeName = TensorName.imageShape

    /// Checks that both models are ready and match their contracts (names, datatypes, shapes), and
    /// reads how the detector wants its input resized.
    public init(client: TritonClient, options: PipelineOptions) throws(InferenceError) {
        self.client = client
        self.options = options
        let version = options.modelVersion
        var inputTypes: [TensorDataType] = [.fp32, .fp32]
        for (k, (model, contract, input)) in [
            (options.faceDetectModel, ModelContract.faceNet, TensorName.faceNetInput),
            (options.landmarkModel, ModelContract.fpeNet, TensorName.fpeNetInput),
        ].enumerated() where k == 0 || options.landmarks {
            guard try client.modelReady(model, version: version) else {
                throw .rejected(
                    "model '\(TerminalText.sanitize(model))' is not ready on Triton at \(client.endpoints) "
                        + "(is it in the model repository? see GET /v2/repository/index)")
            }
            let config = try client.verify(model: model, version: version, contract: contract)
            inputTypes[k] = contract.inputDatatype(input, in: config)
        }
        detectorInput = inputTypes[0]
        landmarkInput = inputTypes[1]
        let detector = try client.modelConfig(options.faceDetectModel, version: version)
        if let mode = options.resizeMode {
            resizeMode = mode
        } else {
            resizeMode = try Self.declaredResizeMode(detector)
        }
        if let model = options.encodedModel {
            guard try client.modelReady(model, version: version) else {
                throw .rejected(
                    "the encoded-image model '\(TerminalText.sanitize(model))' is not ready on Triton at "
                        + "\(client.endpoints) (FACESCOPE_ENCODED_MODEL; empty sends raw tensors)")
            }
            let config = try client.verify(model: model, version: version, contract: .faceNetEncoded)
            // The server resizes: boxes map back the way it declares, whatever the client would do.
            let mode = try Self.declaredResizeMode(config)
            if let asked = options.resizeMode, asked != mode {
                throw .contractMismatch(
                    "resize mode \(asked.rawValue) was asked for, but the encoded-image model "
                        + "'\(TerminalText.sanitize(model))' resizes on the server (\(mode.rawValue))")
            }
            encoded = (model, mode, config.maxBatchSize > 0)
        } else {
            encoded = nil
        }
        if options.landmarks {
            let landmarks = try client.modelConfig(options.landmarkModel, version: version)
            landmarkBatch = max(1, landmarks.maxBatchSize)
        } else {
            landmarkBatch = 1
        }
        var recognitionInput = TensorDataType.uint8
        var recognitionUnfit = false
        if let model = options.recognitionModel, options.landmarks {
            if try client.modelReady(model, version: version) {
                switch Result(catching: { () throws(InferenceError) in
                    try client.verify(model: model, version: version, contract: .faceRecognition)
                }) {
                case .success(let config):
                    recognition = (model, max(1, config.maxBatchSize))
                    recognitionInput = ModelContract.faceRecognition.inputDatatype(TensorName.faceChip, in: config)
                    recognitionNote = nil
                case .failure(let error) where !options.requireRecognition:
                    // Descriptors are optional: detection goes on without them.
                    recognition = nil
                    recognitionUnfit = true
                    recognitionNote = "no face descriptors: \(error.description)"
                case .failure(let error):
                    throw error
                }
            } else if options.requireRecognition {
                throw .rejected(
                    "the face descriptor model '\(TerminalText.sanitize(model))' is not ready on Triton at \(client.endpoints)"
                )
            } else {
                recognition = nil
                recognitionNote = "no face descriptors: model '\(TerminalText.sanitize(model))' is not on the server"
            }
        } else {
            recognition = nil
            recognitionNote =
                options.landmarks ? "no face descriptors: none asked for" : "no face descriptors without landmarks"
        }
        self.recognitionInput = recognitionInput
        self.recognitionUnfit = recognitionUnfit
    }

    /// The resize mode a model's config declares (`parameters` `resize_mode`), else stretch.
    static func declaredResizeMode(_ config: ModelConfig) throws(InferenceError) -> ResizeMode {
        guard let declared = config.parameters["resize_mode"] else { return .stretch }
        guard let mode = ResizeMode(rawValue: declared) else {
            throw .contractMismatch(
                "model '\(TerminalText.sanitize(config.name))' declares resize_mode "
                    + "'\(TerminalText.sanitize(declared))'; FaceScope knows stretch and letterbox")
        }
        return mode
    }

    /// The document for one image file: size, channels, orientation and every face with its box,
    /// probability, roll and landmarks. `pk` is left empty for the store to assign. With an
    /// encoded-image model the detector gets the file's bytes; the image is still decoded here
    /// for the landmark crops.
    public func analyze(_ file: ImageFile) throws(AnalysisError) -> ImageDocument {
        let image: DecodedImage
        let faces: [Face]
        let bytes = try AnalysisError.decoding { () throws(ImageError) in try ImageDecoder.readFile(file.path) }
        let maxPixels = options.maxPixels
        if let encoded {
            image = try AnalysisError.decoding { () throws(ImageError) in
                try ImageDecoder.decode(data: bytes, name: file.path, maxPixels: maxPixels)
            }
            let detections = try AnalysisError.inferring { () throws(InferenceError) in
                try runEncodedDetector(bytes, image: image, model: encoded, name: file.path)
            }
            faces = try describeFaces(detections, in: image, name: file.path)
        } else {
            let scaled: ScaledJPEG? =
                options.reducedDecode
                ? try AnalysisError.decoding { () throws(ImageError) in
                    try ScaledJPEG(bytes: bytes, name: file.path, maxPixels: maxPixels)
                } : nil
            if let jpeg = scaled {
                let faces = try detectFaces(in: jpeg)
                return ImageDocument(
                    pk: "", filename: file.filename, faces: faces, channels: jpeg.channels, height: jpeg.height,
                    width: jpeg.width, portrait: jpeg.height > jpeg.width ? 1 : 0)
            }
            image = try AnalysisError.decoding { () throws(ImageError) in
                try ImageDecoder.decode(data: bytes, name: file.path, maxPixels: maxPixels)
            }
            faces = try detectFaces(in: image, name: file.path)
        }
        return ImageDocument(
            pk: "", filename: file.filename, faces: faces, channels: image.channels, height: image.height,
            width: image.width, portrait: image.height > image.width ? 1 : 0)
    }

    /// Faces in a decoded image (boxes in its pixels).
    public func detectFaces(in image: DecodedImage, name: String) throws(AnalysisError) -> [Face] {
        let views = ImageViews(full: image)
        let detections = try AnalysisError.inferring { () throws(InferenceError) in
            try runDetector(views.detection, name: name)
        }
        return try describeFaces(detections, views: views, name: name)
    }

    /// Faces in a JPEG decoded at reduced scales (boxes and landmarks in full-size pixels): the
    /// detector sees the coarsest decode that gives FaceNet its input without enlarging; each
    /// face's landmark crop and chip come from that decode when it has enough pixels for them,
    /// else from the face's region decoded at the scale it needs.
    public func detectFaces(in jpeg: ScaledJPEG) throws(AnalysisError) -> [Face] {
        let (mode, crop) = (resizeMode, options.cropRegions)
        let views = try AnalysisError.decoding { () throws(ImageError) in
            try ImageViews(jpeg: jpeg, resizeMode: mode, cropRegions: crop)
        }
        let detections = try AnalysisError.inferring { () throws(InferenceError) in
            try runDetector(views.detection, name: jpeg.name)
        }
        return try describeFaces(detections, views: views, name: jpeg.name)
    }

    /// Landmarks, roll and descriptors of the detector's faces.
    func describeFaces(_ detections: [Detection], in image: DecodedImage, name: String) throws(AnalysisError)
        -> [Face]
    {
        try describeFaces(detections, views: ImageViews(full: image), name: name)
    }

    func describeFaces(_ detections: [Detection], views: ImageViews, name: String) throws(AnalysisError) -> [Face] {
        var faces: [Face] = []
        faces.reserveCapacity(detections.count)
        var keypoints: [[Keypoint]] = []
        if options.landmarks && !detections.isEmpty {
            let chips = recognition != nil
            let crops = try AnalysisError.decoding { () throws(ImageError) in
                try views.forLandmarks(detections.map(\.box), chips: chips)
            }
            keypoints = try AnalysisError.inferring { () throws(InferenceError) in
                try runLandmarks(crops, detections: detections, name: name)
            }
        }
        var embeddings: [Int: [Float]] = [:]
        if recognition != nil {
            embeddings = try runRecognition(views, keypoints: keypoints, name: name)
        }
        for (i, detection) in detections.enumerated() {
            let points = i < keypoints.count ? keypoints[i] : []
            var face = Face(
                pk: "", bbox: detection.box.boundingBox(), probability: detection.probability,
                rotation: points.isEmpty ? nil : FaceLandmarks.rotation(points),
                descriptors: points.isEmpty ? nil : FaceLandmarks.descriptors(points))
            if let embedding = embeddings[i] { face.embedding = embedding }
            faces.append(face)
        }
        return faces
    }

    /// FaceNet on a view; boxes in full-size pixels.
    func runDetector(_ view: ImageView, name: String) throws(InferenceError) -> [Detection] {
        let mode = resizeMode
        let image = view.image
        let transform = view.toFull(
            mode == .letterbox
                ? ImageTransform.letterbox(imageWidth: image.width, imageHeight: image.height)
                : ImageTransform.stretch(imageWidth: image.width, imageHeight: image.height))
        // The tensor is written straight into the request body (or shared-memory region).
        let input = TensorInput.converting(
            name: TensorName.faceNetInput, written: .fp32, sent: detectorInput,
            shape: [1, 3, GridBox.networkHeight, GridBox.networkWidth]
        ) { raw in
            _ = Preprocess.faceNetInput(image, mode: mode, into: raw.bindMemory(to: Float.self))
        }
        let outputs = try client.infer(
            model: options.faceDetectModel, version: options.modelVersion, inputs: [input],
            outputs: [Self.coverageName, Self.boxesName])
        guard let coverage = outputs[Self.coverageName], let boxes = outputs[Self.boxesName] else {
            throw .malformedReply("\(TerminalText.sanitize(name)): the detector's reply lacks its outputs")
        }
        return try GridBox.faces(
            coverage: try Self.finite(coverage, model: options.faceDetectModel, file: name),
            boxes: try Self.finite(boxes, model: options.faceDetectModel, file: name), transform: transform,
            settings: options.detection)
    }

    /// An output's floats, refused when one is NaN or infinite (a broken model or export): the
    /// file fails, naming the model, rather than being stored with no faces or null numbers.
    static func finite(_ output: TensorOutput, model: String, file: String) throws(InferenceError) -> [Float] {
        let values = try output.floats()
        guard values.allSatisfy(\.isFinite) else {
            let bad = values.count { !$0.isFinite }
            throw .malformedReply(
                "\(TerminalText.sanitize(file)): model '\(TerminalText.sanitize(model))' returned \(bad) "
                    + "non-finite value\(bad == 1 ? "" : "s") (NaN or infinity) in '\(TerminalText.sanitize(output.name))'; "
                    + "nothing stored for this file (check the model on the server)")
        }
        return values
    }

    /// The encoded-image detector's input: the file's bytes as they are, `[1, n]` when the model
    /// batches, else `[n]`.
    func encodedInput(_ bytes: [UInt8], batched: Bool) -> TensorInput {
        TensorInput(
            name: TensorName.encodedImage, datatype: .uint8, shape: batched ? [1, bytes.count] : [bytes.count],
            bytes: bytes)
    }

    /// The faces the encoded-image model finds in a file's bytes, mapped back with the size the
    /// server reports, which must be the local decode's (the landmark crops are cut from it).
    func runEncodedDetector(
        _ bytes: [UInt8], image: DecodedImage, model: (model: String, resizeMode: ResizeMode, batched: Bool),
        name: String
    ) throws(InferenceError) -> [Detection] {
        let file = TerminalText.sanitize(name)
        let outputs = try client.infer(
            model: model.model, version: options.modelVersion, inputs: [encodedInput(bytes, batched: model.batched)],
            outputs: [Self.coverageName, Self.boxesName, Self.imageShapeName])
        guard let coverage = outputs[Self.coverageName], let boxes = outputs[Self.boxesName],
            let shape = outputs[Self.imageShapeName]
        else {
            throw .malformedReply("\(file): the encoded-image detector's reply lacks its outputs")
        }
        guard shape.datatype == .int32, shape.data.count == 12 else {
            throw .malformedReply(
                "\(file): the encoded-image detector's image_shape is \(shape.datatype.rawValue) with "
                    + "\(shape.data.count) bytes, expected 3 INT32 values")
        }
        let reported = (0..<3).map { i in
            Int(
                Int32(
                    littleEndian: shape.data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self) }
                ))
        }
        guard reported[0] == image.height, reported[1] == image.width else {
            throw .malformedReply(
                "\(file): the server decoded the image as \(reported[1])x\(reported[0]) but FaceScope as "
                    + "\(image.width)x\(image.height) (orientation or decoder differences); boxes would not "
                    + "fit the landmark crops: detect it without the encoded-image model")
        }
        let transform =
            model.resizeMode == .letterbox
            ? ImageTransform.letterbox(imageWidth: reported[1], imageHeight: reported[0])
            : ImageTransform.stretch(imageWidth: reported[1], imageHeight: reported[0])
        return try GridBox.faces(
            coverage: try Self.finite(coverage, model: model.model, file: name),
            boxes: try Self.finite(boxes, model: model.model, file: name), transform: transform,
            settings: options.detection)
    }

    /// FPENet on each detection's square, cut from the view given for it (`views[i]` for face i).
    func runLandmarks(_ views: [ImageView], detections: [Detection], name: String) throws(InferenceError)
        -> [[Keypoint]]
    {
        var result: [[Keypoint]] = []
        result.reserveCapacity(detections.count)
        var start = 0
        let side = FPENet.inputSize
        while start < detections.count {
            let first = start
            let batch = Array(detections[start..<min(detections.count, start + landmarkBatch)])
            start += batch.count
            let crops = CropRecorder(count: batch.count)
            let input = TensorInput.converting(
                name: TensorName.fpeNetInput, written: .fp32, sent: landmarkInput, shape: [batch.count, 1, side, side]
            ) { raw in
                let floats = raw.bindMemory(to: Float.self)
                for (i, face) in batch.enumerated() {
                    let slice = UnsafeMutableBufferPointer(
                        rebasing: floats[(i * side * side)..<((i + 1) * side * side)])
                    let b = face.box
                    let crop = Preprocess.landmarkCrop(views[first + i], box: (b.x1, b.y1, b.x2, b.y2), into: slice)
                    crops.set(i, crop)
                }
            }
            let outputs = try client.infer(
                model: options.landmarkModel, version: options.modelVersion, inputs: [input],
                outputs: [TensorName.keypoints, TensorName.keypointConfidence])
            guard let xy = outputs[TensorName.keypoints], let confidence = outputs[TensorName.keypointConfidence] else {
                throw .malformedReply("\(TerminalText.sanitize(name)): the landmark model's reply lacks its outputs")
            }
            let coordinates = try Self.finite(xy, model: options.landmarkModel, file: name)
            let confidences = try Self.finite(confidence, model: options.landmarkModel, file: name)
            for i in batch.indices {
                result.append(
                    try FPENet.keypoints(
                        coordinates: coordinates, confidences: confidences, faceIndex: i, crop: crops.get(i)))
            }
        }
        return result
    }
}

extension DetectionPipeline {
    /// The detector's faces for an image (the first step of `detectFaces`), for tests and tools.
    public func runDetectorForTesting(_ image: DecodedImage, name: String) throws(InferenceError) -> [Detection] {
        try runDetector(ImageView(full: image), name: name)
    }

    /// The detector's faces (full-size pixels) from a view, for tests and tools.
    public func runDetectorForTesting(_ view: ImageView, name: String) throws(InferenceError) -> [Detection] {
        try runDetector(view, name: name)
    }

    /// The input `analyze` sends the encoded-image model for a file (nil without one), for tests.
    public func encodedInputForTesting(_ file: ImageFile) throws(ImageError) -> TensorInput? {
        guard let encoded else { return nil }
        return encodedInput(try ImageDecoder.readFile(file.path), batched: encoded.batched)
    }

    /// The unrounded keypoints of detections (the second step of `detectFaces`), for tests and tools.
    public func runLandmarksForTesting(_ image: DecodedImage, detections: [Detection], name: String)
        throws(InferenceError) -> [[Keypoint]]
    {
        try runLandmarks(
            Array(repeating: ImageView(full: image), count: detections.count), detections: detections, name: name)
    }

    /// 128-D descriptors of the faces whose landmarks allow an aligned chip, by face index.
    func runRecognition(_ views: ImageViews, keypoints: [[Keypoint]], name: String) throws(AnalysisError)
        -> [Int: [Float]]
    {
        guard recognition != nil else { return [:] }
        let aligned = keypoints.enumerated().compactMap { i, points in FaceAlignment.align(points).map { (i, $0) } }
        let chipViews = try AnalysisError.decoding { () throws(ImageError) in try views.forChips(aligned.map(\.1)) }
        return try AnalysisError.inferring { () throws(InferenceError) in
            try describe(chipViews: chipViews, aligned: aligned, name: name)
        }
    }

    /// The descriptor model over aligned chips, in batches, by face index.
    private func describe(chipViews: [ImageView], aligned: [(Int, FaceAlignment)], name: String)
        throws(InferenceError) -> [Int: [Float]]
    {
        guard let recognition else { return [:] }
        var result: [Int: [Float]] = [:]
        var start = 0
        let side = FaceAlignment.chipSize
        while start < aligned.count {
            let first = start
            let batch = Array(aligned[start..<min(aligned.count, start + recognition.batch)])
            start += batch.count
            let input = TensorInput.converting(
                name: TensorName.faceChip, written: .uint8, sent: recognitionInput, shape: [batch.count, side, side, 3]
            ) { raw in
                let bytes = raw.bindMemory(to: UInt8.self)
                for (k, item) in batch.enumerated() {
                    let slice = UnsafeMutableBufferPointer(
                        rebasing: bytes[(k * side * side * 3)..<((k + 1) * side * side * 3)])
                    Preprocess.faceChip(chipViews[first + k], alignment: item.1, into: slice)
                }
            }
            let outputs = try client.infer(
                model: recognition.model, version: options.modelVersion, inputs: [input],
                outputs: [TensorName.embedding])
            guard let embedding = outputs[TensorName.embedding] else {
                throw .malformedReply("\(TerminalText.sanitize(name)): the descriptor model's reply lacks 'embedding'")
            }
            let values = try Self.finite(embedding, model: recognition.model, file: name)
            let dimension = 128
            guard values.count >= batch.count * dimension else {
                throw .malformedReply(
                    "\(TerminalText.sanitize(name)): the descriptor model returned \(values.count) values")
            }
            for (k, item) in batch.enumerated() {
                result[item.0] = Array(values[(k * dimension)..<((k + 1) * dimension)])
            }
        }
        return result
    }
}

/// Collects the crops the tensor-filling closure computes (the closure is `@Sendable`, so the
/// crops it records go through a mutex).
final class CropRecorder: Sendable {
    private let crops: Mutex<[FaceCrop]>
    init(count: Int) { crops = Mutex(Array(repeating: FaceCrop(x0: 0, y0: 0, width: 1, height: 1), count: count)) }
    func set(_ i: Int, _ crop: FaceCrop) { crops.withLock { $0[i] = crop } }
    func get(_ i: Int) -> FaceCrop { crops.withLock { $0[i] } }
}

extension PipelineOptions {
    /// The options `Settings` describe (models, version, resize mode, thresholds, limits).
    public init(settings: Settings, dbscan: Bool = false, landmarks: Bool = true) {
        var detection = DetectionSettings()
        detection.coverageThreshold = settings.coverageThreshold
        detection.clustering = dbscan ? DetectionSettings.defaultDBSCAN : .nms(iouThreshold: settings.nmsIoU)
        detection.minimumFaceSize = settings.minFaceSize
        self.init(
            faceDetectModel: settings.faceDetectModel, landmarkModel: settings.landmarkModel,
            modelVersion: settings.modelVersion.isEmpty ? nil : settings.modelVersion,
            resizeMode: settings.resizeMode,
            detection: detection, maxPixels: settings.maxPixels, landmarks: landmarks,
            recognitionModel: settings.recognitionModel.isEmpty || !landmarks ? nil : settings.recognitionModel,
            encodedModel: settings.encodedModel.isEmpty ? nil : settings.encodedModel)
    }
}
