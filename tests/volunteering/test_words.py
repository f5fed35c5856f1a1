"""Words: 报到 (a department, unit or party member reporting for duty) and 签到 (a volunteer checking in
at an activity) are different words in English everywhere; the time bank has one unit name, 时间币
("time credits"); the check-in code is described as what it is (6 letters or digits)."""

from __future__ import annotations

import gettext
import pathlib
import re

import pytest
from django.conf import settings
from django.utils import translation

import gongzhi


@pytest.fixture(autouse=True)
def _site_language_after():
    """A page read in English leaves English active in this thread (LocaleMiddleware): reset it."""
    yield
    translation.activate(settings.LANGUAGE_CODE)


PKG = pathlib.Path(gongzhi.__file__).resolve().parent
# "check in", "check-out", "checked in", "check-ins", "check people in", "check yourself in"
CHECK_IN = re.compile(r"check(?:s|ed|ing)?(?:[- ]?(?:in|out)s?\b|\s+\w+\s+(?:in|out)\b)", re.I)


def _catalogue() -> dict[str, str]:
    with open(PKG / "locale" / "en" / "LC_MESSAGES" / "django.mo", "rb") as f:
        return {k: v for k, v in gettext.GNUTranslations(f)._catalog.items() if isinstance(k, str) and v}


def _source_msgids() -> set[str]:
    """The msgids the code and templates use (gettext calls and {% trans %} tags)."""
    found = set()
    for path in list(PKG.rglob("*.py")) + list(PKG.rglob("*.html")):
        if "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'\b_\(\s*"([^"\n]+)"', text)) | set(re.findall(r'\bN_\(\s*"([^"\n]+)"', text))
        found |= set(re.findall(r'{%\s*trans\s+"([^"]+)"', text))
    return found


def test_reporting_for_duty_and_checking_in_are_different_words():
    cat, used = _catalogue(), _source_msgids()
    duty = {m: cat[m] for m in used if "报到" in m and "上报到" not in m and "签到" not in m and m in cat}
    check = {m: cat[m] for m in used if ("签到" in m or "签退" in m) and "报到" not in m and m in cat}
    assert len(duty) > 20 and len(check) > 20
    wrong = {m: t for m, t in duty.items() if CHECK_IN.search(t) or not re.search(r"dut(y|ies)", t, re.I)}
    assert not wrong, wrong
    wrong = {m: t for m, t in check.items() if re.search(r"report|regist", t, re.I) or not CHECK_IN.search(t)}
    assert not wrong, wrong


def test_the_time_bank_unit_is_one_word_in_both_languages():
    cat = _catalogue()
    for path in list(PKG.rglob("*.py")) + list(PKG.rglob("*.html")) + list(PKG.rglob("*.js")):
        if "locale" not in path.parts:
            assert "时间积分" not in path.read_text(encoding="utf-8"), path
    used = _source_msgids()
    units = {m: cat[m] for m in used if "时间币" in m and m in cat}
    assert len(units) > 10
    assert not {m: t for m, t in units.items() if "time credit" not in t.lower()}


@pytest.mark.django_db
def test_the_check_in_code_is_described_as_letters_or_digits_in_both_languages(client, world):
    client.force_login(world.m1)
    zh = client.get("/volunteering/checkin/").content.decode()
    assert "6 位字母或数字" in zh
    client.cookies["django_language"] = "en"
    en = client.get("/volunteering/checkin/").content.decode()
    assert "6 letters or digits" in en and "6 digits" not in en
    api = client.post("/api/v1/volunteering/checkin", {"code": "12"}, content_type="application/json").json()
    assert "letters or digits" in api["error"]["message"]
