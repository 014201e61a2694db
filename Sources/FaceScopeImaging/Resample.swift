/// Separable resampling with a triangle (bilinear) filter: plain bilinear interpolation when
/// enlarging; when shrinking, the triangle widens by the reduction factor (as Pillow's BILINEAR
/// does), so every output pixel is a weighted average of all the input pixels it covers and large
/// reductions do not alias. Pixel centres are at half-integers; taps outside the input (or the
/// window) are dropped and the rest renormalised, which amounts to clamping to the edge.
struct ResampleAxis {
    let outSize: Int
    /// Taps per output sample (every row of `weights` has this many, zero-padded).
    let taps: Int
    /// First input index of each output sample; `starts[i] + taps <= inSize`.
    let starts: [Int]
    let weights: [Float]
    /// The lowest and highest input index any output sample reads.
    let first: Int
    let last: Int

    /// Output sample `i` covers input coordinates `offset + i/scale ..< offset + (i+1)/scale`.
    /// Only input indices in `window` (default: all) are read, as if the input were cropped to it.
    init(outSize: Int, inSize: Int, scale: Double, offset: Double = 0, window: Range<Int>? = nil) {
        precondition(outSize > 0 && inSize > 0 && scale > 0 && scale.isFinite, "bad resampling geometry")
        let window = (window ?? 0..<inSize).clamped(to: 0..<inSize)
        precondition(!window.isEmpty, "empty resampling window")
        let filterScale = max(1.0, 1.0 / scale)
        let support = filterScale
        // Raw weights, `bound` slots per output: a window of width 2*support spans at most this many.
        let bound = Int((2 * support).rounded(.up)) + 2
        var raw = [Double](repeating: 0, count: outSize * bound)
        var lows = [Int](repeating: 0, count: outSize)
        var counts = [Int](repeating: 0, count: outSize)
        var sums = [Double](repeating: 1, count: outSize)
        var maxTaps = 1
        for i in 0..<outSize {
            let center = offset + (Double(i) + 0.5) / scale
            let from = max(window.lowerBound, Int((center - support).rounded(.down)))
            let to = min(window.upperBound, Int((center + support).rounded(.up)))
            let row = i * bound
            var lo = -1
            var count = 0
            var sum = 0.0
            if from < to {
                for j in from..<to {
                    let w = 1 - abs((Double(j) + 0.5 - center) / filterScale)
                    guard w > 0 else { continue }  // a triangle: zeros only at the ends
                    if lo < 0 { lo = j }
                    raw[row + j - lo] = w
                    count = j - lo + 1
                    sum += w
                }
            }
            if count == 0 {  // centre outside the window: nearest edge pixel
                lo = min(max(Int(center.rounded(.down)), window.lowerBound), window.upperBound - 1)
                raw[row] = 1
                count = 1
                sum = 1
            }
            lows[i] = lo
            counts[i] = count
            sums[i] = sum
            maxTaps = max(maxTaps, count)
        }
        var starts = [Int](repeating: 0, count: outSize)
        var weights = [Float](repeating: 0, count: outSize * maxTaps)
        var first = inSize
        var last = 0
        for i in 0..<outSize {
            // Shift windows that would run past the end left, keeping the weights in place.
            let start = min(lows[i], inSize - maxTaps)
            let shift = lows[i] - start
            starts[i] = start
            for k in 0..<counts[i] { weights[i * maxTaps + shift + k] = Float(raw[i * bound + k] / sums[i]) }
            first = min(first, start)
            last = max(last, start + maxTaps - 1)
        }
        self.outSize = outSize
        self.taps = maxTaps
        self.starts = starts
        self.weights = weights
        self.first = first
        self.last = last
    }
}

enum Resampler {
    /// Resamples RGB8 interleaved `pixels` (`width` per row) and hands each output row to `body`
    /// as `x.outSize * 3` interleaved floats on the 0...255 scale.
    static func rgbRows(
        _ pixels: UnsafeBufferPointer<UInt8>, width: Int, x: ResampleAxis, y: ResampleAxis,
        _ body: (_ row: Int, _ values: UnsafeMutablePointer<Float>) -> Void
    ) {
        guard let src = pixels.baseAddress else { return }
        let c0 = x.first
        let n = (x.last - x.first + 1) * 3
        let vrow = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { vrow.deallocate() }
        let hrow = UnsafeMutablePointer<Float>.allocate(capacity: x.outSize * 3)
        defer { hrow.deallocate() }
        let rowBytes = width * 3
        x.starts.withUnsafeBufferPointer { xs in
            x.weights.withUnsafeBufferPointer { xw in
                y.starts.withUnsafeBufferPointer { ys in
                    y.weights.withUnsafeBufferPointer { yw in
                        guard let xsp = xs.baseAddress, let xwp = xw.baseAddress, let ysp = ys.baseAddress,
                            let ywp = yw.baseAddress
                        else { return }
                        let kx = x.taps
                        let ky = y.taps
                        for oy in 0..<y.outSize {
                            // Vertical pass over the columns the horizontal pass will read.
                            let wrow = ywp + oy * ky
                            var s = src + (ysp[oy] * rowBytes + c0 * 3)
                            let w0 = wrow[0]
                            for i in 0..<n { vrow[i] = w0 * Float(s[i]) }
                            for k in 1..<max(ky, 1) {
                                s += rowBytes
                                let w = wrow[k]
                                if w == 0 { continue }
                                for i in 0..<n { vrow[i] += w * Float(s[i]) }
                            }
                            // Horizontal pass.
                            for ox in 0..<x.outSize {
                                var p = vrow + (xsp[ox] - c0) * 3
                                let wx = xwp + ox * kx
                                var r: Float = 0
                                var g: Float = 0
                                var b: Float = 0
                                for k in 0..<kx {
                                    let w = wx[k]
                                    r += w * p[0]
                                    g += w * p[1]
                                    b += w * p[2]
                                    p += 3
                                }
                                hrow[ox * 3] = r
                                hrow[ox * 3 + 1] = g
                                hrow[ox * 3 + 2] = b
                            }
                            body(oy, hrow)
                        }
                    }
                }
            }
        }
    }

    /// Resizes an RGB8 image to `width` x `height` (stretching), returning RGB8.
    static func resize(_ image: DecodedImage, width: Int, height: Int) -> [UInt8] {
        let x = ResampleAxis(outSize: width, inSize: image.width, scale: Double(width) / Double(image.width))
        let y = ResampleAxis(outSize: height, inSize: image.height, scale: Double(height) / Double(image.height))
        return [UInt8](unsafeUninitializedCapacity: width * height * 3) { out, count in
            image.pixels.withUnsafeBufferPointer { src in
                rgbRows(src, width: image.width, x: x, y: y) { row, values in
                    let o = row * width * 3
                    for i in 0..<(width * 3) { out[o + i] = UInt8(min(max(values[i] + 0.5, 0), 255)) }
                }
            }
            count = width * height * 3
        }
    }
}
