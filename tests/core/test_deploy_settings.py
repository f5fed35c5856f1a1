"""Production settings (GONGZHI_DEBUG=0, own keys) pass `manage.py check --deploy`, redirect plain
HTTP to HTTPS behind the proxy header with HSTS, and leave the health check reachable over HTTP.

Each runs in a fresh interpreter: settings are read from the environment once, at start-up.
"""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

SRC = str(Path(__file__).resolve().parents[2] / "src")


def production_env(tmp_path, **extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GONGZHI_")}
    env.update(
        GONGZHI_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(64),
        GONGZHI_PII_KEY=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="gongzhi.example.cn,testserver",
        GONGZHI_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="gongzhi.settings",
        PYTHONPATH=SRC + os.pathsep + env.get("PYTHONPATH", ""),
    )
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright by tests/conftest.py, never in production
    env.pop("DATABASE_URL", None)  # a throw-away SQLite file under tmp_path: nothing to reach
    env.update(extra)
    return env


def run(env, *args):
    return subprocess.run([sys.executable, *args], env=env, capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    out = run(production_env(tmp_path), "-m", "django", "check", "--deploy", "--fail-level", "WARNING")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "WARNING" not in out.stderr and "ERROR" not in out.stderr, out.stderr


def test_check_deploy_warns_when_the_https_redirect_is_switched_off(tmp_path):
    """The env switch is real: turning the redirect off is reported, not silently accepted."""
    env = production_env(tmp_path, GONGZHI_SECURE_SSL_REDIRECT="0")
    out = run(env, "-m", "django", "check", "--deploy", "--fail-level", "WARNING")
    assert out.returncode != 0 and "security.W008" in out.stderr, out.stdout + out.stderr


PROBE = """
import json, django
django.setup()
from django.test import Client
c = Client()
out = {}
r = c.get("/map/")
out["http_map"] = [r.status_code, r.get("Location", "")]
r = c.get("/healthz")
out["http_healthz"] = r.status_code
r = c.get("/map/", HTTP_X_FORWARDED_PROTO="https")
out["https_map"] = [r.status_code, r.get("Strict-Transport-Security", ""), r.get("X-Frame-Options", ""),
                    r.get("X-Content-Type-Options", ""), r.get("Referrer-Policy", ""),
                    r.get("Content-Security-Policy", "")]
print(json.dumps(out))
"""


def test_plain_http_is_redirected_with_hsts_behind_the_proxy_and_healthz_is_exempt(tmp_path):
    env = production_env(tmp_path)
    migrate = run(env, "-m", "django", "migrate", "-v", "0")
    assert migrate.returncode == 0, migrate.stderr
    out = run(env, "-c", PROBE)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    assert got["http_map"] == [301, "https://testserver/map/"]
    assert got["http_healthz"] == 200  # a load balancer's probe over plain HTTP
    status, hsts, frames, nosniff, referrer, csp = got["https_map"]
    assert status == 200
    assert hsts == "max-age=31536000; includeSubDomains"
    assert (frames, nosniff, referrer) == ("DENY", "nosniff", "same-origin")
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]


@pytest.mark.parametrize("url, source", [
    ("", []),
    ("/tiles/{z}/{x}/{y}.png", []),
    ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", ["https://*.tile.openstreetmap.org"]),
    ("https://t{s}.tianditu.gov.cn/vec_w/wmts?tk=KEY&x={x}", ["https://*.tianditu.gov.cn"]),
    ("http://10.1.2.3:8080/{z}/{x}/{y}.png", ["http://10.1.2.3:8080"]),
])
def test_the_tile_server_of_the_map_is_allowed_for_images(url, source):
    from gongzhi.settings import _tile_source

    assert _tile_source(url) == source


def test_a_configured_tile_server_reaches_the_policy(tmp_path):
    env = production_env(tmp_path, GONGZHI_MAP_TILE_URL="https://{s}.tile.example.cn/{z}/{x}/{y}.png")
    out = run(env, "-c", "import django; django.setup(); from django.conf import settings;"
                         "print(' '.join(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))")
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["'self'", "data:", "blob:", "https://*.tile.example.cn"]
