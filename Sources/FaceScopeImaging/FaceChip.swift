import FaceScopeCore

extension Preprocess {
    /// Writes the aligned RGB face chip (`alignment.size` squared, HWC, 8-bit) for the descriptor
    /// model into `output`: each chip pixel samples the image bilinearly where the alignment maps
    /// it (outside the image: black).
    public static func faceChip(
        _ image: DecodedImage, alignment: FaceAlignment, into output: UnsafeMutableBufferPointer<UInt8>
    ) {
        let size = alignment.size
        precondition(output.count >= size * size * 3, "the chip needs \(size * size * 3) bytes")
        let width = image.width
        let height = image.height
        image.pixels.withUnsafeBufferPointer { pixels in
            for y in 0..<size {
                for x in 0..<size {
                    // Pixel centres: chip (x + 0.5, y + 0.5) <- image (u + 0.5, v + 0.5).
                    let p = alignment.toImage(x: Double(x) + 0.5, y: Double(y) + 0.5)
                    let u = p.x - 0.5
                    let v = p.y - 0.5
                    let out = (y * size + x) * 3
                    guard u > -1, v > -1, u < Double(width), v < Double(height) else {
                        output[out] = 0
                        output[out + 1] = 0
                        output[out + 2] = 0
                        continue
                    }
                    let x0 = Int(u.rounded(.down))
                    let y0 = Int(v.rounded(.down))
                    let fx = u - Double(x0)
                    let fy = v - Double(y0)
                    for c in 0..<3 {
                        func at(_ xx: Int, _ yy: Int) -> Double {
                            guard xx >= 0, yy >= 0, xx < width, yy < height else { return 0 }
                            return Double(pixels[(yy * width + xx) * 3 + c])
                        }
                        let top = at(x0, y0) * (1 - fx) + at(x0 + 1, y0) * fx
                        let bottom = at(x0, y0 + 1) * (1 - fx) + at(x0 + 1, y0 + 1) * fx
                        let value = top * (1 - fy) + bottom * fy
                        output[out + c] = UInt8(max(0, min(255, value.rounded())))
                    }
                }
            }
        }
    }
}
