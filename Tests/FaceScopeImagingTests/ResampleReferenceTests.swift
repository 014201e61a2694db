import FaceScopeCore
import Testing

@testable import FaceScopeImaging

/// A straightforward reference for FaceNet's input, written from the definition and sharing no
/// code with `Preprocess`/`Resampler`: a separable triangle filter in Double, pixel centres at
/// half-integers, the triangle widened by the reduction factor when shrinking, taps outside the
/// image dropped and the rest renormalised.
enum ReferenceResampler {
    /// The normalised weights of output sample `i` along one axis: (input index, weight) pairs.
    static func weights(out i: Int, inSize: Int, scale: Double) -> [(Int, Double)] {
        let filterScale = max(1, 1 / scale)
        let centre = (Double(i) + 0.5) / scale
        var taps: [(Int, Double)] = []
        for j in 0..<inSize {
            let w = 1 - abs(Double(j) + 0.5 - centre) / filterScale
            if w > 0 { taps.append((j, w)) }
        }
        if taps.isEmpty { return [(min(max(Int(centre.rounded(.down)), 0), inSize - 1), 1)] }
        let sum = taps.reduce(0) { $0 + $1.1 }
        return taps.map { ($0.0, $0.1 / sum) }
    }

    /// FaceNet's input for `image` (planar R, G, B, 416 x 736, pixel / 255, zero padding).
    static func faceNetInput(_ image: DecodedImage, mode: ResizeMode) -> [Float] {
        let (netW, netH) = (736, 416)
        let (w, h) = (Double(image.width), Double(image.height))
        let scaleX: Double
        let scaleY: Double
        let outW: Int
        let outH: Int
        switch mode {
        case .stretch:
            (scaleX, scaleY) = (Double(netW) / w, Double(netH) / h)
            (outW, outH) = (netW, netH)
        case .letterbox:
            let s = min(Double(netW) / w, Double(netH) / h)
            (scaleX, scaleY) = (s, s)
            outW = min(netW, max(1, Int((w * s).rounded())))
            outH = min(netH, max(1, Int((h * s).rounded())))
        }
        let xWeights = (0..<outW).map { weights(out: $0, inSize: image.width, scale: scaleX) }
        let yWeights = (0..<outH).map { weights(out: $0, inSize: image.height, scale: scaleY) }
        // Horizontal pass over every input row, then vertical.
        var rows = [Double](repeating: 0, count: image.height * outW * 3)
        for y in 0..<image.height {
            for x in 0..<outW {
                for (j, wx) in xWeights[x] {
                    for c in 0..<3 {
                        rows[(y * outW + x) * 3 + c] += wx * Double(image.pixels[(y * image.width + j) * 3 + c])
                    }
                }
            }
        }
        var out = [Float](repeating: 0, count: 3 * netW * netH)
        for y in 0..<outH {
            for x in 0..<outW {
                for c in 0..<3 {
                    var v = 0.0
                    for (j, wy) in yWeights[y] { v += wy * rows[(j * outW + x) * 3 + c] }
                    out[c * netW * netH + y * netW + x] = Float(v / 255)
                }
            }
        }
        return out
    }
}

@Suite("FaceNet input against a reference resampler")
struct ResampleReferenceTests {
    /// Pseudo-random pixels (a fixed linear congruential sequence), so every tap matters.
    static func noiseImage(width: Int, height: Int, seed: UInt32) -> DecodedImage {
        var state = seed
        let pixels = (0..<(width * height * 3)).map { _ -> UInt8 in
            state = state &* 1_664_525 &+ 1_013_904_223
            return UInt8(truncatingIfNeeded: state >> 24)
        }
        return DecodedImage(width: width, height: height, pixels: pixels)
    }

    @Test(
        "enlarging, shrinking and mixed sizes match the reference within 1e-4, stretched and letterboxed",
        arguments: [
            (97, 61),  // enlarge both ways (bilinear)
            (1500, 1001),  // shrink both ways (area-averaging, 5 taps)
            (1100, 300),  // wide: shrink across, enlarge down (stretch)
            (250, 900),  // tall: enlarge across, shrink down (stretch)
            (737, 417),  // barely shrinking
            (3, 2),  // tiny: few taps, clamped edges
            (1, 1),
        ])
    func matchesReference(_ size: (Int, Int)) {
        let image = Self.noiseImage(width: size.0, height: size.1, seed: UInt32(size.0 * 7919 + size.1))
        for mode in ResizeMode.allCases {
            let expected = ReferenceResampler.faceNetInput(image, mode: mode)
            let (_, actual) = withFaceNetBuffer { Preprocess.faceNetInput(image, mode: mode, into: $0) }
            var worst: Float = 0
            var worstAt = 0
            for i in 0..<expected.count where abs(actual[i] - expected[i]) > worst {
                worst = abs(actual[i] - expected[i])
                worstAt = i
            }
            #expect(
                worst <= 1e-4,
                "\(size.0)x\(size.1) \(mode.rawValue): off by \(worst) at plane \(worstAt / plane), row \(worstAt % plane / netW), column \(worstAt % netW)"
            )
        }
    }
}
