import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Clocks, CPU time, statistics and child processes for the benchmarks.
enum Measure {
    /// User + system CPU seconds of this whole process (every thread), from getrusage.
    static func processCPU() -> Double { cpu(__rusage_who_t(RUSAGE_SELF.rawValue)) }

    /// User + system CPU seconds of the calling thread.
    static func threadCPU() -> Double { cpu(1) }  // RUSAGE_THREAD (Linux), not imported by Glibc

    private static func cpu(_ who: __rusage_who_t) -> Double {
        var usage = rusage()
        getrusage(who, &usage)
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    static func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }

    /// The median (the mean of the two middle values for an even count); NaN when empty.
    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }

    /// Runs `path` with `arguments` (stdout to `stdoutPath`, stderr to `stderrPath`) and waits for
    /// it with wait4, which reports that child's own peak resident set (ru_maxrss, KiB on Linux).
    static func spawn(
        _ path: String, _ arguments: [String], stdoutPath: String, stderrPath: String
    ) throws -> (status: Int32, maxRSSBytes: Int, seconds: Double) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid: pid_t = 0
        let started = Bench.now()
        let rc = posix_spawn(&pid, path, &actions, nil, argv, environ)
        guard rc == 0 else { throw BenchError("cannot run \(path): \(String(cString: strerror(rc)))") }
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            guard errno == EINTR else { throw BenchError("wait4 failed: \(String(cString: strerror(errno)))") }
        }
        let elapsed = Bench.now() - started
        let exit = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exit, usage.ru_maxrss * 1024, elapsed)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A child process spoken to in JSON lines over stdin/stdout (the Python reference client).
final class LineProcess {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()

    init(_ executable: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
    }

    /// Sends one line (unless nil) and returns the next JSON object the child prints.
    func request(_ line: String?) throws -> [String: Any] {
        if let line { input.fileHandleForWriting.write(Data((line + "\n").utf8)) }
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let lineData = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[(newline + 1)...])
                guard let object = try? JSONSerialization.jsonObject(with: lineData) as? [String: Any] else {
                    continue  // not ours (a library's print): skip
                }
                if let error = object["error"] as? String { throw BenchError("python client: \(error)") }
                return object
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { throw BenchError("the python client exited early (see its messages above)") }
            buffer.append(chunk)
        }
    }

    func close() {
        try? input.fileHandleForWriting.write(contentsOf: Data("quit\n".utf8))
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}
