"""Appeal KPIs: counters after each kind of transition, rates, rebuild equality, scopes, the API and pages."""

import datetime as dt
import io

import pytest
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook

from gongzhi.appeals import hooks, kpi, services
from gongzhi.appeals.models import Appeal, AppealRollup, WhistleSummons
from gongzhi.core.errors import NotFound
from tests.appeals.conftest import IN_XINGNING, at_street, bearer, submit, whistle

pytestmark = pytest.mark.django_db

FAR_PAST, FAR_FUTURE = dt.date(2000, 1, 1), dt.date(2100, 1, 1)


def counts(obj) -> dict:
    """Every counter and rate of a place, grid or organisation, over all days."""
    node = kpi._node_of(obj)
    return kpi.with_rates(AppealRollup.objects.filter(node=node.key).aggregate(**kpi._SUMS))


def nonzero(obj) -> dict:
    return {k: v for k, v in counts(obj).items() if k in kpi.COUNTERS and v}


def late(appeal, field):
    """Put one of the appeal's deadlines in the past through the model (the clock is not frozen)."""
    Appeal.objects.filter(pk=appeal.pk).update(**{field: timezone.now() - dt.timedelta(hours=1)})


def snapshot() -> dict:
    fields = ["kind", "parent", "org_id", *kpi.COUNTERS]
    return {(r["node"], r["day"]): tuple(r[f] for f in fields)
            for r in AppealRollup.objects.values("node", "day", *fields)}


# ---- counters after each transition ----

def test_a_submission_counts_in_its_grids_and_every_place_above_on_its_day(city):
    a = submit(city.jumin)
    micro, area, top = a.grid, a.grid.parent, a.grid.parent.parent
    t = city.tree
    for obj in (micro, area, top, t["beining"], t["street"], t["district"], t["city"]):
        assert nonzero(obj) == {"submitted": 1}, obj
    assert nonzero(t["xingning"]) == {} and nonzero(city.micros[3]) == {}
    rows = {r.node: r for r in AppealRollup.objects.all()}
    day = timezone.localdate(a.submitted_at)
    assert len(rows) == 14  # a day row and a month row each
    assert {r.day for k, r in rows.items() if not k.startswith("month:")} == {day}
    assert {r.day for k, r in rows.items() if k.startswith("month:")} == {day.replace(day=1)}
    month = rows[kpi.month_key(kpi.place_key(t["beining"].path))]
    assert (month.kind, month.parent, month.submitted) == ("community", kpi.month_key(kpi.place_key(t["street"].path)), 1)
    assert rows[kpi.place_key(t["beining"].path)].kind == "community"
    assert rows[kpi.place_key(t["beining"].path)].parent == kpi.place_key(t["street"].path)
    assert rows[kpi.place_key(t["city"].path)].parent == ""
    assert rows[kpi.grid_key(top.path)].parent == kpi.place_key(t["beining"].path)
    assert rows[kpi.grid_key(micro.path)].parent == kpi.grid_key(area.path)


def test_an_accept_before_the_respond_deadline_is_on_time(city):
    a = submit(city.jumin)
    services.appeal_accept(actor=city.gw1, appeal=a)
    assert nonzero(city.tree["street"]) == {"submitted": 1, "accepted": 1, "accepted_on_time": 1}


def test_an_accept_after_the_respond_deadline_is_late(city):
    a = submit(city.jumin)
    late(a, "respond_due")
    services.appeal_accept(actor=city.gw1, appeal=a)
    c = counts(city.tree["beining"])
    assert (c["accepted"], c["accepted_on_time"], c["response_rate"], c["on_time_rate"]) == (1, 0, 1.0, 0.0)


def test_only_the_first_response_counts_and_hand_ons_and_hand_backs_are_counted(city):
    a = submit(city.jumin)
    a = services.appeal_hand_on(actor=city.gw1, appeal=a, reason="需社区协调")  # not a response
    assert counts(city.tree["beining"])["accepted"] == 0
    a = services.appeal_accept(actor=city.cw, appeal=a)
    a = services.appeal_hand_on(actor=city.cw, appeal=a, reason="需街道协调")
    a = services.appeal_accept(actor=city.so, appeal=a)  # a second accept: not a second response
    a = services.appeal_hand_back(actor=city.so, appeal=a, reason="社区可自行处理")
    assert nonzero(city.tree["street"]) == {"submitted": 1, "accepted": 1, "accepted_on_time": 1, "handed_on": 2,
                                            "bounces": 1}


