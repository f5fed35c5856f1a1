"""One name for the time bank and its unit: 时间银行 holds 时间币 ("time credits"), never 时间积分/积分."""

import re
from pathlib import Path

import gongzhi
from gongzhi.web.context import NAV

SRC = Path(gongzhi.__file__).parent
OTHER_UNITS = re.compile(r"时间积分|积分|(?<!小)时数|余额\(小时\)|收支\(小时\)|发行\(小时\)|持有\(小时\)")


def _sources():
    for path in [*SRC.glob("templates/**/*.html"), *SRC.glob("**/*.py")]:
        if "migrations" not in path.parts:
            yield path


def test_no_other_unit_name_for_time_credits():
    found = [f"{p.relative_to(SRC)}:{n}: {line.strip()[:80]}" for p in _sources()
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if OTHER_UNITS.search(line)]
    assert not found, "\n".join(found)


def test_the_menu_names_the_time_bank():
    assert ("时间银行", "/timebank/") in [(str(label), url) for label, url, _perm in NAV]


def test_the_time_bank_page_speaks_of_time_credits_in_both_languages(client, town):
    from tests.timebank.conftest import credit

    credit(town.li, 4)
    client.force_login(town.u_li)
    html = client.get("/timebank/").content.decode()
    assert "时间币余额" in html and "余额(时间币)" in html and "积分" not in html and "余额(小时)" not in html
    client.cookies["django_language"] = "en"
    html = client.get("/timebank/").content.decode()
    assert "Time credit balance" in html and "Balance (time credits)" in html and "Balance (hours)" not in html
    assert ">Time bank<" in html  # the menu entry
