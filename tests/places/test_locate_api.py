"""GET /api/v1/grids/locate and /api/v1/grids.geojson through the JSON API."""

import pytest

from gongzhi.core import geo
from tests.factories import grid_tree


@pytest.fixture
def grids(tree):
    top, micros = grid_tree(tree["beining"], 108.32, 22.82, size=0.01)
    top2, micros2 = grid_tree(tree["xingning"], 108.33, 22.82, size=0.01)
    return micros + micros2


@pytest.mark.django_db
def test_locate_returns_the_micro_grid_and_its_chain(client, grids):
    # (108.3225, 22.8225) is in the first area's lower micro grid of 北宁.
    r = client.get("/api/v1/grids/locate", {"lon": "108.3225", "lat": "22.8225"})
    assert r.status_code == 200
    body = r.json()
    assert body["code"] == grids[0].code and body["level"] == "micro"
    kinds = [(p["kind"], p["level"]) for p in body["parents"]]
    assert kinds == [("grid", "area"), ("grid", "community"), ("place", "community"), ("place", "street"),
                     ("place", "district")]
    assert body["parents"][-1]["name"] == "兴宁区"


@pytest.mark.django_db
def test_every_micro_grid_is_found_at_its_centre(client, grids):
    for g in grids:
        c = ((g.min_lon + g.max_lon) / 2, (g.min_lat + g.max_lat) / 2)
        assert client.get("/api/v1/grids/locate", {"lon": c[0], "lat": c[1]}).json()["code"] == g.code


@pytest.mark.django_db
def test_a_point_on_a_shared_edge_goes_to_the_smaller_code(client, grids):
    edge = grids[0].max_lon  # exactly the stored coordinate both grids share
    assert edge == grids[2].min_lon
    r = client.get("/api/v1/grids/locate", {"lon": repr(edge), "lat": "22.8225"})
    assert r.json()["code"] == min(grids[0].code, grids[2].code)


@pytest.mark.django_db
def test_outside_every_grid_is_404_with_a_message(client, grids):
    r = client.get("/api/v1/grids/locate", {"lon": "100", "lat": "30"})
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "outside_grids"
    assert "不在任何网格内" in r.json()["error"]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("lon,lat", [("abc", "22.8"), ("108.3", ""), ("200", "22.8"), ("108.3", "-91"), ("nan", "1"),
                                     ("inf", "1")])
def test_bad_coordinates_are_400(client, grids, lon, lat):
    r = client.get("/api/v1/grids/locate", {"lon": lon, "lat": lat})
    assert r.status_code == 400, r.content
    assert r.json()["error"]["code"] in ("bad_point", "invalid_input")


@pytest.mark.django_db
def test_missing_coordinates_are_400(client, grids):
    assert client.get("/api/v1/grids/locate").status_code == 400


@pytest.mark.django_db
def test_index_is_rebuilt_when_grids_change(client, tree, grids):
    from tests.factories import grid as make_grid

    assert client.get("/api/v1/grids/locate", {"lon": "108.345", "lat": "22.825"}).status_code == 404
    before = geo.micro_index()
    community = tree["xingning"]
    make_grid(community, "micro", 108.34, 22.82, 108.35, 22.83, parent=grids[-1].parent)
    assert geo.micro_index() is not before
    assert client.get("/api/v1/grids/locate", {"lon": "108.345", "lat": "22.825"}).status_code == 200


@pytest.mark.django_db
def test_geojson_lists_grids_by_level_and_place(client, tree, grids):
    r = client.get("/api/v1/grids.geojson", {"level": "micro", "within": tree["beining"].code})
    assert r.status_code == 200 and r["Content-Type"].startswith("application/geo+json")
    fc = r.json()
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == 4
    props = fc["features"][0]["properties"]
    assert set(props) >= {"code", "name", "level", "parent_code"}
    assert all(f["properties"]["level"] == "micro" for f in fc["features"])
    assert len(client.get("/api/v1/grids.geojson", {"within": tree["street"].code}).json()["features"]) == 14


@pytest.mark.django_db
def test_geojson_rejects_a_bad_level_and_an_unknown_place(client, grids):
    assert client.get("/api/v1/grids.geojson", {"level": "huge"}).status_code == 400
    assert client.get("/api/v1/grids.geojson", {"within": "999999999999"}).status_code == 404


@pytest.mark.django_db
def test_grid_card_shows_staff_names_only_to_people_in_scope(client, tree, grids):
    from gongzhi.org.services import person_create, post_assign
    from tests.factories import PASSWORD, user

    worker = user("cw", ("community_worker", tree["beining"]))
    p = person_create(actor=worker, name="王网格", phone="13900001111", registered_community=tree["beining"])
    post_assign(actor=worker, person=p, title="grid_leader", grid=grids[0], starts_on="2026-01-01")
    anon = client.get(f"/api/v1/grids/{grids[0].code}").json()
    assert anon["staff"][0]["name"] == "王**" and anon["staff"][0]["phone"] == ""
    client.login(username="cw", password=PASSWORD)
    mine = client.get(f"/api/v1/grids/{grids[0].code}").json()
    assert mine["staff"][0]["name"] == "王网格" and mine["staff"][0]["phone"] == "139****1111"
    assert client.get("/api/v1/grids/450102001004999").status_code == 404
    client.logout()
    from gongzhi.accounts.services import token_create

    key = token_create(actor=None, username="cw")
    by_token = client.get(f"/api/v1/grids/{grids[0].code}", HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert by_token["staff"][0]["name"] == "王网格"
