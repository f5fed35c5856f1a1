"""The appeals test city (two communities, their staff, residents) reused for the Open311 facade."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from gongzhi.accounts.models import ApiToken
from tests.appeals import conftest as _appeals
from tests.appeals.conftest import IN_GRID, IN_XINGNING, JPEG, OUTSIDE, submit  # noqa: F401 (re-exported)

# The appeal tests' city and their autouse helpers, so the facade is tested on the same small city.
city = _appeals.city
fast_password_hashing = _appeals.fast_password_hashing
media_in_tmp = _appeals.media_in_tmp

V2 = "/open311/v2"


def key_of(user) -> str:
    """A token as `gongzhi create_token` issues it."""
    _tok, key = ApiToken.issue(user, name="open311")
    return key


def xml_of(resp) -> ET.Element:
    assert resp["Content-Type"] == "text/xml; charset=utf-8", resp["Content-Type"]
    assert resp.content.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(resp.content)


def json_of(resp):
    assert resp["Content-Type"] == "application/json; charset=utf-8", resp["Content-Type"]
    return json.loads(resp.content)


def assert_spec_error(resp, status: int, fmt: str = "json", contains: str = "") -> str:
    """The spec's error document: a list of {code, description} (XML: <errors><error>…)."""
    assert resp.status_code == status, resp.content.decode()
    if fmt == "xml":
        root = xml_of(resp)
        assert root.tag == "errors"
        errors = root.findall("error")
        assert len(errors) == 1 and [c.tag for c in errors[0]] == ["code", "description"]
        code, description = errors[0].findtext("code"), errors[0].findtext("description")
        assert code == str(status)
    else:
        body = json_of(resp)
        assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
        code, description = body[0]["code"], body[0]["description"]
        assert code == status
    assert description and contains in description, description
    return description


@pytest.fixture
def cw_key(city):
    return key_of(city.cw)


@pytest.fixture
def resident_key(city):
    return key_of(city.jumin)
