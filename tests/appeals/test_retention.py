"""Retention (PIPL art. 19): `gongzhi anonymise` strips reporters from old closed appeals, keeps statistics."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.forms.models import model_to_dict
from django.utils import timezone

from gongzhi.appeals import kpi, services
from gongzhi.appeals.models import Appeal, AppealEvent, AppealIntake, AppealRollup
from gongzhi.core.models import AuditEntry
from gongzhi.notifications.models import Notification
from tests.appeals.conftest import submit

PHONE = "13812345678"
ID = "450102199001011234"
YEARS_AGO = timezone.now() - dt.timedelta(days=365 * 4)

STAT_FIELDS = ("category", "grid", "community", "grid_path", "place_path", "lon", "lat", "source", "urgency",
               "state", "submitted_at", "updated_at", "accepted_at", "resolved_at", "rated_at", "closed_at",
               "respond_due", "resolve_due", "reopen_count", "bounce_count", "handon_count", "rating_resolved",
               "satisfaction", "owner", "owner_level", "anonymous", "consent_recorded")


def _closed_by_resident(city):
    a = submit(city.jumin, text=f"噪声扰民，请打 {PHONE} 联系我，身份证 {ID}。")
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note=f"已电话 {PHONE} 回访")
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=True, satisfaction="satisfied",
                             comment=f"满意，有事打 {PHONE}")
    return services.appeal_close(actor=city.cw, appeal=a)


def _hotline_rejected(city):
    a = services.appeal_submit(actor=city.cw, category="noise", text="来电反映噪声", title="来电", lon=108.3225,
                               lat=22.8225, source="hotline", reporter_name="张大爷", reporter_phone=PHONE,
                               consent_recorded=True, address="民主路 12 号 3 单元 402")
    assert a.address == "民主路 12 号 3 单元 402"
    return services.appeal_reject(actor=city.cw, appeal=a, reason="不属于受理范围", redirect_to="12345")


def _age(*appeals, when=YEARS_AGO):
    Appeal.objects.filter(pk__in=[a.pk for a in appeals]).update(closed_at=when)


def _rollups():
    return sorted(tuple(sorted((k, v) for k, v in model_to_dict(r).items() if k != "id"))
                  for r in AppealRollup.objects.all())


def _stats(a):
    a.refresh_from_db()
    return {f: getattr(a, f) for f in STAT_FIELDS}


def _run(*args):
    out = io.StringIO()
    call_command("anonymise", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def closed(city):
    old = _closed_by_resident(city)
    old_hotline = _hotline_rejected(city)
    recent = _closed_by_resident(city)
    open_ = submit(city.jumin, text=f"打 {PHONE}")
    _age(old, old_hotline)
    Notification.objects.create(recipient=city.jumin, kind="result", title="已办结", appeal_number=old.number,
                                created_at=timezone.now())
    return old, old_hotline, recent, open_


def test_old_closed_appeals_lose_the_reporter_and_keep_their_statistics(city, closed):
    old, old_hotline, recent, open_ = closed
    stats = {a.pk: _stats(a) for a in closed}
    rollups = _rollups()
    audit_before = AuditEntry.objects.count()
    out = _run("--older-than", "3")
    assert "appeals 2" in out

    old.refresh_from_db()
    assert old.anonymised_at is not None and old.reporter_id is None and old.submitted_by_id is None
    assert PHONE not in old.text and ID not in old.text and PHONE not in old.rating_comment
    assert "138****5678" in old.text
    assert not Notification.objects.filter(appeal_number=old.number, recipient=city.jumin).exists()
    assert Notification.objects.filter(appeal_number=old.number).exists()  # staff inboxes keep theirs
    events = list(AppealEvent.objects.filter(appeal=old))
    assert all(e.actor_id != city.jumin.pk for e in events)
    assert all(PHONE not in e.note and PHONE not in json.dumps(e.data, ensure_ascii=False) for e in events)
    assert any(e.actor_id == city.gw1.pk for e in events)  # staff stay named
    old_hotline.refresh_from_db()
    assert (old_hotline.reporter_name_enc, old_hotline.reporter_name_masked, old_hotline.reporter_phone_enc,
            old_hotline.reporter_phone_hash, old_hotline.reporter_phone_masked) == ("", "", "", "", "")
    assert old_hotline.address == ""  # a caller's dictated address is often their home
    assert old_hotline.submitted_by_id == city.cw.pk  # the staff member who typed the call in stays
    for a in (recent, open_):
        a.refresh_from_db()
        assert a.anonymised_at is None and a.reporter_id == city.jumin.pk and PHONE in a.text

    entries = list(AuditEntry.objects.filter(action="appeals.anonymise"))
    assert len(entries) == 1 and entries[0].after["count"] == 2
    assert set(entries[0].after["numbers"]) == {old.number, old_hotline.number}
    assert AuditEntry.objects.count() == audit_before + 1  # the needs step found nothing, wrote nothing
    assert {a.pk: _stats(a) for a in closed} == stats
    assert _rollups() == rollups
    kpi.rebuild()  # the timeline still replays to the same KPI figures
    assert _rollups() == rollups


def test_a_second_run_changes_nothing(city, closed):
    _run("--older-than", "3")
    snapshot = [model_to_dict(a) for a in Appeal.objects.order_by("id")]
    audit_count = AuditEntry.objects.count()
    assert "appeals 0" in _run("--older-than", "3")
    assert [model_to_dict(a) for a in Appeal.objects.order_by("id")] == snapshot
    assert AuditEntry.objects.count() == audit_count


def test_dry_run_counts_and_changes_nothing(city, closed):
    snapshot = [model_to_dict(a) for a in Appeal.objects.order_by("id")]
    audit_count = AuditEntry.objects.count()
    out = _run("--older-than", "3", "--dry-run", "--json")
    assert json.loads(out)["anonymised"]["appeals"] == 2
    assert [model_to_dict(a) for a in Appeal.objects.order_by("id")] == snapshot
    assert AuditEntry.objects.count() == audit_count


def test_the_period_comes_from_the_setting_and_batches_are_audited_each(city, closed, settings):
    settings.GONGZHI_RETENTION_YEARS = 5
    assert "appeals 0" in _run()
    settings.GONGZHI_RETENTION_YEARS = 3
    assert "batch 2" in _run("--batch", "1")
    assert AuditEntry.objects.filter(action="appeals.anonymise").count() == 2


@pytest.mark.parametrize("value", ["0", "-1", "abc", "nan"])
def test_bad_period_is_refused(db, value):
    with pytest.raises(CommandError):
        call_command("anonymise", "--older-than", value, stdout=io.StringIO(), stderr=io.StringIO())


def test_intakes_are_deleted(city, closed):
    old = closed[0]
    AppealIntake.objects.create(submitted_by=city.jumin, received_at=old.submitted_at, state="done", appeal=old,
                                processed_at=old.submitted_at, title=old.title)
    _run("--older-than", "3")
    assert not AppealIntake.objects.filter(appeal=old).exists()


def test_an_anonymised_appeal_still_shows_to_staff_and_no_longer_to_its_former_reporter(client, city, closed):
    old, old_hotline = closed[0], closed[1]
    _run("--older-than", "3")
    for a in (old, old_hotline):
        client.force_login(city.cw)
        html = client.get(f"/appeals/{a.number}/").content.decode()
        assert PHONE not in html and "张大爷" not in html and "张居民" not in html
        r = client.get(f"/api/v1/appeals/{a.number}", HTTP_AUTHORIZATION=bearer_header(city.cw))
        assert r.status_code == 200 and PHONE not in r.content.decode()
    client.force_login(city.jumin)
    assert old.number not in client.get("/appeals/mine/").content.decode()


def bearer_header(u) -> str:
    from gongzhi.accounts.models import ApiToken

    _tok, key = ApiToken.issue(u)
    return f"Bearer {key}"
