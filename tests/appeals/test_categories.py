"""The seeded category taxonomy: by migration and by an idempotent command that keeps the district's edits."""

import io

import pytest
from django.core.management import call_command

from gongzhi.appeals.models import Category

pytestmark = pytest.mark.django_db

REQUIRED = ["市容环境", "道路交通与停车", "物业管理", "设施维修", "矛盾纠纷", "治安隐患", "消防安全", "噪声扰民",
            "养老助残", "就业社保", "卫生健康", "其他"]


def test_the_migration_seeds_at_least_the_twelve_required_categories():
    call_command("seed_categories", verbosity=0)  # in case a transactional test flushed the migration's rows
    names = set(Category.objects.values_list("name", flat=True))
    assert set(REQUIRED) <= names and len(names) >= 12
    c = Category.objects.get(code="noise")
    assert (c.urgent_respond_hours, c.urgent_resolve_hours, c.normal_respond_hours, c.normal_resolve_hours) == (
        2, 24, 24, 168)


def test_seed_command_is_idempotent_and_keeps_edits():
    call_command("seed_categories", verbosity=0)
    total = Category.objects.count()
    Category.objects.filter(code="noise").update(normal_resolve_hours=72)
    Category.objects.filter(code="pets").delete()
    out = io.StringIO()
    call_command("seed_categories", stdout=out)
    assert "1 created" in out.getvalue() and Category.objects.count() == total
    assert Category.objects.get(code="noise").normal_resolve_hours == 72
    call_command("seed_categories", "--reset-deadlines", stdout=out)
    assert Category.objects.get(code="noise").normal_resolve_hours == 168
