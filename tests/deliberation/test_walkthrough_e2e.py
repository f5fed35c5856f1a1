"""The issue's walkthrough in real headless Chromium: a resident raises a topic at a 逢四说事 session,
the recorder puts it on the agenda and turns it into a proposal, owners vote online (on phones) and on
paper, the result is published with its art. 278 tally, the resolution becomes an action item and its
owner marks it done."""

import datetime as dt

import pytest
from django.utils import timezone
from PIL import Image

from gongzhi.deliberation import services
from gongzhi.deliberation.models import ActionItem, ActionState, Proposal, VoterRoll
from tests.browser import login
from tests.pickers import pick

from .test_votes import compound  # noqa: F401 - 荷州小区 and its register

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def context(browser, *, phone=False):
    size = {"width": 390, "height": 844} if phone else {"width": 1366, "height": 900}
    ctx = browser.new_context(locale="zh-CN", viewport=size, is_mobile=phone)
    page = ctx.new_page()
    page.set_default_timeout(15000)
    return ctx, page


def test_topic_to_proposal_to_vote_to_result_to_action_done(browser, live_server, world, compound, tmp_path):  # noqa: F811
    base, w = live_server.url, world
    start = timezone.localtime() - dt.timedelta(minutes=20)
    m = services.meeting_create(actor=w.cw, kind="deliberation", form="feng_si", title="逢四说事", starts_at=start,
                                ends_at=start + dt.timedelta(hours=2), place=w.beining.pk, location="议事厅")

    desk, rec = context(browser)
    login(rec, base, "cw")
    rec.goto(base + f"/deliberation/meetings/{m.pk}/")
    rec.fill("[data-testid=agenda-title]", "荷州小区 2 栋加装电梯")
    rec.fill("[data-testid=agenda-raised-by]", "陈业主")
    rec.click("[data-testid=agenda-add]")
    rec.click("[data-testid=to-proposal]")
    assert rec.input_value("[data-testid=title]") == "荷州小区 2 栋加装电梯"
    pick(rec.locator("select[name=place]"), "荷州", "荷州小区")
    rec.select_option("[data-testid=matter]", "major")
    now = timezone.localtime()
    rec.fill("[data-testid=discussion-until]", now.strftime("%Y-%m-%dT%H:%M"))
    rec.fill("[data-testid=opens-at]", now.strftime("%Y-%m-%dT%H:%M"))
    rec.fill("[data-testid=closes-at]", (now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    rec.click("[data-testid=save]")
    assert "议题已发布" in rec.locator(".messages").inner_text()
    p = Proposal.objects.get()
    assert p.agenda_item.meeting_id == m.pk and p.matter == "major"

    for username in ("owner0", "owner1", "owner2"):  # 陈, 林, 黄 vote on their phones
        ctx, page = context(browser, phone=True)
        login(page, base, username)
        page.goto(base + f"/deliberation/proposals/{p.pk}/")
        page.click("[data-testid=vote-yes]")
        assert "投票成功" in page.locator(".messages").inner_text()
        assert "线上" in page.locator("[data-testid=my-ballot]").inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        ctx.close()

    sheet = tmp_path / "ballot.jpg"
    Image.new("RGB", (60, 40), (240, 240, 240)).save(sheet, "JPEG")
    rec.goto(base + f"/deliberation/proposals/{p.pk}/")
    assert "不能参加这次业主表决" in rec.locator("[data-testid=not-a-voter]").inner_text()  # staff, not an owner
    rec.fill("[data-testid=paper-voter]", "4栋-101")  # 周业主's flat, as the sheet names it
    rec.select_option("[data-testid=paper-choice]", "yes")
    rec.set_input_files("[data-testid=paper-photo]", str(sheet))
    rec.click("[data-testid=paper-save]")
    assert "纸质选票已录入" in rec.locator(".messages").inner_text()
    assert VoterRoll.objects.filter(proposal=p).count() == 4

    Proposal.objects.filter(pk=p.pk).update(closes_at=timezone.now() - dt.timedelta(seconds=1))
    assert services.decide_due() == 1  # what the worker's round does after the close
    rec.goto(base + f"/deliberation/proposals/{p.pk}/")
    assert "通过" in rec.locator(".verdict").inner_text()
    explain = rec.locator("[data-testid=explain]").inner_text()
    assert "3/4" in explain and "2/3" in explain and "450.50/625.75" in explain

    rec.goto(base + f"/deliberation/meetings/{m.pk}/")
    rec.fill("[data-testid=minutes-text]", "荷州小区业主表决通过 2 栋加装电梯。")
    rec.click("[data-testid=minutes-save]")
    rec.fill("[data-testid=resolution-text]", "荷州小区 2 栋加装电梯，由物业公司组织施工")
    rec.fill("[data-testid=action-title]", "办理加装电梯审批手续")
    pick(rec.locator("select[name=owner_org]"), "物业", "某物业公司")
    rec.fill("[data-testid=due-on]", (timezone.localdate() + dt.timedelta(days=30)).isoformat())
    rec.click("[data-testid=resolution-add]")
    assert "决议已登记" in rec.locator(".messages").inner_text()
    desk.close()

    ctx, page = context(browser, phone=True)
    login(page, base, "liaison3")
    page.goto(base + "/deliberation/actions/")
    row = page.locator("[data-testid=action-row]", has_text="加装电梯审批")
    row.locator("[data-testid=done-note]").fill("已提交规划审批")
    row.locator("[data-testid=done]").click()
    assert "督办事项已办结" in page.locator(".messages").inner_text()
    ctx.close()
    assert ActionItem.objects.get().state == ActionState.DONE

