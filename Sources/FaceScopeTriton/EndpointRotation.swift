import Foundation

/// Round-robin over the endpoints, skipping one that failed recently until its back-off has
/// passed; then the next request that picks it checks it again.
final class EndpointRotation: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private var downUntil: [ContinuousClock.Instant?]

    init(count: Int) {
        downUntil = Array(repeating: nil, count: max(count, 1))
    }

    var count: Int { downUntil.count }

    /// The next endpoint to use, not in `excluding` when possible. Endpoints marked down are
    /// skipped while another is usable; when all are down, the one that went down first.
    func select(excluding: Set<Int> = []) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let now = ContinuousClock.now
        let n = downUntil.count
        for k in 0..<n {
            let i = (next + k) % n
            if excluding.contains(i) { continue }
            if let until = downUntil[i], until > now { continue }
            next = (i + 1) % n
            return i
        }
        let candidates = (0..<n).filter { !excluding.contains($0) }
        let pool = candidates.isEmpty ? Array(0..<n) : candidates
        var best = pool[0]
        for i in pool {
            if let a = downUntil[i], let b = downUntil[best], a < b { best = i }
        }
        next = (best + 1) % n
        return best
    }

    /// Skips `index` for `seconds`.
    func markDown(_ index: Int, for seconds: Double) {
        lock.lock()
        defer { lock.unlock() }
        downUntil[index] = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
    }

    /// `index` answered: use it again.
    func markUp(_ index: Int) {
        lock.lock()
        defer { lock.unlock() }
        downUntil[index] = nil
    }

    /// Whether `index` is being skipped now.
    func isDown(_ index: Int) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if let until = downUntil[index] { return until > ContinuousClock.now }
        return false
    }
}
