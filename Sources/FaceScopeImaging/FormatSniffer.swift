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
            let brand = String(decoding: bytes[8..<12], as: UTF8.self)
            switch brand {
            case "heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1":
                return .unsupported("HEIC is not supported by this build (convert it to JPEG, PNG or WebP)")
            case "avif", "avis":
                return .unsupported("AVIF is not supported by this build (convert it to JPEG, PNG or WebP)")
            default:
                return .unknown
            }
        }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) {
            return .unsupported("GIF images are not supported (JPEG, PNG and WebP are)")
        }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) {
            return .unsupported("TIFF images are not supported (JPEG, PNG and WebP are)")
        }
        return .unknown
    }
}
