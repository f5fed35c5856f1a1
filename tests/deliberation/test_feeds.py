"""The calendar feeds as calendar apps read them: parsed with `icalendar`, expanded with
`recurring-ical-events`, and compared with the service's own occurrences (exceptions included)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import recurring_ical_events
from icalendar import Calendar

from gongzhi.deliberation import recurrence, services
from gongzhi.deliberation.models import Meeting, MeetingState
from tests.factories import PASSWORD

from .conftest import bearer

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2027, 3, 1, 8, 0, tzinfo=SH)
A, B = dt.datetime(2027, 1, 1, tzinfo=SH), dt.datetime(2028, 1, 1, tzinfo=SH)


def expanded(body: bytes, a=A, b=B) -> list[tuple[str, dt.datetime, dt.datetime]]:
    cal = Calendar.from_ical(body)
    out = []
    for ev in recurring_ical_events.of(cal).between(a, b):
        start = ev["DTSTART"].dt.astimezone(SH)
        if start >= a:
            out.append((str(ev["SUMMARY"]), start, ev["DTEND"].dt.astimezone(SH)))
    return sorted(out, key=lambda x: (x[1], x[0]))


def setup_sessions(w):
    s = services.series_create(actor=w.cw, kind="deliberation", form="feng_si", title="逢四说事",
                               rule=recurrence.PRESETS["feng_si"], dtstart="2027-01-04 19:30", duration_minutes=90,
                               location="北宁社区党群服务中心", place=w.beining.pk, now=NOW)
    services.series_exception(actor=w.cw, series=s, original_start="2027-04-04 19:30", cancel=True, reason="清明节")
    services.series_exception(actor=w.cw, series=s, original_start="2027-10-04 19:30", cancel=False,
                              new_start="2027-10-09 19:30", reason="国庆节")
    services.roster_generate(actor=w.cw, committee=w.committee, year=2027, today=dt.date(2027, 1, 1))
    q = services.meeting_create(actor=w.cw, kind="joint", form="quarterly", title="一季度联席会议",
                                starts_at="2027-03-28 09:00", ends_at="2027-03-28 11:00", committee=w.committee.pk)
    return s, q


def test_the_community_feed_expands_to_the_services_dates(client, world):
    w = world
    s, q = setup_sessions(w)
    r = client.get(f"/deliberation/calendar/community/{w.beining.pk}.ics")  # public: no sign-in
    assert r.status_code == 200 and r["Content-Type"].startswith("text/calendar")
    body = r.content
    assert b"RRULE:FREQ=MONTHLY;BYMONTHDAY=4,14,24" in body and b"EXDATE" in body and b"RECURRENCE-ID" in body
    assert b"BEGIN:VTIMEZONE" in body and b"Asia/Shanghai" in body
    want = [("逢四说事", o.start, o.end) for o in recurrence.occurrences(services.as_recurrence(s), A, B)]
    want.append(("一季度联席会议", q.starts_at.astimezone(SH), q.ends_at.astimezone(SH)))
    assert expanded(body) == sorted(want, key=lambda x: (x[1], x[0]))
    days = [x[1].date() for x in expanded(body) if x[0] == "逢四说事"]
    assert dt.date(2027, 4, 4) not in days and dt.date(2027, 10, 9) in days and dt.date(2027, 10, 4) not in days
    assert len(days) == 36 - 1  # 36 sessions a year, one cancelled, one moved


def test_a_cancelled_one_off_meeting_leaves_the_feed(client, world):
    w = world
    _s, q = setup_sessions(w)
    services.meeting_cancel(actor=w.cw, meeting=q.pk)
    body = client.get(f"/deliberation/calendar/committee/{w.committee.pk}.ics").content
    assert "一季度联席会议" not in body.decode()


def test_the_committee_feed_has_its_own_meetings_only(client, world):
    w = world
    setup_sessions(w)
    got = expanded(client.get(f"/deliberation/calendar/committee/{w.committee.pk}.ics").content)
    assert [x[0] for x in got] == ["一季度联席会议"]
    assert client.get("/deliberation/calendar/committee/999999.ics").status_code == 404
    assert client.get(f"/deliberation/calendar/committee/{w.units[0].pk}.ics").status_code == 404  # not a committee


def test_the_private_feed_opens_by_its_secret_and_a_reset_closes_the_old_url(client, world):
    w = world
    setup_sessions(w)
    r = client.post("/api/v1/deliberation/calendar/token", **bearer(w.liaisons[0]))
    url = r.json()["url"]
    path = url[url.index("/deliberation/"):]
    got = expanded(client.get(path).content)
    assert [x[0] for x in got] == ["一季度联席会议"]  # a liaison follows its units' committee
    assert client.login(username="liaison0", password=PASSWORD)
    page = client.post("/deliberation/calendar/")
    new_url = page.context["private_url"]
    assert new_url and new_url != url
    client.logout()
    assert client.get(path).status_code == 404
    assert client.get(new_url[new_url.index("/deliberation/"):]).status_code == 200
    assert client.get("/deliberation/calendar/me/not-a-token.ics").status_code == 404


def test_materialised_rows_and_the_feed_agree_for_the_next_ninety_days(client, world):
    w = world
    s, _q = setup_sessions(w)
    rows = [(m.title, m.starts_at.astimezone(SH), m.ends_at.astimezone(SH))
            for m in Meeting.objects.filter(series=s, state=MeetingState.SCHEDULED).order_by("starts_at")]
    end = NOW + services.HORIZON
    feed = [x for x in expanded(client.get(f"/deliberation/calendar/community/{w.beining.pk}.ics").content, NOW, end)
            if x[0] == "逢四说事"]
    assert feed == rows


def test_a_phone_typed_into_a_public_feed_is_masked(client, world):
    w = world
    services.meeting_create(actor=w.cw, kind="joint", form="ad_hoc", title="临时会议 联系 13812345678",
                            starts_at="2027-03-28 09:00", ends_at="2027-03-28 11:00", committee=w.committee.pk,
                            location="找王姐 139 1234 5678")
    body = client.get(f"/deliberation/calendar/committee/{w.committee.pk}.ics").content.decode()
    assert "13812345678" not in body and "1234 5678" not in body and "临时会议" in body
