"""The pickers' search (org.search) through the service and the JSON API: pinyin initials, full
pinyin and Chinese find a person or unit; namesakes come with a line that tells them apart; rows
out of the actor's scope never come back; limit and bad input give clear errors."""

import pytest

from gongzhi.core.errors import PermissionDenied, ValidationFailed
from gongzhi.core.search import fill_search_keys, search_key
from gongzhi.org import search, services
from gongzhi.org.models import Organization, OrgKind, Person
from gongzhi.places.models import Place
from tests.org.helpers import id_number

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(reg):
    def person(name, phone, n, community, home=None):
        return services.person_create(actor=reg.admin, name=name, phone=phone, id_number=id_number(n),
                                      registered_community=community, home_organization=home,
                                      party_status="in_service" if home else "")

    bn, xn = reg.tree["beining"], reg.tree["xingning"]
    return {
        "hzq1": person("黄志强", "13800005678", 11, bn, reg.beining),
        "hzq2": person("黄志强", "13900001234", 12, bn, reg.joint),
        "hl_bn": person("何丽", "13700002222", 13, bn),
        "hl_xn": person("何丽", "13700003333", 14, xn),
        "hw": person("何伟", "13700004444", 15, bn),
    }


def labels(items):
    return [(i["label"], i["detail"]) for i in items]


def test_search_key_holds_name_full_pinyin_and_initials():
    assert search_key("黄志强") == "huangzhiqiang hzq 黄志强"
    assert search_key("  ") == ""


@pytest.mark.parametrize("q", ["hzq", "HZQ", "huangzhiqiang", "黄志强", "黄志", "zhiqiang"])
def test_initials_full_pinyin_and_chinese_find_the_person(reg, people, q):
    found = search.pick(reg.worker, "person", q=q)
    assert {i["id"] for i in found} == {people["hzq1"].pk, people["hzq2"].pk}


def test_namesakes_are_told_apart_by_organisation_and_masked_phone_tail(reg, people):
    found = search.pick(reg.worker, "person", q="hzq")
    details = sorted(i["detail"] for i in found)
    assert len(set(details)) == 2
    assert details == sorted(["北宁社区党委 · 北宁社区 · 尾号5678", "北宁社区联合党委 · 北宁社区 · 尾号1234"])
    for item in found:  # never the whole number
        assert "13800005678" not in item["detail"] and "1380000" not in item["detail"]


def test_out_of_scope_rows_are_not_returned(reg, people):
    mine = search.pick(reg.worker, "person", q="heli")
    assert [i["id"] for i in mine] == [people["hl_bn"].pk]
    theirs = search.pick(reg.worker_x, "person", q="heli")
    assert [i["id"] for i in theirs] == [people["hl_xn"].pk]
    # The district sees both namesakes, with their communities apart.
    both = search.pick(reg.admin, "person", q="hl")
    assert {i["detail"] for i in both} == {"北宁社区 · 尾号2222", "兴宁社区 · 尾号3333"}


def test_limit_and_ranking(reg, people):
    assert len(search.pick(reg.admin, "person", q="h", limit=2)) == 2
    # A whole-name match comes before a longer name that only contains the term.
    Person.objects.create(name="何伟华", registered_community=reg.tree["beining"])
    assert search.pick(reg.admin, "person", q="何伟")[0]["id"] == people["hw"].pk


def test_organisations_departments_and_units(reg):
    dept = Organization.objects.create(kind=OrgKind.DEPARTMENT, name="兴宁区住房和城乡建设局", place=reg.tree["district"])
    unit = Organization.objects.create(kind=OrgKind.STATE_ENTERPRISE, name="南宁供电局", place=reg.tree["beining"])
    assert [i["id"] for i in search.pick(reg.admin, "department", q="zhufang")] == [dept.pk]
    assert [i["id"] for i in search.pick(reg.admin, "department", q="xnqzf")] == [dept.pk]
    assert [i["id"] for i in search.pick(reg.admin, "member_unit", q="gdj")] == [unit.pk]
    assert search.pick(reg.admin, "member_unit", q="zhufang") == []
    assert search.pick(reg.worker_x, "member_unit", q="gdj") == []  # 北宁's unit, not 兴宁's
    item = search.pick(reg.admin, "organization", q="南宁供电局")[0]
    assert item["detail"] == "国有企业 · 北宁社区" and item["value"] == str(unit.pk)


def test_places_and_grids(reg):
    assert [i["label"] for i in search.pick(reg.admin, "place", q="bnsq")] == ["北宁社区"]
    item = search.pick(reg.admin, "place", q="beining")[0]
    assert item["detail"] == "社区 · 民生街道 · 450102001004" and item["code"] == "450102001004"
    assert [i["label"] for i in search.pick(reg.admin, "community", q="ning")] == ["兴宁社区", "北宁社区"]
    assert search.pick(reg.worker, "community", q="xingning", purpose="edit") == []


