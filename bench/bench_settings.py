"""Settings for the bench server only (bench/appeals.py): the project's settings, DEBUG off, plus the
bench-only URL /bench/minimal (bench/bench_urls.py). Never used in production; production urls stay as
they are. Start with DJANGO_SETTINGS_MODULE=bench.bench_settings and the repository root on PYTHONPATH.
"""

from gongzhi.settings import *  # noqa: F403

# The demo secrets are accepted because DEBUG was on while gongzhi.settings was read (GONGZHI_DEBUG=1);
# turning it off here keeps Django's per-query bookkeeping and debug pages out of the measurements.
DEBUG = False
ROOT_URLCONF = "bench.bench_urls"
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
