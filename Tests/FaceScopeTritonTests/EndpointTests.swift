import FaceScopeCore
import Foundation
import Testing

@testable import FaceScopeTriton

@Suite struct EndpointTests {
    @Test func parsesTheAcceptedForms() throws {
        #expect(
            try TritonEndpoints.parse("127.0.0.1:18000").endpoints == [TritonEndpoint(host: "127.0.0.1", port: 18000)])
        #expect(try TritonEndpoints.parse("triton").endpoints == [TritonEndpoint(host: "triton", port: 8000)])
        #expect(
            try TritonEndpoints.parse("http://gpu-box:8000/triton/").endpoints
                == [TritonEndpoint(host: "gpu-box", port: 8000, basePath: "/triton")])
        #expect(try TritonEndpoints.parse("http://gpu-box").endpoints[0].port == 80)
        #expect(
            try TritonEndpoints.parse("HTTPS://gpu-box").endpoints[0]
                == TritonEndpoint(scheme: "https", host: "gpu-box", port: 443))
        #expect(try TritonEndpoints.parse("[::1]:8001").endpoints == [TritonEndpoint(host: "::1", port: 8001)])
        #expect(try TritonEndpoints.parse("http://[::1]:8001").endpoints[0].baseURL == "http://[::1]:8001")
        let list = try TritonEndpoints.parse(" a:1 , http://b:2/x,c ,")
        #expect(list.endpoints.map(\.baseURL) == ["http://a:1", "http://b:2/x", "http://c:8000"])
        #expect(list.description == "http://a:1,http://b:2/x,http://c:8000")
    }

    @Test func rejectsBadValuesWithTheValueInTheMessage() {
        let cases: [(String, String)] = [
            ("", "empty"), (" , ", "empty"), ("ftp://h:1", "'ftp://' is not supported"), ("h:0", "invalid port"),
            ("h:abc", "invalid port"), ("h:70000", "invalid port"), ("http://", "no host"), ("u:p@h:1", "credentials"),
            ("[::1:80", "unclosed"), ("h st:1", "invalid host"), ("http://h:1/x?y", "query"),
        ]
        for (text, why) in cases {
            do {
                _ = try TritonEndpoints.parse(text)
                Issue.record("'\(text)' parsed")
            } catch {
                guard error.kind == .invalidEndpoint else {
                    Issue.record("not an invalid-endpoint error: \(error)")
                    continue
                }
                let message = error.message
                #expect(message.contains(why), "\(message)")
                if !text.allSatisfy({ $0 == " " || $0 == "," }) { #expect(message.contains("'\(text)'"), "\(message)") }
            }
        }
    }

    @Test func loopbackHosts() throws {
        for host in ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "api.localhost"] {
            #expect(TritonEndpoint(host: host, port: 1).isLoopback, "\(host)")
        }
        for host in ["10.0.0.1", "example.com", "127.0.0.1.example.com", "128.0.0.1", "::2", "127.0.0"] {
            #expect(!TritonEndpoint(host: host, port: 1).isLoopback, "\(host)")
        }
        #expect(try TritonEndpoints.parse("localhost:1,127.0.0.1:2").allLoopback)
        #expect(try !TritonEndpoints.parse("localhost:1,triton:2").allLoopback)
    }

    @Test func rotationIsRoundRobinAndSkipsServersThatFailed() throws {
        let rotation = EndpointRotation(count: 3)
        #expect((0..<5).map { _ in rotation.select() } == [0, 1, 2, 0, 1])
        rotation.markDown(0, for: 0.2)
        #expect((0..<4).map { _ in rotation.select() } == [2, 1, 2, 1])
        #expect(rotation.select(excluding: [1]) == 2)
        // Every usable one excluded: the one that went down first is tried again.
        rotation.markDown(2, for: 10)
        #expect(rotation.select(excluding: [1]) == 0)
        // After the back-off the server comes back into the rotation.
        Thread.sleep(forTimeInterval: 0.25)
        let picks = Set((0..<4).map { _ in rotation.select() })
        #expect(picks == [0, 1])
        rotation.markUp(2)
        #expect(Set((0..<3).map { _ in rotation.select() }) == [0, 1, 2])
    }

    @Test func pathSegmentsArePercentEncoded() {
        #expect(percentEncoded("facenet") == "facenet")
        #expect(percentEncoded("face net/1?") == "face%20net%2F1%3F")
        #expect(percentEncoded("é") == "%C3%A9")
    }
}
