"""The hours a stay earns: the time actually present, clipped to the activity's times, rounded down to a
tenth of an hour, nothing below the minimum stay; the same rule whether the volunteer checks out with
the code (service, API, page), the organiser checks them out by hand, or the activity is ended."""

import datetime as dt
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.translation import override

from gongzhi.timebank import services as tb
from gongzhi.timebank.models import TimeTransaction
from gongzhi.volunteering import services
from gongzhi.volunteering.models import Activity, SignUp

from .conftest import activity, bearer, later

pytestmark = pytest.mark.django_db

API = "/api/v1/volunteering"
SOON = dt.timedelta(minutes=5)  # check-in opens 30 minutes before the start
T0 = dt.datetime(2030, 5, 1, 9, 0, tzinfo=dt.UTC)


def m(minutes=0, seconds=0):
    return dt.timedelta(minutes=minutes, seconds=seconds)


def two_hours(hours="2"):
    """An unsaved 09:00–11:00 activity: `credited_hours` needs only its times and hours."""
    return Activity(starts_at=T0, ends_at=T0 + dt.timedelta(hours=2), hours=Decimal(hours))


def balance(u):
    return tb.balance(u.person)


# ---- the rule, at its edges ----

@pytest.mark.parametrize("check_in, check_out, expected", [
    (m(10), m(10, 3), "0"),            # 3 seconds: nothing
    (m(10), m(24, 59), "0"),           # 14 min 59 s: one second short of the minimum
    (m(10), m(25), "0.2"),             # exactly the minimum (15 min = 0.25 h, rounded down)
    (m(10), m(54), "0.7"),             # 44 min: rounded down to the tenth, not up to 0.8
    (m(10), m(16), "0"),               # below the minimum although a whole tenth
    (m(-45), m(30), "0.5"),            # checked in 45 min before the start: counted from the start
    (m(90), m(150), "0.5"),            # checked out 30 min after the end: counted to the end
    (m(-20), m(140), "2"),             # spanning the whole activity: its length
    (m(-20), m(10), "0"),              # 10 min of the activity: below the minimum
    (m(125), m(140), "0"),             # came after the end
    (m(0), m(119, 59), "1.9"),         # one second short of the whole: rounded down
])
def test_credited_hours_follow_the_rule(check_in, check_out, expected):
    assert services.credited_hours(two_hours(), T0 + check_in, T0 + check_out) == Decimal(expected)


def test_credit_is_never_more_than_the_activitys_hours_and_a_whole_stay_earns_exactly_them():
    a = two_hours("1.5")  # the organiser credits 1.5 h for 2 h (a break in the middle)
    assert services.credited_hours(a, T0, T0 + m(100)) == Decimal("1.5")
    assert services.credited_hours(a, T0 + m(10), T0 + m(70)) == Decimal("1.0")
    # 1 h 57 min: the default hours are 2.0 (rounded); staying throughout earns them, not 1.9.
    short = Activity(starts_at=T0, ends_at=T0 + m(117), hours=Decimal("2.0"))
    assert services.credited_hours(short, T0 - m(5), T0 + m(120)) == Decimal("2.0")
    assert services.credited_hours(short, T0 + m(1), T0 + m(120)) == Decimal("1.9")


def test_minimum_stay_comes_from_the_setting_and_never_exceeds_the_activity(settings):
    settings.VOLUNTEER_MIN_STAY_MINUTES = "30"
    assert services.credited_hours(two_hours(), T0, T0 + m(29)) == 0
    assert services.credited_hours(two_hours(), T0, T0 + m(30)) == Decimal("0.5")
    settings.VOLUNTEER_MIN_STAY_MINUTES = "0"  # still at least one tenth of an hour: 5 min earns 0
    assert services.credited_hours(two_hours(), T0, T0 + m(5)) == 0
    assert services.credited_hours(two_hours(), T0, T0 + m(6)) == Decimal("0.1")
    settings.VOLUNTEER_MIN_STAY_MINUTES = "lots"  # not a number of minutes: the default 15
    assert services.min_stay() == m(15)
    settings.VOLUNTEER_MIN_STAY_MINUTES = "15"
    tiny = Activity(starts_at=T0, ends_at=T0 + m(10), hours=Decimal("0.2"))  # shorter than the minimum
    assert services.credited_hours(tiny, T0, T0 + m(10)) == Decimal("0.2")
    assert services.credited_hours(tiny, T0 + m(1), T0 + m(10)) == 0


