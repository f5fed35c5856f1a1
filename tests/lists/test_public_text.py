"""The wish wall's doors (the page and /api/v1/wishes) never show a phone or ID number typed into a wish."""

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings

from gongzhi.lists import services
from tests.lists.conftest import wish
from tests.pii_numbers import leaked, texts_with_a_number

pytestmark = pytest.mark.django_db


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=texts_with_a_number())
def test_no_number_typed_into_a_wish_reaches_the_wall(city, case):
    text, secrets = case
    title = ("心愿" + text)[:100]
    wish(city, title=title, description=text)
    page = Client().get("/wishes/").content.decode()
    api = Client().get("/api/v1/wishes").content.decode()
    assert not leaked(page, secrets), (title, secrets)
    assert not leaked(api, secrets), (title, secrets)


def test_a_phone_and_id_number_in_the_title_are_masked_on_the_page_and_in_the_api(city):
    wish(city, title="请联系13812345678 身份证450102199001011234")
    page = Client().get("/wishes/").content.decode()
    card = Client().get("/api/v1/wishes").json()["items"][0]
    for out in (page, card["title"]):
        assert "13812345678" not in out and "450102199001011234" not in out
        assert "请联系138****5678 身份证4501**********1234" in out


def test_a_taker_unit_typed_with_a_phone_is_masked_on_the_wall(city):
    city.unit.name = "南宁供电局 0771-5551234"
    city.unit.save()
    n = wish(city)
    services.need_claim(actor=city.liaison, need=n, organization=city.unit)
    page = Client().get("/wishes/").content.decode()
    assert "5551234" not in page and "077****1234" in page
