"""The need and project tables: every row labelled, every state reachable, the right people offered each action."""

import pytest

from gongzhi.lists import permissions, services, workflow
from gongzhi.lists.models import NeedState, ProjectState
from tests.lists.conftest import wish


def test_every_action_has_a_label_and_every_state_is_reachable():
    assert set(workflow.NEED_ACTIONS) <= set(workflow.NEED_ACTION_LABELS)
    assert set(workflow.PROJECT_ACTIONS) <= set(workflow.PROJECT_ACTION_LABELS)
    need_targets = {t.target for t in workflow.NEED_TABLE} | set(workflow.NEED_STATE_FOR_PROJECT.values())
    assert need_targets == set(NeedState.values)
    assert {t.target for t in workflow.PROJECT_TABLE} | {ProjectState.DISPATCHED, ProjectState.CLAIMED} == set(
        ProjectState.values)


def test_freeing_a_need_sends_it_back_to_open():
    for row in workflow.PROJECT_TABLE:
        if row.action in (workflow.ProjectAction.DECLINE, workflow.ProjectAction.CANCEL):
            assert workflow.NEED_STATE_FOR_PROJECT[row.target] == NeedState.OPEN
            assert "reason" in row.requires


def test_nothing_leaves_a_terminal_state():
    for terminal in (NeedState.WITHDRAWN, NeedState.RATED):
        assert not [t for t in workflow.NEED_TABLE if t.source == terminal]
    for terminal in (ProjectState.DONE, ProjectState.DECLINED, ProjectState.CANCELLED):
        assert not [t for t in workflow.PROJECT_TABLE if t.source == terminal]


@pytest.mark.django_db
def test_actions_offered_follow_the_table(city):
    n = wish(city)
    assert permissions.need_actions(city.jumin, n) == ["edit", "withdraw"]
    assert permissions.need_actions(city.dangyuan, n) == ["claim"]
    assert permissions.need_actions(city.liaison, n) == ["claim"]
    assert permissions.need_actions(city.cw, n) == ["edit", "withdraw", "dispatch"]
    assert permissions.need_actions(city.jumin2, n) == []
    assert permissions.need_actions(None, n) == []
    p = services.need_dispatch(actor=city.cw, need=n, taker_organization=city.unit)
    assert permissions.project_actions(city.liaison, p) == ["accept", "decline"]
    assert permissions.project_actions(city.cw, p) == ["cancel"]
    assert permissions.project_actions(city.dangyuan, p) == []
    services.project_cancel(actor=city.cw, project=p, reason="改由社区自办")
    n.refresh_from_db()
    assert n.state == "open" and permissions.need_actions(city.dangyuan, n) == ["claim"]


@pytest.mark.django_db
def test_staff_rate_on_behalf_only_when_there_is_no_resident_account(city):
    from tests.lists.conftest import soon

    n = services.need_create(actor=city.cw, title="走访记录的需求", due_on=soon(), source="staff", place=city.bn)
    p = services.need_claim(actor=city.dangyuan, need=n)
    services.project_accept(actor=city.dangyuan, project=p)
    services.project_done(actor=city.dangyuan, project=p, beneficiaries_served=1, hours=1, summary="ok")
    n.refresh_from_db()
    assert permissions.need_actions(city.cw, n) == ["rate"]
    w = wish(city)
    p = services.need_claim(actor=city.dangyuan, need=w)
    services.project_accept(actor=city.dangyuan, project=p)
    services.project_done(actor=city.dangyuan, project=p, beneficiaries_served=1, hours=1, summary="ok")
    w.refresh_from_db()
    assert permissions.need_actions(city.cw, w) == []
    assert permissions.need_actions(city.jumin, w) == ["rate"]
