import FaceScopeCore
import Foundation
import Synchronization

/// Where background workers leave their results for the UI thread: a locked queue plus a pipe
/// whose read end the UI loop polls next to the terminal, so a result wakes it at once.
final class Mailbox: Sendable {
    private let items = Mutex<[WorkResult]>([])
    /// Becomes readable when a result is waiting.
    let readDescriptor: Int32
    private let writeDescriptor: Int32

    init() {
        var fds: [Int32] = [-1, -1]
        if pipe(&fds) != 0 { fds = [-1, -1] }
        readDescriptor = fds[0]
        writeDescriptor = fds[1]
        for fd in fds where fd >= 0 {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
        }
    }

    deinit {
        if readDescriptor >= 0 { close(readDescriptor) }
        if writeDescriptor >= 0 { close(writeDescriptor) }
    }

    /// Leaves a result and wakes the UI thread (from any thread).
    func post(_ result: WorkResult) {
        items.withLock { $0.append(result) }
        var byte: UInt8 = 1
        _ = write(writeDescriptor, &byte, 1)
    }

    /// Takes every waiting result, oldest first (UI thread).
    func drain() -> [WorkResult] {
        var buffer = [UInt8](repeating: 0, count: 256)
        while read(readDescriptor, &buffer, buffer.count) > 0 {}
        return items.withLock { items in
            defer { items = [] }
            return items
        }
    }
}

/// The newest request of a kind, so a worker skips requests that were overtaken while queued.
final class LatestRequest<Value: Equatable & Sendable>: Sendable {
    private let value = Mutex<Value?>(nil)

    init() {}

    func set(_ new: Value) { value.withLock { $0 = new } }

    func isLatest(_ candidate: Value) -> Bool { value.withLock { $0 == candidate } }
}

/// Writes timing events (`FACESCOPE_TUI_TIMINGS=path`) for the benchmark: one line per event,
/// `name wall_ms value...`, from any thread.
final class Timings: Sendable {
    /// Serialises the writes of several threads.
    private let lock = Mutex(())
    private let handle: FileHandle?

    /// Timings written to `path`, or none when nil or the file cannot be made.
    init(path: String?) {
        guard let path, !path.isEmpty else {
            handle = nil
            return
        }
        if !FileManager.default.fileExists(atPath: path) {
            _ = FileManager.default.createFile(atPath: path, contents: nil)
        }
        handle = FileHandle(forWritingAtPath: path)
        handle?.seekToEndOfFile()
    }

    /// Whether events are recorded.
    var enabled: Bool { handle != nil }

    /// Seconds on a monotonic clock.
    static func now() -> Double {
        Monotonic.seconds()
    }

    /// Milliseconds since the epoch (comparable with `date +%s%N` in a script).
    static func wallMilliseconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) * 1000 + Double(ts.tv_nsec) / 1e6
    }

    /// Records an event with values.
    func event(_ name: String, _ values: [String: Double] = [:]) {
        guard let handle else { return }
        var line = "\(name) wall_ms=\(String(format: "%.3f", Self.wallMilliseconds()))"
        for (key, value) in values.sorted(by: { $0.key < $1.key }) {
            line += " \(key)=\(String(format: "%.3f", value))"
        }
        line += "\n"
        lock.withLock { _ in handle.write(Data(line.utf8)) }
    }
}
