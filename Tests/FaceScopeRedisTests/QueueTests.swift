import FaceScopeCore
import FaceScopeRedis
import Foundation
import Testing

@Suite("Detection queue: entries, dead letters and summaries")
struct QueueEncodingTests {
    @Test("an entry's fields read back as the entry, whatever the filename")
    func entryRoundTrip() {
        for name in ["a.jpg", "trips/with space.jpg", "ünï/日本語 😀.jpg", "pipe|semi;.jpg", "new\nline.jpg"] {
            for force in [false, true] {
                let fields = QueueEntry.fields(filename: name, force: force)
                let reply = RedisReply.array([.string("1700000000000-3"), .array(fields.map(RedisReply.string))])
                #expect(
                    QueueEntry.parse(reply) == QueueEntry(id: "1700000000000-3", filename: name, force: force))
            }
        }
    }

    @Test("entries that are not FaceScope's, or were deleted, are not entries")
    func malformedEntries() {
        #expect(QueueEntry.parse(.array([.string("1-0"), .null])) == nil)
        #expect(QueueEntry.parse(.array([.string("1-0"), .array([.string("other"), .string("x")])])) == nil)
        #expect(QueueEntry.parse(.array([.string("1-0"), .array([.string("filename"), .string("")])])) == nil)
        #expect(QueueEntry.parse(.string("1-0")) == nil)
        // Unknown fields are ignored; a missing force means not forced.
        let extra = RedisReply.array([
            .string("2-0"), .array([.string("by"), .string("host"), .string("filename"), .string("x.jpg")]),
        ])
        #expect(QueueEntry.parse(extra) == QueueEntry(id: "2-0", filename: "x.jpg", force: false))
    }

    @Test("only names inside the images folder are opened")
    func insideTheImagesFolder() {
        #expect(QueueEntry.isInsideImagesFolder("a.jpg"))
        #expect(QueueEntry.isInsideImagesFolder("sub/..dots../a.jpg"))
        #expect(!QueueEntry.isInsideImagesFolder("/etc/passwd"))
        #expect(!QueueEntry.isInsideImagesFolder("../outside.jpg"))
        #expect(!QueueEntry.isInsideImagesFolder("sub/../../outside.jpg"))
    }

    @Test("a dead letter's JSON reads back; text that is not JSON reads as the error")
    func deadLetterRoundTrip() {
        let letter = DeadLetter(
            filename: "bad.jpg", error: "bad.jpg: corrupt \"JPEG\"", attempts: 3, force: true, worker: "h:1",
            time: 1_700_000_000.5)
        #expect(DeadLetter.parse(filename: "bad.jpg", json: letter.json.serialized) == letter)
        let odd = DeadLetter.parse(filename: "x.jpg", json: "plain text")
        #expect(odd.error == "plain text" && odd.attempts == 0 && !odd.force)
    }

    @Test("a summary from the replies of XLEN, XPENDING, HMGET and HLEN")
    func summaryFromReplies() {
        let replies: [RedisReply] = [
            .integer(7),
            .array([
                .integer(3), .string("1-0"), .string("5-0"),
                .array([
                    .array([.string("host-b:2"), .string("1")]), .array([.string("host-a:1"), .string("2")]),
                ]),
            ]),
            .array([.string("40"), .null]),
            .integer(1),
        ]
        let summary = QueueSummary.parse(replies)
        #expect(
            summary
                == QueueSummary(
                    waiting: 4, inProgress: 3,
                    workers: [.init(name: "host-a:1", pending: 2), .init(name: "host-b:2", pending: 1)], done: 40,
                    skipped: 0, failed: 1))
        #expect(summary.statusText == "queue 40/47 · 3 in progress (2 workers) · 1 failed")
        // No group yet: nothing in progress, everything waiting.
        let fresh = QueueSummary.parse([
            .integer(5), .error("NOGROUP No such key"), .array([.null, .null]), .integer(0),
        ])
        #expect(fresh == QueueSummary(waiting: 5))
        #expect(fresh.statusText == "queue 0/5")
    }

    @Test("the status line shows a queue only while it has work or failures")
    func statusText() {
        #expect(QueueSummary().statusText == nil)
        #expect(QueueSummary(done: 10).statusText == nil)
        #expect(QueueSummary(done: 10, failed: 2).statusText == "queue done · 2 failed")
        #expect(
            QueueSummary(inProgress: 1, workers: [.init(name: "a", pending: 1)], skipped: 2).statusText
                == "queue 2/3 · 1 in progress (1 worker)")
    }
}

