"""The whistle pages: the form on the appeal detail, the department inbox, a work order, the rating form."""

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from gongzhi.appeals import services
from gongzhi.appeals.models import AppealPhoto, WhistleSummons
from tests.appeals.conftest import JPEG, at_street, submit, whistle

pytestmark = pytest.mark.django_db


def _local(when) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%dT%H:%M")


def _forms(html):
    return set(re.findall(r'data-testid="(?:wo-)?act-([a-z_]+)"', html))


def test_the_whistle_form_shows_only_to_the_street_and_lists_the_districts_organisations(client, city, depts):
    a = at_street(city)
    client.force_login(city.so)
    html = client.get(f"/appeals/{a.number}/").content.decode()
    assert "whistle" in _forms(html)
    form = html[html.index('data-testid="act-whistle"'):]
    # Each row is a searchable picker over the district's departments and member units (the
    # organisations themselves come from /api/v1/pick: tests/appeals/test_pick_whistle.py).
    assert form.count('data-picker="organization" data-purpose="whistle"') == 2
    assert f'data-appeal="{a.number}"' in form and "兴宁区城市管理局" not in form
    assert form.count('name="organization"') == 2 and 'type="datetime-local"' in form
    for who in (city.cw, city.gw1, city.jumin, city.admin):
        client.force_login(who)
        assert "whistle" not in _forms(client.get(f"/appeals/{a.number}/").content.decode()), who.username


def test_the_street_whistles_on_the_detail_page(client, city, depts):
    a = at_street(city)
    client.force_login(city.so)
    report = _local(timezone.now() + dt.timedelta(hours=4))
    r = client.post(f"/appeals/{a.number}/whistle/", {
        "version": a.version, "note": "联合处置",
        "organization": [str(depts.cg.pk), "", str(depts.unit.pk)],
        "report_due": [report, "", ""], "resolve_due": ["", "", ""]})
    assert r.status_code == 302 and r.url == f"/appeals/{a.number}/"
    a.refresh_from_db()
    assert a.state == "dispatched"
    cg = WhistleSummons.objects.get(assignee=depts.cg)
    assert _local(cg.report_due) == report
    assert WhistleSummons.objects.filter(assignee=depts.unit).exists()
    html = client.get(r.url).content.decode()
    assert "已吹哨" in html and "已派单" in html
    rows = re.findall(r'data-testid="work-order-row" data-id="(\d+)"', html)
    assert len(rows) == 2 and "待报到" in html and "南宁供电局兴宁供电分局" in html


def test_a_past_deadline_on_the_form_is_400_and_keeps_what_was_entered(client, city, depts):
    a = at_street(city)
    client.force_login(city.so)
    past = _local(timezone.now() - dt.timedelta(days=1))
    r = client.post(f"/appeals/{a.number}/whistle/", {
        "version": a.version, "note": "请尽快", "organization": [str(depts.cg.pk)], "report_due": [past],
        "resolve_due": [""]})
    assert r.status_code == 400
    html = r.content.decode()
    assert "已经过去" in html and f'value="{past}"' in html and "请尽快" in html
    # The row keeps its choice: the picker shows it with its detail line.
    assert re.search(rf'<option value="{depts.cg.pk}" data-data="[^"]*兴宁区城市管理局[^"]*" selected>', html)
    assert not WhistleSummons.objects.exists()
    r = client.post(f"/appeals/{a.number}/whistle/", {"version": a.version, "organization": ["", ""],
                                                      "report_due": ["", ""], "resolve_due": ["", ""]})
    assert r.status_code == 400 and "请至少选择一个" in r.content.decode()


def test_whistle_page_doors(client, city, depts):
    a = at_street(city)
    body = {"version": a.version, "organization": [str(depts.cg.pk)], "report_due": [""], "resolve_due": [""]}
    client.force_login(city.cw)
    assert client.post(f"/appeals/{a.number}/whistle/", body).status_code == 403
    client.force_login(depts.h_cg)
    assert client.post(f"/appeals/{a.number}/whistle/", body).status_code == 404
    client.logout()
    assert client.post(f"/appeals/{a.number}/whistle/", body).status_code == 302  # to the login page
    assert not WhistleSummons.objects.exists()


