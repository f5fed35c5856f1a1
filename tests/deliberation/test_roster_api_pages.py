"""The roster through the JSON API and the pages: who sees what, who may act, errors in one shape."""

from __future__ import annotations

import datetime as dt

import pytest
from openpyxl import load_workbook

from gongzhi.deliberation import services
from gongzhi.deliberation.models import ChairSwap, ChairTerm, SwapState
from tests.factories import PASSWORD

from .conftest import bearer

pytestmark = pytest.mark.django_db
BASE = "/api/v1/deliberation"


def generate(w, year=2026):
    return services.roster_generate(actor=w.cw, committee=w.committee, year=year, today=dt.date(2026, 1, 1))


def test_committees_each_role_follows(client, world):
    w = world
    for who, expected in ((w.cw, [w.committee.pk]), (w.liaisons[2], [w.committee.pk]), (w.resident, []),
                          (w.cw_x, [w.other.pk]), (w.auditor, sorted([w.committee.pk, w.other.pk]))):
        got = client.get(f"{BASE}/committees", **bearer(who)).json()["items"]
        assert sorted(c["id"] for c in got) == expected, who.username


def test_drafts_for_managers_and_member_liaisons_published_months_for_everyone_else(client, world):
    w = world
    generate(w)
    services.roster_publish(actor=w.cw, committee=w.committee, year=2026, through=dt.date(2026, 2, 1))
    url = f"{BASE}/committees/{w.committee.pk}/roster/2026"
    full = client.get(url, **bearer(w.liaisons[1])).json()
    assert full["drafts"] is True and all(m["unit_id"] for m in full["months"])
    assert [m["published"] for m in full["months"]][:3] == [True, True, False]
    assert full["months"][1]["mine"] is True and full["months"][0]["mine"] is False
    outside = client.get(url, **bearer(w.resident)).json()
    assert outside["drafts"] is False
    assert [m["unit_id"] is not None for m in outside["months"]] == [True, True] + [False] * 10
    assert client.get(url).status_code == 401


def test_generate_and_publish_through_the_api(client, world):
    w = world
    url = f"{BASE}/committees/{w.committee.pk}/roster/2027"
    r = client.post(url + "/generate", **bearer(w.cw))
    assert r.status_code == 200 and len(r.json()["changed"]) == 12
    r = client.post(url + "/publish", {"through": "2027-03-01"}, content_type="application/json", **bearer(w.cw))
    assert r.status_code == 200 and r.json()["published"] == 3
    denied = client.post(url + "/publish", {}, content_type="application/json", **bearer(w.liaisons[0]))
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    assert ChairTerm.objects.filter(published_at__isnull=False).count() == 3


@pytest.mark.parametrize("path,status,code", [
    ("/committees/999999/roster/2026/generate", 404, "committee_not_found"),
    ("/committees/{c}/roster/1999/generate", 400, "year_invalid"),
])
def test_bad_input_is_a_clear_error_and_changes_nothing(client, world, path, status, code):
    r = client.post(BASE + path.format(c=world.committee.pk), **bearer(world.cw),
                    HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == status and r.json()["error"]["code"] == code
    assert r.json()["error"]["message"] and not ChairTerm.objects.exists()


def test_an_english_reader_gets_english(client, world):
    empty_committee = world.other
    r = client.post(f"{BASE}/committees/{empty_committee.pk}/roster/2026/generate", **bearer(world.cw_x),
                    HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 400 and r.json()["error"]["code"] == "roster_no_units"
    assert "member unit" in r.json()["error"]["message"]


def test_swap_through_the_api(client, world):
    w = world
    generate(w)
    jan, feb = ChairTerm.objects.filter(committee=w.committee).order_by("month")[:2]
    r = client.post(f"{BASE}/swaps", {"term_id": jan.pk, "other_term_id": feb.pk, "reason": "年终审计"},
                    content_type="application/json", **bearer(w.liaisons[0]))
    assert r.status_code == 201 and r.json()["state"] == "pending"
    swap_id = r.json()["id"]
    assert client.post(f"{BASE}/swaps/{swap_id}/accept", **bearer(w.liaisons[0])).status_code == 403
    r = client.post(f"{BASE}/swaps/{swap_id}/accept", **bearer(w.liaisons[1]))
    assert r.status_code == 200 and r.json()["state"] == "accepted"
    assert client.post(f"{BASE}/swaps/{swap_id}/decline", **bearer(w.liaisons[1])).status_code == 409
    assert client.post(f"{BASE}/swaps/424242/accept", **bearer(w.liaisons[1])).status_code == 404


def test_roster_excel_ledger(client, world):
    import io

    w = world
    generate(w)
    r = client.get(f"{BASE}/committees/{w.committee.pk}/roster/2026?format=xlsx", **bearer(w.cw))
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = list(load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("月份", "轮值主席单位") and len(rows) == 13
    assert rows[1][:2] == ("2026-01", w.units[0].name)


def _login(client, username):
    assert client.login(username=username, password=PASSWORD)


def test_pages_generate_publish_and_swap(client, world):
    w = world
    _login(client, "cw")
    assert 'href="/deliberation/"' in client.get("/").content.decode()  # in the menu
    page = client.get("/deliberation/")
    assert w.committee.name in page.content.decode()
    url = f"/deliberation/committees/{w.committee.pk}/roster/2027/"
    r = client.post(url + "generate/", follow=True)
    assert "轮值表已生成" in r.content.decode() and ChairTerm.objects.count() == 12
    r = client.post(url + "publish/", {"through": "2027-02"}, follow=True)
    assert "已发布 2 个月" in r.content.decode()
    r = client.post(url + "publish/", {"through": "2027-13"}, follow=True)
    assert "月份格式不正确" in r.content.decode()
    client.logout()
    _login(client, "liaison2")
    body = client.get(url).content.decode()
    assert "申请调换月份" in body and "本单位" in body
    mar, apr = ChairTerm.objects.filter(month__in=[dt.date(2027, 3, 1), dt.date(2027, 4, 1)]).order_by("month")
    r = client.post(url + "swaps/", {"term": mar.pk, "other": apr.pk, "reason": "三月有上级检查"}, follow=True)
    assert "调换申请已发出" in r.content.decode()
    swap = ChairSwap.objects.get()
    client.logout()
    _login(client, "liaison3")
    body = client.get(url).content.decode()
    assert "三月有上级检查" in body and "swap-accept" in body
    r = client.post(url + f"swaps/{swap.pk}/accept/", follow=True)
    assert "已同意调换" in r.content.decode()
    assert ChairSwap.objects.get().state == SwapState.ACCEPTED
    r = client.post(url + f"swaps/{swap.pk}/accept/", follow=True)
    assert "已处理" in r.content.decode()


def test_pages_refuse_outsiders_and_hide_drafts(client, world):
    w = world
    generate(w)
    _login(client, "jumin")
    assert 'href="/deliberation/"' not in client.get("/").content.decode()
    url = f"/deliberation/committees/{w.committee.pk}/roster/2026/"
    body = client.get(url).content.decode()
    assert "仅显示已发布的月份" in body and w.units[0].name not in body
    r = client.post(url + "generate/", follow=True)
    assert "您没有权限" in r.content.decode()
    assert client.get("/deliberation/committees/999999/roster/2026/").status_code == 404
    client.logout()
    assert client.get(url).status_code == 302  # sign in first
