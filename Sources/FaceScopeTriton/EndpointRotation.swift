import Foundation
import Synchronization

/// Round-robin over the endpoints, skipping one that failed recently until its back-off has
/// passed; then the next request that picks it checks it again.
final class EndpointRotation: Sendable {
    private struct State {
        var next = 0
        var downUntil: [ContinuousClock.Instant?]
    }

    private let state: Mutex<State>
    let count: Int

    init(count: Int) {
        self.count = max(count, 1)
        state = Mutex(State(downUntil: Array(repeating: nil, count: max(count, 1))))
    }

    /// The next endpoint to use, not in `excluding` when possible. Endpoints marked down are
    /// skipped while another is usable; when all are down, the one that went down first.
    func select(excluding: Set<Int> = []) -> Int {
        state.withLock { state in
            let now = ContinuousClock.now
            let n = state.downUntil.count
            for k in 0..<n {
                let i = (state.next + k) % n
                if excluding.contains(i) { continue }
                if let until = state.downUntil[i], until > now { continue }
                state.next = (i + 1) % n
                return i
            }
            let candidates = (0..<n).filter { !excluding.contains($0) }
            let pool = candidates.isEmpty ? Array(0..<n) : candidates
            var best = pool[0]
            for i in pool {
                if let a = state.downUntil[i], let b = state.downUntil[best], a < b { best = i }
            }
            state.next = (best + 1) % n
            return best
        }
    }

    /// Skips `index` for `seconds`.
    func markDown(_ index: Int, for seconds: Double) {
        state.withLock { $0.downUntil[index] = ContinuousClock.now + .milliseconds(Int(seconds * 1000)) }
    }

    /// `index` answered: use it again.
    func markUp(_ index: Int) {
        state.withLock { $0.downUntil[index] = nil }
    }

    /// Whether `index` is being skipped now.
    func isDown(_ index: Int) -> Bool {
        state.withLock { state in
            if let until = state.downUntil[index] { return until > ContinuousClock.now }
            return false
        }
    }
}
