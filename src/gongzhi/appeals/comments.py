"""Comments on an appeal (补充说明): the reporter adds a word or a photo while it is open; staff see it.

A comment is a timeline event of its own kind (`comment`: the note is the text, the photos hang on
the event), written through `hooks.record_event` so its notice goes out in the same transaction:
the owner hears of a comment from anyone else, the reporter of a comment from staff. It changes
neither the state nor the version (a comment never makes a staff member's open form stale).

Who may comment: the reporter, the owner, and staff in scope (the same people who may add a photo,
`services.appeal_photo_add`). Until when: while the appeal is not closed, rejected or merged — the
same rule as for photos. The text is required (1–COMMENT_MAX characters, cleaned like every text);
photos go through `services.check_photo` (sniffed, decoded and re-encoded without EXIF by
core.photos) and count toward the appeal's nine.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit
from gongzhi.core.errors import Conflict, PermissionDenied

from . import hooks, services, workflow
from .models import TERMINAL_STATES, Appeal, AppealEvent
from .notices import COMMENT  # AppealEvent.action
from .permissions import is_staff_in_scope, relations

COMMENT_MAX = 1000


def may_comment(actor, appeal) -> bool:
    """Whether the page should offer the comment form (the service decides again when it is sent)."""
    if actor is None or not getattr(actor, "is_authenticated", False) or appeal.state in TERMINAL_STATES:
        return False
    return bool({workflow.REPORTER, workflow.OWNER} & relations(actor, appeal)) or is_staff_in_scope(actor, appeal)


def appeal_comment(*, actor, appeal, text, photos=()) -> AppealEvent:
    """Add a comment (and up to the appeal's remaining photos) to an open appeal; returns its event."""
    body = services._text(text, field_label=_("补充说明"), max_len=COMMENT_MAX)

    def run() -> AppealEvent:
        a = services._fresh(actor, appeal)
        # Lock the row first (PostgreSQL): a comment never slips in after a transition closed it,
        # and two uploads cannot both pass the photo count.
        locked = Appeal.objects.select_for_update().only("state").get(pk=a.pk)
        if not ({workflow.REPORTER, workflow.OWNER} & relations(actor, a) or is_staff_in_scope(actor, a)):
            raise PermissionDenied("forbidden", _("只有反映人和处理人可以为该诉求补充说明。"))
        if locked.state in TERMINAL_STATES:
            raise Conflict("appeal_closed", _("该诉求已结束，不能再补充说明。"))
        checked = services._check_photos(a.pk, photos)
        now = timezone.now()
        event = hooks.record_event(a, at=now, actor=actor, action=COMMENT, from_state=locked.state,
                                   to_state=locked.state, note=body)
        stored = services._store_photos(a, event, checked, actor, now)
        audit.record(actor, "appeal.comment", a, after={"event": event.pk, "length": len(body),
                                                        "photos": [p.sha256 for p in stored]})
        return event

    return services._serialised(run)
