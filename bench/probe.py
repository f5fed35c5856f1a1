"""The outside probe: what a tester (or an attacker) tries from outside, repeated on a fresh demo in
production mode, printing tried / refused / leaked per class. Leaked must be 0.

Run: .venv/bin/python bench/probe.py [--database-url postgres://…/gongzhi_probe] [--scale small]
                                     [--classes pii,xss,malformed,login]

Steps: a fresh database (SQLite file under var/probe/, or the PostgreSQL database given, dropped and
created), `migrate`, `seed_demo`, API tokens for the demo roles, then gunicorn (2 workers) with
production settings (GONGZHI_DEBUG=0, fresh SECRET_KEY and GONGZHI_PII_KEY, requests marked https by
the proxy header as behind nginx). Then, from outside, over HTTP and in headless Chromium:
- pii: phone and ID numbers in every format the matcher must know (mobiles plain, dashed, spaced,
  +86, full-width; landlines with area code; 18-digit IDs with checksum, spaced and dashed; 15-digit
  IDs) typed into a resident's micro-wish (title and description) and appeal (title and text), then
  read back through every public door: the wish wall page, /api/v1/wishes, Open311 JSON and XML (list
  and one request), the public appeal list and pages and their JSON door. "Leaked" = the number's digits appear in a door that shows the item.
- xss: script in every user-supplied field that reaches a page, a map tooltip or a chart (a grid's
  name through import_grids, an organisation's name, a person's name, an appeal, a micro-wish),
  rendered in Chromium as the public and as staff, with every map feature hovered. "Leaked" = the
  payload ran (window.__xss set) on a page.
- malformed: NUL, a lone surrogate, huge and negative integers, dates out of range, in every query
  parameter of every GET of /api/v1 (plus `q` and `page`), in JSON bodies of every POST, and in the
  HTML list pages. "Leaked" = a 5xx.
- login: repeated wrong passwords then the right one, on the login form.
  "Leaked" = the right password still logged in after the failures.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "gongzhi-demo"
XSS_FLAG = "window.__xss=(window.__xss||0)+1"
XSS_PAYLOADS = [
    f"x<img src=x onerror={XSS_FLAG}>",
    f'"><script>{XSS_FLAG}</script>',
    f"<svg onload={XSS_FLAG}>",
]
BAD_VALUES = [
    "%00",
    "a%00b",
    "%ED%A0%80",
    "-166164022779358",
    "122135133040716218368",
    "1942013585",
    "0001-01-01",
    "9999-12-31",
    "%27%20OR%201%3D1--",
    "%FF%FE",
]


# ---- the numbers a person may type ----


def id_checksum(first17: str) -> str:
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


def fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "0" <= c <= "9" else c for c in s)


def pii_variants(rng: random.Random) -> list[tuple[str, str, str]]:
    """(kind, as typed, the digits that must never show)."""
    out = []
    for prefix in ("138", "159", "186", "199"):
        m = prefix + "".join(rng.choice("0123456789") for _ in range(8))
        out += [
            ("mobile", m, m),
            ("mobile-dash", f"{m[:3]}-{m[3:7]}-{m[7:]}", m),
            ("mobile-space", f"{m[:3]} {m[3:7]} {m[7:]}", m),
            ("mobile+86", f"+86{m}", m),
            ("mobile+86-space", f"+86 {m}", m),
            ("mobile-fullwidth", fullwidth(m), m),
        ]
    for area in ("0771", "010"):
        local = "".join(rng.choice("23456789") for _ in range(8 if area == "010" else 7))
        out += [
            ("landline", f"{area}-{local}", area + local),
            ("landline-paren", f"({area}){local}", area + local),
        ]
    for born in ("19900101", "19751231", "20011009"):
        first = "450102" + born + "".join(rng.choice("0123456789") for _ in range(3))
        nid = first + id_checksum(first)
        out += [
            ("id18", nid, nid),
            ("id18-space", f"{nid[:6]} {nid[6:14]} {nid[14:]}", nid),
            ("id18-dash", f"{nid[:6]}-{nid[6:14]}-{nid[14:]}", nid),
            ("id18-fullwidth", fullwidth(nid), nid),
        ]
    for born in ("900101", "751231"):
        old = "450102" + born + "".join(rng.choice("0123456789") for _ in range(3))
        out.append(("id15", old, old))
    return out


def digits_in(text: str) -> str:
    """The text with full-width forms folded and separators between digits removed, so that a number
    split by spaces or dashes is found whole."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"(?<=\d)[\s\-()]+(?=\d)", "", text)


