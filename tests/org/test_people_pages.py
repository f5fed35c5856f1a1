"""People pages: masked list, scope, keyset pages, the unmask door and the person form."""

import pytest
from django.urls import reverse

from gongzhi.core.models import AuditEntry, PiiAccess
from gongzhi.org import services
from gongzhi.org.models import PartyMembership, Person, Post
from tests.org.helpers import bad_check_digit, id_number, phone

pytestmark = pytest.mark.django_db


def test_people_list_shows_masked_values_and_never_the_clear_ones(client, reg):
    client.force_login(reg.worker)
    r = client.get(reverse("org:people"))
    html = r.content.decode()
    assert r.status_code == 200
    assert "张三" in html and "138****5678" in html and "4501**********" in html
    assert "13812345678" not in html and id_number(1) not in html


def test_a_community_worker_does_not_see_another_communitys_people(client, reg):
    client.force_login(reg.worker_x)
    html = client.get(reverse("org:people")).content.decode()
    assert "李四" in html and "张三" not in html
    assert client.get(reverse("org:person", args=[reg.zhang.pk])).status_code == 404


def test_people_list_pages_by_keyset(client, reg):
    for i in range(60):
        services.person_create(actor=reg.admin, name=f"居民{i:02d}", registered_community=reg.tree["beining"])
    client.force_login(reg.worker)
    first = client.get(reverse("org:people"))
    assert first.content.decode().count('data-testid="person-row"') == 50
    next_link = first.content.decode().split('rel="next"')[0].rsplit('href="?', 1)[1].split('"')[0]
    second = client.get(reverse("org:people") + "?" + next_link.replace("&amp;", "&"))
    assert second.content.decode().count('data-testid="person-row"') == 11  # 张三 + 60 - 50
    assert 'rel="next"' not in second.content.decode()


def test_people_list_page_costs_a_fixed_number_of_queries(client, reg, django_assert_max_num_queries):
    for i in range(40):
        services.person_create(actor=reg.admin, name=f"党员{i:02d}", registered_community=reg.tree["beining"],
                               home_organization=reg.beining, party_status="retired")
    client.force_login(reg.worker)
    client.get(reverse("org:people"))  # warm the session
    with django_assert_max_num_queries(5):  # session, user, roles, one page of people
        r = client.get(reverse("org:people"))
    assert r.content.decode().count("退休党员") == 40


def test_search_by_name(client, reg):
    client.force_login(reg.admin)
    html = client.get(reverse("org:people"), {"q": "李"}).content.decode()
    assert "李四" in html and "张三" not in html


# ---- unmask ----

def _unmask(client, person, field="phone", reason="电话回访诉求办理结果"):
    return client.post(reverse("org:person_unmask", args=[person.pk]), {"field": field, "reason": reason})


def test_unmask_shows_the_clear_value_once_and_writes_one_access_row(client, reg):
    client.force_login(reg.worker)
    detail = client.get(reverse("org:person", args=[reg.zhang.pk])).content.decode()
    assert "查看完整号码" in detail and "13812345678" not in detail
    r = _unmask(client, reg.zhang)
    assert r.status_code == 200 and r["Cache-Control"] == "no-store"
    assert "13812345678" in r.content.decode()
    access = PiiAccess.objects.get()
    assert (access.user, access.person, access.field, access.reason, access.channel) == (
        reg.worker, reg.zhang, "phone", "电话回访诉求办理结果", "web")
    # Shown once: the next view of the page is masked again.
    assert "13812345678" not in client.get(reverse("org:person", args=[reg.zhang.pk])).content.decode()


def test_unmask_id_number(client, reg):
    client.force_login(reg.worker)
    assert id_number(1) in _unmask(client, reg.zhang, field="id_number").content.decode()
    assert PiiAccess.objects.get().field == "id_number"


def test_user_without_person_unmask_sees_no_button_and_gets_403(client, reg):
    client.force_login(reg.grid_worker)  # may view the registry, may not unmask
    detail = client.get(reverse("org:person", args=[reg.zhang.pk])).content.decode()
    assert detail and "查看完整号码" not in detail
    r = _unmask(client, reg.zhang)
    assert r.status_code == 403 and "13812345678" not in r.content.decode()
    assert not PiiAccess.objects.exists()


def test_unmask_needs_a_reason(client, reg):
    client.force_login(reg.worker)
    r = _unmask(client, reg.zhang, reason="")
    assert r.status_code == 400 and "请填写查看原因" in r.content.decode()
    assert "13812345678" not in r.content.decode() and not PiiAccess.objects.exists()


def test_unmask_is_post_only(client, reg):
    client.force_login(reg.worker)
    assert client.get(reverse("org:person_unmask", args=[reg.zhang.pk])).status_code == 405
    assert not PiiAccess.objects.exists()


# ---- the person form ----

def _person_form(**over):
    data = {"name": "王五", "gender": "F", "phone": phone(7), "id_number": id_number(7),
            "community_code": "450102001004", "party_status": "", "home_organization": "", "joined_on": ""}
    data.update(over)
    return data


