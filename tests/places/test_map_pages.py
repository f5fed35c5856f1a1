"""Every map page carries one map config ({% map_config %}): the tile layer and its attribution from
settings (GONGZHI_MAP_TILE_URL / GONGZHI_MAP_TILE_ATTRIBUTION) and where the map opens for the user."""

import json
import re

import pytest

from tests.factories import grid_tree, user

PAGES = ["/map/", "/appeals/new/", "/appeals/public/", "/places/landmarks/"]


def config_of(response) -> dict:
    m = re.search(r'<script id="gz-map-config" type="application/json">(.*?)</script>', response.content.decode(), re.S)
    assert m, "no map config on the page"
    return json.loads(m.group(1))


@pytest.fixture
def cw(tree):
    grid_tree(tree["beining"], 108.32, 22.82, size=0.01)
    return user("cw", ("community_worker", tree["beining"]))


@pytest.mark.django_db
def test_no_tile_server_by_default(client, cw, tree):
    client.force_login(cw)
    for url in PAGES:
        r = client.get(url)
        assert r.status_code == 200, url
        c = config_of(r)
        assert (c["tiles"], c["attribution"]) == ("", ""), url
        assert c["home"]["community"]["id"] == tree["beining"].pk
        img = re.search(r"img-src ([^;]*)", r["Content-Security-Policy"]).group(1)
        assert "http" not in img


@pytest.mark.django_db
def test_a_configured_tile_server_reaches_every_map(client, cw, settings):
    settings.MAP_TILE_URL = "https://t{s}.tianditu.gov.cn/vec_w/wmts?tk=KEY&x={x}&y={y}&l={z}"
    settings.MAP_TILE_ATTRIBUTION = "© 天地图"
    client.force_login(cw)
    for url in PAGES:
        c = config_of(client.get(url))
        assert c["tiles"] == settings.MAP_TILE_URL and c["attribution"] == "© 天地图", url
    client.logout()
    assert config_of(client.get("/appeals/public/"))["home"] is None  # a visitor: no one's community


def test_the_attribution_setting_is_read_from_the_environment(tmp_path):
    from tests.core.test_deploy_settings import production_env, run

    env = production_env(tmp_path, GONGZHI_MAP_TILE_URL="https://{s}.tile.example.cn/{z}/{x}/{y}.png",
                         GONGZHI_MAP_TILE_ATTRIBUTION="© 示例")
    out = run(env, "-c", "import django; django.setup(); from django.conf import settings;"
                         "print(settings.MAP_TILE_URL, settings.MAP_TILE_ATTRIBUTION)")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "https://{s}.tile.example.cn/{z}/{x}/{y}.png © 示例"
