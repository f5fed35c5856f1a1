"""Recurring sessions and meetings: a rule materialised 90 days ahead (idempotent, also when two run
at once), one occurrence cancelled or moved and only that one, one-off meetings, theme activities
convened by the month's chair, permissions and bad input."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from gongzhi.core.audit import AuditEntry
from gongzhi.core.errors import Conflict, PermissionDenied, ValidationFailed
from gongzhi.deliberation import recurrence, services
from gongzhi.deliberation.models import Meeting, MeetingSeries, MeetingState, SeriesException

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2027, 3, 1, 8, 0, tzinfo=SH)


def feng_si(w, **kw):
    params = {"kind": "deliberation", "form": "feng_si", "title": "逢四说事", "rule": recurrence.PRESETS["feng_si"],
              "dtstart": "2027-01-04 19:30", "duration_minutes": 90, "location": "北宁社区党群服务中心",
              "place": w.beining.pk, "now": NOW}
    params.update(kw)
    return services.series_create(actor=w.cw, **params)


def test_a_series_materialises_ninety_days_of_sessions_idempotently(world):
    s = feng_si(world)
    starts = list(Meeting.objects.filter(series=s).order_by("starts_at").values_list("starts_at", flat=True))
    # 4th, 14th, 24th of March, April and May (1 March + 90 days = 30 May): 9 sessions, at 19:30 Shanghai.
    assert [x.astimezone(SH).day for x in starts] == [4, 14, 24] * 3
    assert {(x.astimezone(SH).hour, x.astimezone(SH).minute) for x in starts} == {(19, 30)}
    assert services.materialise(now=NOW) == 0
    assert Meeting.objects.filter(series=s).count() == 9
    # The window moves on with the days: five days later 4 June is still outside it, six days later inside.
    assert services.materialise(now=NOW + dt.timedelta(days=5)) == 0
    assert services.materialise(now=NOW + dt.timedelta(days=6)) == 1
    assert AuditEntry.objects.filter(action="deliberation.series_create").count() == 1


def test_cancel_and_move_one_occurrence_only(world):
    s = feng_si(world)
    holiday = dt.datetime(2027, 4, 4, 19, 30, tzinfo=SH)  # 清明
    services.series_exception(actor=world.cw, series=s, original_start=holiday.isoformat(), cancel=True,
                              reason="清明节")
    moved = dt.datetime(2027, 5, 14, 19, 30, tzinfo=SH)
    services.series_exception(actor=world.cw, series=s, original_start=moved, cancel=False,
                              new_start="2027-05-15 09:00")
    m = Meeting.objects.get(series=s, original_start=holiday)
    assert m.state == MeetingState.CANCELLED and m.cancel_reason == "清明节"
    m2 = Meeting.objects.get(series=s, original_start=moved)
    assert m2.starts_at == dt.datetime(2027, 5, 15, 9, 0, tzinfo=SH) and m2.ends_at - m2.starts_at == dt.timedelta(minutes=90)
    others = Meeting.objects.filter(series=s).exclude(pk__in=[m.pk, m2.pk])
    assert others.count() == 7 and all(o.state == MeetingState.SCHEDULED for o in others)
    assert all(o.starts_at == o.original_start for o in others)
    # The pure expansion agrees with the rows.
    spec = services.as_recurrence(s)
    got = recurrence.occurrences(spec, NOW, NOW + services.HORIZON)
    rows = Meeting.objects.filter(series=s, state=MeetingState.SCHEDULED).order_by("starts_at")
    assert [(o.start, o.end) for o in got] == [(r.starts_at, r.ends_at) for r in rows]


def test_exceptions_made_before_materialising_apply_when_rows_are_made(world):
    s = feng_si(world, now=NOW)
    far = dt.datetime(2027, 7, 24, 19, 30, tzinfo=SH)
    services.series_exception(actor=world.cw, series=s, original_start=far, cancel=True, reason="防汛")
    services.materialise(now=dt.datetime(2027, 6, 1, tzinfo=SH))
    assert Meeting.objects.get(series=s, original_start=far).state == MeetingState.CANCELLED


def test_an_exception_for_a_time_that_is_no_occurrence_is_refused(world):
    s = feng_si(world)
    with pytest.raises(ValidationFailed) as exc:
        services.series_exception(actor=world.cw, series=s, original_start="2027-04-05 19:30", cancel=True)
    assert exc.value.code == "not_an_occurrence"
    assert not SeriesException.objects.exists()


def test_a_held_meeting_cannot_be_cancelled_through_its_series(world):
    s = feng_si(world)
    m = Meeting.objects.filter(series=s).order_by("starts_at").first()
    Meeting.objects.filter(pk=m.pk).update(state=MeetingState.HELD)
    with pytest.raises(Conflict):
        services.series_exception(actor=world.cw, series=s, original_start=m.original_start, cancel=True)
    assert not SeriesException.objects.exists()


@pytest.mark.parametrize("rule,code", [
    ("FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30", "rule_no_dates"),
    ("FREQ=HOURLY", "rule_invalid"),
    ("每月4日", "rule_invalid"),
    ("FREQ=WEEKLY;BYDAY=TH\nDTSTART:20270101", "rule_invalid"),
])
def test_a_bad_rule_is_refused_and_nothing_is_written(world, rule, code):
    with pytest.raises(ValidationFailed) as exc:
        feng_si(world, rule=rule)
    assert exc.value.code == code
    assert not MeetingSeries.objects.exists() and not Meeting.objects.exists()


@pytest.mark.parametrize("field,value,code", [
    ("dtstart", "明天晚上", "bad_time"),
    ("dtstart", "9999-01-01 09:00", "date_out_of_range"),
    ("duration_minutes", 0, "duration_invalid"),
    ("title", "  ", "required"),
    ("place", 999999, "place_invalid"),
    ("kind", "party", "kind_invalid"),
    ("form", "plenary", "form_invalid"),
])
def test_bad_series_input_is_a_clear_error(world, field, value, code):
    with pytest.raises(ValidationFailed) as exc:
        feng_si(world, **{field: value})
    assert exc.value.code == code and not MeetingSeries.objects.exists()


@pytest.mark.parametrize("who", ["resident", "cw_x", "auditor"])
def test_only_managers_of_the_host_create_or_change_sessions(world, who):
    with pytest.raises(PermissionDenied):
        services.series_create(
            actor=getattr(world, who), kind="deliberation", form="feng_si", title="逢四说事", rule="FREQ=DAILY",
            dtstart="2027-01-04 19:30", duration_minutes=60, place=world.beining.pk)
    s = feng_si(world)
    with pytest.raises(PermissionDenied):
        services.series_exception(actor=getattr(world, who), series=s, original_start="2027-03-04 19:30", cancel=True)
    with pytest.raises(PermissionDenied):
        services.series_stop(actor=getattr(world, who), series=s)


def test_stopping_a_series_cancels_what_is_ahead(world):
    s = feng_si(world)
    n = services.series_stop(actor=world.cw, series=s, now=dt.datetime(2027, 4, 1, tzinfo=SH))
    assert n == 6  # April and May
    assert services.materialise(now=dt.datetime(2027, 6, 1, tzinfo=SH)) == 0


def test_one_off_meetings_and_the_theme_activity_convened_by_the_months_chair(world):
    w = world
    services.roster_generate(actor=w.cw, committee=w.committee, year=2027, today=dt.date(2027, 1, 1))
    m = services.meeting_create(actor=w.cw, kind="theme", title="“我为群众办实事”主题活动",
                                starts_at="2027-03-10 15:00", ends_at="2027-03-10 17:00", committee=w.committee.pk)
    assert m.convener_id == w.units[2].pk  # March: the third unit's month
    q = services.meeting_create(actor=w.cw, kind="joint", form="quarterly", title="一季度联席会议",
                                starts_at="2027-03-28 09:00", ends_at="2027-03-28 11:00", committee=w.committee.pk)
    assert q.place_path == w.beining.path
    with pytest.raises(ValidationFailed) as exc:
        services.meeting_create(actor=w.cw, kind="theme", title="主题活动", starts_at="2029-01-10 15:00",
                                ends_at="2029-01-10 16:00", committee=w.committee.pk)
    assert exc.value.code == "no_chair"
    with pytest.raises(ValidationFailed) as exc:
        services.meeting_create(actor=w.cw, kind="joint", form="ad_hoc", title="临时会议", starts_at="2027-03-28 11:00",
                                ends_at="2027-03-28 09:00", committee=w.committee.pk)
    assert exc.value.code == "ends_before_start"
    cancelled = services.meeting_cancel(actor=w.cw, meeting=q.pk, reason="改为线上")
    assert cancelled.state == MeetingState.CANCELLED
    with pytest.raises(Conflict):
        services.meeting_cancel(actor=w.cw, meeting=q.pk)


@pytest.mark.django_db(transaction=True)
def test_two_materialisations_at_once_make_each_occurrence_once(world):
    s = feng_si(world, now=NOW)
    Meeting.objects.all().delete()
    barrier, errors = threading.Barrier(2), []

    def run():
        try:
            barrier.wait()
            services.materialise(now=NOW)
        except Exception as exc:  # noqa: BLE001 - the assertion below names it
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert Meeting.objects.filter(series=s).count() == 9
