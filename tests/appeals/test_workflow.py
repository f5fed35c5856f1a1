"""The state machine table: every row reachable through the services, nothing outside it."""

import pytest

from gongzhi.appeals import services, workflow
from gongzhi.appeals.models import State
from gongzhi.appeals.permissions import allowed_actions
from gongzhi.core.errors import Conflict, PermissionDenied
from tests.appeals.conftest import submit

pytestmark = pytest.mark.django_db

UNSATISFIED = {"resolved": False, "satisfaction": "unsatisfied"}
SATISFIED = {"resolved": True, "satisfaction": "satisfied"}

# How to bring an appeal to each row's source state (steps), then who applies the row with what input.
# Steps are (actor, action, fields); actors are names on the `city` fixture ("owner": the current owner).
TO_ACCEPTED = [("gw1", "accept", {})]
TO_ESCALATED = [("gw1", "hand_on", {"reason": "需要社区协调"})]
TO_RESOLVED = [*TO_ACCEPTED, ("gw1", "resolve", {"note": "已协调店主限时营业"})]
TO_REOPENED = [*TO_RESOLVED, ("jumin", "rate", UNSATISFIED)]
TO_RATED = [*TO_RESOLVED, ("jumin", "rate", SATISFIED)]
RECIPES = {
    ("", "submit", "submitted"): ([], None, {}),
    ("submitted", "accept", "accepted"): ([], "gw1", {}),
    ("escalated", "accept", "accepted"): (TO_ESCALATED, "cw", {}),
    ("reopened", "accept", "accepted"): (TO_REOPENED, "gw1", {}),
    ("submitted", "hand_on", "escalated"): ([], "gw1", {"reason": "超出网格处置能力"}),
    ("accepted", "hand_on", "escalated"): (TO_ACCEPTED, "gw1", {"reason": "超出网格处置能力"}),
    ("escalated", "hand_back", "accepted"): (TO_ESCALATED, "cw", {"reason": "网格可自行处理"}),
    ("accepted", "hand_back", "accepted"): ([*TO_ESCALATED, ("cw", "accept", {})], "cw", {"reason": "网格可处理"}),
    ("accepted", "resolve", "resolved"): (TO_ACCEPTED, "gw1", {"note": "已处理"}),
    ("resolved", "rate", "reopened"): (TO_RESOLVED, "jumin", UNSATISFIED),
    ("resolved", "rate", "rated"): (TO_RESOLVED, "jumin", SATISFIED),
    ("rated", "close", "closed"): (TO_RATED, "cw", {}),
    ("submitted", "reject", "rejected"): ([], "cw", {"reason": "属于司法诉讼事项", "redirect_to": "兴宁区人民法院 0771-1234567"}),
    ("accepted", "reject", "rejected"): (TO_ACCEPTED, "so", {"reason": "属于司法诉讼事项", "redirect_to": "法院"}),
    ("escalated", "reject", "rejected"): (TO_ESCALATED, "cw", {"reason": "属于司法诉讼事项", "redirect_to": "法院"}),
    ("submitted", "merge", "merged"): ([], "cw", {"into": "TARGET"}),
    ("accepted", "merge", "merged"): (TO_ACCEPTED, "cw", {"into": "TARGET"}),
    ("escalated", "merge", "merged"): (TO_ESCALATED, "so", {"into": "TARGET"}),
}


# The whistle's rows (whistle, and the appeal's consequences of its work orders) have their recipes
# in test_whistle_workflow.py, which drives them through the whistle and work-order services.
WHISTLE_ACTIONS = {workflow.Action.WHISTLE, *workflow.AUTO_ACTIONS}
ROWS = tuple(t for t in workflow.TABLE if t.action not in WHISTLE_ACTIONS)


def _act(city, actor_name, appeal, action, fields):
    actor = getattr(city, actor_name)
    return services.appeal_act(actor=actor, appeal=appeal.number, action=action, version=appeal.version, **fields)


def test_every_row_has_a_recipe_and_every_recipe_a_row():
    rows = {(t.source, t.action, t.target) for t in ROWS}
    assert rows == set(RECIPES)
    assert len(rows) == len(ROWS), "two rows with the same source, action and target"


