"""The audit page as an auditor uses it: readable action names and people's names, filters by actor,
action, object and date, paging, and an Excel export of exactly the filtered rows; auditors only."""

import datetime as dt
import io
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from gongzhi.core import audit
from gongzhi.core.models import PiiAccess
from gongzhi.org.models import Person
from gongzhi.web.audit_log import STATIC_LABELS, action_label
from tests.factories import user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def at(day: str, hour: int = 10):
    return timezone.make_aware(dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour)))


def record(actor, action, object_type, object_id, when):
    with mock.patch.object(audit.timezone, "now", return_value=when):
        audit.record(actor, action, object_type=object_type, object_id=object_id)


@pytest.fixture
def log(tree):
    gw = user("gw1", ("grid_worker", tree["beining"]))
    Person.objects.create(name="王网格员", registered_community=tree["beining"], user=gw)
    cw = user("cw", ("community_worker", tree["beining"]), first_name="李社工")
    record(gw, "appeal.accept", "appeals.appeal", "1", at("2026-03-01"))
    record(gw, "appeal.resolve", "appeals.appeal", "1", at("2026-03-02"))
    record(cw, "appeal.accept", "appeals.appeal", "2", at("2026-03-02", 23))
    record(cw, "need.create", "lists.need", "7", at("2026-03-05"))
    record(None, "x.unknown_code", "misc", "", at("2026-03-06"))
    return {"gw": gw, "cw": cw, "auditor": user("aud", ("auditor", tree["district"]))}


def page(client, who, **params):
    client.force_login(who)
    return client.get("/audit/", params)


def rows(resp) -> list[str]:
    html = resp.content.decode()
    return [chunk.split("</tr>")[0] for chunk in html.split('data-testid="audit-row"')[1:]]


def test_actions_and_people_are_readable(client, log):
    r = page(client, log["auditor"])
    html = r.content.decode()
    assert r.status_code == 200
    assert "诉求：受理" in html and "诉求：办结" in html and "发布需求" in html
    assert "王网格员（gw1）" in html and "李社工（cw）" in html and "系统" in html
    assert "x.unknown_code" in html  # a code the table does not know is shown as itself
    client.cookies["django_language"] = "en"
    html = client.get("/audit/").content.decode()
    assert "Request: Accept" in html and "Post a need" in html and "王网格员 (gw1)" in html


def test_every_static_label_is_translated_to_english():
    from django.utils import translation

    with translation.override("en"):
        untranslated = [c for c in STATIC_LABELS if any("\u4e00" <= ch <= "\u9fff" for ch in action_label(c))]
    assert not untranslated, untranslated


@pytest.mark.parametrize("params, expected", [
    ({"actor": "gw1"}, 2),
    ({"actor": "王网格员"}, 2),
    ({"actor": "CW"}, 2),
    ({"action": "appeal.accept"}, 2),
    ({"action": "appeal."}, 3),
    ({"object_type": "appeals.appeal", "object_id": "1"}, 2),
    ({"from": "2026-03-02", "to": "2026-03-02"}, 2),  # the whole local day, 23:00 included
    ({"from": "2026-03-03", "to": "2026-03-31"}, 2),
    ({"actor": "cw", "action": "appeal.accept", "to": "2026-03-04"}, 1),
    ({"actor": "nobody"}, 0),
])
def test_filters_narrow_the_list(client, log, params, expected):
    r = page(client, log["auditor"], **params)
    assert r.status_code == 200 and len(rows(r)) == expected, params


@pytest.mark.parametrize("params, message", [
    ({"from": "2026-02-30"}, "不是有效日期"),
    ({"to": "yesterday"}, "不是有效日期"),
    ({"from": "2026-03-05", "to": "2026-03-01"}, "起始日期不能晚于截止日期"),
    ({"action": "<script>"}, "操作编码只能包含"),
    ({"pii_from": "3/1/2026"}, "不是有效日期"),
    ({"actor": "x" * 200}, "筛选条件过长"),
])
def test_bad_filters_answer_400_with_a_message(client, log, params, message):
    r = page(client, log["auditor"], **params)
    assert r.status_code == 400 and message in r.content.decode()
    r = client.get("/audit/", {**params, "export": "audit"})
    assert r.status_code == 400 and message in r.content.decode()


def test_export_contains_exactly_the_filtered_rows(client, log):
    r = page(client, log["auditor"], actor="gw1", export="audit")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    data = list(ws.iter_rows(values_only=True))
    header, body = data[0], data[1:]
    assert "操作" in header and "操作人" in header
    assert sorted(row[header.index("操作")] for row in body) == ["诉求：办结", "诉求：受理"]
    assert {row[header.index("操作人")] for row in body} == {"王网格员（gw1）"}
    assert page(client, log["auditor"], export="bogus").status_code == 400


def test_only_auditors(client, log):
    for who in (log["gw"], log["cw"]):
        assert page(client, who).status_code == 403
        assert page(client, who, export="audit").status_code == 403
        assert page(client, who, export="pii").status_code == 403
    client.logout()
    assert client.get("/audit/").status_code == 302


def test_pages_keep_the_filters(client, log, settings):
    from gongzhi.web import audit_log

    with mock.patch.object(audit_log, "PAGE_SIZE", 1):
        r = page(client, log["auditor"], actor="gw1")
        html = r.content.decode()
        assert len(rows(r)) == 1 and "actor=gw1&amp;page=2" in html
        r = client.get("/audit/", {"actor": "gw1", "page": 2})
        assert len(rows(r)) == 1 and "诉求：受理" in rows(r)[0]


def test_query_count_does_not_grow_with_the_rows(client, log, tree):
    client.force_login(log["auditor"])
    PiiAccess.objects.create(user=log["cw"], subject="诉求 SQ0", field="phone", reason="核实")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/audit/").status_code == 200
    for i in range(30):  # thirty more entries by thirty different people
        u = user(f"p{i}")
        Person.objects.create(name=f"人员{i}", user=u)
        record(u, "person.update", "org.person", str(i), at("2026-03-07"))
        PiiAccess.objects.create(user=u, subject=f"诉求 SQ{i}", field="phone", reason="核实")
    with CaptureQueriesContext(connection) as many:
        assert client.get("/audit/").status_code == 200
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_the_access_log_is_filterable_and_exported(client, log):
    PiiAccess.objects.create(user=log["cw"], subject="诉求 SQ1", field="reporter_phone", reason="回访")
    PiiAccess.objects.create(user=log["gw"], subject="诉求 SQ2", field="reporter_name", reason="核实")
    r = page(client, log["auditor"], pii_actor="王网格员")
    html = r.content.decode()
    assert html.count('data-testid="pii-row"') == 1 and "诉求 SQ2" in html and "王网格员（gw1）" in html
    r = page(client, log["auditor"], pii_object_id="诉求 SQ1", export="pii")
    body = list(load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows(values_only=True))[1:]
    assert [row[2] for row in body] == ["诉求 SQ1"]
