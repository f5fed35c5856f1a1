"""The locustfile of bench/load.py: a city's daily mix through the JSON API, signed in with API tokens.

Not run on its own: bench/load.py writes the actors file (tokens, appeal payloads, KPI scopes) and
starts `locust -f bench/load_mix.py --headless …` once per step with these environment variables:
  LOAD_MIX_ACTORS  the actors file (JSON) bench/load.py wrote from the template database;
  LOAD_MIX_OUT     where this file writes, when the run stops, every request's latency and status by
                   request type (bench/load.py computes the percentiles and the errors by kind from it);
  LOAD_MIX_THINK   the mean think time in seconds (exponential), default 1.0;
  LOAD_MIX_STAMPS  when set (to anything but empty or 0), the output also holds "stamps": one
                   [completed at (epoch seconds), latency ms, counted] per request, counted 1 when
                   its latency is in "lat" (a success or an expected 409), 0 for an error: the soak and
                   sweep steps of bench/load.py cut these into windows (p99 per window).
The actors file: API tokens of grid workers (with the open appeals each had in the template, so that
the first read or action of a grid worker needs no inbox first), residents, street officers and a
city-wide admin (each with the scope code of their KPIs), the baseline's token, submit payloads.

The mix (one user class, each task acting as a random actor of the right kind, so the shares hold at
any number of users): grid workers 60 % reads (inbox 30, one appeal of their inbox 30) and 10 % writes
(accept 5, resolve 5: an appeal of their last inbox in the state the action needs, with its version;
a 409 because someone else got there first or the version moved is expected and counted apart),
residents 15 % synchronous submits (POST /api/v1/appeals with an Idempotency-Key) and 10 % reads
(my appeals 5, the wish wall 5), leaders 5 % KPIs (their street 3, the city 2; the last 30 days).
`Baseline` is the cheapest authenticated GET (GET /bench/api/whoami: token check + one tiny query),
run without think time for the ratio.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import time
import uuid
from collections import defaultdict

from locust import FastHttpUser, constant, events, task

ACTORS = json.loads(open(os.environ["LOAD_MIX_ACTORS"], encoding="utf-8").read()) if os.environ.get(
    "LOAD_MIX_ACTORS") else {"grid_workers": [], "residents": [], "streets": [], "city": [], "baseline": "",
                             "payloads": []}
THINK = float(os.environ.get("LOAD_MIX_THINK", "1.0"))
EXPECTED = {"accept": {409}, "resolve": {409}}
HEADERS = {"X-Forwarded-Proto": "https", "Accept": "application/json"}  # as behind the TLS proxy

# per request type: latencies (ms), statuses, errors by kind; the inbox each grid worker last saw
TALLY: dict[str, dict] = defaultdict(lambda: {"lat": [], "status": defaultdict(int), "errors": defaultdict(int)})
# the inbox each grid worker last saw, to start with what the template holds (number, state, version of
# their open appeals, from bench/load.py), so that reading an appeal or acting needs no inbox request first
INBOX: dict[str, list[dict]] = {t: [dict(a) for a in items] for t, items in ACTORS.get("inboxes", {}).items()}
SPAN = {"first": None, "last": None}
# Requests that complete within LOAD_MIX_SETTLE_S seconds of the first one are counted apart and not
# measured: users start over a ramp and the server's first requests prepare its statements, so the
# figures are those of the steady state the step is meant to measure.
SETTLE_S = float(os.environ.get("LOAD_MIX_SETTLE_S", "0") or 0)
SETTLING = {"started": None, "requests": 0}
STAMPS: list[tuple[float, float, int]] | None = [] if os.environ.get("LOAD_MIX_STAMPS", "") not in ("", "0") else None


def _error_kind(response) -> str:
    try:
        code = response.json()["error"]["code"]
    except Exception:  # noqa: BLE001 - any body that is not our error shape
        code = ""
    return f"{response.status_code} {code}".strip()


@events.request.add_listener
def _tally(request_type, name, response_time, response_length, response=None, exception=None, **kw):
    now = time.time()
    SETTLING["started"] = SETTLING["started"] or now
    if now < SETTLING["started"] + SETTLE_S:
        SETTLING["requests"] += 1
        return
    SPAN["first"] = SPAN["first"] or now
    SPAN["last"] = now
    t = TALLY[name]
    status = getattr(response, "status_code", 0) or 0
    t["status"][str(status)] += 1
    counted = 1
    if status in EXPECTED.get(name, ()):
        t["errors"][f"{status} (expected)"] += 1
        t["lat"].append(response_time)
    elif exception is not None or status >= 400 or status == 0:
        t["errors"][_error_kind(response) if status else type(exception).__name__] += 1
        counted = 0
    else:
        t["lat"].append(response_time)
    if STAMPS is not None:
        STAMPS.append((round(now, 3), round(response_time, 2), counted))


@events.quitting.add_listener
def _write(environment, **kw):
    out = os.environ.get("LOAD_MIX_OUT")
    if out:
        with open(out, "w", encoding="utf-8") as f:
            json.dump({"span": SPAN, "types": TALLY, "settling": {"seconds": SETTLE_S, "requests": SETTLING["requests"]},
                       **({"stamps": STAMPS} if STAMPS is not None else {})}, f)


def _auth(token: str) -> dict:
    return {**HEADERS, "Authorization": f"Bearer {token}"}


def _period() -> str:
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    return f"start={today - dt.timedelta(days=29):%Y-%m-%d}&end={today:%Y-%m-%d}"


class Mix(FastHttpUser):
    """One simulated person at a time: each task picks an actor of its kind."""

    def wait_time(self):
        return random.expovariate(1.0 / THINK) if THINK > 0 else 0

    # ---- grid workers ----

    def _inbox(self, token: str) -> list[dict]:
        with self.client.get("/api/v1/appeals/inbox", headers=_auth(token), name="inbox",
                             catch_response=True) as r:
            if r.status_code == 200:
                INBOX[token] = [{"number": a["number"], "state": a["state"], "version": a["version"]}
                                for a in r.json()["items"]]
            else:
                r.failure(f"HTTP {r.status_code}")
        return INBOX.get(token, [])

    @task(30)
    def inbox(self):
        self._inbox(random.choice(ACTORS["grid_workers"]))

    @task(30)
    def appeal(self):
        token = random.choice(ACTORS["grid_workers"])
        items = INBOX.get(token) or self._inbox(token)
        if items:
            self.client.get(f"/api/v1/appeals/{random.choice(items)['number']}", headers=_auth(token), name="appeal")

    def _act(self, action: str, state: str, body: dict):
        token = random.choice(ACTORS["grid_workers"])
        ready = [a for a in INBOX.get(token) or self._inbox(token) if a["state"] == state]
        if not ready:  # not this one: a grid worker whose last inbox had such an appeal
            others = [t for t, items in INBOX.items() if any(a["state"] == state for a in items)]
            if others:
                token = random.choice(others)
                ready = [a for a in INBOX[token] if a["state"] == state]
        if not ready:
            TALLY[action]["errors"]["nothing to act on (skipped)"] += 1
            return
        item = random.choice(ready)
        with self.client.post(f"/api/v1/appeals/{item['number']}/{action}", json={"version": item["version"], **body},
                              headers=_auth(token), name=action, catch_response=True) as r:
            if r.status_code == 200:
                got = r.json()
                item.update(state=got["state"], version=got["version"])
            elif r.status_code == 409:
                r.success()  # someone else acted first or the version moved: expected, tallied apart
                INBOX.pop(token, None)

    @task(5)
    def accept(self):
        self._act("accept", "submitted", {"note": "已受理，马上到现场查看。"})

    @task(5)
    def resolve(self):
        self._act("resolve", "accepted", {"note": "已到现场处理完毕，杂物已清运。"})

    # ---- residents ----

    @task(15)
    def submit(self):
        headers = {**_auth(random.choice(ACTORS["residents"])), "Idempotency-Key": uuid.uuid4().hex}
        self.client.post("/api/v1/appeals", data=random.choice(ACTORS["payloads"]).encode(),
                         headers={**headers, "Content-Type": "application/json"}, name="submit")

    @task(5)
    def my_appeals(self):
        self.client.get("/api/v1/appeals?mine=true", headers=_auth(random.choice(ACTORS["residents"])),
                        name="my appeals")

    @task(5)
    def wish_wall(self):
        self.client.get("/api/v1/wishes", headers=_auth(random.choice(ACTORS["residents"])), name="wish wall")

    # ---- leaders ----

    @task(3)
    def kpi_street(self):
        token, code = random.choice(ACTORS["streets"])
        self.client.get(f"/api/v1/kpis/appeals?scope={code}&{_period()}", headers=_auth(token), name="KPI street")

    @task(2)
    def kpi_city(self):
        token, code = random.choice(ACTORS["city"])
        self.client.get(f"/api/v1/kpis/appeals?scope={code}&{_period()}", headers=_auth(token), name="KPI city")


class Baseline(FastHttpUser):
    """The cheapest authenticated GET, back to back: the ceiling the mix is compared with."""

    wait_time = constant(0)

    @task
    def whoami(self):
        self.client.get("/bench/api/whoami", headers=_auth(ACTORS["baseline"]), name="whoami (baseline)")
