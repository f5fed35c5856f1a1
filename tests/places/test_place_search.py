"""The landmark registry (services and JSON API) and place search (GET /api/v1/places/search)."""

import pytest

from gongzhi.core.audit import AuditEntry
from gongzhi.core.errors import PermissionDenied, ValidationFailed
from gongzhi.org.models import Person
from gongzhi.places import services
from gongzhi.places.models import Landmark, PlaceKind
from gongzhi.places.search import search_places
from tests.factories import grid_tree, place, user

# 北宁 tiles 108.32–108.33 × 22.82–22.83, 兴宁 108.33–108.34 (grid_tree with size 0.01).
IN_BEINING = (108.3225, 22.8225)
IN_XINGNING = (108.3325, 22.8225)


@pytest.fixture
def world(tree):
    grid_tree(tree["beining"], 108.32, 22.82, size=0.01)
    grid_tree(tree["xingning"], 108.33, 22.82, size=0.01)
    compound = place(PlaceKind.COMPOUND, "450102001004001", "大修厂小区", tree["beining"], lon=108.3226, lat=22.8226)
    place(PlaceKind.BUILDING, "450102001004001001", "和安楼", compound, lon=108.3227, lat=22.8227)
    return tree


@pytest.fixture
def worker(world):
    return user("cw", ("community_worker", world["beining"]))


def _landmark(world, worker, name="北宁菜市场", **kw):
    return services.landmark_create(actor=worker, name=name, community=world["beining"],
                                    lon=kw.get("lon", IN_BEINING[0]), lat=kw.get("lat", IN_BEINING[1]),
                                    note=kw.get("note", ""))


# ---- search ----

@pytest.mark.django_db
@pytest.mark.parametrize("q", ["大修厂小区", "dxcxq", "daxiuchang", "大修厂", "DXC"])
def test_the_compound_is_found_by_name_pinyin_and_initials(client, world, q):
    r = client.get("/api/v1/places/search", {"q": q})
    assert r.status_code == 200, r.content
    first = r.json()["results"][0]
    assert first["label"] == "大修厂小区" and first["kind"] == "compound"
    assert first["community_id"] == world["beining"].pk
    assert first["lon"] == pytest.approx(108.3226) and first["lat"] == pytest.approx(22.8226)
    assert "北宁社区" in first["detail"] and "民生街道" in first["detail"]


@pytest.mark.django_db
def test_landmarks_communities_and_buildings_are_found_with_where_they_are(client, world, worker):
    _landmark(world, worker)
    body = client.get("/api/v1/places/search", {"q": "bncsc"}).json()
    assert [(x["kind"], x["label"]) for x in body["results"]] == [("landmark", "北宁菜市场")]
    assert "北宁社区" in body["results"][0]["detail"]
    assert client.get("/api/v1/places/search", {"q": "beining"}).json()["results"][0]["kind"] == "community"
    building = client.get("/api/v1/places/search", {"q": "hal"}).json()["results"][0]
    assert building["label"] == "和安楼" and "大修厂小区" in building["detail"]
    # One community's places only, and one kind only.
    inside = client.get("/api/v1/places/search", {"community": world["xingning"].pk, "kind": "landmark,compound"})
    assert inside.json()["results"] == []


@pytest.mark.django_db
def test_a_resident_and_an_anonymous_visitor_may_search(client, world):
    resident = user("res")
    client.force_login(resident)
    assert client.get("/api/v1/places/search", {"q": "dxcxq"}).json()["results"]
    client.logout()
    assert client.get("/api/v1/places/search", {"q": "dxcxq"}).json()["results"]


@pytest.mark.django_db
def test_search_pages_through_every_match_once(client, world, worker):
    for i in range(7):
        _landmark(world, worker, name=f"北宁路口{i}号")
    seen, offset = [], 0
    while offset is not None:
        body = client.get("/api/v1/places/search", {"q": "bnlk", "limit": 3, "offset": offset}).json()
        assert len(body["results"]) <= 3
        seen += [x["label"] for x in body["results"]]
        offset = body["next"]
    assert sorted(seen) == sorted(f"北宁路口{i}号" for i in range(7)) and len(seen) == 7


@pytest.mark.django_db
@pytest.mark.parametrize("params,code", [
    ({"limit": "0"}, "bad_limit"), ({"limit": "51"}, "bad_limit"), ({"limit": "x"}, "bad_limit"),
    ({"offset": "-1"}, "bad_offset"), ({"offset": "100000"}, "bad_offset"),
    ({"kind": "street"}, "bad_kind"), ({"community": "999999"}, "bad_community"), ({"community": "abc"}, "bad_community"),
    ({"q": "x" * 51}, "query_too_long"),
])
def test_bad_search_input_is_a_clear_400(client, world, params, code):
    r = client.get("/api/v1/places/search", params)
    assert r.status_code == 400, r.content
    assert r.json()["error"]["code"] == code and r.json()["error"]["message"]


@pytest.mark.django_db
def test_street_of_the_community_is_not_a_community_filter(world):
    with pytest.raises(ValidationFailed):
        search_places(community=world["street"].pk)


# ---- the registry: services ----

@pytest.mark.django_db
def test_create_update_delete_are_audited(world, worker):
    lm = _landmark(world, worker, note="早市 6 点开门")
    assert lm.created_by == worker and "bncsc" in lm.search_key
    services.landmark_update(actor=worker, landmark=lm, name="北宁农贸市场")
    lm.refresh_from_db()
    assert lm.name == "北宁农贸市场" and "bnnmsc" in lm.search_key
    services.landmark_delete(actor=worker, landmark=lm)
    assert not Landmark.objects.exists()
    actions = list(AuditEntry.objects.filter(object_type="places.landmark").values_list("action", flat=True))
    assert actions == ["landmark.create", "landmark.update", "landmark.delete"]


