"""Appeals at city scale with a year of history: submit throughput against the framework's ceiling, and
the latency of a grid worker's inbox and of the KPI endpoint (a street, the whole city).

Run: .venv/bin/python bench/appeals.py --appeals 1000000 [--appeals 10000000] [--reuse]
         [--database-url postgres://gongzhi:gongzhi@127.0.0.1:5432/gongzhi_bench] [--duration 30]
         [--concurrency 8] [--requests 200]
     .venv/bin/python bench/appeals.py --sqlite --scale small --appeals 20000      (a small run)
Targets: the KPI endpoint p99 ≤ 50 ms at ten million appeals (rollups, never a scan); submit
throughput through the API ≥ 50 % of the minimal endpoint's (one INSERT + JSON, same server).

Steps: (re)create the bench database (dropped first unless --reuse), migrate, `seed_demo --scale city`,
bench accounts (a user for every grid worker, a community worker per community, a street officer per
street, 20,000 residents: bench/appeal_history.py), then per --appeals N (ascending; each tops the
database up to N, nothing is regenerated): a year of history by COPY, ANALYZE, `gongzhi kpi_rebuild`,
then the measurements against gunicorn (gongzhi.wsgi, 2 sync workers, bench.bench_settings: DEBUG off,
plus /bench/minimal):
- throughput: `--concurrency` client processes, each one request at a time on a fresh connection
  (gunicorn's sync workers close it), for `--duration` seconds each, in this order:
  /bench/minimal; /bench/api/minimal (the same through django-ninja and the API's token check: not a
  target, it shows the framework's share); POST /api/v1/appeals (a resident's token from `gongzhi
  create_token`, an Idempotency-Key each); the same with `Prefer: respond-async` three ways: a burst of
  202s with the worker idle, `gongzhi worker --intake-only` alone creating that backlog's appeals in
  batches, and the 202s again while the worker creates them on the same two cores (end to end =
  appeals created / (run + draining what is left)); /bench/minimal once more. The machine's pace
  drifts over minutes (other work, PostgreSQL's checkpoints), so the ratios divide by the mean of the
  two minimal runs;
- latency: `--requests` sequential requests each (after 10 unmeasured), real tokens or a real session:
  the grid workers' inbox page /appeals/inbox/ (the API has no inbox route; GET /api/v1/appeals, the
  list of what they may see, is measured too), the busiest grid workers in turn; the KPI endpoint
  GET /api/v1/kpis/appeals for the busiest street (its street officer) and for the city (a city-wide
  district_admin), over the last 30 days and the last 365.
The client runs on the same 2-core machine as the server and the database: every figure includes that.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GONGZHI = Path(sys.executable).with_name("gongzhi")
GUNICORN = Path(sys.executable).with_name("gunicorn")
DEFAULT_URL = "postgres://gongzhi:gongzhi@127.0.0.1:5432/gongzhi_bench"
KPI_TARGET_MS = 50.0
RATIO_TARGET = 0.5
REBUILD_UP_TO = 2_000_000  # kpi_rebuild replays every timeline: ~1 min per 100,000 appeals here


# ---- helpers ----


def run(args: list[str], env: dict, *, check: bool = True) -> tuple[float, str, int]:
    t0 = time.perf_counter()
    proc = subprocess.run([str(GONGZHI), *args], env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if proc.returncode != 0 and check:
        sys.stdout.write(proc.stdout)
        sys.stderr.write(proc.stderr)
        raise SystemExit(f"`gongzhi {' '.join(args)}` failed with exit code {proc.returncode}")
    return took, proc.stdout, proc.returncode


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] if s else float("nan")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def request(port: int, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def prepare_postgres(url: str, reuse: bool) -> None:
    import psycopg
    from psycopg import sql

    info = psycopg.conninfo.conninfo_to_dict(url)
    name = info.get("dbname") or url.rsplit("/", 1)[-1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and not reuse:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
            exists = None
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    print(f"database               {name} ({'reused' if exists else 'created'})")


# ---- the client (one process per connection) ----


def _hammer(job: tuple) -> tuple[int, int, list[float], str]:
    port, path, token, payloads, start_at, duration, tag, extra = job
    headers = {"Content-Type": "application/json", **extra}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    ok = bad = 0
    lat: list[float] = []
    last_error = ""
    i = 0
    while time.time() < start_at:
        time.sleep(0.001)
    stop = start_at + duration
    while True:
        now = time.time()
        if now >= stop:
            break
        body = payloads[i % len(payloads)]
        i += 1
        if token:
            headers["Idempotency-Key"] = f"{tag}-{uuid.uuid4().hex}"
        t0 = time.perf_counter()
        try:
            status, data = request(port, "POST", path, body, headers)
        except OSError as exc:
            status, data = 0, str(exc).encode()
        took = time.perf_counter() - t0
        if status in (200, 201, 202):
            ok += 1
            lat.append(took * 1000)
        else:
            bad += 1
            last_error = f"{status} {data[:200]!r}"
    return ok, bad, lat, last_error


def throughput(
    port: int,
    path: str,
    token: str | None,
    payloads: list[bytes],
    *,
    duration: float,
    concurrency: int,
    tag: str,
    headers: dict | None = None,
) -> dict:
    start_at = time.time() + 1.0
    jobs = [
        (port, path, token, payloads[k::concurrency] or payloads, start_at, duration, f"{tag}{k}", headers or {})
        for k in range(concurrency)
    ]
    with multiprocessing.get_context("fork").Pool(concurrency) as pool:
        results = pool.map(_hammer, jobs)
    ok = sum(r[0] for r in results)
    bad = sum(r[1] for r in results)
    lat = [x for r in results for x in r[2]]
    errors = [r[3] for r in results if r[3]]
    return {
        "rate": ok / duration,
        "ok": ok,
        "bad": bad,
        "p50": pct(lat, 0.5),
        "p99": pct(lat, 0.99),
        "error": errors[0] if errors else "",
        "start_at": start_at,
    }


def _intake_worker(env: dict):
    return subprocess.Popen(
        [str(GONGZHI), "worker", "--intake-only"],
        env={**env, "GONGZHI_APPEAL_INTAKE_POLL_SECONDS": "0.2"},
        stdout=subprocess.DEVNULL,
    )


def _wait_drained(limit: float = 900) -> float:
    from gongzhi.appeals.models import AppealIntake, IntakeState

    t0 = time.time()
    while AppealIntake.objects.filter(state=IntakeState.PENDING).exists() and time.time() - t0 < limit:
        time.sleep(0.05)
    return time.time()


def queued_throughput(port: int, env: dict, token: str, payloads: list[bytes], **kw) -> dict:
    """The asynchronous submit (Prefer: respond-async), three ways on the same machine:
    burst: the 202s with the worker idle (a surge the API absorbs), then drain: `gongzhi worker
    --intake-only` alone creating that backlog's appeals; sustained: the 202s while the worker creates
    the appeals on the same two cores, end to end = appeals created / (run + draining what is left)."""
    from gongzhi.appeals import intake
    from gongzhi.appeals.models import AppealIntake, IntakeState

    intake.drain()  # anything left from an interrupted run is not this run's work
    out = {}
    since = dt.datetime.now(dt.UTC)
    out["burst"] = throughput(port, "/api/v1/appeals", token, payloads, headers={"Prefer": "respond-async"}, **kw)
    backlog = AppealIntake.objects.filter(state=IntakeState.PENDING).count()
    worker = _intake_worker(env)
    try:
        t0 = time.time()
        took = _wait_drained() - t0
    finally:
        worker.terminate()
        worker.wait(30)
    made = AppealIntake.objects.filter(received_at__gte=since, state=IntakeState.DONE).count()
    out["drain"] = {"rate": made / took if took else float("nan"), "made": made, "backlog": backlog, "took": took,
                    "failed": AppealIntake.objects.filter(received_at__gte=since, state=IntakeState.FAILED).count()}
    since = dt.datetime.now(dt.UTC)
    worker = _intake_worker(env)
    try:
        time.sleep(2)  # the worker's imports and first probe
        r = throughput(port, "/api/v1/appeals", token, payloads, headers={"Prefer": "respond-async"}, **kw)
        ended = time.time()
        left = AppealIntake.objects.filter(state=IntakeState.PENDING).count()
        drained = _wait_drained()
    finally:
        worker.terminate()
        worker.wait(30)
    mine = AppealIntake.objects.filter(received_at__gte=since)
    made = mine.filter(state=IntakeState.DONE).count()
    took = drained - r["start_at"]
    out["sustained"] = r
    out["end_to_end"] = {"rate": made / took, "made": made, "failed": mine.filter(state=IntakeState.FAILED).count(),
                         "backlog": left, "tail": drained - ended, "took": took}
    return out


def latency(port: int, path: str, headers: dict, n: int, *, warmup: int = 10) -> dict:
    lat = []
    status = 0
    for i in range(n + warmup):
        t0 = time.perf_counter()
        status, data = request(port, "GET", path, None, headers)
        took = (time.perf_counter() - t0) * 1000
        if status != 200:
            return {"status": status, "error": data[:300].decode(errors="replace"), "n": 0}
        if i >= warmup:
            lat.append(took)
    return {
        "status": status,
        "n": len(lat),
        "p50": pct(lat, 0.5),
        "p99": pct(lat, 0.99),
        "mean": statistics.fmean(lat),
        "bytes": len(data),
    }


def latency_cycle(port: int, targets: list[tuple[str, dict]], n: int, warmup: int = 10) -> dict:
    """n sequential requests cycling over (path, headers) targets: several users' inboxes in turn."""
    for path, headers in targets:
        for _ in range(max(1, warmup // len(targets))):
            request(port, "GET", path, None, headers)
    lat = []
    for i in range(n):
        path, headers = targets[i % len(targets)]
        t0 = time.perf_counter()
        status, data = request(port, "GET", path, None, headers)
        took = (time.perf_counter() - t0) * 1000
        if status != 200:
            return {"status": status, "error": data[:300].decode(errors="replace"), "n": 0}
        lat.append(took)
    return {
        "status": 200,
        "n": len(lat),
        "p50": pct(lat, 0.5),
        "p99": pct(lat, 0.99),
        "mean": statistics.fmean(lat),
    }


# ---- the server ----


class Server:
    def __init__(self, env: dict, workers: int = 2):
        self.port = free_port()
        self.env = {
            **env,
            "DJANGO_SETTINGS_MODULE": "bench.bench_settings",
            "PYTHONPATH": f"{ROOT}{os.pathsep}{env.get('PYTHONPATH', '')}".rstrip(os.pathsep),
        }
        self.proc = subprocess.Popen(
            [
                str(GUNICORN),
                "gongzhi.wsgi",
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{self.port}",
                "--log-level",
                "warning",
                "--timeout",
                "120",
            ],
            env=self.env,
            cwd=str(ROOT),
        )
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                if request(self.port, "GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise SystemExit("gunicorn did not answer /healthz within 60 s")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()


# ---- main ----


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--appeals", type=int, action="append", help="appeals in the database (repeatable)")
    ap.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    ap.add_argument(
        "--sqlite",
        nargs="?",
        const="",
        default=None,
        metavar="PATH",
        help="use SQLite (a temporary file unless PATH) instead of PostgreSQL",
    )
    ap.add_argument("--scale", default="city", choices=("small", "district", "city"))
    ap.add_argument("--reuse", action="store_true", help="keep the database if it exists (top up only)")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds per throughput run")
    ap.add_argument("--concurrency", type=int, default=8, help="client processes for the throughput runs")
    ap.add_argument("--requests", type=int, default=200, help="sequential requests per latency figure")
    ap.add_argument("--seed", type=int, default=6764)
    ap.add_argument(
        "--workers", type=int, default=2, help="generator processes (PostgreSQL; SQLite uses one)"
    )
    ap.add_argument("--no-measure", action="store_true", help="only build the database")
    ap.add_argument(
        "--no-migrate", action="store_true", help="with --reuse: the schema is current, skip migrate"
    )
    ap.add_argument(
        "--no-seed", action="store_true", help="with --reuse: the city is seeded already, skip seed_demo"
    )
    ap.add_argument(
        "--kpi-rebuild",
        choices=("auto", "yes", "no"),
        default="auto",
        help="run `gongzhi kpi_rebuild` after generating and check it finds the generator's rollups "
        f"(auto: up to {REBUILD_UP_TO:,} appeals)",
    )
    args = ap.parse_args()
    targets = sorted(set(args.appeals or [1_000_000]))

    if args.sqlite is not None:
        path = (
            Path(args.sqlite)
            if args.sqlite
            else Path(tempfile.mkdtemp(prefix="gongzhi-bench-")) / "bench.sqlite3"
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists() and not args.reuse:
            for p in path.parent.glob(path.name + "*"):
                p.unlink()
        url = f"sqlite:///{path}"
        print(f"database               {path} (SQLite)")
    else:
        url = args.database_url
        prepare_postgres(url, args.reuse)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "GONGZHI_DEBUG": "1",
        "DJANGO_SETTINGS_MODULE": "gongzhi.settings",
    }
    os.environ.update(DATABASE_URL=url, GONGZHI_DEBUG="1", DJANGO_SETTINGS_MODULE="gongzhi.settings")

    if args.reuse and args.no_migrate:
        print("migrate                skipped (--reuse --no-migrate)")
    else:
        took, _out, _rc = run(["migrate", "--noinput", "-v0"], env)
        print(f"migrate                {took:7.1f} s")
    if args.reuse and args.no_seed:
        print("seed_demo              skipped (--reuse --no-seed)")
    else:
        took, _out, _rc = run(["seed_demo", "--scale", args.scale], env)
        print(f"seed_demo --scale {args.scale:<5}{took:7.1f} s")

    import django

    django.setup()
    import appeal_history as history
    from django.core.management import get_commands
    from django.db import connection

    from gongzhi.appeals.models import Appeal

    history.ensure_staff()
    world = history.load_world(args.seed)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(
                "CREATE TABLE IF NOT EXISTS bench_minimal (id bigserial PRIMARY KEY, at timestamptz NOT NULL,"
                " note text NOT NULL)"
            )
        else:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS bench_minimal (id integer PRIMARY KEY AUTOINCREMENT,"
                " at datetime NOT NULL, note text NOT NULL)"
            )
    connection.close()
    has_rebuild = "kpi_rebuild" in get_commands()

    rows: list[tuple] = []
    server = None
    tokens: dict[str, str] = {}
    try:
        for target in targets:
            have = Appeal.objects.count()
            print(f"\n== {target:,} appeals ({have:,} in the database) ==")
            if target > have:
                gen = history.generate(
                    world,
                    target - have,
                    end=dt.datetime.now(dt.UTC),
                    seed=args.seed + have,
                    workers=args.workers,
                )
                rate = (gen["appeals"] + gen["events"]) / gen["seconds"]
                print(
                    f"generated              {gen['appeals']:,} appeals + {gen['events']:,} events in "
                    f"{gen['seconds']:.1f} s ({gen['appeals'] / gen['seconds']:,.0f} appeals/s, {rate:,.0f} rows/s)"
                )
                print("  states: " + ", ".join(f"{k} {v:,}" for k, v in sorted(gen["states"].items())))
            t0 = time.perf_counter()
            with connection.cursor() as cur:
                cur.execute("ANALYZE")
            print(f"ANALYZE                {time.perf_counter() - t0:7.1f} s")
            connection.close()
            count = Appeal.objects.count()
            if args.kpi_rebuild == "yes" or (args.kpi_rebuild == "auto" and count <= REBUILD_UP_TO):
                kpi_rebuild(env, has_rebuild)
            else:
                print(
                    f"kpi_rebuild            not run ({count:,} appeals; --kpi-rebuild {args.kpi_rebuild}): the "
                    "rollups are the generator's in-stream increments (kpi.replay_appeal + kpi._upsert)"
                )
            if args.no_measure:
                continue
            if server is None:
                server = Server(env)
                tokens = make_tokens(env, world)
            rows += measure(server.port, server.env, tokens, world, count, args)
            connection.close()
    finally:
        if server is not None:
            server.stop()
    if rows:
        print_table(rows, args)
    return 0


def kpi_rebuild(env: dict, has_command: bool) -> None:
    """`gongzhi kpi_rebuild` (kpi.rebuild() in-process until the command exists), timed, and the
    rollups it recomputes compared with those the generator wrote: they must be identical."""
    from django.db import connection

    from gongzhi.appeals import kpi
    from gongzhi.appeals.models import AppealRollup

    table = AppealRollup._meta.db_table
    cols = ", ".join(["day", "node", "kind", "parent", "org_id", *kpi.COUNTERS])
    with connection.cursor() as cur:
        cur.execute("DROP TABLE IF EXISTS bench_rollup_before")
        cur.execute(f"CREATE TABLE bench_rollup_before AS SELECT {cols} FROM {table}")
    connection.close()
    t0 = time.perf_counter()
    if has_command:
        _took, out, _rc = run(["kpi_rebuild"], env)
        what = "gongzhi kpi_rebuild   "
        detail = out.strip().splitlines()[-1] if out.strip() else ""
    else:
        done = kpi.rebuild()
        what = "kpi.rebuild()         "
        detail = f"{done} (no `gongzhi kpi_rebuild` command yet: called in-process)"
        connection.close()
    took = time.perf_counter() - t0
    with connection.cursor() as cur:
        cur.execute(
            f"SELECT COUNT(*) FROM (SELECT {cols} FROM bench_rollup_before EXCEPT SELECT {cols} FROM {table}) x"
        )
        lost = cur.fetchone()[0]
        cur.execute(
            f"SELECT COUNT(*) FROM (SELECT {cols} FROM {table} EXCEPT SELECT {cols} FROM bench_rollup_before) x"
        )
        new = cur.fetchone()[0]
        cur.execute("DROP TABLE bench_rollup_before")
    print(f"{what} {took:7.1f} s   {detail}")
    print(
        f"  rollups before vs after the rebuild: {'identical' if not lost and not new else 'DIFFERENT'} "
        f"({lost} rows only before, {new} only after)"
    )


def make_tokens(env: dict, world) -> dict[str, str]:
    """API tokens from `gongzhi create_token` for the accounts the measurements act as."""
    from django.contrib.auth import get_user_model

    from gongzhi.appeals.models import OPEN_STATES, Appeal

    User = get_user_model()
    out = {}

    def token(username: str) -> str:
        _took, text, _rc = run(["create_token", username, "--name", "bench"], env)
        return text.strip().splitlines()[-1]

    out["resident"] = token(
        User.objects.filter(username__startswith="bench-r-").order_by("id").first().username
    )
    out["city"] = token("bench-city-admin")
    # the busiest grid workers: most open appeals at grid level that they own
    from django.db.models import Count

    busy = list(
        Appeal.objects.filter(state__in=OPEN_STATES, owner_level="grid", owner__isnull=False)
        .values("owner")
        .annotate(n=Count("id"))
        .order_by("-n")[:5]
    )
    out["grid_workers"] = [(User.objects.get(pk=b["owner"]), b["n"]) for b in busy]
    out["grid_tokens"] = [token(u.username) for u, _n in out["grid_workers"]]
    # the street of the busiest grid (the generator's largest weight) and its street officer
    busiest = world.grids[int(world.weights.argmax())]
    parts = [p for p in busiest[2].split("/") if p]
    out["city_code"], out["street_code"] = parts[0], parts[2] if len(parts) > 2 else parts[-1]
    out["street"] = token(f"bench-so-{out['street_code']}")
    return out


def session_cookie(user) -> str:
    """A real signed-in session for the inbox page (what the login view would store)."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    s = SessionStore()
    s[SESSION_KEY] = str(user.pk)
    s[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return f"{settings.SESSION_COOKIE_NAME}={s.session_key}"


def submit_payloads(world, n: int = 4000, seed: int = 1) -> list[bytes]:
    import numpy as np

    rng = np.random.default_rng(seed)
    gi = rng.choice(len(world.grids), n, p=world.weights)
    ci = rng.choice(len(world.categories), n, p=world.cat_weights)
    out = []
    for k in range(n):
        g = world.grids[gi[k]]
        x, y = rng.uniform(0.05, 0.95, 2)
        out.append(
            json.dumps(
                {
                    "category": world.categories[ci[k]][1],
                    "title": "楼道堆放杂物",
                    "text": "3 栋 2 单元楼道长期堆放纸箱和旧家具，堵塞通道，存在消防隐患，请尽快处理。",
                    "lon": round(g[4] + (g[6] - g[4]) * x, 7),
                    "lat": round(g[5] + (g[7] - g[5]) * y, 7),
                    "urgency": "normal",
                },
                ensure_ascii=False,
            ).encode()
        )
    return out


def measure(port: int, env: dict, tokens: dict, world, count: int, args) -> list[tuple]:
    rows = []
    scale = f"{count / 1e6:.2f} M" if count >= 100_000 else f"{count:,}"
    # warm both endpoints up (grid index, connections, imports) before anything is counted
    payloads = submit_payloads(world)
    for b in payloads[:20]:
        request(port, "POST", "/bench/minimal", b, {"Content-Type": "application/json"})
        request(
            port,
            "POST",
            "/api/v1/appeals",
            b,
            {
                "Content-Type": "application/json",
                "Authorization": f"Bearer {tokens['resident']}",
                "Idempotency-Key": uuid.uuid4().hex,
            },
        )
    kw = {"duration": args.duration, "concurrency": args.concurrency}
    load = os.getloadavg()
    print(
        f"load average before the runs: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} CPUs; "
        "other work on the machine shares them)"
    )
    base = throughput(port, "/bench/minimal", None, payloads, tag="m", **kw)
    api_base = throughput(port, "/bench/api/minimal", tokens["resident"], payloads, tag="x", **kw)
    name = "minimal API endpoint (ninja + token)"
    print(f"{name:<36} {api_base['rate']:8.1f} req/s  p50 {api_base['p50']:7.1f} ms  p99 {api_base['p99']:7.1f} ms  "
          f"(not a target: the API framework and the token check alone are {api_base['rate'] / base['rate']:.1%})")
    rows.append((scale, name, f"{api_base['rate']:.1f}/s", api_base["p50"], api_base["p99"],
                 f"{api_base['rate'] / base['rate']:.1%} of the minimal endpoint"))
    sub = throughput(port, "/api/v1/appeals", tokens["resident"], payloads, tag=f"s{count}", **kw)
    for name, r in (("minimal endpoint (1 INSERT + JSON)", base), ("POST /api/v1/appeals (submit)", sub)):
        print(
            f"{name:<36} {r['rate']:8.1f} req/s  p50 {r['p50']:7.1f} ms  p99 {r['p99']:7.1f} ms  "
            f"({r['ok']:,} ok, {r['bad']} failed{'; last: ' + r['error'] if r['error'] else ''})"
        )
        rows.append(
            (scale, name, f"{r['rate']:.1f}/s", r["p50"], r["p99"], f"{r['ok']:,} in {args.duration:.0f} s")
        )
    q = queued_throughput(port, env, tokens["resident"], payloads, tag=f"a{count}", **kw)
    for name, r in (("POST …, respond-async (burst)", q["burst"]),
                    ("POST …, respond-async + worker", q["sustained"])):
        print(
            f"{name:<36} {r['rate']:8.1f} req/s  p50 {r['p50']:7.1f} ms  p99 {r['p99']:7.1f} ms  "
            f"({r['ok']:,} × 202, {r['bad']} failed{'; last: ' + r['error'] if r['error'] else ''})"
        )
        rows.append((scale, name + " (202)", f"{r['rate']:.1f}/s", r["p50"], r["p99"], f"{r['ok']:,} in {args.duration:.0f} s"))
        if name.endswith("(burst)"):
            d = q["drain"]
            note = f"{d['made']:,} appeals from a backlog of {d['backlog']:,} in {d['took']:.1f} s; {d['failed']} refused"
            print(f"{'  … the worker then creating them':<36} {d['rate']:8.1f} appeals/s  ({note})")
            rows.append((scale, "  … the worker then creating them", f"{d['rate']:.1f}/s", None, None, note))
        else:
            e = q["end_to_end"]
            note = (f"{e['made']:,} appeals in {e['took']:.1f} s; {e['backlog']:,} waiting when the run ended, "
                    f"created {e['tail']:.1f} s later; {e['failed']} refused")
            print(f"{'  … created end to end meanwhile':<36} {e['rate']:8.1f} appeals/s  ({note})")
            rows.append((scale, "  … appeals created end to end", f"{e['rate']:.1f}/s", None, None, note))
    # The machine's pace drifts over minutes (other work, PostgreSQL's checkpoints): the minimal endpoint
    # is measured again after the others, and each ratio divides by the mean of its two runs.
    again = throughput(port, "/bench/minimal", None, payloads, tag="n", **kw)
    baseline = (base["rate"] + again["rate"]) / 2
    print(f"{'minimal endpoint, again':<36} {again['rate']:8.1f} req/s  (baseline for the ratios: the mean, "
          f"{baseline:.1f}/s)")
    rows.append((scale, "minimal endpoint, again", f"{again['rate']:.1f}/s", again["p50"], again["p99"],
                 f"ratios below divide by the mean of both runs, {baseline:.1f}/s"))
    for label, r in (("submit / minimal", sub), ("respond-async burst / minimal", q["burst"]),
                     ("respond-async + worker, end to end / minimal", q["end_to_end"])):
        ratio = r["rate"] / baseline if baseline else float("nan")
        verdict = f"target ≥ {RATIO_TARGET:.0%}: {'met' if ratio >= RATIO_TARGET else 'MISSED'}"
        print(f"{label:<44} {ratio:8.1%}   ({verdict})")
        rows.append((scale, label, f"{ratio:.1%}", None, None, verdict))

    # a grid worker's inbox: the page (a real session) and the API's list of what they may see (a token)
    from gongzhi.appeals.selectors import inbox_for

    workers = tokens["grid_workers"]
    inbox_sizes = []
    for u, _n in workers:
        inbox_sizes.append(inbox_for(u).count())
    pages = [("/appeals/inbox/", {"Cookie": session_cookie(u)}) for u, _n in workers]
    apis = [("/api/v1/appeals?limit=50", {"Authorization": f"Bearer {t}"}) for t in tokens["grid_tokens"]]
    probes = [
        ("/api/v1/appeals/inbox?limit=50", "GET /api/v1/appeals/inbox"),
        ("/api/v1/inbox?limit=50", "GET /api/v1/inbox"),
    ]
    reads = [
        (f"inbox page /appeals/inbox/ ({len(workers)} busiest grid workers)", pages),
        ("GET /api/v1/appeals (grid workers' list)", apis),
    ]
    for path, label in probes:
        status, _data = request(port, "GET", path, None, apis[0][1])
        if status == 200:
            reads.append((f"{label} (grid workers)", [(path, h) for _p, h in apis]))
    print(
        f"grid workers' inboxes: {', '.join(f'{u.username} {n}' for (u, _o), n in zip(workers, inbox_sizes, strict=True))} open appeals"
    )
    for label, targets in reads:
        r = latency_cycle(port, targets, args.requests)
        rows.append(_print_latency(scale, label, r))
    # KPIs: the busiest street (its street officer) and the city (a city-wide admin)
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    for who, code, tok in (
        ("street " + tokens["street_code"], tokens["street_code"], tokens["street"]),
        ("city " + tokens["city_code"], tokens["city_code"], tokens["city"]),
    ):
        for days in (30, 365):
            start = today - dt.timedelta(days=days - 1)
            path = f"/api/v1/kpis/appeals?scope={code}&start={start:%Y-%m-%d}&end={today:%Y-%m-%d}"
            r = latency(port, path, {"Authorization": f"Bearer {tok}"}, args.requests)
            rows.append(_print_latency(scale, f"KPI {who}, last {days} days", r, target=KPI_TARGET_MS))
    return rows


def _print_latency(scale, label, r, target=None) -> tuple:
    if not r.get("n"):
        print(f"{label:<58} FAILED: HTTP {r['status']} {r.get('error', '')[:160]}")
        return (scale, label, f"HTTP {r['status']}", None, None, "not measured")
    note = f"{r['n']} requests"
    if target is not None:
        note += f"; p99 ≤ {target:.0f} ms: {'met' if r['p99'] <= target else 'MISSED'}"
    print(f"{label:<58} p50 {r['p50']:7.1f} ms  p99 {r['p99']:7.1f} ms  ({note})")
    return (scale, label, "", r["p50"], r["p99"], note)


def print_table(rows, args) -> None:
    print(
        f"\n== summary (client: {args.concurrency} processes × {args.duration:.0f} s for throughput; "
        f"{args.requests} sequential requests per latency) =="
    )
    print(f"{'appeals':<9} {'what':<58} {'rate':>9} {'p50 ms':>8} {'p99 ms':>8}  note")

    def f(v):
        return f"{v:8.1f}" if v is not None else f"{'':>8}"

    for scale, what, rate, p50, p99, note in rows:
        print(f"{scale:<9} {what:<58} {rate:>9} {f(p50)} {f(p99)}  {note}")


if __name__ == "__main__":
    sys.exit(main())
