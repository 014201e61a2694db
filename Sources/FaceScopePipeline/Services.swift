import FaceScopeCore
import FaceScopeRedis
import FaceScopeTriton

/// The one place FaceScope's parts are built from settings: the Triton client, the detection
/// pipeline, the store, detection runs and clustering. The command line, the browser and the
/// benchmarks build through here, so each part is configured one way everywhere.
public struct FaceScopeServices: Sendable {
    public let settings: Settings

    public init(settings: Settings) {
        self.settings = settings
    }

    /// A Triton client for `TRITON_SERVER_URL`; `log` hears its decisions (transport, retries).
    public func tritonClient(
        transport: TritonClient.Transport = .automatic, log: (@Sendable (String) -> Void)? = nil
    ) throws(FaceScopeError) -> TritonClient {
        var configuration = TritonClient.Configuration(transport: transport)
        if let log { configuration.log = log }
        return try fromInference(TritonClient(url: settings.tritonURL, configuration: configuration))
    }

    /// The detection pipeline (the models checked against their contracts), on `client` or a new
    /// client.
    public func pipeline(
        client: TritonClient? = nil, dbscan: Bool = false, landmarks: Bool = true
    ) throws(FaceScopeError) -> DetectionPipeline {
        let made: TritonClient
        if let client { made = client } else { made = try tritonClient() }
        let options = PipelineOptions(settings: settings, dbscan: dbscan, landmarks: landmarks)
        return try fromInference(DetectionPipeline(client: made, options: options))
    }

    /// The store; `.read` creates nothing (see `StoreAccess`).
    public func store(_ access: StoreAccess = .write) throws(FaceScopeError) -> RedisStore {
        try fromStore(RedisStore.open(settings: settings, access: access))
    }

    /// A detection run with the settings' concurrency and outage wait.
    public func detectionRun(
        analyzer: any ImageAnalyzer, store: (any DocumentStore)?, mergeMode: FaceMergeMode = .keepLabels,
        storeBatch: Int = 32
    ) -> DetectionRun {
        DetectionRun(
            pipeline: analyzer, store: store, concurrency: settings.concurrency, storeBatch: storeBatch,
            mergeMode: mergeMode, outageWait: settings.outageWait)
    }

    /// Clusters faces into people with the settings' threshold (see `PeopleClustering`).
    public func cluster(
        _ store: some FaceVectorStore, rebuild: Bool = false, progress: (ClusterProgress) -> Void = { _ in }
    ) throws(FaceScopeError) -> ClusterSummary {
        try fromStore(
            PeopleClustering.run(
                store: store, threshold: Float(settings.clusterThreshold), rebuild: rebuild, progress: progress))
    }
}