def test_the_department_reports_in_one_tap_and_submits_its_result_with_photos(client, city, depts):
    a = whistle(city, at_street(city), depts.cg, depts.sj)
    cg = a.work_orders.get(assignee=depts.cg)
    client.force_login(depts.h_cg)
    html = client.get("/appeals/workorders/").content.decode()
    assert re.findall(r'data-testid="work-order-row" data-id="(\d+)"', html) == [str(cg.pk)]
    assert a.title in html and 'data-testid="report"' in html
    r = client.post(f"/appeals/workorders/{cg.pk}/report/", {"version": 1, "next": "/appeals/workorders/"})
    assert r.status_code == 302 and r.url == "/appeals/workorders/"
    assert "已报到" in client.get(r.url).content.decode()
    html = client.get(f"/appeals/workorders/{cg.pk}/").content.decode()
    assert _forms(html) == {"resolve"} and a.text in html
    r = client.post(f"/appeals/workorders/{cg.pk}/resolve/", {"version": 2, "note": ""})
    assert r.status_code == 400 and "请填写办理结果" in r.content.decode()
    r = client.post(f"/appeals/workorders/{cg.pk}/resolve/", {
        "version": 2, "note": "已取缔占道烧烤摊", "photos": [SimpleUploadedFile("r.jpg", JPEG, "image/jpeg")]})
    assert r.status_code == 302
    html = client.get(r.url).content.decode()
    assert "已取缔占道烧烤摊" in html and "已办结" in html
    photo = AppealPhoto.objects.get(work_order=cg)
    assert f"/appeals/{a.number}/photos/{photo.pk}/" in html
    assert client.get(f"/appeals/{a.number}/photos/{photo.pk}/").status_code == 200
    a.refresh_from_db()
    assert a.state == "dispatched"  # 市监局 has not finished


def test_the_appeal_shows_resolved_when_the_last_department_finishes(client, city, depts):
    a = whistle(city, at_street(city), depts.cg, depts.sj)
    for handler, org in ((depts.h_cg, depts.cg), (depts.h_sj, depts.sj)):
        wo = a.work_orders.get(assignee=org)
        client.force_login(handler)
        client.post(f"/appeals/workorders/{wo.pk}/report/", {"version": 1})
        assert client.post(f"/appeals/workorders/{wo.pk}/resolve/", {"version": 2, "note": "已处理"}).status_code == 302
    client.force_login(city.jumin)
    html = client.get(f"/appeals/{a.number}/").content.decode()
    assert 'data-testid="appeal-state">已办结' in html and "工单全部办结" in html
    assert _forms(html) == {"rate"}


def test_work_order_pages_doors(client, city, depts):
    a = whistle(city, at_street(city), depts.cg)
    wo = a.work_orders.get()
    for outsider in (depts.h_sj, depts.h_far, city.jumin):
        client.force_login(outsider)
        assert client.get(f"/appeals/workorders/{wo.pk}/").status_code == 404
        assert client.post(f"/appeals/workorders/{wo.pk}/report/", {"version": 1}).status_code == 404
    client.force_login(city.jumin)
    assert client.get("/appeals/workorders/").status_code == 403
    client.force_login(city.so)
    assert client.get(f"/appeals/workorders/{wo.pk}/").status_code == 200
    assert client.post(f"/appeals/workorders/{wo.pk}/report/", {"version": 1}).status_code == 403
    client.force_login(depts.h_cg)
    r = client.post(f"/appeals/workorders/{wo.pk}/resolve/", {"version": 1, "note": "x"})
    assert r.status_code == 409 and "当前可执行：报到、退回工单" in r.content.decode()
    services.summons_report(actor=depts.h_cg2, work_order=wo)
    r = client.post(f"/appeals/workorders/{wo.pk}/report/", {"version": 1})
    assert r.status_code == 409 and "该工单已被他人处理，请刷新后查看。" in r.content.decode()


