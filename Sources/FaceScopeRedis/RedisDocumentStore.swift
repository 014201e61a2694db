import FaceScopeCore

extension RedisStore: DocumentStore {
    public func saveAll(_ documents: [ImageDocument]) throws(FaceScopeError) -> [Result<ImageDocument, FaceScopeError>]
    {
        try saveAll(documents, batchSize: 500)
    }
}
