"""Every demo role's every menu page, in real Chromium on a 390×844 phone, with the small demo's data,
as a user walks them: each answers 200, runs without a script error (page error or console error),
does not scroll sideways, and in the English interface its menu, headings, table headings, buttons
and labels carry no Chinese of their own (names and titles from the data are allowed).

Each test seeds the small demo (`seed_demo small`, about 3 s) under the one live server; the menu is
the header's, i.e. what context.CHECKS offers the role (tests/appeals/test_desk.py pins that
the menu holds exactly what the role may open; here the pages themselves are looked at)."""

import re

import pytest
from django.core.management import call_command

from gongzhi.demo.seed import DEMO_ACCOUNTS, DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
HAN = re.compile(r"[\u3400-\u9fff]+")

# The interface's own words on a page: the menu, headings, table headings, buttons, a label's own text
# and its choices, and fold-out titles. The language switch names the other language; a notification's
# title is its message, rendered in the reader's language (tests/notifications).
UI_TEXT_JS = """() => {
  const own = el => [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join(' ');
  const out = [];
  const add = (el, text) => { text = (text || '').trim(); if (text) out.push(el.tagName + ': ' + text); };
  for (const el of document.querySelectorAll('header nav a, header nav summary, h1, h2, h3, th, summary, option'))
    add(el, el.innerText);
  for (const el of document.querySelectorAll('button:not([name=language]):not(.note-title), input[type=submit], a.button'))
    add(el, el.innerText || el.value);
  for (const el of document.querySelectorAll('label')) add(el, own(el));
  return out; }"""
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1"


@pytest.fixture
def demo(live_server):
    """The small demo (committed: the live server reads it) and the Chinese words of its data."""
    from gongzhi.core import geo
    from gongzhi.demo import seed

    call_command("seed_categories", verbosity=0)  # a migration's rows, gone with the last test's flush
    seed.seed("small", log=lambda _line: None)
    yield live_server.url, _data_words()
    geo.invalidate()  # the next test's database starts again from version 0


def _data_words() -> set[str]:
    """The Chinese that comes from the data (names, titles, places), which English pages show as it is."""
    from django.apps import apps

    words = set()
    for model, fields in {"org.Person": ["name"], "org.Organization": ["name"],
                          "places.Place": ["name"], "places.Grid": ["name"], "auth.User": ["first_name"],
                          "appeals.Appeal": ["title"], "lists.Need": ["title", "beneficiary"],
                          "lists.Resource": ["title"], "lists.Project": ["title"],
                          "volunteering.Team": ["name"], "volunteering.Activity": ["title"]}.items():
        for row in apps.get_model(model).objects.values_list(*fields):
            words.update(HAN.findall(" ".join(str(v or "") for v in row)))
    return words


def _untranslated(lines: list[str], data: set[str]) -> list[str]:
    return [line for line in lines if any(not any(run in w for w in data) for run in HAN.findall(line))]


@pytest.mark.parametrize("username", [a[0] for a in DEMO_ACCOUNTS])
def test_every_menu_page_of_the_role_on_a_phone_in_english(browser, demo, username):
    base, data = demo
    ctx = browser.new_context(locale="en-US", viewport=PHONE)
    ctx.add_cookies([{"name": "django_language", "value": "en", "url": base}])
    page = ctx.new_page()
    page.set_default_timeout(15000)
    errors = []
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    page.on("console", lambda m: errors.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    try:
        page.goto(base + "/login/")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", DEMO_PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        menu = page.eval_on_selector_all("header nav a", "as => as.map(a => a.getAttribute('href'))")
        assert "/" in menu and len(menu) >= 5, menu
        problems = []
        for url in dict.fromkeys(menu):
            errors.clear()
            response = page.goto(base + url)  # after its load event: deferred scripts have run
            if response.status != 200:
                problems.append(f"{url}: {response.status}")
            if not page.evaluate(NO_SIDEWAYS_SCROLL):
                problems.append(f"{url}: scrolls sideways, {page.evaluate('document.documentElement.scrollWidth')} px")
            problems += [f"{url}: {e}" for e in errors]
            problems += [f"{url}: untranslated {line!r}" for line in _untranslated(page.evaluate(UI_TEXT_JS), data)]
        assert not problems, "\n".join(problems)
    finally:
        ctx.close()
