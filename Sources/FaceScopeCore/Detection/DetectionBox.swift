/// An axis-aligned box in floating-point pixels: (x1, y1) is the top-left corner, (x2, y2) the
/// bottom-right one, with y growing downwards.
public struct DetectionBox: Sendable, Equatable, CustomStringConvertible {
    public var x1: Double
    public var y1: Double
    public var x2: Double
    public var y2: Double

    /// A box from its corners.
    public init(x1: Double, y1: Double, x2: Double, y2: Double) {
        self.x1 = x1
        self.y1 = y1
        self.x2 = x2
        self.y2 = y2
    }

    /// The width; negative for an inverted box.
    public var width: Double { x2 - x1 }
    /// The height; negative for an inverted box.
    public var height: Double { y2 - y1 }
    /// The area; 0 for an empty or inverted box.
    public var area: Double { max(0, width) * max(0, height) }

    /// Intersection over union with another box; 0 when the union is empty.
    public func iou(_ other: DetectionBox) -> Double {
        let iw = max(0, min(x2, other.x2) - max(x1, other.x1))
        let ih = max(0, min(y2, other.y2) - max(y1, other.y1))
        let intersection = iw * ih
        let union = area + other.area - intersection
        return union > 0 ? intersection / union : 0
    }

    /// The box limited to `[0, width] x [0, height]`.
    public func clipped(width: Double, height: Double) -> DetectionBox {
        DetectionBox(
            x1: min(max(x1, 0), width), y1: min(max(y1, 0), height),
            x2: min(max(x2, 0), width), y2: min(max(y2, 0), height))
    }

    /// The stored bounding box: corners rounded to the nearest pixel (a non-finite corner as 0).
    public func boundingBox(pk: String = "") -> BoundingBox {
        BoundingBox(pk: pk, x1: pixel(x1), y1: pixel(y1), x2: pixel(x2), y2: pixel(y2))
    }

    public var description: String { "(\(x1), \(y1))-(\(x2), \(y2))" }
}

/// A detected face (or a candidate cell before clustering): its box and the detector's confidence.
public struct Detection: Sendable, Equatable {
    /// The box, in network pixels or image pixels depending on the stage that produced it.
    public var box: DetectionBox
    /// The confidence: a cell's coverage (0...1) after decoding and NMS; the summed coverage of a
    /// cluster after DBSCAN, which can exceed 1.
    public var confidence: Double

    /// A detection from its box and confidence.
    public init(box: DetectionBox, confidence: Double) {
        self.box = box
        self.confidence = confidence
    }

    /// The stored `probability`: `round(100 * confidence)` clamped to 0...100. NMS confidences
    /// are coverages in 0...1, so this is a percentage; a DBSCAN cluster's summed coverage can
    /// exceed 1 and is then stored as 100 (the older system stored the raw rounded sum instead).
    public var probability: Int {
        guard confidence.isFinite else { return confidence > 0 ? 100 : 0 }
        return min(100, max(0, Int((100 * confidence).rounded())))
    }
}

/// How a box in the network frame maps back to the original image: `X = (x - offsetX) / scaleX`,
/// `Y = (y - offsetY) / scaleY`, the result clipped to the image.
public struct ImageTransform: Sendable, Equatable {
    /// Network pixels per image pixel, horizontally.
    public var scaleX: Double
    /// Network pixels per image pixel, vertically.
    public var scaleY: Double
    /// Where the image's left edge lies in the network frame (letterbox padding).
    public var offsetX: Double
    /// Where the image's top edge lies in the network frame (letterbox padding).
    public var offsetY: Double
    /// The original image's width in pixels.
    public var imageWidth: Double
    /// The original image's height in pixels.
    public var imageHeight: Double

    /// A transform from its parts.
    public init(
        scaleX: Double, scaleY: Double, offsetX: Double = 0, offsetY: Double = 0, imageWidth: Double,
        imageHeight: Double
    ) {
        self.scaleX = scaleX
        self.scaleY = scaleY
        self.offsetX = offsetX
        self.offsetY = offsetY
        self.imageWidth = imageWidth
        self.imageHeight = imageHeight
    }

    /// The whole image stretched to the network frame (aspect ratio not kept), as NVIDIA's
    /// references feed FaceNet.
    public static func stretch(
        imageWidth: Int, imageHeight: Int, networkWidth: Int = GridBox.networkWidth,
        networkHeight: Int = GridBox.networkHeight
    ) -> ImageTransform {
        ImageTransform(
            scaleX: Double(networkWidth) / Double(max(imageWidth, 1)),
            scaleY: Double(networkHeight) / Double(max(imageHeight, 1)),
            imageWidth: Double(imageWidth), imageHeight: Double(imageHeight))
    }

    /// The image scaled by one factor to fit the network frame, aspect ratio kept, and padded:
    /// at the top-left corner (as the CPU backend's `resize_mode` `letterbox` expects) or centred.
    public static func letterbox(
        imageWidth: Int, imageHeight: Int, centered: Bool = false, networkWidth: Int = GridBox.networkWidth,
        networkHeight: Int = GridBox.networkHeight
    ) -> ImageTransform {
        let w = Double(max(imageWidth, 1))
        let h = Double(max(imageHeight, 1))
        let scale = min(Double(networkWidth) / w, Double(networkHeight) / h)
        let offsetX = centered ? (Double(networkWidth) - w * scale) / 2 : 0
        let offsetY = centered ? (Double(networkHeight) - h * scale) / 2 : 0
        return ImageTransform(
            scaleX: scale, scaleY: scale, offsetX: offsetX, offsetY: offsetY, imageWidth: Double(imageWidth),
            imageHeight: Double(imageHeight))
    }

    /// A box in network pixels mapped to image pixels and clipped to the image.
    public func toImage(_ box: DetectionBox) -> DetectionBox {
        DetectionBox(
            x1: (box.x1 - offsetX) / scaleX, y1: (box.y1 - offsetY) / scaleY,
            x2: (box.x2 - offsetX) / scaleX, y2: (box.y2 - offsetY) / scaleY
        ).clipped(width: imageWidth, height: imageHeight)
    }

    /// A box in image pixels mapped to network pixels (not clipped).
    public func toNetwork(_ box: DetectionBox) -> DetectionBox {
        DetectionBox(
            x1: box.x1 * scaleX + offsetX, y1: box.y1 * scaleY + offsetY,
            x2: box.x2 * scaleX + offsetX, y2: box.y2 * scaleY + offsetY)
    }
}

/// A coordinate rounded to a whole pixel; 0 for NaN, clamped for huge values.
func pixel(_ v: Double) -> Int {
    guard v.isFinite else { return 0 }
    return Int(min(max(v.rounded(), -1e15), 1e15))
}
