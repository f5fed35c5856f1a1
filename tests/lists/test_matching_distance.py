"""Issue 14: the matching board said "距离未知" on every pair. Each pair now shows its distance, from
the need's point (or its grid's / community's centre, said so) to the resource's (its own point, its
owner's community centre, or its service area's centre, said so), or why there is none; each need
and resource is linked, and each unmatched need has a dispatch action. Through the page (htmx
fragment) and the JSON API; expected metres computed here with this file's own formula."""

from __future__ import annotations

import json
import math
import re

import pytest
from django.test import Client

from gongzhi.lists import services
from gongzhi.org.models import Organization, OrgKind
from gongzhi.places.models import Grid, Place, PlaceKind
from tests.factories import PASSWORD, place, user
from tests.lists.conftest import bearer, soon, wish
from tests.lists.test_matching_service import NEAR, resource

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true"}


def metres(p, q) -> float:
    """Haversine, on its own (not the service's)."""
    (lon1, lat1), (lon2, lat2) = p, q
    f1, f2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((f2 - f1) / 2) ** 2 + math.cos(f1) * math.cos(f2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def client(u) -> Client:
    c = Client()
    assert c.login(username=u.username, password=PASSWORD)
    return c


def propose_page(u, code) -> str:
    return client(u).post("/lists/board/propose/", {"place": code}, **HTMX).content.decode()


def propose_api(u, code) -> dict:
    r = Client().post("/api/v1/matching/proposals", json.dumps({"place_code": code}),
                      content_type="application/json", **bearer(u))
    assert r.status_code == 200, r.content
    return r.json()


def _row(html: str, number: str) -> str:
    m = re.search(rf'<tr data-testid="pair" data-number="{number}">(.*?)</tr>', html, re.S)
    assert m, number
    return m.group(1)


def test_a_resource_without_a_point_is_measured_from_its_owners_community(city):
    # The demo's resources carry no point: the unit's community centre (北宁: 108.33, 22.82) stands in.
    fix = services.need_create(actor=city.jumin, title="楼道灯坏了", skill="repair", due_on=soon(), place=city.bn,
                               lon=NEAR[0], lat=NEAR[1])
    res = resource("上门维修家电", "repair", [city.bn], organization=city.unit, lon=None, lat=None)
    want = metres(NEAR, (city.bn.lon, city.bn.lat))
    html = propose_page(city.cw, city.bn.code)
    row = _row(html, fix.number)
    m = re.search(r"距离约 (\d+) 米（提供方按其所在社区中心）", row)
    assert m and abs(int(m.group(1)) - want) <= 1
    assert "距离未知" not in html
    assert f'href="/lists/needs/{fix.number}/"' in row
    assert 'data-testid="resource-link"' in row and "q=" in row
    body = propose_api(city.cw, city.bn.code)
    pair = next(p for p in body["pairs"] if p["need"]["number"] == fix.number)
    assert abs(pair["distance_m"] - want) <= 1 and pair["resource"]["id"] == res.pk
    assert pair["distance_basis"] == {"need": "need_point", "resource": "resource_home"}
    assert pair["distance_note"] == f"距离约 {pair['distance_m']} 米（提供方按其所在社区中心）"


def test_a_need_without_a_point_is_measured_from_its_community_or_grid(city):
    # A wish typed in without a point, in a community with no registered centre: the box of its grids.
    Place.objects.filter(pk=city.bn.pk).update(lon=None, lat=None)
    w = wish(city)
    resource("爱心书包", "goods", [city.bn], person=city.member, lon=NEAR[0], lat=NEAR[1])
    boxes = list(Grid.objects.filter(community=city.bn).values_list("min_lon", "min_lat", "max_lon", "max_lat"))
    centre = ((min(b[0] for b in boxes) + max(b[2] for b in boxes)) / 2,
              (min(b[1] for b in boxes) + max(b[3] for b in boxes)) / 2)
    want = metres(centre, NEAR)
    pair = next(p for p in propose_api(city.cw, city.bn.code)["pairs"] if p["need"]["number"] == w.number)
    assert abs(pair["distance_m"] - want) <= 1
    assert pair["distance_basis"] == {"need": "need_place", "resource": "resource_point"}
    assert "需求按所在社区中心" in pair["distance_note"] and "需求按所在社区中心" in pair["reason"]


def test_when_nothing_has_a_location_the_board_says_why(city):
    # A new community with no centre and no grids yet; the unit has no community either.
    new = place(PlaceKind.COMMUNITY, "450102001099", "新建社区", city.tree["street"])
    unit = Organization.objects.create(kind=OrgKind.PRIVATE_ENTERPRISE, name="无地址公司")
    cw_new = user("cw_new", ("community_worker", new))
    n = services.need_create(actor=cw_new, title="修理门窗", skill="repair", due_on=soon(), place=new,
                             source="staff")
    resource("门窗维修", "repair", [new], organization=unit, lon=None, lat=None)
    html = propose_page(cw_new, new.code)
    row = _row(html, n.number)
    assert "距离未知：需求没有位置，其网格和社区也没有中心点；提供方没有登记位置，其所在社区和服务范围也没有中心点" in row
    pair = propose_api(cw_new, new.code)["pairs"][0]
    assert pair["distance_m"] is None and pair["distance_basis"] == {"need": None, "resource": None}


def test_unmatched_needs_link_to_their_page_with_a_dispatch_action(city):
    lonely = services.need_create(actor=city.jumin, title="想学书法", skill="culture", due_on=soon(), place=city.bn)
    html = propose_page(city.cw, city.bn.code)
    row = re.search(rf'<tr data-testid="unmatched-need" data-number="{lonely.number}"[^>]*>(.*?)</tr>', html, re.S)
    assert row
    assert f'href="/lists/needs/{lonely.number}/"' in row.group(1)
    link = re.search(r'href="([^"]+)" data-testid="manual-dispatch"', row.group(1)).group(1)
    assert link == f"/lists/needs/{lonely.number}/#act-dispatch"
    # The link lands on the dispatch form.
    assert 'id="act-dispatch"' in client(city.cw).get(link.split("#")[0]).content.decode()
    board = client(city.cw).get("/lists/board/", {"place": city.bn.code}).content.decode()
    assert f'href="/lists/needs/{lonely.number}/"' in board
