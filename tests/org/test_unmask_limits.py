"""A person's phone or ID number in clear through the API needs a reason as the page does, and both
doors share one rate limit per user (GONGZHI_UNMASK_PER_HOUR), counted from the access log."""

import pytest
from django.test import Client
from django.urls import reverse

from gongzhi.core.models import PiiAccess
from tests.org.helpers import bearer

pytestmark = pytest.mark.django_db
PHONE = "13812345678"


def _api(who, person, body):
    return Client().post(f"/api/v1/people/{person.pk}/unmask", body, content_type="application/json",
                         **bearer(who))


@pytest.mark.parametrize("body", [{"field": "phone", "reason": ""}, {"field": "phone", "reason": " \t"},
                                  {"field": "phone"}, {"field": "id_number", "reason": "查" * 201}])
def test_the_api_refuses_an_unmask_without_a_reason(reg, body):
    r = _api(reg.worker, reg.zhang, body)
    assert r.status_code == 400 and PHONE not in r.content.decode() and "value" not in r.json()
    assert "查看原因" in r.json()["error"]["message"]
    assert not PiiAccess.objects.exists()


def test_page_and_api_share_one_limit_per_user(reg, settings):
    settings.UNMASK_PER_HOUR = 2
    page = Client()
    page.force_login(reg.worker)
    url = reverse("org:person_unmask", args=[reg.zhang.pk])
    assert PHONE in page.post(url, {"field": "phone", "reason": "电话回访"}).content.decode()
    r = _api(reg.worker, reg.zhang, {"field": "phone", "reason": "核实身份"})
    assert r.status_code == 200 and r.json()["value"] == PHONE
    r = _api(reg.worker, reg.zhang, {"field": "id_number", "reason": "核实身份"})
    assert r.status_code == 429 and int(r["Retry-After"]) > 3000 and PHONE not in r.content.decode()
    r = page.post(url, {"field": "phone", "reason": "电话回访"})
    assert r.status_code == 429 and "已达 2 次上限" in r.content.decode() and PHONE not in r.content.decode()
    assert PiiAccess.objects.filter(user=reg.worker).count() == 2
    # Another user has their own allowance.
    r = _api(reg.admin, reg.zhang, {"field": "phone", "reason": "核实身份"})
    assert r.status_code == 200
