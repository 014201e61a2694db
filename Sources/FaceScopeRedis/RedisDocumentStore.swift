import FaceScopeCore

extension RedisStore: DocumentStore {
    public func saveAll(_ documents: [ImageDocument]) throws(StoreError) -> [Result<ImageDocument, StoreError>] {
        try saveAll(documents, batchSize: 500)
    }
}
