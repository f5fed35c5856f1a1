"""An accessibility scan in real Chromium: axe-core (npm, pinned in package.json) over the pages each
demo role meets first — every role's home, the resident's appeal form, the staff's hotline entry
and landmark pages, an appeal's staff and public pages, the grid worker's inbox, the wish wall,
the grid map and the public appeals map — on a desktop and a phone, in Chinese and (home and form)
in English. Any violation of impact "serious" or "critical" under the WCAG 2.x A/AA rules fails,
naming the rule, the elements and the help page.

Our pages send a strict Content-Security-Policy (no inline script, no eval). Only the scan's own
browser context bypasses it, so that axe's source can be injected; the product's policy is unchanged
and tests/e2e/test_xss_and_csp.py keeps checking it."""

from pathlib import Path

import pytest
from django.core.management import call_command

from gongzhi.core import geo
from gongzhi.demo import seed
from gongzhi.demo.seed import DEMO_PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
BLOCKING = {"serious", "critical"}
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

# Each demo role's home; the grid worker and the resident also their daily pages (filled in below).
HOMES = ["resident", "gridworker", "community", "street", "department", "admin", "auditor"]

_RUN = """async ([selector, tags]) => {
  const where = selector ? document.querySelector(selector) : document;
  const r = await axe.run(where, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
    nodes: v.nodes.map(n => ({target: n.target.join(' '), impact: n.impact, summary: n.failureSummary}))}));
}"""
# References by id that lead nowhere: a help text or an error a screen reader never reads out (axe
# only lists a missing target as "needs review", so the test checks them itself).
_DANGLING = """() => { const out = [];
  for (const el of document.querySelectorAll('[aria-describedby], [aria-labelledby], [aria-controls], [aria-errormessage], label[for]'))
    for (const attr of ['aria-describedby', 'aria-labelledby', 'aria-controls', 'aria-errormessage', 'for'])
      for (const id of (el.getAttribute(attr) || '').split(/\\s+/))
        if (id && !document.getElementById(id)) out.push(`${el.tagName.toLowerCase()}#${el.id} ${attr}="${id}"`);
  return out; }"""
# A map is a keyboard stop (Leaflet pans it with the arrow keys): it says what it is when focused.
_UNNAMED_MAPS = """() => [...document.querySelectorAll('.leaflet-container')]
  .filter(m => !m.getAttribute('role') || !(m.getAttribute('aria-label') || m.getAttribute('aria-labelledby')))
  .map(m => '#' + m.id)"""
# ... and its zoom buttons are named in the page's language, not with Leaflet's English defaults.
_FOREIGN_ZOOM = """() => document.documentElement.lang === 'en' ? [] :
  [...document.querySelectorAll('.leaflet-control-zoom a')].map(a => a.getAttribute('aria-label'))
  .filter(name => name === 'Zoom in' || name === 'Zoom out')"""
# The header's menu groups are closed <details> (axe skips what is hidden): each is opened and scanned.
_MENUS = "() => document.querySelectorAll('header nav details').length"
_OPEN_MENU = "i => { const ds = document.querySelectorAll('header nav details'); ds.forEach((d, j) => d.open = j === i); }"
# The form as it comes back from a submission with nothing filled in: every field with its error.
_SUBMIT_EMPTY = "() => HTMLFormElement.prototype.submit.call(document.getElementById('appeal-form'))"


