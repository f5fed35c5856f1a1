"""In real headless Chromium: user-supplied names that reach Leaflet and ECharts show as text and
never run, and the Content-Security-Policy blocks nothing the product itself does.

The grids come in through the real `import_grids` command; a listener records every CSP violation
(the `securitypolicyviolation` event and Chromium's console report) on every page visited.
"""

import json

import pytest
from django.core.management import call_command

from gongzhi.appeals import services
from gongzhi.places.models import Grid, Place
from tests.appeals.test_e2e import login
from tests.factories import rect, user
from tests.places.test_geojson_io import BEINING, X0, Y0, collection, feature

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

XSS = "x<img src=x onerror=window.__xss=1>"
XSS_COMMUNITY = "兴宁<img src=x onerror=window.__xss=2>"
XSS_TITLE = "标题<img src=x onerror=window.__xss=3>"
IN_MICRO = (X0 + 0.0025, Y0 + 0.0025)

# Before any page script: collect CSP violations, in the page and as Chromium reports them.
LISTEN = """
window.__csp = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def city(tree, tmp_path):
    call_command("seed_categories", verbosity=0)
    c = BEINING
    fs = [
        feature(c + "001", "community", rect(X0, Y0, X0 + 0.01, Y0 + 0.01), community_code=c, name=XSS + "社区"),
        feature(c + "002", "area", rect(X0, Y0, X0 + 0.01, Y0 + 0.01), parent_code=c + "001", name=XSS + "片区"),
        feature(c + "003", "micro", rect(X0, Y0, X0 + 0.005, Y0 + 0.005), parent_code=c + "002", name=XSS),
        feature(c + "004", "micro", rect(X0 + 0.005, Y0, X0 + 0.01, Y0 + 0.005), parent_code=c + "002",
                name="\"'><script>window.__xss=4</script>"),
    ]
    path = tmp_path / "grids.geojson"
    path.write_text(collection(*fs), encoding="utf-8")
    call_command("import_grids", str(path), verbosity=0)
    micro = Grid.objects.get(code=c + "003")
    Place.objects.filter(pk=tree["xingning"].pk).update(name=XSS_COMMUNITY)
    roles = {
        "jumin": ("resident", tree["beining"]),
        "gw": ("grid_worker", micro),
        "cw": ("community_worker", tree["beining"]),
        "so": ("street_officer", tree["street"]),
        "admin": ("district_admin", tree["district"]),
    }
    users = {name: user(name, role, first_name=XSS[:20]) for name, role in roles.items()}
    appeal = services.appeal_submit(actor=users["jumin"], category="noise", title=XSS_TITLE,
                                    text="楼下" + XSS + "噪声很大。", lon=IN_MICRO[0], lat=IN_MICRO[1])
    return {"micro": micro, "users": users, "appeal": appeal}


def watch(page):
    """Record CSP violations and page errors; returns the list the console adds to."""
    seen = []
    page.add_init_script(LISTEN)
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("pageerror", lambda e: seen.append(f"pageerror: {e}"))
    return seen


def assert_clean(page, seen, where):
    page.wait_for_load_state("load")
    found = page.evaluate("window.__csp || []")
    assert found == [] and seen == [], f"{where}: {found} {seen}"
    assert page.evaluate("typeof window.__xss") == "undefined", where


def hover_grid(page, code):
    """Hover the grid (Leaflet's own mouseover on its layer, as the pointer fires it); returns its
    open tooltip's text and how many elements the tooltip holds (an injected <img> or <script>)."""
    return page.evaluate(
        """(code) => { let out = null; window.gzGridLayer.eachLayer((l) => {
             if (l.feature.properties.code !== code) return;
             l.fire("mouseover", { latlng: l.getBounds().getCenter() });
             const el = l.getTooltip().getElement();
             out = [l.isTooltipOpen(), el.textContent, el.children.length];
             l.fire("mouseout"); });
           return out; }""", code)


def test_an_anonymous_visitor_hovering_an_imported_grid_sees_its_name_as_text(page, live_server, city):
    seen = watch(page)
    page.goto(live_server.url + "/map/")
    page.wait_for_function("document.getElementById('count').textContent.includes('2')")
    assert hover_grid(page, city["micro"].code) == [True, XSS, 0]
    assert hover_grid(page, BEINING + "004") == [True, "\"'><script>window.__xss=4</script>", 0]
    # The grid card (a click) shows the name as text too.
    page.evaluate(f"window.gzShowGrid('{city['micro'].code}')")
    page.get_by_test_id("grid-name").wait_for()
    assert page.get_by_test_id("grid-name").inner_text() == XSS
    page.select_option("#level", "community")
    page.wait_for_function("document.getElementById('count').textContent.includes('1')")
    assert hover_grid(page, BEINING + "001") == [True, XSS + "社区", 0]
    page.wait_for_timeout(300)  # an injected <img src=x> would have failed to load by now
    assert_clean(page, seen, "/map/")


def test_the_kpi_chart_tooltip_shows_community_names_as_text(page, live_server, city):
    seen = watch(page)
    login(page, live_server.url, "so")
    page.goto(live_server.url + "/appeals/kpi/")
    page.wait_for_function("document.getElementById('kpi-chart').dataset.ready === '1'")
    labels = json.loads(page.locator("#kpi-chart-data").text_content())["labels"]
    i = labels.index(XSS_COMMUNITY)
    page.evaluate(f"""() => {{ const c = echarts.getInstanceByDom(document.getElementById('kpi-chart'));
                     c.dispatchAction({{ type: 'showTip', seriesIndex: 0, dataIndex: {i} }}); }}""")
    page.wait_for_function(f"document.getElementById('kpi-chart').innerText.includes({json.dumps(XSS_COMMUNITY)})")
    assert page.locator("#kpi-chart img").count() == 0
    page.wait_for_timeout(300)
    assert_clean(page, seen, "/appeals/kpi/")


def test_the_policy_is_sent_without_unsafe_inline_or_eval_for_scripts(client, city):
    """Scripts from this site only, plus a nonce on pages that keep an inline script (/map/)."""
    for url in ("/", "/map/", "/login/", "/wishes/"):
        resp = client.get(url)
        policy = dict(d.strip().split(" ", 1) for d in resp["Content-Security-Policy"].split(";"))
        scripts = policy["script-src"]
        assert scripts.startswith("'self'") and ("'nonce-" in scripts or url != "/map/")
        assert "unsafe-inline" not in scripts and "unsafe-eval" not in scripts
        assert "unsafe-inline" not in policy["default-src"]
        assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'"
        assert policy["base-uri"] == "'self'" and policy["form-action"] == "'self'"
        # Every inline script on the page carries this response's nonce.
        nonce = scripts.split("'nonce-")[1].split("'")[0] if "'nonce-" in scripts else "-"
        html = resp.content.decode()
        for chunk in html.split("<script")[1:]:
            tag = chunk.split(">", 1)[0]
            assert "src=" in tag or f'nonce="{nonce}"' in tag or 'type="application/json"' in tag, (url, tag)
        assert " onclick=" not in html and " onchange=" not in html and " onload=" not in html


def test_an_injected_inline_script_is_blocked_by_the_browser(page, live_server, city):
    """The second line of defence: script that slips into the page without the nonce does not run."""
    seen = watch(page)
    page.goto(live_server.url + "/map/")
    page.evaluate("""() => { const s = document.createElement('script'); s.textContent = 'window.__xss = 9';
                     document.body.appendChild(s);
                     const d = document.createElement('div'); d.innerHTML = '<img src=x onerror="window.__xss=8">';
                     document.body.appendChild(d); }""")
    page.wait_for_timeout(300)
    assert page.evaluate("typeof window.__xss") == "undefined"
    assert any("script-src" in v for v in page.evaluate("window.__csp")), seen


PAGES_BY_ROLE = {
    "jumin": ["/appeals/mine/"],
    "gw": ["/appeals/inbox/"],
    "cw": ["/appeals/entry/", "/appeals/board/", "/org/people/"],
    "so": ["/appeals/kpi/", "/appeals/board/"],
    "admin": ["/places/grids/import/", "/audit/", "/accounts/users/"],
}


@pytest.mark.parametrize("who", list(PAGES_BY_ROLE))
def test_every_menu_page_of_a_role_runs_without_a_csp_violation(page, live_server, city, who):
    """Each page in the role's menu, and the appeal's own page, load and work under the policy."""
    seen = watch(page)
    base = live_server.url
    with page.expect_response(lambda r: "/notifications/badge" in r.url) as badge:  # htmx on every page
        login(page, base, who)
    assert badge.value.ok
    nav = page.locator("header nav a").evaluate_all("links => links.map(a => a.getAttribute('href'))")
    urls = list(dict.fromkeys(nav + PAGES_BY_ROLE[who] + [f"/appeals/{city['appeal'].number}/"]))
    assert len(urls) >= 8, urls
    for url in urls:
        resp = page.goto(base + url)
        assert resp.status in (200, 403), (url, resp.status)
        assert_clean(page, seen, url)
    # The header menu (nav.js) still opens and closes.
    group = page.locator("header nav details.navgroup").first
    group.locator("summary").click()
    assert group.get_attribute("open") is not None
    page.keyboard.press("Escape")
    assert group.get_attribute("open") is None
    assert_clean(page, seen, "menu")


def test_the_public_pages_and_the_admin_login_run_without_a_csp_violation(page, live_server, city):
    seen = watch(page)
    for url in ("/", "/map/", "/wishes/", "/login/", "/admin/login/"):
        resp = page.goto(live_server.url + url)
        assert resp.status == 200, url
        assert_clean(page, seen, url)
    page.goto(live_server.url + "/login/")
    page.click("button[name=language][value=en]")  # the language form still posts (form-action 'self')
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert_clean(page, seen, "language switch")


def test_the_django_admin_runs_without_a_csp_violation(page, live_server, city):
    from django.contrib.auth import get_user_model

    from tests.factories import PASSWORD

    get_user_model().objects.create_superuser("root", password=PASSWORD)
    seen = watch(page)
    base = live_server.url
    page.goto(base + "/admin/login/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(base + "/admin/")
    for url in ("/admin/", "/admin/places/grid/", f"/admin/places/grid/{city['micro'].pk}/change/"):
        resp = page.goto(base + url)
        assert resp.status == 200, url
        assert_clean(page, seen, url)
