"""Uploaded photos are decoded and encoded afresh: no EXIF (GPS, camera) survives, no bomb is decoded.

A phone's photo carries where it was taken and with what; a resident reporting a broken lamp should
not publish their home's coordinates with it. So every upload is decoded with Pillow, turned upright
by its EXIF orientation, and encoded again from the pixels alone: the stored file is the re-encoded
one, the original bytes are kept nowhere. The image's declared size is checked before its pixels
are decoded, so a small file declaring a huge image (a decompression bomb) is refused cheaply.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from .errors import ValidationFailed

# Pillow's format names for the types we accept, and how each is written back.
FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
JPEG_QUALITY = 90


def max_pixels() -> int:
    return int(getattr(settings, "PHOTO_MAX_PIXELS", 40_000_000))


def _too_large(name: str) -> ValidationFailed:
    return ValidationFailed("photo_too_many_pixels", _(
        "「%(name)s」的像素太多，每张照片不能超过 %(max)d 万像素，请缩小后再上传。") % {
        "name": name, "max": max_pixels() // 10_000})


def _unreadable(name: str) -> ValidationFailed:
    return ValidationFailed("photo_unreadable", _("「%(name)s」无法识别为图片（文件可能已损坏），请换一张照片。") % {
        "name": name})


def _upright(img: Image.Image) -> Image.Image:
    """The pixels turned as the orientation tag says; a photo whose EXIF is broken is kept as it is."""
    try:
        return ImageOps.exif_transpose(img)
    except Exception:  # a malformed EXIF block must not cost the resident their photo
        return img.copy()


def reencoded(data: bytes, content_type: str, *, name: str = "") -> bytes:
    """The photo's pixels, upright, encoded again in its own format without any metadata.

    Refused (ValidationFailed, nothing stored): more pixels than GONGZHI_PHOTO_MAX_PIXELS, or a file
    Pillow cannot decode.
    """
    fmt = FORMATS[content_type]
    limit = max_pixels()
    try:
        # Opening reads the header only; the size is checked before any pixel is decoded. Pillow
        # itself refuses past twice its own MAX_IMAGE_PIXELS (DecompressionBombError) while opening.
        with Image.open(io.BytesIO(data), formats=[fmt]) as img:
            if img.width * img.height > limit:
                raise _too_large(name)
            img.load()
            upright = _upright(img)
    except ValidationFailed:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):  # the warning: under -W error
        raise _too_large(name) from None
    except Exception:  # Pillow raises OSError, SyntaxError, ValueError, … for a broken file
        raise _unreadable(name) from None
    transparency = upright.info.get("transparency")
    upright.info = {}  # no comment, EXIF, XMP, text chunks or ICC profile is carried over
    options: dict = {}
    if fmt == "JPEG":
        if upright.mode not in ("RGB", "L", "CMYK"):
            upright = upright.convert("RGB")
        options = {"quality": JPEG_QUALITY}
    elif fmt == "PNG":
        if transparency is not None:
            options = {"transparency": transparency}
    else:
        options = {"quality": JPEG_QUALITY}
    out = io.BytesIO()
    upright.save(out, format=fmt, **options)
    return out.getvalue()