# ---- through the service ----

def test_checking_out_seconds_after_checking_in_credits_nothing_and_says_why(world):
    a = activity(world)  # started 10 minutes ago, 2 hours, "2" hours
    services.signup_create(actor=world.m1, activity=a)
    services.check_in(actor=world.m1, code=a.code)
    SignUp.objects.filter(activity=a).update(checked_in_at=timezone.now() - m(seconds=3))
    s = services.check_out(actor=world.m1, code=a.code)
    assert s.checked_out_at is not None and s.hours_credited is None
    assert balance(world.m1) == 0 and not TimeTransaction.objects.exists()
    assert services.credit_note(s) == "已签退：清理楼道小广告。在场时间不足 15 分钟，本次不计入时间银行。"
    with override("en"):
        assert "less than 15 minutes" in services.credit_note(s)
    with pytest.raises(Exception) as e:
        services.check_out(actor=world.m1, code=a.code)
    assert e.value.code == "already_checked_out" and "时间银行" not in e.value.message


def test_a_stay_of_exactly_the_minimum_is_credited(world):
    a = activity(world, start_in=-m(30))
    services.signup_create(actor=world.m1, activity=a)
    services.check_in(actor=world.m1, code=a.code)
    later(a, m(15))
    s = services.check_out(actor=world.m1, code=a.code)
    assert s.hours_credited == Decimal("0.2") and balance(world.m1) == Decimal("0.2")


def test_check_in_before_the_start_counts_from_the_start(world):
    a = activity(world, start_in=SOON)
    services.signup_create(actor=world.m1, activity=a)
    services.check_in(actor=world.m1, code=a.code)
    later(a, m(65))  # there 65 minutes, of which 60 during the activity
    s = services.check_out(actor=world.m1, code=a.code)
    assert s.hours_credited == Decimal("1.0") and balance(world.m1) == Decimal("1")


def test_check_out_after_the_end_counts_to_the_end(world):
    a = activity(world, start_in=-m(59))  # 2 hours long: ends in 61 minutes
    services.signup_create(actor=world.m1, activity=a)
    services.check_in(actor=world.m1, code=a.code)
    later(a, m(80))  # the activity ended 19 minutes ago: just under 61 minutes of it were spent there
    s = services.check_out(actor=world.m1, code=a.code)
    assert s.hours_credited == Decimal("1.0") and balance(world.m1) == Decimal("1")


def test_a_stay_spanning_the_whole_activity_earns_its_length(world):
    a = activity(world, start_in=SOON, hours=None, length=m(90))
    assert a.hours == Decimal("1.5")
    services.signup_create(actor=world.m1, activity=a)
    services.check_in(actor=world.m1, code=a.code)
    later(a, m(100))
    s = services.check_out(actor=world.m1, code=a.code)
    assert s.hours_credited == Decimal("1.5") and balance(world.m1) == Decimal("1.5")


def test_presence_is_rounded_down_to_the_tenth(world):
    a = activity(world, start_in=-m(60))
    services.signup_create(actor=world.m1, activity=a)
    services.check_in(actor=world.m1, code=a.code)
    later(a, m(47))  # 47 minutes = 0.78 h
    s = services.check_out(actor=world.m1, code=a.code)
    assert s.hours_credited == Decimal("0.7") and balance(world.m1) == Decimal("0.7")


