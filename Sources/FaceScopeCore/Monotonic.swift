/// The one clock FaceScope times things with (progress, rates, batching, retries): monotonic
/// (`ContinuousClock`), unaffected by changes of the wall clock. Wall time is only used where it
/// is stored or compared with other programs (ULIDs, queue entries, timing logs).
public enum Monotonic {
    private static let origin = ContinuousClock.now

    /// Nanoseconds since an arbitrary start, counting from one hour, so that a "last time" of 0
    /// is always long past.
    public static func nanoseconds() -> UInt64 {
        let (seconds, attoseconds) = (ContinuousClock.now - origin).components
        return 3_600_000_000_000 + UInt64(max(0, seconds)) * 1_000_000_000 + UInt64(max(0, attoseconds)) / 1_000_000_000
    }

    /// The same, in seconds.
    public static func seconds() -> Double { Double(nanoseconds()) / 1e9 }
}