# ---- the server ----


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gongzhi(env: dict, *args: str) -> str:
    proc = subprocess.run([str(BIN / "gongzhi"), *args], env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"`gongzhi {' '.join(args)}` failed ({proc.returncode})")
    return proc.stdout


def fresh_database(url: str | None) -> str:
    if not url:
        folder = ROOT / "var" / "probe"
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        return f"sqlite:///{folder / 'probe.sqlite3'}"
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


class Site:
    """The server from outside: every request says it came over https through the proxy."""

    def __init__(self, base: str):
        self.base = base
        self.http = requests.Session()
        self.http.headers["X-Forwarded-Proto"] = "https"

    def api(self, method: str, path: str, token: str | None = None, **kw):
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(
            method, self.base + path, headers=headers, timeout=30, allow_redirects=False, **kw
        )

    def login(self, username: str, password: str = PASSWORD) -> str | None:
        """The session cookie after the login form, or None when refused."""
        page = self.http.get(self.base + "/login/", timeout=30)
        csrf = page.cookies.get("csrftoken", "")
        resp = self.http.post(
            self.base + "/login/",
            data={"username": username, "password": password, "csrfmiddlewaretoken": csrf},
            headers={
                "Cookie": f"csrftoken={csrf}",
                "Referer": self.base.replace("http://", "https://") + "/login/",
            },
            timeout=30,
            allow_redirects=False,
        )
        return resp.cookies.get("sessionid") if resp.status_code == 302 else None


# ---- the classes ----


class Tally:
    def __init__(self):
        self.rows: dict[str, list[int]] = {}
        self.leaks: list[str] = []

    def add(self, cls: str, *, refused: bool, leaked: bool = False, what: str = ""):
        row = self.rows.setdefault(cls, [0, 0, 0])
        row[0] += 1
        row[1] += int(refused)
        row[2] += int(leaked)
        if leaked:
            self.leaks.append(f"{cls}: {what}")


def probe_pii(site: Site, tokens: dict, point: tuple[float, float], tally: Tally, rng: random.Random):
    variants = pii_variants(rng)
    created = []  # (marker, kind, digits, wish?, appeal number)
    for i, (kind, typed, digits) in enumerate(variants):
        marker = f"PX{i:03d}Q"
        text = rng.choice(
            [
                f"请联系{typed}，谢谢 {marker}",
                f"Please call {typed} today {marker}",
                f"{marker} 身份证{typed}",
                f"{marker}电话：{typed}。",
            ]
        )
        wish = site.api(
            "POST",
            "/api/v1/needs",
            tokens["resident"],
            json={
                "kind": "micro_wish",
                "title": text[:100],
                "description": text,
                "beneficiary": "王奶奶",
                "due_on": time.strftime("%Y-%m-%d", time.localtime(time.time() + 30 * 86400)),
            },
        )
        appeal = site.api(
            "POST",
            "/api/v1/appeals",
            tokens["resident"],
            json={
                "category": tokens["category"],
                "title": text[:100],
                "text": text,
                "lon": point[0],
                "lat": point[1],
            },
        )
        number = appeal.json().get("number") if appeal.status_code in (200, 201) else None
        if wish.status_code not in (200, 201) or not number:
            print(
                f"  pii: could not create items for {kind}: wish {wish.status_code} {wish.text[:120]}, "
                f"appeal {appeal.status_code} {appeal.text[:120]}"
            )
        created.append((marker, kind, digits, number))
    numbers = [n for *_, n in created if n]
    doors = {
        "wish wall page": site.api("GET", "/wishes/").text,
        "/api/v1/wishes": site.api("GET", "/api/v1/wishes").text,
    }
    for fmt in ("json", "xml"):
        for start in range(0, len(numbers), 20):
            ids = ",".join(numbers[start : start + 20])
            doors.setdefault(f"open311 requests.{fmt}", "")
            doors[f"open311 requests.{fmt}"] += site.api(
                "GET", f"/open311/v2/requests.{fmt}?service_request_id={ids}"
            ).text
        doors[f"open311 request.{fmt}"] = "".join(
            site.api("GET", f"/open311/v2/requests/{n}.{fmt}").text for n in numbers
        )
    # The public appeal pages and their JSON door (newest first: the probe's appeals are on the first pages).
    doors["public appeal list page"] = "".join(
        site.api("GET", f"/appeals/public/?limit={n}").text for n in (50,)
    )
    doors["/api/v1/public/appeals"] = site.api("GET", "/api/v1/public/appeals?limit=50").text
    doors["public appeal page"] = "".join(site.api("GET", f"/appeals/public/{n}/").text for n in numbers)
    doors["/api/v1/public/appeals/{number}"] = "".join(
        site.api("GET", f"/api/v1/public/appeals/{n}").text for n in numbers
    )
    for door, body in doors.items():
        body = unicodedata.normalize("NFKC", body)
        for marker, kind, digits, _number in created:
            at = body.find(marker)
            if at < 0:
                continue  # this door does not show this item (the wall shows a page of them)
            # Look at the item's own surroundings: the text it was typed in sits around its marker.
            window = digits_in(body[max(0, at - 400) : at + 400])
            leaked = digits in window
            tally.add(f"pii: {door}", refused=not leaked, leaked=leaked, what=f"{kind} {digits}")
    shown = {
        door for door in doors if any(m in unicodedata.normalize("NFKC", doors[door]) for m, *_ in created)
    }
    for door in doors.keys() - shown:
        print(f"  pii: door {door!r} showed none of the probe's items: not tried")


