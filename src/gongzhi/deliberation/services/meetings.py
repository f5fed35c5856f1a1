"""Meetings and recurring sessions: create a series by an RFC 5545 rule, cancel or move one of its
occurrences, hold one-off meetings, and materialise occurrences a rolling 90 days ahead.

A meeting is held by a place (a community or compound: deliberation sessions) or a joint committee
(joint meetings, the month's theme activity). Whoever manages that host (deliberation.manage over its
place) creates and changes its meetings. Materialising is idempotent: a second run, or two at once,
add nothing (one row per occurrence, guaranteed by the database).
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit, scopes
from gongzhi.core.errors import Conflict, NotFound, ValidationFailed
from gongzhi.core.text import checked_text, clean_text
from gongzhi.core.times import parse_when
from gongzhi.org.models import Organization
from gongzhi.places.models import Place, PlaceKind

from .. import recurrence
from ..models import (
    FORMS_OF,
    ChairTerm,
    Meeting,
    MeetingKind,
    MeetingSeries,
    MeetingState,
    SeriesException,
)
from .common import COMMITTEE_KINDS, MANAGE, busy

HORIZON = dt.timedelta(days=90)
TITLE_MAX, LOCATION_MAX, REASON_MAX = 100, 200, 200
DURATION_MAX_MINUTES = 12 * 60
HOST_PLACE_KINDS = (PlaceKind.COMMUNITY, PlaceKind.COMPOUND)


def _kind_form(kind, form) -> tuple[str, str]:
    if kind not in MeetingKind.values:
        raise ValidationFailed("kind_invalid", _("会议类型不正确。"), {"field": "kind"})
    form = form or FORMS_OF[kind][0]
    if form not in FORMS_OF[kind]:
        raise ValidationFailed("form_invalid", _("该会议类型不能采用这种形式。"), {"field": "form"})
    return kind, form


def _host(kind, *, place=None, committee=None) -> tuple[Place | None, Organization | None]:
    """A deliberation session is held by a community or compound; joint meetings and theme activities
    by a joint committee (whose place is its scope)."""
    if kind == MeetingKind.DELIBERATION:
        pid = getattr(place, "pk", place)
        try:
            host = Place.objects.get(pk=int(pid), kind__in=HOST_PLACE_KINDS)
        except (Place.DoesNotExist, TypeError, ValueError):
            raise ValidationFailed("place_invalid", _("议事会须选择所在的社区或小区。"), {"field": "place"}) from None
        return host, None
    cid = getattr(committee, "pk", committee)
    try:
        host = Organization.objects.get(pk=int(cid), kind__in=COMMITTEE_KINDS)
    except (Organization.DoesNotExist, TypeError, ValueError):
        raise ValidationFailed("committee_invalid", _("联席会议须选择联合党委。"), {"field": "committee"}) from None
    return None, host


def _scope_path(place, committee) -> str:
    return place.path if place is not None else committee.place_path


def _require_manage(actor, place, committee):
    scopes.require(actor, MANAGE, place if place is not None else committee)


def _duration(value) -> int:
    try:
        minutes = int(value)
    except (TypeError, ValueError):
        minutes = 0
    if not 1 <= minutes <= DURATION_MAX_MINUTES:
        raise ValidationFailed("duration_invalid", _("时长应在 1 至 %(max)s 分钟之间。") % {"max": DURATION_MAX_MINUTES},
                               {"field": "duration_minutes"})
    return minutes


def as_recurrence(series: MeetingSeries, exceptions=None) -> recurrence.Series:
    """The pure description of a stored series (rule, first start, length, its exceptions)."""
    rows = list(series.exceptions.all()) if exceptions is None else exceptions
    return recurrence.Series(
        rule=series.rule, dtstart=series.dtstart, duration=dt.timedelta(minutes=series.duration_minutes),
        cancelled=frozenset(e.original_start for e in rows if e.cancelled),
        moved={e.original_start: (e.new_start, e.new_end) for e in rows if not e.cancelled})


def series_create(*, actor, kind, form="", title, rule, dtstart, duration_minutes, location="", place=None,
                  committee=None, now=None) -> MeetingSeries:
    kind, form = _kind_form(kind, form)
    host_place, host_committee = _host(kind, place=place, committee=committee)
    _require_manage(actor, host_place, host_committee)
    title = checked_text(title, field_label=_("名称"), max_len=TITLE_MAX)
    location = checked_text(location, field_label=_("地点"), max_len=LOCATION_MAX, required=False)
    start = recurrence.as_shanghai(parse_when(dtstart, field_label=_("首次时间")))
    minutes = _duration(duration_minutes)
    rule = recurrence.normalize_rule(clean_text(str(rule or "")).strip())
    recurrence.parse_rule(rule, start)  # refuses a rule that yields no date, with its reason

    def run():
        s = MeetingSeries.objects.create(kind=kind, form=form, title=title, committee=host_committee,
                                         place=host_place, rule=rule, dtstart=start, duration_minutes=minutes,
                                         location=location, place_path=_scope_path(host_place, host_committee),
                                         created_by=actor if getattr(actor, "pk", None) else None)
        audit.record(actor, "deliberation.series_create", s, after={"title": title, "rule": rule,
                                                                     "dtstart": start.isoformat()})
        return s

    s = busy(run)
    materialise(now=now, series_ids=[s.pk])
    return s


def _series(series_id) -> MeetingSeries:
    try:
        return MeetingSeries.objects.select_related("place", "committee").get(pk=int(getattr(series_id, "pk", series_id)))
    except (MeetingSeries.DoesNotExist, TypeError, ValueError):
        raise NotFound("series_not_found", _("找不到该议事安排。")) from None


def series_exception(*, actor, series, original_start, cancel: bool, new_start=None, new_end=None,
                     reason="") -> SeriesException:
    """Cancel (a holiday) or move one occurrence, and only that one; its meeting row follows."""
    s = _series(series)
    _require_manage(actor, s.place, s.committee)
    original = recurrence.as_shanghai(parse_when(original_start, field_label=_("原定时间")))
    reason = checked_text(reason, field_label=_("原因"), max_len=REASON_MAX, required=False)
    plain = as_recurrence(s, exceptions=[])
    if not recurrence.occurrences(plain, original, original + dt.timedelta(seconds=1)):
        raise ValidationFailed("not_an_occurrence", _("%(t)s 不是这项议事安排的一次活动。") % {
            "t": timezone.localtime(original).strftime("%Y-%m-%d %H:%M")}, {"field": "original_start"})
    if not cancel:
        start = recurrence.as_shanghai(parse_when(new_start, field_label=_("新的开始时间")))
        end = (recurrence.as_shanghai(parse_when(new_end, field_label=_("新的结束时间"))) if new_end
               else start + dt.timedelta(minutes=s.duration_minutes))
        if end <= start:
            raise ValidationFailed("ends_before_start", _("结束时间须晚于开始时间。"), {"field": "new_end"})
    else:
        start = end = None

    def run():
        MeetingSeries.objects.select_for_update().get(pk=s.pk)
        exc, _created = SeriesException.objects.update_or_create(
            series=s, original_start=original,
            defaults={"cancelled": cancel, "new_start": start, "new_end": end, "reason": reason})
        meeting = Meeting.objects.filter(series=s, original_start=original).first()
        if meeting is not None:
            if meeting.state == MeetingState.HELD:
                raise Conflict("meeting_held", _("这次活动已经召开，不能再取消或改期。"))
            fields = ({"state": MeetingState.CANCELLED, "cancel_reason": reason} if cancel else
                      {"state": MeetingState.SCHEDULED, "starts_at": start, "ends_at": end, "cancel_reason": ""})
            Meeting.objects.filter(pk=meeting.pk).update(version=meeting.version + 1, **fields)
        audit.record(actor, "deliberation.series_cancel_one" if cancel else "deliberation.series_move_one", s,
                     after={"original_start": original.isoformat(), "new_start": start and start.isoformat(),
                            "reason": reason})
        return exc

    return busy(run)


def series_stop(*, actor, series, now=None) -> int:
    """End a series: no more occurrences; those still ahead are cancelled. Returns how many."""
    s = _series(series)
    _require_manage(actor, s.place, s.committee)
    now = now or timezone.now()

    def run():
        MeetingSeries.objects.filter(pk=s.pk).update(active=False, version=s.version + 1)
        n = Meeting.objects.filter(series=s, starts_at__gt=now, state=MeetingState.SCHEDULED).update(
            state=MeetingState.CANCELLED, cancel_reason=_("议事安排已停止"))
        audit.record(actor, "deliberation.series_stop", s, after={"cancelled": n})
        return n

    return busy(run)


def meeting_create(*, actor, kind, form="", title, starts_at, ends_at, location="", place=None, committee=None,
                   convener=None) -> Meeting:
    """A one-off meeting. A theme activity is convened by the month's rotating chair (by default)."""
    kind, form = _kind_form(kind, form)
    host_place, host_committee = _host(kind, place=place, committee=committee)
    _require_manage(actor, host_place, host_committee)
    title = checked_text(title, field_label=_("名称"), max_len=TITLE_MAX)
    location = checked_text(location, field_label=_("地点"), max_len=LOCATION_MAX, required=False)
    start = parse_when(starts_at, field_label=_("开始时间"))
    end = parse_when(ends_at, field_label=_("结束时间"))
    if end <= start:
        raise ValidationFailed("ends_before_start", _("结束时间须晚于开始时间。"), {"field": "ends_at"})
    unit = None
    if kind == MeetingKind.THEME:
        month = timezone.localtime(start).date().replace(day=1)
        term = ChairTerm.objects.filter(committee=host_committee, month=month).select_related("unit").first()
        cid = getattr(convener, "pk", convener)
        if cid:
            unit = Organization.objects.filter(pk=cid).first() if str(cid).isdigit() else None
            if unit is None:
                raise ValidationFailed("convener_invalid", _("找不到召集单位。"), {"field": "convener"})
        elif term is not None:
            unit = term.unit
        else:
            raise ValidationFailed("no_chair", _("%(m)s 还没有轮值主席单位，请先生成轮值表或指定召集单位。") % {
                "m": f"{month:%Y-%m}"}, {"field": "convener"})

    def run():
        m = Meeting.objects.create(kind=kind, form=form, title=title, committee=host_committee, place=host_place,
                                   convener=unit, starts_at=start, ends_at=end, location=location,
                                   place_path=_scope_path(host_place, host_committee),
                                   created_by=actor if getattr(actor, "pk", None) else None)
        audit.record(actor, "deliberation.meeting_create", m, after={"title": title, "starts_at": start.isoformat()})
        return m

    return busy(run)


