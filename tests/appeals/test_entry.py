"""Staff entry of appeals (代录) on /appeals/entry/: hotline calls, patrol reports, who may, and the
unmasked read of an assisted reporter's phone; plus the resident page's mobile and map helpers."""

import re
import threading

import pytest
from django.db import connections
from django.test import Client

from gongzhi.appeals.models import Appeal
from gongzhi.core import audit, pii
from gongzhi.core.models import AuditEntry
from tests.appeals.conftest import IN_GRID, IN_XINGNING, JPEG, bearer
from tests.factories import user
from tests.race import join_all

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
MASKED = "138****5678"


def _key(client, url="/appeals/entry/"):
    html = client.get(url).content.decode()
    return re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)


def _post(client, key, source="hotline", point=IN_GRID, **kw):
    data = {"source": source, "category": "noise", "urgency": "normal", "title": "",
            "text": "来电反映：北宁街 8 号烧烤店营业到凌晨两点，噪声很大。", "lon": point[0], "lat": point[1],
            "idempotency_key": key, "reporter_name": "张大爷", "reporter_phone": "138 1234 5678",
            "consent_recorded": "on", **kw}
    return client.post("/appeals/entry/", {k: v for k, v in data.items() if v is not None})


def _audit_actions(action):
    return list(AuditEntry.objects.filter(action=action))


# ---- who may open the page ----

def test_residents_get_403_and_anonymous_users_the_login_page(client, city):
    assert client.get("/appeals/entry/").status_code == 302
    client.force_login(city.jumin)
    r = client.get("/appeals/entry/")
    assert r.status_code == 403 and "你的角色不使用「代录诉求」" in r.content.decode()
    r = _post(client, "k-resident")
    assert r.status_code == 403 and not Appeal.objects.exists()
    assert "/appeals/entry/" not in client.get("/appeals/new/").content.decode()  # no menu entry either


def test_the_page_offers_only_the_sources_the_services_allow_staff(client, city):
    client.force_login(city.cw)
    html = client.get("/appeals/entry/").content.decode()
    assert 'href="/appeals/entry/"' in html  # the menu entry 代录诉求
    offered = set(re.findall(r'name="source" value="([a-z0-9]+)"', html))
    assert offered == {"hotline", "visit", "patrol", "deliberation", "enterprise"}
    assert re.search(r'name="source" value="hotline"[^>]*checked', html)  # an office takes calls
    client.force_login(city.gw1)
    html = client.get("/appeals/entry/").content.decode()
    assert re.search(r'name="source" value="patrol"[^>]*checked', html)  # a grid worker patrols
    html = client.get("/appeals/entry/?source=visit").content.decode()  # the 继续录入 link keeps the source
    assert re.search(r'name="source" value="visit"[^>]*checked', html)


# ---- a hotline call ----

def test_community_worker_enters_a_hotline_call_kept_encrypted_and_shown_masked(client, city):
    client.force_login(city.cw)
    r = _post(client, _key(client))
    a = Appeal.objects.get()
    assert r.status_code == 302 and r.url == f"/appeals/{a.number}/"
    assert (a.source, a.reporter, a.submitted_by, a.owner, a.consent_recorded) == (
        "hotline", None, city.cw, city.gw1, True)
    # At rest: ciphertext and a keyed hash; the clear phone and name are in no column.
    assert pii.decrypt(a.reporter_phone_enc) == PHONE and pii.decrypt(a.reporter_name_enc) == "张大爷"
    assert (a.reporter_phone_masked, a.reporter_name_masked) == (MASKED, "张**")
    assert a.reporter_phone_hash == pii.lookup_hash(PHONE)
    assert not Appeal.objects.filter(reporter_phone_enc__contains=PHONE).exists()
    assert not Appeal.objects.filter(reporter_name_enc__contains="张大爷").exists()
    # The appeal's page, with the success message and a 继续录入 link back to a fresh form.
    detail = client.get(r.url).content.decode()
    assert a.number in detail and MASKED in detail and PHONE not in detail
    assert re.search(r'<a href="/appeals/entry/\?source=hotline" data-testid="continue-entry">继续录入</a>', detail)
    # Masked in every list: my recent entries, the API list, the grid worker's inbox.
    entry = client.get("/appeals/entry/").content.decode()
    assert MASKED in entry and "张**" in entry and PHONE not in entry and "张大爷" not in entry
    api = Client().get("/api/v1/appeals", **bearer(city.cw))
    assert api.status_code == 200 and MASKED in api.content.decode() and PHONE not in api.content.decode()
    inbox = Client()
    inbox.force_login(city.gw1)
    assert PHONE not in inbox.get("/appeals/inbox/").content.decode()
    assert PHONE not in inbox.get(f"/appeals/{a.number}/").content.decode()