def test_a_hand_back_can_be_the_first_response(city):
    a = submit(city.jumin)
    a = services.appeal_hand_on(actor=city.gw1, appeal=a, reason="需社区协调")
    late(a, "respond_due")
    services.appeal_hand_back(actor=city.cw, appeal=a, reason="请网格员先上门核实")
    c = counts(city.micros[0])
    assert (c["accepted"], c["accepted_on_time"], c["bounces"], c["handed_on"]) == (1, 0, 1, 1)


def test_resolve_rate_unsatisfied_reopen_redo_and_final_rating(city):
    a = submit(city.jumin)
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    late(a, "resolve_due")
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已劝导")  # late
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=False, satisfaction="unsatisfied")
    assert a.state == "reopened"
    a = services.appeal_accept(actor=city.gw1, appeal=a)  # already responded once
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已联系城管查处")  # the new deadline: on time
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=True, satisfaction="basic")
    a = services.appeal_close(actor=city.cw, appeal=a)
    # The appeal counts once among the rated, with its final rating (basic, resolved): the first,
    # unsatisfied rating is replaced, not added (issue 14: it counted 50 % before).
    assert nonzero(city.micros[0]) == {
        "submitted": 1, "accepted": 1, "accepted_on_time": 1, "resolved": 2, "resolved_on_time": 1, "rated": 1,
        "basically_satisfied": 1, "reporter_resolved": 1, "reopened": 1, "closed": 1}
    c = counts(city.tree["beining"])
    assert c["response_rate"] == 1.0
    assert c["on_time_rate"] == round(2 / 3, 4)  # (1 + 1) / (1 + 2)
    assert c["satisfaction_rate"] == 1.0 and c["resolution_rate"] == 1.0


def test_reject_and_merge_are_counted(city):
    a = submit(city.jumin)
    b = submit(city.linju)
    services.appeal_reject(actor=city.cw, appeal=a, reason="属于劳动仲裁事项", redirect_to="兴宁区劳动仲裁院 0771-1234567")
    c = submit(city.jumin, text="楼下烧烤店又营业到凌晨。")
    services.appeal_merge(actor=city.cw, appeal=c, into=b.number)
    assert nonzero(city.tree["beining"]) == {"submitted": 3, "rejected": 1, "merged": 1}


def test_the_sweeps_overdue_and_escalate_events_are_counted(city):
    a = submit(city.jumin)
    with transaction.atomic():  # the door the sweep writes through
        hooks.record_event(a, at=timezone.now(), actor=None, action="overdue", from_state=a.state,
                           to_state=a.state, data={"step": "respond"})
        hooks.record_event(a, at=timezone.now(), actor=None, action="escalate", from_state=a.state,
                           to_state="escalated", data={"from_level": "grid", "to_level": "community"})
    assert nonzero(city.tree["street"]) == {"submitted": 1, "overdue": 1, "escalated": 1}


def test_the_real_sweep_is_counted_and_rebuilt_alike(city, depts):
    later = timezone.now() + dt.timedelta(days=10)
    a = submit(city.jumin)
    assert services.appeal_escalate(appeal=a, now=later).escalated  # overdue warning, then up to the community
    c = whistle(city, at_street(city), depts.cg)
    wo = WhistleSummons.objects.get(appeal=c)
    assert services.work_order_warn(work_order=wo, action="overdue", now=later)
    g = services.appeal_accept(actor=city.gw1, appeal=submit(city.linju))
    services.appeal_resolve(actor=city.gw1, appeal=g, note="已处理")
    assert services.appeal_auto_close(appeal=g, now=later)
    assert nonzero(city.micros[0]) == {
        "submitted": 3, "accepted": 2, "accepted_on_time": 2, "handed_on": 2, "escalated": 1, "overdue": 2,
        "resolved": 1, "resolved_on_time": 1, "closed": 1}
    assert nonzero(depts.cg) == {"summoned": 1, "wo_overdue": 1}
    live = snapshot()
    AppealRollup.objects.all().delete()
    kpi.rebuild()
    assert snapshot() == live


def test_a_rolled_back_transition_leaves_no_count(city):
    a = submit(city.jumin)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.appeal_accept(actor=city.gw1, appeal=a)
        raise RuntimeError("roll back")
    assert nonzero(city.tree["beining"]) == {"submitted": 1}


