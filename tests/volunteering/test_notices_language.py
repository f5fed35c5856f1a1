"""Volunteering's notifications are kept as message codes: an English reader sees English and a Chinese
reader Chinese from the same stored row, and each is labelled with its own kind (a 双报到 review is
not an appeal's "result", an activity change is not a "new assignment")."""

from __future__ import annotations

import datetime as dt
import pathlib
import re

import pytest
from django.conf import settings
from django.utils import translation

import gongzhi
from gongzhi.notifications.models import Notification
from gongzhi.volunteering import services
from tests.volunteering.conftest import activity

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _site_language_after():
    """A page read in English leaves English active in this thread (LocaleMiddleware): reset it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


def _one(user):
    return Notification.objects.filter(recipient=user).latest("id")


def _both(n):
    with translation.override("zh-hans"):
        zh = (n.shown_title, n.shown_body, n.get_kind_display())
    with translation.override("en"):
        en = (n.shown_title, n.shown_body, n.get_kind_display())
    return zh, en


def test_a_duty_report_review_reaches_each_reader_in_their_language_and_is_not_a_result(world):
    r = services.report_submit(actor=world.m1, kind="member")
    services.report_reject(actor=world.cw, report=r, version=r.version, reason="请补充服务意向")
    n = _one(world.m1)
    assert n.kind == "duty_report"
    zh, en = _both(n)
    assert zh == ("双报到被退回：北宁社区", "退回理由：请补充服务意向", "报到审核")
    assert en == ("Duty report returned: 北宁社区", "Reason for return: 请补充服务意向", "Duty report review")
    r = services.report_submit(actor=world.m2, kind="member")
    services.report_approve(actor=world.cw, report=r, version=r.version)
    zh, en = _both(_one(world.m2))
    assert zh[0] == "双报到已通过：北宁社区" and en[0] == "Duty report approved: 北宁社区"


def test_activity_changes_cancellations_and_promotions_are_rendered_at_reading_time(world):
    a = activity(world, capacity=1, start_in=dt.timedelta(hours=2))
    services.signup_create(actor=world.m1, activity=a)
    services.signup_create(actor=world.m2, activity=a)  # waits
    a = services.activity_update(actor=world.cw, activity=a, version=a.version, venue="社区广场")
    n = _one(world.m1)
    assert n.kind == "activity"
    zh, en = _both(n)
    assert zh[0] == "活动有变动：清理楼道小广告" and en[0] == "Activity changed: 清理楼道小广告"
    assert "地点：社区广场" in zh[1] and "location: 社区广场" in en[1]
    assert en[2] == "Volunteer activities"
    s1 = a.signups.get(person=world.m1.person)
    services.signup_cancel(actor=world.m1, signup=s1)
    zh, en = _both(_one(world.m2))
    assert zh[0] == "候补成功：清理楼道小广告" and en[0] == "Moved off the wait list: 清理楼道小广告"
    assert "waiting list" in en[1] and "候补" in zh[1]
    a.refresh_from_db()
    services.activity_cancel(actor=world.cw, activity=a, version=a.version, reason="台风停课")
    zh, en = _both(_one(world.m2))
    assert zh[:2] == ("活动已取消：清理楼道小广告", "取消原因：台风停课")
    assert en[:2] == ("Activity cancelled: 清理楼道小广告", "Reason for cancelling: 台风停课")


def test_the_notification_page_shows_an_english_reader_english_and_the_kind_label(client, world):
    r = services.report_submit(actor=world.m1, kind="member")
    services.report_reject(actor=world.cw, report=r, version=r.version, reason="请补充服务意向")
    client.force_login(world.m1)
    client.cookies["django_language"] = "en"
    html = client.get("/notifications/").content.decode()
    assert "Duty report returned" in html and "双报到被退回" not in html and "Outcome" not in html
    first = client.get("/api/v1/notifications").json()["items"][0]
    assert first["title"].startswith("Duty report returned") and first["kind_label"] == "Duty report review"
    del client.cookies["django_language"]
    first = client.get("/api/v1/notifications", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["items"][0]
    assert first["title"] == "双报到被退回：北宁社区" and first["kind_label"] == "报到审核"


def test_notify_refuses_fixed_language_text_and_writes_nothing(world):
    from gongzhi.notifications.messages import Msg
    from gongzhi.notifications.services import notify

    for bad in ({"title": "活动已取消"}, {"title": lambda: "活动已取消"},
                {"title": Msg("活动已取消：%(t)s", t="x"), "body": "原因"}):
        with pytest.raises(TypeError):
            notify([world.m1], kind="activity", **bad)
    assert not Notification.objects.filter(recipient=world.m1).exists()


SRC = pathlib.Path(gongzhi.__file__).resolve().parent  # the package under test


def _call_text(text: str, open_paren: int) -> str:
    depth = 0
    for i in range(open_paren, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_paren:i + 1]
    return text[open_paren:]


def test_every_notify_call_site_passes_messages():
    """Each call of notify (and of a module's own `_notify` wrapper) passes messages: no gettext'd
    text, no lambda rendering text, no string literal as title or body. (notify itself refuses
    anything but a Msg at run time; this finds a call site no test happens to run.)"""
    calls = set()
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        for m in re.finditer(r"(?<![\w.])(?:\w+\.)?_?notify\(", text):
            if text[max(0, m.start() - 4):m.start()] == "def ":
                continue
            call = _call_text(text, m.end() - 1)
            calls.add(path.relative_to(SRC).as_posix())
            where = f"{path.relative_to(SRC)}: {call[:120]}"
            assert "lambda" not in call and not re.search(r"\b_\(|gettext\(", call), where
            assert not re.search(r"\b(title|body)=\s*f?[\"']", call), where
    assert {"appeals/notices.py", "lists/notices.py", "volunteering/services.py"} <= calls
