#!/usr/bin/env python3
"""Regenerates the small image fixtures used by FaceScopeImagingTests.

Every fixture is synthetic (drawn here); no photograph is copied. Run from anywhere:

    python3 Tests/Fixtures/images/make_fixtures.py

Needs Pillow (with WebP support). The output is deterministic for a given Pillow/libjpeg build.

The HEIF fixtures (marker.heic, orient-6.heic, truncated.heic; marker.avif) also need PyPI
pillow-heif (and Pillow with AVIF support for the .avif); without them they are skipped and the
other fixtures are written as before. To write only those, from a virtual environment that has
them:

    python3 -m venv /tmp/heifvenv && /tmp/heifvenv/bin/pip install pillow pillow-heif
    /tmp/heifvenv/bin/python Tests/Fixtures/images/make_fixtures.py heif

The "marker" image used for orientation tests is 64x48 upright (wider than tall), white, with
a 16x16 red square at the top-left, green at the top-right and blue at the bottom-left. Each
orient-N file stores the pixels so that applying EXIF orientation N gives back that upright image.
"""

import os
import random
import struct
import sys
import zlib

from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))

# Upright marker layout (the Swift tests use the same numbers).
MARKER_W, MARKER_H, SQUARE = 64, 48, 16
RED, GREEN, BLUE, WHITE = (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 255)


def path(name):
    return os.path.join(HERE, name)


def marker():
    im = Image.new("RGB", (MARKER_W, MARKER_H), WHITE)
    im.paste(RED, (0, 0, SQUARE, SQUARE))
    im.paste(GREEN, (MARKER_W - SQUARE, 0, MARKER_W, SQUARE))
    im.paste(BLUE, (0, MARKER_H - SQUARE, SQUARE, MARKER_H))
    return im


# How to store an upright image so that a viewer applying EXIF orientation N shows it upright:
# the inverse of the transform ImageOps.exif_transpose applies for N.
T = Image.Transpose
STORE_FOR_ORIENTATION = {
    1: None,
    2: T.FLIP_LEFT_RIGHT,
    3: T.ROTATE_180,
    4: T.FLIP_TOP_BOTTOM,
    5: T.TRANSPOSE,
    6: T.ROTATE_90,  # exif_transpose applies ROTATE_270 (90 degrees clockwise)
    7: T.TRANSVERSE,
    8: T.ROTATE_270,  # exif_transpose applies ROTATE_90
}


def stored(upright, orientation):
    op = STORE_FOR_ORIENTATION[orientation]
    return upright if op is None else upright.transpose(op)


def exif_with_orientation(orientation):
    exif = Image.Exif()
    exif[0x0112] = orientation
    return exif


