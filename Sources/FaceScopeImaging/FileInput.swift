#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Why an image could not be decoded, without the file's name (the public API adds it).
struct ImagingFailure: Error {
    let reason: String
    init(_ reason: String) { self.reason = reason }
}

enum FileInput {
    /// Reads a whole regular file, refusing empty files, non-regular files and files larger than
    /// `limit` bytes before reading anything.
    static func read(path: String, limit: Int) throws(ImagingFailure) -> [UInt8] {
        // O_NONBLOCK: opening a FIFO (a named pipe called `x.jpg`) must not wait for a writer;
        // fstat below refuses it. Reads of a regular file never block, flag or not.
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)
        if fd < 0 { throw ImagingFailure("cannot open: \(errorText(errno))") }
        defer { close(fd) }
        var info = stat()
        if fstat(fd, &info) != 0 { throw ImagingFailure("cannot read: \(errorText(errno))") }
        let kind = info.st_mode & S_IFMT
        if kind == S_IFDIR { throw ImagingFailure("is a directory, not an image file") }
        if kind == S_IFIFO { throw ImagingFailure("is a FIFO (named pipe), not a regular file: not read") }
        if kind == S_IFCHR || kind == S_IFBLK { throw ImagingFailure("is a device, not a regular file: not read") }
        if kind != S_IFREG { throw ImagingFailure("is not a regular file: not read") }
        let size = Int(info.st_size)
        if size == 0 { throw ImagingFailure("empty file") }
        if size > limit {
            throw ImagingFailure(
                "the file is \(size) bytes; image files over \(limit / (1024 * 1024)) MiB are refused")
        }
        var failure: Int32 = 0
        let bytes = [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            var done = 0
            while done < size {
                let n = Glibc.read(fd, buffer.baseAddress.map { $0 + done }, size - done)
                if n < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    break
                }
                if n == 0 { break }  // the file shrank since fstat: keep what is there
                done += n
            }
            count = done
        }
        if failure != 0 { throw ImagingFailure("cannot read: \(errorText(failure))") }
        if bytes.isEmpty { throw ImagingFailure("empty file") }
        return bytes
    }

    static func errorText(_ code: Int32) -> String {
        guard let text = strerror(code) else { return "error \(code)" }
        return String(cString: text).lowercased()
    }
}
