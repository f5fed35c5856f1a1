"""Who sees which appeal: the Python test (can_view) and the SQL filter (visible_q) always agree."""

import pytest

from gongzhi.appeals import selectors, services
from gongzhi.appeals.permissions import can_view
from tests.appeals.conftest import IN_XINGNING, submit
from tests.factories import user

pytestmark = pytest.mark.django_db

# (appeal, user) → visible. "here": 北宁 micros[0]; "there": 兴宁; "hotline": entered by gw1 for a resident.
EXPECTED = {
    "jumin": {"here", "anon"},
    "linju": {"there"},
    "gw1": {"here", "anon", "hotline"},
    "gw2": {"here", "anon", "hotline"},
    "leader": {"here", "anon", "hotline"},
    "gw_x": {"there"},
    "cw": {"here", "anon", "hotline"},
    "cw_x": {"there"},
    "so": {"here", "anon", "hotline", "there"},
    "admin": {"here", "anon", "hotline", "there"},
    "auditor": {"here", "anon", "hotline", "there"},
    "nobody": set(),
}


def test_visibility_matrix(city):
    appeals = {
        "here": submit(city.jumin),
        "anon": submit(city.jumin, anonymous=True),
        "there": submit(city.linju, point=IN_XINGNING),
        "hotline": submit(city.gw1, source="hotline", reporter_name="王奶奶", consent_recorded=True),
    }
    city.nobody = user("nobody")
    for name, visible in EXPECTED.items():
        u = getattr(city, name)
        seen = {k for k, a in appeals.items() if selectors.appeals_visible_to(u).filter(pk=a.pk).exists()}
        assert seen == visible, name
        assert {k for k, a in appeals.items() if can_view(u, a)} == visible, name


def test_the_owner_sees_what_they_own_even_without_a_covering_role(city):
    a = submit(city.jumin)
    stand_in = user("stand_in")  # e.g. a cadre from elsewhere given the appeal by an administrator
    a.__class__.objects.filter(pk=a.pk).update(owner=stand_in)
    a.refresh_from_db()
    assert can_view(stand_in, a) and selectors.appeals_visible_to(stand_in).filter(pk=a.pk).exists()
    assert services.appeal_accept(actor=stand_in, appeal=a).state == "accepted"


def test_system_and_superuser_see_everything(city):
    a = submit(city.jumin)
    root = user("root", is_superuser=True)
    assert can_view(None, a) and can_view(root, a)
    assert selectors.appeals_visible_to(root).filter(pk=a.pk).exists()