def test_appeals_of_another_community_count_there(city):
    submit(city.jumin, point=IN_XINGNING)
    assert nonzero(city.tree["xingning"]) == {"submitted": 1}
    assert nonzero(city.tree["beining"]) == {}
    assert nonzero(city.tree["street"]) == {"submitted": 1}


# ---- the whistle and work orders ----

def _orders(appeal):
    return {wo.assignee_id: wo for wo in WhistleSummons.objects.filter(appeal=appeal)}


def test_whistle_work_orders_count_for_each_organisation_and_the_street(city, depts):
    a = at_street(city)
    a = whistle(city, a, depts.squad, depts.sj)
    orders = _orders(a)
    squad, sj = orders[depts.squad.pk], orders[depts.sj.pk]
    WhistleSummons.objects.filter(pk=sj.pk).update(report_due=timezone.now() - dt.timedelta(minutes=5))
    services.summons_report(actor=depts.h_squad, work_order=squad)
    services.summons_report(actor=depts.h_sj, work_order=sj)  # late
    services.summons_resolve(actor=depts.h_squad, work_order=squad, note="已取缔")
    services.summons_resolve(actor=depts.h_sj, work_order=sj, note="已查处")
    services.summons_rate(actor=city.so, work_order=squad, speed=5, result=4)
    a.refresh_from_db()
    assert a.state == "resolved"
    assert nonzero(depts.squad) == {"summoned": 1, "reported": 1, "reported_on_time": 1, "wo_resolved": 1,
                                    "wo_resolved_on_time": 1, "wo_rated": 1, "speed_sum": 5, "result_sum": 4}
    # The bureau above the squad counts its squad's work order too.
    assert nonzero(depts.cg) == nonzero(depts.squad)
    c = counts(depts.sj)
    assert (c["reported"], c["reported_on_time"], c["report_on_time_rate"], c["wo_resolve_rate"]) == (1, 0, 0.0, 1.0)
    assert counts(depts.squad)["speed_avg"] == 5.0
    # The appeal: first response by the community, resolved when both orders were (on time).
    street = nonzero(city.tree["street"])
    assert street == {"submitted": 1, "accepted": 1, "accepted_on_time": 1, "handed_on": 2, "resolved": 1,
                      "resolved_on_time": 1}
    # The street lists the departments it summoned.
    data = kpi.breakdown(city.so, city.tree["street"].code, FAR_PAST, FAR_PAST + dt.timedelta(days=1))
    assert data["departments"] == []
    today = timezone.localdate()
    data = kpi.breakdown(city.so, city.tree["street"].code, today, today)
    depts_out = {d["name"]: d for d in data["departments"]}
    assert set(depts_out) == {"城管执法中队", "兴宁区市场监督管理局"}
    assert depts_out["兴宁区市场监督管理局"]["reported_on_time"] == 0
    assert depts_out["城管执法中队"]["code"] == f"org:{depts.squad.pk}"


def test_returned_and_cancelled_work_orders_and_back_to_street(city, depts):
    a = at_street(city, accept=True)  # the street officer's accept is not a second response
    a = whistle(city, a, depts.cg, depts.sj)
    orders = _orders(a)
    services.summons_return(actor=depts.h_cg, work_order=orders[depts.cg.pk], reason="不属本局职责")
    services.summons_cancel(actor=city.so, work_order=orders[depts.sj.pk], reason="已由社区调解")
    a.refresh_from_db()
    assert a.state == "accepted"  # back to the street
    assert nonzero(depts.cg) == {"summoned": 1, "returned": 1}
    assert nonzero(depts.sj) == {"summoned": 1, "cancelled": 1}
    assert counts(city.tree["street"])["accepted"] == 1


def test_a_whistle_can_be_the_first_response(city, depts):
    a = submit(city.jumin)
    a = services.appeal_hand_on(actor=city.gw1, appeal=a, reason="需社区协调")
    # Escalated to the street without anyone taking it on (as the sweep's escalation leaves it).
    Appeal.objects.filter(pk=a.pk).update(owner=city.so, owner_level="street")
    a.refresh_from_db()
    whistle(city, a, depts.cg)
    c = counts(city.tree["street"])
    assert (c["accepted"], c["accepted_on_time"], c["handed_on"]) == (1, 1, 1)
    assert nonzero(depts.cg) == {"summoned": 1}