def meeting_of(meeting_id) -> Meeting:
    try:
        return Meeting.objects.select_related("place", "committee", "convener", "series").get(
            pk=int(getattr(meeting_id, "pk", meeting_id)))
    except (Meeting.DoesNotExist, TypeError, ValueError, OverflowError):
        raise NotFound("meeting_not_found", _("找不到该会议。")) from None


def meeting_cancel(*, actor, meeting, reason="") -> Meeting:
    m = meeting_of(meeting)
    _require_manage(actor, m.place, m.committee)
    reason = checked_text(reason, field_label=_("原因"), max_len=REASON_MAX, required=False)
    if m.series_id is not None:  # one occurrence of a series: an exception, so the calendar feeds agree
        series_exception(actor=actor, series=m.series_id, original_start=m.original_start, cancel=True, reason=reason)
        return meeting_of(m.pk)

    def run():
        n = Meeting.objects.filter(pk=m.pk, state=MeetingState.SCHEDULED).update(
            state=MeetingState.CANCELLED, cancel_reason=reason, version=m.version + 1)
        if not n:
            raise Conflict("meeting_not_scheduled", _("只有尚未召开的会议可以取消。"))
        audit.record(actor, "deliberation.meeting_cancel", m, after={"reason": reason})
        return meeting_of(m.pk)

    return busy(run)


