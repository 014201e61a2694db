import FaceScopeCore
import FaceScopeImaging
import FaceScopePipeline
import FaceScopeRedis
import FaceScopeTriton
import Foundation
import Synchronization

/// Everything the browser's re-detection works with, opened when a run starts: the store (its
/// documents, listings and faces) and the analyzer (the Triton pipeline, kept between runs).
/// The browser builds it from the settings; tests give it in-memory twins.
struct DetectionBackend: Sendable {
    typealias Store = DocumentStore & FaceVectorStore & PhotoLibrary

    var openStore: @Sendable () throws(FaceScopeError) -> any Store
    var makeAnalyzer: @Sendable () throws(FaceScopeError) -> any ImageAnalyzer
    var imagesRoot: String
    var concurrency: Int
    var outageWait: Double
    var clusterThreshold: Float

    /// The Redis store and the Triton pipeline the settings name.
    init(settings: Settings) {
        let services = FaceScopeServices(settings: settings)
        openStore = { () throws(FaceScopeError) -> any Store in try services.store() }
        makeAnalyzer = { () throws(FaceScopeError) -> any ImageAnalyzer in try services.pipeline() }
        imagesRoot = settings.imagesDir
        concurrency = settings.concurrency
        outageWait = settings.outageWait
        clusterThreshold = Float(settings.clusterThreshold)
    }

    init(
        store: @escaping @Sendable () throws(FaceScopeError) -> any Store,
        analyzer: @escaping @Sendable () throws(FaceScopeError) -> any ImageAnalyzer, imagesRoot: String = ".",
        concurrency: Int = 1, outageWait: Double = 0.05, clusterThreshold: Float = 0.5
    ) {
        openStore = store
        makeAnalyzer = analyzer
        self.imagesRoot = imagesRoot
        self.concurrency = concurrency
        self.outageWait = outageWait
        self.clusterThreshold = clusterThreshold
    }
}

/// Runs re-detection on a thread of its own: resolves the selection to files and runs the
/// analyzer over them (DetectionRun, `concurrency` images at a time), which merges each result
/// with the stored document as asked and stores it; every image is reported to the UI as it lands,
/// and the new faces join people as they land.
///
/// Unchecked: the analyzer kept between runs is confined to the worker's serial queue (read and
/// written only in blocks run on `queue`); the cancel flag is behind a mutex; the rest is constant.
final class DetectionWorker: @unchecked Sendable {
    private let queue = DispatchQueue(label: "facescope.tui.detect")
    private let backend: DetectionBackend
    private let mailbox: Mailbox
    private let cancelFlag = Mutex<CancellationFlag?>(nil)
    /// Touched on `queue` only: kept between runs (the models were checked once).
    private var analyzer: (any ImageAnalyzer)?

    convenience init(settings: Settings, mailbox: Mailbox) {
        self.init(backend: DetectionBackend(settings: settings), mailbox: mailbox)
    }

    init(backend: DetectionBackend, mailbox: Mailbox) {
        self.backend = backend
        self.mailbox = mailbox
    }

    func start(_ request: DetectionRequest) {
        let flag = CancellationFlag()
        cancelFlag.withLock { $0 = flag }
        queue.async { [self] in
            let (error, people) = run(request, cancel: flag)
            mailbox.post(
                .detectionFinished(token: request.token, cancelled: flag.isCancelled, error: error?.description))
            // What became of the new faces, after the run's own line.
            if error == nil, let people { mailbox.post(.notice(people.text, isError: people.isError)) }
        }
    }

    /// Asks the run going on to stop after the images in flight.
    func cancel() {
        cancelFlag.withLock { $0 }?.cancel()
    }

