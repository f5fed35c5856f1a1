"""Smoke test of bench/load.py's locustfile (bench/load_mix.py): it imports, and a few seconds of the
mix and of the baseline run against a live server with no error other than the expected 409s.

Locust is pinned in requirements-bench.txt, which requirements-dev.txt includes: `make install` puts it in the venv.
"""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.factories import user

from .conftest import IN_GRID, submit

ROOT = Path(__file__).resolve().parents[2]
LOCUST = Path(sys.executable).with_name("locust")  # never imported here: locust monkey-patches with gevent



def _token(u) -> str:
    from gongzhi.accounts.models import ApiToken

    return ApiToken.issue(u)[1]


def _run(tmp_path: Path, host: str, actors: Path, classes: str, seconds: int) -> dict:
    out = tmp_path / f"{classes}.json"
    proc = subprocess.run(
        [str(LOCUST), "-f", str(ROOT / "bench" / "load_mix.py"), "--headless",
         "-u", "4", "-r", "4", "--run-time", f"{seconds}s", "--host", host, "--only-summary", "--loglevel", "ERROR",
         classes],
        env={"PATH": "/usr/bin:/bin", "LOAD_MIX_ACTORS": str(actors), "LOAD_MIX_OUT": str(out),
             "LOAD_MIX_THINK": "0.05"},
        capture_output=True, text=True, timeout=60)
    assert out.exists(), proc.stderr[-2000:]
    return json.loads(out.read_text())["types"]


@pytest.mark.django_db(transaction=True)
def test_the_mix_and_the_baseline_run_against_a_live_server(live_server, city, settings, tmp_path):
    settings.ROOT_URLCONF = "bench.bench_urls"  # the baseline's GET /bench/api/whoami
    for _ in range(4):
        submit(city.jumin)
    mayor = user("mayor", ("district_admin", city.tree["city"]))
    payload = {"category": "noise", "title": "夜间噪声扰民", "text": "楼下烧烤店每晚营业到凌晨两点，噪声很大。",
               "lon": IN_GRID[0], "lat": IN_GRID[1]}
    actors = tmp_path / "actors.json"
    actors.write_text(json.dumps({
        "grid_workers": [_token(city.gw1)], "residents": [_token(city.jumin), _token(city.linju)],
        "streets": [[_token(city.so), city.tree["street"].code]], "city": [[_token(mayor), city.tree["city"].code]],
        "baseline": _token(city.linju), "payloads": [json.dumps(payload, ensure_ascii=False)],
    }, ensure_ascii=False))

    gw = json.loads(actors.read_text())["grid_workers"][0]
    for path in ("/api/v1/appeals/inbox", "/bench/api/whoami"):  # the first request imports the views
        req = urllib.request.Request(live_server.url + path, headers={"Authorization": f"Bearer {gw}"})
        assert urllib.request.urlopen(req, timeout=60).status == 200

    mix = _run(tmp_path, live_server.url, actors, "Mix", 6)
    assert sum(sum(t["status"].values()) for t in mix.values()) >= 10, mix
    assert {"inbox", "appeal", "submit"} <= set(mix)
    unexpected = {name: t["errors"] for name, t in mix.items()
                  if any(not k.endswith(("(expected)", "(skipped)")) for k in t["errors"])}
    assert unexpected == {}

    base = _run(tmp_path, live_server.url, actors, "Baseline", 2)
    assert base["whoami (baseline)"]["errors"] == {} and base["whoami (baseline)"]["status"]["200"] >= 10
