import CExif
import CWebP

/// EXIF orientation: finding the EXIF block in each container, reading tag 0x0112 with libexif,
/// and turning pixels upright.
enum Orientation {
    static let exifHeader: [UInt8] = [0x45, 0x78, 0x69, 0x66, 0x00, 0x00]  // "Exif\0\0"

    /// The orientation stored in an EXIF block (which starts with "Exif\0\0" or directly with a
    /// TIFF header, as PNG's eXIf and WebP's EXIF chunks do); 1 when absent or invalid.
    static func read(exif payload: UnsafeBufferPointer<UInt8>) -> Int {
        guard payload.count >= 8, let base = payload.baseAddress else { return 1 }
        if payload.starts(with: exifHeader) { return load(base, payload.count) }
        // libexif wants the "Exif\0\0" header in front of the TIFF structure.
        let block = exifHeader + Array(payload)
        return block.withUnsafeBufferPointer { b in b.baseAddress.map { load($0, b.count) } ?? 1 }
    }

    private static func load(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Int {
        guard count <= Int(UInt32.max), let data = exif_data_new() else { return 1 }
        defer { exif_data_unref(data) }
        // Only read: do not "fix" the block to the specification (that adds and rewrites tags).
        exif_data_unset_option(data, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION)
        exif_data_load_data(data, bytes, UInt32(count))
        // exif_data_get_entry is a macro Swift cannot call: look in IFD 0, where the tag belongs.
        guard let ifd0 = data.pointee.ifd.0,
            let entry = exif_content_get_entry(ifd0, EXIF_TAG_ORIENTATION),
            entry.pointee.format == EXIF_FORMAT_SHORT, entry.pointee.size >= 2,
            let value = entry.pointee.data
        else { return 1 }
        let b0 = Int(value[0])
        let b1 = Int(value[1])
        let orientation = exif_data_get_byte_order(data) == EXIF_BYTE_ORDER_MOTOROLA ? b0 << 8 | b1 : b1 << 8 | b0
        return (1...8).contains(orientation) ? orientation : 1
    }

    /// The orientation of a JPEG: from the first APP1 segment holding "Exif\0\0".
    static func jpeg(_ d: UnsafeBufferPointer<UInt8>) -> Int {
        var i = 2
        while i + 4 <= d.count {
            guard d[i] == 0xFF else { return 1 }
            let marker = d[i + 1]
            if marker == 0xFF {  // fill byte
                i += 1
                continue
            }
            if marker == 0xD8 || marker == 0x01 || (0xD0...0xD7).contains(marker) {
                i += 2
                continue
            }
            if marker == 0xDA || marker == 0xD9 { return 1 }  // start of scan: no EXIF before it
            let length = Int(d[i + 2]) << 8 | Int(d[i + 3])
            guard length >= 2 else { return 1 }
            let start = i + 4
            let end = min(d.count, i + 2 + length)
            if marker == 0xE1 && end - start >= 8 {
                let segment = UnsafeBufferPointer(rebasing: d[start..<end])
                if segment.starts(with: exifHeader) { return read(exif: segment) }
            }
            i += 2 + length
        }
        return 1
    }

    /// The orientation of a PNG: from its eXIf chunk, if any.
    static func png(_ d: UnsafeBufferPointer<UInt8>) -> Int {
        var i = 8
        while i + 8 <= d.count {
            let length = Int(d[i]) << 24 | Int(d[i + 1]) << 16 | Int(d[i + 2]) << 8 | Int(d[i + 3])
            let type = (d[i + 4], d[i + 5], d[i + 6], d[i + 7])
            let start = i + 8
            guard length >= 0, start + length <= d.count else { return 1 }
            if type == (0x65, 0x58, 0x49, 0x66) {  // "eXIf"
                return read(exif: UnsafeBufferPointer(rebasing: d[start..<(start + length)]))
            }
            if type == (0x49, 0x45, 0x4E, 0x44) { return 1 }  // "IEND"
            i = start + length + 4
        }
        return 1
    }

    /// The orientation of a WebP: from its EXIF chunk (only extended "VP8X" files carry one).
    static func webp(_ d: UnsafeBufferPointer<UInt8>) -> Int {
        // VP8X flags byte: bit 3 says an EXIF chunk is present.
        guard d.count >= 21, d[12] == 0x56, d[13] == 0x50, d[14] == 0x38, d[15] == 0x58, d[20] & 0x08 != 0,
            let base = d.baseAddress
        else { return 1 }
        var data = WebPData(bytes: base, size: d.count)
        guard let demux = WebPDemux(&data) else { return 1 }
        defer { WebPDemuxDelete(demux) }
        var iterator = WebPChunkIterator()
        guard WebPDemuxGetChunk(demux, "EXIF", 1, &iterator) != 0 else { return 1 }
        defer { WebPDemuxReleaseChunkIterator(&iterator) }
        guard let bytes = iterator.chunk.bytes else { return 1 }
        return read(exif: UnsafeBufferPointer(start: bytes, count: iterator.chunk.size))
    }

    /// Size of the upright image for a stored size and an orientation.
    static func uprightSize(width: Int, height: Int, orientation: Int) -> (width: Int, height: Int) {
        orientation >= 5 ? (height, width) : (width, height)
    }

    /// Turns RGB8 pixels stored under `orientation` upright (all eight EXIF orientations).
    static func apply(_ orientation: Int, to pixels: [UInt8], width w: Int, height h: Int) -> (
        pixels: [UInt8], width: Int, height: Int
    ) {
        guard (2...8).contains(orientation) else { return (pixels, w, h) }
        // Upright (x, y) reads stored (sx, sy) = (ax*x + bx*y + cx, ay*x + by*y + cy).
        let (ax, bx, cx, ay, by, cy): (Int, Int, Int, Int, Int, Int)
        switch orientation {
        case 2: (ax, bx, cx, ay, by, cy) = (-1, 0, w - 1, 0, 1, 0)  // mirrored left-right
        case 3: (ax, bx, cx, ay, by, cy) = (-1, 0, w - 1, 0, -1, h - 1)  // rotated 180
        case 4: (ax, bx, cx, ay, by, cy) = (1, 0, 0, 0, -1, h - 1)  // mirrored top-bottom
        case 5: (ax, bx, cx, ay, by, cy) = (0, 1, 0, 1, 0, 0)  // transposed
        case 6: (ax, bx, cx, ay, by, cy) = (0, 1, 0, -1, 0, h - 1)  // needs 90 degrees clockwise
        case 7: (ax, bx, cx, ay, by, cy) = (0, -1, w - 1, -1, 0, h - 1)  // transversed
        default: (ax, bx, cx, ay, by, cy) = (0, -1, w - 1, 1, 0, 0)  // 8: needs 90 counter-clockwise
        }
        let (ow, oh) = uprightSize(width: w, height: h, orientation: orientation)
        let stepX = (ay * w + ax) * 3
        let stepY = (by * w + bx) * 3
        let base = (cy * w + cx) * 3
        let out = [UInt8](unsafeUninitializedCapacity: ow * oh * 3) { dst, count in
            pixels.withUnsafeBufferPointer { src in
                guard let s = src.baseAddress, let o = dst.baseAddress else { return }
                var q = o
                for y in 0..<oh {
                    var p = s + (base + y * stepY)
                    for _ in 0..<ow {
                        q[0] = p[0]
                        q[1] = p[1]
                        q[2] = p[2]
                        q += 3
                        p += stepX
                    }
                }
            }
            count = ow * oh * 3
        }
        return (out, ow, oh)
    }
}
