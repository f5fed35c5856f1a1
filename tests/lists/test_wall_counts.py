"""The wish wall counts the wishes that can still be taken, and offers 查看 / 认领 only on those
(issue 14): one rule (lists.workflow.need_can_be_taken / selectors.takeable_needs_q) for the count,
the link and the claim itself."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.core.errors import GongzhiError
from gongzhi.lists import services
from gongzhi.lists.models import Need
from tests.factories import PASSWORD
from tests.lists.conftest import bearer, wish

pytestmark = pytest.mark.django_db


def login(u) -> Client:
    c = Client()
    assert c.login(username=u.username, password=PASSWORD)
    return c


def _wall(city):
    """Two wishes wait; one is claimed, one dispatched, one past its date, one fulfilled."""
    waiting = [wish(city, title=f"等待中的心愿{i}") for i in range(2)]
    claimed = wish(city, title="已被认领的心愿")
    services.need_claim(actor=city.dangyuan, need=claimed)
    dispatched = wish(city, title="已派单的心愿")
    services.need_dispatch(actor=city.cw, need=dispatched, taker_organization=city.unit)
    expired = wish(city, title="过期的心愿")
    Need.objects.filter(pk=expired.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    return waiting, claimed, dispatched, expired


def _claim_links(html: str) -> set[str]:
    return set(re.findall(r'href="/lists/needs/([^/"]+)/">[^<]*认领', html))


def test_wall_counts_and_offers_only_wishes_that_can_be_taken(city):
    waiting, claimed, dispatched, expired = _wall(city)
    html = login(city.dangyuan).get("/wishes/").content.decode()
    assert "还有 2 个心愿等待认领" in html
    assert _claim_links(html) == {n.number for n in waiting}
    # The others are still shown on the wall, without the claim link.
    for n in (claimed, dispatched, expired):
        assert n.title in html
    assert "已过期望日期" in html  # the expired one says why it is not offered
    # The public sees the same count.
    assert "还有 2 个心愿等待认领" in Client().get("/wishes/").content.decode()


def test_wall_api_reports_the_same_waiting_count(city):
    _wall(city)
    body = Client().get("/api/v1/wishes").json()
    assert body["waiting"] == 2
    assert sorted(i["title"] for i in body["items"] if i["can_take"]) == ["等待中的心愿0", "等待中的心愿1"]
    body = Client().get("/api/v1/wishes", **bearer(city.dangyuan)).json()
    assert body["waiting"] == 2


def test_count_is_not_cut_by_the_cards_shown(city, monkeypatch):
    from gongzhi.lists import selectors

    for i in range(3):
        wish(city, title=f"心愿{i}")
    monkeypatch.setattr(selectors, "WALL_LIMIT", 1)
    monkeypatch.setattr(selectors.wish_wall, "__kwdefaults__", {"place": None, "today": None, "limit": 1})
    html = Client().get("/wishes/").content.decode()
    assert html.count('data-testid="wish-card"') == 1 and "还有 3 个心愿等待认领" in html


def test_a_wish_past_its_date_cannot_be_claimed_and_nothing_changes(city):
    n = wish(city)
    Need.objects.filter(pk=n.pk).update(due_on=timezone.localdate() - dt.timedelta(days=1))
    with pytest.raises(GongzhiError) as e:
        services.need_claim(actor=city.dangyuan, need=n)
    assert "期望完成日期已过" in str(e.value.message)
    n.refresh_from_db()
    assert n.state == "open" and not n.links.exists()
