"""Photos of an appeal: checked (size, count, a real image), re-encoded and stored with the event that brought them."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.utils.translation import gettext as _

from gongzhi.core.errors import ValidationFailed
from gongzhi.core.photos import reencoded as reencoded_photo

from ..models import AppealPhoto
from .common import PHOTO_MAX_BYTES, PHOTO_MAX_COUNT, _user_or_none


@dataclass(frozen=True)
class CheckedPhoto:
    data: bytes
    content_type: str
    ext: str


def check_photo(upload) -> CheckedPhoto:
    """JPEG, PNG or WebP by their magic bytes (never the name or the declared type), at most 5 MB and
    GONGZHI_PHOTO_MAX_PIXELS, decoded and encoded again without EXIF (core.photos): the re-encoded
    bytes are what is stored, the uploaded ones are dropped here."""
    checked = _sniffed_photo(upload)
    name = getattr(upload, "name", "") or _("上传的文件")
    return CheckedPhoto(reencoded_photo(checked.data, checked.content_type, name=name), checked.content_type,
                        checked.ext)


def _sniffed_photo(upload) -> CheckedPhoto:
    size = getattr(upload, "size", None)
    if size is not None and size > PHOTO_MAX_BYTES:
        raise ValidationFailed("photo_too_large", _("照片不能超过 5 MB（「%(name)s」有 %(mb).1f MB）。") % {
            "name": getattr(upload, "name", ""), "mb": size / 1024 / 1024})
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(PHOTO_MAX_BYTES + 1) if hasattr(upload, "read") else bytes(upload)
    if len(data) > PHOTO_MAX_BYTES:
        raise ValidationFailed("photo_too_large", _("照片不能超过 5 MB（「%(name)s」有 %(mb).1f MB）。") % {
            "name": getattr(upload, "name", ""), "mb": len(data) / 1024 / 1024})
    if data[:3] == b"\xff\xd8\xff":
        return CheckedPhoto(data, "image/jpeg", "jpg")
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return CheckedPhoto(data, "image/png", "png")
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return CheckedPhoto(data, "image/webp", "webp")
    raise ValidationFailed("photo_type", _("「%(name)s」不是 JPEG、PNG 或 WebP 图片。") % {
        "name": getattr(upload, "name", "") or _("上传的文件")})


def _staged_checked(staged) -> CheckedPhoto:
    """A staged photo's bytes: re-encoded already when it was staged (staging.carry)."""
    with staged.file.open("rb") as f:
        data = f.read()
    return CheckedPhoto(data, staged.content_type, staged.file.name.rsplit(".", 1)[-1])


def _check_photos(appeal_pk, uploads, already: int = 0) -> list[CheckedPhoto]:
    checked = [check_photo(u) for u in uploads or ()]
    # A department's result photos count toward its work order's nine, not the appeal's.
    existing = AppealPhoto.objects.filter(appeal_id=appeal_pk, work_order__isnull=True).count() if appeal_pk else 0
    existing += already
    if existing + len(checked) > PHOTO_MAX_COUNT:
        raise ValidationFailed("too_many_photos", _("每条诉求最多 %(max)d 张照片（已有 %(n)d 张）。") % {
            "max": PHOTO_MAX_COUNT, "n": existing})
    return checked


def _store_photos(appeal, event, checked, actor, now, work_order=None) -> list[AppealPhoto]:
    out = []
    for c in checked:
        photo = AppealPhoto(appeal=appeal, event=event, content_type=c.content_type, size=len(c.data),
                            sha256=hashlib.sha256(c.data).hexdigest(), uploaded_by=_user_or_none(actor),
                            uploaded_at=now, work_order=work_order)
        photo.file.save(f"{uuid.uuid4().hex}.{c.ext}", ContentFile(c.data), save=False)
        photo.save()
        out.append(photo)
    return out
