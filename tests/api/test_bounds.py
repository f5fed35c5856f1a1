"""Central bounds: dates outside 1900-01-01..2100-12-31, absurd years and pages, and names that Excel
does not accept as sheet titles give a clear answer (400 or a clean file), never a server error."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from openpyxl import load_workbook

from gongzhi.accounts.models import ApiToken
from gongzhi.core import pii
from gongzhi.core.exports import sheet_title
from gongzhi.org.models import Organization, Person
from tests.factories import user

ODD_NAME = "李/秀:英[1]*?\\"


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff(tree):
    call_command("seed_categories", verbosity=0)
    u = user("cw", ("community_worker", tree["beining"]), ("street_officer", tree["street"]),
             ("district_admin", tree["district"]), first_name="李社工")
    Person.objects.create(name=ODD_NAME, registered_community=tree["beining"], user=u,
                          phone_enc=pii.encrypt("13800000001"), phone_hash=pii.lookup_hash("13800000001"),
                          phone_masked=pii.mask_phone("13800000001"))
    _tok, key = ApiToken.issue(u)
    return u, {"HTTP_AUTHORIZATION": f"Bearer {key}"}


def _bad(r, code):
    assert r.status_code == 400, (r.status_code, r.content[:300])
    assert r.json()["error"]["code"] == code


@pytest.mark.django_db
@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31", "1899-12-31", "2101-01-01"])
def test_statement_dates_out_of_range_are_a_clear_400(client, staff, day):
    _u, auth = staff
    for param in ("date_from", "date_to"):
        _bad(client.get(f"/api/v1/timebank/me/statement?{param}={day}", **auth), "date_out_of_range")
        _bad(client.get(f"/api/v1/timebank/me/statement.xlsx?{param}={day}", **auth), "date_out_of_range")


@pytest.mark.django_db
def test_statement_page_with_a_date_out_of_range_is_an_error_page(client, staff):
    u, _auth = staff
    client.force_login(u)
    r = client.get("/timebank/?date_from=0001-01-01&date_to=9999-12-31")
    assert r.status_code == 200 and "1900-01-01" in r.content.decode()  # the filter's message, inline


@pytest.mark.django_db
@pytest.mark.parametrize(("start", "end"), [("0001-01-01", "0001-01-31"), ("9999-12-01", "9999-12-31"),
                                            ("2026-01-01", "9999-12-31")])
def test_kpi_dates_out_of_range_are_a_clear_400(client, staff, tree, start, end):
    _u, auth = staff
    scope = tree["street"].code
    _bad(client.get("/api/v1/kpis/appeals", {"scope": scope, "start": start, "end": end}, **auth),
         "date_out_of_range")
    _bad(client.get("/api/v1/kpis/appeals/list", {"scope": scope, "start": start, "end": end,
                                                  "metric": "submitted"}, **auth), "date_out_of_range")


@pytest.mark.django_db
def test_kpi_page_with_a_date_out_of_range_is_an_error_page(client, staff, tree):
    u, _auth = staff
    client.force_login(u)
    r = client.get("/appeals/kpi/", {"scope": tree["street"].code, "start": "9999-12-01", "end": "9999-12-31"})
    assert r.status_code == 400, r.status_code


@pytest.mark.django_db
@pytest.mark.parametrize("year", [1942013585, -5, 9999])
def test_records_of_an_absurd_year_are_a_clear_400(client, staff, tree, year):
    u, auth = staff
    org = Organization.objects.create(name="某单位", kind="state_enterprise", place=tree["beining"])
    _bad(client.get(f"/api/v1/volunteering/records/{org.pk}?year={year}", **auth), "year_out_of_range")
    _bad(client.get(f"/api/v1/volunteering/reports?year={year}", **auth), "year_out_of_range")
    client.force_login(u)
    assert client.get(f"/volunteering/records/{org.pk}/?year={year}").status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["/api/v1/volunteering/teams", "/api/v1/volunteering/activities",
                                 "/api/v1/volunteering/reports"])
def test_huge_pages_and_negative_limits_never_overflow(client, staff, url):
    _u, auth = staff
    # Within 64 bits: clamped, an empty page.
    r = client.get(f"{url}?limit=-166164022779358&page=9223372036854775807", **auth)
    assert r.status_code == 200, (r.status_code, r.content[:300])
    assert r.json()["items"] == []
    # The issue's page number lies beyond 64 bits: the input guard refuses it at the door.
    r = client.get(f"{url}?limit=-166164022779358&page=122135133040716218368", **auth)
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_input", r.content[:300]


@pytest.mark.django_db
def test_calendar_window_out_of_range_is_a_clear_400(client, staff):
    _u, auth = staff
    _bad(client.get("/api/v1/volunteering/activities?date_from=0001-01-01", **auth), "date_out_of_range")
    _bad(client.get("/api/v1/volunteering/activities?date_to=9999-12-31", **auth), "date_out_of_range")


def test_sheet_titles_are_always_valid_and_unique():
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    taken = []
    for raw in [ODD_NAME, "a" * 40, "a" * 40, "'quoted'", "///", "x:y", "X:Y", "\x01tab\tname"]:
        t = sheet_title(raw, taken)
        assert len(t) <= 31 and not set(t) & set("/\\?*:[]")
        assert t.lower() not in {x.lower() for x in taken}
        wb.create_sheet(title=t)
        taken.append(t)


@pytest.mark.django_db
def test_excel_statement_of_a_name_with_sheet_title_characters_downloads(client, staff):
    _u, auth = staff
    r = client.get("/api/v1/timebank/me/statement.xlsx", **auth)
    assert r.status_code == 200, (r.status_code, r.content[:300])
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    assert ws.title.startswith("时间银行对账单-李 秀 英 1")


@pytest.mark.django_db
def test_excel_records_of_a_unit_with_sheet_title_characters_download(client, staff, tree):
    _u, auth = staff
    org = Organization.objects.create(name="单位[A]/B:C*?", kind="state_enterprise", place=tree["beining"])
    r = client.get(f"/api/v1/volunteering/records/{org.pk}?format=xlsx&year=2026", **auth)
    assert r.status_code == 200, (r.status_code, r.content[:300])
    load_workbook(io.BytesIO(r.content))


@pytest.mark.django_db
def test_matching_confirm_with_an_id_beyond_64_bits_is_rejected_not_a_server_error(client, staff):
    _u, auth = staff
    r = client.post("/api/v1/matching/confirm", {"pairs": [{"need_number": "XQ1", "resource_id": 2**70}]},
                    content_type="application/json", **auth)
    assert r.status_code < 500, (r.status_code, r.content[:300])


@pytest.mark.django_db
@pytest.mark.parametrize("blank", ["\t", " "])
def test_a_blank_place_on_a_new_need_means_none_chosen(client, staff, blank):
    _u, auth = staff
    r = client.post("/api/v1/needs", {"title": "帮忙买菜", "due_on": "2099-01-01", "place": blank, "grid": blank},
                    content_type="application/json", **auth)
    assert r.status_code < 500, (r.status_code, r.content[:300])
