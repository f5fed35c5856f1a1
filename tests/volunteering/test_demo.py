"""The demo volunteering seed: made through the services, visible to the demo accounts, idempotent."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from gongzhi.core import geo
from gongzhi.demo import seed
from gongzhi.demo.volunteering import seed_volunteering
from gongzhi.timebank import services as tb
from gongzhi.volunteering.models import Activity, DualReport, SignUp, Team


def quiet(_line):
    pass


@pytest.mark.django_db
def test_seed_volunteering_after_the_small_seed_is_complete_and_idempotent():
    seed.seed("small", log=quiet, appeals=False)
    try:
        made = seed_volunteering(log=quiet)
        assert made["teams"] == 3 and made["dual_reports"] == 2 and made["activities"] == 5
        assert sorted(Team.objects.values_list("name", flat=True)) == sorted(["红扳手", "追光", "啄木鸟"])
        assert set(DualReport.objects.values_list("kind", "state")) == {("member", "approved"), ("unit", "approved")}
        assert Activity.objects.filter(state="finished").count() == 2
        full = Activity.objects.get(title="周末课业辅导")
        assert full.signups.filter(state="signed").count() == 2 and full.signups.filter(state="waiting").count() >= 1
        member = get_user_model().objects.get(username="member").person
        assert tb.balance(member) == Decimal("5")
        assert SignUp.objects.filter(person=member, checked_out_at__isnull=False).count() == 2
        again = seed_volunteering(log=quiet)
        assert set(again.values()) == {0}
    finally:
        geo.invalidate()