def test_unmasking_the_callers_phone_is_logged_and_needs_the_permission(client, city):
    client.force_login(city.cw)
    _post(client, _key(client))
    a = Appeal.objects.get()
    before = AuditEntry.objects.count()
    r = client.post(f"/appeals/entry/{a.number}/reveal/", {"field": "phone", "reason": ""})
    assert r.status_code == 400 and "请填写查看原因" in r.content.decode() and PHONE not in r.content.decode()
    assert AuditEntry.objects.count() == before

    r = client.post(f"/appeals/entry/{a.number}/reveal/", {"field": "phone", "reason": "回访核实噪声情况"})
    html = r.content.decode()
    assert r.status_code == 200 and r["Cache-Control"] == "no-store" and PHONE in html
    (entry,) = _audit_actions("appeal.reporter_unmask")
    assert (entry.actor, entry.object_type, entry.object_id) == (city.cw, "appeals.appeal", str(a.pk))
    assert entry.after == {"number": a.number, "field": "phone", "reason": "回访核实噪声情况", "channel": "web"}
    assert PHONE not in str(entry.after) and audit.verify()[0]
    r = client.post(f"/appeals/entry/{a.number}/reveal/", {"field": "name", "reason": "回访"})
    assert "张大爷" in r.content.decode() and len(_audit_actions("appeal.reporter_unmask")) == 2
    # Both clear reads are in the person access log that auditors read, named by the appeal.
    from gongzhi.core.models import PiiAccess

    logged = list(PiiAccess.objects.order_by("id").values_list("user", "person", "subject", "field", "reason"))
    assert logged == [(city.cw.pk, None, f"诉求 {a.number}", "reporter_phone", "回访核实噪声情况"),
                      (city.cw.pk, None, f"诉求 {a.number}", "reporter_name", "回访")]
    auditor = Client()
    auditor.force_login(user("aud", ("auditor", city.tree["district"])))
    page = auditor.get("/audit/").content.decode()
    assert f"诉求 {a.number}" in page and PHONE not in page

    # A grid worker sees the appeal but may not read personal data in clear; another community's
    # worker does not even see it (the same 404 as a missing number).
    gw = Client()
    gw.force_login(city.gw1)
    r = gw.post(f"/appeals/entry/{a.number}/reveal/", {"field": "phone", "reason": "想看看"})
    assert r.status_code == 403 and PHONE not in r.content.decode()
    other = Client()
    other.force_login(city.cw_x)
    r = other.post(f"/appeals/entry/{a.number}/reveal/", {"field": "phone", "reason": "想看看"})
    assert r.status_code == 404 and PHONE not in r.content.decode()
    assert len(_audit_actions("appeal.reporter_unmask")) == 2


def test_an_anonymous_callers_identity_cannot_be_unmasked(client, city):
    client.force_login(city.cw)
    _post(client, _key(client), anonymous="on")
    a = Appeal.objects.get()
    assert "查看完整信息" not in client.get("/appeals/entry/").content.decode()
    r = client.post(f"/appeals/entry/{a.number}/reveal/", {"field": "phone", "reason": "回访"})
    assert r.status_code == 403 and PHONE not in r.content.decode()
    assert not _audit_actions("appeal.reporter_unmask")


