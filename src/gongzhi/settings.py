"""Django settings, read from the environment with safe defaults for the demo."""

import datetime as dt
import os
from pathlib import Path

import dj_database_url
from csp.constants import NONCE
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("GONGZHI_VAR_DIR", PROJECT_DIR / "var"))

DEMO_SECRET_KEY = "demo-only-secret-key-change-me-in-production-0123456789"
# A Fernet key (32 url-safe base64 bytes). Demo only: production must set GONGZHI_PII_KEY.
DEMO_PII_KEY = "ZGVtby1vbmx5LXBpaS1rZXktZG8tbm90LXVzZS0xMjM="

DEBUG = os.environ.get("GONGZHI_DEBUG", "1") == "1"
SECRET_KEY = os.environ.get("SECRET_KEY", DEMO_SECRET_KEY)
PII_KEY = os.environ.get("GONGZHI_PII_KEY", DEMO_PII_KEY)
if not DEBUG and (SECRET_KEY == DEMO_SECRET_KEY or PII_KEY == DEMO_PII_KEY):
    raise ImproperlyConfigured(
        "Production (GONGZHI_DEBUG=0) refuses the demo secrets: set SECRET_KEY and GONGZHI_PII_KEY."
    )

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "gongzhi.core",
    "gongzhi.places",
    "gongzhi.org",
    "gongzhi.accounts",
    "gongzhi.appeals",
    "gongzhi.notifications",
    "gongzhi.open311",
    "gongzhi.lists",
    "gongzhi.volunteering",
    "gongzhi.timebank",
    "gongzhi.deliberation",
    "gongzhi.demo",
    "gongzhi.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "gongzhi.core.language.LanguageMiddleware",
    "gongzhi.core.input_guard.InputGuardMiddleware",  # NUL, lone surrogates, bad multipart: 400
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "gongzhi.core.middleware.GongzhiErrorMiddleware",
    "gongzhi.web.menu_gate.MenuGateMiddleware",  # a page the menu does not offer the user is refused
    "gongzhi.core.middleware.DatabaseUnavailableMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a locked-out login into our lockout page
]

ROOT_URLCONF = "gongzhi.urls"
WSGI_APPLICATION = "gongzhi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "gongzhi.web.context.navigation",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'gongzhi.sqlite3'}"
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
# A kept connection is checked before a request reuses it (one `SELECT 1` per request): after a
# PostgreSQL restart the first request reconnects instead of failing on the dead connection.
DATABASES["default"]["CONN_HEALTH_CHECKS"] = os.environ.get("GONGZHI_DB_HEALTH_CHECKS", "1") == "1"
# Prepared statements (PostgreSQL): parameters bound by the server, and a query run
# GONGZHI_DB_PREPARE_THRESHOLD times on a connection is prepared, so that PostgreSQL may keep its plan
# instead of planning it again on every request (an appeal's read planned for 4 ms to run in 0.3).
# Django's documented OPTIONS, passed to psycopg. Behind PgBouncer in transaction mode this needs its
# max_prepared_statements (1.21 or later); GONGZHI_DB_PREPARE=0 turns it off (docs/operations.md).
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and os.environ.get("GONGZHI_DB_PREPARE", "1") == "1":
    DATABASES["default"].setdefault("OPTIONS", {}).update({
        "server_side_binding": True,
        "prepare_threshold": int(os.environ.get("GONGZHI_DB_PREPARE_THRESHOLD", "5")),
    })
# Deadlocks and serialisation failures: runs of a transaction in all, and the first pause (core.transactions).
DB_RETRY_ATTEMPTS = int(os.environ.get("GONGZHI_DB_RETRY_ATTEMPTS", "3"))
DB_RETRY_BACKOFF_S = float(os.environ.get("GONGZHI_DB_RETRY_BACKOFF_S", "0.05"))
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers go on while one writer writes; IMMEDIATE takes the write lock at BEGIN so
    # two writers queue (busy timeout) instead of failing half-way with "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # Tests use a file too (not shared-cache memory, which fails concurrent writers with "table is
    # locked" instead of waiting): races are then tested under the same locking as production.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Password guessing (django-axes): after LOGIN_FAILURE_LIMIT failures within the cool-off period,
