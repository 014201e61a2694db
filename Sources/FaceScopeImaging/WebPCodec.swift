import CWebP

/// WebP through libwebp's advanced decoding API (features first, then the pixels).
enum WebPCodec {
    struct Header {
        let width: Int
        let height: Int
        let hasAlpha: Bool
        let animated: Bool
    }

    static func header(_ d: UnsafeBufferPointer<UInt8>) throws(ImagingFailure) -> Header {
        guard let base = d.baseAddress else { throw ImagingFailure("empty file") }
        var features = WebPBitstreamFeatures()
        let status = WebPGetFeatures(base, d.count, &features)
        guard status == VP8_STATUS_OK else { throw failure(status, "cannot read the header") }
        guard features.width > 0, features.height > 0 else {
            throw ImagingFailure("corrupt WebP: the header gives no size")
        }
        return Header(
            width: Int(features.width), height: Int(features.height), hasAlpha: features.has_alpha != 0,
            animated: features.has_animation != 0)
    }

    /// Decodes to RGB8; alpha is composited onto black (value * alpha / 255).
    static func decode(_ d: UnsafeBufferPointer<UInt8>, header: Header) throws(ImagingFailure) -> [UInt8] {
        guard let base = d.baseAddress else { throw ImagingFailure("empty file") }
        if header.animated { throw ImagingFailure("animated WebP is not supported") }
        var config = WebPDecoderConfig()
        guard WebPInitDecoderConfig(&config) != 0 else { throw ImagingFailure("cannot start the WebP decoder") }
        let bytesPerPixel = header.hasAlpha ? 4 : 3
        let count = header.width * header.height
        var status = VP8_STATUS_OK
        let decoded = [UInt8](unsafeUninitializedCapacity: count * bytesPerPixel) { out, n in
            config.output.colorspace = header.hasAlpha ? MODE_RGBA : MODE_RGB
            config.output.is_external_memory = 1
            config.output.u.RGBA.rgba = out.baseAddress
            config.output.u.RGBA.stride = Int32(header.width * bytesPerPixel)
            config.output.u.RGBA.size = count * bytesPerPixel
            status = WebPDecode(base, d.count, &config)
            WebPFreeDecBuffer(&config.output)
            n = status == VP8_STATUS_OK ? count * bytesPerPixel : 0
        }
        guard status == VP8_STATUS_OK else { throw failure(status, "cannot decode") }
        return header.hasAlpha ? PNGCodec.compositeOnBlack(decoded, count: count) : decoded
    }

    static func failure(_ status: VP8StatusCode, _ what: String) -> ImagingFailure {
        switch status {
        case VP8_STATUS_NOT_ENOUGH_DATA: return ImagingFailure("truncated WebP")
        case VP8_STATUS_UNSUPPORTED_FEATURE: return ImagingFailure("WebP feature not supported: \(what)")
        case VP8_STATUS_OUT_OF_MEMORY: return ImagingFailure("out of memory decoding the WebP")
        default: return ImagingFailure("corrupt WebP: \(what) (libwebp status \(status.rawValue))")
        }
    }
}
