"""Bad input never gives a server error: NUL, lone surrogates, malformed multipart and the like are
refused with a clear 400 at the door (the API's error shape, the Open311 error document, an error
page for people), and nothing is changed."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from gongzhi.accounts.models import ApiToken
from gongzhi.lists.models import Need
from tests.factories import user


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(tree):
    call_command("seed_categories", verbosity=0)
    u = user("cw", ("community_worker", tree["beining"]), ("street_officer", tree["street"]),
             ("district_admin", tree["district"]), first_name="李社工")
    _tok, key = ApiToken.issue(u)
    return u, {"HTTP_AUTHORIZATION": f"Bearer {key}"}


API_LISTS = ["/api/v1/needs", "/api/v1/people", "/api/v1/projects", "/api/v1/timebank/accounts",
             "/api/v1/resources", "/api/v1/users", "/api/v1/organizations", "/api/v1/posts",
             "/api/v1/volunteering/teams", "/api/v1/appeals"]
PAGES = ["/lists/needs/", "/lists/resources/", "/lists/projects/", "/org/people/", "/org/units/", "/org/posts/",
         "/timebank/accounts/", "/appeals/inbox/", "/appeals/workorders/", "/volunteering/teams/"]


def _is_refusal(r):
    assert r.status_code == 400, (r.status_code, r.content[:300])
    body = r.json()
    assert body["error"]["code"] == "invalid_input"
    assert "空字符" in body["error"]["message"] or "character" in body["error"]["message"]


@pytest.mark.django_db
@pytest.mark.parametrize("url", API_LISTS)
def test_nul_in_the_query_of_api_lists_is_a_clear_400(client, staff, url):
    _u, auth = staff
    _is_refusal(client.get(url + "?q=%00", **auth))
    _is_refusal(client.get(url + "?state=a%00b&category=%00", **auth))


@pytest.mark.django_db
@pytest.mark.parametrize("url", PAGES)
def test_nul_in_the_query_of_list_pages_is_an_error_page(client, staff, url):
    u, _auth = staff
    client.force_login(u)
    r = client.get(url + "?q=%00")
    assert r.status_code == 400
    assert "输入有误" in r.content.decode()


@pytest.mark.django_db
def test_nul_in_appeal_filters_and_kpi_scope_is_a_clear_400(client, staff):
    _u, auth = staff
    _is_refusal(client.get("/api/v1/appeals?category=%00&state=%00", **auth))
    _is_refusal(client.get("/api/v1/kpis/appeals?scope=%00", **auth))
    _is_refusal(client.get("/api/v1/kpis/appeals/list?scope=%00&metric=%00", **auth))


@pytest.mark.django_db
def test_nul_in_open311_ids_and_codes_is_the_error_document(client, staff):
    r = client.get("/open311/v2/requests/%00.json")
    assert r.status_code == 400 and r.json()[0]["code"] == 400
    r = client.get("/open311/v2/requests.json?service_request_id=%00&service_code=a%00")
    assert r.status_code == 400 and r.json()[0]["code"] == 400
    r = client.get("/open311/v2/services/%00.xml")
    assert r.status_code == 400 and b"<errors>" in r.content
    r = client.post("/open311/v2/requests.json", {"service_code": "x\x00", "lat": "22.82", "long": "108.32"})
    assert r.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("text", ['"\\ud800"', '"a\\u0000b"', '"\\udfff x"'])
def test_lone_surrogates_and_nul_in_json_bodies_are_refused_and_nothing_changes(client, staff, tree, text):
    _u, auth = staff
    body = '{"title": ' + text + ', "description": "ok", "community_id": ' + str(tree["beining"].pk) + "}"
    r = client.post("/api/v1/needs", body, content_type="application/json", **auth)
    _is_refusal(r)
    body = '{"name": "ok", ' + text + ": 1}"
    _is_refusal(client.post("/api/v1/tokens", body, content_type="application/json", **auth))
    assert Need.objects.count() == 0
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db
def test_nul_in_form_fields_is_an_error_page_and_nothing_changes(client, staff, tree):
    u, _auth = staff
    client.force_login(u)
    r = client.post("/lists/needs/new/", {"title": "a\x00b", "description": "x", "community": tree["beining"].pk})
    assert r.status_code == 400 and "输入有误" in r.content.decode()
    assert Need.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/appeals/GZ0001/photos", "/api/v1/projects/XM0001/done"])
def test_multipart_without_boundary_is_a_clear_400(client, staff, url):
    _u, auth = staff
    r = client.generic("POST", url, b"--x\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\nabc\r\n--x--\r\n",
                       content_type="multipart/form-data", **auth)
    assert r.status_code == 400, (r.status_code, r.content[:300])
    assert r.json()["error"]["code"] == "invalid_input"


@pytest.mark.django_db
def test_a_lone_surrogate_in_a_json_body_sent_as_text_is_refused_too(client, staff):
    _u, auth = staff
    r = client.post("/api/v1/tokens", '{"name": "\\ud800"}', content_type="text/plain", **auth)
    _is_refusal(r)
    assert ApiToken.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["community_id=122135133040716218368", "team_id=122135133040716218368",
                                   "community_id=-9223372036854775809", "page=99999999999999999999"])
def test_whole_numbers_beyond_64_bits_in_the_query_are_a_clear_400(client, staff, query):
    """Found by bench/probe.py: SQLite cannot bind them (a 500), PostgreSQL matched nothing; now one answer."""
    u, auth = staff
    for url in ("/api/v1/volunteering/teams", "/api/v1/volunteering/activities"):
        r = client.get(f"{url}?{query}", **auth)
        assert r.status_code == 400, (r.status_code, r.content[:300])
        assert r.json()["error"]["code"] == "invalid_input"
    client.force_login(u)
    assert client.get(f"/volunteering/teams/?{query}").status_code == 400
    # The largest 64-bit value and an 18-digit ID number typed into a search stay ordinary input.
    assert client.get("/api/v1/volunteering/teams?community_id=9223372036854775807", **auth).status_code == 200
    assert client.get("/api/v1/volunteering/teams?q=450102199001011234", **auth).status_code == 200