def test_a_call_without_a_phone_has_no_phone_to_unmask(client, city):
    client.force_login(city.cw)
    _post(client, _key(client), reporter_phone="")
    a = Appeal.objects.get()
    assert (a.reporter_phone_enc, a.reporter_phone_masked) == ("", "")
    r = client.post(f"/appeals/entry/{a.number}/reveal/", {"field": "phone", "reason": "回访"})
    assert r.status_code == 400 and f"诉求 {a.number} 没有登记反映人的手机号。" in r.content.decode()
    assert not _audit_actions("appeal.reporter_unmask")


def test_missing_consent_or_name_is_refused_clearly_and_nothing_is_saved(client, city):
    client.force_login(city.cw)
    r = _post(client, _key(client), consent_recorded=None)
    html = r.content.decode()
    assert r.status_code == 400 and "代为录入须先征得反映人同意，并勾选“已征得同意”。" in html
    assert 'value="张大爷"' in html  # what was typed stays in the form
    r = _post(client, _key(client), reporter_name="")
    assert r.status_code == 400 and "请填写反映人姓名。" in r.content.decode()
    r = _post(client, _key(client), reporter_phone="12345")
    assert r.status_code == 400 and "手机号应为 11 位数字" in r.content.decode()
    assert not Appeal.objects.exists() and not _audit_actions("appeal.submit")


def test_staff_outside_the_grids_community_get_the_services_refusal(client, city):
    client.force_login(city.cw_x)  # 兴宁社区's worker, entering a call about 北宁社区
    r = _post(client, _key(client))
    assert r.status_code == 403
    assert "只有该网格所在社区的工作人员可以录入“热线代录”来源的诉求。" in r.content.decode()
    assert not Appeal.objects.exists()
    r = _post(client, _key(client), point=IN_XINGNING)  # their own community is fine
    assert r.status_code == 302 and Appeal.objects.get().owner == city.gw_x


# ---- patrol ----

def test_a_patrol_report_is_owned_by_the_on_duty_worker_of_the_grid(client, city):
    client.force_login(city.gw2)  # 刘网格员 patrols micros[0]; 王网格员 is its on-duty first responder
    r = _post(client, _key(client), source="patrol", text="巡查发现：北宁街路灯杆倾斜，有倒伏风险。",
              reporter_name="", reporter_phone="", consent_recorded=None, photos=[_jpeg()])
    a = Appeal.objects.get()
    assert r.status_code == 302 and r.url == f"/appeals/{a.number}/"
    assert (a.source, a.reporter, a.submitted_by, a.owner, a.owner_level) == (
        "patrol", city.gw2, city.gw2, city.gw1, "grid")
    assert (a.reporter_name_enc, a.reporter_phone_enc, a.photos.count()) == ("", "", 1)
    assert "继续录入" in client.get(r.url).content.decode()
    # The patrol worker's own name shows as the reporter; nothing to unmask.
    entry = client.get("/appeals/entry/").content.decode()
    assert "刘网格员" in entry and "查看完整信息" not in entry


def test_a_grid_worker_cannot_patrol_another_community(client, city):
    client.force_login(city.gw_x)
    r = _post(client, _key(client), source="patrol", reporter_name="", consent_recorded=None)
    assert r.status_code == 403 and "只有该网格所在社区的工作人员可以录入“网格巡查”来源的诉求。" in r.content.decode()
    assert not Appeal.objects.exists()


def _jpeg():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("p.jpg", JPEG, "image/jpeg")


def test_the_entry_page_costs_the_same_queries_with_more_entries(client, city):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(city.cw)
    _post(client, _key(client))

    def cost():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/appeals/entry/").status_code == 200
        return len(ctx.captured_queries)

    one = cost()
    for _ in range(4):
        _post(client, _key(client), reporter_phone="13900001111")
    assert cost() == one
    assert client.get("/appeals/entry/").content.decode().count('data-testid="recent-row"') == 5


# ---- one appeal per key ----

