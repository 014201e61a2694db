import FaceScopeCore
import FaceScopeRedis
import Foundation
import Testing

/// The real Redis Stack the test command starts (scripts/test.sh). Without it these tests are
/// skipped, unless FACESCOPE_REQUIRE_SERVICES=1 asks for a failure instead.
enum TestRedis {
    static let environment = ProcessInfo.processInfo.environment
    static let url = environment["FACESCOPE_TEST_REDIS_URL"]
    static let required = environment["FACESCOPE_REQUIRE_SERVICES"] == "1"
    static var available: Bool { url != nil || required }

    static func settings(prefix: String) throws -> Settings {
        guard let url else {
            Issue.record("FACESCOPE_TEST_REDIS_URL is not set: run the tests with scripts/test.sh")
            throw FaceScopeError.usage("no test Redis")
        }
        return try Settings.resolve(flags: [.redisURL: url, .keyPrefix: prefix], environment: [:], dotenv: [:])
    }

    /// A store over a key prefix of its own, so tests never see each other's documents.
    static func store(_ name: String = #function) throws -> RedisStore {
        var generator = ULIDGenerator()
        let tag = String(generator.next().suffix(8))
        return try RedisStore.open(settings: try settings(prefix: ":t\(tag).Model:"))
    }

    /// Removes everything a test store created.
    static func drop(_ store: RedisStore) {
        try? store.destroyEverything()
    }
}

func document(_ filename: String, faces: Int = 0) -> ImageDocument {
    ImageDocument(
        pk: "", filename: filename,
        faces: (0..<faces).map { i in
            Face(
                pk: "", bbox: BoundingBox(pk: "", x1: i * 10, y1: 0, x2: i * 10 + 8, y2: 9), probability: 90,
                rotation: 0)
        },
        channels: 3, height: 480, width: 640, portrait: 0)
}