def axe_source() -> str:
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make install` (npm ci installs axe-core, pinned in package.json)")
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def demo(media_in_tmp):
    call_command("seed_categories", verbosity=0)  # a flush after a transactional test empties them
    seed.seed("small", log=lambda _line: None)
    yield
    geo.invalidate()


@pytest.fixture
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def _pages(who: str, staff_appeal: str, own_appeal: str, public_appeal: str) -> list[str]:
    pages = ["/"]
    if who == "resident":
        pages += ["/appeals/new/", "/appeals/new/#empty", f"/appeals/{own_appeal}/", "/map/", "/wishes/"]
    if who == "gridworker":
        pages += ["/appeals/inbox/", f"/appeals/{staff_appeal}/", "/map/"]
    if who == "community":  # a hotline call entered for a caller; the landmarks its place search finds
        pages += ["/appeals/entry/", "/places/landmarks/"]
    if who is None:  # no sign-in: the public pages
        pages = ["/wishes/", "/appeals/public/", f"/appeals/public/{public_appeal}/"]
    return pages


def scan(browser, base, who, paths, lang="zh-hans") -> list[str]:
    """Sign `who` in (None: nobody) in one fresh context; scan each path at each size and return the
    failures, readable. A path ending in "#empty" is the form submitted with nothing filled in."""
    source = axe_source()
    ctx = browser.new_context(bypass_csp=True, viewport=DESKTOP, locale="zh-CN")
    ctx.add_cookies([{"name": "django_language", "value": lang, "url": base}])
    ctx.add_init_script(script=source)  # in every page this context opens, before the page's own scripts
    pg = ctx.new_page()
    pg.set_default_timeout(20000)
    failures = []

    def check(label, selector=None):
        for v in pg.evaluate(_RUN, [selector, TAGS]):
            if v["impact"] in BLOCKING:
                where = "; ".join(n["target"] for n in v["nodes"][:8])
                failures.append(f"[{who or 'public'} {lang} {label}] {v['impact']} {v['id']}: {v['help']} — "
                                f"{len(v['nodes'])} element(s): {where} — {v['helpUrl']}")

    try:
        if who:
            pg.goto(base + "/login/")
            pg.fill("input[name=username]", who)
            pg.fill("input[name=password]", DEMO_PASSWORD)
            pg.click("button[type=submit]")
            pg.wait_for_url(base + "/")
        for viewport in (DESKTOP, PHONE):
            pg.set_viewport_size(viewport)
            for path in paths:
                label = f"{viewport['width']}px {path}"
                resp = pg.goto(base + path.removesuffix("#empty"))
                assert resp.status == 200, (who, path, resp.status)
                if path.endswith("#empty"):
                    with pg.expect_navigation():
                        pg.evaluate(_SUBMIT_EMPTY)
                pg.wait_for_load_state("networkidle")  # maps and pickers fetch their data after load
                check(label)
                failures += [f"[{who or 'public'} {lang} {label}] {ref}: no element has this id — give the help "
                             "text or error list the id Django's form field points to" for ref in pg.evaluate(_DANGLING)]
                failures += [f"[{who or 'public'} {lang} {label}] map {m} has no role and name: give it role=\"region\" "
                             "and an aria-label" for m in pg.evaluate(_UNNAMED_MAPS)]
                failures += [f"[{who or 'public'} {lang} {label}] a map's zoom button is named {name!r} in English: "
                             "load leaflet through templates/_leaflet.html" for name in pg.evaluate(_FOREIGN_ZOOM)]
                if path == "/":
                    for i in range(pg.evaluate(_MENUS)):
                        pg.evaluate(_OPEN_MENU, i)
                        check(f"{label} menu {i + 1}", f"header nav details:nth-of-type({i + 1})")
    finally:
        ctx.close()
    return failures


def _numbers() -> tuple[str, str, str]:
    """An appeal in the grid worker's inbox (its staff page), one of the resident's, one public."""
    from django.contrib.auth import get_user_model

    from gongzhi.appeals import public, selectors

    users = get_user_model().objects
    staff = selectors.inbox_for(users.get(username="gridworker")).first()
    own = selectors.my_appeals(users.get(username="resident")).first()
    shown = public.public_queryset().order_by("-id").first()
    assert staff and own and shown, "the small demo seed has an appeal for each page scanned"
    return staff.number, own.number, shown.number


def test_no_serious_or_critical_violation_in_chinese(browser, live_server, demo):
    staff_appeal, own_appeal, public_appeal = _numbers()
    failures = []
    for who in [*HOMES, None]:
        failures += scan(browser, live_server.url, who, _pages(who, staff_appeal, own_appeal, public_appeal))
    assert not failures, "axe-core found serious or critical violations:\n" + "\n".join(failures)


def test_no_serious_or_critical_violation_in_english(browser, live_server, demo):
    failures = scan(browser, live_server.url, "resident", ["/", "/appeals/new/", "/appeals/new/#empty"], lang="en")
    failures += scan(browser, live_server.url, "gridworker", ["/", "/appeals/inbox/"], lang="en")
    failures += scan(browser, live_server.url, None, ["/appeals/public/"], lang="en")
    assert not failures, "axe-core found serious or critical violations:\n" + "\n".join(failures)
