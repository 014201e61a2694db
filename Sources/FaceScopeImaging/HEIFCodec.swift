import CHeif

/// HEIF (HEIC, and AVIF where libheif has an AV1 decoder) through libheif.
///
/// Only the primary image is decoded. Its size comes from the image handle, before any pixel is
/// decoded, so the pixel limit applies first. libheif (1.15 on Debian 12) carries out the HEIF
/// transformations (`clap` crop, `irot` rotation, `imir` mirror) when decoding, and the size of
/// the handle is already the transformed one: that is HEIF's orientation. An EXIF orientation
/// tag inside a HEIF file is informative only (the HEIF specification says `irot`/`imir` rule;
/// cameras write both), so it is not applied on top.
enum HEIFCodec {
    struct Header {
        /// The size of the displayed image (transformations applied).
        let width: Int
        let height: Int
        /// The size of the coded image (`ispe`), before cropping and rotation.
        let codedWidth: Int
        let codedHeight: Int
        let hasAlpha: Bool
        let premultipliedAlpha: Bool
    }

    /// libheif's reference-counted initialisation (loads decoder plugins where the build has
    /// them), done once for the process and never undone.
    private static let initialised: Bool = {
        let error = heif_init(nil)
        return error.code == heif_error_Ok
    }()

    /// Whether libheif here can decode HEVC (HEIC) or AV1 (AVIF) images.
    static func hasDecoder(for format: ImageFormat) -> Bool {
        _ = initialised
        switch format {
        case .heic: return heif_have_decoder_for_format(heif_compression_HEVC) != 0
        case .avif: return heif_have_decoder_for_format(heif_compression_AV1) != 0
        case .jpeg, .png, .webp: return false
        }
    }

    /// A parsed file: the libheif context and its primary image handle. `d` must outlive it (the
    /// context reads from it without copying).
    final class File {
        private let context: OpaquePointer
        let handle: OpaquePointer

        init(_ d: UnsafeBufferPointer<UInt8>, format: ImageFormat) throws(ImagingFailure) {
            _ = HEIFCodec.initialised
            guard let base = d.baseAddress else { throw ImagingFailure("empty file") }
            guard let context = heif_context_alloc() else {
                throw ImagingFailure("out of memory reading the \(format.label)")
            }
            var error = heif_context_read_from_memory_without_copy(context, base, d.count, nil)
            // The error's message lives in the context: read it before freeing the context.
            guard error.code == heif_error_Ok else {
                // libheif 1.15 reports a box cut off by the end of the file as missing ("No 'meta'
                // box"): the top-level box sizes tell when the file is in fact truncated.
                var failure = HEIFCodec.failure(error, format, "cannot read the file structure")
                if let cut = HEIFCodec.truncatedBox(d), !failure.reason.hasPrefix("truncated") {
                    failure = ImagingFailure(
                        "truncated \(format.label) (the '\(cut.type)' box needs \(cut.needed) bytes, "
                            + "the file ends after \(d.count))")
                }
                heif_context_free(context)
                throw failure
            }
            var handle: OpaquePointer?
            error = heif_context_get_primary_image_handle(context, &handle)
            guard error.code == heif_error_Ok, let handle else {
                let failure = HEIFCodec.failure(error, format, "no primary image")
                heif_context_free(context)
                throw failure
            }
            self.context = context
            self.handle = handle
        }

        deinit {
            heif_image_handle_release(handle)
            heif_context_free(context)
        }
    }

    static func header(_ file: File, format: ImageFormat) throws(ImagingFailure) -> Header {
        let width = Int(heif_image_handle_get_width(file.handle))
        let height = Int(heif_image_handle_get_height(file.handle))
        guard width > 0, height > 0 else { throw ImagingFailure("corrupt \(format.label): the image has no size") }
        var codedWidth = Int(heif_image_handle_get_ispe_width(file.handle))
        var codedHeight = Int(heif_image_handle_get_ispe_height(file.handle))
        if codedWidth <= 0 || codedHeight <= 0 { (codedWidth, codedHeight) = (width, height) }
        return Header(
            width: width, height: height, codedWidth: codedWidth, codedHeight: codedHeight,
            hasAlpha: heif_image_handle_has_alpha_channel(file.handle) != 0,
            premultipliedAlpha: heif_image_handle_is_premultiplied_alpha(file.handle) != 0)
    }