def test_the_street_rates_each_department_after_resolution_once(client, city, depts):
    a = whistle(city, at_street(city), depts.cg)
    wo = a.work_orders.get()
    client.force_login(city.so)
    assert "rate" not in _forms(client.get(f"/appeals/workorders/{wo.pk}/").content.decode())
    wo = services.summons_report(actor=depts.h_cg, work_order=wo)
    wo = services.summons_resolve(actor=depts.h_cg, work_order=wo, note="已处理")
    html = client.get(f"/appeals/{a.number}/").content.decode()
    assert f'/appeals/workorders/{wo.pk}/#wo-act-rate' in html
    html = client.get(f"/appeals/workorders/{wo.pk}/").content.decode()
    assert _forms(html) == {"rate"} and "响应速度" in html
    r = client.post(f"/appeals/workorders/{wo.pk}/rate/", {"version": wo.version, "speed": "4", "result": "5",
                                                            "comment": "响应及时"})
    assert r.status_code == 302
    html = client.get(r.url).content.decode()
    assert "响应速度 4 分，办理结果 5 分" in html and _forms(html) == set()
    r = client.post(f"/appeals/workorders/{wo.pk}/rate/", {"version": wo.version + 1, "speed": "1", "result": "1"})
    assert r.status_code == 409
    client.force_login(depts.h_cg)  # the department reads its rating, may not give one
    assert "响应速度 4 分" in client.get(f"/appeals/workorders/{wo.pk}/").content.decode()
    assert client.post(f"/appeals/workorders/{wo.pk}/rate/", {"version": wo.version + 1, "speed": "5",
                                                               "result": "5"}).status_code == 403
    client.force_login(city.jumin)  # the reporter does not see the internal evaluation
    assert "响应速度 4 分" not in client.get(f"/appeals/{a.number}/").content.decode()


def test_the_street_cancels_and_a_department_returns_on_the_pages(client, city, depts):
    a = whistle(city, at_street(city), depts.cg, depts.sj)
    client.force_login(city.so)
    sj = a.work_orders.get(assignee=depts.sj)
    assert _forms(client.get(f"/appeals/workorders/{sj.pk}/").content.decode()) == {"cancel"}
    r = client.post(f"/appeals/workorders/{sj.pk}/cancel/", {"version": 1, "reason": "不涉及食品安全"})
    assert r.status_code == 302
    client.force_login(depts.h_cg)
    cg = a.work_orders.get(assignee=depts.cg)
    r = client.post(f"/appeals/workorders/{cg.pk}/return/", {"version": 1, "reason": "属于物业管理范围"})
    assert r.status_code == 302
    client.force_login(city.so)
    html = client.get(f"/appeals/{a.number}/").content.decode()
    assert 'data-testid="appeal-state">办理中' in html and "工单全部退回，回到街道" in html
    assert "属于物业管理范围" in html and "whistle" in _forms(html)


def test_user_text_in_work_orders_is_shown_as_text(client, city, depts):
    a = whistle(city, at_street(city, title="<img src=x onerror=alert(1)>"), depts.cg,
                note="<script>alert('whistle')</script>")
    wo = a.work_orders.get()
    client.force_login(depts.h_cg)
    for url in ("/appeals/workorders/", f"/appeals/workorders/{wo.pk}/", f"/appeals/{a.number}/"):
        html = client.get(url).content.decode()
        assert "<img src=x" not in html and "<script>alert('whistle')" not in html


def test_the_inbox_page_costs_a_fixed_number_of_queries(client, city, depts, django_assert_max_num_queries):
    for _ in range(3):
        whistle(city, at_street(city), depts.cg)
    client.force_login(depts.h_cg)
    client.get("/appeals/workorders/")
    # session, user, roles, one page of work orders with their appeals and organisations, and the menu's
    # one EXISTS for a unit's scope (is its people register empty? then no "people" entry)
    with django_assert_max_num_queries(5):
        assert client.get("/appeals/workorders/").status_code == 200


def test_a_submitted_appeal_has_no_work_order_section(client, city):
    a = submit(city.jumin)
    client.force_login(city.jumin)
    assert 'data-testid="work-orders"' not in client.get(f"/appeals/{a.number}/").content.decode()


def test_the_appeal_page_costs_the_same_queries_with_more_work_orders(client, city, depts):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def cost(appeal):
        client.get(f"/appeals/{appeal.number}/")
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/appeals/{appeal.number}/").status_code == 200
        return len(ctx.captured_queries)

    client.force_login(city.so)
    one = whistle(city, at_street(city), depts.cg)
    four = whistle(city, at_street(city), depts.cg, depts.sj, depts.squad, depts.unit)
    for wo in four.work_orders.all()[:2]:
        services.summons_return(actor=depts.h_cg if wo.assignee_id != depts.sj.pk else depts.h_sj,
                                work_order=wo, reason="非本单位职责")
    assert cost(four) == cost(one)
