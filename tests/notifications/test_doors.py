"""The notification page, its nav badge and the API: one's own only (another user's id is 404),
newest first, keyset-paginated, mark one or all read."""

import pytest

from gongzhi.notifications.messages import Msg
from gongzhi.notifications.models import Notification
from gongzhi.notifications.services import notify
from tests.appeals.conftest import bearer, submit

pytestmark = pytest.mark.django_db


def _many(u, n):
    for i in range(n):
        notify([u], kind="assigned", title=Msg(f"通知 {i}"), link="/appeals/inbox/")
    return list(Notification.objects.filter(recipient=u).order_by("-id"))


def test_the_api_lists_my_notifications_newest_first_in_keyset_pages(client, city):
    rows = _many(city.gw1, 5)
    _many(city.gw2, 2)
    r = client.get("/api/v1/notifications?limit=3", **bearer(city.gw1))
    assert r.status_code == 200
    body = r.json()
    assert [i["id"] for i in body["items"]] == [n.id for n in rows[:3]] and body["unread"] == 5
    assert body["items"][0]["title"] == "通知 4" and body["items"][0]["read"] is False
    r = client.get(f"/api/v1/notifications?limit=3&before={body['next_before']}", **bearer(city.gw1))
    assert [i["id"] for i in r.json()["items"]] == [n.id for n in rows[3:]] and r.json()["next_before"] is None


def test_the_api_marks_one_and_all_read_and_another_users_id_is_404(client, city):
    mine = _many(city.gw1, 3)
    theirs = _many(city.gw2, 1)[0]
    r = client.post(f"/api/v1/notifications/{mine[0].id}/read", **bearer(city.gw1))
    assert r.status_code == 200 and r.json()["read"] is True
    r = client.post(f"/api/v1/notifications/{theirs.id}/read", **bearer(city.gw1))
    assert r.status_code == 404 and r.json()["error"]["code"] == "notification_not_found"
    assert Notification.objects.get(pk=theirs.id).read_at is None
    assert client.post("/api/v1/notifications/999999/read", **bearer(city.gw1)).status_code == 404
    r = client.post("/api/v1/notifications/read-all", **bearer(city.gw1))
    assert r.json() == {"marked": 2, "unread": 0}
    assert client.get("/api/v1/notifications?unread=true", **bearer(city.gw1)).json()["items"] == []
    assert Notification.objects.get(pk=theirs.id).read_at is None
    assert client.get("/api/v1/notifications").status_code == 401


def test_the_api_list_costs_a_fixed_number_of_queries(client, city, django_assert_max_num_queries):
    _many(city.gw1, 30)
    auth = bearer(city.gw1)
    with django_assert_max_num_queries(4):  # token + user, the page, the unread count
        assert len(client.get("/api/v1/notifications?limit=25", **auth).json()["items"]) == 25


def test_the_page_lists_opens_and_marks_read(client, city):
    a = submit(city.jumin)
    _many(city.gw2, 1)
    client.force_login(city.gw1)
    page = client.get("/notifications/").content.decode()
    assert a.number in page and 'data-testid="mark-read"' in page and "通知 0" not in page
    assert client.get("/notifications/badge/").content.decode().count(">1<") == 1
    n = Notification.objects.get(recipient=city.gw1)
    r = client.post(f"/notifications/{n.id}/open/")
    assert r.status_code == 302 and r["Location"] == f"/appeals/{a.number}/"
    n.refresh_from_db()
    assert n.read_at is not None
    assert client.get("/notifications/badge/").content == b""
    other = Notification.objects.get(recipient=city.gw2)
    assert client.post(f"/notifications/{other.id}/read/").status_code == 404
    _many(city.gw1, 2)
    r = client.post("/notifications/read-all/", follow=True)
    assert "已将 2 条通知标为已读" in r.content.decode()
    assert not Notification.objects.filter(recipient=city.gw1, read_at__isnull=True).exists()


def test_the_page_needs_a_login_and_the_nav_offers_it(client, city):
    assert client.get("/notifications/").status_code == 302
    assert client.get("/notifications/badge/").content == b""
    client.force_login(city.jumin)
    assert 'href="/notifications/"' in client.get("/appeals/mine/").content.decode()


def test_a_notification_link_elsewhere_is_not_followed(client, city):
    notify([city.gw1], kind="assigned", title=Msg("x"), link="//evil.example/phish")
    client.force_login(city.gw1)
    n = Notification.objects.get(recipient=city.gw1)
    assert client.post(f"/notifications/{n.id}/open/")["Location"] == "/notifications/"
