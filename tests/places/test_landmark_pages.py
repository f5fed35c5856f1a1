"""The landmark registry's page (/places/landmarks/): staff of a community add, edit and remove its
landmarks; bad input is refused beside its field with nothing changed; others cannot."""

import pytest

from gongzhi.core.audit import AuditEntry
from gongzhi.places.models import Landmark
from gongzhi.places.services import landmark_create
from tests.factories import grid_tree, user

IN_BEINING = ("108.3225", "22.8225")
IN_XINGNING = ("108.3325", "22.8225")


@pytest.fixture
def world(tree):
    grid_tree(tree["beining"], 108.32, 22.82, size=0.01)
    grid_tree(tree["xingning"], 108.33, 22.82, size=0.01)
    return tree


@pytest.fixture
def cw(world):
    return user("cw", ("community_worker", world["beining"]))


def post(client, world, url="/places/landmarks/", **kw):
    data = {"name": "北宁菜市场", "community": world["beining"].pk, "lon": IN_BEINING[0], "lat": IN_BEINING[1],
            "note": ""}
    data.update(kw)
    return client.post(url, data)


@pytest.mark.django_db
def test_staff_add_edit_and_remove_a_landmark(client, world, cw):
    client.force_login(cw)
    page = client.get("/places/landmarks/")
    assert page.status_code == 200 and 'data-testid="landmark-form"' in page.content.decode()
    r = post(client, world, note="早 6 点开市")
    assert r.status_code == 302
    lm = Landmark.objects.get()
    assert (lm.name, lm.note, lm.created_by) == ("北宁菜市场", "早 6 点开市", cw)
    assert "北宁菜市场" in client.get("/places/landmarks/").content.decode()
    r = post(client, world, url=f"/places/landmarks/{lm.pk}/", name="北宁农贸市场")
    assert r.status_code == 302
    lm.refresh_from_db()
    assert lm.name == "北宁农贸市场"
    assert client.get(f"/places/landmarks/{lm.pk}/delete/").status_code == 405
    assert client.post(f"/places/landmarks/{lm.pk}/delete/").status_code == 302
    assert not Landmark.objects.exists()
    assert list(AuditEntry.objects.filter(object_type="places.landmark").values_list("action", flat=True)) == [
        "landmark.create", "landmark.update", "landmark.delete"]


@pytest.mark.django_db
@pytest.mark.parametrize("kw,message", [
    ({"name": ""}, "地标名称不能为空"),
    ({"lon": "", "lat": ""}, "请在地图上点出地标的位置"),
    ({"lon": "东经", "lat": "北纬"}, "经纬度必须是数字"),
    ({"lon": IN_XINGNING[0]}, "不在「北宁社区」的网格范围内"),
    ({"community": ""}, "地标必须属于一个社区"),
    ({"note": "长" * 201}, "200"),
])
def test_bad_input_is_refused_with_a_message_and_nothing_changed(client, world, cw, kw, message):
    client.force_login(cw)
    r = post(client, world, **kw)
    assert r.status_code == 400
    assert message in r.content.decode()
    assert not Landmark.objects.exists()


@pytest.mark.django_db
def test_english_messages(client, world, cw):
    client.force_login(cw)
    client.cookies["django_language"] = "en"
    r = post(client, world, lon=IN_XINGNING[0])
    assert r.status_code == 400 and "is not inside the grids of" in r.content.decode()
    assert "Landmarks" in client.get("/places/landmarks/").content.decode()


@pytest.mark.django_db
def test_others_cannot_change_it(client, world, cw):
    lm = landmark_create(actor=cw, name="北宁菜市场", community=world["beining"], lon=IN_BEINING[0], lat=IN_BEINING[1])
    client.force_login(user("res", ("resident", world["beining"])))
    assert client.get("/places/landmarks/").status_code == 403
    client.force_login(user("xw", ("community_worker", world["xingning"])))
    assert "北宁菜市场" not in client.get("/places/landmarks/").content.decode()
    assert post(client, world, url=f"/places/landmarks/{lm.pk}/", name="x").status_code == 404
    assert client.post(f"/places/landmarks/{lm.pk}/delete/").status_code == 404
    assert post(client, world).status_code == 400  # 北宁 is not theirs: refused, nothing written
    assert Landmark.objects.get().name == "北宁菜市场" and Landmark.objects.count() == 1
