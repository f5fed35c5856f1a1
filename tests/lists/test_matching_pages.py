"""The dispatch board at /lists/board/: counts and open needs, proposals (htmx and plain), confirm, refusals."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.lists.models import Need, Project
from tests.factories import PASSWORD, user
from tests.lists import test_matching_service as base
from tests.lists.conftest import wish

m = base.m  # the resources fixture
need = base.need

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def client(u) -> Client:
    c = Client()
    assert c.login(username=u.username, password=PASSWORD)
    return c


def test_board_shows_counts_overdue_and_the_open_needs_of_my_community(m):
    c = m.city
    w = wish(c)
    late = need(c, "修水管", "repair")
    Need.objects.filter(pk=late.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    html = client(c.cw).get("/lists/board/").content.decode()
    assert "派单调度台 · 北宁社区" in html
    assert 'data-testid="count-open">2<' in html and 'data-testid="count-overdue">1<' in html
    assert w.number in html and late.number in html
    filtered = client(c.cw).get("/lists/board/", {"skill": "goods"}).content.decode()
    assert w.number in filtered and late.number not in filtered


def test_board_is_for_dispatchers_only(m):
    c = m.city
    assert client(c.jumin).get("/lists/board/").status_code == 403
    assert client(c.liaison).get("/lists/board/").status_code == 403
    assert Client().get("/lists/board/").status_code == 302  # to the login page
    # Another community's worker cannot switch to 北宁.
    assert client(c.cw_xn).get("/lists/board/", {"place": c.bn.code}).status_code == 403


def test_propose_then_confirm_with_an_edited_and_a_dropped_pair(m):
    c = m.city
    w = wish(c)
    fix = need(c, "楼道灯坏了", "repair")
    old = need(c, "陪老人散步", "elderly")
    need(c, "上门量血压", "medical")
    cw = client(c.cw)
    frag = cw.post("/lists/board/propose/", {"place": c.bn.code}, **HTMX).content.decode()
    assert 'data-testid="matching-proposal"' in frag and "<html" not in frag
    assert "技能匹配：维修；服务范围含北宁社区" in frag and "无匹配技能的资源" in frag
    # Dispatch the repair, move the elderly need to… the same generic team (its only option), drop the wish.
    r = cw.post("/lists/board/confirm/", {
        "place": c.bn.code, "pick": [fix.number, old.number],
        f"resource_{fix.number}": m.repair.pk, f"version_{fix.number}": fix.version,
        f"resource_{old.number}": m.generic.pk,
    }, **HTMX)
    body = r.content.decode()
    assert r.status_code == 200 and "已派单 2 条（共 2 条）" in body
    assert Need.objects.get(pk=w.pk).state == "open"
    assert Project.objects.get(needs=old).taker_team == m.team

    # A pair edited to an infeasible resource is refused with its reason, the page still answers.
    body = cw.post("/lists/board/confirm/", {"place": c.bn.code, "pick": [w.number],
                                             f"resource_{w.number}": m.repair.pk}, **HTMX).content.decode()
    assert "未派单：资源与需求技能不匹配。" in body


def test_confirm_without_a_choice_says_so_and_plain_posts_render_the_board(m):
    c = m.city
    wish(c)
    cw = client(c.cw)
    r = cw.post("/lists/board/confirm/", {"place": c.bn.code})
    assert r.status_code == 400 and "请至少选择一个匹配对。" in r.content.decode()
    # htmx 2 swaps only 2xx answers: the refusal comes as a fragment carrying the message.
    r = cw.post("/lists/board/confirm/", {"place": c.bn.code}, **HTMX)
    assert r.status_code == 200 and 'data-testid="confirm-error"' in r.content.decode()
    assert "请至少选择一个匹配对。" in r.content.decode() and "<html" not in r.content.decode()
    r = cw.post("/lists/board/propose/", {"place": c.bn.code})
    assert r.status_code == 200 and "<html" in r.content.decode() and 'data-testid="pairs"' in r.content.decode()
    street = user("so", ("street_officer", c.tree["street"]))
    assert client(street).post("/lists/board/propose/", {"place": c.tree["street"].code}, **HTMX).status_code == 200
    assert client(c.jumin).post("/lists/board/propose/", {"place": c.bn.code}, **HTMX).status_code == 403


def _queries(fn) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        fn()
    return len(ctx.captured_queries)


def test_board_and_proposal_cost_a_fixed_number_of_queries(m):
    c = m.city
    cw = client(c.cw)
    wish(c)
    need(c, "修门锁", "repair")
    board = _queries(lambda: cw.get("/lists/board/"))
    propose = _queries(lambda: cw.post("/lists/board/propose/", {"place": c.bn.code}, **HTMX))
    for k in range(6):
        need(c, f"修窗户 {k}", "repair")
        need(c, f"陪老人聊天 {k}", "elderly")
        wish(c, title=f"想要一个台灯 {k}")
    base.resource("水电维修", "repair", [c.bn], capacity=3, organization=c.other_unit)
    assert _queries(lambda: cw.get("/lists/board/")) == board
    assert _queries(lambda: cw.post("/lists/board/propose/", {"place": c.bn.code}, **HTMX)) == propose
    assert propose <= 16, propose
