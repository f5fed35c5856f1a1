"""schemathesis over the whole /api/v1: examples, coverage and fuzzing phases, a bounded number of
examples per operation. Every answer: no 5xx, a status the OpenAPI documents, a body matching it.

The schema is read from the Django app itself (WSGI, in-process, inside the test's transaction), and
every call carries the API token of a staff member with broad scope over a small city from the
factories, so that most operations reach their business rules rather than stopping at 401/404.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.config import SchemathesisConfig

# Bounded so that the whole run takes a few minutes on SQLite and PostgreSQL (fuzzing examples per
# operation; the examples and coverage phases are deterministic and bounded by the schema itself).
MAX_EXAMPLES = int(os.environ.get("GONGZHI_SCHEMATHESIS_MAX_EXAMPLES", "8"))
SEED = int(os.environ.get("GONGZHI_SCHEMATHESIS_SEED", "13"))  # fixed: CI runs are reproducible

CONFIG = SchemathesisConfig.from_dict({
    "seed": SEED,
    "suppress-health-check": ["all"],
    "generation": {"max-examples": MAX_EXAMPLES, "database": "none", "deterministic": True},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True},
               "stateful": {"enabled": False}},
    "checks": {"enabled": False, "not_a_server_error": {"enabled": True},
               "status_code_conformance": {"enabled": True},
               "content_type_conformance": {"enabled": True},
               "response_schema_conformance": {"enabled": True}},
})

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application(), config=CONFIG)


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Requests go to the WSGI app, not through Django's test client: keep Django from closing the
    connection (and with it the test's transaction) at the start and end of each request, as the
    test client does."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def auth(tree):
    from gongzhi.accounts.models import ApiToken
    from gongzhi.appeals import services as appeal_services
    from gongzhi.org.models import Organization, Person
    from tests.factories import grid_tree, user

    call_command("seed_categories", verbosity=0)
    grid_tree(tree["beining"], 108.32, 22.82, size=0.01)
    staff = user("staff", ("community_worker", tree["beining"]), ("street_officer", tree["street"]),
                 ("district_admin", tree["district"]), first_name="李社工")
    Person.objects.create(name="李社工", registered_community=tree["beining"], user=staff)
    Organization.objects.create(kind="state_enterprise", name="南宁供电局", place=tree["beining"])
    appeal_services.appeal_submit(actor=staff, title="夜间噪声扰民", text="楼下烧烤店每晚营业到凌晨两点。",
                                  category="noise", lon=108.3225, lat=22.8225)
    _tok, key = ApiToken.issue(staff)
    return {"Authorization": f"Bearer {key}"}


@pytest.mark.django_db
@schema.parametrize()
def test_api_v1_conforms_to_its_openapi(case, auth):
    case.call_and_validate(headers=auth)
