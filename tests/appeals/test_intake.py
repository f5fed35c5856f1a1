"""Asynchronous submit (Prefer: respond-async): 202 and a status URL now, the appeal from a batch.

Through the JSON API and the services: what is checked at once, what the batch writes (the same
rows a synchronous submit writes: number, owner, timeline, rollups, notification, audit), keys
that make retries safe across both doors, failures at processing time, and two workers at once.
"""

from __future__ import annotations

import json
import threading

import pytest
from django.core.management import call_command
from django.db import connections
from django.test import Client

from gongzhi.appeals import intake, kpi
from gongzhi.appeals.models import Appeal, AppealEvent, AppealIntake, Category
from gongzhi.core import audit
from gongzhi.core.models import AuditEntry
from gongzhi.notifications.models import Notification
from tests.appeals.conftest import IN_GRID, IN_XINGNING, OUTSIDE, bearer, submit
from tests.appeals.test_kpi import nonzero, snapshot
from tests.race import join_all

pytestmark = pytest.mark.django_db

ASYNC = {"HTTP_PREFER": "respond-async"}


def body(point=IN_GRID, **kw):
    out = {"category": "noise", "text": "楼下烧烤店每晚营业到凌晨两点，噪声很大。", "title": "夜间噪声扰民",
           "lon": point[0], "lat": point[1]}
    out.update(kw)
    return out


def post(client, who, data, **headers):
    return client.post("/api/v1/appeals", json.dumps(data), content_type="application/json", **who, **headers)


def test_a_queued_submit_answers_202_and_becomes_the_same_appeal_a_synchronous_one_would(client, city):
    who = bearer(city.jumin)
    r = post(client, who, body(), **ASYNC)
    assert r.status_code == 202, r.content
    got = r.json()
    assert got["state"] == "pending" and got["appeal"] is None and got["replayed"] is False
    assert r["Location"] == got["status_url"] == f"/api/v1/appeals/intake/{got['token']}"
    assert r["Preference-Applied"] == "respond-async"
    assert not Appeal.objects.exists()
    assert client.get(got["status_url"], **who).json()["state"] == "pending"

    assert intake.drain() == (1, 0)
    status = client.get(got["status_url"], **who).json()
    assert status["state"] == "done" and status["error"] is None and status["processed_at"]
    a = Appeal.objects.get(number=status["appeal"]["number"])
    row = AppealIntake.objects.get(token=got["token"])
    assert (a.owner, a.owner_level, a.state, a.source, a.reporter) == (city.gw1, "grid", "submitted", "api", city.jumin)
    assert a.submitted_at == row.received_at  # deadlines run from when the resident sent it
    assert list(AppealEvent.objects.filter(appeal=a).values_list("action", flat=True)) == ["submit"]
    assert Notification.objects.filter(recipient=city.gw1, appeal_number=a.number, kind="assigned").count() == 1
    assert AuditEntry.objects.filter(action="appeal.submit", object_id=str(a.pk)).count() == 1
    detail = client.get(status["appeal"]["url"], **who).json()
    assert detail["number"] == a.number and detail["timeline"][0]["action"] == "submit"
    # The rollups are exactly what replaying the timeline gives, and the audit chain is whole.
    before = snapshot()
    kpi.rebuild()
    assert snapshot() == before
    assert audit.verify()[0]
    assert row.payload_enc == ""  # nothing of the request is kept once it is an appeal


def test_a_batch_numbers_in_order_counts_once_each_and_keeps_the_chain(client, city):
    sync_first = submit(city.jumin)
    tokens = []
    for i in range(12):
        who = bearer(city.jumin if i % 2 else city.linju)
        point = IN_XINGNING if i % 3 == 0 else IN_GRID
        tokens.append(post(client, who, body(point, text=f"第 {i} 条"), **ASYNC).json()["token"])
    assert intake.process(limit=5) == (5, 0)
    assert intake.drain() == (7, 0)
    rows = list(AppealIntake.objects.filter(token__in=tokens).select_related("appeal").order_by("id"))
    numbers = [r.appeal.number for r in rows]
    assert len(set(numbers)) == 12 and numbers == sorted(numbers)
    assert all(n > sync_first.number for n in numbers)
    assert [r.appeal.text for r in rows] == [f"第 {i} 条" for i in range(12)]
    owners = {r.appeal.owner.username for r in rows}
    assert owners == {"gw1", "gw_x"}
    assert Notification.objects.filter(kind="assigned").count() == 13
    assert nonzero(city.tree["city"]) == {"submitted": 13}
    assert nonzero(city.tree["xingning"]) == {"submitted": 4}
    before = snapshot()
    kpi.rebuild()
    assert snapshot() == before
    assert audit.verify()[0]
    submit(city.jumin)  # a synchronous submit after the batch continues the day's sequence
    assert Appeal.objects.order_by("-id").first().number > max(numbers)