def materialise(*, now=None, horizon: dt.timedelta = HORIZON, series_ids=None, pacer=None) -> int:
    """Make the Meeting rows of every active series' occurrences from now to now + 90 days (moved ones
    at their new time, cancelled ones as cancelled). Idempotent: one row per occurrence, whoever runs."""
    now = now or timezone.now()
    until = now + horizon
    qs = MeetingSeries.objects.filter(active=True).prefetch_related("exceptions")
    if series_ids is not None:
        qs = qs.filter(pk__in=series_ids)
    made = 0
    for s in qs.order_by("id"):
        if pacer is not None:
            pacer()
        rows = list(s.exceptions.all())
        spec = as_recurrence(s, exceptions=rows)
        cancelled = {e.original_start: e.reason for e in rows if e.cancelled}
        have = set(Meeting.objects.filter(series=s, original_start__gte=now - dt.timedelta(days=1))
                   .values_list("original_start", flat=True))
        new = []
        plain = recurrence.occurrences(as_recurrence(s, exceptions=[]), now, until)
        moved = {o.original_start: o for o in recurrence.occurrences(spec, now - horizon, until + horizon) if o.moved}
        for occ in plain:
            if occ.original_start in have:
                continue
            o = moved.get(occ.original_start, occ)
            new.append(Meeting(kind=s.kind, form=s.form, title=s.title, committee_id=s.committee_id,
                               place_id=s.place_id, series=s, original_start=occ.original_start, starts_at=o.start,
                               ends_at=o.end, location=s.location, place_path=s.place_path,
                               state=MeetingState.CANCELLED if occ.original_start in cancelled else MeetingState.SCHEDULED,
                               cancel_reason=cancelled.get(occ.original_start, "")))
        with transaction.atomic():
            try:
                Meeting.objects.bulk_create(new, ignore_conflicts=True)
            except IntegrityError:  # pragma: no cover - ignore_conflicts covers the unique pair
                pass
            MeetingSeries.objects.filter(pk=s.pk).update(materialised_until=until)
        made += len(new)
    return made


__all__ = ["HORIZON", "as_recurrence", "materialise", "meeting_cancel", "meeting_create",
           "meeting_of", "series_create", "series_exception", "series_stop"]