# ---- rebuild gives the live rows ----

def _mixed_history(city, depts):
    a = submit(city.jumin)
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已处理")
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=False, satisfaction="unsatisfied")
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    late(a, "resolve_due")  # the redo's deadline passes
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="再次处理")
    services.appeal_rate(actor=city.jumin, appeal=a, resolved=True, satisfaction="satisfied")
    g = services.appeal_accept(actor=city.gw1, appeal=submit(city.linju))
    late(g, "resolve_due")
    g = services.appeal_resolve(actor=city.gw1, appeal=g, note="已处理")
    services.appeal_close(actor=city.cw, appeal=services.appeal_rate(actor=city.linju, appeal=g, resolved=True,
                                                                     satisfaction="basic"))
    b = submit(city.linju)
    late(b, "respond_due")
    b = services.appeal_hand_on(actor=city.gw1, appeal=b, reason="需社区")
    b = services.appeal_hand_back(actor=city.cw, appeal=b, reason="网格可处理")
    services.appeal_reject(actor=city.cw, appeal=b, reason="不属受理范围", redirect_to="12345 热线")
    c = at_street(city)
    c = whistle(city, c, depts.squad, depts.sj, depts.unit)
    orders = _orders(c)
    services.summons_report(actor=depts.h_squad, work_order=orders[depts.squad.pk])
    services.summons_return(actor=depts.h_sj, work_order=orders[depts.sj.pk], reason="不属本局")
    services.summons_report(actor=depts.liaison, work_order=orders[depts.unit.pk])
    services.summons_resolve(actor=depts.h_squad, work_order=orders[depts.squad.pk], note="已办")
    services.summons_resolve(actor=depts.liaison, work_order=orders[depts.unit.pk], note="已修复")
    services.summons_rate(actor=city.so, work_order=orders[depts.unit.pk], speed=3, result=5)
    d = submit(city.jumin, point=IN_XINGNING)
    with transaction.atomic():
        hooks.record_event(d, at=timezone.now(), actor=None, action="overdue", from_state=d.state,
                           to_state=d.state, data={"step": "respond"})
        wo = orders[depts.squad.pk]
        hooks.record_event(c, at=timezone.now(), actor=None, action="overdue", from_state="resolved",
                           to_state="resolved", data={"step": "wo_resolve", "work_order": wo.pk}, work_order=wo)
    e = submit(city.linju)
    services.appeal_merge(actor=city.cw, appeal=e, into=submit(city.jumin).number)
    return a, b, c, d


def test_rebuild_gives_exactly_the_rows_the_live_hooks_kept(city, depts):
    _mixed_history(city, depts)
    live = snapshot()
    assert len(live) > 20
    AppealRollup.objects.all().delete()
    out = []
    totals = kpi.rebuild(progress=out.append)
    assert snapshot() == live
    assert totals["appeals"] == 7 and totals["work_orders"] == 3 and out
    # A date rebuilds its whole month and keeps the others.
    today = timezone.localdate()
    AppealRollup.objects.filter(day__gte=today.replace(day=1)).update(submitted=999)
    AppealRollup.objects.create(node="place:/old/", kind="city", day=dt.date(2020, 1, 1), submitted=5)
    kpi.rebuild(today, today)
    assert AppealRollup.objects.filter(node="place:/old/").exists()
    AppealRollup.objects.filter(node="place:/old/").delete()
    assert snapshot() == live


def test_rebuild_judges_a_reopened_appeals_first_result_by_its_categorys_hours(city):
    """The one thing the timeline does not keep: the resolve deadline a reopening replaced. Rebuild
    takes it as submitted_at + the category's resolve hours (what the submission set)."""
    a = services.appeal_accept(actor=city.gw1, appeal=submit(city.jumin))
    late(a, "resolve_due")  # moved by hand: no service does this
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已处理")
    services.appeal_rate(actor=city.jumin, appeal=a, resolved=False, satisfaction="unsatisfied")
    assert counts(city.micros[0])["resolved_on_time"] == 0
    kpi.rebuild()
    assert counts(city.micros[0])["resolved_on_time"] == 1


def test_the_rebuild_command_prints_progress(city, capsys):
    from django.core.management import call_command

    submit(city.jumin)
    live = snapshot()
    AppealRollup.objects.all().delete()
    call_command("kpi_rebuild")
    printed = capsys.readouterr().out
    assert "1 appeals" in printed and "kpi rollups rebuilt" in printed
    assert snapshot() == live


