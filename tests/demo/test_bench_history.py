"""bench/appeal_history.py writes appeals with COPY (PostgreSQL) or INSERT (SQLite) by column name,
past the models: a column added to Appeal without a value there broke `bench/load.py` and
`bench/appeals.py` at city scale. A small history on the small demo keeps the two in step."""

import datetime as dt
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from gongzhi.appeals.models import Appeal, AppealEvent
from gongzhi.demo import seed

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import appeal_history as history  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_years_history_is_written_and_reads_back_through_the_models(monkeypatch):
    call_command("seed_categories", verbosity=0)  # a flush after an earlier transactional test empties them
    seed.seed("small", log=lambda _line: None)
    monkeypatch.setattr(history, "RESIDENTS", 30)
    history.ensure_staff(log=lambda _line: None)
    before = Appeal.objects.count()
    out = history.generate(history.load_world(7), 400, end=timezone.now(), seed=7, log=lambda _line: None)
    added = Appeal.objects.count() - before
    assert added >= 400, out
    rows = list(Appeal.objects.order_by("-id")[:added])  # every column read back into the model
    assert {a.address for a in rows} == {""}
    assert all(a.submitted_at > timezone.now() - dt.timedelta(days=370) for a in rows)
    assert AppealEvent.objects.filter(appeal__in=rows).count() >= added
