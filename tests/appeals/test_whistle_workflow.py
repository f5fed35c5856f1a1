"""The whistle's rows of the appeal table and the work-order table: every row reachable, nothing outside them."""

import pytest

from gongzhi.appeals import services, workflow
from gongzhi.appeals.models import WhistleSummons
from gongzhi.appeals.permissions import allowed_actions, allowed_work_order_actions
from gongzhi.core.errors import Conflict, PermissionDenied, ValidationFailed
from tests.appeals.conftest import at_street, whistle

pytestmark = pytest.mark.django_db

WHISTLE_ROWS = tuple(t for t in workflow.TABLE if t.action in {workflow.Action.WHISTLE, *workflow.AUTO_ACTIONS})


def _to_escalated(city, depts):
    return at_street(city)


def _to_accepted(city, depts):
    return at_street(city, accept=True)


def _to_dispatched(city, depts):
    return whistle(city, at_street(city), depts.cg)


def _to_reopened(city, depts):
    a = _to_dispatched(city, depts)
    wo = services.summons_report(actor=depts.h_cg, work_order=a.work_orders.get())
    services.summons_resolve(actor=depts.h_cg, work_order=wo, note="已处理")
    a.refresh_from_db()
    return services.appeal_rate(actor=city.jumin, appeal=a, resolved=False, satisfaction="unsatisfied")


def _resolve_all(city, depts, a):
    wo = services.summons_report(actor=depts.h_cg, work_order=a.work_orders.get())
    services.summons_resolve(actor=depts.h_cg, work_order=wo, note="已处理")


def _return_all(city, depts, a):
    services.summons_return(actor=depts.h_cg, work_order=a.work_orders.get(), reason="非本单位职责")


def _whistle(city, depts, a):
    whistle(city, a, depts.sj)


# (source, action, target) → (bring an appeal to the source state, apply the row)
APPEAL_RECIPES = {
    ("escalated", "whistle", "dispatched"): (_to_escalated, _whistle),
    ("accepted", "whistle", "dispatched"): (_to_accepted, _whistle),
    ("reopened", "whistle", "dispatched"): (_to_reopened, _whistle),
    ("dispatched", "whistle", "dispatched"): (_to_dispatched, _whistle),
    ("dispatched", "orders_resolved", "resolved"): (_to_dispatched, _resolve_all),
    ("dispatched", "back_to_street", "accepted"): (_to_dispatched, _return_all),
}


def test_every_whistle_row_has_a_recipe():
    assert {(t.source, t.action, t.target) for t in WHISTLE_ROWS} == set(APPEAL_RECIPES)


@pytest.mark.parametrize("row", WHISTLE_ROWS, ids=lambda t: f"{t.source}-{t.action}-{t.target}")
def test_every_whistle_row_is_reachable(city, depts, row):
    to_source, apply = APPEAL_RECIPES[(row.source, row.action, row.target)]
    a = to_source(city, depts)
    assert a.state == row.source
    if row.action == "whistle":
        assert "whistle" in allowed_actions(city.so, a)
    else:  # a consequence, never an action anyone is offered
        assert row.action not in allowed_actions(city.so, a) + allowed_actions(None, a)
    apply(city, depts, a)
    a.refresh_from_db()
    assert a.state == row.target
    last = a.events.exclude(action__startswith="summons_").order_by("-id").first()
    assert (last.action, last.from_state, last.to_state) == (row.action, row.source, row.target)


def test_auto_actions_cannot_be_taken_by_hand(city, depts):
    a = _to_dispatched(city, depts)
    root = type(city.so).objects.create_superuser("root", password="x")
    for who in (city.so, root):
        with pytest.raises(ValidationFailed) as exc:
            services._transition(actor=who, appeal=a, action="orders_resolved", version=None, data={},
                                 prepare=lambda *args: services.Change())
        assert exc.value.code == "unknown_action"


# Work orders: (source, action, target) → (who, input, the summons' way to the source state)
def _summoned(city, depts):
    return _to_dispatched(city, depts).work_orders.get()


def _reported(city, depts):
    return services.summons_report(actor=depts.h_cg, work_order=_summoned(city, depts))


def _resolved(city, depts):
    return services.summons_resolve(actor=depts.h_cg, work_order=_reported(city, depts), note="已处理")


SUMMONS_RECIPES = {
    ("summoned", "report", "reported"): (_summoned, "h_cg", {}),
    ("reported", "resolve", "resolved"): (_reported, "h_cg", {"note": "已处理"}),
    ("summoned", "return", "returned"): (_summoned, "h_cg", {"reason": "非本单位职责"}),
    ("summoned", "cancel", "cancelled"): (_summoned, "so", {"reason": "已另行处理"}),
    ("reported", "cancel", "cancelled"): (_reported, "so", {"reason": "已另行处理"}),
    ("resolved", "rate", "resolved"): (_resolved, "so", {"speed": 5, "result": 4}),
}


def test_every_summons_row_has_a_recipe():
    rows = {(t.source, t.action, t.target) for t in workflow.SUMMONS_TABLE}
    assert rows == set(SUMMONS_RECIPES) and len(rows) == len(workflow.SUMMONS_TABLE)


@pytest.mark.parametrize("row", workflow.SUMMONS_TABLE, ids=lambda t: f"{t.source}-{t.action}-{t.target}")
def test_every_summons_row_is_reachable(city, depts, row):
    to_source, who_name, fields = SUMMONS_RECIPES[(row.source, row.action, row.target)]
    wo = to_source(city, depts)
    who = getattr(depts, who_name, None) or getattr(city, who_name)
    assert wo.state == row.source
    assert row.action in allowed_work_order_actions(who, wo)
    after = services.summons_act(actor=who, work_order=wo.pk, action=row.action, version=wo.version, **fields)
    assert (after.state, after.version) == (row.target, wo.version + 1)
    last = wo.appeal.events.order_by("-id").first()
    if last.action in workflow.AUTO_ACTIONS:
        last = wo.appeal.events.order_by("-id")[1]
    assert (last.action, last.data["order_from"], last.data["order_to"]) == (f"summons_{row.action}", row.source,
                                                                             row.target)


def test_a_work_order_action_not_in_the_table_is_409_naming_the_allowed_actions(city, depts):
    wo = _summoned(city, depts)
    with pytest.raises(Conflict) as exc:
        services.summons_resolve(actor=depts.h_cg, work_order=wo, note="已处理")
    assert exc.value.code == "transition_not_allowed"
    assert exc.value.extra["allowed_actions"] == ["report", "return"]
    assert "待报到" in str(exc.value.message) and "报到、退回工单" in str(exc.value.message)
    with pytest.raises(PermissionDenied):  # a row for another relation
        services.summons_report(actor=city.so, work_order=wo)
    assert WhistleSummons.objects.get(pk=wo.pk).version == 1


def test_allowed_work_order_actions_by_relation(city, depts):
    wo = _summoned(city, depts)
    assert allowed_work_order_actions(depts.h_cg, wo) == ["report", "return"]
    assert allowed_work_order_actions(city.so, wo) == ["cancel"]
    for other in (depts.h_sj, depts.h_far, city.cw, city.gw1, city.jumin, city.admin, None):
        assert allowed_work_order_actions(other, wo) == []
