"""Issue 14, "correct hours and counts": the KPI rates follow the stated rules and "overdue" means one
thing on the KPI page and on the dispatch board.

The expected figures are computed here from the appeals' timelines (AppealEvent rows) with this
file's own few lines, never with kpi.py's functions, and compared with what the API and the page show.
"""

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.appeals import kpi, services
from gongzhi.appeals.models import Appeal, AppealEvent, AppealRollup
from tests.appeals.conftest import IN_XINGNING, bearer, submit
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def login(u) -> Client:
    c = Client()
    assert c.login(username=u.username, password=PASSWORD)
    return c


def _history(city):
    """Five appeals of 北宁 through the services, and one of 兴宁 (the same street) that waits."""
    a = submit(city.jumin)  # rated satisfied and solved at once
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已处理")
    services.appeal_rate(actor=city.jumin, appeal=a, resolved=True, satisfaction="satisfied")

    b = submit(city.linju)  # unsatisfied → reopened → redone → satisfied
    b = services.appeal_accept(actor=city.gw1, appeal=b)
    b = services.appeal_resolve(actor=city.gw1, appeal=b, note="已处理")
    b = services.appeal_rate(actor=city.linju, appeal=b, resolved=False, satisfaction="unsatisfied")
    assert b.state == "reopened"
    b = services.appeal_accept(actor=city.gw1, appeal=b)
    b = services.appeal_resolve(actor=city.gw1, appeal=b, note="再次处理")
    services.appeal_rate(actor=city.linju, appeal=b, resolved=True, satisfaction="satisfied")

    c = submit(city.jumin, text="小区门口的路灯坏了一个星期。")  # overdue, escalated twice, warned again at the street
    now = timezone.now()
    for days in (10, 20, 30):
        services.appeal_escalate(appeal=c, now=now + dt.timedelta(days=days))
    c.refresh_from_db()
    assert c.owner_level == "street"

    d = submit(city.linju, text="楼道堆放杂物堵塞通道。")  # basically satisfied, not solved
    d = services.appeal_accept(actor=city.gw1, appeal=d)
    d = services.appeal_resolve(actor=city.gw1, appeal=d, note="已劝导")
    services.appeal_rate(actor=city.linju, appeal=d, resolved=False, satisfaction="basic")

    e = submit(city.jumin, text="垃圾桶满了没人清理。")  # unsatisfied twice: reopened, then final
    e = services.appeal_accept(actor=city.gw1, appeal=e)
    e = services.appeal_resolve(actor=city.gw1, appeal=e, note="已清理")
    e = services.appeal_rate(actor=city.jumin, appeal=e, resolved=False, satisfaction="unsatisfied")
    e = services.appeal_accept(actor=city.gw1, appeal=e)
    e = services.appeal_resolve(actor=city.gw1, appeal=e, note="再次清理")
    services.appeal_rate(actor=city.jumin, appeal=e, resolved=False, satisfaction="unsatisfied")

    submit(city.linju, point=IN_XINGNING)  # waits
    return a, b, c, d, e