    /// Runs the detection; its error (nil when it ran to the end) and what became of the new faces
    /// (nil when there were none).
    private func run(_ request: DetectionRequest, cancel: CancellationFlag) -> (
        FaceScopeError?, (text: String, isError: Bool)?
    ) {
        do throws(FaceScopeError) {
            let store = try backend.openStore()
            let analyzer: any ImageAnalyzer
            if let existing = self.analyzer {
                analyzer = existing
            } else {
                analyzer = try backend.makeAnalyzer()
            }
            self.analyzer = analyzer
            let filenames = try resolve(request.target, store: store)
            let files = filenames.map {
                ImageFile(path: ImageFiles.path(of: $0, imagesRoot: backend.imagesRoot), filename: $0)
            }
            mailbox.post(.detectionStarted(token: request.token, total: files.count))
            if files.isEmpty { return (nil, nil) }
            let runner = DetectionRun(
                pipeline: analyzer, store: store, concurrency: backend.concurrency, storeBatch: 1,
                mergeMode: request.mode, outageWait: backend.outageWait)
            let token = request.token
            let mailbox = self.mailbox
            // New faces join people as they land: re-detection keeps people.
            let labeller = NewFaceLabeller(store: store, threshold: backend.clusterThreshold)
            let summary = try runner.run(files, force: true, cancel: cancel) { event in
                switch event {
                case .started: break
                case .finished(let document):
                    labeller.stored(document)
                    mailbox.post(.detectionImage(token: token, document: document))
                case .failed(let file, let error):
                    mailbox.post(.detectionFailed(token: token, file: file, error: error.description))
                }
            }
            let people: (text: String, isError: Bool)?
            switch labeller.finish() {
            case .success(let done) where done.faces > 0:
                people = (
                    "\(done.faces) new face\(done.faces == 1 ? "" : "s") given a person (p shows the people)", false
                )
            case .success: people = nil
            case .failure(let error): people = ("the new faces were not clustered: \(error.description)", true)
            }
            if let stopped = summary.stopped {
                self.analyzer = nil
                return (stopped, people)
            }
            return (nil, people)
        } catch {
            // A new client next time, once Triton failed or went away.
            if case .inference = error { analyzer = nil }
            return (error, nil)
        }
    }

    /// The stored filenames a target names; a select-all is read page by page.
    private func resolve(_ target: DetectionTarget, store: any PhotoLibrary) throws(FaceScopeError) -> [String] {
        switch target {
        case .files(let names):
            return names
        case .all(let source, let except):
            var names: [String] = []
            var offset = 0
            let page = 1000
            while true {
                let docs = try fromStore(store.page(of: source, offset: offset, limit: page)).rows
                names += docs.filter { !except.contains($0.pk) }.map(\.filename)
                if docs.count < page { break }
                offset += docs.count
            }
            return names
        }
    }
}

/// Checks Triton on a thread of its own, with short timeouts and no retries, so the status
/// line follows the server going away and coming back.
///
/// Unchecked: the client is confined to the worker's serial queue (made and used only in blocks
/// run on `queue`); the rest is constant or atomic.
final class TritonWorker: @unchecked Sendable {
    private let queue = DispatchQueue(label: "facescope.tui.triton")
    private let settings: Settings
    private let mailbox: Mailbox
    private let queued = Flag()
    /// Touched on `queue` only.
    private var client: TritonClient?

    init(settings: Settings, mailbox: Mailbox) {
        self.settings = settings
        self.mailbox = mailbox
    }

    func check() {
        guard queued.setIfClear() else { return }
        queue.async { [self] in
            queued.clear()
            do throws(InferenceError) {
                let client: TritonClient
                if let existing = self.client {
                    client = existing
                } else {
                    client = try TritonClient(
                        url: settings.tritonURL,
                        configuration: TritonClient.Configuration(
                            connectTimeout: 1, requestTimeout: 3, maxRetries: 0, recheckInterval: 0))
                }
                self.client = client
                let model = settings.faceDetectModel
                if try client.modelReady(model, version: settings.modelVersion.isEmpty ? nil : settings.modelVersion) {
                    mailbox.post(.triton(up: true, detail: "\(model) ready"))
                } else {
                    mailbox.post(.triton(up: false, detail: "model \(model) is not ready at \(client.endpoints)"))
                }
            } catch {
                mailbox.post(.triton(up: false, detail: error.description))
            }
        }
    }
}