def test_person_form_registers_a_party_member(client, reg):
    client.force_login(reg.worker)
    r = client.post(reverse("org:person_create"), _person_form(party_status="floating", home_organization="北宁社区党委",
                                                               joined_on="2010-07-01"))
    p = Person.objects.get(name="王五")
    assert r.status_code == 302 and r["Location"] == reverse("org:person", args=[p.pk])
    assert p.phone_masked == "139****0007" and p.registered_community == reg.tree["beining"]
    assert p.party.status == "floating" and p.party.home_organization == reg.beining
    assert AuditEntry.objects.filter(action="person.create", object_id=str(p.pk)).exists()


@pytest.mark.parametrize("over, message", [
    ({"community_code": "450102001999"}, "社区 450102001999 不存在"),
    ({"phone": "12345"}, "手机号应为 11 位数字"),
    ({"id_number": bad_check_digit(id_number(7))}, "身份证号校验位不正确"),
    ({"id_number": "45010219900101"}, "身份证号应为 18 位"),
    ({"party_status": "in_service", "home_organization": ""}, "党员必须填写组织关系所在党组织"),
    ({"party_status": "in_service", "home_organization": "不存在的党支部"}, "党组织「不存在的党支部」不存在"),
    ({"name": ""}, "这个字段是必填项"),
])
def test_person_form_refuses_bad_input_with_a_clear_message_and_saves_nothing(client, reg, over, message):
    client.force_login(reg.worker)
    people = Person.objects.count()
    r = client.post(reverse("org:person_create"), _person_form(**over))
    assert r.status_code == 400
    assert message in r.content.decode()
    assert Person.objects.count() == people and not PartyMembership.objects.filter(person__name="王五").exists()


def test_person_form_refuses_a_duplicate_id_number(client, reg):
    client.force_login(reg.worker)
    r = client.post(reverse("org:person_create"), _person_form(id_number=id_number(1)))
    assert r.status_code == 409 and "已登记" in r.content.decode()
    assert Person.objects.filter(name="王五").count() == 0


def test_person_form_out_of_scope_community_is_refused(client, reg):
    client.force_login(reg.worker_x)
    r = client.post(reverse("org:person_create"), _person_form())
    assert r.status_code == 403 and "您没有权限" in r.content.decode()
    assert not Person.objects.filter(name="王五").exists()


# ---- posts ----

def _post_form(person, **over):
    data = {"person": person.pk, "title": "secretary", "organization": "", "place_code": "", "grid_code": "",
            "starts_on": "2025-01-01", "ends_on": ""}
    data.update(over)
    return data


def test_assign_a_post_from_the_page(client, reg):
    client.force_login(reg.worker)
    r = client.post(reverse("org:post_create"), _post_form(reg.zhang, organization=reg.joint.pk))
    assert r.status_code == 302
    post = Post.objects.get()
    assert (post.person, post.title, post.organization) == (reg.zhang, "secretary", reg.joint)
    html = client.get(reverse("org:posts")).content.decode()
    assert "张三" in html and "书记" in html and "北宁社区联合党委" in html


def test_a_single_holder_post_held_twice_at_once_is_refused(client, reg):
    wang = services.person_create(actor=reg.admin, name="王五", registered_community=reg.tree["beining"])
    services.post_assign(actor=reg.admin, person=reg.zhang, title="secretary", starts_on="2024-01-01",
                         organization=reg.joint)
    client.force_login(reg.worker)
    r = client.post(reverse("org:post_create"), _post_form(wang, organization=reg.joint.pk, starts_on="2025-03-01"))
    assert r.status_code == 409
    assert "北宁社区联合党委」的书记 在该任期内已由 张* 担任" in r.content.decode()
    assert Post.objects.count() == 1


def test_a_post_needs_exactly_one_scope(client, reg):
    client.force_login(reg.worker)
    r = client.post(reverse("org:post_create"), _post_form(reg.zhang, organization=reg.joint.pk,
                                                           place_code="450102001004"))
    assert r.status_code == 400 and "选择且只选择一个" in r.content.decode()
    assert not Post.objects.exists()


def test_a_post_ending_before_it_starts_is_refused(client, reg):
    client.force_login(reg.worker)
    r = client.post(reverse("org:post_create"), _post_form(reg.zhang, place_code="450102001004",
                                                           starts_on="2025-05-01", ends_on="2025-01-01"))
    assert r.status_code == 400 and "任职结束日期必须晚于开始日期" in r.content.decode()
    assert not Post.objects.exists()


# ---- people without registry.edit ----

@pytest.mark.parametrize("name", ["org:tree", "org:units", "org:people", "org:posts"])
def test_viewers_without_edit_see_no_create_buttons(client, reg, name):
    client.force_login(reg.grid_worker)
    html = client.get(reverse(name)).content.decode()
    for door in ("org:org_create", "org:unit_create", "org:person_create", "org:post_create", "org:people_import",
                 "org:units_import"):
        assert f'href="{reverse(door)}' not in html and f'action="{reverse(door)}' not in html
    assert "导出台账" not in html  # a grid worker may not export either


@pytest.mark.parametrize("name", ["org:org_create", "org:unit_create", "org:person_create", "org:post_create",
                                  "org:people_import", "org:units_import"])
def test_posts_from_viewers_without_edit_are_403(client, reg, name):
    client.force_login(reg.grid_worker)
    before = (Person.objects.count(), AuditEntry.objects.count())
    assert client.post(reverse(name), {"name": "x"}).status_code == 403
    assert (Person.objects.count(), AuditEntry.objects.count()) == before
