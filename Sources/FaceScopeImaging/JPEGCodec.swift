import CTurboJPEG

/// JPEG through TurboJPEG: header first (size check), then the pixels.
enum JPEGCodec {
    struct Header {
        let width: Int
        let height: Int
        /// 1 gray, 3 YCbCr/RGB, 4 CMYK/YCCK.
        let channels: Int
        let colorspace: Int32
        /// TurboJPEG's chroma subsampling (TJSAMP_*); -1 when it is none of those.
        var subsampling: Int32 = -1
    }

    /// A TurboJPEG decompressor handle, destroyed on deinit.
    final class Decompressor {
        let handle: tjhandle

        init() throws(ImagingFailure) {
            guard let h = tjInitDecompress() else { throw ImagingFailure("cannot start the JPEG decoder") }
            handle = h
        }

        deinit { tjDestroy(handle) }

        var errorText: String {
            guard let text = tjGetErrorStr2(handle) else { return "unknown error" }
            return String(cString: text)
        }

        /// Maps a TurboJPEG failure to a reason: truncated data or corruption.
        func failure(_ what: String) -> ImagingFailure {
            let message = errorText
            if Self.isTruncation(message) { return ImagingFailure("truncated JPEG (\(message))") }
            // 12-bit, lossless and other variants TurboJPEG 2.1 cannot decode.
            if message.hasPrefix("Unsupported") { return ImagingFailure("unsupported JPEG (\(message))") }
            return ImagingFailure("corrupt JPEG: \(what): \(message)")
        }

        static func isTruncation(_ message: String) -> Bool {
            let m = message.lowercased()
            return m.contains("premature end") || m.contains("insufficient data")
        }

        func header(_ d: UnsafeBufferPointer<UInt8>) throws(ImagingFailure) -> Header {
            guard let base = d.baseAddress else { throw ImagingFailure("empty file") }
            var w: Int32 = 0
            var h: Int32 = 0
            var subsampling: Int32 = 0
            var colorspace: Int32 = 0
            if tjDecompressHeader3(handle, base, UInt(d.count), &w, &h, &subsampling, &colorspace) != 0 {
                throw failure("cannot read the header")
            }
            guard w > 0, h > 0 else { throw ImagingFailure("corrupt JPEG: no image size in the header") }
            let channels: Int
            switch colorspace {
            case Int32(TJCS_GRAY.rawValue): channels = 1
            case Int32(TJCS_CMYK.rawValue), Int32(TJCS_YCCK.rawValue): channels = 4
            default: channels = 3
            }
            return Header(
                width: Int(w), height: Int(h), channels: channels, colorspace: colorspace, subsampling: subsampling)
        }

        /// Decodes to RGB8 at `width` x `height`, which must be the full size or one of
        /// TurboJPEG's scaled sizes. CMYK/YCCK files are converted to RGB here.
        func decode(
            _ d: UnsafeBufferPointer<UInt8>, header: Header, width: Int, height: Int
        ) throws(ImagingFailure) -> [UInt8] {
            guard let base = d.baseAddress else { throw ImagingFailure("empty file") }
            let cmyk = header.channels == 4
            let pixelFormat = cmyk ? TJPF_CMYK : TJPF_RGB
            let bytesPerPixel = cmyk ? 4 : 3
            let flags = TJFLAG_LIMITSCANS  // refuse progressive files with absurd scan counts
            var status: Int32 = 0
            var errorCode: Int32 = 0
            let decoded = [UInt8](unsafeUninitializedCapacity: width * height * bytesPerPixel) { out, count in
                status = tjDecompress2(
                    handle, base, UInt(d.count), out.baseAddress, Int32(width), 0, Int32(height),
                    pixelFormat.rawValue, flags)
                if status != 0 { errorCode = tjGetErrorCode(handle) }
                // TurboJPEG fills every row, even after a warning (grey for missing data).
                count = width * height * bytesPerPixel
            }
            if status != 0 {
                // A warning (TJERR_WARNING) still produced an image: refuse truncated data, accept
                // the harmless ones real cameras cause ("extraneous bytes before marker").
                if errorCode != Int32(TJERR_WARNING.rawValue) || Self.isTruncation(errorText) {
                    throw failure("cannot decode")
                }
            }
            return cmyk ? Self.rgb(fromInvertedCMYK: decoded, count: width * height) : decoded
        }

        /// CMYK JPEGs (Photoshop, and libjpeg via Pillow) store Adobe-style inverted values, so
        /// stored c = 255 - C. Without a colour-management system the usual naive conversion is
        /// R = (255 - C)(255 - K)/255 = c*k/255, as browsers and Pillow do.
        static func rgb(fromInvertedCMYK cmyk: [UInt8], count: Int) -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: count * 3) { out, n in
                cmyk.withUnsafeBufferPointer { src in
                    for i in 0..<count {
                        let k = UInt32(src[i * 4 + 3])
                        out[i * 3] = UInt8((UInt32(src[i * 4]) * k + 127) / 255)
                        out[i * 3 + 1] = UInt8((UInt32(src[i * 4 + 1]) * k + 127) / 255)
                        out[i * 3 + 2] = UInt8((UInt32(src[i * 4 + 2]) * k + 127) / 255)
                    }
                }
                n = count * 3
            }
        }
    }

    /// TurboJPEG's DCT scaling factors (1/8 ... 2/1), as (numerator, denominator).
    static let scalingFactors: [(num: Int, denom: Int)] = {
        var n: Int32 = 0
        guard let factors = tjGetScalingFactors(&n), n > 0 else { return [(1, 1)] }
        return (0..<Int(n)).map { (Int(factors[$0].num), Int(factors[$0].denom)) }
    }()

    /// TurboJPEG's TJSCALED: the size of `dimension` decoded at a scaling factor.
    static func scaled(_ dimension: Int, _ factor: (num: Int, denom: Int)) -> Int {
        (dimension * factor.num + factor.denom - 1) / factor.denom
    }

    /// The smallest scaled decode size whose both sides are at least the target (1/1 at worst).
    static func bestScaledSize(width: Int, height: Int, atLeast target: (width: Int, height: Int)) -> (
        width: Int, height: Int
    ) {
        var best = (width: width, height: height)
        for factor in scalingFactors where factor.num <= factor.denom {
            let w = scaled(width, factor)
            let h = scaled(height, factor)
            if w >= target.width && h >= target.height && w * h < best.width * best.height { best = (w, h) }
        }
        return best
    }
}
