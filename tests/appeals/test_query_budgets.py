"""Query budgets of the daily mix (issue 15; bench/load.py drives the same requests under load).

Each endpoint of the mix, called through the JSON API with a token as the bench calls it, may run at
most BUDGET[name] queries: today's count (SAVEPOINTs included, as the database sees them), so a
change that adds a query fails here and has to say why, and one that removes queries lowers the
number. Lists are measured at two sizes: their count must not grow with the rows they show.
Every request is made once unmeasured first (the token's last use is noted once a minute, the
categories are cached per process), as a busy server sees it.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gongzhi.appeals import services
from gongzhi.lists import services as lists_services
from tests.factories import user

from .conftest import IN_GRID, bearer, submit

pytestmark = pytest.mark.django_db(transaction=False)

# name → the most queries one request may run (SQLite); the comment says what they are. Every request
# starts with the token check: the token and its user in one query (api.user_for_token).
BUDGET = {
    # token + user; the page of the inbox (category, grid, community, owner joined); the roles
    "inbox": 3,
    # token + user; the appeal (joined as above); its timeline; its photos; the timeline's photos;
    # its whistle summons; the roles (for the actions allowed)
    "appeal": 7,
    # token + user; SAVEPOINT; the appeal FOR UPDATE; the roles; its photo count; UPDATE appeal;
    # INSERT event; INSERT rollup (upsert); INSERT the reporter's notification; the audit head FOR
    # UPDATE, INSERT audit entry, UPDATE head; the appeal again; RELEASE; then the answer's detail:
    # timeline, photos, the timeline's photos, whistle summons
    "accept": 18,
    # the same as accept (the resolve's note and the reporter's "please rate" notification)
    "resolve": 18,
    # token + user; the idempotency key; SAVEPOINT; the category; the grid index version; the grid
    # under the point; the on-duty post; the day's counter; INSERT appeal, event, rollup, the grid
    # worker's notification; the audit head, entry, head; RELEASE; the roles (for the answer)
    "submit": 17,
    # token + user; the page of my appeals (joined); the roles
    "my appeals": 3,
    # token + user; the open micro-wishes; their projects; how many are waiting
    "wish wall": 4,
    # token + user; the roles; the place; the totals; the children's and departments' sums; the
    # children; the appeals open and overdue now
    "KPI street": 7,
    # the same for the city
    "KPI city": 7,
}
# PostgreSQL runs one more statement in each write: `SET CONSTRAINTS ALL IMMEDIATE; … DEFERRED` before
# the audit entry (deferred foreign keys checked at that point).
PG_ONLY = {"accept": 1, "resolve": 1, "submit": 1}


def measured(client, method: str, url: str, headers: dict, **kw):
    """The response and the SQL of one request (after one unmeasured request of the same kind, unless
    the request changes something: then `kw['warm']` is a callable that makes an equivalent one)."""
    warm = kw.pop("warm", None)
    if warm is not None:
        warm()
    elif method == "GET":
        client.get(url, **headers)
    with CaptureQueriesContext(connection) as ctx:
        r = getattr(client, method.lower())(url, **headers, **kw)
    return r, [q["sql"] for q in ctx.captured_queries]


def within(name: str, queries: list[str]) -> None:
    budget = BUDGET[name] + (PG_ONLY.get(name, 0) if connection.vendor == "postgresql" else 0)
    listing = "\n".join(f"  {i + 1}. {q[:300]}" for i, q in enumerate(queries))
    assert len(queries) <= budget, (
        f"{name}: {len(queries)} queries, budget {budget}. If the new query is needed, raise the budget "
        f"with a comment saying why; otherwise remove it.\n{listing}")


def _accepted(city, n: int):
    out = []
    for _ in range(n):
        a = submit(city.jumin)
        out.append(services.appeal_accept(actor=city.gw1, appeal=a.number, version=a.version))
    return out


@pytest.mark.parametrize("size", [2, 6])
def test_inbox(client, city, size):
    for a in _accepted(city, size // 2):
        assert a.state == "accepted"
    for _ in range(size - size // 2):
        submit(city.linju)
    r, queries = measured(client, "GET", "/api/v1/appeals/inbox", bearer(city.gw1))
    assert r.status_code == 200 and len(r.json()["items"]) == size
    within("inbox", queries)


def test_appeal(client, city):
    a = _accepted(city, 1)[0]
    r, queries = measured(client, "GET", f"/api/v1/appeals/{a.number}", bearer(city.gw1))
    assert r.status_code == 200 and len(r.json()["timeline"]) >= 2
    within("appeal", queries)


def test_accept(client, city):
    auth = bearer(city.gw1)
    first, second = submit(city.jumin), submit(city.linju)
    r, queries = measured(
        client, "POST", f"/api/v1/appeals/{second.number}/accept", auth, data={"version": second.version},
        content_type="application/json",
        warm=lambda: client.post(f"/api/v1/appeals/{first.number}/accept", {"version": first.version},
                                 content_type="application/json", **auth))
    assert r.status_code == 200 and r.json()["state"] == "accepted"
    within("accept", queries)


def test_resolve(client, city):
    auth = bearer(city.gw1)
    first, second = _accepted(city, 2)
    note = {"note": "已到现场处理完毕。"}
    r, queries = measured(
        client, "POST", f"/api/v1/appeals/{second.number}/resolve", auth,
        data={"version": second.version, **note}, content_type="application/json",
        warm=lambda: client.post(f"/api/v1/appeals/{first.number}/resolve", {"version": first.version, **note},
                                 content_type="application/json", **auth))
    assert r.status_code == 200 and r.json()["state"] == "resolved"
    within("resolve", queries)


def test_submit(client, city):
    auth = bearer(city.jumin)
    body = {"category": "noise", "text": "楼下烧烤店每晚营业到凌晨两点，噪声很大。", "title": "夜间噪声扰民",
            "lon": IN_GRID[0], "lat": IN_GRID[1]}

    def post():
        return client.post("/api/v1/appeals", body, content_type="application/json",
                           HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, **auth)

    r, queries = measured(client, "POST", "/api/v1/appeals", auth, data=body, content_type="application/json",
                          HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex, warm=post)
    assert r.status_code == 201, r.content
    within("submit", queries)


@pytest.mark.parametrize("size", [1, 5])
def test_my_appeals(client, city, size):
    for _ in range(size):
        submit(city.jumin)
    r, queries = measured(client, "GET", "/api/v1/appeals?mine=true", bearer(city.jumin))
    assert r.status_code == 200 and len(r.json()["items"]) == size
    within("my appeals", queries)


@pytest.mark.parametrize("size", [1, 4])
def test_wish_wall(client, city, size):
    for i in range(size):
        lists_services.need_create(
            actor=city.jumin, kind="micro_wish", title=f"想要一个新书包 {i}", beneficiary="小明",
            due_on=timezone.localdate() + dt.timedelta(days=7), place=city.tree["beining"], category="children",
            skill="goods")
    r, queries = measured(client, "GET", "/api/v1/wishes", bearer(city.jumin))
    assert r.status_code == 200 and r.json()["count"] == size
    within("wish wall", queries)


def test_kpi_street(client, city):
    _accepted(city, 2)
    r, queries = measured(client, "GET", f"/api/v1/kpis/appeals?scope={city.tree['street'].code}",
                          bearer(city.so))
    assert r.status_code == 200 and r.json()["totals"]["submitted"] == 2
    within("KPI street", queries)


def test_kpi_city(client, city):
    _accepted(city, 2)
    mayor = user("mayor", ("district_admin", city.tree["city"]))
    r, queries = measured(client, "GET", f"/api/v1/kpis/appeals?scope={city.tree['city'].code}", bearer(mayor))
    assert r.status_code == 200 and r.json()["totals"]["submitted"] == 2
    within("KPI city", queries)
