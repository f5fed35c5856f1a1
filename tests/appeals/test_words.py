"""Words an English reader meets: categories by their English name on pages, API and Open311, states
translated, 报到 (a unit reporting for duty) told apart from 签到 (a volunteer checking in)."""

import io
import re

import pytest
from django.core.management import call_command
from django.utils import translation

from gongzhi.appeals.models import Category, category_label
from gongzhi.appeals.taxonomy import CATEGORIES, NAMES_EN
from tests.appeals.conftest import bearer, submit

pytestmark = pytest.mark.django_db
HAN = re.compile(r"[\u4e00-\u9fff]")


def english(client):
    client.cookies["django_language"] = "en"
    return client


def test_every_seeded_category_has_an_english_name():
    call_command("seed_categories", verbosity=0)
    assert set(NAMES_EN) == {c[0] for c in CATEGORIES}
    for cat in Category.objects.all():
        assert cat.name_en and not HAN.search(cat.name_en), cat.code


def test_seed_fills_a_missing_english_name_and_keeps_an_edited_one():
    call_command("seed_categories", verbosity=0)
    Category.objects.filter(code="noise").update(name_en="")
    Category.objects.filter(code="pets").update(name_en="Dogs and cats")
    call_command("seed_categories", stdout=io.StringIO())
    assert Category.objects.get(code="noise").name_en == "Noise nuisance"
    assert Category.objects.get(code="pets").name_en == "Dogs and cats"


def test_label_follows_the_language_and_falls_back_to_chinese():
    cat = Category(code="x", name="噪声扰民", name_en="Noise nuisance")
    assert category_label(cat, "zh-hans") == "噪声扰民" and category_label(cat, "en") == "Noise nuisance"
    with translation.override("en"):
        assert cat.label == str(cat) == "Noise nuisance"
        assert Category(code="y", name="其他").label == "其他"  # no English name: the Chinese one
    with translation.override("zh-hans"):
        assert cat.label == "噪声扰民"


def test_english_pages_show_english_category_and_state(client, city):
    a = submit(city.jumin, title="夜里太吵")
    english(client).force_login(city.jumin)
    for url in ("/appeals/mine/", f"/appeals/{a.number}/", "/appeals/new/"):
        html = client.get(url).content.decode()
        assert "Noise nuisance" in html and "噪声扰民" not in html, url
    detail = client.get(f"/appeals/{a.number}/").content.decode()
    assert "Submitted" in detail and "已提交" not in detail
    client.cookies.pop("django_language")
    assert "噪声扰民" in client.get(f"/appeals/{a.number}/").content.decode()


def test_english_api_gives_the_english_category_and_state_labels(client, city):
    a = submit(city.jumin)
    zh = client.get(f"/api/v1/appeals/{a.number}", **bearer(city.jumin)).json()
    assert zh["category"] == {"code": "noise", "name": "噪声扰民", "label": "噪声扰民"}
    en = client.get(f"/api/v1/appeals/{a.number}", HTTP_ACCEPT_LANGUAGE="en", **bearer(city.jumin)).json()
    assert en["category"] == {"code": "noise", "name": "噪声扰民", "label": "Noise nuisance"}
    assert en["state_label"] == "Submitted"


@pytest.mark.parametrize("how", [{"HTTP_ACCEPT_LANGUAGE": "en"}, {"data": {"locale": "en"}}])
def test_open311_services_in_english(client, city, how):
    services = client.get("/open311/v2/services.json", **how).json()
    noise = next(s for s in services if s["service_code"] == "noise")
    assert noise["service_name"] == "Noise nuisance"
    assert "噪声扰民" in noise["keywords"]  # a Chinese client's words still find it
    default = client.get("/open311/v2/services.json").json()
    assert next(s for s in default if s["service_code"] == "noise")["service_name"] == "噪声扰民"


def test_reporting_for_duty_and_checking_in_are_different_words():
    with translation.override("en"):
        duty = {translation.gettext(w) for w in ("报到", "已报到", "待报到", "部门报到", "报到时限")}
        volunteer = {translation.gettext(w) for w in ("扫码签到", "已签到，活动结束时请再次输入签到码签退。")}
        assert all("duty" in w.lower() for w in duty), duty
        assert not any("check" in w.lower() for w in duty), duty
        assert all("check" in w.lower() for w in volunteer), volunteer
        code = translation.gettext("现场签到码（6 位字母或数字）")
        assert "letters" in code and "digits" in code
