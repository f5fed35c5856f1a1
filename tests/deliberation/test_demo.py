"""The demo deliberation seed: a published roster for 北宁社区联合党委, visible to the demo liaison."""

import pytest
from django.utils import timezone

from gongzhi.core import geo
from gongzhi.deliberation import selectors
from gongzhi.deliberation.models import ChairTerm, Proposal
from gongzhi.demo import seed
from gongzhi.demo.deliberation import seed_deliberation


def quiet(_line):
    pass


@pytest.mark.django_db
def test_seed_deliberation_publishes_this_year_drafts_the_next_and_is_idempotent(django_user_model):
    seed.seed("small", log=quiet, appeals=False)
    try:
        made = seed_deliberation(log=quiet)
        year = timezone.localdate().year
        assert {k: made[k] for k in ("chair_months", "chair_months_published", "meeting_series")} == {
            "chair_months": 24, "chair_months_published": 12, "meeting_series": 2}
        # 逢四说事 and 老友议事会 from January to 90 days ahead, four joint meetings, maybe a theme day.
        assert made["meetings"] > 36 + 4
        assert ChairTerm.objects.filter(month__year=year, published_at__isnull=False).count() == 12
        assert ChairTerm.objects.filter(month__year=year + 1, published_at__isnull=True).count() == 12
        liaison = django_user_model.objects.get(username="liaison")
        committee = ChairTerm.objects.first().committee
        view = selectors.roster_of(liaison, committee.pk, year)
        assert view.drafts and any(r.mine for r in view.months)
        # Every unit chairs once before any chairs twice.
        units = [r.term.unit_id for r in view.months]
        n = len(set(units))
        assert all(len(set(units[k:k + n])) == min(n, 12 - k) for k in range(12))
        # 大修厂小区's register and two decided owners' votes: the major matter passed, the other failed its quorum.
        assert made["owned_units"] == 36 and made["proposals"] == 2
        decided = {p.matter: p for p in Proposal.objects.all()}
        assert decided["major"].passed is True and decided["major"].result["rule"] == "major_3_4"
        assert decided["ordinary"].passed is False and decided["ordinary"].result["rule"] == "quorum"
        again = seed_deliberation(log=quiet)
        assert {k: v for k, v in again.items() if k != "proposals_passed"} == {
            "chair_months": 0, "chair_months_published": 0, "meeting_series": 0, "meetings": 0, "owned_units": 0,
            "proposals": 0}
    finally:
        geo.invalidate()