def probe_xss(site: Site, tokens: dict, env: dict, tally: Tally, port: int):
    from playwright.sync_api import sync_playwright

    # A grid's name through the importer (export, rename one micro grid, import: upsert by code).
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "grids.geojson"
        gongzhi(env, "export_grids", "-o", str(path))
        data = json.loads(path.read_text())
        micro = [f for f in data["features"] if f["properties"].get("level") == "micro"]
        for feature, payload in zip(micro[: len(XSS_PAYLOADS)], XSS_PAYLOADS, strict=False):
            feature["properties"]["name"] = payload
        path.write_text(json.dumps(data, ensure_ascii=False))
        gongzhi(env, "import_grids", str(path))
    # An organisation's, an appeal's and a wish's text through the API.
    orgs = site.api("GET", "/api/v1/organizations", tokens["admin"]).json()
    items = orgs.get("items", orgs) if isinstance(orgs, dict) else orgs
    for org, payload in zip(items[:3], XSS_PAYLOADS, strict=False):
        got = site.api("GET", f"/api/v1/organizations/{org['id']}", tokens["admin"]).json()
        site.api(
            "PATCH",
            f"/api/v1/organizations/{org['id']}",
            tokens["admin"],
            json={"name": payload, "version": got.get("version")},
        )
    for payload in XSS_PAYLOADS:
        site.api(
            "POST",
            "/api/v1/appeals",
            tokens["resident"],
            json={
                "category": tokens["category"],
                "title": payload[:100],
                "text": payload,
                "lon": tokens["point"][0],
                "lat": tokens["point"][1],
            },
        )
        site.api(
            "POST",
            "/api/v1/needs",
            tokens["resident"],
            json={
                "kind": "micro_wish",
                "title": payload[:100],
                "description": payload,
                "beneficiary": "李爷爷",
                "due_on": time.strftime("%Y-%m-%d", time.localtime(time.time() + 30 * 86400)),
            },
        )
    staff = {user: site.login(user) for user in ("community", "street", "admin")}
    pages = [(None, p) for p in ("/map/", "/wishes/", "/login/", "/appeals/public/")]
    pages += [
        ("community", p)
        for p in (
            "/",
            "/appeals/inbox/",
            "/appeals/board/",
            "/appeals/kpi/",
            "/lists/needs/",
            "/lists/projects/",
            "/org/people/",
            "/org/units/",
            "/org/",
            "/audit/",
            "/map/",
        )
    ]
    pages += [("street", p) for p in ("/appeals/inbox/", "/appeals/kpi/", "/appeals/board/")]
    pages += [("admin", p) for p in ("/org/", "/org/units/", "/accounts/users/", "/audit/", "/map/")]
    base = f"http://localhost:{port}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for who, path in pages:
            ctx = browser.new_context(extra_http_headers={"X-Forwarded-Proto": "https"})
            if who:
                if not staff[who]:
                    print(f"  xss: could not log in as {who}")
                    continue
                ctx.add_cookies([{"name": "sessionid", "value": staff[who], "url": base}])
            page = ctx.new_page()
            violations = []
            page.on(
                "console",
                lambda m, v=violations: v.append(m.text) if "Content Security Policy" in m.text else None,
            )
            try:
                resp = page.goto(base + path, wait_until="networkidle", timeout=30000)
                if resp is None or resp.status != 200:
                    print(f"  xss: {who or 'anonymous'} {path} answered {resp and resp.status}: not counted")
                    ctx.close()
                    continue
                # Open every map feature's tooltip and popup (the grid layer the map page exposes), hover
                # SVG features, and sweep the mouse over every map and chart (canvas-drawn features).
                page.evaluate(
                    "() => window.gzGridLayer && window.gzGridLayer.eachLayer(l => {"
                    " l.openTooltip && l.getTooltip() && l.openTooltip(); l.openPopup && l.getPopup() && l.openPopup(); })"
                )
                for el in page.query_selector_all("path.leaflet-interactive")[:400]:
                    el.dispatch_event("mouseover")
                for el in page.query_selector_all(".leaflet-marker-icon")[:30]:
                    el.dispatch_event("click")  # marker popups
                for el in page.query_selector_all(".leaflet-container")[:3]:
                    box = el.bounding_box()
                    if box:
                        for i in range(1, 12):
                            for j in range(1, 12):
                                page.mouse.move(
                                    box["x"] + box["width"] * i / 12, box["y"] + box["height"] * j / 12
                                )
                for el in page.query_selector_all("canvas")[:10]:
                    box = el.bounding_box()
                    if box:
                        for fx in (0.25, 0.5, 0.75):
                            page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] / 2)
                ran = page.evaluate("window.__xss || 0")
            except Exception as exc:  # a page that fails to load is reported, not counted as safe
                print(f"  xss: {who or 'anonymous'} {path}: {exc.__class__.__name__}: {str(exc)[:160]}")
                ctx.close()
                continue
            tally.add(
                "xss: page rendered", refused=not ran, leaked=bool(ran), what=f"{who or 'anonymous'} {path}"
            )
            if violations:
                print(
                    f"  xss: {who or 'anonymous'} {path}: {len(violations)} CSP report(s): {violations[0][:160]}"
                )
            ctx.close()
        browser.close()


