"""The appeal pages: submit form, my appeals, inbox, detail with only the allowed actions."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gongzhi.appeals import services
from gongzhi.appeals.models import Appeal, AppealPhoto
from tests.appeals.conftest import IN_GRID, IN_XINGNING, JPEG, NOT_AN_IMAGE, OUTSIDE, submit

pytestmark = pytest.mark.django_db


def _form(client):
    html = client.get("/appeals/new/").content.decode()
    return re.search(r'name="idempotency_key" value="([0-9a-f]{32})"', html).group(1)


def _post_new(client, key, point=IN_GRID, **kw):
    data = {"category": "noise", "urgency": "normal", "title": "噪声", "text": "楼下烧烤店营业到凌晨。",
            "lon": point[0], "lat": point[1], "idempotency_key": key, **kw}
    return client.post("/appeals/new/", data)


def test_new_appeal_page_needs_login(client, city):
    r = client.get("/appeals/new/")
    assert r.status_code == 302 and r.url.startswith("/login/")


def test_resident_submits_an_appeal_on_the_form(client, city):
    client.force_login(city.jumin)
    html = client.get("/appeals/new/").content.decode()
    assert "噪声扰民" in html and "使用我的位置" in html and 'id="pick-map"' in html
    key = _form(client)
    r = _post_new(client, key)
    a = Appeal.objects.get()
    assert r.status_code == 302 and r.url == f"/appeals/{a.number}/"
    assert (a.reporter, a.owner, a.source) == (city.jumin, city.gw1, "resident")
    again = _post_new(client, key)  # a double tap, a resent POST
    assert again.status_code == 302 and again.url == r.url and Appeal.objects.count() == 1
    assert _form(client) != key  # a fresh form, a fresh key


def test_form_errors_are_shown_and_nothing_is_created(client, city):
    client.force_login(city.jumin)
    r = _post_new(client, _form(client), point=("", ""))
    assert r.status_code == 400 and "请在地图上点选问题发生的位置" in r.content.decode()
    r = _post_new(client, _form(client), point=OUTSIDE)
    assert r.status_code == 400 and "不在任何网格内" in r.content.decode()
    r = _post_new(client, _form(client), photos=[SimpleUploadedFile("a.jpg", NOT_AN_IMAGE, "image/jpeg")])
    assert r.status_code == 400 and "不是 JPEG、PNG 或 WebP 图片" in r.content.decode()
    r = _post_new(client, _form(client), text="")
    assert r.status_code == 400
    assert not Appeal.objects.exists()


def test_photos_from_the_form_are_kept_and_served_only_to_viewers(client, city):
    client.force_login(city.jumin)
    _post_new(client, _form(client), photos=[SimpleUploadedFile("a.jpg", JPEG, "image/jpeg"),
                                             SimpleUploadedFile("b.jpg", JPEG, "image/jpeg")])
    a = Appeal.objects.get()
    photo = AppealPhoto.objects.filter(appeal=a).first()
    url = f"/appeals/{a.number}/photos/{photo.id}/"
    assert url in client.get(f"/appeals/{a.number}/").content.decode()
    r = client.get(url)
    assert r.status_code == 200 and r["Content-Type"] == "image/jpeg"
    client.force_login(city.linju)
    assert client.get(url).status_code == 404


def test_user_text_is_shown_as_text(client, city):
    a = submit(city.jumin, title="<img src=x onerror=alert(1)>", text="<script>alert('xss')</script>")
    for u in (city.jumin, city.gw1):
        client.force_login(u)
        html = client.get(f"/appeals/{a.number}/").content.decode()
        assert "<script>alert('xss')</script>" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in html
    client.force_login(city.gw1)
    assert "<img src=x" not in client.get("/appeals/inbox/").content.decode()


def _action_forms(html):
    return set(re.findall(r'data-testid="act-([a-z_]+)"', html))


def test_detail_shows_only_the_actions_allowed_to_this_user(client, city):
    a = submit(city.jumin)
    expected = {city.gw1: {"accept", "hand_on"}, city.gw2: {"accept"}, city.cw: {"reject", "merge"},
                city.jumin: set(), city.auditor: set()}
    for u, actions in expected.items():
        client.force_login(u)
        assert _action_forms(client.get(f"/appeals/{a.number}/").content.decode()) == actions, u.username
    client.force_login(city.linju)
    assert client.get(f"/appeals/{a.number}/").status_code == 404


def test_staff_act_on_the_detail_page_and_the_reporter_rates(client, city):
    a = submit(city.jumin)
    client.force_login(city.gw1)
    r = client.post(f"/appeals/{a.number}/accept/", {"version": a.version})
    assert r.status_code == 302 and r.url == f"/appeals/{a.number}/"
    html = client.get(r.url).content.decode()
    assert _action_forms(html) == {"hand_on", "resolve"} and "办理中" in html
    r = client.post(f"/appeals/{a.number}/resolve/", {"version": 2, "note": ""})
    assert r.status_code == 400 and "请填写办理结果" in r.content.decode()
    r = client.post(f"/appeals/{a.number}/resolve/", {"version": 2, "note": "已约谈店主",
                                                       "photos": [SimpleUploadedFile("r.jpg", JPEG, "image/jpeg")]})
    assert r.status_code == 302
    client.force_login(city.jumin)
    html = client.get(f"/appeals/{a.number}/").content.decode()
    assert _action_forms(html) == {"rate"} and "问题是否解决" in html and "满意度" in html
    r = client.post(f"/appeals/{a.number}/rate/", {"version": 3, "resolved": "1", "satisfaction": "satisfied",
                                                   "comment": "谢谢"})
    assert r.status_code == 302
    a.refresh_from_db()
    assert (a.state, a.satisfaction, a.photos.count()) == ("rated", "satisfied", 1)


def test_a_stale_form_gets_409_with_the_message(client, city):
    a = submit(city.jumin)
    services.appeal_accept(actor=city.gw2, appeal=a)
    client.force_login(city.gw1)
    r = client.post(f"/appeals/{a.number}/accept/", {"version": 1})
    assert r.status_code == 409 and "该诉求已被他人处理，请刷新后查看。" in r.content.decode()


def test_rating_by_staff_on_the_page_is_403(client, city):
    a = submit(city.jumin)
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已处理")
    client.force_login(city.gw1)
    r = client.post(f"/appeals/{a.number}/rate/", {"version": a.version, "resolved": "1", "satisfaction": "satisfied"})
    assert r.status_code == 403


def test_inbox_lists_due_soonest_first_marks_overdue_and_accepts_in_one_tap(client, city):
    later = submit(city.jumin)
    sooner = submit(city.jumin, category="fire_safety", urgency="urgent")
    late = submit(city.linju)
    Appeal.objects.filter(pk=late.pk).update(step_due=timezone.now() - dt.timedelta(hours=1))
    submit(city.jumin, point=IN_XINGNING)  # another community: not in this inbox
    client.force_login(city.gw1)
    html = client.get("/appeals/inbox/").content.decode()
    rows = re.findall(r'data-testid="inbox-row" data-number="(\w+)"', html)
    assert rows == [late.number, sooner.number, later.number]
    assert html.count('data-testid="overdue"') == 1
    r = client.post(f"/appeals/{sooner.number}/accept/", {"version": 1, "next": "/appeals/inbox/"})
    assert r.status_code == 302 and r.url == "/appeals/inbox/"
    sooner.refresh_from_db()
    assert (sooner.state, sooner.owner) == ("accepted", city.gw1)


def test_inbox_pages_by_keyset_without_counting(client, city, monkeypatch, django_assert_max_num_queries):
    from gongzhi.appeals import views

    monkeypatch.setattr(views, "INBOX_PAGE", 2)
    first, second, third = (submit(city.jumin) for _ in range(3))
    client.force_login(city.gw1)
    html = client.get("/appeals/inbox/").content.decode()
    assert re.findall(r'data-testid="inbox-row" data-number="(\w+)"', html) == [first.number, second.number]
    after = re.search(r'href="\?after=([^"]+)" data-testid="next-page"', html).group(1)
    assert "回到第一页" not in html
    with django_assert_max_num_queries(12):  # no count, no per-row queries
        html = client.get(f"/appeals/inbox/?after={after}").content.decode()
    assert re.findall(r'data-testid="inbox-row" data-number="(\w+)"', html) == [third.number]
    assert 'data-testid="next-page"' not in html and "回到第一页" in html
    assert client.get("/appeals/inbox/?after=not-a-cursor").status_code == 400


def test_inbox_by_level(client, city):
    a = submit(city.jumin)
    client.force_login(city.cw)
    assert a.number not in client.get("/appeals/inbox/").content.decode()  # still at grid level
    services.appeal_hand_on(actor=city.gw1, appeal=a, reason="需社区协调")
    assert a.number in client.get("/appeals/inbox/").content.decode()
    client.force_login(city.jumin)
    assert client.get("/appeals/inbox/").status_code == 403


def test_inbox_costs_a_fixed_number_of_queries(client, city, django_assert_max_num_queries):
    for _ in range(5):
        submit(city.jumin)
    client.force_login(city.gw1)
    client.get("/appeals/inbox/")
    # session, user, roles, count, one page of appeals with their relations
    with django_assert_max_num_queries(5):
        assert client.get("/appeals/inbox/").status_code == 200


def test_my_appeals_shows_only_mine(client, city):
    mine = submit(city.jumin, title="我家楼下路灯坏了")
    submit(city.linju, title="邻居反映的事")
    client.force_login(city.jumin)
    html = client.get("/appeals/mine/").content.decode()
    assert mine.number in html and "我家楼下路灯坏了" in html and "邻居反映的事" not in html


def test_rejection_page_names_who_and_where(client, city):
    a = submit(city.jumin)
    services.appeal_reject(actor=city.cw, appeal=a, reason="属于合同纠纷", redirect_to="兴宁区人民法院 0771-1234567")
    client.force_login(city.jumin)
    html = client.get(f"/appeals/{a.number}/").content.decode()
    assert "属于合同纠纷" in html and "兴宁区人民法院 0771-1234567" in html and "李社工" in html
