import FaceScopeCore
import FaceScopeRedis
import Foundation
import Testing

@Suite("Connections and their errors", .enabled(if: TestRedis.available), .serialized)
struct ConnectionTests {
    static func message(_ body: () throws -> Void) -> String {
        do {
            try body()
        } catch {
            return "\(error)"
        }
        return ""
    }

    @Test("an unreachable server gets a one-line error that says what to do")
    func unreachable() throws {
        let settings = try Settings.resolve(flags: [.redisURL: "redis://127.0.0.1:1/0"], environment: [:], dotenv: [:])
        let text = Self.message { _ = try RedisStore.open(settings: settings) }
        #expect(text.contains("cannot connect to Redis at 127.0.0.1:1"))
        #expect(text.contains("REDIS_OM_URL"))
        #expect(!text.contains("\n"))
    }

    @Test("ACL users authenticate; a wrong password is named as such")
    func acl() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        try store.connection.call(["ACL", "SETUSER", "facescope-test", "on", ">right-pw", "~*", "&*", "+@all"])
        defer { _ = try? store.connection.call(["ACL", "DELUSER", "facescope-test"]) }
        guard case .tcp(let host, let port) = store.connection.endpoint.address else { return }
        let good = try Settings.resolve(
            flags: [.redisURL: "redis://facescope-test:right-pw@\(host):\(port)/0", .keyPrefix: store.layout.prefix],
            environment: [:], dotenv: [:])
        #expect(try RedisStore.open(settings: good).count() == 0)
        let bad = try Settings.resolve(
            flags: [.redisURL: "redis://facescope-test:wrong@\(host):\(port)/0"], environment: [:], dotenv: [:])
        let text = Self.message { _ = try RedisStore.open(settings: bad) }
        #expect(text.contains("refused the credentials"))
        #expect(!text.contains("wrong"))
    }

    @Test("a dropped connection is re-established")
    func reconnect() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        try store.save(document("before.jpg"))
        let id = try store.connection.call(["CLIENT", "ID"]).integer ?? -1
        let killer = try RedisConnection(endpoint: store.connection.endpoint)
        #expect(try killer.call(["CLIENT", "KILL", "ID", String(id)]).integer == 1)
        #expect(try store.get(filename: "before.jpg") != nil)
        #expect(try store.connection.call(["CLIENT", "ID"]).integer != id)
    }

    @Test("a Redis without the JSON and search modules is named as such")
    func noModules() throws {
        guard let url = ProcessInfo.processInfo.environment["FACESCOPE_TEST_PLAIN_REDIS_URL"] else {
            if TestRedis.required { Issue.record("FACESCOPE_TEST_PLAIN_REDIS_URL is not set") }
            return
        }
        let settings = try Settings.resolve(flags: [.redisURL: url], environment: [:], dotenv: [:])
        let text = Self.message { _ = try RedisStore.open(settings: settings) }
        #expect(text.contains("has no JSON (RedisJSON) and search (RediSearch) module"))
        #expect(text.contains("redis-stack-server"))
    }

    @Test("a command that outlives the timeout fails with the timeout named")
    func timeout() throws {
        let store = try TestRedis.store()
        defer { TestRedis.drop(store) }
        let slow = try RedisConnection(endpoint: store.connection.endpoint, connectTimeout: 1, commandTimeout: 0.2)
        let text = Self.message { _ = try slow.call(["DEBUG", "SLEEP", "0.6"]) }
        // DEBUG may be disabled on some servers; then Redis refuses it instead.
        #expect(text.contains("did not answer within") || text.contains("DEBUG"))
        #expect(try slow.call(["PING"]).string == "PONG")
    }
}
