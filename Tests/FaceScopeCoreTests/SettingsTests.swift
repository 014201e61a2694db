import Testing

@testable import FaceScopeCore

@Suite("Settings")
struct SettingsTests {
    @Test(
        "Redis URLs",
        arguments: [
            ("redis://localhost", RedisEndpoint(address: .tcp(host: "localhost", port: 6379))),
            ("redis://h:7000/3", RedisEndpoint(address: .tcp(host: "h", port: 7000), database: 3)),
            ("redis://:pw@h:1", RedisEndpoint(address: .tcp(host: "h", port: 1), password: "pw")),
            (
                "redis://u:p%40ss@h",
                RedisEndpoint(address: .tcp(host: "h", port: 6379), username: "u", password: "p@ss")
            ),
            ("redis://secret@h", RedisEndpoint(address: .tcp(host: "h", port: 6379), password: "secret")),
            ("redis://[::1]:6380/0", RedisEndpoint(address: .tcp(host: "::1", port: 6380))),
            ("unix:///tmp/r.sock", RedisEndpoint(address: .unix(path: "/tmp/r.sock"))),
            (
                "unix://:pw@/tmp/r.sock?db=2",
                RedisEndpoint(address: .unix(path: "/tmp/r.sock"), password: "pw", database: 2)
            ),
        ])
    func parse(url: String, expected: RedisEndpoint) throws {
        #expect(try RedisEndpoint.parse(url) == expected)
    }

    @Test(
        "bad Redis URLs are usage errors",
        arguments: ["http://x", "redis://h:port", "redis://h:0", "redis://h/x", "unix://rel.sock", "rediss://h"])
    func badURL(url: String) {
        #expect(throws: FaceScopeError.self) { try RedisEndpoint.parse(url) }
        do {
            _ = try RedisEndpoint.parse(url)
        } catch {
            #expect(error.exitCode == 2)
        }
    }

    @Test("passwords are masked in descriptions")
    func masked() throws {
        #expect(try RedisEndpoint.parse("redis://u:hunter2@h:1/0").description == "redis://u:***@h:1/0")
    }

    @Test("flags beat the environment, which beats .env, which beats defaults")
    func precedence() throws {
        let env = ["REDIS_OM_URL": "redis://env:1", "FACE_DETECT_MODEL_NAME": "env-model"]
        let dotenv = [
            "REDIS_OM_URL": "redis://dotenv:1", "FPENET_MODEL_NAME": "dotenv-fpe", "FACE_DETECT_MODEL_NAME": "x",
        ]
        let s = try Settings.resolve(flags: [.redisURL: "redis://flag:1"], environment: env, dotenv: dotenv)
        #expect(s.redisURL == "redis://flag:1")
        #expect(s.faceDetectModel == "env-model")
        #expect(s.landmarkModel == "dotenv-fpe")
        #expect(s.keyPrefix == ":utils.Model:")
        let t = try Settings.resolve(flags: [:], environment: env, dotenv: dotenv)
        #expect(t.redisURL == "redis://env:1")
        let u = try Settings.resolve(flags: [:], environment: [:], dotenv: [:])
        #expect(u.redisURL == "redis://localhost:6379/0")
    }

    @Test("invalid values are refused with the variable named")
    func invalid() {
        #expect(
            throws: FaceScopeError.usage("FACESCOPE_REDIS_TIMEOUT must be a positive number of seconds, not 'soon'")
        ) {
            try Settings.resolve(flags: [:], environment: ["FACESCOPE_REDIS_TIMEOUT": "soon"], dotenv: [:])
        }
        #expect(throws: FaceScopeError.self) {
            try Settings.resolve(flags: [.keyPrefix: "has space"], environment: [:], dotenv: [:])
        }
    }

    @Test(".env files")
    func dotenv() {
        let parsed = DotEnv.parse(
            """
            # comment
            export A=1
            B = two words # trailing comment
            C="quoted # not a comment\\nline"
            D='single'
            E=a#b
            not a line
            """)
        #expect(parsed == ["A": "1", "B": "two words", "C": "quoted # not a comment\nline", "D": "single", "E": "a#b"])
    }

    @Test("resolved settings carry the Redis endpoint parsed once")
    func resolvedEndpoint() throws {
        let s = try Settings.resolve(
            flags: [.redisURL: "redis://:secret@db.example:6390/3"], environment: [:], dotenv: [:])
        #expect(
            s.redis == RedisEndpoint(address: .tcp(host: "db.example", port: 6390), password: "secret", database: 3))
        #expect(s.redisURL == "redis://:secret@db.example:6390/3")
    }
}
