import FaceScopeCore

/// Maps FaceNet network coordinates (736x416 frame) back to image coordinates:
/// `X = x / scaleX`, `Y = y / scaleY`.
public struct LetterboxTransform: Sendable, Equatable {
    /// Network pixels per image pixel, horizontally.
    public let scaleX: Double
    /// Network pixels per image pixel, vertically.
    public let scaleY: Double

    /// Makes a transform from the two scale factors.
    public init(scaleX: Double, scaleY: Double) {
        self.scaleX = scaleX
        self.scaleY = scaleY
    }

    /// The image point for network point (`x`, `y`).
    public func toImage(x: Double, y: Double) -> (x: Double, y: Double) {
        (x / scaleX, y / scaleY)
    }
}

/// Packs decoded images into the tensors the models take, writing straight into caller-provided
/// buffers (for example the body of an inference request), with no intermediate image.
///
/// Resampling is separable with a triangle filter: plain bilinear interpolation when enlarging;
/// when shrinking, the triangle widens by the reduction factor so each output pixel is a weighted
/// average of all the input pixels it covers (Pillow's BILINEAR does the same; point-sampled
/// bilinear would alias on large reductions such as 1280x886 -> 736x416). Pixel centres sit at
/// half-integers, so the transforms map pixel edges exactly.
public enum Preprocess {
    /// FaceNet's input width.
    public static let faceNetWidth = 736
    /// FaceNet's input height.
    public static let faceNetHeight = 416
    /// Floats in one FaceNet input: 3 x 416 x 736.
    public static let faceNetInputCount = 3 * 416 * 736
    /// FPENet's input side (80x80).
    public static let landmarkSize = 80
    /// Floats in one FPENet input: 1 x 80 x 80.
    public static let landmarkInputCount = 80 * 80

    /// Writes FaceNet's input for `image` into `output` (at least ``faceNetInputCount`` floats):
    /// planar R, G, B planes of 416 rows x 736 columns, each value pixel / 255.
    ///
    /// `.stretch` resizes the whole image to 736x416 (scaleX = 736/W, scaleY = 416/H).
    /// `.letterbox` scales by s = min(736/W, 416/H), puts the image at the top-left corner and
    /// writes 0 everywhere else (scaleX = scaleY = s). Every value of the 3x416x736 area is written.
    /// Returns the transform mapping network coordinates back to the image.
    public static func faceNetInput(
        _ image: DecodedImage, mode: ResizeMode, into output: UnsafeMutableBufferPointer<Float>
    ) -> LetterboxTransform {
        precondition(output.count >= faceNetInputCount, "the FaceNet input needs \(faceNetInputCount) floats")
        let netW = faceNetWidth
        let netH = faceNetHeight
        let w = Double(image.width)
        let h = Double(image.height)
        let outW: Int
        let outH: Int
        let transform: LetterboxTransform
        switch mode {
        case .stretch:
            (outW, outH) = (netW, netH)
            transform = LetterboxTransform(scaleX: Double(netW) / w, scaleY: Double(netH) / h)
        case .letterbox:
            let s = min(Double(netW) / w, Double(netH) / h)
            outW = min(netW, max(1, Int((w * s).rounded())))
            outH = min(netH, max(1, Int((h * s).rounded())))
            transform = LetterboxTransform(scaleX: s, scaleY: s)
        }
        guard let base = output.baseAddress else { return transform }
        let xAxis = ResampleAxis(outSize: outW, inSize: image.width, scale: transform.scaleX)
        let yAxis = ResampleAxis(outSize: outH, inSize: image.height, scale: transform.scaleY)
        let plane = netW * netH
        image.pixels.withUnsafeBufferPointer { src in
            Resampler.rgbPlanes(
                src, width: image.width, x: xAxis, y: yAxis, gain: 1 / 255, into: base, rowStride: netW,
                planeStride: plane)
        }
        if outW < netW {
            for c in 0..<3 {
                for row in 0..<outH { (base + c * plane + row * netW + outW).update(repeating: 0, count: netW - outW) }
            }
        }
        if outH < netH {
            for c in 0..<3 { (base + c * plane + outH * netW).update(repeating: 0, count: (netH - outH) * netW) }
        }
        return transform
    }