    /// Decodes the primary image to RGB8 with its transformations applied; alpha is composited
    /// onto black (value * alpha / 255). Call only after checking the header against the limit.
    static func decode(_ file: File, header: Header, format: ImageFormat) throws(ImagingFailure) -> [UInt8] {
        guard let options = heif_decoding_options_alloc() else {
            throw ImagingFailure("out of memory decoding the \(format.label)")
        }
        defer { heif_decoding_options_free(options) }
        options.pointee.ignore_transformations = 0  // the default: apply clap, irot and imir
        if options.pointee.version >= 2 { options.pointee.convert_hdr_to_8bit = 1 }
        // Premultiplied alpha is already composited onto black: keep only the colour.
        let withAlpha = header.hasAlpha && !header.premultipliedAlpha
        let bytesPerPixel = withAlpha ? 4 : 3
        var image: OpaquePointer?
        let error = heif_decode_image(
            file.handle, &image, heif_colorspace_RGB,
            withAlpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB, options)
        guard error.code == heif_error_Ok, let image else {
            throw failure(error, format, "cannot decode the image")
        }
        defer { heif_image_release(image) }
        let width = Int(heif_image_get_width(image, heif_channel_interleaved))
        let height = Int(heif_image_get_height(image, heif_channel_interleaved))
        var stride: Int32 = 0
        guard width == header.width, height == header.height,
            heif_image_get_bits_per_pixel_range(image, heif_channel_interleaved) == 8,
            let plane = heif_image_get_plane_readonly(image, heif_channel_interleaved, &stride),
            Int(stride) >= width * bytesPerPixel
        else {
            throw ImagingFailure(
                "corrupt \(format.label): the decoded image is \(width) x \(height), "
                    + "not the \(header.width) x \(header.height) its header gives")
        }
        let rowBytes = width * bytesPerPixel
        let decoded = [UInt8](unsafeUninitializedCapacity: rowBytes * height) { out, n in
            guard let dst = out.baseAddress else {
                n = 0
                return
            }
            for y in 0..<height {
                (dst + y * rowBytes).update(from: plane + y * Int(stride), count: rowBytes)
            }
            n = rowBytes * height
        }
        return withAlpha ? PNGCodec.compositeOnBlack(decoded, count: width * height) : decoded
    }

    /// The first top-level ISO-BMFF box that extends past the end of the data, if any.
    static func truncatedBox(_ d: UnsafeBufferPointer<UInt8>) -> (type: String, needed: UInt64)? {
        func be(_ offset: Int, _ count: Int) -> UInt64 {
            (offset..<offset + count).reduce(UInt64(0)) { $0 << 8 | UInt64(d[$1]) }
        }
        var offset = 0
        while offset < d.count {
            guard offset + 8 <= d.count else { return ("?", UInt64(offset + 8)) }
            let type = String(decoding: d[offset + 4..<offset + 8], as: UTF8.self)
            var size = be(offset, 4)
            if size == 0 { return nil }  // the box runs to the end of the file
            if size == 1 {
                guard offset + 16 <= d.count else { return (type, UInt64(offset + 16)) }
                size = be(offset + 8, 8)
            }
            let (end, overflow) = UInt64(offset).addingReportingOverflow(size)
            if overflow || end > UInt64(d.count) { return (type, overflow ? UInt64.max : end) }
            guard size >= 8 else { return nil }  // malformed, not truncated: libheif's error stands
            offset = Int(end)
        }
        return nil
    }

    static func failure(_ error: heif_error, _ format: ImageFormat, _ what: String) -> ImagingFailure {
        let message = (error.message.map { String(cString: $0) } ?? "").trimmingTrailingNewlines()
        let detail = message.isEmpty ? "libheif error \(error.code.rawValue).\(error.subcode.rawValue)" : message
        switch error.code {
        case heif_error_Invalid_input where error.subcode == heif_suberror_End_of_data:
            return ImagingFailure("truncated \(format.label) (\(detail))")
        case heif_error_Memory_allocation_error:
            return ImagingFailure("out of memory decoding the \(format.label)")
        case heif_error_Unsupported_feature, heif_error_Unsupported_filetype:
            return ImagingFailure("\(format.label) feature not supported by libheif: \(what): \(detail)")
        default:
            return ImagingFailure("corrupt \(format.label): \(what): \(detail)")
        }
    }
}

extension ImageFormat {
    /// How error messages name the format.
    var label: String {
        switch self {
        case .jpeg: return "JPEG"
        case .png: return "PNG"
        case .webp: return "WebP"
        case .heic: return "HEIC"
        case .avif: return "AVIF"
        }
    }
}

extension String {
    fileprivate func trimmingTrailingNewlines() -> String {
        var s = Substring(self)
        while s.last?.isNewline == true { s = s.dropLast() }
        return String(s)
    }
}
