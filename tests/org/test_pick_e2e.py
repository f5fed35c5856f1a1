"""In real Chromium on a phone: a community worker appoints a post on the registry's form, finding the
person (one of two namesakes, told apart by the masked phone tail) and the organisation by pinyin
in searchable pickers; the post names them. The form carries no list of every person or unit."""

import pytest

from gongzhi.org import services
from gongzhi.org.models import Post
from tests.appeals.test_e2e import login
from tests.org.helpers import id_number
from tests.pickers import pick

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("fast_password_hashing")]


def test_appoint_a_post_by_pinyin_on_a_phone(browser, live_server, reg):
    bn = reg.tree["beining"]
    other = services.person_create(actor=reg.admin, name="张三", phone="13900009999", id_number=id_number(7),
                                   registered_community=bn)
    pg = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}).new_page()
    pg.set_default_timeout(15000)
    errors = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        login(pg, live_server.url, reg.worker.username)
        pg.goto(live_server.url + "/org/posts/new/")
        assert pg.locator("select[data-picker] option").count() <= 6  # the chosen rows only, never the registry
        pick(pg.locator("select[name=person]"), "zhangsan", "张三", detail="尾号9999")
        pg.locator("select[name=title]").select_option("committee_member")
        pick(pg.locator("select[name=organization]"), "bnsqlhdw", "北宁社区联合党委")
        pg.fill("input[name=starts_on]", "2025-01-01")
        assert pg.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        pg.screenshot(path="/tmp/pk/post-phone.png", full_page=True)
        pg.locator("form button.primary").click()
        pg.wait_for_load_state()
        post = Post.objects.get(person=other)
        assert post.organization == reg.joint and post.title == "committee_member"
        assert errors == []
    finally:
        pg.context.close()