# the account name is locked (whoever tries it, whether or not it exists) and so is the client
# address (whichever names it tries), until the period has passed without failures or a district
# administrator unlocks it on /accounts/lockouts/ (or `gongzhi axes_reset_username NAME`,
# `gongzhi axes_reset_ip ADDRESS`). Token creation has the same limit per account.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out attempt before the password is tried
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_FAILURE_LIMIT = int(os.environ.get("GONGZHI_LOGIN_FAILURE_LIMIT", "5"))
LOGIN_COOLOFF_MINUTES = int(os.environ.get("GONGZHI_LOGIN_COOLOFF_MINUTES", "15"))
# How many reverse proxies in front of the app append to X-Forwarded-For (0: use the socket's
# address; the header is then ignored, since any client can send it).
TRUSTED_PROXY_COUNT = int(os.environ.get("GONGZHI_TRUSTED_PROXY_COUNT", "0"))
TOKEN_CREATE_LIMIT = int(os.environ.get("GONGZHI_TOKEN_CREATE_LIMIT", str(LOGIN_FAILURE_LIMIT)))
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = dt.timedelta(minutes=LOGIN_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks: by account, and by address
# A success does not wipe the count: it would also wipe the address's count, so an attacker with
# one account of their own could reset the limit between guesses at another.
AXES_RESET_ON_SUCCESS = False
AXES_USERNAME_CALLABLE = "gongzhi.accounts.lockout.username_of"
AXES_CLIENT_IP_CALLABLE = "gongzhi.accounts.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "gongzhi.accounts.lockout.lockout_response"
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_VERBOSE = False
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on every request without it
MEDIA_ROOT = VAR_DIR / "media"

# Map tiles: blank by default so the map works on a closed network; set e.g. a Tianditu URL.
MAP_TILE_URL = os.environ.get("GONGZHI_MAP_TILE_URL", "")
# Shown in the map's corner with the tiles (the provider's terms ask for it), e.g. "© 天地图".
MAP_TILE_ATTRIBUTION = os.environ.get("GONGZHI_MAP_TILE_ATTRIBUTION", "")

# Uploads: a grid file of a whole city is a few MB; refuse anything silly.
DATA_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 50 * 1024 * 1024
GRID_OVERLAP_TOLERANCE_M2 = float(os.environ.get("GONGZHI_GRID_OVERLAP_TOLERANCE_M2", "1.0"))
AGREEMENT_REMINDER_DAYS = int(os.environ.get("GONGZHI_AGREEMENT_REMINDER_DAYS", "30"))
# Clear reads of personal data (unmask, page or API) per user per hour, counted from the access log.
UNMASK_PER_HOUR = int(os.environ.get("GONGZHI_UNMASK_PER_HOUR", "30"))
# Time bank: a manual credit above this many hours waits for a second staff member to approve it.
TIMEBANK_SECOND_APPROVAL_HOURS = os.environ.get("GONGZHI_TIMEBANK_SECOND_APPROVAL_HOURS", "8")
# Volunteering: a stay at an activity shorter than this many minutes credits no hours.
VOLUNTEER_MIN_STAY_MINUTES = os.environ.get("GONGZHI_VOLUNTEER_MIN_STAY_MINUTES", "15")

# Duplicate suggestions: same category within this many metres and days. Hotspots (未诉先办):
# at least MIN_COUNT appeals of one category within RADIUS_M of a centre and within DAYS.
APPEAL_DUPLICATE_RADIUS_M = int(os.environ.get("GONGZHI_APPEAL_DUPLICATE_RADIUS_M", "200"))
APPEAL_DUPLICATE_DAYS = int(os.environ.get("GONGZHI_APPEAL_DUPLICATE_DAYS", "7"))
APPEAL_HOTSPOT_MIN_COUNT = int(os.environ.get("GONGZHI_APPEAL_HOTSPOT_MIN_COUNT", "5"))
APPEAL_HOTSPOT_RADIUS_M = int(os.environ.get("GONGZHI_APPEAL_HOTSPOT_RADIUS_M", "300"))
APPEAL_HOTSPOT_DAYS = int(os.environ.get("GONGZHI_APPEAL_HOTSPOT_DAYS", "14"))

# Deadlines (`gongzhi sweep`, run by `gongzhi worker`): a step is "due soon" once less than this
# fraction of its time is left (urgent respond 2 h → the last 30 min; normal resolve 7 d → 42 h);
# a resolved appeal nobody rated closes after APPEAL_AUTO_CLOSE_DAYS; the worker sweeps this often.
APPEAL_DUE_SOON_FRACTION = float(os.environ.get("GONGZHI_APPEAL_DUE_SOON_FRACTION", "0.25"))
APPEAL_AUTO_CLOSE_DAYS = int(os.environ.get("GONGZHI_APPEAL_AUTO_CLOSE_DAYS", "7"))
# Work-order deadlines (whistle: report for duty, resolve) lie at most this many days ahead.
DEADLINE_HORIZON_DAYS = int(os.environ.get("GONGZHI_DEADLINE_HORIZON_DAYS", "90"))
SWEEP_INTERVAL_SECONDS = int(os.environ.get("GONGZHI_SWEEP_INTERVAL_SECONDS", "60"))
# The share of the clock a sweep may work (core.pacing): a heavy sweep (the first after a long stop) pauses
# between rows so that it never takes the CPU, the database and the audit chain's head from the web tier.
SWEEP_DUTY = float(os.environ.get("GONGZHI_SWEEP_DUTY", "0.25"))
# Retention (PIPL art. 19): `gongzhi anonymise` strips reporters from records closed longer ago than this.
GONGZHI_RETENTION_YEARS = float(os.environ.get("GONGZHI_RETENTION_YEARS", "3"))
# How often `gongzhi worker` looks for queued appeals (asynchronous submits, Prefer: respond-async).
APPEAL_INTAKE_POLL_SECONDS = float(os.environ.get("GONGZHI_APPEAL_INTAKE_POLL_SECONDS", "0.5"))
# Uploaded photos with more pixels are refused (decompression bombs); see core.photos.
PHOTO_MAX_PIXELS = int(os.environ.get("GONGZHI_PHOTO_MAX_PIXELS", "40000000"))
# How long a processed asynchronous submit (and its status URL) is kept; its appeal is kept for good.
APPEAL_INTAKE_KEEP_DAYS = int(os.environ.get("GONGZHI_APPEAL_INTAKE_KEEP_DAYS", "30"))

# Notifications: in-app always; email to users with an address through EMAIL_BACKEND (console by
# default; e.g. django.core.mail.backends.smtp.EmailBackend with EMAIL_HOST … in production).
EMAIL_BACKEND = os.environ.get("GONGZHI_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("GONGZHI_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("GONGZHI_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("GONGZHI_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("GONGZHI_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("GONGZHI_EMAIL_USE_TLS", "0") == "1"
EMAIL_USE_SSL = os.environ.get("GONGZHI_EMAIL_USE_SSL", "0") == "1"
EMAIL_TIMEOUT = int(os.environ.get("GONGZHI_EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("GONGZHI_EMAIL_FROM", "gongzhi@localhost")
NOTIFY_EMAIL_MAX_ATTEMPTS = int(os.environ.get("GONGZHI_NOTIFY_EMAIL_MAX_ATTEMPTS", "5"))
NOTIFY_EMAIL_LEASE_SECONDS = int(os.environ.get("GONGZHI_NOTIFY_EMAIL_LEASE_SECONDS", "300"))
# Links in emails point here.
SITE_URL = os.environ.get("GONGZHI_SITE_URL", "http://127.0.0.1:8000")

SESSION_COOKIE_HTTPONLY = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if not DEBUG else None
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
# Production behind a TLS-terminating proxy (which sets X-Forwarded-Proto): plain HTTP is redirected
# and browsers are told to use HTTPS only. /healthz is exempt so a load balancer may probe over HTTP.
SECURE_SSL_REDIRECT = not DEBUG and os.environ.get("GONGZHI_SECURE_SSL_REDIRECT", "1") == "1"
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = 0 if DEBUG else int(os.environ.get("GONGZHI_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = os.environ.get("GONGZHI_HSTS_INCLUDE_SUBDOMAINS", "1") == "1"
# Preloading commits the whole domain to HTTPS in browsers for good: an operator's choice, off by
# default (then Django's reminder about it, security.W021, is silenced on purpose).
SECURE_HSTS_PRELOAD = os.environ.get("GONGZHI_HSTS_PRELOAD", "0") == "1"
if not SECURE_HSTS_PRELOAD:
    SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "security.W021"]
SECURE_CONTENT_TYPE_NOSNIFF = True
# Tile servers that check their key against the Referer (Tianditu's browser keys) need
# "strict-origin-when-cross-origin", which sends only the origin to them.
SECURE_REFERRER_POLICY = os.environ.get("GONGZHI_REFERRER_POLICY", "same-origin")
X_FRAME_OPTIONS = "DENY"


def _tile_source(url: str) -> list[str]:
    """The CSP source for a Leaflet tile URL template: its scheme and host, with a `{s}` subdomain
    label as `*` (e.g. https://{s}.tile.osm.org/{z}/{x}/{y}.png -> https://*.tile.osm.org)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return []  # blank or relative to this site: 'self' covers it
    labels = parts.netloc.split(".")
    if "{" in labels[0]:
        labels[0] = "*"
    host = ".".join(labels)
    return [f"{parts.scheme}://{host}" if "{" not in host else f"{parts.scheme}:"]


# Content-Security-Policy (django-csp): scripts only from this site or with the page's nonce
# (`nonce="{{ request.csp_nonce }}"`), no inline event handlers, no eval. Styles may be inline
# (Leaflet, ECharts' tooltip and the templates' <style> blocks); a style cannot run script.
# The API's Swagger page loads its own CDN scripts and is left out.
CONTENT_SECURITY_POLICY = {
    "EXCLUDE_URL_PREFIXES": ["/api/v1/docs"],
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *_tile_source(MAP_TILE_URL)],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GONGZHI_LOG_LEVEL", "WARNING")},
}