def png_chunk(kind, payload):
    body = kind + payload
    return struct.pack(">I", len(payload)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def write_png_raw(name, width, height, bit_depth, color_type, rows):
    """Writes a PNG by hand (Pillow cannot write 48-bit RGB). rows: list of raw scanline bytes."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    raw = b"".join(b"\x00" + r for r in rows)
    data = b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr)
    data += png_chunk(b"IDAT", zlib.compress(raw, 9)) + png_chunk(b"IEND", b"")
    with open(path(name), "wb") as f:
        f.write(data)


def main():
    up = marker()

    # JPEG with each EXIF orientation (4:4:4 so the colours stay clean).
    for n in range(1, 9):
        stored(up, n).save(path(f"orient-{n}.jpg"), "JPEG", quality=95, subsampling=0,
                           exif=exif_with_orientation(n))
    # The same for PNG (eXIf chunk) and lossless WebP (EXIF chunk), orientation 6.
    stored(up, 6).save(path("orient-6.png"), "PNG", exif=exif_with_orientation(6))
    stored(up, 6).save(path("orient-6.webp"), "WEBP", lossless=True, exif=exif_with_orientation(6))

    # CMYK JPEG (Pillow writes Adobe-style inverted CMYK with an APP14 marker).
    up.convert("CMYK").save(path("cmyk.jpg"), "JPEG", quality=95, subsampling=0)

    # Grayscale JPEG: left half 50, right half 200.
    gray = Image.new("L", (32, 24), 50)
    gray.paste(200, (16, 0, 32, 24))
    gray.save(path("gray.jpg"), "JPEG", quality=95)

    # Progressive JPEG of the marker image.
    up.save(path("progressive.jpg"), "JPEG", quality=90, progressive=True, subsampling=0)

    # A noisy 4:2:0 JPEG, and its first half: a truncated file.
    rng = random.Random(1)
    noise = Image.frombytes("RGB", (64, 64), bytes(rng.randrange(256) for _ in range(64 * 64 * 3)))
    noise.save(path("noise.jpg"), "JPEG", quality=90)
    with open(path("noise.jpg"), "rb") as f:
        whole = f.read()
    with open(path("truncated.jpg"), "wb") as f:
        f.write(whole[: len(whole) // 2])

    # JPEG magic followed by garbage.
    with open(path("corrupt.jpg"), "wb") as f:
        f.write(b"\xff\xd8\xff\xe0" + bytes(rng.randrange(256) for _ in range(2000)))

    # Not an image at all, named .jpg; and an empty file.
    with open(path("text.jpg"), "w") as f:
        f.write("This is a text file, not a JPEG.\n")
    open(path("empty.jpg"), "wb").close()

    # HEIC magic (an ftyp box with brand heic), no real image data.
    with open(path("photo.heic"), "wb") as f:
        f.write(struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00" + b"mif1heic" + b"\x00" * 32)

    # 16-bit RGB PNG, 4x2: row 0 = (0x8080,0x4040,0xffff) x4, row 1 = (0,0xffff,0x2020) x4.
    # (No gAMA/sRGB chunk: the decoder must treat the samples as sRGB, i.e. 0x8080 -> 128.)
    row0 = struct.pack(">HHH", 0x8080, 0x4040, 0xFFFF) * 4
    row1 = struct.pack(">HHH", 0x0000, 0xFFFF, 0x2020) * 4
    write_png_raw("rgb16.png", 4, 2, 16, 2, [row0, row1])

    # Palette PNG with tRNS, 3x1: index 0 transparent white, 1 opaque red, 2 half-transparent green.
    pal = Image.new("P", (3, 1))
    pal.putpalette([255, 255, 255, 255, 0, 0, 0, 255, 0] + [0] * (253 * 3))
    pal.putdata([0, 1, 2])
    pal.info["transparency"] = bytes([0, 255, 128])
    pal.save(path("palette-alpha.png"), "PNG", transparency=bytes([0, 255, 128]))

    # Gray + alpha PNG, 3x1: gray 200 at alpha 255, 0 and 51.
    la = Image.new("LA", (3, 1))
    la.putdata([(200, 255), (200, 0), (200, 51)])
    la.save(path("gray-alpha.png"), "PNG")

    # WebP: lossless marker image, lossless RGBA (alpha 255/0/51 over red), and a lossy one.
    up.save(path("marker.webp"), "WEBP", lossless=True)
    rgba = Image.new("RGBA", (3, 1))
    rgba.putdata([(255, 0, 0, 255), (255, 0, 0, 0), (255, 0, 0, 51)])
    rgba.save(path("alpha.webp"), "WEBP", lossless=True, exact=True)
    up.save(path("lossy.webp"), "WEBP", quality=90)

    # Declared-huge files (headers only) for the pixel-limit refusal.
    ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
    with open(path("huge.png"), "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\x00"))
                + png_chunk(b"IEND", b""))
    small = Image.new("RGB", (16, 16), (128, 128, 128))
    small.save(path("huge.jpg.tmp"), "JPEG", quality=50)
    with open(path("huge.jpg.tmp"), "rb") as f:
        jpeg = bytearray(f.read())
    os.remove(path("huge.jpg.tmp"))
    sof = jpeg.index(b"\xff\xc0")
    struct.pack_into(">HH", jpeg, sof + 5, 60000, 60000)  # height, width
    sos = jpeg.index(b"\xff\xda")
    sos_len = struct.unpack(">H", jpeg[sos + 2: sos + 4])[0]
    with open(path("huge.jpg"), "wb") as f:
        f.write(bytes(jpeg[: sos + 2 + sos_len]))


def heif_fixtures():
    """HEIC (HEVC) and AVIF (AV1) versions of the marker image; skipped without pillow-heif."""
    try:
        import pillow_heif
    except ImportError:
        print("pillow-heif is not installed: HEIF fixtures skipped", file=sys.stderr)
        return
    pillow_heif.register_heif_opener()
    up = marker()
    up.save(path("marker.heic"), "HEIF", quality=90)
    # Stored rotated, with EXIF orientation 6 on the way in: pillow-heif writes that as an irot
    # property (270 degrees anticlockwise), so a reader applying irot gets the upright marker back.
    stored(up, 6).save(path("orient-6.heic"), "HEIF", quality=90, exif=exif_with_orientation(6).tobytes())
    # The first 400 bytes of marker.heic: the box structure is cut off.
    with open(path("marker.heic"), "rb") as f:
        whole = f.read()
    with open(path("truncated.heic"), "wb") as f:
        f.write(whole[:400])
    from PIL import features
    if features.check("avif"):
        up.save(path("marker.avif"), "AVIF", quality=90)
    else:
        print("Pillow has no AVIF support: marker.avif skipped", file=sys.stderr)


if __name__ == "__main__":
    if sys.argv[1:] == ["heif"]:
        heif_fixtures()
    else:
        main()
        heif_fixtures()
