"""Photos kept across a failed form: a browser cannot re-fill a file input, so the server keeps them.

Every photo posted with the appeal forms (the resident's and the staff entry) is checked and
re-encoded at once (services.check_photo → core.photos, as every upload is) and stored as a
StagedPhoto under a random token owned by the uploading user. The page carries the tokens in hidden
fields and shows the thumbnails; a valid submit attaches them to the appeal (services.check_submission
claims them, write_submissions removes them) and a failed one shows them again. Only their owner can
see or use them; a token of another user, an expired or a forged one is refused with nothing
changed. Unused ones expire after APPEAL_STAGED_PHOTO_HOURS (24) and `gongzhi sweep` removes them.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.errors import GongzhiError, NotFound, ValidationFailed

from .models import StagedPhoto

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
NAME_MAX = 100


def lifetime() -> dt.timedelta:
    return dt.timedelta(hours=float(getattr(settings, "APPEAL_STAGED_PHOTO_HOURS", 24)))


def _invalid() -> ValidationFailed:
    return ValidationFailed("staged_photo_invalid", _(
        "之前上传的照片已失效（长时间未提交已过期，或不是您上传的），请重新选择照片。"))


def _signed_in(actor) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)


def _unique(tokens) -> list[str]:
    out: list[str] = []
    for t in tokens or ():
        if t not in out:
            out.append(t)
    return out


def held(actor, tokens, *, now=None, lock=False) -> list[StagedPhoto]:
    """The actor's staged photos under these tokens, in the tokens' order.

    Refused (ValidationFailed `staged_photo_invalid`), whatever the mix: a token that is malformed,
    unknown, another user's or expired. More than the appeal's photo limit: `too_many_photos`.
    With `lock`, the rows are locked (the caller's transaction) so two submits cannot both take them.
    """
    from .services import PHOTO_MAX_COUNT

    tokens = _unique(tokens)
    if not tokens:
        return []
    if not _signed_in(actor) or any(not isinstance(t, str) or not TOKEN_RE.match(t) for t in tokens):
        raise _invalid()
    if len(tokens) > PHOTO_MAX_COUNT:
        raise _too_many()
    now = now or timezone.now()
    qs = StagedPhoto.objects.filter(token__in=tokens, owner=actor, expires_at__gt=now)
    if lock:
        qs = qs.select_for_update()
    rows = {s.token: s for s in qs}
    if len(rows) != len(tokens):
        raise _invalid()
    return [rows[t] for t in tokens]


def _too_many() -> ValidationFailed:
    from .services import PHOTO_MAX_COUNT

    return ValidationFailed("too_many_photos", _("每条诉求最多 %(max)d 张照片，请少选几张或移除已上传的照片。") % {
        "max": PHOTO_MAX_COUNT})


@dataclass
class Carried:
    """What a posted form holds now: its staged photos (kept and new) and the photos refused, by name."""

    photos: list[StagedPhoto] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def tokens(self) -> list[str]:
        return [p.token for p in self.photos]


def carry(actor, *, tokens=(), drop=(), uploads=(), now=None) -> Carried:
    """A posted form's photos: the staged ones it carries (minus those the user removed) plus its
    new uploads, each checked and re-encoded now and staged for the actor.

    A bad token (another user's, expired, forged; in `tokens` or `drop`) raises with nothing
    changed. A new upload that is not an acceptable photo is named in `problems` and not kept; the
    others are. Kept plus new over the photo limit: no new one is kept, and `problems` says so.
    """
    from .services import PHOTO_MAX_COUNT, check_photo

    now = now or timezone.now()
    tokens, drop = _unique(tokens), _unique(drop)
    if any(t not in tokens for t in drop):
        held(actor, drop, now=now)  # a removal of a photo this form does not carry: refused if not theirs
    kept = held(actor, tokens, now=now)
    out = Carried(photos=[s for s in kept if s.token not in drop])
    gone = [s for s in kept if s.token in drop]
    if gone:
        _delete(gone)
    checked = []
    for upload in uploads or ():
        try:
            checked.append((check_photo(upload), (getattr(upload, "name", "") or "")[:NAME_MAX]))
        except GongzhiError as exc:
            out.problems.append(str(exc.message))
    if len(out.photos) + len(checked) > PHOTO_MAX_COUNT:
        out.problems.append(_("每条诉求最多 %(max)d 张照片（已上传 %(n)d 张），请少选几张或移除已上传的照片。") % {
            "max": PHOTO_MAX_COUNT, "n": len(out.photos)})
        return out
    for photo, name in checked:
        s = StagedPhoto(token=secrets.token_urlsafe(24), owner=actor, content_type=photo.content_type,
                        size=len(photo.data), name=name, created_at=now, expires_at=now + lifetime())
        s.file.save(f"{secrets.token_hex(16)}.{photo.ext}", ContentFile(photo.data), save=False)
        s.save()
        out.photos.append(s)
    return out


def carried_quietly(actor, tokens, *, now=None) -> list[StagedPhoto]:
    """Of these tokens, the actor's live staged photos (the rest ignored): what a page that refused a
    bad token can still show."""
    now = now or timezone.now()
    tokens = [t for t in _unique(tokens) if isinstance(t, str) and TOKEN_RE.match(t)]
    if not tokens or not _signed_in(actor):
        return []
    rows = {s.token: s for s in StagedPhoto.objects.filter(token__in=tokens, owner=actor, expires_at__gt=now)}
    return [rows[t] for t in tokens if t in rows]


def get_for(actor, token) -> StagedPhoto:
    """One staged photo for its owner's page (the thumbnail); anyone else is told it does not exist."""
    try:
        return held(actor, [token])[0]
    except GongzhiError:
        raise NotFound("photo_not_found", _("照片不存在。")) from None


def consume(rows) -> None:
    """Staged photos attached to an appeal (in the submit's transaction): rows gone now, files on commit."""
    _delete(rows)


def _delete(rows) -> None:
    rows = list(rows)
    if not rows:
        return
    names = [s.file.name for s in rows if s.file.name]
    StagedPhoto.objects.filter(pk__in=[s.pk for s in rows]).delete()
    storage = StagedPhoto._meta.get_field("file").storage

    def remove():
        for n in names:
            storage.delete(n)

    transaction.on_commit(remove)


def sweep_expired(now=None, batch: int = 500) -> int:
    """Remove staged photos past their expiry (rows and files); the number removed."""
    now = now or timezone.now()
    removed = 0
    while True:
        with transaction.atomic():
            rows = list(StagedPhoto.objects.filter(expires_at__lte=now).order_by("id")
                        .select_for_update(skip_locked=True)[:batch])
            _delete(rows)
        removed += len(rows)
        if len(rows) < batch:
            return removed
