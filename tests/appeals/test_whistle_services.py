"""The whistle (吹哨) and work orders through the services: the loop, deadlines, scopes, refusals."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gongzhi.appeals import selectors, services
from gongzhi.appeals.models import Appeal, AppealEvent, AppealPhoto, Category, WhistleSummons, WorkOrder
from gongzhi.appeals.permissions import allowed_actions, can_view
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.models import AuditEntry
from tests.appeals.conftest import JPEG, NOT_AN_IMAGE, PNG, at_street, submit, whistle

pytestmark = pytest.mark.django_db


def _orders(appeal):
    return {wo.assignee.name: wo for wo in WhistleSummons.objects.filter(appeal=appeal).select_related("assignee")}


def test_whistle_two_departments_both_report_and_resolve_then_the_appeal_resolves(city, depts):
    a = at_street(city)
    assert "whistle" in allowed_actions(city.so, a)
    a = whistle(city, a, depts.cg, depts.sj, note="占道烧烤兼食品安全问题，请两部门联合处置")
    assert (a.state, a.owner, a.owner_level) == ("dispatched", city.so, "street")
    orders = _orders(a)
    cg, sj = orders["兴宁区城市管理局"], orders["兴宁区市场监督管理局"]
    assert cg.state == sj.state == "summoned" and cg.whistle == sj.whistle
    assert cg.whistle.blown_by == city.so and cg.whistle.note.startswith("占道烧烤")
    assert a.step_due == min(cg.report_due, sj.report_due)

    cg = services.summons_report(actor=depts.h_cg, work_order=cg, version=cg.version)
    sj = services.summons_report(actor=depts.h_sj, work_order=sj.pk, version=1)
    assert (cg.state, cg.reported_by, sj.state) == ("reported", depts.h_cg, "reported")
    assert cg.step_due == cg.resolve_due
    cg = services.summons_resolve(actor=depts.h_cg, work_order=cg, note="已取缔占道烧烤摊", version=cg.version)
    a.refresh_from_db()
    assert (cg.state, a.state) == ("resolved", "dispatched")  # one of two: still dispatched
    assert a.step_due == sj.resolve_due
    sj = services.summons_resolve(actor=depts.h_sj, work_order=sj, note="已查处无证经营", version=sj.version)
    a.refresh_from_db()
    assert (sj.state, a.state, a.version) == ("resolved", "resolved", 6)
    assert a.resolved_at is not None and a.step_due is None

    events = list(a.events.values_list("action", "from_state", "to_state"))
    assert events[-6:] == [
        ("whistle", "escalated", "dispatched"),
        ("summons_report", "dispatched", "dispatched"),
        ("summons_report", "dispatched", "dispatched"),
        ("summons_resolve", "dispatched", "dispatched"),
        ("summons_resolve", "dispatched", "dispatched"),
        ("orders_resolved", "dispatched", "resolved"),
    ]
    last = a.events.order_by("-id").first()
    assert last.actor is None and last.data["work_orders"] == 2
    audited = list(AuditEntry.objects.filter(action__startswith="workorder.").values_list("action", flat=True))
    assert audited == ["workorder.report", "workorder.report", "workorder.resolve", "workorder.resolve"]
    assert AuditEntry.objects.filter(action="appeal.whistle", object_id=str(a.pk)).count() == 1
    assert AuditEntry.objects.filter(action="appeal.orders_resolved", actor__isnull=True).count() == 1

    # The rest of the loop is unchanged: the reporter rates.
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=True, satisfaction="satisfied", version=a.version)
    assert a.state == "rated"


def test_work_order_is_the_glossary_alias():
    assert WorkOrder is WhistleSummons


def test_deadlines_default_from_the_category_and_can_be_set_per_summons(city, depts):
    Category.objects.filter(code="noise").update(normal_respond_hours=6, normal_resolve_hours=48)
    a = at_street(city)
    report = (timezone.now() + dt.timedelta(hours=3)).replace(microsecond=0)
    local = timezone.localtime(report + dt.timedelta(hours=30)).replace(tzinfo=None)  # naive: Asia/Shanghai
    before = timezone.now()
    a = services.whistle_blow(actor=city.so, appeal=a, summons=[
        {"organization_id": depts.cg.pk},
        {"organization_id": str(depts.sj.pk), "report_due": report.isoformat(), "resolve_due": local.isoformat()},
    ])
    orders = _orders(a)
    cg, sj = orders["兴宁区城市管理局"], orders["兴宁区市场监督管理局"]
    assert before + dt.timedelta(hours=6) <= cg.report_due <= timezone.now() + dt.timedelta(hours=6)
    assert cg.resolve_due - cg.report_due == dt.timedelta(hours=42)
    assert sj.report_due == report
    assert sj.resolve_due == report + dt.timedelta(hours=30)


@pytest.mark.parametrize("field,delta,code", [
    ("report_due", dt.timedelta(minutes=-1), "deadline_past"),
    ("resolve_due", dt.timedelta(days=-1), "deadline_past"),
    ("report_due", "not a time", "bad_deadline"),
    ("report_due", dt.timedelta(days=10), "resolve_before_report"),  # later than the default resolve (7 days)
])
def test_deadlines_in_the_past_or_out_of_order_are_refused_and_change_nothing(city, depts, field, delta, code):
    a = at_street(city)
    value = delta if isinstance(delta, str) else (timezone.now() + delta).isoformat()
    with pytest.raises(ValidationFailed) as exc:
        services.whistle_blow(actor=city.so, appeal=a, summons=[{"organization_id": depts.cg.pk, field: value}])
    assert exc.value.code == code and "兴宁区城市管理局" in str(exc.value.message)
    a.refresh_from_db()
    assert (a.state, a.version) == ("escalated", 4) and not WhistleSummons.objects.exists()


@pytest.mark.parametrize("summons,code", [
    ([], "summons_required"),
    (["far"], "bad_organization"),  # another district's department
    (["committee"], "bad_organization"),  # a party committee is not summoned by whistle
    (["cg", "cg"], "duplicate_organization"),
    ([None], "bad_organization"),
])
def test_only_departments_and_member_units_of_the_district_once_each(city, depts, summons, code):
    a = at_street(city)
    items = [{"organization_id": getattr(depts, k).pk if k else "x"} for k in summons]
    with pytest.raises(ValidationFailed) as exc:
        services.whistle_blow(actor=city.so, appeal=a, summons=items)
    assert exc.value.code == code
    assert not WhistleSummons.objects.exists()


def test_member_units_and_departments_are_offered_by_district(city, depts):
    a = at_street(city)
    names = {o.name for o in selectors.summonable_organizations(a)}
    assert names == {"兴宁区城市管理局", "城管执法中队", "兴宁区市场监督管理局", "南宁供电局兴宁供电分局"}


def test_non_street_roles_cannot_whistle(city, depts):
    a = at_street(city)
    for who in (city.cw, city.gw1, city.admin, city.auditor):
        with pytest.raises(PermissionDenied):
            services.whistle_blow(actor=who, appeal=a, summons=[{"organization_id": depts.cg.pk}])
    with pytest.raises(NotFound):  # a department cannot even see an appeal it was not summoned to
        services.whistle_blow(actor=depts.h_cg, appeal=a, summons=[{"organization_id": depts.cg.pk}])
    # A street officer cannot whistle an appeal still at community level: 409 with the reason.
    b = submit(city.jumin)
    b = services.appeal_hand_on(actor=city.gw1, appeal=b, reason="需社区协调")
    with pytest.raises(Conflict) as exc:
        whistle(city, b, depts.cg)
    assert "街道层级" in str(exc.value.message)
    assert not WhistleSummons.objects.exists()


def test_whistle_again_while_dispatched_adds_one_more_organisation(city, depts):
    a = whistle(city, at_street(city, accept=True), depts.cg)
    with pytest.raises(ValidationFailed) as exc:  # 城管局 already has an open work order on it
        whistle(city, a, depts.cg)
    assert exc.value.code == "already_summoned"
    a = whistle(city, a, depts.unit)
    assert a.state == "dispatched" and a.whistles.count() == 2
    cg, unit = _orders(a)["兴宁区城市管理局"], _orders(a)["南宁供电局兴宁供电分局"]
    cg = services.summons_report(actor=depts.h_cg, work_order=cg)
    services.summons_resolve(actor=depts.h_cg, work_order=cg, note="已处理")
    a.refresh_from_db()
    assert a.state == "dispatched"  # the unit has not finished
    unit = services.summons_report(actor=depts.liaison, work_order=unit)  # a unit liaison reports for its unit
    services.summons_resolve(actor=depts.liaison, work_order=unit, note="已检修线路")
    a.refresh_from_db()
    assert a.state == "resolved"


def test_a_department_outside_the_summons_gets_404(city, depts):
    a = whistle(city, at_street(city), depts.cg)
    wo = a.work_orders.get()
    for outsider in (depts.h_sj, depts.h_far, depts.liaison, city.linju):
        with pytest.raises(NotFound):
            services.summons_report(actor=outsider, work_order=wo)
        with pytest.raises(NotFound):
            selectors.work_order_get_for(outsider, wo.pk)
        with pytest.raises(NotFound):
            selectors.appeal_get_for(outsider, a.number)
    wo.refresh_from_db()
    assert (wo.state, wo.version) == ("summoned", 1)


def test_a_summoned_department_sees_the_appeal_not_the_other_departments_work_order(city, depts):
    a = whistle(city, at_street(city), depts.cg, depts.sj)
    orders = _orders(a)
    assert can_view(depts.h_sj, a) and selectors.appeals_visible_to(depts.h_sj).filter(pk=a.pk).exists()
    assert allowed_actions(depts.h_sj, a) == []
    with pytest.raises(NotFound):
        selectors.work_order_get_for(depts.h_sj, orders["兴宁区城市管理局"].pk)
    assert selectors.work_order_get_for(depts.h_sj, orders["兴宁区市场监督管理局"].pk)
    # Street staff see both; another street's or district's people see neither.
    assert selectors.work_order_get_for(city.so, orders["兴宁区城市管理局"].pk)
    assert set(selectors.work_orders_visible_to(city.admin)) == set(orders.values())
    assert not selectors.work_orders_visible_to(city.cw_x).exists()


def test_a_handler_of_a_department_covers_the_units_below_it(city, depts):
    a = whistle(city, at_street(city), depts.squad)
    wo = a.work_orders.get()
    assert [w.pk for w in selectors.work_order_inbox(depts.h_cg)] == [wo.pk]
    assert [w.pk for w in selectors.work_order_inbox(depts.h_squad)] == [wo.pk]
    assert services.summons_report(actor=depts.h_cg, work_order=wo).state == "reported"
    with pytest.raises(NotFound):  # the squad's handler does not reach up to its department's orders
        services.summons_report(actor=depts.h_squad, work_order=whistle(city, a, depts.cg).work_orders.get(
            assignee=depts.cg))


def test_every_work_order_returned_sends_the_appeal_back_to_the_street(city, depts):
    a = whistle(city, at_street(city), depts.cg, depts.sj)
    orders = _orders(a)
    services.summons_return(actor=depts.h_cg, work_order=orders["兴宁区城市管理局"], reason="属于市场监管职责")
    a.refresh_from_db()
    assert a.state == "dispatched"
    services.summons_return(actor=depts.h_sj, work_order=orders["兴宁区市场监督管理局"], reason="属于城管职责")
    a.refresh_from_db()
    assert (a.state, a.owner_level, a.owner) == ("accepted", "street", city.so)
    assert a.step_due == a.resolve_due
    last = a.events.order_by("-id").first()
    assert (last.action, last.from_state, last.to_state) == ("back_to_street", "dispatched", "accepted")
    # The street can whistle again (or resolve it itself).
    assert set(allowed_actions(city.so, a)) >= {"whistle", "resolve"}
    a = whistle(city, a, depts.cg)
    assert a.state == "dispatched"


def test_return_needs_a_reason_and_only_before_reporting(city, depts):
    a = whistle(city, at_street(city), depts.cg)
    wo = a.work_orders.get()
    with pytest.raises(ValidationFailed) as exc:
        services.summons_return(actor=depts.h_cg, work_order=wo, reason=" ")
    assert exc.value.code == "required"
    wo = services.summons_report(actor=depts.h_cg, work_order=wo)
    with pytest.raises(Conflict) as exc:
        services.summons_return(actor=depts.h_cg, work_order=wo, reason="不是我们的")
    assert exc.value.extra["allowed_actions"] == ["resolve"]


def test_one_returned_and_one_resolved_resolves_the_appeal(city, depts):
    a = whistle(city, at_street(city), depts.cg, depts.sj)
    orders = _orders(a)
    cg = services.summons_report(actor=depts.h_cg, work_order=orders["兴宁区城市管理局"])
    services.summons_resolve(actor=depts.h_cg, work_order=cg, note="已处理")
    a.refresh_from_db()
    assert a.state == "dispatched"
    services.summons_return(actor=depts.h_sj, work_order=orders["兴宁区市场监督管理局"], reason="无食品经营问题")
    a.refresh_from_db()
    assert a.state == "resolved"


def test_the_street_cancels_a_summons(city, depts):
    a = whistle(city, at_street(city), depts.cg, depts.sj)
    orders = _orders(a)
    with pytest.raises(PermissionDenied):  # a department cannot cancel
        services.summons_cancel(actor=depts.h_cg, work_order=orders["兴宁区城市管理局"], reason="x")
    cg = services.summons_report(actor=depts.h_cg, work_order=orders["兴宁区城市管理局"])
    services.summons_resolve(actor=depts.h_cg, work_order=cg, note="已处理")
    sj = services.summons_cancel(actor=city.so, work_order=orders["兴宁区市场监督管理局"], reason="城管已一并处理")
    assert (sj.state, sj.reason, sj.closed_by) == ("cancelled", "城管已一并处理", city.so)
    a.refresh_from_db()
    assert a.state == "resolved"  # what is left is all resolved
    with pytest.raises(Conflict):
        services.summons_report(actor=depts.h_sj, work_order=sj)


def test_rating_only_after_resolution_only_once_only_by_the_street(city, depts):
    a = whistle(city, at_street(city), depts.cg)
    wo = a.work_orders.get()
    with pytest.raises(Conflict) as exc:  # not resolved yet
        services.summons_rate(actor=city.so, work_order=wo, speed=5, result=5)
    assert exc.value.code == "transition_not_allowed" and exc.value.extra["allowed_actions"] == ["cancel"]
    wo = services.summons_report(actor=depts.h_cg, work_order=wo)
    wo = services.summons_resolve(actor=depts.h_cg, work_order=wo, note="已处理")
    for who, error in ((depts.h_cg, PermissionDenied), (city.cw, PermissionDenied), (city.jumin, NotFound),
                       (depts.h_sj, NotFound)):
        with pytest.raises(error):
            services.summons_rate(actor=who, work_order=wo, speed=5, result=5)
    for speed, result in ((0, 5), (5, 6), ("", 3), ("很好", 3), (True, 3)):
        with pytest.raises(ValidationFailed) as exc:
            services.summons_rate(actor=city.so, work_order=wo, speed=speed, result=result)
        assert exc.value.code == "bad_rating"
    wo = services.summons_rate(actor=city.so, work_order=wo, speed="4", result=5, comment="响应及时",
                               version=wo.version)
    assert (wo.rating_speed, wo.rating_result, wo.rating_comment, wo.rated_by) == (4, 5, "响应及时", city.so)
    with pytest.raises(Conflict) as exc:
        services.summons_rate(actor=city.so, work_order=wo, speed=1, result=1)
    assert "只能评价一次" in str(exc.value.message)
    wo.refresh_from_db()
    assert (wo.rating_speed, wo.rating_result) == (4, 5)
    assert a.events.filter(action="summons_rate").count() == 1


def test_a_reopened_dispatched_appeal_goes_back_to_the_street_which_can_whistle_again(city, depts):
    a = whistle(city, at_street(city), depts.cg)
    wo = services.summons_report(actor=depts.h_cg, work_order=a.work_orders.get())
    services.summons_resolve(actor=depts.h_cg, work_order=wo, note="已处理")
    a.refresh_from_db()
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=False, satisfaction="unsatisfied",
                             comment="烧烤摊又回来了")
    assert (a.state, a.owner, a.owner_level) == ("reopened", city.so, "street")
    assert "whistle" in allowed_actions(city.so, a)
    # A new round: the old resolved work order does not count toward it.
    a = whistle(city, a, depts.cg, depts.sj)
    assert a.state == "dispatched"
    new = {w.assignee.name: w for w in a.work_orders.filter(round=1).select_related("assignee")}
    services.summons_return(actor=depts.h_cg, work_order=new["兴宁区城市管理局"], reason="已交执法中队")
    services.summons_return(actor=depts.h_sj, work_order=new["兴宁区市场监督管理局"], reason="无证照问题")
    a.refresh_from_db()
    assert a.state == "accepted"  # back to the street, not "resolved" by the old round's result


def test_result_photos_are_checked_by_their_bytes_and_belong_to_the_work_order(city, depts):
    a = whistle(city, at_street(city, photos=[SimpleUploadedFile("a.jpg", JPEG, "image/jpeg")] * 8), depts.cg)
    wo = services.summons_report(actor=depts.h_cg, work_order=a.work_orders.get())
    with pytest.raises(ValidationFailed) as exc:
        services.summons_resolve(actor=depts.h_cg, work_order=wo, note="已处理",
                                 photos=[SimpleUploadedFile("x.jpg", NOT_AN_IMAGE, "image/jpeg")])
    assert exc.value.code == "photo_type"
    with pytest.raises(ValidationFailed) as exc:
        services.summons_resolve(actor=depts.h_cg, work_order=wo, note="已处理",
                                 photos=[SimpleUploadedFile("p.png", PNG, "image/png")] * 10)
    assert exc.value.code == "too_many_photos"
    wo.refresh_from_db()
    assert wo.state == "reported" and not AppealPhoto.objects.filter(work_order=wo).exists()
    # Nine result photos fit although the appeal already has eight of its own.
    wo = services.summons_resolve(actor=depts.h_cg, work_order=wo, note="已处理",
                                  photos=[SimpleUploadedFile("p.png", PNG, "image/png")] * 9)
    photos = AppealPhoto.objects.filter(work_order=wo)
    assert photos.count() == 9 and {p.event.action for p in photos} == {"summons_resolve"}
    assert all(p.appeal_id == a.pk for p in photos)


def test_a_stale_work_order_version_is_409_and_changes_nothing(city, depts):
    a = whistle(city, at_street(city), depts.cg)
    wo = a.work_orders.get()
    services.summons_report(actor=depts.h_cg2, work_order=wo, version=1)
    with pytest.raises(Conflict) as exc:
        services.summons_report(actor=depts.h_cg, work_order=wo, version=1)
    assert exc.value.code == "stale" and str(exc.value.message) == "该工单已被他人处理，请刷新后查看。"
    assert exc.value.extra["allowed_actions"] == ["resolve"]
    wo.refresh_from_db()
    assert (wo.reported_by, wo.version) == (depts.h_cg2, 2)
    assert AppealEvent.objects.filter(appeal=a, action="summons_report").count() == 1


def test_the_inbox_lists_my_open_work_orders_due_soonest_first(city, depts):
    soon = whistle(city, at_street(city), depts.cg)
    later = whistle(city, at_street(city), depts.cg, depts.sj)
    WhistleSummons.objects.filter(appeal=soon).update(step_due=timezone.now() + dt.timedelta(hours=1))
    done = whistle(city, at_street(city), depts.cg)
    wo = services.summons_report(actor=depts.h_cg, work_order=done.work_orders.get())
    services.summons_resolve(actor=depts.h_cg, work_order=wo, note="已处理")
    mine = list(selectors.work_order_inbox(depts.h_cg))
    assert [w.appeal_id for w in mine] == [soon.pk, later.pk]
    assert len(list(selectors.work_order_inbox(depts.h_cg, "all"))) == 3
    assert [w.appeal_id for w in selectors.work_order_inbox(depts.h_sj)] == [later.pk]
    assert list(selectors.work_order_inbox(depts.h_far)) == []
    with pytest.raises(ValidationFailed):
        selectors.work_order_inbox(depts.h_cg, "bogus")


def test_appeal_step_due_follows_the_most_urgent_pending_work_order(city, depts):
    a = whistle(city, at_street(city), depts.cg, depts.sj)
    orders = _orders(a)
    cg = services.summons_report(actor=depts.h_cg, work_order=orders["兴宁区城市管理局"])
    a.refresh_from_db()
    assert a.step_due == min(cg.resolve_due, orders["兴宁区市场监督管理局"].report_due)
    assert Appeal.objects.get(pk=a.pk).version == a.version  # a moved deadline is not a transition