def test_a_double_post_with_the_same_key_creates_one_appeal(client, city):
    client.force_login(city.cw)
    key = _key(client)
    first = _post(client, key)
    second = _post(client, key)  # a double click, a resent POST
    a = Appeal.objects.get()
    assert first.status_code == second.status_code == 302 and first.url == second.url == f"/appeals/{a.number}/"
    assert "该诉求已录入过（重复提交未再创建）" in client.get(second.url).content.decode()
    assert len(_audit_actions("appeal.submit")) == 1
    assert _key(client) != key  # a fresh form, a fresh key


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_posts_with_one_key_create_one_appeal(city):
    key, results, barrier = "double-click-0001", {}, threading.Barrier(2)

    def post(i):
        try:
            c = Client()
            c.force_login(city.cw)
            barrier.wait()
            results[i] = _post(c, key)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    join_all(threads, 60)
    a = Appeal.objects.get()
    assert {(r.status_code, r.url) for r in results.values()} == {(302, f"/appeals/{a.number}/")}


# ---- the resident page on a phone ----

def test_resident_page_is_made_for_phones(client, city):
    client.force_login(city.jumin)
    html = client.get("/appeals/new/").content.decode()
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "@media (max-width: 600px)" in html and "min-height: 44px" in html
    assert "所属网格：" in html and "不在任何网格内" in html and "浏览器未允许定位" in html
    assert "最多 9 张，每张不超过 5 MB（JPEG、PNG、WebP）。" in html and 'data-testid="photo-previews"' in html
    assert "匿名后，网格员和其他工作人员看不到您的姓名和账号" in html
    assert 'name="source"' not in html and "反映人姓名" not in html  # staff fields stay on the staff page


def test_the_api_unmasks_through_the_same_service(client, city):
    client.force_login(city.cw)
    _post(client, _key(client))
    a = Appeal.objects.get()
    url = f"/api/v1/appeals/{a.number}/reporter/unmask"
    r = client.post(url, {"field": "phone", "reason": "回访核实"}, content_type="application/json",
                    **bearer(city.cw))
    assert r.status_code == 200 and r.json() == {"number": a.number, "field": "phone", "value": PHONE}
    (entry,) = _audit_actions("appeal.reporter_unmask")
    assert entry.after["channel"] == "api" and PHONE not in str(entry.after)
    for who, status in ((city.gw1, 403), (city.cw_x, 404)):
        r = client.post(url, {"field": "phone", "reason": "想看看"}, content_type="application/json", **bearer(who))
        assert r.status_code == status and PHONE not in r.content.decode()
    r = client.post(url, {"field": "id_number", "reason": "回访"}, content_type="application/json",
                    **bearer(city.cw))
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_field"
    assert len(_audit_actions("appeal.reporter_unmask")) == 1


def test_staff_record_the_rating_a_hotline_caller_gives_on_the_call_back(client, city):
    from gongzhi.appeals import services

    client.force_login(city.cw)
    _post(client, _key(client))
    a = Appeal.objects.get()
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已协调")
    # The grid worker who handled it is not the one to record the resident's verdict; the community is.
    gw = Client()
    gw.force_login(city.gw1)
    assert "rate" not in gw.get(f"/api/v1/appeals/{a.number}").json()["allowed_actions"]
    r = Client().post(f"/api/v1/appeals/{a.number}/rate", {"version": a.version, "resolved": True,
                      "satisfaction": "basic", "comment": "电话回访：基本满意"},
                      content_type="application/json", **bearer(city.gw1))
    assert r.status_code == 403
    detail = client.get(f"/appeals/{a.number}/").content.decode()
    assert f"/appeals/{a.number}/rate/" in detail  # the community worker is offered the rating form
    r = Client().post(f"/api/v1/appeals/{a.number}/rate", {"version": a.version, "resolved": True,
                      "satisfaction": "basic", "comment": "电话回访：基本满意"},
                      content_type="application/json", **bearer(city.cw))
    assert r.status_code == 200 and r.json()["state"] == "rated"
    rate = [e for e in r.json()["timeline"] if e["action"] == "rate"][0]
    assert rate["data"]["callback"] is True and rate["actor"] == "李社工"
    assert 'data-testid="callback"' in client.get(f"/appeals/{a.number}/").content.decode()