# ---- reading ----

def test_summary_and_breakdown_read_a_fixed_number_of_queries(city, depts, django_assert_max_num_queries):
    _mixed_history(city, depts)
    so = city.so
    kpi.default_nodes(so)  # roles loaded once per request
    so._gz_scopes = None
    with django_assert_max_num_queries(3):  # roles, the place, the sums
        kpi.summary(so, city.tree["street"].code)
    # the place, the sums, the children's and departments' sums, children, the appeals overdue now
    with django_assert_max_num_queries(5):
        data = kpi.breakdown(so, city.tree["street"].code)
    names = [c["name"] for c in data["children"]]
    assert names == ["兴宁社区", "北宁社区"]  # every community, by code, with or without appeals
    by_name = {c["name"]: c for c in data["children"]}
    assert by_name["北宁社区"]["submitted"] == 6 and by_name["兴宁社区"]["submitted"] == 1
    assert data["totals"]["submitted"] == 7
    assert {d["name"] for d in data["departments"]} == {"城管执法中队", "兴宁区市场监督管理局", "南宁供电局兴宁供电分局"}


def test_a_community_breaks_down_into_its_grids_and_a_grid_into_its_subgrids(city):
    submit(city.jumin)
    data = kpi.breakdown(city.cw, city.tree["beining"].code)
    assert [c["code"] for c in data["children"]] == [city.top.code]
    assert data["children"][0]["submitted"] == 1 and data["children"][0]["kind"] == "grid"
    area = city.micros[0].parent
    data = kpi.breakdown(city.cw, area.code)
    assert [c["code"] for c in data["children"]] == [city.micros[0].code, city.micros[1].code]
    assert [c["submitted"] for c in data["children"]] == [1, 0]


def test_a_department_sees_its_own_organisation_and_the_ones_below(city, depts):
    whistle(city, at_street(city), depts.squad)
    data = kpi.breakdown(depts.h_cg, f"org:{depts.cg.pk}")
    assert data["totals"]["summoned"] == 1
    assert [(c["name"], c["summoned"]) for c in data["children"]] == [("城管执法中队", 1)]
    with pytest.raises(NotFound):
        kpi.breakdown(depts.h_squad, f"org:{depts.cg.pk}")  # above their organisation
    with pytest.raises(NotFound):
        kpi.breakdown(depts.h_cg, city.tree["street"].code)


def test_scopes_reach_their_subtree_only_and_outside_is_the_same_404_as_missing(city):
    submit(city.jumin)
    t = city.tree
    assert kpi.summary(city.gw1, city.micros[0].code)["submitted"] == 1
    for actor, scope in ((city.gw1, t["beining"].code), (city.gw1, city.micros[1].code),
                         (city.cw_x, t["beining"].code), (city.cw, t["street"].code), (city.cw, "nope"),
                         (city.so, t["district"].code), (city.so, "org:999999")):
        with pytest.raises(NotFound) as exc:
            kpi.summary(actor, scope)
        assert exc.value.code == "kpi_scope_not_found", (actor, scope)
    assert kpi.summary(city.auditor, t["district"].code)["submitted"] == 1
    assert kpi.summary(city.admin, city.micros[0].code)["submitted"] == 1


def test_the_period_counts_by_submission_day(city):
    a = submit(city.jumin)
    today = timezone.localdate()
    assert kpi.summary(city.so, city.tree["street"].code, today, today)["submitted"] == 1
    yesterday = today - dt.timedelta(days=1)
    assert kpi.summary(city.so, city.tree["street"].code, yesterday, yesterday)["submitted"] == 0
    # A later step counts on the appeal's submission day.
    Appeal.objects.filter(pk=a.pk).update(submitted_at=a.submitted_at - dt.timedelta(days=3))
    a.refresh_from_db()
    services.appeal_accept(actor=city.gw1, appeal=a)
    three_ago = today - dt.timedelta(days=3)
    assert kpi.summary(city.so, city.tree["street"].code, three_ago, three_ago)["accepted"] == 1


