import FaceScopeCore
import Testing

@Suite("Errors by layer, mapped at the edge")
struct ErrorTests {
    @Test("each layer's error keeps its kind through FaceScopeError.from")
    func fromLayers() {
        let store = StoreError.unavailable("Redis is out of memory")
        let inference = InferenceError.rejected("unexpected shape")
        let image = ImageError(path: "a\u{1B}[2J.jpg", reason: "truncated JPEG")
        #expect(FaceScopeError.from(store) == .store(store))
        #expect(FaceScopeError.from(inference) == .inference(inference))
        #expect(FaceScopeError.from(image) == .image(image))
        #expect(FaceScopeError.from(AnalysisError.image(image)) == .image(image))
        #expect(FaceScopeError.from(AnalysisError.inference(inference)) == .inference(inference))
        #expect(FaceScopeError.from(FaceScopeError.usage("bad")) == .usage("bad"))
        struct Other: Error {}
        #expect(FaceScopeError.from(Other()) == nil)
    }

    @Test("exit status 2 for usage errors of every layer, 1 for the rest")
    func exitCodes() {
        #expect(FaceScopeError.usage("x").exitCode == 2)
        #expect(FaceScopeError.inference(.invalidEndpoint("bad URL")).exitCode == 2)
        #expect(FaceScopeError.store(.invalidRequest("empty name")).exitCode == 2)
        #expect(FaceScopeError.store(.notFound("no person 9")).exitCode == 1)
        #expect(FaceScopeError.store(.refused("no")).exitCode == 1)
        #expect(FaceScopeError.inference(.unavailable("down")).exitCode == 1)
        #expect(FaceScopeError.image(ImageError(path: "a.jpg", reason: "empty file")).exitCode == 1)
        #expect(FaceScopeError.notFound("x").exitCode == 1)
    }

    @Test("only a service away for now is transient: a batch pauses for it instead of failing items")
    func transient() {
        #expect(FaceScopeError.inference(.unavailable("503")).isTransient)
        #expect(FaceScopeError.store(.unavailable("OOM")).isTransient)
        #expect(!FaceScopeError.store(.unreachable("refused")).isTransient)
        #expect(!FaceScopeError.inference(.rejected("bad input")).isTransient)
        #expect(!FaceScopeError.inference(.transport("reply too slow")).isTransient)
        #expect(!FaceScopeError.image(ImageError(path: "a", reason: "corrupt")).isTransient)
        #expect(!FaceScopeError.usage("x").isTransient)
    }

    @Test("messages: the layer's text; image errors name the file with control characters stripped")
    func messages() {
        #expect(
            FaceScopeError.store(.refused("Redis refused FT.SEARCH: x")).description == "Redis refused FT.SEARCH: x")
        let image = FaceScopeError.image(ImageError(path: "a\u{1B}[2J.jpg", reason: "truncated JPEG"))
        #expect(image.description.hasSuffix(": truncated JPEG"))
        #expect(!image.description.contains("\u{1B}"))
    }

    @Test("the carrying helpers wrap a layer's error and pass values through")
    func carrying() {
        func failing() throws(StoreError) -> Int { throw .notFound("no such image") }
        func fine() throws(InferenceError) -> Int { 7 }
        #expect(throws: FaceScopeError.store(.notFound("no such image"))) { _ = try fromStore(failing()) }
        #expect((try? fromInference(fine())) == 7)
        func decode() throws(ImageError) -> Int { throw ImageError(path: "x.png", reason: "corrupt PNG") }
        #expect(throws: AnalysisError.image(ImageError(path: "x.png", reason: "corrupt PNG"))) {
            _ = try AnalysisError.decoding { () throws(ImageError) in try decode() }
        }
    }
}
