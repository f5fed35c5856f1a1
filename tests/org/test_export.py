"""A person's data export (PIPL art. 45): staff with the person in scope, a reason, logged and audited."""

import io
import json

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from gongzhi.core.models import AuditEntry, PiiAccess
from gongzhi.timebank import services as timebank
from tests.org.helpers import bearer

pytestmark = pytest.mark.django_db


def _api(reg, who, reason="本人申请查阅"):
    headers = bearer(who) if who is not None else {}
    return Client().post(f"/api/v1/people/{reg.zhang.pk}/export", {"reason": reason},
                         content_type="application/json", **headers)


def _page(client, reg, who, reason="本人申请查阅", fmt="json"):
    client.force_login(who)
    return client.post(reverse("org:person_export", args=[reg.zhang.pk]), {"reason": reason, "format": fmt})


def _with_holdings(reg):
    from django.contrib.auth import get_user_model

    u = get_user_model().objects.create_user("zhang", password="x")
    reg.zhang.user = u
    reg.zhang.save()
    timebank.credit_hours(person=reg.zhang, hours=2, source="test", source_ref="export-1")
    return reg


def test_staff_in_scope_get_everything_in_clear_and_the_read_is_logged(reg):
    _with_holdings(reg)
    r = _api(reg, reg.worker)
    assert r.status_code == 200, r.content
    data = r.json()
    assert data["person"]["phone"] == "13812345678" and data["person"]["name"] == "张三"
    assert data["person"]["id_number"]
    assert data["party"]["home_organization"] == "北宁社区党委"
    assert data["account"]["username"] == "zhang"
    assert data["timebank"]["balance"] == "2.00" and len(data["timebank"]["statement"]) == 1
    assert {"appeals", "needs", "volunteering"} <= set(data)
    log = PiiAccess.objects.get()
    assert (log.user, log.person, log.field, log.reason, log.channel) == (
        reg.worker, reg.zhang, "export", "本人申请查阅", "api")
    entry = AuditEntry.objects.get(action="person.export")
    assert entry.object_id == str(reg.zhang.pk) and entry.after["reason"] == "本人申请查阅"
    assert "13812345678" not in json.dumps(entry.after, ensure_ascii=False)


def test_the_page_downloads_json_and_excel(client, reg):
    _with_holdings(reg)
    client.force_login(reg.worker)
    html = client.get(reverse("org:person", args=[reg.zhang.pk])).content.decode()
    assert 'data-testid="export-person"' in html
    r = _page(client, reg, reg.worker)
    assert r.status_code == 200 and r["Content-Disposition"].startswith("attachment")
    assert json.loads(r.content)["person"]["phone"] == "13812345678"
    r = _page(client, reg, reg.worker, fmt="xlsx")
    wb = load_workbook(io.BytesIO(r.content))
    assert any("timebank" in ws.title for ws in wb.worksheets)
    assert PiiAccess.objects.filter(field="export", channel="web").count() == 2


def test_out_of_scope_staff_get_404_and_residents_403(client, reg):
    assert _api(reg, reg.worker_x).status_code == 404
    assert _api(reg, reg.resident).status_code == 403
    assert _api(reg, None).status_code == 401
    assert _page(client, reg, reg.worker_x).status_code == 404
    assert _page(Client(), reg, reg.resident).status_code == 403
    assert not PiiAccess.objects.exists() and not AuditEntry.objects.filter(action="person.export").exists()


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_reason_is_required(client, reg, reason):
    r = _api(reg, reg.worker, reason=reason)
    assert r.status_code == 400 and r.json()["error"]["code"] == "reason_required"
    r = _page(client, reg, reg.worker, reason=reason)
    assert r.status_code == 400 and "请填写导出原因。" in r.content.decode()
    assert not PiiAccess.objects.exists() and not AuditEntry.objects.filter(action="person.export").exists()