def test_any_period_adds_whole_months_and_loose_days_right(city):
    """Appeals spread over three months (moved there, then rebuilt): every period counts exactly the
    appeals submitted in it, whether it starts or ends mid-month or covers whole months."""
    days = [dt.date(2025, 1, 1), dt.date(2025, 1, 31), dt.date(2025, 2, 1), dt.date(2025, 2, 14),
            dt.date(2025, 2, 28), dt.date(2025, 3, 1), dt.date(2025, 3, 31), dt.date(2025, 4, 1)]
    tz = timezone.get_current_timezone()
    for d in days:
        a = submit(city.jumin)
        Appeal.objects.filter(pk=a.pk).update(submitted_at=dt.datetime.combine(d, dt.time(23, 30), tzinfo=tz))
    kpi.rebuild(dt.date(2025, 1, 1), dt.date(2025, 4, 30))
    AppealRollup.objects.filter(day__gte=dt.date(2025, 5, 1)).delete()  # the rows of the real day
    street = city.tree["street"].code
    periods = [(dt.date(2025, 1, 1), dt.date(2025, 3, 31)), (dt.date(2025, 1, 2), dt.date(2025, 3, 31)),
               (dt.date(2025, 1, 31), dt.date(2025, 3, 1)), (dt.date(2025, 2, 1), dt.date(2025, 2, 28)),
               (dt.date(2025, 2, 2), dt.date(2025, 2, 27)), (dt.date(2024, 12, 31), dt.date(2025, 4, 1)),
               (dt.date(2025, 2, 14), dt.date(2025, 2, 14)), (dt.date(2025, 1, 15), dt.date(2025, 4, 15))]
    for start, end in periods:
        expected = sum(start <= d <= end for d in days)
        assert kpi.summary(city.so, street, start, end)["submitted"] == expected, (start, end)
        children = kpi.breakdown(city.so, street, start, end)["children"]
        assert sum(c["submitted"] for c in children) == expected, (start, end)


# ---- the list behind each number ----

def test_the_list_behind_a_number_adds_up_to_it(city):
    a = submit(city.jumin)
    services.appeal_accept(actor=city.gw1, appeal=a)
    b = submit(city.linju)
    late(b, "respond_due")
    services.appeal_accept(actor=city.gw1, appeal=b)
    submit(city.jumin, point=IN_XINGNING)
    street = city.tree["street"].code
    rows, cursor = kpi.appeals_behind(city.so, street, metric="accepted_on_time")
    assert [r.appeal.number for r in rows] == [a.number] and cursor is None
    rows, _c = kpi.appeals_behind(city.so, street, metric="submitted")
    assert len(rows) == 3 == kpi.summary(city.so, street)["submitted"]
    page1, cursor = kpi.appeals_behind(city.so, street, metric="submitted", limit=2)
    page2, end = kpi.appeals_behind(city.so, street, metric="submitted", limit=2, cursor=cursor)
    assert [r.appeal.pk for r in page1 + page2] == sorted(r.appeal.pk for r in rows) and end is None
    rows, _c = kpi.appeals_behind(city.cw, city.tree["beining"].code, metric="accepted")
    assert {r.appeal.number for r in rows} == {a.number, b.number}


def test_the_list_behind_a_resolution_count_counts_redos(city):
    a = submit(city.jumin)
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已处理")
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=False, satisfaction="unsatisfied")
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    services.appeal_resolve(actor=city.gw1, appeal=a, note="再次处理")
    rows, _c = kpi.appeals_behind(city.cw, city.tree["beining"].code, metric="resolved")
    assert [(r.appeal.number, r.count) for r in rows] == [(a.number, 2)]


def test_the_list_behind_a_departments_number(city, depts):
    a = whistle(city, at_street(city), depts.cg, depts.sj)
    orders = _orders(a)
    services.summons_report(actor=depts.h_cg, work_order=orders[depts.cg.pk])
    street = city.tree["street"].code
    rows, _c = kpi.appeals_behind(city.so, street, metric="summoned")
    assert sorted(r.work_order.assignee.name for r in rows) == ["兴宁区城市管理局", "兴宁区市场监督管理局"]
    rows, _c = kpi.appeals_behind(city.so, street, metric="summoned", org=f"org:{depts.sj.pk}")
    assert [r.work_order.assignee_id for r in rows] == [depts.sj.pk]
    rows, _c = kpi.appeals_behind(depts.h_cg, f"org:{depts.cg.pk}", metric="reported")
    assert [(r.appeal.number, r.count) for r in rows] == [(a.number, 1)]


# ---- the API ----

