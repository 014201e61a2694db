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

    /// Resamples RGB8 interleaved `pixels` (`width` per row) into three planes of floats, each
    /// value multiplied by `gain`: output row `oy`, column `ox` of channel `c` goes to
    /// `planes[c * planeStride + oy * rowStride + ox]`. Only the `x.outSize` x `y.outSize` area is
    /// written.
    ///
    /// Each input row the output reads is converted to floats once, into a ring of `y.taps` rows
    /// (the vertical windows only move forward). Per output row, the vertical pass blends the ring's
    /// rows over contiguous floats, eight at a time (so an enlargement's rows are blended once per
    /// output row, but converted once per input row); the horizontal pass then computes four output
    /// pixels at a time, each as a 4-lane vector (R, G, B, unused), regroups them into R, G and B
    /// vectors and writes those straight into the planes. Same filter as ``rgbRows(_:width:x:y:_:)``;
    /// results differ from it only by float rounding (`gain` is folded into the vertical weights).
    static func rgbPlanes(
        _ pixels: UnsafeBufferPointer<UInt8>, width: Int, x: ResampleAxis, y: ResampleAxis, gain: Float,
        into planes: UnsafeMutablePointer<Float>, rowStride: Int, planeStride: Int
    ) {
        guard let src = pixels.baseAddress else { return }
        let outW = x.outSize
        let ky = y.taps
        let c0 = x.first
        let n = 3 * (x.last - x.first + 1)  // floats in one row, columns x.first...x.last
        let rowBytes = width * 3
        // The ring: slot s holds input row `slotRows[s]` as floats.
        let ring = UnsafeMutablePointer<Float>.allocate(capacity: ky * n)
        defer { ring.deallocate() }
        var slotRows = [Int](repeating: -1, count: ky)
        let rows = UnsafeMutablePointer<UnsafePointer<Float>>.allocate(capacity: ky)
        defer { rows.deallocate() }
        let gains = UnsafeMutablePointer<Float>.allocate(capacity: ky)
        defer { gains.deallocate() }
        // The vertical pass's result, plus one float so that a 4-lane read of the last pixel
        // stays inside.
        let blended = UnsafeMutablePointer<Float>.allocate(capacity: n + 1)
        defer { blended.deallocate() }
        blended[n] = 0
        // Byte offset into `blended` of each output pixel's first tap.
        let offsets = x.starts.map { 12 * ($0 - c0) }
        offsets.withUnsafeBufferPointer { xo in
            x.weights.withUnsafeBufferPointer { xw in
                y.starts.withUnsafeBufferPointer { ys in
                    y.weights.withUnsafeBufferPointer { yw in
                        guard let xop = xo.baseAddress, let xwp = xw.baseAddress, let ysp = ys.baseAddress,
                            let ywp = yw.baseAddress
                        else { return }
                        for oy in 0..<y.outSize {
                            let start = ysp[oy]
                            for k in 0..<ky {
                                let row = start + k
                                let slot = ring + (row % ky) * n
                                if slotRows[row % ky] != row {
                                    slotRows[row % ky] = row
                                    widen(src + (row * rowBytes + c0 * 3), count: n, into: slot)
                                }
                                rows[k] = UnsafePointer(slot)
                                gains[k] = ywp[oy * ky + k] * gain
                            }
                            vertical(rows, weights: gains, taps: ky, count: n, into: blended)
                            horizontal(
                                UnsafeRawPointer(blended), offsets: xop, weights: xwp, taps: x.taps, count: outW,
                                into: planes + oy * rowStride, planeStride: planeStride)
                        }
                    }
                }
            }
        }
    }

    /// `count` bytes to floats (a loop the compiler vectorises).
    @inline(__always)
    private static func widen(_ s: UnsafePointer<UInt8>, count: Int, into d: UnsafeMutablePointer<Float>) {
        for i in 0..<count { d[i] = Float(s[i]) }
    }

    /// The vertical pass: `out[i] = sum over k of weights[k] * rows[k][i]` for `count` values,
    /// eight at a time. The common tap counts get loops of their own (unrolled).
    private static func vertical(
        _ rows: UnsafePointer<UnsafePointer<Float>>, weights: UnsafePointer<Float>, taps: Int, count: Int,
        into out: UnsafeMutablePointer<Float>
    ) {
        switch taps {
        case 1: vertical(rows, weights, fixedTaps: 1, count, out)
        case 2: vertical(rows, weights, fixedTaps: 2, count, out)
        case 3: vertical(rows, weights, fixedTaps: 3, count, out)
        case 4: vertical(rows, weights, fixedTaps: 4, count, out)
        case 5: vertical(rows, weights, fixedTaps: 5, count, out)
        case 6: vertical(rows, weights, fixedTaps: 6, count, out)
        default: vertical(rows, weights, fixedTaps: taps, count, out)
        }
    }

    @inline(__always)
    private static func vertical(
        _ rows: UnsafePointer<UnsafePointer<Float>>, _ weights: UnsafePointer<Float>, fixedTaps taps: Int,
        _ count: Int, _ out: UnsafeMutablePointer<Float>
    ) {
        typealias V = SIMD8<Float>
        let lanes = V.scalarCount
        var i = 0
        while i &+ lanes <= count {
            var v = weights[0] * UnsafeRawPointer(rows[0] + i).loadUnaligned(as: V.self)
            for k in 1..<max(taps, 1) { v += weights[k] * UnsafeRawPointer(rows[k] + i).loadUnaligned(as: V.self) }
            UnsafeMutableRawPointer(out + i).storeBytes(of: v, as: V.self)
            i &+= lanes
        }
        while i < count {
            var v = weights[0] * rows[0][i]
            for k in 1..<max(taps, 1) { v += weights[k] * rows[k][i] }
            out[i] = v
            i &+= 1
        }
    }

    /// The horizontal pass of one row: output pixel `ox` is the weighted sum of the `taps` pixels
    /// from byte offset `offsets[ox]` of `px` (interleaved R, G, B floats, one spare float at the
    /// end, each pixel read as 4 lanes with the fourth ignored), split into planes: R to `out[ox]`,
    /// G to `out[planeStride + ox]`, B to `out[2 * planeStride + ox]`. Four pixels at a time; the
    /// common tap counts get loops of their own (unrolled).
    private static func horizontal(
        _ px: UnsafeRawPointer, offsets: UnsafePointer<Int>, weights: UnsafePointer<Float>, taps: Int,
        count: Int, into out: UnsafeMutablePointer<Float>, planeStride: Int
    ) {
        switch taps {
        case 1: horizontal(px, offsets, weights, fixedTaps: 1, count, out, planeStride)
        case 2: horizontal(px, offsets, weights, fixedTaps: 2, count, out, planeStride)
        case 3: horizontal(px, offsets, weights, fixedTaps: 3, count, out, planeStride)
        case 4: horizontal(px, offsets, weights, fixedTaps: 4, count, out, planeStride)
        case 5: horizontal(px, offsets, weights, fixedTaps: 5, count, out, planeStride)
        case 6: horizontal(px, offsets, weights, fixedTaps: 6, count, out, planeStride)
        default: horizontal(px, offsets, weights, fixedTaps: taps, count, out, planeStride)
        }
    }

    @inline(__always)
    private static func horizontal(
        _ px: UnsafeRawPointer, _ offsets: UnsafePointer<Int>, _ weights: UnsafePointer<Float>,
        fixedTaps taps: Int, _ count: Int, _ out: UnsafeMutablePointer<Float>, _ planeStride: Int
    ) {
        typealias V = SIMD4<Float>
        @inline(__always) func pixel(_ ox: Int) -> V {
            let p = px + offsets[ox]
            let w = weights + taps &* ox
            var v = w[0] * p.loadUnaligned(as: V.self)
            for k in 1..<max(taps, 1) { v += w[k] * p.loadUnaligned(fromByteOffset: 12 &* k, as: V.self) }
            return v
        }
        let r = UnsafeMutableRawPointer(out)
        let g = UnsafeMutableRawPointer(out + planeStride)
        let b = UnsafeMutableRawPointer(out + 2 &* planeStride)
        var ox = 0
        if taps <= 3 {
            // Four pixels at a time, transposed in registers.
            while ox &+ 4 <= count {
                let p0 = pixel(ox)
                let p1 = pixel(ox &+ 1)
                let p2 = pixel(ox &+ 2)
                let p3 = pixel(ox &+ 3)
                r.storeBytes(of: V(p0[0], p1[0], p2[0], p3[0]), toByteOffset: 4 &* ox, as: V.self)
                g.storeBytes(of: V(p0[1], p1[1], p2[1], p3[1]), toByteOffset: 4 &* ox, as: V.self)
                b.storeBytes(of: V(p0[2], p1[2], p2[2], p3[2]), toByteOffset: 4 &* ox, as: V.self)
                ox &+= 4
            }
        } else {
            // With more taps that runs out of registers: four pixels at a time written
            // interleaved into `t` (overlapping 4-lane stores), then split into the planes.
            var t = (V(), V(), V(), V())
            while ox &+ 4 <= count {
                withUnsafeMutableBytes(of: &t) { tb in
                    tb.storeBytes(of: pixel(ox), toByteOffset: 0, as: V.self)
                    tb.storeBytes(of: pixel(ox &+ 1), toByteOffset: 12, as: V.self)
                    tb.storeBytes(of: pixel(ox &+ 2), toByteOffset: 24, as: V.self)
                    tb.storeBytes(of: pixel(ox &+ 3), toByteOffset: 36, as: V.self)
                }
                // t.0 = r0 g0 b0 r1, t.1 = g1 b1 r2 g2, t.2 = b2 r3 g3 b3.
                let (v0, v1, v2) = (t.0, t.1, t.2)
                r.storeBytes(of: V(v0[0], v0[3], v1[2], v2[1]), toByteOffset: 4 &* ox, as: V.self)
                g.storeBytes(of: V(v0[1], v1[0], v1[3], v2[2]), toByteOffset: 4 &* ox, as: V.self)
                b.storeBytes(of: V(v0[2], v1[1], v2[0], v2[3]), toByteOffset: 4 &* ox, as: V.self)
                ox &+= 4
            }
        }
        while ox < count {
            let v = pixel(ox)
            out[ox] = v[0]
            out[planeStride &+ ox] = v[1]
            out[2 &* planeStride &+ ox] = v[2]
            ox &+= 1
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
