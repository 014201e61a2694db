import CPNG

/// PNG through libpng's simplified (png_image) API.
enum PNGCodec {
    struct Header {
        let width: Int
        let height: Int
    }

    /// The size from the IHDR chunk, read by hand so that a declared-huge image is refused before
    /// libpng allocates anything.
    static func header(_ d: UnsafeBufferPointer<UInt8>) throws(ImagingFailure) -> Header {
        // Signature (8), IHDR length (4) = 13, "IHDR", width (4), height (4).
        guard d.count >= 24 else { throw ImagingFailure("truncated PNG (no complete header)") }
        guard d[12] == 0x49, d[13] == 0x48, d[14] == 0x44, d[15] == 0x52 else {
            throw ImagingFailure("corrupt PNG: the first chunk is not IHDR")
        }
        func be32(_ i: Int) -> Int { Int(d[i]) << 24 | Int(d[i + 1]) << 16 | Int(d[i + 2]) << 8 | Int(d[i + 3]) }
        let w = be32(16)
        let h = be32(20)
        guard w > 0, h > 0, w <= 0x7FFF_FFFF, h <= 0x7FFF_FFFF else {
            throw ImagingFailure("corrupt PNG: invalid size \(w) x \(h)")
        }
        return Header(width: w, height: h)
    }

    /// Decodes to RGB8. 16-bit samples without gAMA/sRGB are taken as sRGB (libpng would assume
    /// linear); gray and palette expand to RGB; alpha (including palette tRNS) is composited onto
    /// black as value * alpha / 255 in sRGB space. Returns the pixels and the file's channels.
    static func decode(_ d: UnsafeBufferPointer<UInt8>, header: Header) throws(ImagingFailure) -> (
        pixels: [UInt8], channels: Int
    ) {
        guard let base = d.baseAddress else { throw ImagingFailure("empty file") }
        var image = png_image()
        image.version = UInt32(PNG_IMAGE_VERSION)
        defer { png_image_free(&image) }
        if png_image_begin_read_from_memory(&image, base, d.count) == 0 {
            throw failure(&image, "cannot read the header")
        }
        guard Int(image.width) == header.width, Int(image.height) == header.height else {
            throw ImagingFailure("corrupt PNG: inconsistent header")
        }
        // Must be set after begin_read, which initialises `flags`.
        image.flags |= UInt32(PNG_IMAGE_FLAG_16BIT_sRGB)
        let hasAlpha = image.format & UInt32(PNG_FORMAT_FLAG_ALPHA) != 0
        let channels = (image.format & UInt32(PNG_FORMAT_FLAG_COLOR) != 0 ? 3 : 1) + (hasAlpha ? 1 : 0)
        // PNG_FORMAT_RGBA is a compound macro Swift does not import.
        let rgb = UInt32(PNG_FORMAT_FLAG_COLOR)
        image.format = hasAlpha ? rgb | UInt32(PNG_FORMAT_FLAG_ALPHA) : rgb
        let bytesPerPixel = hasAlpha ? 4 : 3
        let count = header.width * header.height
        guard header.width * bytesPerPixel <= Int(Int32.max) else {
            throw ImagingFailure("PNG rows are too wide to decode")
        }
        var ok: Int32 = 0
        let decoded = [UInt8](unsafeUninitializedCapacity: count * bytesPerPixel) { out, n in
            ok = png_image_finish_read(
                &image, nil, out.baseAddress, Int32(header.width * bytesPerPixel), nil)
            n = ok != 0 ? count * bytesPerPixel : 0
        }
        if ok == 0 { throw failure(&image, "cannot decode") }
        return (hasAlpha ? compositeOnBlack(decoded, count: count) : decoded, channels)
    }

    static func failure(_ image: inout png_image, _ what: String) -> ImagingFailure {
        let message = withUnsafeBytes(of: &image.message) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
        let m = message.lowercased()
        if m.contains("end of data") || m.contains("not enough image data") || m.contains("truncated") {
            return ImagingFailure("truncated PNG (\(message))")
        }
        return ImagingFailure("corrupt PNG: \(what): \(message)")
    }

    /// RGBA8 (non-premultiplied) to RGB8 composited onto black.
    static func compositeOnBlack(_ rgba: [UInt8], count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count * 3) { out, n in
            rgba.withUnsafeBufferPointer { src in
                for i in 0..<count {
                    let a = UInt32(src[i * 4 + 3])
                    out[i * 3] = UInt8((UInt32(src[i * 4]) * a + 127) / 255)
                    out[i * 3 + 1] = UInt8((UInt32(src[i * 4 + 1]) * a + 127) / 255)
                    out[i * 3 + 2] = UInt8((UInt32(src[i * 4 + 2]) * a + 127) / 255)
                }
            }
            n = count * 3
        }
    }
}