def test_bad_input_is_refused_at_once_and_nothing_is_queued(client, city):
    who = bearer(city.jumin)
    cases = [
        (body(category="flying_saucers"), "bad_category"),
        (body(OUTSIDE), "outside_grids"),
        (body(text="   "), "required"),
        (body(urgency="whenever"), "bad_urgency"),
        (body(source="martian"), "bad_source"),
        (body(lon=200), "bad_point"),
        (body(source="hotline", reporter_name="王大爷", consent_recorded=True), "forbidden"),
    ]
    for data, code in cases:
        r = post(client, who, data, **ASYNC)
        assert r.status_code in (400, 403), (data, r.content)
        assert r.json()["error"]["code"] == code, (data, r.json())
    r = post(client, who, body(), HTTP_IDEMPOTENCY_KEY="has a space", **ASYNC)
    assert r.json()["error"]["code"] == "bad_idempotency_key"
    assert post(client, {}, body(), **ASYNC).status_code == 401
    assert not AppealIntake.objects.exists()


def test_the_status_url_is_the_submitters_own(client, city):
    token = post(client, bearer(city.jumin), body(), **ASYNC).json()["token"]
    other = client.get(f"/api/v1/appeals/intake/{token}", **bearer(city.linju))
    assert other.status_code == 404 and other.json()["error"]["code"] == "intake_not_found"
    assert client.get(f"/api/v1/appeals/intake/{token}").status_code == 401
    assert client.get("/api/v1/appeals/intake/nope", **bearer(city.jumin)).status_code == 404


def test_a_retry_with_the_same_key_gets_the_same_token_and_one_appeal(client, city):
    who = bearer(city.jumin)
    first = post(client, who, body(), HTTP_IDEMPOTENCY_KEY="k-1", **ASYNC)
    again = post(client, who, body(), HTTP_IDEMPOTENCY_KEY="k-1", **ASYNC)
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["token"] == first.json()["token"] and again.json()["replayed"] is True
    intake.drain()
    late = post(client, who, body(), HTTP_IDEMPOTENCY_KEY="k-1", **ASYNC).json()
    assert late["token"] == first.json()["token"] and late["state"] == "done"
    sync = post(client, who, body(), HTTP_IDEMPOTENCY_KEY="k-1")
    assert sync.status_code == 200 and sync.json()["number"] == late["appeal"]["number"]
    assert Appeal.objects.count() == 1 and AppealIntake.objects.count() == 1
    # Another resident's identical key is theirs alone.
    assert post(client, bearer(city.linju), body(), HTTP_IDEMPOTENCY_KEY="k-1", **ASYNC).json()["token"] != late["token"]


def test_a_key_first_used_synchronously_resolves_to_that_appeal(client, city):
    who = bearer(city.jumin)
    made = post(client, who, body(), HTTP_IDEMPOTENCY_KEY="k-2").json()
    r = post(client, who, body(), HTTP_IDEMPOTENCY_KEY="k-2", **ASYNC)
    assert r.status_code == 202
    assert intake.drain() == (1, 0)
    status = client.get(r.json()["status_url"], **who).json()
    assert status["state"] == "done" and status["appeal"]["number"] == made["number"]
    assert Appeal.objects.count() == 1


def test_a_synchronous_retry_that_lands_before_the_batch_is_linked_not_duplicated(client, city):
    who = bearer(city.jumin)
    before = post(client, who, body(text="之前"), HTTP_IDEMPOTENCY_KEY="k-4", **ASYNC).json()["token"]
    token = post(client, who, body(), HTTP_IDEMPOTENCY_KEY="k-3", **ASYNC).json()["token"]
    after = post(client, who, body(text="之后"), **ASYNC).json()["token"]
    made = post(client, who, body(), HTTP_IDEMPOTENCY_KEY="k-3").json()
    assert intake.drain() == (3, 0)
    assert Appeal.objects.count() == 3
    assert AppealIntake.objects.get(token=token).appeal.number == made["number"]
    assert AppealIntake.objects.get(token=before).appeal.text == "之前"
    assert AppealIntake.objects.get(token=after).appeal.text == "之后"
    assert audit.verify()[0]


