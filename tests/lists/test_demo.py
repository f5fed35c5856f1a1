"""The demo lists seed: made through the services, in several states, visible to the demo accounts, idempotent."""

import pytest
from django.contrib.auth import get_user_model

from gongzhi.core import geo
from gongzhi.demo import seed
from gongzhi.demo.lists import SERVICE_NEEDS, WISHES, seed_lists
from gongzhi.lists import selectors
from gongzhi.lists.models import Need, Project, Resource


def quiet(_line):
    pass


@pytest.mark.django_db
def test_seed_lists_after_the_small_seed_is_complete_and_idempotent():
    seed.seed("small", log=quiet, appeals=False)
    try:
        made = seed_lists(log=quiet)
        assert made["needs"] == len(WISHES) + len(SERVICE_NEEDS) == Need.objects.count()
        assert made["resources"] >= 5 and made["projects"] >= 10
        states = set(Need.objects.values_list("state", flat=True))
        assert {"open", "dispatched", "accepted", "rated", "claimed"} <= states
        assert set(Project.objects.values_list("state", flat=True)) >= {"dispatched", "declined", "accepted", "done"}
        users = {u.username: u for u in get_user_model().objects.filter(
            username__in=["resident", "member", "community", "liaison"])}
        assert selectors.needs_visible_to(users["community"]).count() == Need.objects.count()
        assert selectors.my_orders(users["member"]).exists() and selectors.my_orders(users["liaison"]).exists()
        assert len(selectors.wish_wall()) >= 6
        counts = {Need: Need.objects.count(), Project: Project.objects.count(), Resource: Resource.objects.count()}
        again = seed_lists(log=quiet)
        assert again == {"needs": 0, "resources": 0, "projects": 0}
        assert counts == {m: m.objects.count() for m in counts}
    finally:
        geo.invalidate()