def probe_malformed(site: Site, tokens: dict, tally: Tally):
    spec = site.api("GET", "/api/v1/openapi.json").json()
    token = tokens["community"]
    for path, ops in spec.get("paths", {}).items():
        for method, op in ops.items():
            filled = re.sub(r"\{[^}]+\}", "1", path)
            url = "/api/v1" + filled if not filled.startswith("/api/v1") else filled
            if method == "get":
                names = {p["name"] for p in op.get("parameters", []) if p.get("in") == "query"} | {
                    "q",
                    "page",
                    "limit",
                }
                for name in sorted(names):
                    for bad in BAD_VALUES:
                        resp = site.api("GET", f"{url}?{name}={bad}", token)
                        failed = resp.status_code >= 500
                        tally.add(
                            "malformed: API query",
                            refused=resp.status_code >= 400 and not failed,
                            leaked=failed,
                            what=f"GET {url}?{name}={bad} → {resp.status_code}",
                        )
                for bad in ("%00", "%ED%A0%80", "99999999999999999999999"):
                    raw = re.sub(r"\{[^}]+\}", bad, path)
                    raw = "/api/v1" + raw if not raw.startswith("/api/v1") else raw
                    if raw == url:
                        continue
                    resp = site.api("GET", raw, token)
                    tally.add(
                        "malformed: API path",
                        refused=resp.status_code >= 400 and resp.status_code < 500,
                        leaked=resp.status_code >= 500,
                        what=f"GET {raw} → {resp.status_code}",
                    )
            elif method in ("post", "patch", "put", "delete"):
                for body in (
                    b'{"title": "\\ud800", "text": "\\ud800", "reason": "\\ud800"}',
                    b'{"a": "x\\u0000y"}',
                    b"not json",
                    b'{"version": 99999999999999999999999}',
                ):
                    resp = site.api(
                        method.upper(), url, token, data=body, headers={"Content-Type": "application/json"}
                    )
                    tally.add(
                        "malformed: API body",
                        refused=resp.status_code < 500,
                        leaked=resp.status_code >= 500,
                        what=f"{method.upper()} {url} {body[:30]!r} → {resp.status_code}",
                    )
                if "multipart/form-data" in json.dumps(op.get("requestBody", {})):
                    resp = site.api(
                        "POST", url, token, data=b"--x\r\n", headers={"Content-Type": "multipart/form-data"}
                    )
                    tally.add(
                        "malformed: API body",
                        refused=resp.status_code < 500,
                        leaked=resp.status_code >= 500,
                        what=f"POST {url} multipart without boundary → {resp.status_code}",
                    )
    session = site.login("community")
    for path in (
        "/appeals/public/",
        "/appeals/inbox/",
        "/lists/needs/",
        "/lists/projects/",
        "/lists/resources/",
        "/org/people/",
        "/org/posts/",
        "/audit/",
        "/timebank/",
        "/timebank/ledger/",
        "/volunteering/activities/",
        "/volunteering/teams/",
        "/volunteering/reports/",
        "/appeals/kpi/",
        "/wishes/",
        "/open311/v2/requests.json",
        "/open311/v2/requests.xml",
    ):
        for name in (
            "q",
            "page",
            "after",
            "before",
            "state",
            "start",
            "end",
            "scope",
            "service_code",
            "service_request_id",
            "year",
        ):
            for bad in BAD_VALUES:
                resp = site.http.get(
                    f"{site.base}{path}?{name}={bad}",
                    headers={"Cookie": f"sessionid={session}"},
                    timeout=30,
                    allow_redirects=False,
                )
                tally.add(
                    "malformed: pages and Open311",
                    refused=resp.status_code < 500,
                    leaked=resp.status_code >= 500,
                    what=f"GET {path}?{name}={bad} → {resp.status_code}",
                )


