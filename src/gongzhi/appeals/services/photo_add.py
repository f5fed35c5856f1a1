"""Photos added to an appeal after it was submitted, and reading one back within the reader's scope."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied

from .. import hooks, selectors, workflow
from ..models import TERMINAL_STATES, Appeal, AppealPhoto
from ..permissions import can_view, is_staff_in_scope, relations
from .common import _serialised, _user_or_none
from .photos import _check_photos, _store_photos
from .transitions import _fresh


def appeal_photo_add(*, actor, appeal, upload) -> AppealPhoto:
    """Add a photo to an open appeal: its reporter, its owner or staff in scope; at most 9 in all."""
    def run() -> AppealPhoto:
        a = _fresh(actor, appeal)
        rel = relations(actor, a)
        if not ({workflow.REPORTER, workflow.OWNER} & rel or is_staff_in_scope(actor, a)):
            raise PermissionDenied("forbidden", _("只有反映人和处理人可以为该诉求添加照片。"))
        if a.state in TERMINAL_STATES:
            raise Conflict("appeal_closed", _("该诉求已结束，不能再添加照片。"))
        # Lock the appeal row (PostgreSQL) so two uploads cannot both pass the count.
        Appeal.objects.select_for_update().filter(pk=a.pk).first()
        checked = _check_photos(a.pk, [upload])
        now = timezone.now()
        event = hooks.record_event(a, at=now, actor=_user_or_none(actor), action="photo",
                                   from_state=a.state, to_state=a.state)
        photo = _store_photos(a, event, checked, actor, now)[0]
        audit.record(actor, "appeal.photo", a, after={"photo": photo.pk, "sha256": photo.sha256})
        return photo

    return _serialised(run)


def photo_get_for(actor, appeal_number, photo_id) -> AppealPhoto:
    appeal = selectors.appeal_get_for(actor, appeal_number)
    photo = AppealPhoto.objects.filter(pk=photo_id, appeal=appeal).first()
    if photo is None or not can_view(actor, appeal):
        raise NotFound("photo_not_found", _("照片不存在。"))
    return photo
