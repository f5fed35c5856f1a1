"""Work-order deadlines lie between now and the configured horizon (DEADLINE_HORIZON_DAYS, default 90):
9999-12-31 and the like are refused with a clear message at every door, and nothing is created."""

import datetime as dt

import pytest
from django.utils import timezone

from gongzhi.appeals import services
from gongzhi.appeals.models import WhistleSummons
from gongzhi.core.errors import ValidationFailed
from tests.appeals.conftest import at_street, bearer

pytestmark = pytest.mark.django_db


def _whistle(client, who, appeal, org, **kw):
    body = {"version": appeal.version, "summons": [{"organization_id": org.pk, **kw}]}
    return client.post(f"/api/v1/appeals/{appeal.number}/whistle", body, content_type="application/json", **who)


@pytest.mark.parametrize("field", ["report_due", "resolve_due"])
@pytest.mark.parametrize("when", ["9999-12-31T23:59:59+08:00", "9999-12-31T23:59:59Z", "2999-01-01T00:00"])
def test_a_deadline_beyond_the_horizon_is_refused_through_the_api(client, city, depts, field, when):
    a = at_street(city)
    r = _whistle(client, bearer(city.so), a, depts.cg, **{field: when})
    assert r.status_code == 400, r.content
    err = r.json()["error"]
    assert err["code"] == "deadline_too_far" and "90" in err["message"]
    assert not WhistleSummons.objects.exists()


def test_a_deadline_beyond_the_horizon_is_refused_on_the_form(client, city, depts):
    a = at_street(city)
    client.force_login(city.so)
    r = client.post(f"/appeals/{a.number}/whistle/", {
        "version": a.version, "organization": [str(depts.cg.pk)], "report_due": ["9999-12-31 23:59"],
        "resolve_due": [""]})
    assert r.status_code == 400
    assert "90" in r.content.decode()
    assert not WhistleSummons.objects.exists()


def test_the_horizon_is_a_setting_and_its_edge_is_accepted(client, city, depts, settings):
    settings.DEADLINE_HORIZON_DAYS = 10
    a = at_street(city)
    far = timezone.now() + dt.timedelta(days=11)
    with pytest.raises(ValidationFailed) as e:
        services.whistle_blow(actor=city.so, appeal=a.number, version=a.version,
                              summons=[{"organization_id": depts.cg.pk, "resolve_due": far}])
    assert e.value.code == "deadline_too_far"
    near = timezone.now() + dt.timedelta(days=9, hours=23)
    r = _whistle(client, bearer(city.so), a, depts.cg, resolve_due=near.isoformat())
    assert r.status_code == 200, r.content
    assert WhistleSummons.objects.get().resolve_due == near