def probe_login(site: Site, tally: Tally):
    for user in ("gridworker", "member"):
        for _ in range(20):
            site.login(user, "wrong-" + secrets.token_hex(4))
        ok = site.login(user) is not None
        tally.add("login: form after 20 failures", refused=not ok, leaked=ok, what=user)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--database-url", help="a PostgreSQL URL (the database is dropped and created); default SQLite"
    )
    ap.add_argument("--scale", default="small")
    ap.add_argument("--classes", default="pii,xss,malformed,login")
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args()
    from cryptography.fernet import Fernet

    env = {
        **os.environ,
        "GONGZHI_DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "GONGZHI_PII_KEY": Fernet.generate_key().decode(),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "GONGZHI_VAR_DIR": str(ROOT / "var" / "probe-run"),
        "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
    }
    env["DATABASE_URL"] = fresh_database(args.database_url)
    t0 = time.perf_counter()
    gongzhi(env, "migrate", "--noinput", "-v0")
    gongzhi(env, "seed_demo", "--scale", args.scale, "-v0")
    gongzhi(env, "collectstatic", "--noinput", "-v0")
    tokens = {
        u: gongzhi(env, "create_token", u).strip().splitlines()[-1]
        for u in ("resident", "community", "admin", "street")
    }
    print(
        f"fresh demo ({args.scale}, {env['DATABASE_URL'].split(':')[0]}) in {time.perf_counter() - t0:.0f} s"
    )
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "gongzhi.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "error"],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    site = Site(f"http://127.0.0.1:{port}")
    try:
        for _ in range(60):
            try:
                if site.api("GET", "/healthz").status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        else:
            raise SystemExit("the server did not answer /healthz")
        # A category and a point inside the resident's own community, from the public doors.
        services = site.api("GET", "/open311/v2/services.json").json()
        tokens["category"] = services[0]["service_code"]
        me = site.api("GET", "/api/v1/me", tokens["resident"]).json()
        tokens["point"] = resident_point(site, me)
        rng = random.Random(args.seed)
        tally = Tally()
        classes = set(args.classes.split(","))
        for name, run in (
            ("pii", lambda: probe_pii(site, tokens, tokens["point"], tally, rng)),
            ("xss", lambda: probe_xss(site, tokens, env, tally, port)),
            ("malformed", lambda: probe_malformed(site, tokens, tally)),
            ("login", lambda: probe_login(site, tally)),
        ):
            if name in classes:
                t = time.perf_counter()
                run()
                print(f"{name}: {time.perf_counter() - t:.0f} s")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    print()
    print(f"{'class':<40} {'tried':>7} {'refused':>8} {'leaked':>7}")
    for cls, (tried, refused, leaked) in sorted(tally.rows.items()):
        print(f"{cls:<40} {tried:>7} {refused:>8} {leaked:>7}")
    total = [sum(r[i] for r in tally.rows.values()) for i in range(3)]
    print(f"{'all':<40} {total[0]:>7} {total[1]:>8} {total[2]:>7}")
    for line in tally.leaks[:60]:
        print("  leaked:", line)
    return 1 if total[2] else 0


def resident_point(site: Site, me: dict) -> tuple[float, float]:
    """A point well inside a micro grid of the resident's community (its representative point)."""
    from shapely.geometry import shape

    codes = [
        s.get("code") or s.get("scope_code")
        for s in me.get("roles", me.get("scopes", []))
        if isinstance(s, dict)
    ]
    fc = site.api(
        "GET", "/api/v1/grids.geojson?level=micro" + (f"&within={codes[0]}" if codes and codes[0] else "")
    ).json()
    p = shape(fc["features"][0]["geometry"]).representative_point()
    return (p.x, p.y)


if __name__ == "__main__":
    sys.exit(main())
