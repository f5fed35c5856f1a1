"""Images for upload tests: small real ones, one carrying GPS EXIF, and decompression bombs."""

from __future__ import annotations

import io
import struct
import zlib

from PIL import Image

GPS_LATITUDE = (22.0, 49.0, 12.5)  # where the photo was taken: must never reach the stored file
CAMERA = "GongzhiCam X1000"


def tiny_image(fmt: str, size=(4, 3), color=(200, 60, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, format=fmt)
    return buf.getvalue()


def jpeg_with_gps(size=(40, 20), orientation=6) -> bytes:
    """A JPEG as a phone writes it: camera make and model, GPS position, and an orientation tag
    (6: the pixels must be turned 90° clockwise to be upright)."""
    img = Image.new("RGB", size, (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "GongzhiPhone"  # Make
    exif[0x0110] = CAMERA  # Model
    exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = GPS_LATITUDE
    gps[3] = "E"
    gps[4] = (108.0, 19.0, 30.0)
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif, comment=b"shot at home")
    return buf.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_declaring(width: int, height: int) -> bytes:
    """A PNG of a few hundred bytes whose header declares width × height pixels (a decompression bomb)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    rows = zlib.compress(b"\x00" * 1024)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", rows) + _chunk(b"IEND", b"")


def exif_of(data: bytes):
    with Image.open(io.BytesIO(data)) as img:
        return dict(img.getexif()), dict(img.getexif().get_ifd(0x8825)), img.size, dict(img.info)


def picture(data: bytes) -> tuple[str, tuple[int, int]]:
    """(format, size) of stored image bytes: what survives re-encoding (the bytes themselves do not)."""
    with Image.open(io.BytesIO(data)) as img:
        return img.format, img.size