@pytest.mark.parametrize("kwargs, code", [
    ({"kind": "nonsense"}, "bad_kind"),
    ({"kind": "person", "purpose": "nonsense"}, "bad_purpose"),
    ({"kind": "person", "purpose": "whistle"}, "bad_kind"),
    ({"kind": "person", "limit": 0}, "bad_limit"),
    ({"kind": "person", "limit": 51}, "bad_limit"),
    ({"kind": "person", "limit": "x"}, "bad_limit"),
    ({"kind": "person", "q": "h" * 51}, "query_too_long"),
    ({"kind": "organization", "purpose": "whistle"}, "context_required"),
])
def test_bad_input_is_a_clear_error(reg, kwargs, code):
    kind = kwargs.pop("kind")
    with pytest.raises(ValidationFailed) as e:
        search.pick(reg.admin, kind, **kwargs)
    assert e.value.code == code and e.value.message


def test_punctuation_only_query_lists_without_error(reg, people):
    assert len(search.pick(reg.worker, "person", q="%_'\"")) == 5  # the four above and 张三


def test_anonymous_may_not_search(reg):
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        search.pick(AnonymousUser(), "person", q="h")


def test_pick_one_checks_the_same_scope(reg, people):
    assert search.pick_one(reg.worker, "person", str(people["hl_bn"].pk)) == people["hl_bn"]
    for bad in (str(people["hl_xn"].pk), "abc", "", "99999999"):
        with pytest.raises(ValidationFailed) as e:
            search.pick_one(reg.worker, "person", bad)
        assert e.value.code == "not_choosable"


def test_key_follows_a_rename_and_the_backfill_fills_bulk_rows(reg, people):
    p = people["hw"]
    p = services.person_update(actor=reg.admin, person=p, version=p.version, name="黄伟")
    assert Person.objects.get(pk=p.pk).search_key == "huangwei hw 黄伟"
    Place.objects.filter(pk=reg.tree["street"].pk).update(search_key="")
    bn = reg.tree["beining"]
    Person.objects.bulk_create([Person(name="覃小梅", registered_community=bn, place_path=bn.path)])
    assert fill_search_keys(Person) == 1 and fill_search_keys(Place) == 1
    assert [i["label"] for i in search.pick(reg.worker, "person", q="qxm")] == ["覃小梅"]


# ---- the JSON API: the same service ----

def test_api_finds_by_initials(client, reg, people):
    client.force_login(reg.worker)
    r = client.get("/api/v1/pick/person", {"q": "hzq", "limit": "5"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["kind"] == "person" and body["purpose"] == "registry"
    assert {i["id"] for i in body["results"]} == {people["hzq1"].pk, people["hzq2"].pk}
    assert all(set(i) == {"value", "id", "label", "detail", "type", "code"} for i in body["results"])


def test_api_bad_input_and_anonymous(client, reg):
    assert client.get("/api/v1/pick/person", {"q": "h"}).status_code == 401
    client.force_login(reg.worker)
    r = client.get("/api/v1/pick/spaceship", {"q": "h"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_kind"
    r = client.get("/api/v1/pick/person", {"q": "h", "limit": "500"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "bad_limit"


def test_the_pick_endpoint_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    params = {p["name"] for p in paths["/api/v1/pick/{kind}"]["get"]["parameters"]}
    assert {"kind", "q", "for", "appeal", "need", "limit"} <= params


def test_person_form_takes_the_home_organisation_by_picker_id_in_scope(client, reg):
    """The person form's party organisation is a picker (no datalist of every organisation's name);
    a posted id is checked against the actor's scope, a typed name still works."""
    from django.urls import reverse

    client.force_login(reg.worker)
    html = client.get(reverse("org:person_create")).content.decode()
    assert "<datalist" not in html and 'name="home_organization"' in html and 'data-picker="organization"' in html
    data = {"name": "韦党员", "community_code": "450102001004", "party_status": "in_service"}
    r = client.post(reverse("org:person_create"), {**data, "home_organization": str(reg.xjoint.pk)})
    assert r.status_code in (200, 400) and "不在可选范围内" in r.content.decode()
    assert not Person.objects.filter(name="韦党员").exists()
    r = client.post(reverse("org:person_create"), {**data, "home_organization": str(reg.joint.pk)})
    assert r.status_code == 302
    assert Person.objects.get(name="韦党员").party.home_organization == reg.joint