@Suite("Detection queue against a real Redis Stack", .enabled(if: TestRedis.available), .serialized)
struct QueueRedisTests {
    func queue() throws -> DetectionQueue {
        var generator = ULIDGenerator()
        // A prefix of its own; the queue needs no index, so only queue keys are written.
        let queue = try DetectionQueue.open(
            settings: try TestRedis.settings(prefix: ":q\(generator.next().suffix(8)).Model:"))
        try queue.clear()
        return queue
    }

    @Test("a file is queued once; finishing an entry twice counts it once")
    func enqueueOnceCompleteOnce() throws {
        let queue = try queue()
        defer { try? queue.clear() }
        #expect(try queue.enqueue([("a.jpg", false), ("b.jpg", true), ("a.jpg", true)]) == 2)
        #expect(try queue.enqueue([("a.jpg", false)]) == 0)
        let taken = try queue.read(consumer: "w1", count: 10)
        #expect(taken.map(\.filename) == ["a.jpg", "b.jpg"] && taken.map(\.force) == [false, true])
        #expect(try queue.summary().inProgress == 2)
        #expect(try queue.complete(taken[0]))
        #expect(try !queue.complete(taken[0]))
        #expect(try queue.complete(taken[1], skipped: true))
        let summary = try queue.summary()
        #expect(summary.done == 1 && summary.skipped == 1 && !summary.isRunning)
        #expect(try queue.length() == 0)
        // Finished, the name can be queued again.
        #expect(try queue.enqueue([("a.jpg", false)]) == 1)
    }

    @Test("entries of a stopped worker are claimed with their delivery count; a live one's are not")
    func reclaim() throws {
        let queue = try queue()
        defer { try? queue.clear() }
        try queue.enqueue([("dead.jpg", false), ("alive.jpg", false)])
        let dead = try queue.read(consumer: "dead", count: 1)
        let alive = try queue.read(consumer: "alive", count: 1)
        #expect(dead.map(\.filename) == ["dead.jpg"] && alive.map(\.filename) == ["alive.jpg"])
        var cursor = "0-0"
        #expect(try queue.reclaim(consumer: "other", minIdle: 60, count: 10, cursor: &cursor).isEmpty)
        let deadline = Date().addingTimeInterval(5)
        var claimed: [QueueEntry] = []
        while claimed.isEmpty, Date() < deadline {
            try queue.heartbeat(consumer: "alive", ids: alive.map(\.id))
            cursor = "0-0"
            claimed = try queue.reclaim(consumer: "other", minIdle: 0.2, count: 10, cursor: &cursor)
        }
        #expect(claimed.map(\.filename) == ["dead.jpg"])
        #expect(claimed.first?.deliveries == 2)
        #expect(try queue.summary().workers.map(\.name) == ["alive", "other"])
    }

    @Test("dead letters keep the error until retried; released entries wait again")
    func deadLettersAndRelease() throws {
        let queue = try queue()
        defer { try? queue.clear() }
        try queue.enqueue([("bad.jpg", true), ("later.jpg", false)])
        let taken = try queue.read(consumer: "w", count: 2)
        #expect(try queue.deadLetter(taken[0], error: "bad.jpg: corrupt JPEG", worker: "w"))
        try queue.release([taken[1]])
        var summary = try queue.summary()
        #expect(summary.waiting == 1 && summary.inProgress == 0 && summary.failed == 1)
        let letters = try queue.failures()
        #expect(letters.map(\.filename) == ["bad.jpg"] && letters.first?.error == "bad.jpg: corrupt JPEG")
        #expect(letters.first?.force == true && letters.first?.attempts == 1)
        #expect(try queue.retry(filenames: ["nothing.jpg"]) == 0)
        #expect(try queue.retry() == 1)
        summary = try queue.summary()
        #expect(summary.waiting == 2 && summary.failed == 0)
        let again = try queue.read(consumer: "w", count: 5)
        #expect(Set(again.map(\.filename)) == ["bad.jpg", "later.jpg"])
        #expect(again.first { $0.filename == "bad.jpg" }?.force == true)
    }
}
