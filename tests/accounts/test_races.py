"""Concurrent account writes leave exactly one winner and a clear 409 for the other: two grants of
the same role (the unique constraint cannot see these duplicates, its unused scope columns are
NULL, so the service locks the user row) and two accounts with the same username."""

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connections

from gongzhi.accounts import services
from gongzhi.accounts.models import RoleAssignment
from gongzhi.core.errors import Conflict
from tests.race import assert_reported, join_all

pytestmark = pytest.mark.django_db(transaction=True)


def _race(fn, n=2):
    barrier, results = threading.Barrier(n), {}

    def run(i):
        barrier.wait()
        try:
            fn(i)
            results[i] = "ok"
        except Conflict as exc:
            results[i] = exc.code
        except Exception as exc:  # anything else is a failure the assertions should show
            results[i] = repr(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    join_all(threads, 30)
    assert_reported(results, n)
    return sorted(results.values())


@pytest.mark.parametrize("round_", range(2))
def test_two_identical_grants_at_once_leave_one_role(acc, round_):
    outcome = _race(lambda i: services.role_assign(actor=acc.admin, user=acc.subject, role="party_member",
                                                   place=acc.tree["beining"]))
    assert outcome == ["duplicate_role", "ok"]
    assert RoleAssignment.objects.filter(user=acc.subject, role="party_member").count() == 1


def test_two_accounts_with_one_username_at_once_leave_one(acc):
    outcome = _race(lambda i: services.user_create(actor=acc.admin, username="twin", full_name=f"双胞胎{i}",
                                                   password="Secret-pass-2024", role="resident",
                                                   place=acc.tree["beining"]))
    assert outcome == ["duplicate_username", "ok"]
    assert get_user_model().objects.filter(username="twin").count() == 1
    assert RoleAssignment.objects.filter(user__username="twin").count() == 1
