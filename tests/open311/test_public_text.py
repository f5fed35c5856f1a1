"""Open311 (JSON and XML), the public face of appeals, never shows a phone or ID number typed into one."""

from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings

from gongzhi.appeals import services as appeal_services
from tests.open311.conftest import V2, json_of, key_of, submit, xml_of
from tests.pii_numbers import leaked, texts_with_a_number

pytestmark = pytest.mark.django_db


def _get(client, path, fmt="json", **params):
    return client.get(f"{V2}/{path}.{fmt}" + ("?" + urlencode(params) if params else ""))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=texts_with_a_number(max_len=200))
def test_no_number_typed_into_an_appeal_reaches_open311(client, city, case):
    text, secrets = case
    a = submit(city.jumin, text="楼下烧烤店噪声很大。" + text)
    for fmt in ("json", "xml"):
        for path, params in (("requests", {"service_request_id": a.number}), ("requests", {}),
                             (f"requests/{a.number}", {})):
            body = _get(client, path, fmt, **params).content.decode()
            assert a.number in body
            assert not leaked(body, secrets), (fmt, path, text, secrets)


def test_every_format_of_the_issue_is_masked_in_json_and_xml(client, city):
    typed = ["138-1234-5678", "138 1234 5678", "+8613812345678", "１３８１２３４５６７８", "110105491231002",
             "0771-5551234", "4501 0219 9001 0112 34"]
    a = submit(city.jumin, text="噪声扰民，联系 " + "，".join(typed))
    (r,) = json_of(_get(client, "requests", service_request_id=a.number))
    assert r["description"] == ("噪声扰民，联系 138****5678，138****5678，138****5678，138****5678，"
                                "1101*******1002，077****1234，4501**********1234")
    root = xml_of(_get(client, "requests", "xml", service_request_id=a.number))
    assert root.find("request").findtext("description") == r["description"]


def test_a_rejection_reason_is_masked_and_the_office_to_turn_to_keeps_its_phone(client, city):
    a = appeal_services.appeal_reject(actor=city.cw, appeal=submit(city.jumin),
                                      reason="反映人 138 1234 5678 的房屋买卖纠纷，须诉讼解决",
                                      redirect_to="兴宁区人民法院诉讼服务中心 0771-1234567")
    for key in (None, key_of(city.cw)):
        params = {"api_key": key} if key else {}
        (r,) = json_of(_get(client, f"requests/{a.number}", **params))
        assert "138 1234 5678" not in r["status_notes"] and "138****5678" in r["status_notes"]
        assert "0771-1234567" in r["status_notes"]
