"""Who is told of what: assignment, deadlines, results and ratings reach the right people and nobody
else, never name anyone but the recipient, and vanish with a transition that rolls back."""

import pytest

from gongzhi.appeals import services
from gongzhi.core import audit
from gongzhi.notifications.models import Notification
from tests.appeals.conftest import at_street, submit, whistle

pytestmark = pytest.mark.django_db


def inbox(u):
    return list(Notification.objects.filter(recipient=u).order_by("id").values_list("kind", "appeal_number"))


def kinds(u, appeal):
    return [k for k, number in inbox(u) if number == appeal.number]


def test_the_first_responder_is_told_of_a_new_appeal_and_nobody_else(city):
    a = submit(city.jumin)
    (n,) = Notification.objects.filter(appeal_number=a.number)
    assert (n.recipient, n.kind, n.link) == (city.gw1, "assigned", f"/appeals/{a.number}/")
    assert a.number in n.title and a.title in n.title
    assert n.email_state == "skipped"  # gw1 has no email address: in-app only


def test_hand_on_and_hand_back_tell_the_new_owner_not_the_actor(city):
    a = submit(city.jumin)
    a = services.appeal_hand_on(actor=city.gw1, appeal=a, reason="需社区协调")
    assert kinds(city.cw, a) == ["assigned"]
    assert kinds(city.gw1, a) == ["assigned"]  # from the submit only
    a = services.appeal_accept(actor=city.cw, appeal=a)
    assert kinds(city.cw, a) == ["assigned"]  # accepting makes nobody new the owner
    services.appeal_hand_back(actor=city.cw, appeal=a, reason="网格可处理")
    assert kinds(city.gw1, a) == ["assigned", "assigned"]
    assert kinds(city.so, a) == [] and kinds(city.gw2, a) == []
    # The reporter hears of the hand-on and the acceptance (steps), not of the hand-back (internal).
    assert kinds(city.jumin, a) == ["progress", "progress"]


def test_a_whistle_tells_each_handler_of_the_summoned_organisations(city, depts):
    a = whistle(city, at_street(city), depts.cg, depts.squad)
    for handler in (depts.h_cg, depts.h_cg2, depts.h_squad):
        rows = Notification.objects.filter(recipient=handler, appeal_number=a.number)
        assert [n.kind for n in rows] == ["assigned"], handler
    (n,) = Notification.objects.filter(recipient=depts.h_squad)
    wo = a.work_orders.get(assignee=depts.squad)
    assert (n.link, n.target) == (f"/appeals/workorders/{wo.pk}/", f"appeals.whistlesummons:{wo.pk}")
    assert depts.squad.name in n.body
    # The parent office hears of its unit's work order only through its own: one each, not two.
    assert Notification.objects.filter(recipient=depts.h_cg, appeal_number=a.number).count() == 1
    for outsider in (depts.h_sj, depts.liaison, depts.h_far):
        assert not Notification.objects.filter(recipient=outsider).exists()
    assert kinds(city.so, a)[-1:] == ["assigned"]  # from the street's hand-on, not from its own whistle
    assert len([k for k in kinds(city.so, a) if k == "assigned"]) == 1


def test_the_reporter_hears_the_result_and_the_owner_the_rating(city):
    a = services.appeal_accept(actor=city.gw1, appeal=submit(city.jumin))
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已协调店主限时营业")
    assert kinds(city.jumin, a) == ["progress", "result"]  # accepted, resolved
    services.appeal_rate(actor=city.jumin, appeal=a, resolved=False, satisfaction="unsatisfied", comment="还是很吵")
    assert kinds(city.gw1, a) == ["assigned", "rating"]
    n = Notification.objects.get(recipient=city.gw1, kind="rating")
    assert "不满意" in n.title and "重新办理" in n.body
    assert "张居民" not in n.title + n.body


def test_reject_and_merge_tell_the_reporter(city):
    a = submit(city.jumin)
    services.appeal_reject(actor=city.cw, appeal=a, reason="属于司法诉讼事项", redirect_to="兴宁区人民法院")
    n = Notification.objects.get(recipient=city.jumin, kind="result", appeal_number=a.number)
    assert "不予受理" in n.title and "兴宁区人民法院" in n.body
    b, target = submit(city.linju), submit(city.jumin)
    services.appeal_merge(actor=city.cw, appeal=b, into=target.number)
    n = Notification.objects.get(recipient=city.linju, kind="result", appeal_number=b.number)
    assert target.number in n.body


