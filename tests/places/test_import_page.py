"""The grid import page: who may open it, uploads with counts or a problem table, the export links."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.places import geojson_io
from gongzhi.places.models import Grid
from tests.factories import grid_tree, user
from tests.places.test_geojson_io import BEINING, X0, Y0, beining_file, bowtie, collection, feature

URL = "/places/grids/import/"


def upload(client, text, name="grids.geojson", **extra):
    return client.post(
        URL, {"file": SimpleUploadedFile(name, text.encode("utf-8"), "application/geo+json"), **extra}
    )


@pytest.fixture
def admin_client(client, tree):
    client.force_login(user("admin", ("district_admin", tree["district"])))
    return client


def test_anonymous_is_sent_to_login(client, tree):
    resp = client.get(URL)
    assert resp.status_code == 302
    assert resp["Location"].startswith("/login/?next=")


def test_a_community_worker_gets_403(client, tree):
    client.force_login(user("worker", ("community_worker", tree["beining"])))
    resp = client.get(URL)
    assert resp.status_code == 403
    assert "没有权限" in resp.content.decode()
    resp = upload(client, collection(*beining_file()))
    assert resp.status_code == 403
    assert Grid.objects.count() == 0


def test_the_page_shows_the_form_and_the_export_links(admin_client):
    body = admin_client.get(URL).content.decode()
    assert 'enctype="multipart/form-data"' in body
    assert "csrfmiddlewaretoken" in body
    assert 'type="file"' in body and 'name="dry_run"' in body
    assert 'href="/places/grids/export.geojson"' in body
    assert 'href="/places/grids/export.geojson?level=micro"' in body


def test_a_district_admin_uploads_a_good_file_and_sees_the_counts(admin_client):
    resp = upload(admin_client, collection(*beining_file()))
    assert resp.status_code == 200
    body = resp.content.decode()
    assert "导入完成" in body
    assert "<td>7</td><td>7</td><td>0</td><td>0</td>" in body
    assert Grid.objects.count() == 7


def test_a_bad_file_shows_every_problem_with_its_line_and_writes_nothing(admin_client):
    fs = beining_file(
        f3=feature(BEINING + "004", "micro", bowtie(X0 + 0.001, Y0 + 0.001), parent_code=BEINING + "002"),
        f5=feature(BEINING + "006", "micro", bowtie(X0 + 0.006, Y0 + 0.001), parent_code=BEINING + "099"),
    )
    resp = upload(admin_client, collection(*fs))
    body = resp.content.decode()
    assert "发现 3 个问题，没有写入任何数据" in body
    assert 'data-testid="import-problems"' in body
    assert "<tr><td>5</td><td>4</td><td>450102001004004</td>" in body
    assert "<tr><td>7</td><td>6</td><td>450102001004006</td>" in body
    assert "上级网格 450102001004099 不存在" in body
    assert Grid.objects.count() == 0


def test_bad_json_shows_the_line_of_the_error(admin_client):
    resp = upload(admin_client, '{"type": "FeatureCollection",\n"features": [\n{"type": "Feature",,}\n]}')
    body = resp.content.decode()
    assert "<tr><td>3</td><td></td><td></td>" in body
    assert "不是有效的 JSON" in body


def test_dry_run_shows_counts_and_writes_nothing(admin_client):
    resp = upload(admin_client, collection(*beining_file()), dry_run="1")
    body = resp.content.decode()
    assert "检查通过（试运行，未写入）" in body
    assert Grid.objects.count() == 0


def test_posting_without_a_file_asks_for_one(admin_client):
    resp = admin_client.post(URL, {})
    assert "请选择要导入的 GeoJSON 文件" in resp.content.decode()


def test_the_export_link_downloads_the_byte_stable_export(client, tree):
    grid_tree(tree["beining"], X0, Y0)
    resp = client.get("/places/grids/export.geojson?level=micro")
    assert resp.status_code == 200
    assert resp["Content-Type"].startswith("application/geo+json")
    assert 'filename="grids-micro.geojson"' in resp["Content-Disposition"]
    assert resp.content.decode("utf-8") == geojson_io.export_grids(level="micro")


def test_the_export_refuses_an_unknown_level(client, tree):
    resp = client.get("/places/grids/export.geojson?level=block")
    assert resp.status_code == 400


def test_uploading_the_export_again_reports_no_changes(admin_client, tree):
    grid_tree(tree["beining"], X0, Y0)
    exported = admin_client.get("/places/grids/export.geojson").content.decode("utf-8")
    body = upload(admin_client, exported).content.decode()
    assert "<td>7</td><td>0</td><td>0</td><td>7</td>" in body
