"""The edit pages: 编辑 buttons only where the user may edit, forms pre-filled (never a clear number),
errors re-show the form with the message and change nothing, success redirects with a message."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from gongzhi.core.models import AuditEntry
from gongzhi.org import services
from gongzhi.org.models import Agreement, Membership, Organization, Person, Post
from tests.org.edit_helpers import only_entry, secretary, snapshot, trail_text, unit_agreement
from tests.org.helpers import days, id_number

pytestmark = pytest.mark.django_db


def html_of(r) -> str:
    return r.content.decode()


def messages_of(client, r) -> str:
    return html_of(client.get(r["Location"]))


def _person_data(person, **over):
    party = getattr(person, "party", None)
    data = {"version": person.version, "name": person.name, "gender": person.gender, "phone": "", "id_number": "",
            "community_code": person.registered_community.code,
            "party_status": party.status if party else "", "home_organization": party.home_organization.name if party else "",
            "joined_on": party.joined_on.isoformat() if party and party.joined_on else ""}
    data.update(over)
    return data


# ---- buttons ----

def test_edit_buttons_show_only_for_users_who_may_edit(client, reg):
    a = unit_agreement(reg)
    secretary(reg)
    pages = [reverse("org:person", args=[reg.zhang.pk]), reverse("org:detail", args=[reg.joint.pk]),
             reverse("org:units"), reverse("org:posts")]
    client.force_login(reg.worker)
    person, org, units, posts = (html_of(client.get(u)) for u in pages)
    assert 'data-testid="edit-person"' in person and reverse("org:person_edit", args=[reg.zhang.pk]) in person
    assert 'data-testid="edit-org"' in org and reverse("org:org_edit", args=[reg.joint.pk]) in org
    for html in (org, units):
        assert reverse("org:agreement_edit", args=[a.pk]) in html and "编辑" in html
        assert reverse("org:agreement_terminate", args=[a.pk]) in html
        assert reverse("org:agreement_renew", args=[a.pk]) in html
    post = Post.objects.get()
    for html in (posts, person, org):
        assert reverse("org:post_edit", args=[post.pk]) in html and reverse("org:post_end", args=[post.pk]) in html

    client.force_login(reg.grid_worker)  # may view the registry, may not edit it
    for u in pages:
        html = html_of(client.get(u))
        assert "/edit/" not in html and "/terminate/" not in html and "/renew/" not in html and "/end/" not in html


def test_a_terminated_agreement_offers_no_edit_and_an_expired_one_offers_renewal(client, reg):
    a = unit_agreement(reg)
    b = unit_agreement(reg, number="OLD-1", name="兴宁区医院", starts_on="2020-01-01", ends_on="2021-01-01")
    services.agreement_terminate(actor=reg.admin, agreement=a, version=1, reason="退出")
    services.agreements_expire(actor=reg.admin)
    client.force_login(reg.worker)
    html = html_of(client.get(reverse("org:units")))
    assert reverse("org:agreement_edit", args=[a.pk]) not in html and reverse("org:agreement_renew", args=[a.pk]) not in html
    assert reverse("org:agreement_edit", args=[b.pk]) not in html and reverse("org:agreement_renew", args=[b.pk]) in html


# ---- person ----

def test_person_edit_form_is_prefilled_but_never_shows_a_clear_number(client, reg):
    client.force_login(reg.worker)
    r = client.get(reverse("org:person_edit", args=[reg.zhang.pk]))
    html = html_of(r)
    assert r.status_code == 200
    assert 'value="张三"' in html and 'value="450102001004"' in html
    # The home party organisation is a picker holding the current one (by id, shown by name).
    home = re.search(rf'<option value="{reg.beining.pk}"[^>]*>北宁社区党委</option>', html)
    assert home and " selected" in home.group(0)
    assert 'name="version" value="1"' in html
    assert "138****5678" in html and "13812345678" not in html and id_number(1) not in html


def test_person_edit_saves_redirects_with_a_message_and_audits_masked(client, reg):
    client.force_login(reg.worker)
    r = client.post(reverse("org:person_edit", args=[reg.zhang.pk]),
                    _person_data(reg.zhang, name="张三丰", phone="13900000011"))
    assert r.status_code == 302 and r["Location"] == reverse("org:person", args=[reg.zhang.pk])
    assert "已保存「张三丰」的修改" in messages_of(client, r)
    p = Person.objects.get(pk=reg.zhang.pk)
    assert (p.name, p.phone_masked, p.version) == ("张三丰", "139****0011", 2)
    e = only_entry("person.update")
    assert e.after == {"name": "张三丰", "phone": "139****0011"} and "13900000011" not in trail_text()


def test_blank_numbers_are_kept_and_the_tick_box_clears_them(client, reg):
    client.force_login(reg.worker)
    client.post(reverse("org:person_edit", args=[reg.zhang.pk]), _person_data(reg.zhang, gender="F"))
    p = Person.objects.get(pk=reg.zhang.pk)
    assert (p.gender, p.phone_masked, p.id_masked[:4]) == ("F", "138****5678", "4501")
    client.post(reverse("org:person_edit", args=[reg.zhang.pk]), _person_data(p, clear_phone="on"))
    p = Person.objects.get(pk=reg.zhang.pk)
    assert p.phone_masked == "" and p.phone_enc == "" and p.id_masked[:4] == "4501"


def test_saving_an_unchanged_person_says_so_and_writes_nothing(client, reg):
    client.force_login(reg.worker)
    r = client.post(reverse("org:person_edit", args=[reg.zhang.pk]), _person_data(reg.zhang))
    assert r.status_code == 302 and "没有修改任何内容" in messages_of(client, r)
    assert Person.objects.get(pk=reg.zhang.pk).version == 1
    assert not AuditEntry.objects.filter(action="person.update").exists()


@pytest.mark.parametrize("over, status, message", [
    ({"phone": "12345"}, 400, "手机号应为 11 位数字"),
    ({"community_code": "450102001999"}, 400, "社区 450102001999 不存在"),
    ({"community_code": "450102001003"}, 403, "您没有权限执行此操作"),
    ({"id_number": id_number(2)}, 409, "已登记"),
    ({"name": ""}, 400, "这个字段是必填项"),
    ({"party_status": "in_service", "home_organization": "不存在的党支部"}, 400, "党组织「不存在的党支部」不存在"),
    ({"phone": "13900000012", "clear_phone": "on"}, 400, "不要同时勾选删除"),
    ({"gender": "X"}, 400, "选择一个有效的选项"),
])
def test_person_edit_errors_reshow_the_form_and_change_nothing(client, reg, over, status, message):
    client.force_login(reg.worker)
    before = snapshot(reg.zhang)
    r = client.post(reverse("org:person_edit", args=[reg.zhang.pk]), _person_data(reg.zhang, **{"name": "张三丰", **over}))
    assert r.status_code == status and message in html_of(r)
    assert '<form method="post"' in html_of(r)
    assert snapshot(reg.zhang) == before


def test_a_stale_person_form_is_409_with_the_message_and_changes_nothing(client, reg):
    services.person_update(actor=reg.admin, person=reg.zhang, version=1, gender="F")
    before = snapshot(reg.zhang)
    client.force_login(reg.worker)
    r = client.post(reverse("org:person_edit", args=[reg.zhang.pk]), _person_data(reg.zhang, name="张三丰"))
    assert r.status_code == 409 and "该记录已被他人修改，请刷新后重试。" in html_of(r)
    assert snapshot(reg.zhang) == before


def test_person_edit_doors_by_role(client, reg):
    url = reverse("org:person_edit", args=[reg.zhang.pk])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    for u, status in ((reg.resident, 403), (reg.grid_worker, 403), (reg.worker_x, 404), (reg.worker, 200)):
        client.force_login(u)
        assert client.get(url).status_code == status, u
    client.force_login(reg.worker_x)
    r = client.post(url, _person_data(reg.zhang, name="张三丰"))
    assert r.status_code == 404 and "张三" not in html_of(r)
    assert Person.objects.get(pk=reg.zhang.pk).name == "张三"


# ---- organisation ----

def _org_data(org, **over):
    data = {"version": org.version, "kind": org.kind, "name": org.name, "parent": org.parent_id or "",
            "place_code": org.place.code if org.place_id else "", "credit_code": org.credit_code}
    data.update(over)
    return data


def test_org_edit_form_is_prefilled_and_offers_no_parent_inside_its_own_subtree(client, reg):
    client.force_login(reg.admin)
    html = html_of(client.get(reverse("org:org_edit", args=[reg.beining.pk])))
    assert 'value="北宁社区党委"' in html and 'value="450102001004"' in html
    # The parent is a searchable picker (org.picker_widget): it holds the chosen parent only, and the
    # form refuses a parent inside the organisation's own subtree.
    chosen = re.search(rf'<option value="{reg.street.pk}"[^>]*>', html).group(0)
    assert " selected" in chosen and "民生街道党工委" in chosen and "data-data=" in chosen
    assert 'data-picker="organization" data-purpose="edit"' in html and f'<option value="{reg.xingning.pk}"' not in html
    for inside in (reg.joint, reg.beining):
        r = client.post(reverse("org:org_edit", args=[reg.beining.pk]), _org_data(reg.beining, parent=inside.pk))
        assert r.status_code in (200, 400) and 'data-testid="field-error"' in r.content.decode()
        assert Organization.objects.get(pk=reg.beining.pk).parent == reg.street


def test_a_community_worker_keeps_the_parent_outside_their_scope(client, reg):
    # 北宁社区党委's parent, the street committee, is outside the worker's scope: saving keeps it.
    client.force_login(reg.worker)
    r = client.post(reverse("org:org_edit", args=[reg.beining.pk]), _org_data(reg.beining, name="北宁社区党委员会"))
    assert r.status_code == 302 and "已保存组织「北宁社区党委员会」的修改" in messages_of(client, r)
    org = Organization.objects.get(pk=reg.beining.pk)
    assert org.parent == reg.street and org.name == "北宁社区党委员会"


def test_org_edit_moves_the_subtree(client, reg):
    client.force_login(reg.admin)
    r = client.post(reverse("org:org_edit", args=[reg.joint.pk]), _org_data(reg.joint, parent=reg.street.pk))
    assert r.status_code == 302 and r["Location"] == reverse("org:detail", args=[reg.joint.pk])
    assert Organization.objects.get(pk=reg.joint.pk).path == f"{reg.street.path}{reg.joint.pk}/"


@pytest.mark.parametrize("over, status, message", [
    ({"name": "兴宁社区党委"}, 400, "同一上级下已有名为「兴宁社区党委」的组织"),
    ({"place_code": "450102001999"}, 400, "区划代码 450102001999 不存在"),
    ({"credit_code": "123"}, 400, "统一社会信用代码应为 18 位"),
    ({"version": "0"}, 409, "该记录已被他人修改，请刷新后重试。"),
    ({"version": ""}, 400, "缺少记录版本号"),
])
def test_org_edit_errors_reshow_the_form_and_change_nothing(client, reg, over, status, message):
    client.force_login(reg.admin)
    before = snapshot(reg.beining)
    r = client.post(reverse("org:org_edit", args=[reg.beining.pk]), _org_data(reg.beining, **over))
    assert r.status_code == status and message in html_of(r)
    assert snapshot(reg.beining) == before


def test_a_cycle_is_refused_on_the_page_too(client, reg):
    # The form does not offer a descendant; a forged POST gets the form's own refusal.
    client.force_login(reg.admin)
    before = snapshot(reg.beining)
    r = client.post(reverse("org:org_edit", args=[reg.beining.pk]), _org_data(reg.beining, parent=reg.joint.pk))
    assert r.status_code == 400 and snapshot(reg.beining) == before


def test_org_edit_out_of_scope_is_404(client, reg):
    client.force_login(reg.worker_x)
    assert client.get(reverse("org:org_edit", args=[reg.joint.pk])).status_code == 404
    assert client.post(reverse("org:org_edit", args=[reg.joint.pk]), _org_data(reg.joint, name="甲")).status_code == 404
    assert Organization.objects.get(pk=reg.joint.pk).name == "北宁社区联合党委"


# ---- agreements ----

def test_agreement_edit_form_is_prefilled_and_saves(client, reg):
    a = unit_agreement(reg)
    client.force_login(reg.worker)
    url = reverse("org:agreement_edit", args=[a.pk])
    html = html_of(client.get(url, {"next": reverse("org:units")}))
    assert 'value="2025-01-01"' in html and 'value="2027-12-31"' in html and "认领微心愿" in html
    assert f'name="next" value="{reverse("org:units")}"' in html
    r = client.post(url, {"version": 1, "starts_on": "2025-01-01", "ends_on": "2028-12-31",
                          "duties": "认领微心愿\n开放会议室", "commitments": "会议室每月 4 次", "next": reverse("org:units")})
    assert r.status_code == 302 and r["Location"] == reverse("org:units")
    assert "已保存协议 BN-2025-001 的修改" in messages_of(client, r)
    a = Agreement.objects.get(pk=a.pk)
    assert (a.ends_on, a.duties, a.version) == (dt.date(2028, 12, 31), ["认领微心愿", "开放会议室"], 2)


def test_agreement_edit_never_redirects_off_site(client, reg):
    a = unit_agreement(reg)
    client.force_login(reg.worker)
    r = client.post(reverse("org:agreement_edit", args=[a.pk]),
                    {"version": 1, "starts_on": "2025-01-01", "ends_on": "2028-12-31", "next": "https://evil.example/"})
    assert r["Location"] == reverse("org:detail", args=[reg.joint.pk])


@pytest.mark.parametrize("data, status, message", [
    ({"version": 1, "starts_on": "2025-01-01", "ends_on": "2024-12-31"}, 400, "协议结束日期必须晚于开始日期"),
    ({"version": 1, "starts_on": "2025-01-01", "ends_on": ""}, 400, "这个字段是必填项"),
    ({"version": 0, "starts_on": "2025-01-01", "ends_on": "2029-12-31"}, 409, "该记录已被他人修改"),
])
def test_agreement_edit_errors_change_nothing(client, reg, data, status, message):
    a = unit_agreement(reg)
    before = snapshot(a)
    client.force_login(reg.worker)
    r = client.post(reverse("org:agreement_edit", args=[a.pk]), data)
    assert r.status_code == status and message in html_of(r)
    assert snapshot(a) == before


def test_terminate_page_needs_a_reason_then_ends_the_membership(client, reg):
    a = unit_agreement(reg)
    client.force_login(reg.worker)
    url = reverse("org:agreement_terminate", args=[a.pk])
    assert "终止原因" in html_of(client.get(url))
    r = client.post(url, {"version": 1, "reason": ""})
    assert r.status_code == 400 and "请填写终止协议的原因" in html_of(r)
    assert Agreement.objects.get(pk=a.pk).status == "signed"
    r = client.post(url, {"version": 1, "reason": "单位搬迁"})
    assert r.status_code == 302 and "协议 BN-2025-001 已终止" in messages_of(client, r)
    assert Agreement.objects.get(pk=a.pk).status == "terminated"
    assert Membership.objects.get(pk=a.membership_id).status == "ended"


def test_renew_page_prefills_the_next_term_and_creates_the_new_agreement(client, reg):
    a = unit_agreement(reg)
    client.force_login(reg.worker)
    url = reverse("org:agreement_renew", args=[a.pk])
    html = html_of(client.get(url))
    assert "2028-01-01" in html and "认领微心愿" in html
    r = client.post(url, {"version": 1, "number": "BN-2025-001", "ends_on": "2030-12-31", "duties": "认领微心愿"})
    assert r.status_code == 400 and "协议编号 BN-2025-001 已存在" in html_of(r)
    r = client.post(url, {"version": 1, "number": "BN-2028-001", "ends_on": "2030-12-31", "duties": "认领微心愿"})
    assert r.status_code == 302 and "新协议编号 BN-2028-001" in messages_of(client, r)
    new = Agreement.objects.get(number="BN-2028-001")
    assert (new.starts_on, new.ends_on) == (dt.date(2028, 1, 1), dt.date(2030, 12, 31))


def test_agreement_pages_out_of_scope_are_404_and_without_edit_403(client, reg):
    a = unit_agreement(reg)
    for name in ("org:agreement_edit", "org:agreement_terminate", "org:agreement_renew"):
        client.force_login(reg.worker_x)
        assert client.get(reverse(name, args=[a.pk])).status_code == 404
        client.force_login(reg.grid_worker)
        assert client.get(reverse(name, args=[a.pk])).status_code == 403
    client.force_login(reg.worker_x)
    assert client.post(reverse("org:agreement_terminate", args=[a.pk]), {"version": 1, "reason": "x"}).status_code == 404
    assert Agreement.objects.get(pk=a.pk).status == "signed"


def test_units_page_warns_of_lapsed_agreements_beside_the_reminders(client, reg, settings):
    settings.AGREEMENT_REMINDER_DAYS = 30
    unit_agreement(reg, number="SOON-1", starts_on=days(-300), ends_on=days(10))
    unit_agreement(reg, number="LAPSED-1", name="兴宁区医院", starts_on=days(-400), ends_on=days(-3))
    swept = unit_agreement(reg, number="SWEPT-1", name="南宁三中", starts_on=days(-400), ends_on=days(-30))
    renewed = unit_agreement(reg, number="RENEWED-1", name="南宁水务", starts_on=days(-400), ends_on=days(-20))
    services.agreements_expire(actor=reg.admin)
    services.agreement_renew(actor=reg.admin, agreement=Agreement.objects.get(pk=renewed.pk),
                             version=2, number="RENEWED-2", ends_on=days(300))
    client.force_login(reg.worker)
    html = html_of(client.get(reverse("org:units")))
    box = html[html.index('data-testid="lapsed"'):]
    box = box[: box.index("</div>")]
    assert "SOON-1" in html[html.index('data-testid="reminders"'):html.index('data-testid="lapsed"')]
    assert "LAPSED-1" in box and "SWEPT-1" in box and "RENEWED-1" not in box and "SOON-1" not in box
    assert Agreement.objects.get(pk=swept.pk).status == "expired"
    detail = html_of(client.get(reverse("org:detail", args=[reg.joint.pk])))
    assert 'data-testid="lapsed"' in detail and "SWEPT-1" in detail
    client.force_login(reg.worker_x)
    assert 'data-testid="lapsed"' not in html_of(client.get(reverse("org:units")))


# ---- posts ----

def test_post_edit_page_prefills_and_enforces_the_single_holder_rule(client, reg):
    wang = services.person_create(actor=reg.admin, name="王五", registered_community=reg.tree["beining"])
    first = secretary(reg, ends_on="2026-01-01")
    secretary(reg, wang, starts_on="2026-01-01")
    client.force_login(reg.worker)
    url = reverse("org:post_edit", args=[first.pk])
    html = html_of(client.get(url))
    assert 'value="2024-01-01"' in html and 'value="2026-01-01"' in html
    r = client.post(url, {"version": 1, "starts_on": "2024-01-01", "ends_on": "2026-06-01"})
    assert r.status_code == 409 and "已由 王* 担任" in html_of(r)
    assert Post.objects.get(pk=first.pk).ends_on == dt.date(2026, 1, 1)
    r = client.post(url, {"version": 1, "starts_on": "2024-03-01", "ends_on": "2026-01-01"})
    assert r.status_code == 302 and r["Location"] == reverse("org:posts")
    assert "已修改 张三 的书记任期" in messages_of(client, r)
    assert Post.objects.get(pk=first.pk).starts_on == dt.date(2024, 3, 1)


def test_post_end_page(client, reg):
    p = secretary(reg)
    client.force_login(reg.worker)
    url = reverse("org:post_end", args=[p.pk])
    assert f'value="{days(0).isoformat()}"' in html_of(client.get(url))  # today, pre-filled
    r = client.post(url, {"version": 1, "ends_on": "2023-06-01"})
    assert r.status_code == 400 and "卸任日期必须晚于任职开始日期 2024-01-01" in html_of(r)
    assert Post.objects.get().ends_on is None
    r = client.post(url, {"version": 1, "ends_on": "2025-06-30", "next": reverse("org:person", args=[reg.zhang.pk])})
    assert r.status_code == 302 and r["Location"] == reverse("org:person", args=[reg.zhang.pk])
    assert "张三 已卸任书记" in messages_of(client, r)
    assert Post.objects.get().ends_on == dt.date(2025, 6, 30)


def test_post_pages_out_of_scope_are_404(client, reg):
    p = secretary(reg)
    client.force_login(reg.worker_x)
    for name in ("org:post_edit", "org:post_end"):
        assert client.get(reverse(name, args=[p.pk])).status_code == 404
        assert client.post(reverse(name, args=[p.pk]), {"version": 1, "ends_on": "2025-01-01"}).status_code == 404
    assert Post.objects.get().ends_on is None


def test_row_buttons_cost_no_queries_per_row(client, reg):
    def add_posts(n, start):
        for i in range(start, start + n):
            p = services.person_create(actor=reg.admin, name=f"委员{i}", registered_community=reg.tree["beining"])
            services.post_assign(actor=reg.admin, person=p, title="committee_member", starts_on="2025-01-01",
                                 organization=reg.joint)
            unit_agreement(reg, number=f"N-{i}", name=f"单位{i}")

    client.force_login(reg.worker)
    add_posts(2, 0)
    counts = {}
    for n in (2, 30):
        if n == 30:
            add_posts(28, 2)
        for url in (reverse("org:posts"), reverse("org:units"), reverse("org:detail", args=[reg.joint.pk])):
            with CaptureQueriesContext(connection) as ctx:
                html = html_of(client.get(url))
            assert html.count("/edit/") >= n
            counts[(url, n)] = len(ctx.captured_queries)
    for url in {u for u, _n in counts}:
        assert counts[(url, 2)] == counts[(url, 30)], (url, counts)
