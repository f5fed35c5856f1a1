"""The whistle form's picker: the page no longer lists every organisation of the district; the
search endpoint offers what the appeal may summon (departments and member units of its district),
by name, pinyin or initials, to the officer who may whistle; the form checks the posted id again."""

import re

import pytest

from gongzhi.appeals.models import WhistleSummons
from gongzhi.core.errors import PermissionDenied
from gongzhi.org import search
from gongzhi.org.models import Organization, OrgKind
from tests.appeals.conftest import at_street

pytestmark = pytest.mark.django_db


def _pick(client, number, q, kind="organization", **extra):
    return client.get(f"/api/v1/pick/{kind}", {"for": "whistle", "appeal": number, "q": q, **extra})


def test_the_whistle_page_has_no_select_of_every_organisation(client, city, depts):
    """At city scale (1,152 organisations) one <select> listed them all; now each row is a picker."""
    district = city.tree["district"]
    Organization.objects.bulk_create([
        Organization(kind=OrgKind.DEPARTMENT, name=f"兴宁区第{i}科", place=district, place_path=district.path,
                     path=f"/x{i}/") for i in range(150)])
    a = at_street(city)
    client.force_login(city.so)
    html = client.get(f"/appeals/{a.number}/").content.decode()
    form = html[html.index('data-testid="act-whistle"'):html.index("</form>", html.index('data-testid="act-whistle"'))]
    selects = re.findall(r"<select\b.*?</select>", form, re.S)
    assert selects and all(s.count("<option") <= 100 for s in selects)
    assert all('data-picker="organization"' in s for s in selects)


@pytest.mark.parametrize("q, names", [
    ("xnqcsglj", ["兴宁区城市管理局"]),
    ("chengshiguanli", ["兴宁区城市管理局"]),
    ("城市管理", ["兴宁区城市管理局"]),
    ("zfzd", ["城管执法中队"]),
    ("gongdian", ["南宁供电局兴宁供电分局"]),
    ("chengguan", ["城管执法中队"]),
])
def test_the_officer_finds_by_pinyin_initials_and_chinese(client, city, depts, q, names):
    a = at_street(city)
    client.force_login(city.so)
    r = _pick(client, a.number, q)
    assert r.status_code == 200, r.content
    assert [i["label"] for i in r.json()["results"]] == names


def test_only_what_the_appeal_may_summon_with_a_detail_line(client, city, depts):
    a = at_street(city)
    client.force_login(city.so)
    found = {i["label"]: i for i in _pick(client, a.number, "", limit="50").json()["results"]}
    assert set(found) == {"兴宁区城市管理局", "城管执法中队", "兴宁区市场监督管理局", "南宁供电局兴宁供电分局"}
    assert found["城管执法中队"]["detail"] == "职能部门 · 兴宁区城市管理局"  # its parent tells it apart
    assert found["南宁供电局兴宁供电分局"]["detail"] == "国有企业 · 北宁社区"
    # Another district's department and a community committee are never offered.
    assert _pick(client, a.number, "qingxiu").json()["results"] == []
    assert _pick(client, a.number, "bnsqdw").json()["results"] == []
    assert [i["label"] for i in _pick(client, a.number, "", kind="department", limit="50").json()["results"]] == [
        "城管执法中队", "兴宁区城市管理局", "兴宁区市场监督管理局"]
    assert [i["label"] for i in _pick(client, a.number, "", kind="member_unit").json()["results"]] == [
        "南宁供电局兴宁供电分局"]


def test_who_may_not_whistle_may_not_search_for_it(client, city, depts):
    a = at_street(city)
    client.force_login(city.cw)  # the community worker sees the appeal but does not whistle
    r = _pick(client, a.number, "")
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    with pytest.raises(PermissionDenied):
        search.pick(city.jumin, "organization", purpose="whistle", context=a.number)
    client.force_login(city.so)
    r = _pick(client, "SQ00000000000000", "")
    assert r.status_code == 404
    r = client.get("/api/v1/pick/organization", {"for": "whistle"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "context_required"


def test_the_form_refuses_an_organisation_the_picker_would_not_offer(client, city, depts):
    a = at_street(city)
    client.force_login(city.so)
    for bad in (depts.far.pk, depts.committee.pk, 99999):
        r = client.post(f"/appeals/{a.number}/whistle/", {
            "version": a.version, "organization": [str(bad)], "report_due": [""], "resolve_due": [""]})
        assert r.status_code == 400 and "不能召集" in r.content.decode()
    assert not WhistleSummons.objects.exists()
