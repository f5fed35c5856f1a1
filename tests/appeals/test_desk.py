"""Each role's home is its desk: counts that equal the lists behind their links, the most urgent
items first with the one action each needs, residents' own appeals and wishes, and a menu holding
exactly what the role may open."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from gongzhi.appeals import selectors, services
from gongzhi.appeals.models import Appeal
from gongzhi.lists import services as list_services
from tests.factories import user

from .conftest import IN_XINGNING, submit, whistle

pytestmark = pytest.mark.django_db

FIGURE = re.compile(r'href="([^"]+)" class="figure[^"]*" data-testid="figure-([a-z_]+)-([a-z_]+)"><b data-testid="count">'
                    r"(\d+)</b>")
NAV = re.compile(r"<nav>(.*?)</nav>", re.S)
HREF = re.compile(r'href="([^"]+)"')


def figures(html: str) -> dict[str, tuple[int, str]]:
    """{"section-key": (count, url)} of every count on the desk."""
    return {f"{s}-{k}": (int(n), url.replace("&amp;", "&")) for url, s, k, n in FIGURE.findall(html)}


def menu(html: str) -> list[str]:
    return HREF.findall(NAV.search(html).group(1))


def set_due(appeal, delta: dt.timedelta):
    Appeal.objects.filter(pk=appeal.pk).update(step_due=timezone.now() + delta)


def due_later_today() -> dt.timedelta:
    """A moment later today (local time), whatever the hour the test runs at."""
    now = timezone.now()
    return (selectors.end_of_today(now) - now) / 2


@pytest.fixture
def gw_work(city):
    """gw1's inbox: two new (one of them overdue), one accepted and overdue, one accepted due later
    today, one accepted due in a week; and one in 兴宁 that is not theirs."""
    new = submit(city.jumin, title="新诉求")
    new_late = submit(city.jumin, title="新诉求已超时")
    late = services.appeal_accept(actor=city.gw1, appeal=submit(city.linju, title="办理中已超时"))
    today = services.appeal_accept(actor=city.gw1, appeal=submit(city.linju, title="今日到期"))
    later = services.appeal_accept(actor=city.gw1, appeal=submit(city.linju, title="下周到期"))
    set_due(new_late, -dt.timedelta(hours=5))
    set_due(late, -dt.timedelta(hours=30))
    set_due(today, due_later_today())
    set_due(later, dt.timedelta(days=7))
    submit(city.linju, point=IN_XINGNING, title="别的社区的")
    return {"new": new, "new_late": new_late, "late": late, "today": today, "later": later}


def _rows_on(client, url, testid) -> int:
    r = client.get(url)
    assert r.status_code == 200, url
    return r.content.decode().count(f'data-testid="{testid}"')


def test_grid_worker_desk_counts_new_due_today_and_overdue(client, city, gw_work):
    client.force_login(city.gw1)
    figs = figures(client.get("/").content.decode())
    assert figs["inbox-new"][0] == 2
    assert figs["inbox-today"][0] == 1
    assert figs["inbox-overdue"][0] == 2
    assert figs["inbox-overdue"][1] == "/appeals/inbox/?show=overdue"


def test_each_desk_count_equals_the_rows_of_the_list_behind_its_link(client, city, gw_work):
    client.force_login(city.gw1)
    figs = figures(client.get("/").content.decode())
    assert {k for k in figs if k.startswith("inbox-")} == {"inbox-new", "inbox-today", "inbox-overdue", "inbox-rate"}
    for key, (count, url) in figs.items():
        if key.startswith("inbox-"):
            assert _rows_on(client, url, "inbox-row") == count, key


def test_the_desk_count_and_the_inbox_list_are_one_queryset(city, gw_work):
    now = timezone.now()
    counts = selectors.inbox_counts(city.gw1, now)
    for show in (*selectors.INBOX_SHOWS, "rate"):
        assert counts[show] == selectors.inbox_for(city.gw1, show, now).count(), show


def test_grid_worker_desk_puts_the_oldest_overdue_first_with_its_one_action(client, city, gw_work):
    client.force_login(city.gw1)
    html = client.get("/").content.decode()
    order = re.findall(r'data-testid="desk-item" data-number="([^"]+)"', html)
    w = gw_work
    assert order[:3] == [w["late"].number, w["new_late"].number, w["today"].number]
    first = html[html.index(f'data-number="{w["late"].number}"'):]
    first = first[:first.index("</li>")]
    assert 'class="overdue"' in html and "已逾期" in first
    # Accepted and overdue: the action it needs is to resolve it (a link to the appeal's form).
    assert f'href="/appeals/{w["late"].number}/#act-resolve" data-testid="desk-action-resolve"' in first
    second = html[html.index(f'data-number="{w["new_late"].number}"'):]
    second = second[:second.index("</li>")]
    assert f'action="/appeals/{w["new_late"].number}/accept/"' in second and 'data-testid="desk-action-accept"' in second


def test_the_desk_accept_button_accepts_and_comes_back_home(client, city, gw_work):
    client.force_login(city.gw1)
    a = gw_work["new_late"]
    r = client.post(f"/appeals/{a.number}/accept/", {"version": a.version, "next": "/"})
    assert r.status_code == 302 and r["Location"] == "/"
    assert Appeal.objects.get(pk=a.pk).state == "accepted"
    assert figures(client.get("/").content.decode())["inbox-new"][0] == 1


def test_an_unknown_inbox_narrowing_is_a_clear_400(client, city):
    client.force_login(city.gw1)
    r = client.get("/appeals/inbox/?show=someday")
    assert r.status_code == 400 and "someday" in r.content.decode()


def test_an_empty_inbox_says_what_to_do_next(client, city):
    client.force_login(city.gw1)
    html = client.get("/").content.decode()
    assert 'data-testid="desk-empty"' in html and 'href="/appeals/entry/"' in html
    html = client.get("/appeals/inbox/").content.decode()
    assert 'data-testid="empty"' in html and 'href="/appeals/entry/"' in html


def test_the_home_page_costs_the_same_queries_for_a_full_inbox(client, city, django_assert_max_num_queries):
    client.force_login(city.cw)
    client.get("/")  # warm the session
    for _ in range(3):
        submit(city.jumin)
    with django_assert_max_num_queries(10) as few:  # 9, and one for the action items (督办事项) figure
        assert client.get("/").status_code == 200
    for _ in range(12):
        a = submit(city.linju)
        set_due(a, -dt.timedelta(hours=1))
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/").status_code == 200


def test_street_desk_has_the_inbox_and_the_dispatch_board(client, city):
    client.force_login(city.so)
    figs = figures(client.get("/").content.decode())
    assert set(figs) == {"inbox-new", "inbox-today", "inbox-overdue", "inbox-rate", "board-unassigned",
                         "board-awaiting_whistle", "board-hotspots", "actions-open", "actions-overdue"}


# ---- departments and units: their work orders ----

def test_department_desk_counts_work_orders_to_report_and_overdue(client, city, depts):
    from .conftest import at_street

    a = at_street(city, accept=True)
    whistle(city, a, depts.cg, depts.sj)
    b = at_street(city, accept=True, title="第二件")
    whistle(city, b, depts.cg)
    from gongzhi.appeals.models import WhistleSummons

    late = WhistleSummons.objects.filter(assignee=depts.cg).order_by("id").first()
    WhistleSummons.objects.filter(pk=late.pk).update(step_due=timezone.now() - dt.timedelta(hours=2))
    client.force_login(depts.h_cg)
    html = client.get("/").content.decode()
    figs = figures(html)
    assert figs["work_orders-report"][0] == 2 and figs["work_orders-overdue"][0] == 1
    for key, (count, url) in figs.items():
        assert _rows_on(client, url, "work-order-row") == count, key
    order = re.findall(r'data-testid="desk-item" data-number="([^"]+)"', html)
    assert order[0] == late.appeal.number
    assert f'action="/appeals/workorders/{late.pk}/report/"' in html
    assert 'data-testid="desk-inbox"' not in html and 'data-testid="desk-mine"' not in html


# ---- residents: their own appeals and wishes ----

def test_resident_desk_shows_open_appeals_and_wishes_with_their_status(client, city):
    open_one = submit(city.jumin, title="路灯不亮")
    done = services.appeal_accept(actor=city.gw1, appeal=submit(city.jumin, title="井盖松动"))
    done = services.appeal_resolve(actor=city.gw1, appeal=done, note="已更换")
    submit(city.linju, title="别人的诉求")
    list_services.need_create(actor=city.jumin, kind="micro_wish", title="想要一个新书包", beneficiary="小明",
                              due_on=timezone.localdate() + dt.timedelta(days=7), place=city.tree["beining"],
                              category="children", skill="goods")
    client.force_login(city.jumin)
    html = client.get("/").content.decode()
    figs = figures(html)
    assert figs["mine-open"][0] == 1 and figs["mine-rate"][0] == 1
    for key in ("mine-open", "mine-rate"):
        count, url = figs[key]
        assert _rows_on(client, url, "appeal-row") == count, key
    assert "路灯不亮" in html and "已提交" in html and "井盖松动" in html and "已办结" in html
    assert "别人的诉求" not in html
    assert f'href="/appeals/{done.number}/#act-rate" data-testid="desk-action-rate"' in html
    assert open_one.number in html
    assert 'data-testid="desk-wishes"' in html and "想要一个新书包" in html and "待认领" in html
    assert 'data-testid="desk-inbox"' not in html


def test_a_resident_without_appeals_is_told_how_to_report(client, city):
    client.force_login(city.jumin)
    html = client.get("/").content.decode()
    assert html.count('data-testid="desk-empty"') == 2 and 'data-testid="quick-appeal"' in html


def test_unread_count_links_to_the_unread_list(client, city):
    from gongzhi.notifications.models import Kind, Notification

    KIND = Kind.values[0]

    for i in range(3):
        Notification.objects.create(recipient=city.gw1, kind=KIND, title=f"通知{i}", created_at=timezone.now())
    Notification.objects.filter(title="通知0").update(read_at=timezone.now())
    client.force_login(city.gw1)
    html = client.get("/").content.decode()
    m = re.search(r'<a class="figure-inline has" href="([^"]+)" data-testid="figure-unread">[^<]*<b>(\d+)</b>', html)
    assert m and m.group(2) == "2"
    assert _rows_on(client, m.group(1).replace("&amp;", "&"), "notification") == 2


# ---- menus: exactly what the role may open ----

@pytest.fixture
def people(city, depts):
    member = user("member", ("party_member", city.tree["beining"]), first_name="党员")
    return {"resident": city.jumin, "member": member, "gridworker": city.gw1, "community": city.cw,
            "street": city.so, "department": depts.h_cg, "liaison": depts.liaison, "admin": city.admin,
            "auditor": city.auditor}


def test_residents_are_offered_no_api_tokens_and_no_dual_reporting(client, people):
    client.force_login(people["resident"])
    links = menu(client.get("/").content.decode())
    assert "/accounts/tokens/" not in links and "/volunteering/reports/" not in links
    assert "/appeals/new/" in links and "/appeals/mine/" in links
    client.force_login(people["member"])
    links = menu(client.get("/").content.decode())
    assert "/accounts/tokens/" not in links and "/volunteering/reports/" in links


def test_the_auditor_is_offered_no_submit_forms(client, people):
    client.force_login(people["auditor"])
    links = menu(client.get("/").content.decode())
    assert "/appeals/new/" not in links and "/lists/needs/new/" not in links and "/appeals/mine/" not in links
    assert "/audit/" in links and "/appeals/kpi/" in links


def test_a_department_without_people_gets_no_people_page(client, people):
    client.force_login(people["department"])
    links = menu(client.get("/").content.decode())
    assert "/org/people/" not in links and "/appeals/workorders/" in links and "/appeals/inbox/" not in links
    client.force_login(people["community"])
    assert "/org/people/" in menu(client.get("/").content.decode())


EXPECTED_MENUS = {
    "resident": {"/", "/map/", "/appeals/new/", "/appeals/mine/", "/appeals/public/", "/wishes/", "/lists/needs/new/",
                 "/volunteering/activities/", "/volunteering/teams/", "/timebank/", "/notifications/",
                 "/deliberation/meetings/", "/deliberation/sign-in/", "/deliberation/proposals/", "/deliberation/actions/",
                 "/deliberation/calendar/"},
    "auditor": {"/", "/map/", "/appeals/public/", "/appeals/kpi/", "/wishes/", "/lists/", "/volunteering/activities/",
                "/volunteering/teams/", "/volunteering/reports/", "/timebank/", "/deliberation/meetings/",
                "/deliberation/sign-in/", "/deliberation/proposals/", "/deliberation/actions/", "/deliberation/", "/deliberation/register/", "/deliberation/calendar/", "/org/", "/org/units/",
                "/org/people/", "/org/posts/", "/places/landmarks/", "/audit/", "/notifications/", "/accounts/tokens/"},
    "gridworker": {"/", "/map/", "/appeals/new/", "/appeals/mine/", "/appeals/public/", "/appeals/inbox/", "/appeals/entry/",
                   "/appeals/kpi/", "/wishes/", "/lists/needs/new/", "/lists/", "/volunteering/activities/",
                   "/volunteering/teams/", "/timebank/", "/deliberation/meetings/", "/deliberation/sign-in/",
                   "/deliberation/proposals/", "/deliberation/actions/", "/deliberation/calendar/", "/org/",
                   "/org/units/", "/org/people/", "/org/posts/", "/places/landmarks/", "/notifications/",
                   "/accounts/tokens/"},
}


@pytest.mark.parametrize("role", sorted(EXPECTED_MENUS))
def test_the_menu_holds_exactly_what_the_role_may_open(client, people, role):
    client.force_login(people[role])
    assert set(menu(client.get("/").content.decode())) == EXPECTED_MENUS[role]


@pytest.mark.parametrize("role", ["resident", "member", "gridworker", "community", "street", "department", "liaison",
                                  "admin", "auditor"])
def test_every_menu_link_answers_200_for_the_role(client, people, role):
    client.force_login(people[role])
    home = client.get("/")
    assert home.status_code == 200
    links = menu(home.content.decode())
    assert links
    for url in links:
        assert client.get(url).status_code == 200, (role, url)


def test_the_desk_speaks_english(client, city, gw_work):
    from django.conf import settings

    client.force_login(city.gw1)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = client.get("/").content.decode()
    for words in ("Desk of 王网格员", "To accept", "Due today", "Overdue by", "Most urgent (earliest due first)",
                  "Unread notifications"):
        assert words in html, words
    assert not re.search(r"待受理|最急的待办|工作台", html)  # (an appeal of the fixture is titled 今日到期)


def test_community_desk_counts_the_callbacks_awaiting_its_rating(client, city):
    from gongzhi.appeals.permissions import allowed_actions

    from .test_entry import _key, _post

    client.force_login(city.cw)
    for _ in range(2):
        _post(client, _key(client))
    entered = list(Appeal.objects.order_by("id"))
    done = services.appeal_resolve(actor=city.gw1, appeal=services.appeal_accept(actor=city.gw1, appeal=entered[0]),
                                   note="已协调")
    own = services.appeal_accept(actor=city.gw1, appeal=submit(city.jumin))
    services.appeal_resolve(actor=city.gw1, appeal=own, note="已处理")  # the resident rates this one
    figs = figures(client.get("/").content.decode())
    assert figs["inbox-rate"] == (1, "/appeals/inbox/?show=rate")
    html = client.get("/appeals/inbox/?show=rate").content.decode()
    assert html.count('data-testid="inbox-row"') == 1 and f'data-number="{done.number}"' in html
    assert f'href="/appeals/{done.number}/#act-rate" data-testid="go-rate">回访评价' in html
    # The list is exactly the appeals the workflow lets the actor rate now.
    for who in (city.cw, city.gw1, city.so):
        listed = set(selectors.awaiting_my_rating(who))
        may = {a for a in Appeal.objects.all() if "rate" in allowed_actions(who, a)}
        assert listed == may, who
    client.force_login(city.gw1)
    assert figures(client.get("/").content.decode())["inbox-rate"][0] == 0


def test_street_desk_counts_departments_awaiting_its_rating(client, city, depts):
    from gongzhi.appeals.models import WhistleSummons
    from gongzhi.appeals.permissions import allowed_actions, allowed_work_order_actions

    from .conftest import at_street

    a = whistle(city, at_street(city, accept=True), depts.cg)
    wo = WhistleSummons.objects.get(appeal=a)
    wo = services.summons_act(actor=depts.h_cg, work_order=wo.pk, action="report", version=wo.version)
    services.summons_act(actor=depts.h_cg, work_order=wo.pk, action="resolve", version=wo.version, note="已整改")
    whistle(city, at_street(city, accept=True, title="还在办"), depts.sj)
    client.force_login(city.so)
    assert figures(client.get("/").content.decode())["inbox-rate"] == (1, "/appeals/inbox/?show=rate")
    html = client.get("/appeals/inbox/?show=rate").content.decode()
    assert html.count('data-testid="inbox-row"') == 1
    assert f'href="/appeals/{a.number}/#work-orders" data-testid="go-rate">评价部门' in html
    for who in (city.so, city.cw, city.gw1):
        may = {x for x in Appeal.objects.all() if "rate" in allowed_actions(who, x)
               or any("rate" in allowed_work_order_actions(who, w) for w in x.work_orders.all())}
        assert set(selectors.awaiting_my_rating(who)) == may, who


def test_oversight_desk_counts_open_and_overdue_and_links_only_what_the_role_opens(client, city, gw_work):
    client.force_login(city.auditor)
    html = client.get("/").content.decode()
    figs = figures(html)
    assert figs["oversight-open"][0] == Appeal.objects.filter(state__in=("submitted", "accepted")).count() == 6
    assert figs["oversight-overdue"][0] == 2
    assert 'class="button" href="/audit/"' in html and 'class="button" href="/appeals/kpi/"' in html
    assert 'href="/accounts/users/"' not in html and 'data-testid="quick-appeal"' not in html
    client.force_login(city.admin)
    assert 'class="button" href="/accounts/users/"' in client.get("/").content.decode()


def test_my_appeals_pages_keep_the_narrowing(client, city):
    for i in range(32):
        submit(city.jumin, title=f"诉求{i}")
    client.force_login(city.jumin)
    html = client.get("/appeals/mine/?show=open").content.decode()
    assert 'href="?show=open&page=2"' in html
    assert client.get("/appeals/mine/?show=open&page=2").content.decode().count('data-testid="appeal-row"') == 2


# Queries of the home page per role, whatever the size of their work: session, user, roles, then each
# desk part's fixed queries (counts in one aggregate, one page of items, unread) and the menu's checks;
# roles that follow resolutions' action items (deliberation) have one aggregate more for that figure.
HOME_QUERIES = {"resident": 7, "member": 7, "gridworker": 7, "community": 10, "street": 10, "department": 7,
                "liaison": 8, "admin": 6, "auditor": 6}


@pytest.mark.parametrize("role", sorted(HOME_QUERIES))
def test_the_home_page_costs_a_fixed_number_of_queries(client, people, role, django_assert_max_num_queries):
    client.force_login(people[role])
    client.get("/")
    with django_assert_max_num_queries(HOME_QUERIES[role]):
        assert client.get("/").status_code == 200


@pytest.mark.parametrize("role", ["resident", "member", "gridworker", "community", "street", "department", "liaison",
                                  "auditor"])
def test_a_page_the_menu_does_not_offer_is_refused_by_address_too(client, people, role):
    """The auditor typing /appeals/new/, a resident typing /accounts/tokens/: one rule, the menu's."""
    from gongzhi.web.context import NAV

    client.force_login(people[role])
    offered = set(menu(client.get("/").content.decode()))
    hidden = [url for _label, url, _rule in NAV if url not in offered]
    for url in hidden:
        response = client.get(url)
        assert response.status_code == 403, (role, url, response.status_code)
        assert "菜单中列出的是你可以使用的页面" in response.content.decode(), (role, url)
    if role == "auditor":
        before = Appeal.objects.count()
        assert client.post("/appeals/new/", {"title": "x", "description": "y"}).status_code == 403
        assert Appeal.objects.count() == before