def test_a_request_the_database_refuses_fails_alone_and_the_queue_moves_on(client, city, monkeypatch):
    from django.db import IntegrityError

    from gongzhi.appeals import services

    real = services.write_submissions

    def refuse_poison(subs):
        if any(s.text == "毒" for s in subs):
            raise IntegrityError("simulated")
        return real(subs)

    monkeypatch.setattr(services, "write_submissions", refuse_poison)
    who = bearer(city.jumin)
    tokens = [post(client, who, body(text=t), **ASYNC).json()["token"] for t in ("一", "毒", "二")]
    assert intake.drain() == (2, 1)
    states = [AppealIntake.objects.get(token=t) for t in tokens]
    assert [r.state for r in states] == ["done", "failed", "done"]
    assert states[1].error_code == "write_failed" and states[1].appeal is None
    assert Appeal.objects.count() == 2 and intake.drain() == (0, 0)  # nothing left behind to retry


def test_a_category_added_a_moment_ago_is_accepted_and_one_retired_fails_at_processing(client, city):
    who = bearer(city.jumin)
    assert post(client, who, body(), **ASYNC).status_code == 202  # the active codes are now cached
    Category.objects.create(code="drones", name="无人机扰民", active=True)
    assert post(client, who, body(category="drones"), **ASYNC).status_code == 202
    assert intake.drain() == (2, 0)
    Category.objects.filter(code="drones").update(active=False)
    token = post(client, who, body(category="drones"), **ASYNC).json()["token"]  # within the cache's seconds
    assert intake.drain() == (0, 1)
    assert client.get(f"/api/v1/appeals/intake/{token}", **who).json()["error"]["code"] == "bad_category"
    assert Appeal.objects.count() == 2


def test_what_changed_before_processing_fails_the_intake_with_the_services_message(client, city):
    who = bearer(city.jumin)
    token = post(client, who, body(), **ASYNC).json()["token"]
    keep = post(client, who, body(category="city_appearance"), **ASYNC).json()["token"]
    Category.objects.filter(code="noise").update(active=False)
    assert intake.drain() == (1, 1)
    status = client.get(f"/api/v1/appeals/intake/{token}", **who).json()
    assert status["state"] == "failed" and status["appeal"] is None
    assert status["error"] == {"code": "bad_category", "message": "未知的诉求分类：noise，请从列表中选择。"}
    assert client.get(f"/api/v1/appeals/intake/{keep}", **who).json()["state"] == "done"
    assert Appeal.objects.count() == 1


def test_an_assisted_entry_is_stored_encrypted_and_forgotten_once_processed(client, city):
    who = bearer(city.cw)
    data = body(source="hotline", reporter_name="王大爷", reporter_phone="13800138000", consent_recorded=True)
    token = post(client, who, data, **ASYNC).json()["token"]
    row = AppealIntake.objects.get(token=token)
    assert "13800138000" not in row.payload_enc and "王大爷" not in row.payload_enc
    intake.drain()
    row.refresh_from_db()
    assert row.payload_enc == "" and row.state == "done"
    a = row.appeal
    assert (a.reporter, a.reporter_phone_masked, a.consent_recorded) == (None, "138****8000", True)


def test_the_worker_creates_queued_appeals(client, city):
    post(client, bearer(city.jumin), body(), **ASYNC)
    call_command("worker", "--once", stdout=open("/dev/null", "w"))
    assert Appeal.objects.count() == 1
    assert not AppealIntake.objects.filter(state="pending").exists()


def test_an_english_request_reads_its_failure_in_english(client, city):
    who = bearer(city.jumin)
    token = post(client, who, body(), HTTP_ACCEPT_LANGUAGE="en", **ASYNC).json()["token"]
    Category.objects.filter(code="noise").update(active=False)
    intake.drain()
    message = client.get(f"/api/v1/appeals/intake/{token}", **who).json()["error"]["message"]
    assert "noise" in message and "未知" not in message


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_create_each_queued_appeal_once(city):
    who = bearer(city.jumin)
    c = Client()
    for i in range(40):
        assert post(c, who, body(text=f"并发 {i}"), **ASYNC).status_code == 202
    results, barrier = [], threading.Barrier(2)

    def work():
        try:
            barrier.wait()
            results.append(intake.drain(batch=7))
        except Exception as exc:  # shown by the assertion
            results.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    join_all(threads, 120)
    assert all(isinstance(r, tuple) for r in results), results
    assert sum(r[0] for r in results) == 40 and sum(r[1] for r in results) == 0
    assert Appeal.objects.count() == 40
    assert AppealEvent.objects.filter(action="submit").count() == 40
    assert len(set(Appeal.objects.values_list("number", flat=True))) == 40
    assert set(AppealIntake.objects.values_list("state", flat=True)) == {"done"}
    assert audit.verify()[0]


