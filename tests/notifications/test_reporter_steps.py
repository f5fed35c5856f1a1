"""The reporter is kept informed: one notification per step they care about (accepted, handed on —
naming the level —, whistled — naming the departments —, resolved, reopened, closed), written in the
step's transaction, never to an appeal entered without an account, never to the actor; and every
notification is shown in the reader's language, whatever language the actor used."""

import datetime as dt

import pytest
from django.utils import translation

from gongzhi.appeals import services
from gongzhi.appeals.sweep import sweep
from gongzhi.notifications import services as notes
from gongzhi.notifications.messages import Msg
from gongzhi.notifications.models import Notification
from tests.appeals.conftest import at_street, bearer, submit, whistle

pytestmark = pytest.mark.django_db


def reporter_inbox(u, appeal):
    return list(Notification.objects.filter(recipient=u, appeal_number=appeal.number).order_by("id"))


def test_the_reporter_hears_every_step_through_a_whistle_to_the_close(city, depts):
    a = at_street(city, accept=True)  # handed on grid → community → street, accepted at each
    a = whistle(city, a, depts.sj, depts.squad)
    for wo in a.work_orders.all():
        handler = depts.h_sj if wo.assignee == depts.sj else depts.h_squad
        wo = services.summons_report(actor=handler, work_order=wo)
        services.summons_resolve(actor=handler, work_order=wo, note="已整改")
    a.refresh_from_db()
    assert a.state == "resolved"
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=False, satisfaction="unsatisfied", comment="还吵")
    a = services.appeal_accept(actor=city.so, appeal=a)
    a = services.appeal_resolve(actor=city.so, appeal=a, note="已再次协调")
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=True, satisfaction="satisfied")
    services.appeal_close(actor=city.cw, appeal=a)

    got = reporter_inbox(city.jumin, a)
    titles = [n.title for n in got]
    assert [n.kind for n in got] == [
        "progress",  # handed on to the community
        "progress",  # accepted by the community
        "progress",  # handed on to the street
        "progress",  # accepted by the street
        "progress",  # whistled
        "result",    # resolved with the last work order
        "progress",  # reopened (the reporter's rating reopened it)
        "progress",  # accepted again
        "result",    # resolved
        "result",    # closed
    ], titles
    assert "已转交社区办理" in titles[0] and "已转交街道办理" in titles[2]
    assert "已受理" in titles[1] and "社区" in got[1].body
    assert "召集" in titles[4] and depts.sj.name in got[4].body and depts.squad.name in got[4].body
    assert "已办结" in titles[5] and "重新办理" in titles[6] and "已结案" in titles[9]
    # Nothing names anyone but the reporter, and the department's report for duty reached nobody as a result.
    assert not any(w in n.title + n.body for n in got for w in ("张居民", "黄市监", "韦队长"))
    assert all(n.link == f"/appeals/{a.number}/" for n in got)


def test_a_step_the_reporter_takes_is_not_told_back_and_an_accountless_reporter_hears_nothing(city):
    # The reporter is also staff: accepting their own appeal tells them nothing.
    a = submit(city.gw1)
    services.appeal_accept(actor=city.gw1, appeal=a)
    assert reporter_inbox(city.gw1, a) == [] or all(n.kind == "assigned" for n in reporter_inbox(city.gw1, a))
    # Entered for a caller without an account: no reporter to tell.
    b = submit(city.cw, source="hotline", reporter_name="赵大妈", reporter_phone="13812345678", consent_recorded=True)
    services.appeal_accept(actor=city.gw1, appeal=b)
    assert not Notification.objects.filter(appeal_number=b.number, kind__in=("progress", "result")).exists()


def test_the_sweep_escalation_and_auto_close_tell_the_reporter(city):
    a = submit(city.jumin)
    sweep(now=a.step_due + dt.timedelta(minutes=1))
    (n,) = Notification.objects.filter(recipient=city.jumin, appeal_number=a.number)
    assert n.kind == "progress" and "已转交社区办理" in n.title
    a = services.appeal_accept(actor=city.cw, appeal=a)
    a = services.appeal_resolve(actor=city.cw, appeal=a, note="已处理")
    sweep(now=a.resolved_at + dt.timedelta(days=30))
    last = Notification.objects.filter(recipient=city.jumin, appeal_number=a.number).order_by("-id").first()
    assert last.kind == "result" and "已结案" in last.title and "自动结案" in last.body


def test_an_english_reader_sees_english_for_steps_a_chinese_actor_took(city, depts, client):
    with translation.override("zh-hans"):
        a = whistle(city, at_street(city, accept=True), depts.sj)
    stored = reporter_inbox(city.jumin, a)[-1]
    assert "召集" in stored.title  # the stored fallback is in the site's language

    client.force_login(city.jumin)
    client.cookies["django_language"] = "en"
    page = client.get("/notifications/").content.decode()
    assert "召集" not in page and "已转交" not in page and "已受理" not in page
    assert "Your request has been passed up to the Street level" in page
    assert "The street has summoned departments" in page and depts.sj.name in page

    api = client.get("/api/v1/notifications", **bearer(city.jumin), HTTP_ACCEPT_LANGUAGE="en").json()
    del client.cookies["django_language"]
    titles = [i["title"] for i in api["items"]]
    assert titles[0].startswith("The street has summoned departments"), titles  # newest first
    assert not any("诉求" in t for t in titles)
    # The same rows read in Chinese by a Chinese reader.
    zh = client.get("/api/v1/notifications", **bearer(city.jumin), HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert zh["items"][0]["title"].startswith("街道已召集部门")


def test_old_rows_and_plain_text_keep_their_stored_text(city):
    n = Notification.objects.create(recipient=city.jumin, kind="result", title="旧通知标题", body="旧正文",
                                    created_at=a_time())
    with translation.override("en"):
        assert (n.shown_title, n.shown_body) == ("旧通知标题", "旧正文")
    # A message whose catalogue entry no longer fits its parameters falls back too.
    n.message = {"title": [["%(x)s", {"y": 1}]]}
    with translation.override("en"):
        assert n.shown_title == "旧通知标题"


def test_a_message_renders_nested_labels_and_lists_in_the_readers_language(city):
    from gongzhi.appeals.models import Level

    (n,) = notes.notify([city.jumin], kind="progress",
                        title=Msg("您反映的诉求已转交%(level)s办理：%(number)s %(title)s", level=Level.STREET.label,
                                  number="A1", title="路灯不亮"),
                        body=Msg("召集的部门：%(orgs)s。", orgs=["甲局", "乙局"]))
    n.refresh_from_db()
    assert n.title == "您反映的诉求已转交街道办理：A1 路灯不亮" and n.body == "召集的部门：甲局、乙局。"
    with translation.override("en"):
        assert n.shown_title == "Your request has been passed up to the Street level: A1 路灯不亮"
        assert n.shown_body == "Departments summoned: 甲局, 乙局."


def a_time():
    from django.utils import timezone

    return timezone.now()