def test_the_api_gives_totals_rates_children_and_departments(client, city, depts):
    a = submit(city.jumin)
    services.appeal_accept(actor=city.gw1, appeal=a)
    r = client.get("/api/v1/kpis/appeals", {"scope": city.tree["street"].code}, **bearer(city.so))
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["scope"] == {"code": city.tree["street"].code, "name": "民生街道", "kind": "street"}
    today = timezone.localdate()
    assert (body["start"], body["end"]) == (today.replace(day=1).isoformat(), today.isoformat())
    assert body["totals"]["submitted"] == 1 and body["totals"]["response_rate"] == 1.0
    assert body["totals"]["satisfaction_rate"] is None
    assert [c["name"] for c in body["children"]] == ["兴宁社区", "北宁社区"]
    assert body["departments"] == []
    r = client.get("/api/v1/kpis/appeals/list", {"scope": city.tree["beining"].code, "metric": "accepted"},
                   **bearer(city.cw))
    assert r.status_code == 200
    items = r.json()["items"]
    assert [i["number"] for i in items] == [a.number] and items[0]["count"] == 1 and r.json()["next_cursor"] is None
    assert "reporter" not in items[0]


def test_the_api_costs_a_fixed_number_of_queries(client, city, depts, django_assert_max_num_queries):
    _mixed_history(city, depts)
    auth = bearer(city.so)
    params = {"scope": city.tree["street"].code}
    client.get("/api/v1/kpis/appeals", params, **auth)
    # the token with its user, the roles, the place, the totals, the children's sums, the children,
    # the appeals overdue now
    with django_assert_max_num_queries(7):
        r = client.get("/api/v1/kpis/appeals", params, **auth)
    assert r.status_code == 200 and r.json()["totals"]["submitted"] == 7


@pytest.mark.parametrize(("params", "code", "message"), [
    ({"start": "2025-13-01"}, "bad_date", "开始日期格式不正确：2025-13-01（应为 YYYY-MM-DD，例如 2025-06-30）。"),
    ({"start": "2025-06-30", "end": "2025-06-01"}, "end_before_start",
     "结束日期 2025-06-01 早于开始日期 2025-06-30，请重新选择。"),
    ({"start": "2024-01-01", "end": "2025-01-01"}, "period_too_long", "统计期间最长 366 天（现在 367 天），请缩短期间。"),
])
def test_the_api_refuses_bad_periods(client, city, params, code, message):
    r = client.get("/api/v1/kpis/appeals", {"scope": city.tree["street"].code, **params}, **bearer(city.so))
    assert r.status_code == 400
    assert r.json()["error"] == {"code": code, "message": message}
    r = client.get("/api/v1/kpis/appeals", {"scope": city.tree["street"].code, **params}, HTTP_ACCEPT_LANGUAGE="en",
                   **bearer(city.so))
    assert r.status_code == 400 and r.json()["error"]["code"] == code


def test_a_full_leap_year_is_allowed(client, city):
    r = client.get("/api/v1/kpis/appeals", {"scope": city.tree["street"].code, "start": "2024-01-01",
                                            "end": "2024-12-31"}, **bearer(city.so))
    assert r.status_code == 200 and r.json()["totals"]["submitted"] == 0


def test_the_api_refuses_an_unknown_metric(client, city):
    r = client.get("/api/v1/kpis/appeals/list", {"scope": city.tree["street"].code, "metric": "happiness"},
                   **bearer(city.so))
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "bad_metric" and err["message"].startswith("未知的统计指标：happiness。可选：submitted、")


def test_api_doors(client, city):
    street = city.tree["street"].code
    assert client.get("/api/v1/kpis/appeals", {"scope": street}).status_code == 401
    r = client.get("/api/v1/kpis/appeals", {"scope": street}, **bearer(city.jumin))
    assert r.status_code == 403 and r.json()["error"]["message"] == "您没有查看绩效统计的权限。"
    r = client.get("/api/v1/kpis/appeals", {"scope": street}, **bearer(city.cw))  # above their community
    assert r.status_code == 404 and r.json()["error"]["code"] == "kpi_scope_not_found"
    r2 = client.get("/api/v1/kpis/appeals", {"scope": "450199999999"}, **bearer(city.cw))  # missing
    assert r2.status_code == 404
    assert r.json()["error"]["message"].replace(street, "X") == r2.json()["error"]["message"].replace(
        "450199999999", "X")
    r = client.get("/api/v1/kpis/appeals/list", {"scope": street, "metric": "submitted"}, **bearer(city.cw_x))
    assert r.status_code == 404
    # No scope given: the user's own.
    r = client.get("/api/v1/kpis/appeals", **bearer(city.cw))
    assert r.status_code == 200 and r.json()["scope"]["code"] == city.tree["beining"].code