def test_my_appeals_page_shows_what_waits_and_what_failed_with_why(client, city):
    who = bearer(city.jumin)
    post(client, who, body(title="<b>楼道灯坏了</b>"), **ASYNC)
    client.force_login(city.jumin)
    page = client.get("/appeals/mine/").content.decode()
    assert 'data-state="pending"' in page and "&lt;b&gt;楼道灯坏了&lt;/b&gt;" in page and "<b>楼道灯坏了" not in page
    Category.objects.filter(code="noise").update(active=False)
    intake.drain()
    page = client.get("/appeals/mine/").content.decode()
    assert 'data-state="failed"' in page and "未知的诉求分类：noise" in page
    Category.objects.filter(code="noise").update(active=True)
    post(client, who, body(title="", text="第二条\n细节"), **ASYNC)
    intake.drain()
    page = client.get("/appeals/mine/").content.decode()
    assert 'data-state="pending"' not in page and 'data-testid="appeal-row"' in page and "第二条" in page
    # Only the submitter's own: a neighbour's page shows none of it.
    client.force_login(city.linju)
    assert "waiting-intakes" not in client.get("/appeals/mine/").content.decode()


def test_healthz_reports_the_intake_backlog(client, city):
    assert client.get("/healthz").json()["appeal_intake"] == {"pending": 0, "oldest_seconds": 0.0}
    post(client, bearer(city.jumin), body(), **ASYNC)
    got = client.get("/healthz").json()["appeal_intake"]
    assert got["pending"] == 1 and got["oldest_seconds"] >= 0


def test_processed_submits_are_forgotten_after_the_keep_period_and_pending_ones_never(client, city, settings):
    import datetime as dt

    from django.utils import timezone

    settings.APPEAL_INTAKE_KEEP_DAYS = 30
    who = bearer(city.jumin)
    old_done, old_pending, recent = (post(client, who, body(text=t), **ASYNC).json()["token"]
                                     for t in ("旧的", "还在等", "新的"))
    intake.process(limit=1)  # only the first: the other two stay pending for now
    long_ago = timezone.now() - dt.timedelta(days=31)
    AppealIntake.objects.filter(token=old_done).update(processed_at=long_ago, received_at=long_ago)
    AppealIntake.objects.filter(token=old_pending).update(received_at=long_ago)
    call_command("worker", "--once", stdout=open("/dev/null", "w"))  # drains the rest, then prunes
    assert set(AppealIntake.objects.values_list("token", flat=True)) == {old_pending, recent}
    assert client.get(f"/api/v1/appeals/intake/{old_done}", **who).status_code == 404
    assert Appeal.objects.filter(text="旧的").exists()  # the appeal itself is kept
    assert AppealIntake.objects.get(token=old_pending).state == "done"  # created, kept until its own period ends


def test_a_submitter_with_queued_submits_cannot_be_deleted_and_keyless_submits_never_clash(client, city):
    from django.db.models import ProtectedError

    who = bearer(city.jumin)
    for _ in range(3):  # no Idempotency-Key: each is its own request
        assert post(client, who, body(), **ASYNC).status_code == 202
    assert AppealIntake.objects.filter(submitted_by=city.jumin, idempotency_key=None).count() == 3
    with pytest.raises(ProtectedError):  # Django's PROTECT: the table keeps no database constraint
        city.jumin.delete()
    assert AppealIntake.objects.filter(submitted_by=city.jumin).count() == 3


def test_a_field_of_the_wrong_kind_is_a_clear_400_not_a_crash(client, city):
    from gongzhi.appeals import services
    from gongzhi.core.errors import ValidationFailed

    for kw, code in (({"urgency": ["urgent"]}, "bad_urgency"), ({"source": {"x": 1}}, "bad_source")):
        args = {"text": "路灯不亮", "title": "", "urgency": "normal", "source": "api", **kw}
        with pytest.raises(ValidationFailed) as got:
            services.check_fields(**args)
        assert got.value.code == code