def test_the_street_rating_a_work_order_tells_the_department(city, depts):
    a = whistle(city, at_street(city), depts.sj)
    wo = services.summons_report(actor=depts.h_sj, work_order=a.work_orders.get())
    services.summons_resolve(actor=depts.h_sj, work_order=wo, note="已查处")
    # the appeal resolved with its last work order; the department's report was no result
    assert kinds(city.jumin, a)[-2:] == ["progress", "result"] and kinds(city.jumin, a).count("result") == 1
    services.summons_rate(actor=city.so, work_order=wo, speed=5, result=4)
    n = Notification.objects.get(recipient=depts.h_sj, kind="rating")
    assert "5" in n.body and "4" in n.body and n.link == f"/appeals/workorders/{wo.pk}/"
    assert not Notification.objects.filter(recipient=depts.h_cg, kind="rating").exists()


def test_no_notification_names_the_reporter_even_for_assisted_entry(city):
    a = submit(city.cw, source="hotline", reporter_name="赵大妈", reporter_phone="13812345678", consent_recorded=True)
    anon = submit(city.jumin, anonymous=True)
    services.appeal_hand_on(actor=city.gw1, appeal=anon, reason="需社区协调")
    texts = [n.title + n.body for n in Notification.objects.all()]
    assert texts and not any(word in t for t in texts for word in ("赵", "13812345678", "5678", "张居民", "jumin"))
    assert Notification.objects.filter(appeal_number=a.number).values_list("recipient", flat=True).get() == city.gw1.pk


def test_a_rolled_back_transition_leaves_no_notification(city, monkeypatch):
    a = submit(city.jumin)
    count, real = Notification.objects.count(), audit.record

    def failing_audit(actor, action, *args, **kwargs):
        # The hand-on has written its event (and so its notification); then the audit write fails.
        if action == "appeal.hand_on":
            raise RuntimeError("audit store is down")
        return real(actor, action, *args, **kwargs)

    monkeypatch.setattr(audit, "record", failing_audit)
    with pytest.raises(RuntimeError):
        services.appeal_hand_on(actor=city.gw1, appeal=a, reason="需社区协调")
    assert Notification.objects.count() == count
    a.refresh_from_db()
    assert (a.state, a.owner) == ("submitted", city.gw1)


def test_notifications_are_written_in_the_site_language_whatever_the_actors(city):
    from django.utils import translation

    with translation.override("en"):
        a = submit(city.jumin)
    n = Notification.objects.get(appeal_number=a.number)
    assert "新诉求待办" in n.title


def test_the_street_hears_each_organisations_progress_and_the_organisation_a_cancel(city, depts):
    a = whistle(city, at_street(city), depts.sj, depts.squad)
    sj_wo, squad_wo = a.work_orders.get(assignee=depts.sj), a.work_orders.get(assignee=depts.squad)
    before = len(kinds(city.so, a))
    sj_wo = services.summons_report(actor=depts.h_sj, work_order=sj_wo)
    services.summons_resolve(actor=depts.h_sj, work_order=sj_wo, note="已责令店家整改")
    services.summons_return(actor=depts.h_squad, work_order=squad_wo, reason="不属于本单位职责")
    got = Notification.objects.filter(recipient=city.so, appeal_number=a.number).order_by("id")[before:]
    assert [(n.kind, n.link) for n in got] == [
        ("progress", f"/appeals/workorders/{sj_wo.pk}/"), ("result", f"/appeals/workorders/{sj_wo.pk}/"),
        ("assigned", f"/appeals/workorders/{squad_wo.pk}/")]
    assert depts.sj.name in got[0].title and "已报到" in got[0].title
    assert "已责令店家整改" in got[1].body and "不属于本单位职责" in got[2].body
    # the actors themselves are not told of their own actions
    assert not Notification.objects.filter(recipient=depts.h_squad, title__contains="退回").exists()


def test_a_cancelled_work_order_tells_its_organisation(city, depts):
    a = whistle(city, at_street(city), depts.sj, depts.squad)
    wo = a.work_orders.get(assignee=depts.squad)
    services.summons_cancel(actor=city.so, work_order=wo, reason="已由市监局一并处理")
    n = Notification.objects.filter(recipient=depts.h_squad, appeal_number=a.number).order_by("-id").first()
    assert n.kind == "result" and "撤销" in n.title and "已由市监局一并处理" in n.body
