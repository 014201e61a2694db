import FaceScopeCore
import FaceScopePipeline
import Foundation

/// Content hashes for `detect`'s change check: how fast each candidate hashes multi-megabyte
/// files, against merely reading them (the floor any hash pays).
enum HashBench {
    static func run(sizesMB: [Int], rounds: Int) throws {
        let folder = NSTemporaryDirectory() + "facescope-hash-bench-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var state: UInt64 = 42
        print("| file | read only | SHA-256 (libcrypto) | SHA-1 (FaceScopeCore, pure Swift) | SHA-1 / SHA-256 time |")
        print("| --- | --- | --- | --- | --- |")
        for megabytes in sizesMB {
            let path = folder + "/\(megabytes)MB.bin"
            var bytes = [UInt8](repeating: 0, count: megabytes << 20)
            for i in stride(from: 0, to: bytes.count, by: 8) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                let value = state
                for k in 0..<min(8, bytes.count - i) { bytes[i + k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
            }
            FileManager.default.createFile(atPath: path, contents: Data(bytes))
            func median(_ body: () throws -> Void) rethrows -> Double {
                var times: [Double] = []
                for _ in 0..<rounds {
                    let start = Bench.now()
                    try body()
                    times.append(Bench.now() - start)
                }
                return times.sorted()[times.count / 2]
            }
            let read = try median { _ = try Data(contentsOf: URL(fileURLWithPath: path)) }
            let sha256 = try median { _ = try SourceFiles.sha256(path) }
            let sha1 = try median { _ = SHA1.digest([UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))) }
            func cell(_ seconds: Double) -> String {
                String(format: "%.1f ms (%.0f MB/s)", seconds * 1000, Double(megabytes) / seconds)
            }
            print(
                "| \(megabytes) MB | \(cell(read)) | \(cell(sha256)) | \(cell(sha1)) | \(String(format: "%.1fx", sha1 / sha256)) |"
            )
        }
    }
}
