/// Recognises an image format by its first bytes (never by the file name).
enum FormatSniffer {
    enum Kind: Equatable {
        case supported(ImageFormat)
        /// A known image format this build cannot decode, with the reason to show.
        case unsupported(String)
        case unknown
    }

    static func detect(_ bytes: UnsafeBufferPointer<UInt8>) -> Kind {
        func starts(_ prefix: [UInt8], at offset: Int = 0) -> Bool {
            guard bytes.count >= offset + prefix.count else { return false }
            for (i, b) in prefix.enumerated() where bytes[offset + i] != b { return false }
            return true
        }
        if starts([0xFF, 0xD8, 0xFF]) { return .supported(.jpeg) }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .supported(.png) }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .supported(.webp) }
        if starts(Array("ftyp".utf8), at: 4) && bytes.count >= 12 {
            guard let format = heifFormat(bytes) else { return .unknown }
            if HEIFCodec.hasDecoder(for: format) { return .supported(format) }
            let codec = format == .avif ? "AV1" : "HEVC"
            return .unsupported(
                "\(format.label) is not supported by this build: libheif has no \(codec) decoder "
                    + "(convert it to JPEG, PNG or WebP)")
        }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) {
            return .unsupported("GIF images are not supported (JPEG, PNG and WebP are)")
        }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) {
            return .unsupported("TIFF images are not supported (JPEG, PNG and WebP are)")
        }
        return .unknown
    }

    static let heicBrands: Set<String> = ["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs"]
    static let avifBrands: Set<String> = ["avif", "avis"]
    static let genericHEIFBrands: Set<String> = ["mif1", "msf1"]

    /// HEIC or AVIF from an ISO-BMFF `ftyp` box: the major brand, or for the generic HEIF brands
    /// (mif1, msf1) the compatible brands that follow (AVIF if one is avif/avis, else HEIC).
    static func heifFormat(_ bytes: UnsafeBufferPointer<UInt8>) -> ImageFormat? {
        func brand(at offset: Int) -> String { String(decoding: bytes[offset..<offset + 4], as: UTF8.self) }
        let major = brand(at: 8)
        if heicBrands.contains(major) { return .heic }
        if avifBrands.contains(major) { return .avif }
        guard genericHEIFBrands.contains(major) else { return nil }
        let boxSize = Int(bytes[0]) << 24 | Int(bytes[1]) << 16 | Int(bytes[2]) << 8 | Int(bytes[3])
        let end = min(bytes.count, boxSize)
        var offset = 16  // after the major brand and the minor version
        while offset + 4 <= end {
            if avifBrands.contains(brand(at: offset)) { return .avif }
            offset += 4
        }
        return .heic
    }
}
