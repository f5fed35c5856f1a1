"""Matching proposals and confirmation: scope, feasibility, reasons, fair load, the JSON API and its refusals.

Uses the lists `city` fixture (北宁社区 with staff, a resident, two party members and a unit) and adds
resources: 供电局's repair service (capacity 2, next to the needs), 张党员's goods (capacity 1), a generic
volunteer team, a legal clinic of 兴宁物业 serving only 兴宁社区.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from gongzhi.core.errors import PermissionDenied, ValidationFailed
from gongzhi.core.models import AuditEntry
from gongzhi.lists import matching_service as ms
from gongzhi.lists import services
from gongzhi.lists.models import Need, Project, Resource
from gongzhi.org.models import Organization, OrgKind
from gongzhi.volunteering.models import Team
from tests.factories import user
from tests.lists.conftest import bearer, soon, wish

pytestmark = pytest.mark.django_db

NEAR = (108.3225, 22.8225)


def need(city, title, skill, *, actor=None, urgency="normal", due=7, **kw):
    return services.need_create(actor=actor or city.jumin, title=title, skill=skill, due_on=soon(due),
                                place=city.bn, urgency=urgency, lon=NEAR[0], lat=NEAR[1], **kw)


def resource(title, skill, places, *, capacity=1, lon=NEAR[0] + 0.003, lat=NEAR[1], **owner_and_fields):
    root = get_user_model().objects.filter(is_superuser=True).first() or get_user_model().objects.create_superuser(
        "root", password="x")
    return services.resource_create(actor=root, title=title, skill=skill, places=places, capacity=capacity,
                                    lon=lon, lat=lat, **owner_and_fields)


@pytest.fixture
def m(city):
    team = Team.objects.create(name="红扳手志愿服务队", community=city.bn, leader=city.member2)
    repair = resource("上门维修家电", "repair", [city.bn], capacity=2, organization=city.unit)
    goods = resource("爱心书包", "goods", [city.bn], person=city.member, lon=NEAR[0] + 0.01)
    generic = resource("社区志愿服务", "other", [city.bn], capacity=3, team=team, lon=NEAR[0] + 0.02)
    legal = resource("法律咨询", "legal", [city.xn], organization=city.other_unit)
    return SimpleNamespace(city=city, team=team, repair=repair, goods=goods, generic=generic, legal=legal)


def by_number(proposal):
    return {p.need.number: p for p in proposal.pairs}, {u.need.number: u for u in proposal.unmatched}


def test_each_need_gets_a_feasible_taker_with_its_reason(m):
    c = m.city
    w = wish(c)  # goods → 张党员's schoolbag
    fix = need(c, "楼道灯坏了", "repair")
    old = need(c, "陪老人去医院", "elderly")  # no elderly resource: the generic team may take it
    p = ms.matching_propose(actor=c.cw, place=c.bn)
    pairs, unmatched = by_number(p)
    assert not unmatched
    assert pairs[w.number].resource == m.goods
    assert pairs[fix.number].resource == m.repair
    assert pairs[old.number].resource == m.generic
    reason = pairs[fix.number].reason
    assert reason.startswith("技能匹配：维修；服务范围含北宁社区；距离 ")
    assert reason.endswith("米；该单位当前 0 项在办")
    assert 250 <= pairs[fix.number].distance_m <= 350
    assert pairs[old.number].reason.startswith("通用志愿服务可承接：助老")
    assert "该服务队当前 0 项在办" in pairs[old.number].reason
    assert "该党员当前 0 项在办" in pairs[w.number].reason
    assert p.stats["matched"] == 3 and p.stats["matched"] >= p.stats["greedy_matched"]


def test_needs_nobody_can_take_are_listed_with_why(m):
    c = m.city
    legal = need(c, "租房合同纠纷", "legal")  # the only legal clinic serves 兴宁社区
    medical = need(c, "上门量血压", "medical")  # nobody offers medical care
    late = need(c, "修水管", "repair", due=3)
    Resource.objects.filter(pk=m.repair.pk).update(available_from=soon(10))
    pairs, unmatched = by_number(ms.matching_propose(actor=c.cw, place=c.bn))
    assert not pairs
    assert (unmatched[legal.number].code, unmatched[legal.number].reason) == (
        "out_of_area", "服务范围外：同类资源均不覆盖该社区")
    assert (unmatched[medical.number].code, unmatched[medical.number].reason) == ("no_skill", "无匹配技能的资源")
    assert (unmatched[late.number].code, unmatched[late.number].reason) == (
        "unavailable", "资源在期望完成日期前不可用")


def test_a_full_resource_is_not_offered_and_urgent_needs_win_the_last_slot(m):
    c = m.city
    first = wish(c, title="想要一个台灯")
    services.need_dispatch(actor=c.cw, need=first, taker_person=c.member, resource=m.goods)
    pairs, unmatched = by_number(ms.matching_propose(actor=c.cw, place=c.bn, need_numbers=[wish(c).number]))
    assert [u.code for u in unmatched.values()] == ["full"]
    assert next(iter(unmatched.values())).reason == "资源容量已满"

    Resource.objects.filter(pk=m.repair.pk).update(capacity=1)
    normal = need(c, "修门锁", "repair", due=2)
    urgent = need(c, "电线冒火花", "repair", urgency="urgent", due=5)
    pairs, unmatched = by_number(ms.matching_propose(actor=c.cw, place=c.bn))
    assert pairs[urgent.number].resource == m.repair
    assert "紧急需求优先" in pairs[urgent.number].reason
    assert unmatched[normal.number].code == "outbid"


def test_fair_load_sends_work_to_the_less_busy_unit(m):
    c = m.city
    second = Organization.objects.create(kind=OrgKind.STATE_ENTERPRISE, name="兴宁区水利局", place=c.bn)
    # Slightly farther, but 供电局 already holds two open projects.
    other = resource("水电维修", "repair", [c.bn], capacity=2, organization=second, lon=NEAR[0] + 0.004)
    Resource.objects.filter(pk=m.repair.pk).update(capacity=5)
    for title in ("旧需求一", "旧需求二"):
        services.need_dispatch(actor=c.cw, need=need(c, title, "repair"), taker_organization=c.unit,
                               resource=m.repair)
    fresh = need(c, "修窗户", "repair")
    pairs, _ = by_number(ms.matching_propose(actor=c.cw, place=c.bn))
    assert pairs[fresh.number].resource == other
    assert pairs[fresh.number].alternatives[0].resource == m.repair


def test_scope_and_bad_input_are_refused(m):
    c = m.city
    w = wish(c)
    with pytest.raises(PermissionDenied):
        ms.matching_propose(actor=c.cw_xn, place=c.bn)
    with pytest.raises(PermissionDenied):
        ms.matching_propose(actor=c.dangyuan, place=c.bn)
    with pytest.raises(ValidationFailed) as exc:
        ms.matching_propose(actor=c.cw, place=c.bn, need_numbers=[w.number, "XQ19990101-0001"])
    assert exc.value.code == "needs_not_found" and exc.value.extra["needs"] == ["XQ19990101-0001"]
    with pytest.raises(ValidationFailed):
        ms.matching_propose(actor=c.cw, place=c.bn, need_numbers=[" "])
    # A street officer matches the whole street.
    so = user("so", ("street_officer", c.tree["street"]))
    assert [p.need.number for p in ms.matching_propose(actor=so, place=c.tree["street"]).pairs] == [w.number]


def test_confirm_dispatches_each_pair_and_reports_the_ones_taken_meanwhile(m):
    c = m.city
    w = wish(c)
    fix = need(c, "楼道灯坏了", "repair")
    proposal = ms.matching_propose(actor=c.cw, place=c.bn)
    # Meanwhile 赵党员 claims the wish himself.
    services.need_claim(actor=c.dangyuan2, need=Need.objects.get(pk=w.pk))
    pairs = [{"need_number": p.need.number, "resource_id": p.resource.pk, "version": p.need.version}
             for p in proposal.pairs]
    results = {r.need_number: r for r in ms.matching_confirm(actor=c.cw, pairs=pairs)}
    assert results[w.number].status == "conflict" and results[w.number].message == "该需求已被认领"
    assert results[fix.number].status == "dispatched"
    project = Project.objects.get(number=results[fix.number].project_number)
    assert (project.taker_organization, project.resource, project.state) == (c.unit, m.repair, "dispatched")
    assert Need.objects.get(pk=fix.pk).state == "dispatched"
    assert AuditEntry.objects.filter(action="need.dispatch", object_id=str(fix.pk)).count() == 1
    assert Project.objects.filter(needs=w).get().taker_person == c.member2  # still the claimer's


def test_confirm_refuses_an_edited_pair_no_proposal_could_hold(m):
    c = m.city
    w = wish(c)
    results = ms.matching_confirm(actor=c.cw, pairs=[{"need_number": w.number, "resource_id": m.repair.pk}])
    assert (results[0].status, results[0].code, results[0].message) == (
        "rejected", "skill_mismatch", "资源与需求技能不匹配。")
    assert Need.objects.get(pk=w.pk).state == "open" and not Project.objects.exists()
    for bad in ([], [{"need_number": w.number, "resource_id": 1}, {"need_number": w.number, "resource_id": 2}],
                [{"need_number": "", "resource_id": 1}]):
        with pytest.raises(ValidationFailed):
            ms.matching_confirm(actor=c.cw, pairs=bad)
    with pytest.raises(PermissionDenied):
        ms.matching_confirm(actor=c.jumin, pairs=[{"need_number": w.number, "resource_id": m.goods.pk}])
    out = ms.matching_confirm(actor=c.cw_xn, pairs=[{"need_number": w.number, "resource_id": m.goods.pk}])
    assert out[0].status == "rejected" and out[0].code == "need_not_found"


# ---- the JSON API ----

def post(path, body, who=None):
    return Client().post(path, body, content_type="application/json", **(who or {}))


def test_api_proposals_and_confirm(m):
    c = m.city
    w = wish(c)
    need(c, "上门量血压", "medical")
    r = post("/api/v1/matching/proposals", {"place_code": c.bn.code}, bearer(c.cw))
    assert r.status_code == 200, r.content
    body = r.json()
    assert [p["need"]["number"] for p in body["pairs"]] == [w.number]
    pair = body["pairs"][0]
    assert pair["resource"]["id"] == m.goods.pk
    assert pair["taker"] == {"kind": "person", "id": c.member.pk, "name": "张**"}
    assert pair["reason"].startswith("技能匹配：物资；服务范围含北宁社区")
    assert body["unmatched"][0]["reason"] == "无匹配技能的资源"
    assert body["stats"]["matched"] == 1 and body["stats"]["needs"] == 2

    r = post("/api/v1/matching/confirm", {"pairs": [
        {"need_number": w.number, "resource_id": m.goods.pk, "version": pair["need"]["version"]}]}, bearer(c.cw))
    assert r.status_code == 200
    assert r.json()["dispatched"] == 1 and r.json()["results"][0]["status"] == "dispatched"
    again = post("/api/v1/matching/confirm", {"pairs": [{"need_number": w.number, "resource_id": m.goods.pk}]},
                 bearer(c.cw)).json()
    assert again["conflicts"] == 1 and again["results"][0]["http_status"] == 409, again


def test_api_refusals(m):
    c = m.city
    assert post("/api/v1/matching/proposals", {"place_id": c.bn.pk}).status_code == 401
    r = post("/api/v1/matching/proposals", {"place_id": c.bn.pk}, bearer(c.jumin))
    assert r.status_code == 403 and r.json()["error"]["message"] == "您没有权限执行此操作。"
    assert post("/api/v1/matching/proposals", {"place_id": c.bn.pk}, bearer(c.cw_xn)).status_code == 403
    r = post("/api/v1/matching/proposals", {}, bearer(c.cw))
    assert r.status_code == 400 and r.json()["error"]["message"] == "请指定要匹配的社区或街道。"
    assert post("/api/v1/matching/proposals", {"place_id": 999999}, bearer(c.cw)).status_code == 404
    r = post("/api/v1/matching/proposals", {"place_id": c.bn.pk, "needs": ["NOPE"]}, bearer(c.cw))
    assert r.status_code == 400 and r.json()["error"]["code"] == "needs_not_found"
    r = post("/api/v1/matching/confirm", {"pairs": []}, bearer(c.cw))
    assert r.status_code == 400 and r.json()["error"]["message"] == "请至少选择一个匹配对。"
    assert post("/api/v1/matching/confirm", {"pairs": [{"need_number": 1}]}, bearer(c.cw)).status_code == 400
    assert post("/api/v1/matching/confirm", {"pairs": [{"need_number": "x", "resource_id": 1}]},
                bearer(c.jumin)).status_code == 403


def test_due_dates_in_the_past_still_match(m):
    # An overdue need stays matchable (it is the most pressing); the cost of days-to-due floors at 0.
    c = m.city
    w = wish(c)
    Need.objects.filter(pk=w.pk).update(due_on=timezone.localdate() - dt.timedelta(days=3))
    pairs, _ = by_number(ms.matching_propose(actor=c.cw, place=c.bn))
    assert pairs[w.number].resource == m.goods


def test_chosen_needs_only_and_a_taken_one_is_listed_as_not_open(m):
    c = m.city
    w, fix, other = wish(c), need(c, "楼道灯坏了", "repair"), need(c, "修门锁", "repair")
    services.need_dispatch(actor=c.cw, need=fix, taker_organization=c.unit, resource=m.repair)
    pairs, unmatched = by_number(ms.matching_propose(actor=c.cw, place=c.bn, need_numbers=[w.number, fix.number]))
    assert list(pairs) == [w.number] and other.number not in unmatched
    assert (unmatched[fix.number].code, unmatched[fix.number].reason) == ("not_open", "需求当前状态为“已派单”，不能派单")
