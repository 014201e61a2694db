import FaceScopeCore
import FaceScopeImaging
import FaceScopePipeline
import FaceScopeTriton
import Foundation
import Testing

/// 12-megapixel JPEGs as phones write them, made from the shared photos (Pillow's Lanczos
/// enlargement, quality 90) in a temporary folder: nothing large is committed.
enum PhonePhotos {
    /// Makes `name` (4032x3024 stored) from a shared photo: cover-scaled and centre-cropped to the
    /// upright size, then stored turned for `orientation` (6: a portrait phone photo).
    static func make(_ source: String, orientation: Int, in dir: URL, name: String, quality: Int = 90) throws -> String
    {
        let out = dir.appendingPathComponent(name).path
        _ = try Services.python([
            "-c",
            """
            import sys
            from PIL import Image
            src, out, o = sys.argv[1], sys.argv[2], int(sys.argv[3])
            im = Image.open(src).convert('RGB')
            W, H = (3024, 4032) if o >= 5 else (4032, 3024)
            s = max(W / im.width, H / im.height)
            im = im.resize((round(im.width * s), round(im.height * s)), Image.LANCZOS)
            l, t = (im.width - W) // 2, (im.height - H) // 2
            im = im.crop((l, t, l + W, t + H))
            # Stored so that applying orientation o turns it upright.
            inverse = {1: None, 3: Image.ROTATE_180, 6: Image.ROTATE_90, 8: Image.ROTATE_270}[o]
            if inverse is not None:
                im = im.transpose(inverse)
            exif = Image.Exif()
            exif[0x0112] = o
            im.save(out, quality=int(sys.argv[4]), exif=exif.tobytes())
            """,
            Services.dataDirectory + "/" + source, out, String(orientation), String(quality),
        ])
        return out
    }

    static func iou(_ a: BoundingBox, _ b: BoundingBox) -> Double {
        let ix = max(0, min(a.x2, b.x2) - max(a.x1, b.x1))
        let iy = max(0, min(a.y2, b.y2) - max(a.y1, b.y1))
        let inter = Double(ix * iy)
        let union = Double((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1)) - inter
        return union > 0 ? inter / union : 0
    }
}

@Suite("12-megapixel phone photos decoded at reduced scales", .enabled(if: Services.available), .serialized)
struct PhonePhotoTests {
    @Test(
        "faces, boxes, landmarks and descriptors match the full-size decode",
        arguments: [
            ("faces/group-6-faces.jpg", 1, 6), ("faces/portrait-grace-hopper.jpg", 6, 1),
            ("faces/portrait-football.jpg", 3, 1), ("faces/group-6-faces.jpg", 8, 2),
        ])
    func matchesFullSize(source: String, orientation: Int, expected: Int) throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("fs-phone-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try PhonePhotos.make(source, orientation: orientation, in: dir, name: "phone.jpg")
        let file = ImageFile(path: path, filename: "phone.jpg")
        let full = try Services.pipeline(PipelineOptions(reducedDecode: false)).analyze(file)
        let reduced = try Services.pipeline(PipelineOptions()).analyze(file)
        let wholeDecodes = try Services.pipeline(PipelineOptions(cropRegions: false)).analyze(file)
        // The detector sees the 1/4 decode (1008x756 stored, at least 736x416 upright), or for an
        // upright portrait letterboxed (312x416 of FaceNet's input) the 1/8 decode (378x504).
        let bytes = try ImageDecoder.readFile(path)
        let jpeg = try #require(try ScaledJPEG(bytes: bytes, name: path, maxPixels: 100_000_000))
        let pipeline = try Services.pipeline(PipelineOptions())
        let expectedScale: DecodeScale = pipeline.resizeMode == .letterbox && orientation >= 5 ? .eighth : .quarter
        #expect(try ImageViews(jpeg: jpeg, resizeMode: pipeline.resizeMode).detection.scale == expectedScale)

        // The stored size is the full image's, upright.
        #expect(reduced.width == (orientation >= 5 ? 3024 : 4032) && reduced.height == (orientation >= 5 ? 4032 : 3024))
        #expect(reduced.width == full.width && reduced.height == full.height && reduced.portrait == full.portrait)
        #expect(full.faceCount == expected && reduced.faceCount == expected && wholeDecodes.faceCount == expected)

        let fullFaces = full.faces ?? []
        for (variant, document) in [("regions", reduced), ("whole", wholeDecodes)] {
            for face in document.faces ?? [] {
                // The same face of the full-size decode: the box overlapping most.
                let match = try #require(
                    fullFaces.max { PhonePhotos.iou($0.bbox, face.bbox) < PhonePhotos.iou($1.bbox, face.bbox) })
                let overlap = PhonePhotos.iou(match.bbox, face.bbox)
                #expect(overlap > 0.9, "\(variant) box \(face.bbox) vs \(match.bbox): IoU \(overlap)")
                #expect(face.probability == match.probability || abs(face.probability - match.probability) <= 3)
                let a = try FaceLandmarks.points(fromDescriptors: try #require(face.descriptors))
                let b = try FaceLandmarks.points(fromDescriptors: try #require(match.descriptors))
                try #require(a.map(\.index) == b.map(\.index))
                let eye = { (r: ClosedRange<Int>) in
                    let points = b.filter { r.contains($0.index) }
                    return (
                        Double(points.map(\.x).reduce(0, +)) / Double(points.count),
                        Double(points.map(\.y).reduce(0, +)) / Double(points.count)
                    )
                }
                let (l, r) = (eye(36...41), eye(42...47))
                let interocular = ((l.0 - r.0) * (l.0 - r.0) + (l.1 - r.1) * (l.1 - r.1)).squareRoot()
                let meanError =
                    zip(a, b).map { p, q in Double((p.x - q.x) * (p.x - q.x) + (p.y - q.y) * (p.y - q.y)).squareRoot() }
                    .reduce(0, +) / Double(max(1, a.count))
                #expect(
                    meanError / interocular < 0.05,
                    "\(variant) landmark error \(meanError / interocular) of the inter-ocular distance")
                if let e1 = face.embedding, let e2 = match.embedding {
                    let distance = FaceIdentities.distance(e1, e2)
                    // Recompressing these photos at quality 85 instead of 90 moves the full-size
                    // descriptors by 0.03-0.09 (docs/benchmarks.md); dlib's same-person threshold is 0.6.
                    #expect(distance < 0.1, "\(variant) descriptor distance \(distance)")
                } else {
                    Issue.record("no descriptors")
                }
            }
        }
    }
}
