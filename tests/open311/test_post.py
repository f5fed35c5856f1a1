"""POST requests (form-encoded, api_key) and GET tokens/{token}: creation, replay, every refusal."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from gongzhi.accounts.models import ApiToken
from gongzhi.appeals.models import Appeal, AppealEvent
from gongzhi.open311.models import Open311Token
from tests.open311.conftest import IN_GRID, JPEG, OUTSIDE, V2, assert_spec_error, json_of, key_of, xml_of

pytestmark = pytest.mark.django_db


def _form(key, **kw):
    form = {"api_key": key, "service_code": "noise", "lat": str(IN_GRID[1]), "long": str(IN_GRID[0]),
            "description": "小区门口的烧烤摊每晚营业到凌晨两点，油烟和噪声很大。"}
    form.update(kw)
    return {k: v for k, v in form.items() if v is not None}


def _post(client, form, fmt="json", **headers):
    return client.post(f"{V2}/requests.{fmt}", form, **headers)


def test_post_creates_an_appeal_reported_by_the_keys_user(client, city, resident_key):
    resp = _post(client, _form(resident_key, **{"attribute[urgency]": "urgent"}))
    assert resp.status_code == 201, resp.content.decode()
    (out,) = json_of(resp)
    assert set(out) == {"service_request_id", "token", "service_notice", "account_id"}
    assert out["account_id"] is None
    a = Appeal.objects.get(number=out["service_request_id"])
    assert (a.source, a.reporter, a.submitted_by, a.urgency, a.category.code, a.grid) == (
        "open311", city.jumin, city.jumin, "urgent", "noise", city.micros[0])
    assert (a.owner, a.state) == (city.gw1, "submitted")  # the grid's first responder owns it
    assert a.text == "小区门口的烧烤摊每晚营业到凌晨两点，油烟和噪声很大。"
    assert AppealEvent.objects.get(appeal=a).data["source"] == "open311"
    assert a.number in out["service_notice"]
    assert Open311Token.objects.get(appeal=a).token == out["token"]
    (r,) = json_of(client.get(f"{V2}/requests/{a.number}.json"))
    assert (r["status"], r["service_code"]) == ("open", "noise")


def test_post_in_xml(client, city, resident_key):
    resp = _post(client, _form(resident_key), "xml")
    assert resp.status_code == 201
    root = xml_of(resp)
    assert root.tag == "service_requests"
    req = root.find("request")
    assert [c.tag for c in req] == ["service_request_id", "token", "service_notice", "account_id"]
    assert req.find("account_id").text is None
    assert Appeal.objects.filter(number=req.findtext("service_request_id"), urgency="normal").exists()


def test_post_needs_no_csrf_token(city, resident_key):
    client = Client(enforce_csrf_checks=True)
    assert _post(client, _form(resident_key)).status_code == 201


def test_api_key_may_also_come_in_the_query_string(client, city, resident_key):
    resp = client.post(f"{V2}/requests.json?api_key={resident_key}", _form(None))
    assert resp.status_code == 201


def test_token_resolves_to_the_request(client, city, resident_key):
    (out,) = json_of(_post(client, _form(resident_key)))
    assert json_of(client.get(f"{V2}/tokens/{out['token']}.json")) == [
        {"service_request_id": out["service_request_id"], "token": out["token"]}]
    root = xml_of(client.get(f"{V2}/tokens/{out['token']}.xml"))
    assert (root.tag, root.findtext("request/service_request_id"), root.findtext("request/token")) == (
        "service_requests", out["service_request_id"], out["token"])


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_token_is_404(client, city, fmt):
    assert_spec_error(client.get(f"{V2}/tokens/0123456789abcdef0123456789abcdef.{fmt}"), 404, fmt)


def test_a_retry_with_the_same_idempotency_key_gets_the_same_request_and_token(client, city, resident_key):
    first = _post(client, _form(resident_key), HTTP_IDEMPOTENCY_KEY="phone-42-report-7")
    again = _post(client, _form(resident_key), HTTP_IDEMPOTENCY_KEY="phone-42-report-7")
    assert (first.status_code, again.status_code) == (201, 200)
    assert json_of(first)[0]["service_request_id"] == json_of(again)[0]["service_request_id"]
    assert json_of(first)[0]["token"] == json_of(again)[0]["token"]
    assert Appeal.objects.count() == 1 and Open311Token.objects.count() == 1
    other = _post(client, _form(resident_key), HTTP_IDEMPOTENCY_KEY="phone-42-report-8")
    assert other.status_code == 201 and Appeal.objects.count() == 2
    assert _post(client, _form(resident_key)).status_code == 201  # no key: every POST is new
    assert Appeal.objects.count() == 3


def test_a_bad_idempotency_key_is_400(client, city, resident_key):
    assert_spec_error(_post(client, _form(resident_key), HTTP_IDEMPOTENCY_KEY="x" * 65), 400)


def test_name_phone_and_email_are_not_stored_or_shown(client, city, resident_key):
    resp = _post(client, _form(resident_key, first_name="小明", last_name="王", phone="13612345678",
                               email="wxm@example.cn", device_id="dev-1", account_id="acct-1"))
    (out,) = json_of(resp)
    a = Appeal.objects.get(number=out["service_request_id"])
    assert (a.reporter_name_enc, a.reporter_phone_enc, a.reporter_phone_hash) == ("", "", "")
    bodies = resp.content.decode() + client.get(f"{V2}/requests/{a.number}.json").content.decode() + \
        client.get(f"{V2}/requests/{a.number}.xml").content.decode() + \
        client.get(f"{V2}/tokens/{out['token']}.json").content.decode()
    for word in ("小明", "王", "13612345678", "wxm@example.cn", "dev-1", "acct-1", "jumin", "张居民"):
        assert word not in bodies, word


def test_a_media_upload_becomes_the_photo_and_media_url_is_not_fetched(client, city, resident_key):
    form = _form(resident_key, media_url="http://169.254.169.254/latest/meta-data")
    form["media"] = SimpleUploadedFile("p.jpg", JPEG, content_type="image/jpeg")
    (out,) = json_of(_post(client, form))
    a = Appeal.objects.get(number=out["service_request_id"])
    photo = a.photos.get()
    (r,) = json_of(client.get(f"{V2}/requests/{a.number}.json"))
    assert r["media_url"] == f"http://testserver/appeals/{a.number}/photos/{photo.id}/"


def test_a_non_image_upload_is_400_and_creates_nothing(client, city, resident_key):
    form = _form(resident_key)
    form["media"] = SimpleUploadedFile("p.jpg", b"<script>alert(1)</script>", content_type="image/jpeg")
    assert_spec_error(_post(client, form), 400, "json", "p.jpg")
    assert not Appeal.objects.exists()


# ---- refusals, each with the spec's error and status; none creates anything ----

def _revoked(city):
    tok, key = ApiToken.issue(city.jumin)
    ApiToken.objects.filter(pk=tok.pk).update(revoked_at="2026-01-01T00:00:00Z")
    return key


@pytest.mark.parametrize("case,status,contains", [
    ("no_key", 403, "api_key"),
    ("bad_key", 403, "api_key"),
    ("revoked_key", 403, "api_key"),
    ("no_service_code", 400, "service_code"),
    ("unknown_service_code", 404, "potholes"),
    ("inactive_service_code", 404, "noise"),
    ("no_location", 400, "lat"),
    ("address_only", 400, "address_string"),
    ("lat_only", 400, "long"),
    ("outside_every_grid", 400, "不在任何网格内"),
    ("not_a_number", 400, "经纬度"),
    ("out_of_range", 400, "经纬度"),
    ("no_description", 400, "诉求内容"),
    ("bad_urgency", 400, "紧急"),
])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_refusals(client, city, resident_key, case, status, contains, fmt):
    from gongzhi.appeals.models import Category

    forms = {
        "no_key": _form(None),
        "bad_key": _form("gz_forged"),
        "revoked_key": _form(_revoked(city)),
        "no_service_code": _form(resident_key, service_code=None),
        "unknown_service_code": _form(resident_key, service_code="potholes"),
        "inactive_service_code": _form(resident_key),
        "no_location": _form(resident_key, lat=None, long=None),
        "address_only": _form(resident_key, lat=None, long=None, address_string="民生路 88 号"),
        "lat_only": _form(resident_key, long=None),
        "outside_every_grid": _form(resident_key, lat=str(OUTSIDE[1]), long=str(OUTSIDE[0])),
        "not_a_number": _form(resident_key, lat="north"),
        "out_of_range": _form(resident_key, lat="95"),
        "no_description": _form(resident_key, description="  "),
        "bad_urgency": _form(resident_key, **{"attribute[urgency]": "critical"}),
    }
    if case == "inactive_service_code":
        Category.objects.filter(code="noise").update(active=False)
    assert_spec_error(_post(client, forms[case], fmt), status, fmt, contains)
    assert not Appeal.objects.exists() and not Open311Token.objects.exists()


def test_a_bad_key_is_refused_before_anything_else_is_looked_at(client, city):
    assert_spec_error(_post(client, {"api_key": "gz_forged"}), 403)


def test_a_key_of_a_deactivated_user_is_403(client, city):
    key = key_of(city.linju)
    city.linju.is_active = False
    city.linju.save()
    assert_spec_error(_post(client, _form(key)), 403)


def test_put_on_requests_is_405(client, city):
    resp = client.put(f"{V2}/requests.json")
    assert_spec_error(resp, 405)
    assert resp["Allow"] == "GET, POST"
