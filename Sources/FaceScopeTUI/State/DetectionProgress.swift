import FaceScopeCore

/// What a detection run has done so far.
struct DetectionProgress: Sendable, Equatable {
    var token: UInt64
    var mode: FaceMergeMode
    /// How many images the run works on, once it knows.
    var total: Int?
    var done = 0
    var failed = 0
    var faces = 0
    var startedAt: Double
    var finishedAt: Double?
    /// The image last finished.
    var current: String?
    /// The last few errors, newest last.
    var errors: [String] = []
    var cancelling = false
    var cancelled = false
    /// Why the run could not go on at all (Triton or Redis unreachable).
    var fatal: String?

    /// Whether the run is still going.
    var running: Bool { finishedAt == nil }

    /// Images per second so far.
    func rate(now: Double) -> Double {
        let elapsed = (finishedAt ?? now) - startedAt
        return elapsed > 0 ? Double(done) / elapsed : 0
    }
}

extension DetectionProgress {
    /// The run knows how many images it has.
    mutating func started(total: Int) { self.total = total }

    /// One image was detected and stored.
    mutating func stored(_ document: ImageDocument) {
        done += 1
        faces += document.faceCount
        current = document.filename
    }

    /// One image failed (the last three errors are kept for the panel).
    mutating func failed(file: String, error: String) {
        done += 1
        failed += 1
        current = file
        errors = Array((errors + [error]).suffix(3))
    }

    /// The run ended: done, cancelled, or stopped by `error`.
    mutating func finished(now: Double, cancelled: Bool, error: String?) {
        finishedAt = now
        self.cancelled = cancelled
        fatal = error
    }
}