    /// The square FPENet crops for a face box: side = max(box width, box height) about the box
    /// centre, shrunk only when the image is smaller than that, then shifted to lie inside the
    /// image. A non-finite box gives the largest centred square.
    public static func landmarkSquare(
        box: (x1: Double, y1: Double, x2: Double, y2: Double), imageWidth: Int, imageHeight: Int
    ) -> FaceCrop {
        let w = Double(imageWidth)
        let h = Double(imageHeight)
        var (x1, x2) = (min(box.x1, box.x2), max(box.x1, box.x2))
        var (y1, y2) = (min(box.y1, box.y2), max(box.y1, box.y2))
        if !(x1.isFinite && x2.isFinite && y1.isFinite && y2.isFinite) { (x1, y1, x2, y2) = (0, 0, w, h) }
        let side = min(max(x2 - x1, y2 - y1, 1), w, h)
        let cx = (x1 + x2) / 2
        let cy = (y1 + y2) / 2
        let x0 = min(max(cx - side / 2, 0), w - side)
        let y0 = min(max(cy - side / 2, 0), h - side)
        return FaceCrop(x0: x0, y0: y0, width: side, height: side)
    }

    /// Writes FPENet's input for the face in `box` (image pixels, x1,y1 top-left, x2,y2
    /// bottom-right) into `output` (at least ``landmarkInputCount`` floats): the square from
    /// ``landmarkSquare(box:imageWidth:imageHeight:)`` stretched to 80x80, as gray
    /// 0.299 R + 0.587 G + 0.114 B on the raw 0...255 scale, row-major. Only pixels inside the
    /// square are read. Returns the transform mapping crop coordinates back to the image.
    public static func landmarkCrop(
        _ image: DecodedImage, box: (x1: Double, y1: Double, x2: Double, y2: Double),
        into output: UnsafeMutableBufferPointer<Float>
    ) -> FaceCrop {
        landmarkCrop(
            image, square: landmarkSquare(box: box, imageWidth: image.width, imageHeight: image.height), into: output)
    }

    /// FPENet's input from a given square of `image` (its pixels; it may reach past the edges,
    /// which are then clamped): stretched to 80x80, gray, as ``landmarkCrop(_:box:into:)`` writes it.
    public static func landmarkCrop(
        _ image: DecodedImage, square: FaceCrop, into output: UnsafeMutableBufferPointer<Float>
    ) -> FaceCrop {
        precondition(output.count >= landmarkInputCount, "the FPENet input needs \(landmarkInputCount) floats")
        guard let base = output.baseAddress else { return square }
        let n = landmarkSize
        let scale = Double(n) / square.width
        func window(_ start: Double, _ size: Int) -> Range<Int> {
            let lo = min(max(Int(start.rounded(.down)), 0), size - 1)
            let hi = max(lo + 1, min(size, Int((start + square.width).rounded(.up))))
            return lo..<hi
        }
        let xAxis = ResampleAxis(
            outSize: n, inSize: image.width, scale: scale, offset: square.x0, window: window(square.x0, image.width))
        let yAxis = ResampleAxis(
            outSize: n, inSize: image.height, scale: scale, offset: square.y0, window: window(square.y0, image.height))
        image.pixels.withUnsafeBufferPointer { src in
            Resampler.rgbRows(src, width: image.width, x: xAxis, y: yAxis) { row, v in
                let o = base + row * n
                for x in 0..<n { o[x] = 0.299 * v[3 * x] + 0.587 * v[3 * x + 1] + 0.114 * v[3 * x + 2] }
            }
        }
        return square
    }
}
