#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Makes ULIDs as redis-om does: 26 upper-case Crockford base32 characters, the first 10 the
/// milliseconds since 1970, the rest random. Keys made within one millisecond stay increasing.
public struct ULIDGenerator: Sendable {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)
    private var rng = SystemRandomNumberGenerator()
    private var lastMillis: UInt64 = 0
    private var lastRandom: (hi: UInt16, lo: UInt64) = (0, 0)

    public init() {}

    /// Milliseconds since the Unix epoch from the real-time clock.
    public static func nowMillis() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) * 1000 + UInt64(ts.tv_nsec) / 1_000_000
    }

    public mutating func next() -> String { next(millis: ULIDGenerator.nowMillis()) }

    public mutating func next(millis: UInt64) -> String {
        if millis == lastMillis {
            // Monotonic within a millisecond: increment the 80-bit random part.
            let (lo, overflow) = lastRandom.lo.addingReportingOverflow(1)
            lastRandom = (overflow ? lastRandom.hi &+ 1 : lastRandom.hi, lo)
        } else {
            lastMillis = millis
            lastRandom = (
                UInt16.random(in: 0...UInt16.max, using: &rng), UInt64.random(in: 0...UInt64.max, using: &rng)
            )
        }
        return ULIDGenerator.encode(millis: millis, randomHigh: lastRandom.hi, randomLow: lastRandom.lo)
    }

    /// Encodes a 48-bit time and 80 random bits as 26 base32 characters.
    public static func encode(millis: UInt64, randomHigh: UInt16, randomLow: UInt64) -> String {
        var chars = [UInt8](repeating: 0, count: 26)
        var t = millis & 0xFFFF_FFFF_FFFF
        for i in stride(from: 9, through: 0, by: -1) {
            chars[i] = alphabet[Int(t & 31)]
            t >>= 5
        }
        // 80 bits = 16 characters: take them from the low 64 bits, then the high 16.
        var lo = randomLow
        var hi = UInt64(randomHigh)
        for i in stride(from: 25, through: 10, by: -1) {
            chars[i] = alphabet[Int(lo & 31)]
            lo = (lo >> 5) | ((hi & 31) << 59)
            hi >>= 5
        }
        return String(decoding: chars, as: UTF8.self)
    }

    /// Whether `text` has the shape of a ULID.
    public static func isValid(_ text: String) -> Bool {
        text.utf8.count == 26 && text.utf8.allSatisfy { alphabet.contains($0) }
    }
}