def _expected(place_path: str) -> dict:
    """The rules, applied to the timeline with plain Python: each appeal counts once in rated, with
    its final (last) rating; overdue counts appeals with at least one overdue warning."""
    appeals = list(Appeal.objects.filter(place_path__startswith=place_path))
    events = {}
    for ev in AppealEvent.objects.filter(appeal__in=appeals).order_by("id"):
        events.setdefault(ev.appeal_id, []).append(ev)
    submitted = len(appeals)
    responded = rated = good = solved = overdue = 0
    for ap in appeals:
        timeline = events.get(ap.pk, [])
        if any(ev.action in ("accept", "hand_back", "whistle", "back_to_street") for ev in timeline):
            responded += 1
        ratings = [ev.data for ev in timeline if ev.action == "rate"]
        if ratings:
            rated += 1
            final = ratings[-1]
            good += final["satisfaction"] in ("satisfied", "basic")
            solved += final["resolved"] is True
        overdue += any(ev.action == "overdue" for ev in timeline)
    return {"submitted": submitted, "rated": rated, "overdue": overdue,
            "response_rate": round(responded / submitted, 4),
            "satisfaction_rate": round(good / rated, 4), "resolution_rate": round(solved / rated, 4)}


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def test_rates_count_each_appeals_final_rating_once_and_overdue_counts_appeals(city):
    _history(city)
    street = city.tree["street"]
    want = _expected(street.path)
    # The history is what the test says it is (so the figures below can fail).
    assert want == {"submitted": 6, "rated": 4, "overdue": 1, "response_rate": round(4 / 6, 4),
                    "satisfaction_rate": 0.75, "resolution_rate": 0.5}
    assert AppealEvent.objects.filter(action="overdue").count() == 3

    body = Client().get("/api/v1/kpis/appeals", {"scope": street.code}, **bearer(city.so)).json()
    got = body["totals"]
    assert {k: got[k] for k in want} == want

    html = login(city.so).get("/appeals/kpi/", {"scope": street.code}).content.decode()
    for name in ("response_rate", "satisfaction_rate", "resolution_rate"):
        card = re.search(rf'data-testid="rate-{name}"><b>([^<]+)</b>', html).group(1)
        assert card == _pct(want[name]), name
    for name in ("submitted", "rated", "overdue"):
        cell = re.search(rf'data-testid="total-{name}">(\d+)</a>', html).group(1)
        assert int(cell) == want[name], name

    # The list behind the "unsatisfied" number is empty: nobody's final rating is unsatisfied but e's.
    rows, _c = kpi.appeals_behind(city.so, street.code, metric="unsatisfied")
    assert [r.count for r in rows] == [1] and got["unsatisfied"] == 1
    rows, _c = kpi.appeals_behind(city.so, street.code, metric="overdue")
    assert [r.count for r in rows] == [1]

    # kpi_rebuild from the timeline gives exactly the live rows.
    fields = ["kind", "parent", "org_id", *kpi.COUNTERS]
    live = {(r["node"], r["day"]): tuple(r[f] for f in fields) for r in AppealRollup.objects.values("node", "day",
                                                                                                     *fields)}
    AppealRollup.objects.all().delete()
    kpi.rebuild()
    assert {(r["node"], r["day"]): tuple(r[f] for f in fields)
            for r in AppealRollup.objects.values("node", "day", *fields)} == live


def _overdue_fixture(city, n=3):
    """n open appeals whose pending step is past its deadline, one open in time, one closed late."""
    past = timezone.now() - dt.timedelta(hours=2)
    late = [submit(city.jumin, text=f"第{i}件超时的诉求，楼下噪声。") for i in range(n)]
    Appeal.objects.filter(pk__in=[a.pk for a in late]).update(step_due=past)
    submit(city.linju)  # in time
    r = services.appeal_accept(actor=city.gw1, appeal=submit(city.linju, text="已办结的诉求。"))
    services.appeal_resolve(actor=city.gw1, appeal=r, note="已处理")
    Appeal.objects.filter(pk=r.pk).update(step_due=past)  # a stale deadline on a resolved appeal is not overdue
    return late


@pytest.mark.parametrize("who", ["so", "cw"])
def test_the_kpi_page_and_the_board_show_the_same_overdue_appeals(city, who):
    late = _overdue_fixture(city)
    actor = getattr(city, who)
    scope = (city.tree["street"] if who == "so" else city.tree["beining"]).code
    c = login(actor)
    kpi_html = c.get("/appeals/kpi/", {"scope": scope}).content.decode()
    m = re.search(r'data-testid="overdue-now"><b><a href="([^"]+)">(\d+)</a>', kpi_html)
    assert m and int(m.group(2)) == len(late)
    board_url = m.group(1).replace("&amp;", "&")
    board_html = c.get(board_url).content.decode()
    assert re.search(r'data-testid="count-overdue">(\d+)<', board_html).group(1) == str(len(late))
    assert all(a.number in board_html for a in late)
    api = Client().get("/api/v1/appeals/board", {"section": "overdue"}, **bearer(actor)).json()
    assert api["counts"]["overdue"] == len(late) == len(api["items"])
    body = Client().get("/api/v1/kpis/appeals", {"scope": scope}, **bearer(actor)).json()
    assert body["overdue_now"] == len(late)


def test_a_grid_kpi_page_counts_its_overdue_appeals_and_links_to_the_board(city):
    late = _overdue_fixture(city, n=2)
    html = login(city.cw).get("/appeals/kpi/", {"scope": city.micros[0].code}).content.decode()
    m = re.search(r'data-testid="overdue-now"><b><a href="([^"]+)">(\d+)</a>', html)
    assert m and int(m.group(2)) == len(late) and f"grid={city.micros[0].code}" in m.group(1)
