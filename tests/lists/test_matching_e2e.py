"""In real headless Chromium: a resident posts a micro-wish → the community runs matching on /lists/board/ and
confirms → the party member accepts and completes it → the resident rates."""

from __future__ import annotations

import re

import pytest

from gongzhi.lists.models import Need, Project
from tests.factories import PASSWORD
from tests.lists import test_matching_service as base
from tests.lists.conftest import soon

m = base.m  # the resources fixture: 张党员 (user "dangyuan") offers 爱心书包 in 北宁社区

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def login(browser, live_server, username):
    ctx = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.set_default_timeout(15000)
    pg.goto(live_server.url + "/login/")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", PASSWORD)
    pg.click("button[type=submit]")
    pg.wait_for_url(live_server.url + "/")
    return ctx, pg


def test_micro_wish_from_posting_through_matching_to_rating(browser, live_server, m):
    url = live_server.url
    resident_ctx, resident = login(browser, live_server, "jumin")
    resident.goto(url + "/lists/needs/new/?kind=micro_wish")
    resident.fill("#id_title", "想要一个新书包")
    resident.fill("#id_beneficiary", "小明")
    resident.select_option("#id_skill", "goods")
    resident.fill("#id_due_on", soon(10).isoformat())
    resident.click("[data-testid=need-submit]")
    resident.wait_for_url(re.compile(r"/lists/needs/XQ[\d-]+/$"))
    number = resident.url.rstrip("/").rsplit("/", 1)[1]
    assert Need.objects.get(number=number).kind == "micro_wish"

    worker_ctx, worker = login(browser, live_server, "cw")
    worker.goto(url + "/lists/board/")
    assert worker.inner_text("[data-testid=count-open]") == "1"
    worker.click("[data-testid=run-matching]")
    row = worker.locator(f"[data-testid=pair][data-number='{number}']")
    row.wait_for()
    assert row.locator("[data-testid=pair-reason]").inner_text().startswith("技能匹配：物资；服务范围含北宁社区；距离")
    assert "爱心书包（张**）" in row.locator("[data-testid=resource-select]").inner_text()
    worker.click("[data-testid=confirm-dispatch]")
    result = worker.locator(f"[data-testid=result][data-number='{number}']")
    result.wait_for()
    assert result.get_attribute("data-status") == "dispatched"
    project = Project.objects.get(needs__number=number)
    assert re.search(rf"已派单，项目 {project.number}", result.inner_text())
    worker_ctx.close()

    member_ctx, member = login(browser, live_server, "dangyuan")
    member.goto(url + "/lists/orders/")
    member.click(f"text={project.number}")
    member.click("[data-testid=act-accept]")
    member.wait_for_function("document.querySelector('[data-testid=project-state]').innerText === '实施中'")
    member.fill("[data-testid=done-served]", "1")
    member.fill("[data-testid=done-hours]", "2")
    member.fill("[data-testid=done-summary]", "书包已送到小明家。")
    member.click("[data-testid=act-done]")
    member.wait_for_function("document.querySelector('[data-testid=project-state]').innerText === '已完成'")
    member_ctx.close()

    resident.goto(url + f"/lists/needs/{number}/")
    resident.check("#act-rate input[name=rating][value='5']")
    resident.fill("#act-rate textarea[name=comment]", "谢谢张叔叔！")
    resident.click("#act-rate [data-testid=act-rate]")
    resident.wait_for_selector("[data-testid=need-rating]")
    assert "5 ★" in resident.inner_text("[data-testid=need-rating]")
    need = Need.objects.get(number=number)
    assert (need.state, need.rating) == ("rated", 5)
    resident_ctx.close()
