"""Discovery, services and service definitions in JSON and XML, and the refusals around them."""

import pytest

from gongzhi.appeals.models import Category
from gongzhi.appeals.taxonomy import CATEGORIES
from tests.open311.conftest import V2, assert_spec_error, json_of, xml_of

pytestmark = pytest.mark.django_db


def test_discovery_json_names_the_v2_endpoint_and_its_formats(client, city):
    doc = json_of(client.get("/open311/discovery.json"))
    assert set(doc) >= {"changeset", "contact", "key_service", "endpoints"}
    (ep,) = doc["endpoints"]
    assert ep == {"specification": "http://wiki.open311.org/GeoReport_v2", "url": "http://testserver/open311/v2",
                  "changeset": doc["changeset"], "type": "production",
                  "formats": ["application/json", "text/xml"]}
    assert "create_token" in doc["key_service"]
    assert doc["limits"] == {"requests_default_days": 90, "requests_max_span_days": 90,
                             "requests_max_results": 1000, "service_request_ids_max": 1000}


def test_discovery_xml_uses_the_spec_element_names(client, city):
    root = xml_of(client.get("/open311/discovery.xml"))
    assert root.tag == "discovery"
    ep = root.find("endpoints/endpoint")
    assert ep.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
    assert ep.findtext("url") == "http://testserver/open311/v2"
    assert ep.findtext("type") == "production"
    assert [f.text for f in ep.findall("formats/format")] == ["application/json", "text/xml"]
    assert root.findtext("changeset") == ep.findtext("changeset")


def test_services_json_lists_every_active_category(client, city):
    Category.objects.filter(code="other").update(active=False)
    services = json_of(client.get(f"{V2}/services.json"))
    assert [s["service_code"] for s in services] == [c[0] for c in CATEGORIES if c[0] != "other"]
    noise = next(s for s in services if s["service_code"] == "noise")
    assert noise == {"service_code": "noise", "service_name": "噪声扰民", "description": "施工、商铺、娱乐、广场舞及夜间噪声",
                     "metadata": True, "type": "realtime", "keywords": "噪声扰民,Noise nuisance,施工,商铺,娱乐,广场舞及夜间噪声",
                     "group": ""}


def test_services_xml(client, city):
    root = xml_of(client.get(f"{V2}/services.xml"))
    assert root.tag == "services"
    items = root.findall("service")
    assert len(items) == len(CATEGORIES)
    first = items[0]
    assert [c.tag for c in first] == ["service_code", "service_name", "description", "metadata", "type",
                                      "keywords", "group"]
    assert (first.findtext("service_code"), first.findtext("metadata"), first.findtext("type")) == (
        "city_appearance", "true", "realtime")


def test_service_group_is_the_default_department(client, city):
    from gongzhi.org.models import Organization

    dept = Organization.objects.create(kind="department", name="区生态环境局", place=city.tree["district"])
    Category.objects.filter(code="noise").update(default_department=dept)
    noise = next(s for s in json_of(client.get(f"{V2}/services.json")) if s["service_code"] == "noise")
    assert noise["group"] == dept.name


def test_service_definition_json_has_the_urgency_attribute(client, city):
    Category.objects.filter(code="noise").update(urgent_respond_hours=1)
    doc = json_of(client.get(f"{V2}/services/noise.json"))
    assert doc["service_code"] == "noise"
    (attr,) = doc["attributes"]
    assert {k: attr[k] for k in ("variable", "code", "datatype", "required", "order")} == {
        "variable": True, "code": "urgency", "datatype": "singlevaluelist", "required": False, "order": 1}
    assert attr["values"] == [{"key": "urgent", "name": "紧急"}, {"key": "normal", "name": "一般"}]
    assert "1 小时内响应" in attr["description"] and "168 小时内办结" in attr["description"]


def test_service_definition_xml(client, city):
    root = xml_of(client.get(f"{V2}/services/noise.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "noise"
    attr = root.find("attributes/attribute")
    assert (attr.findtext("code"), attr.findtext("datatype"), attr.findtext("required"), attr.findtext("variable"),
            attr.findtext("order")) == ("urgency", "singlevaluelist", "false", "true", "1")
    assert [(v.findtext("key"), v.findtext("name")) for v in attr.findall("values/value")] == [
        ("urgent", "紧急"), ("normal", "一般")]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_code_is_404(client, city, fmt):
    assert_spec_error(client.get(f"{V2}/services/potholes.{fmt}"), 404, fmt, "potholes")


def test_an_inactive_category_has_no_definition(client, city):
    Category.objects.filter(code="noise").update(active=False)
    assert_spec_error(client.get(f"{V2}/services/noise.json"), 404)


@pytest.mark.parametrize("url", ["/open311/discovery.csv", f"{V2}/services.html", f"{V2}/services/noise.yaml",
                                 f"{V2}/requests.csv", f"{V2}/requests/SQ1.txt", f"{V2}/tokens/abc.rss"])
def test_an_unsupported_format_is_404_in_the_spec_shape(client, city, url):
    assert_spec_error(client.get(url), 404, "json", ".json")


@pytest.mark.parametrize("url,fmt", [(f"{V2}/services", "json"), (f"{V2}/nothing.xml", "xml"),
                                     ("/open311/", "json"), ("/open311/v3/services.json", "json")])
def test_unknown_open311_paths_are_404_in_the_spec_shape(client, city, url, fmt):
    assert_spec_error(client.get(url), 404, fmt, "discovery")


@pytest.mark.parametrize("method", ["post", "put", "delete"])
def test_read_only_resources_refuse_other_methods_with_405(client, city, method):
    resp = getattr(client, method)(f"{V2}/services.xml")
    assert_spec_error(resp, 405, "xml")
    assert resp["Allow"] == "GET"


def test_language_follows_accept_language_as_the_json_api_does(client, city):
    assert client.get(f"{V2}/services.json")["Content-Language"] == "zh-hans"
    assert client.get(f"{V2}/services.json", HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "en"


def test_other_origins_may_read_and_preflight(client, city):
    resp = client.get(f"{V2}/services.json")
    assert resp["Access-Control-Allow-Origin"] == "*" and "Cache-Control" not in resp
    pre = client.options(f"{V2}/requests.json", HTTP_ORIGIN="https://app.example",
                         HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                         HTTP_ACCESS_CONTROL_REQUEST_HEADERS="idempotency-key")
    assert pre.status_code == 204
    assert pre["Access-Control-Allow-Methods"] == "GET, POST"
    assert "Idempotency-Key" in pre["Access-Control-Allow-Headers"]
    assert "Access-Control-Allow-Credentials" not in pre
