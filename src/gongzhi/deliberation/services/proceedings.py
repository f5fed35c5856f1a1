"""What happens at a meeting: the agenda (typed, or an open appeal or need in one click), attendance
(a 6-digit code typed on the phone, or marked by the recorder), minutes, resolutions and their action
items (督办事项), each with an owner and a due date, tracked to done; the sweep warns before and after.

The recorder is whoever manages the meeting's host (deliberation.manage). Appending to a meeting
(agenda positions, attendance) locks the meeting row, so concurrent clicks queue; one attendance per
account and one agenda line per appeal or need are guaranteed by the database.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N_

from gongzhi.core import audit, scopes
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.text import checked_text
from gongzhi.notifications.messages import Msg
from gongzhi.notifications.services import notify
from gongzhi.org.models import Organization, Person

from ..models import (
    ActionItem,
    ActionState,
    AgendaItem,
    AgendaSource,
    Attendance,
    AttendanceWay,
    Meeting,
    MeetingState,
    Resolution,
)
from .common import MANAGE, busy, liaisons_of
from .meetings import meeting_of

TITLE_MAX, DETAIL_MAX, NAME_MAX, TEXT_MAX, MINUTES_MAX = 200, 2000, 50, 500, 20000
# Sign-in by code is open from this long before the start until this long after the end.
SIGN_IN_GRACE = dt.timedelta(minutes=30)
DUE_SOON = dt.timedelta(days=2)


def _recorder(actor, meeting: Meeting) -> None:
    scopes.require(actor, MANAGE, meeting)


def _lock(meeting: Meeting) -> Meeting:
    m = Meeting.objects.select_for_update().get(pk=meeting.pk)
    if m.state == MeetingState.CANCELLED:
        raise Conflict("meeting_cancelled", _("会议已取消。"))
    return m


def _next_position(meeting) -> int:
    return (AgendaItem.objects.filter(meeting=meeting).aggregate(n=Max("position"))["n"] or 0) + 1


def agenda_add(*, actor, meeting, title="", detail="", appeal=None, need=None, proposal=None,
               raised_by="") -> AgendaItem:
    """Add a topic: typed (title), or an open appeal / need by its number, or a proposal by its id (its
    title and text come along)."""
    m = meeting_of(meeting)
    _recorder(actor, m)
    source, ref = AgendaSource.TYPED, ""
    if appeal:
        from gongzhi.appeals.selectors import appeal_get_for

        a = appeal_get_for(actor, str(appeal))
        if not a.is_open:
            raise ValidationFailed("appeal_closed", _("诉求 %(n)s 已办结，不能再列入议程。") % {"n": a.number})
        source, ref, title = AgendaSource.APPEAL, a.number, title or a.title
        detail = detail or a.text
    elif need:
        from gongzhi.lists.models import NeedState
        from gongzhi.lists.selectors import needs_visible_to

        n = needs_visible_to(actor).filter(number=str(need).strip().upper()).first()
        if n is None:
            raise NotFound("need_not_found", _("需求 %(n)s 不存在或您无权查看。") % {"n": need})
        if n.state in (NeedState.DONE, NeedState.RATED, NeedState.WITHDRAWN):
            raise ValidationFailed("need_closed", _("需求 %(n)s 已结束，不能再列入议程。") % {"n": n.number})
        source, ref, title = AgendaSource.NEED, n.number, title or n.title
        detail = detail or n.description
    elif proposal:
        from ..models import Proposal

        p = Proposal.objects.filter(pk=int(proposal)).first() if str(proposal).strip().isdigit() else None
        if p is None:
            raise NotFound("proposal_not_found", _("找不到该议题。"))
        source, ref, title = AgendaSource.PROPOSAL, f"#{p.pk}", title or p.title
        detail = detail or p.body
    title = checked_text(title, field_label=_("议题"), max_len=TITLE_MAX)
    detail = checked_text(detail, field_label=_("说明"), max_len=DETAIL_MAX, required=False)
    raised_by = checked_text(raised_by, field_label=_("提出人"), max_len=NAME_MAX, required=False)

    def run():
        locked = _lock(m)
        try:
            item = AgendaItem.objects.create(meeting=locked, position=_next_position(locked), title=title,
                                             detail=detail, source=source, ref=ref, raised_by=raised_by)
        except IntegrityError:
            raise Conflict("agenda_duplicate", _("%(r)s 已在本次会议的议程中。") % {"r": ref}) from None
        audit.record(actor, "deliberation.agenda_add", m, after={"title": title, "source": source, "ref": ref})
        return item

    return busy(run)


def _fresh_code(meeting) -> str:
    """Six digits not used by another meeting whose sign-in window overlaps this one."""
    lo, hi = meeting.starts_at - 2 * SIGN_IN_GRACE, meeting.ends_at + 2 * SIGN_IN_GRACE
    taken = set(Meeting.objects.filter(starts_at__lt=hi, ends_at__gt=lo).exclude(code="")
                .values_list("code", flat=True))
    while True:
        code = f"{secrets.randbelow(10**6):06d}"
        if code not in taken:
            return code


def attendance_code(*, actor, meeting) -> str:
    """The meeting's sign-in code for the recorder to show (made the first time it is asked for)."""
    m = meeting_of(meeting)
    _recorder(actor, m)
    if m.code:
        return m.code

    def run():
        locked = _lock(m)
        if not locked.code:
            locked.code = _fresh_code(locked)
            Meeting.objects.filter(pk=locked.pk).update(code=locked.code)
        return locked.code

    return busy(run)


