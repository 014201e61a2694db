import FaceScopeCore
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

private let regionCounter = Atomic<Int>(0)

/// A POSIX shared-memory object mapped into this process (`shm_open` + `ftruncate` + `mmap`),
/// for Triton's system shared-memory extension: tensors written here reach a server on the same
/// host without travelling through HTTP. The key is unique per process and the object is
/// unlinked when the region is freed; unregister it from servers first.
///
/// The bytes are shared and unsynchronised: whoever writes them must not do so while a request
/// that uses them is in flight.
///
/// Unchecked: it holds a raw pointer to the mapping, which the compiler cannot check; every
/// stored property is a constant, and the mapping lives until `deinit`.
public final class SharedMemoryRegion: @unchecked Sendable {
    /// The object's name, `/facescope-<pid>-<n>`: what Triton's register call takes as `key`.
    public let key: String
    /// A name for the region that is unique per process, for Triton's registry.
    public let name: String
    /// The mapped size in bytes.
    public let byteSize: Int
    /// The mapped bytes.
    public let buffer: UnsafeMutableRawBufferPointer

    /// Creates and maps a new zero-filled shared-memory object of `byteSize` bytes.
    /// - Throws: `InferenceError.local` when the system refuses (errno text included).
    public init(byteSize: Int) throws(InferenceError) {
        guard byteSize > 0 else { throw .local("a shared-memory region needs a positive size, not \(byteSize)") }
        let pid = getpid()
        var fd: Int32 = -1
        var key = ""
        var n = 0
        for _ in 0..<100 {
            n = regionCounter.wrappingAdd(1, ordering: .relaxed).newValue
            key = "/facescope-\(pid)-\(n)"
            fd = shm_open(key, O_CREAT | O_EXCL | O_RDWR, 0o600)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else { throw .local("shm_open(\(key)) failed: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        guard ftruncate(fd, off_t(byteSize)) == 0 else {
            let reason = String(cString: strerror(errno))
            shm_unlink(key)
            throw .local("ftruncate of shared memory \(key) to \(byteSize) bytes failed: \(reason)")
        }
        let address = mmap(nil, byteSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0)
        guard let address, address != MAP_FAILED else {
            let reason = String(cString: strerror(errno))
            shm_unlink(key)
            throw .local("mmap of shared memory \(key) (\(byteSize) bytes) failed: \(reason)")
        }
        self.key = key
        self.name = "facescope_\(pid)_\(n)"
        self.byteSize = byteSize
        self.buffer = UnsafeMutableRawBufferPointer(start: address, count: byteSize)
    }

    deinit {
        munmap(buffer.baseAddress, byteSize)
        shm_unlink(key)
    }
}

/// The system shared-memory regions registered with a server (`GET /v2/systemsharedmemory/status`).
public struct SharedMemoryStatus: Sendable, Equatable {
    public var name: String
    public var key: String
    public var offset: Int
    public var byteSize: Int

    /// A status entry from its parts.
    public init(name: String, key: String, offset: Int, byteSize: Int) {
        self.name = name
        self.key = key
        self.offset = offset
        self.byteSize = byteSize
    }

    /// Parses the status reply: a list of `{"name", "key", "offset", "byte_size"}`.
    static func parse(_ json: JSONValue) -> [SharedMemoryStatus] {
        (json.arrayValue ?? []).compactMap { item in
            guard let name = item["name"]?.stringValue else { return nil }
            return SharedMemoryStatus(
                name: name, key: item["key"]?.stringValue ?? "", offset: item["offset"].flatMap(intValue) ?? 0,
                byteSize: item["byte_size"].flatMap(intValue) ?? 0)
        }
    }
}

/// A region the client uses for one request at a time, and the servers it is registered with.
///
/// Unchecked: a slot owns a mapping (`SharedMemoryRegion`) and is used by one request at a time:
/// the client's idle list (behind its mutex) hands it out exclusively and takes it back.
final class SharedMemorySlot: @unchecked Sendable {
    let region: SharedMemoryRegion
    var registeredOn: Set<Int> = []

    init(byteSize: Int) throws(InferenceError) {
        region = try SharedMemoryRegion(byteSize: byteSize)
    }
}