@pytest.mark.django_db
@pytest.mark.parametrize("kw,code", [
    ({"name": "  "}, "name_required"), ({"name": "长" * 101}, "name_too_long"), ({"note": "长" * 201}, "note_too_long"),
    ({"lon": "abc"}, "bad_point"), ({"lon": "200"}, "bad_point"),
    ({"lon": IN_XINGNING[0]}, "outside_community"), ({"lon": "100", "lat": "30"}, "outside_community"),
])
def test_bad_landmarks_are_refused_with_nothing_changed(world, worker, kw, code):
    args = {"name": "北宁菜市场", "community": world["beining"], "lon": IN_BEINING[0], "lat": IN_BEINING[1], "note": ""}
    with pytest.raises(ValidationFailed) as exc:
        services.landmark_create(actor=worker, **{**args, **kw})
    assert exc.value.code == code and str(exc.value.message)
    assert not Landmark.objects.exists() and not AuditEntry.objects.filter(object_type="places.landmark").exists()


@pytest.mark.django_db
def test_only_staff_of_the_community_may_register_there(world, worker):
    other = user("xw", ("community_worker", world["xingning"]))
    resident = user("res")
    for actor in (other, resident):
        with pytest.raises(PermissionDenied):
            _landmark(world, actor)
    lm = _landmark(world, worker)
    with pytest.raises(PermissionDenied):
        services.landmark_delete(actor=other, landmark=lm)
    # Moving it into a community the actor does not reach is refused too, and nothing changes.
    with pytest.raises(PermissionDenied):
        services.landmark_update(actor=worker, landmark=lm, community=world["xingning"],
                                 lon=IN_XINGNING[0], lat=IN_XINGNING[1])
    lm.refresh_from_db()
    assert lm.community == world["beining"]


# ---- the registry: JSON API ----

@pytest.mark.django_db
def test_api_create_list_patch_delete(client, world, worker):
    client.force_login(worker)
    r = client.post("/api/v1/landmarks", {"name": "北宁小学东门", "community": world["beining"].pk,
                                           "lon": IN_BEINING[0], "lat": IN_BEINING[1]}, content_type="application/json")
    assert r.status_code == 201, r.content
    lid = r.json()["id"]
    listed = client.get("/api/v1/landmarks").json()
    assert [x["name"] for x in listed["results"]] == ["北宁小学东门"] and listed["next"] is None
    r = client.patch(f"/api/v1/landmarks/{lid}", {"note": "上学时段人多"}, content_type="application/json")
    assert r.status_code == 200 and r.json()["note"] == "上学时段人多" and r.json()["name"] == "北宁小学东门"
    assert client.get("/api/v1/places/search", {"q": "bnxxdm"}).json()["results"][0]["id"] == lid
    assert client.delete(f"/api/v1/landmarks/{lid}").status_code == 204
    assert not Landmark.objects.exists()


@pytest.mark.django_db
def test_api_refuses_bad_input_and_other_scopes(client, world, worker):
    lm = _landmark(world, worker)
    other = user("xw", ("community_worker", world["xingning"]))
    client.force_login(other)
    assert client.get("/api/v1/landmarks").json()["results"] == []
    assert client.patch(f"/api/v1/landmarks/{lm.pk}", {"name": "x"}, content_type="application/json").status_code == 404
    assert client.delete(f"/api/v1/landmarks/{lm.pk}").status_code == 404
    r = client.post("/api/v1/landmarks", {"name": "x", "community": world["beining"].pk, "lon": IN_BEINING[0],
                                           "lat": IN_BEINING[1]}, content_type="application/json")
    assert r.status_code == 403
    client.force_login(worker)
    r = client.post("/api/v1/landmarks", {"name": "", "community": world["beining"].pk, "lon": IN_BEINING[0],
                                           "lat": IN_BEINING[1]}, content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "name_required"
    r = client.post("/api/v1/landmarks", {"name": "x", "community": world["street"].pk, "lon": IN_BEINING[0],
                                           "lat": IN_BEINING[1]}, content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_community"
    r = client.patch(f"/api/v1/landmarks/{lm.pk}", {"lat": "north"}, content_type="application/json")
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_point"
    lm.refresh_from_db()
    assert lm.lat == IN_BEINING[1] and Landmark.objects.count() == 1
    # A grid worker of the community sees its landmarks but may not change them.
    gw = user("gw", ("grid_worker", world["beining"].grids.get(level="community")))
    client.force_login(gw)
    assert [x["id"] for x in client.get("/api/v1/landmarks").json()["results"]] == [lm.pk]
    assert client.delete(f"/api/v1/landmarks/{lm.pk}").status_code == 404


@pytest.mark.django_db
def test_map_home_is_the_residents_community_or_the_staff_scope(world, worker):
    from gongzhi.places.selectors import map_home

    resident = user("res")
    Person.objects.create(name="王小明", registered_community=world["xingning"], user=resident)
    home = map_home(resident)
    assert home["community"]["id"] == world["xingning"].pk
    assert home["bbox"] == pytest.approx([108.33, 22.82, 108.34, 22.83])
    assert map_home(worker)["community"]["id"] == world["beining"].pk
    street = user("st", ("street_officer", world["street"]))
    assert map_home(street)["community"] is None and map_home(street)["bbox"] == pytest.approx(
        [108.32, 22.82, 108.34, 22.83])
    assert map_home(user("nobody")) is None