def _display_name(user) -> str:
    person = Person.objects.filter(user=user).only("name").first()
    return (person.name if person else "") or user.get_full_name() or user.username


def attendance_sign_in(*, actor, code, now=None) -> Attendance:
    """An attendee types the code shown in the room; once per account."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not getattr(actor, "pk", None):
        raise PermissionDenied("login_required", _("请先登录再签到。"))
    code = str(code or "").strip()
    now = now or timezone.now()
    if not (len(code) == 6 and code.isdigit()):
        raise ValidationFailed("code_invalid", _("签到码是 6 位数字。"), {"field": "code"})
    m = (Meeting.objects.filter(code=code, starts_at__lte=now + SIGN_IN_GRACE, ends_at__gte=now - SIGN_IN_GRACE)
         .exclude(state=MeetingState.CANCELLED).first())
    if m is None:
        raise ValidationFailed("code_unknown", _("签到码不正确，或不在会议签到时间内（开始前 30 分钟至结束后 30 分钟）。"),
                               {"field": "code"})
    name = _display_name(actor)

    def run():
        locked = _lock(m)
        if Attendance.objects.filter(meeting=locked, user=actor).exists():
            raise Conflict("already_signed_in", _("您已签到过这次会议。"))
        row = Attendance.objects.create(meeting=locked, user=actor, name=name, way=AttendanceWay.CODE, at=now)
        audit.record(actor, "deliberation.sign_in", locked)
        return row

    return busy(run)


def attendance_mark(*, actor, meeting, name, user=None, unit=None, now=None) -> Attendance:
    """The recorder marks someone present (a resident without a phone, a unit's representative)."""
    m = meeting_of(meeting)
    _recorder(actor, m)
    name = checked_text(name, field_label=_("姓名"), max_len=NAME_MAX)
    account = None
    if user:
        account = get_user_model().objects.filter(pk=getattr(user, "pk", user)).first() if str(
            getattr(user, "pk", user)).isdigit() else None
        if account is None:
            raise ValidationFailed("user_invalid", _("找不到该账号。"), {"field": "user"})
    org = None
    if unit:
        org = Organization.objects.filter(pk=getattr(unit, "pk", unit)).first() if str(
            getattr(unit, "pk", unit)).isdigit() else None
        if org is None:
            raise ValidationFailed("unit_invalid", _("找不到该单位。"), {"field": "unit"})

    def run():
        locked = _lock(m)
        try:
            row = Attendance.objects.create(meeting=locked, user=account, name=name, unit=org,
                                            way=AttendanceWay.RECORDER, at=now or timezone.now())
        except IntegrityError:
            raise Conflict("already_signed_in", _("%(n)s 已签到。") % {"n": name}) from None
        audit.record(actor, "deliberation.attendance_mark", locked, after={"name": name})
        return row

    return busy(run)


def meeting_hold(*, actor, meeting, minutes, now=None) -> Meeting:
    """Record the minutes: the meeting is held (once it has started). Minutes may be corrected later."""
    m = meeting_of(meeting)
    _recorder(actor, m)
    now = now or timezone.now()
    minutes = checked_text(minutes, field_label=_("会议纪要"), max_len=MINUTES_MAX)
    if m.starts_at > now:
        raise ValidationFailed("not_started", _("会议还没有开始，不能记录纪要。"))

    def run():
        locked = _lock(m)
        Meeting.objects.filter(pk=locked.pk).update(state=MeetingState.HELD, minutes=minutes, recorder=actor,
                                                    version=locked.version + 1)
        audit.record(actor, "deliberation.meeting_hold", locked, after={"minutes_chars": len(minutes)})
        return meeting_of(locked.pk)

    return busy(run)


def _owner(value) -> tuple:
    """"user:12", "person:5" (a person with an account) or "org:7" into (user, organisation, name)."""
    kind, _sep, ident = str(value or "").partition(":")
    if ident.isdigit() and kind == "person":
        p = Person.objects.filter(pk=int(ident), user__is_active=True).select_related("user").first()
        if p is not None:
            return p.user, None, p.name
    if ident.isdigit() and kind == "user":
        u = get_user_model().objects.filter(pk=int(ident), is_active=True).first()
        if u is not None:
            return u, None, _display_name(u)
    if ident.isdigit() and kind == "org":
        o = Organization.objects.filter(pk=int(ident)).first()
        if o is not None:
            return None, o, o.name
    raise ValidationFailed("owner_invalid", _("请选择责任人（有账号的人员）或责任单位、部门。"), {"field": "owner"})


def _due(value) -> dt.date:
    try:
        due = value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationFailed("due_invalid", _("办结期限格式不正确，应为 YYYY-MM-DD。"), {"field": "due_on"}) from None
    from gongzhi.core import bounds

    return bounds.check_day(due, _("办结期限"))


def resolution_add(*, actor, meeting, text, agenda_item=None, actions=()) -> Resolution:
    """A resolution of a held meeting, with its action items: [{"title", "owner": "user:ID"|"org:ID",
    "due_on"}]. All or nothing."""
    m = meeting_of(meeting)
    _recorder(actor, m)
    if m.state != MeetingState.HELD:
        raise ValidationFailed("not_held", _("请先记录会议纪要（会议召开后），再登记决议。"))
    text = checked_text(text, field_label=_("决议"), max_len=TEXT_MAX)
    item = None
    if agenda_item:
        item = AgendaItem.objects.filter(pk=getattr(agenda_item, "pk", agenda_item), meeting=m).first() if str(
            getattr(agenda_item, "pk", agenda_item)).isdigit() else None
        if item is None:
            raise ValidationFailed("agenda_invalid", _("该议题不在本次会议的议程中。"), {"field": "agenda_item"})
    today = timezone.localdate()
    planned = []
    for a in actions:
        title = checked_text(a.get("title"), field_label=_("督办事项"), max_len=TITLE_MAX)
        user, org, name = _owner(a.get("owner"))
        due = _due(a.get("due_on"))
        if due < today:
            raise ValidationFailed("due_past", _("办结期限不能早于今天。"), {"field": "due_on"})
        planned.append((title, user, org, name, due))

    def run():
        locked = Meeting.objects.select_for_update().get(pk=m.pk)
        r = Resolution.objects.create(meeting=locked, agenda_item=item, text=text)
        for title, user, org, name, due in planned:
            ActionItem.objects.create(resolution=r, title=title, owner_user=user, owner_org=org, owner_name=name,
                                      due_on=due, place_path=locked.place_path)
        audit.record(actor, "deliberation.resolution_add", locked, after={"text": text, "actions": len(planned)})
        for title, user, org, _name, due in planned:
            notify(_owner_accounts(user, org), kind="action_item",
                   title=Msg(N_("新的督办事项：%(t)s"), t=title),
                   body=Msg(N_("来自%(m)s的决议，请于 %(d)s 前办结。"), m=locked.title, d=due.isoformat()),
                   link=f"/deliberation/meetings/{locked.pk}/", exclude=actor)
        return r

    return busy(run)


def _owner_accounts(user, org) -> list:
    if user is not None:
        return [user]
    return liaisons_of([org.pk]) + list(get_user_model().objects.filter(
        is_active=True, role_assignments__organization=org).exclude(role_assignments__role="unit_liaison").distinct())


def _action(action_id) -> ActionItem:
    try:
        return ActionItem.objects.select_related("resolution__meeting", "owner_org").get(
            pk=int(getattr(action_id, "pk", action_id)))
    except (ActionItem.DoesNotExist, TypeError, ValueError):
        raise NotFound("action_not_found", _("找不到该督办事项。")) from None


def is_owner(actor, action: ActionItem) -> bool:
    if action.owner_user_id is not None:
        return getattr(actor, "pk", None) == action.owner_user_id
    # An organisation's task is done by whoever acts for it: its liaison, its department handlers.
    return bool(action.owner_org_id) and any(
        scopes.can(actor, a, action.owner_org) for a in ("deliberation.chair", "workorder.handle"))


def action_done(*, actor, action, note="") -> ActionItem:
    """The owner (or the recorder's side, a manager of the meeting) marks an action item done."""
    a = _action(action)
    if not (is_owner(actor, a) or scopes.can(actor, MANAGE, a.resolution.meeting)):
        raise PermissionDenied("not_owner", _("只有责任人（或会议所在社区的工作人员）可以办结督办事项。"))
    note = checked_text(note, field_label=_("办理情况"), max_len=TEXT_MAX, required=False)

    def run():
        now = timezone.now()
        n = ActionItem.objects.filter(pk=a.pk, state=ActionState.OPEN).update(
            state=ActionState.DONE, done_at=now, done_note=note, version=a.version + 1)
        if not n:
            raise Conflict("action_done", _("该督办事项已办结。"))
        audit.record(actor, "deliberation.action_done", a, after={"note": note})
        return _action(a.pk)

    return busy(run)


def actions_visible_to(actor):
    """Action items in the actor's deliberation scope, and their own (or their units')."""
    qs = ActionItem.objects.select_related("resolution__meeting", "owner_org", "owner_user")
    if getattr(actor, "is_superuser", False):
        return qs
    q = Q(owner_user=actor) if getattr(actor, "pk", None) else Q(pk__in=[])
    q |= scopes.scope_q(actor, "deliberation.view", ActionItem)
    for action in ("deliberation.chair", "workorder.handle"):
        if scopes.can(actor, action):
            q |= Q(owner_org__in=Organization.objects.filter(scopes.scope_q(actor, action, Organization)))
    return qs.filter(q)


def actions_sweep(*, now=None, pacer=None) -> dict[str, int]:
    """Warn each open action item's owner once when it is due within two days and once when overdue
    (the recorder too, then). Compare-and-set on the warned flags: two sweeps warn once."""
    now = now or timezone.now()
    today = timezone.localtime(now).date()
    out = {"action_due_soon": 0, "action_overdue": 0}
    soon = ActionItem.objects.filter(state=ActionState.OPEN, warned_due_soon_at__isnull=True,
                                     due_on__gte=today, due_on__lte=today + DUE_SOON)
    for a in soon.select_related("owner_user", "owner_org", "resolution__meeting").order_by("id")[:1000]:
        if pacer is not None:
            pacer()
        with transaction.atomic():  # the flag and the notice stand or fall together
            if not ActionItem.objects.filter(pk=a.pk, warned_due_soon_at__isnull=True).update(warned_due_soon_at=now):
                continue
            notify(_owner_accounts(a.owner_user, a.owner_org), kind="action_item",
                   title=Msg(N_("督办事项即将到期：%(t)s"), t=a.title),
                   body=Msg(N_("办结期限：%(d)s"), d=a.due_on.isoformat()),
                   link=f"/deliberation/meetings/{a.resolution.meeting_id}/", now=now)
        out["action_due_soon"] += 1
    late = ActionItem.objects.filter(state=ActionState.OPEN, warned_overdue_at__isnull=True, due_on__lt=today)
    for a in late.select_related("owner_user", "owner_org", "resolution__meeting").order_by("id")[:1000]:
        if pacer is not None:
            pacer()
        meeting = a.resolution.meeting
        recipients = _owner_accounts(a.owner_user, a.owner_org) + [u for u in (meeting.recorder, meeting.created_by) if u]
        with transaction.atomic():
            if not ActionItem.objects.filter(pk=a.pk, warned_overdue_at__isnull=True).update(warned_overdue_at=now):
                continue
            notify(recipients, kind="action_item", title=Msg(N_("督办事项已逾期：%(t)s"), t=a.title),
                   body=Msg(N_("办结期限：%(d)s；责任方：%(o)s"), d=a.due_on.isoformat(), o=a.owner_name),
                   link=f"/deliberation/meetings/{meeting.pk}/", now=now)
        out["action_overdue"] += 1
    return out