def test_the_organisers_hand_and_the_end_of_the_activity_follow_the_same_rule(world):
    a = activity(world, start_in=-m(60), capacity=3)
    s1 = services.signup_create(actor=world.m1, activity=a)
    services.signup_create(actor=world.m2, activity=a)
    services.signup_create(actor=world.m3, activity=a)
    services.attendance_mark(actor=world.cw, signup=s1, direction="in")
    services.check_in(actor=world.m2, code=a.code)
    later(a, m(40))
    services.check_in(actor=world.m3, code=a.code)  # arrives just before the end is called
    s1 = services.attendance_mark(actor=world.cw, signup=s1, direction="out")
    assert s1.hours_credited == Decimal("0.6")
    a.refresh_from_db()
    services.activity_finish(actor=world.cw, activity=a, version=a.version, summary="完成", beneficiaries=3)
    s2, s3 = SignUp.objects.get(activity=a, person=world.m2.person), SignUp.objects.get(activity=a, person=world.m3.person)
    assert s2.checked_out_at is not None and s2.hours_credited == Decimal("0.6")
    assert s3.checked_out_at is not None and s3.hours_credited is None
    assert (balance(world.m1), balance(world.m2), balance(world.m3)) == (Decimal("0.6"), Decimal("0.6"), 0)


# ---- through the API and the pages ----

def post(u, url, data=None):
    return Client().post(url, data or {}, content_type="application/json", **bearer(u))


def test_api_check_out_after_seconds_credits_nothing_and_says_so(world):
    a = activity(world)
    post(world.m1, f"{API}/activities/{a.pk}/signup")
    assert post(world.m1, f"{API}/checkin", {"code": a.code}).status_code == 200
    r = post(world.m1, f"{API}/checkout", {"code": a.code})
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["checked_out_at"] and body["hours_credited"] is None
    assert body["credit_note"] == "已签退：清理楼道小广告。在场时间不足 15 分钟，本次不计入时间银行。"
    assert balance(world.m1) == 0


def test_api_check_out_credits_the_time_present(world):
    a = activity(world, start_in=-m(60))
    post(world.m1, f"{API}/activities/{a.pk}/signup")
    post(world.m1, f"{API}/checkin", {"code": a.code})
    later(a, m(30))
    body = post(world.m1, f"{API}/checkout", {"code": a.code}).json()
    assert body["hours_credited"] == "0.5" and "0.5 时间币已存入" in body["credit_note"]
    assert balance(world.m1) == Decimal("0.5")


def test_check_in_page_tells_the_volunteer_the_stay_was_too_short(world):
    a = activity(world)
    services.signup_create(actor=world.m1, activity=a)
    c = Client()
    c.force_login(world.m1)
    assert "签到成功" in c.post("/volunteering/checkin/", {"code": a.code}).content.decode()
    page = c.post("/volunteering/checkin/", {"code": a.code}).content.decode()
    assert "在场时间不足 15 分钟，本次不计入时间银行" in page and "时间币已存入" not in page
    assert balance(world.m1) == 0
    detail = c.get(f"/volunteering/activities/{a.pk}/").content.decode()
    assert "在场时间太短，本次未计入时间银行" in detail


def test_check_in_page_credits_the_time_present(world):
    a = activity(world, start_in=-m(60))
    services.signup_create(actor=world.m1, activity=a)
    c = Client()
    c.force_login(world.m1)
    c.post("/volunteering/checkin/", {"code": a.code})
    later(a, m(50))
    page = c.post("/volunteering/checkin/", {"code": a.code}).content.decode()
    assert "0.8 时间币已存入您的时间银行" in page and balance(world.m1) == Decimal("0.8")


def test_organiser_hand_check_out_too_short_is_said_on_the_page(world):
    a = activity(world)
    s = services.signup_create(actor=world.m1, activity=a)
    c = Client()
    c.force_login(world.cw)
    c.post(f"/volunteering/activities/{a.pk}/signups/{s.pk}/check-in/")
    r = c.post(f"/volunteering/activities/{a.pk}/signups/{s.pk}/check-out/", follow=True)
    assert "已代为签退：张党员。在场时间不足 15 分钟，本次不计入时间银行。" in r.content.decode()
    assert SignUp.objects.get(pk=s.pk).hours_credited is None and balance(world.m1) == 0