@pytest.mark.parametrize("row", ROWS, ids=lambda t: f"{t.source or 'new'}-{t.action}-{t.target}")
def test_every_row_is_reachable(city, row):
    steps, who, fields = RECIPES[(row.source, row.action, row.target)]
    appeal = submit(city.jumin)
    if row.action == "submit":
        assert appeal.state == row.target
        return
    for actor_name, action, step_fields in steps:
        appeal = _act(city, actor_name, appeal, action, step_fields)
    assert appeal.state == row.source
    if fields.get("into") == "TARGET":
        fields = {**fields, "into": submit(city.linju).number}
    assert row.action in allowed_actions(getattr(city, who), appeal)
    after = _act(city, who, appeal, row.action, fields)
    assert after.state == row.target
    assert after.version == appeal.version + 1
    last = after.events.order_by("-id").first()
    assert (last.action, last.from_state, last.to_state) == (row.action, row.source, row.target)


def test_a_transition_not_in_the_table_is_409_naming_the_allowed_actions(city):
    appeal = submit(city.jumin)
    with pytest.raises(Conflict) as exc:
        services.appeal_resolve(actor=city.gw1, appeal=appeal, note="已处理", version=appeal.version)
    assert exc.value.code == "transition_not_allowed"
    assert exc.value.extra["allowed_actions"] == ["accept", "hand_on"]
    assert "已提交" in str(exc.value.message) and "受理、上报上级" in str(exc.value.message)
    appeal.refresh_from_db()
    assert (appeal.state, appeal.version) == (State.SUBMITTED, 1)


def test_a_row_for_another_role_is_403(city):
    appeal = submit(city.jumin)
    with pytest.raises(PermissionDenied):
        services.appeal_reject(actor=city.gw1, appeal=appeal, reason="x", redirect_to="y")
    with pytest.raises(PermissionDenied):  # the reporter cannot accept their own appeal
        services.appeal_accept(actor=city.jumin, appeal=appeal)


def test_hand_on_stops_at_the_street_and_hand_back_at_the_grid(city):
    appeal = submit(city.jumin)
    appeal = services.appeal_hand_on(actor=city.gw1, appeal=appeal, reason="需社区协调")
    assert (appeal.owner_level, appeal.owner) == ("community", city.cw)
    appeal = services.appeal_accept(actor=city.cw, appeal=appeal)
    appeal = services.appeal_hand_on(actor=city.cw, appeal=appeal, reason="需街道协调")
    assert (appeal.owner_level, appeal.owner) == ("street", city.so)
    appeal = services.appeal_accept(actor=city.so, appeal=appeal)
    assert "hand_on" not in allowed_actions(city.so, appeal)
    with pytest.raises(Conflict) as exc:
        services.appeal_hand_on(actor=city.so, appeal=appeal, reason="再上报")
    assert "街道层级" in str(exc.value.message)
    appeal = services.appeal_hand_back(actor=city.so, appeal=appeal, reason="社区可处理")
    assert (appeal.state, appeal.owner_level, appeal.owner, appeal.bounce_count) == ("accepted", "community", city.cw, 1)
    appeal = services.appeal_hand_back(actor=city.cw, appeal=appeal, reason="网格可处理")
    # Back to the grid worker who handed it up.
    assert (appeal.owner_level, appeal.owner, appeal.bounce_count, appeal.handon_count) == ("grid", city.gw1, 2, 2)
    assert "hand_back" not in allowed_actions(city.gw1, appeal)


def test_second_unsatisfied_rating_is_final(city):
    appeal = submit(city.jumin)
    for actor_name, action, fields in TO_REOPENED:
        appeal = _act(city, actor_name, appeal, action, fields)
    assert (appeal.state, appeal.reopen_count) == ("reopened", 1)
    appeal = services.appeal_accept(actor=city.gw1, appeal=appeal)
    appeal = services.appeal_resolve(actor=city.gw1, appeal=appeal, note="再次处理")
    appeal = services.appeal_rate(actor=city.jumin, appeal=appeal, **UNSATISFIED)
    assert (appeal.state, appeal.reopen_count, appeal.satisfaction) == ("rated", 1, "unsatisfied")


def test_allowed_actions_by_relation(city):
    appeal = submit(city.jumin)
    assert allowed_actions(city.gw1, appeal) == ["accept", "hand_on"]  # owner
    assert allowed_actions(city.gw2, appeal) == ["accept"]  # a worker of the grid, not the owner
    assert allowed_actions(city.cw, appeal) == ["reject", "merge"]
    assert allowed_actions(city.so, appeal) == ["reject", "merge"]
    assert allowed_actions(city.jumin, appeal) == []
    assert allowed_actions(city.gw_x, appeal) == []  # another community's grid worker
    assert allowed_actions(city.cw_x, appeal) == []
    assert allowed_actions(None, appeal) == []  # the system closes, it does not accept
