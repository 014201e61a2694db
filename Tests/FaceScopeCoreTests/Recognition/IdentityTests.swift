import Foundation
import Testing

@testable import FaceScopeCore

@Suite("Face identities")
struct IdentityTests {
    /// Points around `centre` in 128-D, each within `spread` of it.
    static func group(_ centre: Float, count: Int, spread: Float, seed: UInt64) -> [[Float]] {
        var rng = SeededRandom(seed: seed)
        return (0..<count).map { _ in
            (0..<128).map { i in
                let jitter = Float(rng.next() % 1000) / 1000 * spread / Float(128).squareRoot()
                return (i == 0 ? centre : 0) + jitter
            }
        }
    }

    @Test("well separated groups become one cluster each")
    func separated() {
        let a = Self.group(0, count: 5, spread: 0.2, seed: 1)
        let b = Self.group(3, count: 4, spread: 0.2, seed: 2)
        let c = Self.group(6, count: 1, spread: 0.2, seed: 3)
        let labels = FaceIdentities.cluster(a + b + c, threshold: 0.5)
        #expect(Set(labels[0..<5]).count == 1)
        #expect(Set(labels[5..<9]).count == 1)
        #expect(Set(labels).count == 3)
        #expect(labels == [0, 0, 0, 0, 0, 1, 1, 1, 1, 2])
    }

    @Test("two faces of one photo are never one person, in every way labels are given")
    func cannotLink() {
        // Six faces all within the threshold of each other (as a group photo's faces were with a
        // loose threshold), four of them in photo 0; two more photos of one face each.
        let faces = Self.group(0, count: 6, spread: 0.2, seed: 9)
        let photos = [0, 0, 0, 0, 1, 2]
        let unconstrained = FaceIdentities.cluster(faces, threshold: 0.5)
        #expect(Set(unconstrained).count == 1, "the faces are close enough to merge without the rule")
        func check(_ labels: [Int], _ what: String) {
            let photo0 = labels[0..<4]
            #expect(Set(photo0).count == 4, "\(what): \(labels)")
        }
        check(FaceIdentities.cluster(faces, threshold: 0.5, groups: photos), "cluster")
        check(
            FaceIdentities.assign(
                descriptors: faces, existing: Array(repeating: nil, count: 6), threshold: 0.5, groups: photos),
            "assign")
        check(
            FaceIdentities.assign(
                descriptors: faces, existing: [1, 1, 1, 1, 1, 1], threshold: 0.5, relabelAll: true, groups: photos),
            "rebuild")
        // A new face of photo 0 does not join a label photo 0 already has.
        let incremental = FaceIdentities.assign(
            descriptors: faces, existing: [1, 2, 3, nil, 1, 2], threshold: 0.5, groups: photos)
        #expect(Set(incremental[0..<4]).count == 4, "\(incremental)")
        #expect(incremental[0..<3] == [1, 2, 3])
    }

    @Test("nothing closer than the threshold: everyone alone")
    func alone() {
        let points = (0..<5).map { k in (0..<128).map { $0 == k ? Float(1) : 0 } }
        #expect(FaceIdentities.cluster(points, threshold: 0.5) == [0, 1, 2, 3, 4])
        #expect(FaceIdentities.cluster([], threshold: 0.5).isEmpty)
    }

    @Test("new faces join the label of their close neighbours; strangers get new labels")
    func incremental() {
        let a = Self.group(0, count: 3, spread: 0.2, seed: 4)
        let b = Self.group(3, count: 2, spread: 0.2, seed: 5)
        let existing: [Int?] = [7, 7, nil, nil, nil]
        let labels = FaceIdentities.assign(descriptors: a + b, existing: existing, threshold: 0.5)
        #expect(labels[0] == 7 && labels[1] == 7 && labels[2] == 7)
        #expect(labels[3] == 8 && labels[4] == 8)
    }

    @Test("clustering afresh keeps the labels groups already had")
    func stable() {
        let a = Self.group(0, count: 3, spread: 0.2, seed: 6)
        let b = Self.group(3, count: 3, spread: 0.2, seed: 7)
        let labels = FaceIdentities.assign(
            descriptors: a + b, existing: [12, 12, nil, 4, nil, 4], threshold: 0.5, relabelAll: true)
        #expect(labels == [12, 12, 12, 4, 4, 4])
    }

    @Test("distance is Euclidean")
    func distance() {
        #expect(FaceIdentities.distance([0, 3], [4, 0]) == 5)
    }
}

@Suite("Face alignment")
struct AlignmentTests {
    /// Keypoints of dlib's mean face placed by a known similarity transform.
    static func face(scale: Double, angle: Double, dx: Double, dy: Double) -> [Keypoint] {
        var points = [Keypoint](repeating: Keypoint(x: 0, y: 0, confidence: 0), count: 80)
        let c = scale * cos(angle)
        let s = scale * sin(angle)
        for (i, m) in FaceAlignment.meanFace.enumerated() {
            points[17 + i] = Keypoint(x: c * m.0 - s * m.1 + dx, y: s * m.0 + c * m.1 + dy, confidence: 1)
        }
        for i in 0..<17 { points[i] = Keypoint(x: dx, y: dy, confidence: 1) }
        return points
    }

    @Test("the mean face lands where dlib puts it in the chip, whatever its pose")
    func recoversTransform() throws {
        for (scale, angle) in [(200.0, 0.0), (80.0, 0.3), (500.0, -0.7)] {
            let keypoints = Self.face(scale: scale, angle: angle, dx: 321, dy: 123)
            let alignment = try #require(FaceAlignment.align(keypoints))
            // Nose tip (30) and an eye corner (36) map to the template positions.
            for index in [30, 36, 45, 48] {
                let m = FaceAlignment.meanFace[index - 17]
                let chip = alignment.toChip(x: keypoints[index].x, y: keypoints[index].y)
                #expect(abs(chip.x - (0.25 + m.0) / 1.5 * 150) < 1e-6)
                #expect(abs(chip.y - (0.25 + m.1) / 1.5 * 150) < 1e-6)
                let back = alignment.toImage(x: chip.x, y: chip.y)
                #expect(abs(back.x - keypoints[index].x) < 1e-6 && abs(back.y - keypoints[index].y) < 1e-6)
            }
        }
    }

    @Test("faces without the 68-point markup cannot be aligned")
    func missing() {
        #expect(FaceAlignment.align([]) == nil)
        var keypoints = Self.face(scale: 100, angle: 0, dx: 0, dy: 0)
        keypoints[40].confidence = 0
        #expect(FaceAlignment.align(keypoints) == nil)
    }
}