# ---- pages and Excel ----

def test_the_kpi_page_shows_rates_children_and_links_to_the_lists(client, city, depts):
    a = submit(city.jumin)
    services.appeal_accept(actor=city.gw1, appeal=a)
    whistle(city, at_street(city), depts.cg)
    client.force_login(city.so)
    r = client.get("/appeals/kpi/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "民生街道" in html and 'data-testid="rate-response_rate"' in html and "100.0%" in html
    assert 'data-testid="kpi-child"' in html and "北宁社区" in html and "兴宁区城市管理局" in html
    assert "/appeals/kpi/list/?scope=450102001000&amp;start=" in html and "metric=submitted" in html
    assert 'id="kpi-chart"' in html and "vendor/echarts/echarts.min.js" in html
    assert "最终评价为满意或基本满意的诉求 ÷ 已评价诉求" in html
    r = client.get("/appeals/kpi/list/", {"scope": city.tree["beining"].code, "metric": "submitted"})
    assert r.status_code == 200
    assert r.content.decode().count('data-testid="kpi-list-row"') == 2


def test_kpi_pages_doors(client, city):
    client.force_login(city.jumin)
    assert client.get("/appeals/kpi/").status_code == 403
    client.force_login(city.cw)
    assert client.get("/appeals/kpi/", {"scope": city.tree["street"].code}).status_code == 404
    assert client.get("/appeals/kpi/", {"start": "2025-02-30"}).status_code == 400
    assert client.get("/appeals/kpi/list/", {"metric": "nope"}).status_code == 400
    assert "绩效统计" in client.get("/appeals/kpi/").content.decode()
    client.logout()
    assert client.get("/appeals/kpi/").status_code == 302


def test_the_table_and_a_list_export_to_excel(client, city):
    a = submit(city.jumin, title="=HYPERLINK(\"x\")")
    submit(city.linju, point=IN_XINGNING)
    client.force_login(city.so)
    r = client.get("/appeals/kpi/export/", {"scope": city.tree["street"].code})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    head = list(rows[0])
    assert head[:3] == ["名称", "编码", "提交诉求"] and "满意率" in head
    assert [row[0] for row in rows[1:]] == ["民生街道（合计）", "兴宁社区", "北宁社区"]
    assert [row[2] for row in rows[1:]] == [2, 1, 1]
    r = client.get("/appeals/kpi/list/export/", {"scope": city.tree["street"].code, "metric": "submitted"})
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0][:2] == ("诉求编号", "标题") and len(rows) == 3
    assert rows[1][0] == a.number and rows[1][1] == "'=HYPERLINK(\"x\")"  # kept as text


def test_the_nav_shows_kpis_to_scoped_staff_only(client, city):
    client.force_login(city.gw1)
    assert "/appeals/kpi/" in client.get("/appeals/mine/").content.decode()
    client.force_login(city.jumin)
    assert "/appeals/kpi/" not in client.get("/appeals/mine/").content.decode()


def test_a_department_handler_reads_their_work_order_kpis_on_the_page(client, city, depts):
    a = whistle(city, at_street(city), depts.squad)
    services.summons_report(actor=depts.h_squad, work_order=WhistleSummons.objects.get(appeal=a))
    client.force_login(depts.h_cg)
    html = client.get("/appeals/kpi/").content.decode()
    assert "兴宁区城市管理局" in html and 'data-testid="rate-report_on_time_rate"' in html and "100.0%" in html
    assert f'data-code="org:{depts.squad.pk}"' in html  # the squad below, as a row
    r = client.get("/appeals/kpi/list/", {"scope": f"org:{depts.cg.pk}", "metric": "reported"})
    assert r.status_code == 200 and a.number in r.content.decode() and "城管执法中队" in r.content.decode()


def test_a_grid_worker_sees_their_grid_without_children(client, city):
    submit(city.jumin)
    client.force_login(city.gw1)
    html = client.get("/appeals/kpi/").content.decode()
    assert city.micros[0].name in html and 'data-testid="total-submitted">1<' in html
    assert 'id="kpi-chart"' not in html and "该范围没有下级。" in html
