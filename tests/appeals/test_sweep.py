"""The deadline sweep: overdue steps escalate grid → community → street, the street is warned, deadlines
near are warned once, unrated appeals close after N days, work orders are warned; nothing twice."""

import datetime as dt
import io
import json
import os
import signal
import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from gongzhi.appeals import jobs as appeal_jobs
from gongzhi.appeals import services, workflow
from gongzhi.appeals import sweep as sweep_mod
from gongzhi.appeals.management.commands import sweep as sweep_cmd
from gongzhi.appeals.models import Appeal, AppealEvent
from gongzhi.appeals.permissions import allowed_actions
from gongzhi.appeals.sweep import sweep
from gongzhi.core.errors import Conflict, ValidationFailed
from gongzhi.core.models import AuditEntry
from gongzhi.core.pacing import Pacer
from gongzhi.notifications.models import Notification
from tests.appeals.conftest import at_street, bearer, submit, whistle
from tests.factories import user

pytestmark = pytest.mark.django_db

MINUTE = dt.timedelta(minutes=1)


def events(appeal, *actions):
    return list(AppealEvent.objects.filter(appeal=appeal, action__in=actions).order_by("id"))


def notified(u, kind, appeal=None):
    qs = Notification.objects.filter(recipient=u, kind=kind)
    if appeal is not None:
        qs = qs.filter(appeal_number=appeal.number)
    return qs.count()


def test_an_overdue_appeal_climbs_grid_to_community_to_street_then_only_warns(city):
    a = submit(city.jumin)
    assert (a.owner, a.owner_level, a.version) == (city.gw1, "grid", 1)
    first_due = a.step_due

    r = sweep(now=first_due + MINUTE)
    assert (r.overdue, r.escalated, r.lost, r.errors) == (1, 1, 0, 0)
    a.refresh_from_db()
    assert (a.state, a.owner, a.owner_level, a.version) == ("escalated", city.cw, "community", 3)
    assert a.step_due == first_due + MINUTE + dt.timedelta(hours=24)  # the community owes a response
    assert a.handon_count == 0  # a person's hand-on is counted; the system's escalation is not
    overdue, escalate = events(a, "overdue", "escalate")
    assert (overdue.actor, overdue.from_state, overdue.to_state) == (None, "submitted", "submitted")
    assert overdue.data == {"step": "respond", "due": first_due.isoformat(), "level": "grid", "escalates": True}
    assert (escalate.from_state, escalate.to_state) == ("submitted", "escalated")
    assert escalate.data["from_level"] == "grid" and escalate.data["to_level"] == "community"
    assert escalate.data["to_owner"] == city.cw.pk
    assert AuditEntry.objects.filter(action="appeal.escalate", object_id=str(a.pk), actor=None).count() == 1
    assert notified(city.cw, "assigned", a) == 1 and notified(city.gw1, "overdue", a) == 1

    r = sweep(now=a.step_due + MINUTE)
    assert (r.overdue, r.escalated) == (1, 1)
    a.refresh_from_db()
    assert (a.state, a.owner, a.owner_level) == ("escalated", city.so, "street")
    assert notified(city.so, "assigned", a) == 1

    street_due = a.step_due
    r = sweep(now=street_due + MINUTE)
    assert (r.overdue, r.escalated) == (1, 0)
    a.refresh_from_db()
    assert (a.state, a.owner, a.owner_level, a.step_due) == ("escalated", city.so, "street", street_due)
    assert [e.data["level"] for e in events(a, "overdue")] == ["grid", "community", "street"]
    assert len(events(a, "escalate")) == 2

    # Idempotent: the same moment again changes nothing and reports zeros.
    version = a.version
    r = sweep(now=street_due + MINUTE)
    assert r.as_dict() == sweep_mod.SweepReport().as_dict()
    a.refresh_from_db()
    assert a.version == version


def test_a_resolve_step_overdue_at_the_grid_escalates_with_step_resolve(city):
    a = services.appeal_accept(actor=city.gw1, appeal=submit(city.jumin))
    assert sweep(now=a.resolve_due - MINUTE).escalated == 0
    assert sweep(now=a.resolve_due + MINUTE).escalated == 1
    a.refresh_from_db()
    assert (a.state, a.owner_level) == ("escalated", "community")
    assert events(a, "overdue")[0].data["step"] == "resolve"


def test_escalation_goes_back_to_whoever_handed_the_appeal_down(city):
    cw2 = user("cw2", ("community_worker", city.tree["beining"]), first_name="何社工")
    a = services.appeal_hand_on(actor=city.gw1, appeal=submit(city.jumin), reason="需社区协调")
    a = services.appeal_accept(actor=cw2, appeal=a)
    a = services.appeal_hand_back(actor=cw2, appeal=a, reason="网格可处理")
    assert (a.owner, a.owner_level) == (city.gw1, "grid")
    sweep(now=a.step_due + MINUTE)
    a.refresh_from_db()
    assert (a.owner, a.owner_level) == (cw2, "community")  # not the default holder, city.cw


def test_at_the_street_only_the_street_and_its_district_are_warned(city):
    a = at_street(city, accept=True)
    assert (a.owner, a.owner_level, a.state) == (city.so, "street", "accepted")
    before = Notification.objects.filter(kind="overdue").count()
    r = sweep(now=a.step_due + MINUTE)
    assert (r.overdue, r.escalated, r.no_handler) == (1, 0, 0)
    a.refresh_from_db()
    assert (a.state, a.owner, a.owner_level) == ("accepted", city.so, "street")
    assert notified(city.so, "overdue", a) == 1
    assert notified(city.admin, "overdue", a) == 1
    assert Notification.objects.filter(kind="overdue").count() == before + 2  # nobody else
    assert "escalate" not in allowed_actions(city.admin, a) + allowed_actions(None, a)


def test_nobody_at_the_level_above_warns_once_and_escalates_when_someone_is_there(city):
    city.cw.is_active = False
    city.cw.save()
    a = submit(city.jumin)
    now = a.step_due + MINUTE
    r = sweep(now=now)
    assert (r.overdue, r.escalated, r.no_handler) == (1, 0, 1)
    a.refresh_from_db()
    assert (a.state, a.owner_level) == ("submitted", "grid")
    assert "escalates" not in events(a, "overdue")[0].data
    assert notified(city.gw1, "overdue", a) == 1
    r = sweep(now=now)
    assert (r.overdue, r.escalated, r.no_handler) == (0, 0, 1)  # still stuck, not warned twice
    city.cw.is_active = True
    city.cw.save()
    r = sweep(now=now + MINUTE)
    assert (r.overdue, r.escalated) == (0, 1)
    a.refresh_from_db()
    assert (a.owner, a.owner_level) == (city.cw, "community")
    assert len(events(a, "overdue")) == 1


def test_a_deadline_near_is_warned_once_to_the_owner(city, settings):
    settings.APPEAL_DUE_SOON_FRACTION = 0.25  # normal respond 24 h: the last 6 h
    a = submit(city.jumin)
    assert sweep(now=a.step_due - dt.timedelta(hours=7)).due_soon == 0
    r = sweep(now=a.step_due - dt.timedelta(hours=5))
    assert (r.due_soon, r.overdue) == (1, 0)
    a.refresh_from_db()
    assert (a.state, a.version) == ("submitted", 2)  # a warning changes no state, but the version
    (soon,) = events(a, "due_soon")
    assert soon.data == {"step": "respond", "due": a.step_due.isoformat(), "level": "grid"}
    assert sweep(now=a.step_due - dt.timedelta(hours=4)).due_soon == 0
    assert notified(city.gw1, "due_soon", a) == 1
    assert Notification.objects.filter(kind="due_soon").count() == 1
    # A new step (accepted: the resolve deadline) is warned again, in its own window.
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    assert sweep(now=a.resolve_due - dt.timedelta(hours=41)).due_soon == 1
    assert [e.data["step"] for e in events(a, "due_soon")] == ["respond", "resolve"]


def test_a_warning_bumps_the_version_so_a_stale_form_gets_409(city):
    a = submit(city.jumin)
    sweep(now=a.step_due - dt.timedelta(hours=1))
    with pytest.raises(Conflict):
        services.appeal_accept(actor=city.gw1, appeal=a, version=a.version)


def test_unrated_appeals_close_after_the_configured_days_and_not_before(city, settings):
    settings.APPEAL_AUTO_CLOSE_DAYS = 3
    a = services.appeal_accept(actor=city.gw1, appeal=submit(city.jumin))
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已协调店主限时营业")
    assert sweep(now=a.resolved_at + dt.timedelta(days=3) - MINUTE).auto_closed == 0
    a.refresh_from_db()
    assert a.state == "resolved"
    r = sweep(now=a.resolved_at + dt.timedelta(days=3) + MINUTE)
    assert r.auto_closed == 1
    a.refresh_from_db()
    assert (a.state, a.satisfaction, a.rated_at, a.step_due) == ("closed", "", None, None)
    (ev,) = events(a, "auto_close")
    assert (ev.actor, ev.from_state, ev.to_state, ev.data["days"]) == (None, "resolved", "closed", 3)
    assert sweep(now=a.resolved_at + dt.timedelta(days=30)).auto_closed == 0


def test_a_rated_appeal_is_never_auto_closed(city):
    a = services.appeal_accept(actor=city.gw1, appeal=submit(city.jumin))
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已处理")
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=True, satisfaction="satisfied")
    assert sweep(now=a.resolved_at + dt.timedelta(days=60)).auto_closed == 0
    a.refresh_from_db()
    assert a.state == "rated"


def test_a_reopened_appeal_resolved_again_and_left_unrated_closes_and_later_sweeps_skip_it(city, settings):
    # The first rating (unsatisfied) reopened it; the second resolution was never rated. Before, the
    # first rating kept it from closing for ever, and every sweep locked it and counted it `lost`.
    settings.APPEAL_AUTO_CLOSE_DAYS = 3
    a = services.appeal_accept(actor=city.gw1, appeal=submit(city.jumin))
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已处理")
    a = services.appeal_rate(actor=city.jumin, appeal=a, resolved=False, satisfaction="unsatisfied")
    assert a.state == "reopened"
    a = services.appeal_accept(actor=city.gw1, appeal=a)
    a = services.appeal_resolve(actor=city.gw1, appeal=a, note="已重新处理")
    assert sweep(now=a.resolved_at + dt.timedelta(days=3) - MINUTE).auto_closed == 0
    r = sweep(now=a.resolved_at + dt.timedelta(days=3) + MINUTE)
    assert (r.auto_closed, r.lost) == (1, 0)
    a.refresh_from_db()
    # The reporter's one rating stays the appeal's rating (the KPIs count it once).
    assert (a.state, a.satisfaction) == ("closed", "unsatisfied")
    r = sweep(now=a.resolved_at + dt.timedelta(days=30))
    assert (r.auto_closed, r.lost) == (0, 0)


def test_overdue_work_orders_warn_the_organisation_and_the_street(city, depts):
    a = whistle(city, at_street(city), depts.cg, depts.sj)
    wo_cg, wo_sj = a.work_orders.order_by("id")
    wo_cg = services.summons_report(actor=depts.h_cg, work_order=wo_cg)
    r = sweep(now=wo_sj.report_due + MINUTE)
    assert (r.work_order_overdue, r.escalated, r.overdue) == (1, 0, 0)  # a dispatched appeal is not escalated
    (ev,) = events(a, "overdue")
    assert ev.data == {"step": "report", "due": wo_sj.report_due.isoformat(), "level": "street",
                       "work_order": wo_sj.pk, "organization": depts.sj.name, "organization_id": depts.sj.pk}
    wo_sj.refresh_from_db()
    assert wo_sj.version == 2
    assert notified(depts.h_sj, "overdue", a) == 1 and notified(city.so, "overdue", a) == 1
    assert notified(depts.h_cg, "overdue", a) == 0
    assert sweep(now=wo_sj.report_due + MINUTE).work_order_overdue == 0
    r = sweep(now=wo_cg.resolve_due + MINUTE)
    assert r.work_order_overdue == 1  # 城管's result is late now; 市监's report was warned already
    assert {(e.data["work_order"], e.data["step"]) for e in events(a, "overdue")} == {
        (wo_sj.pk, "report"), (wo_cg.pk, "wo_resolve")}
    a.refresh_from_db()
    assert a.state == "dispatched"


def test_a_work_order_due_soon_is_warned_once_to_its_organisation(city, depts):
    a = whistle(city, at_street(city), depts.squad)
    wo = a.work_orders.get()
    r = sweep(now=wo.report_due - dt.timedelta(minutes=10))
    assert r.work_order_due_soon == 1
    assert notified(depts.h_squad, "due_soon", a) == 1
    assert notified(depts.h_cg, "due_soon", a) == 0  # the parent office hears only when the unit has nobody
    assert sweep(now=wo.report_due - dt.timedelta(minutes=5)).work_order_due_soon == 0


def test_the_sweep_rows_are_never_offered_nor_accepted_from_anyone(city):
    a = submit(city.jumin)
    root = user("root", is_superuser=True, is_staff=True)
    sweep_actions = {t.action for t in workflow.SWEEP_TABLE}
    assert sweep_actions == {"escalate", "auto_close"}
    assert not sweep_actions & set(workflow.ACTIONS)
    for who in (None, root, city.gw1, city.cw, city.so, city.admin):
        assert not sweep_actions & set(allowed_actions(who, a))
    for action in sweep_actions:
        with pytest.raises(ValidationFailed):
            services.appeal_act(actor=root, appeal=a.number, action=action)


@pytest.mark.parametrize("row", workflow.SWEEP_TABLE, ids=lambda t: f"{t.source}-{t.action}-{t.target}")
def test_every_sweep_row_is_reachable_through_the_sweep(city, row):
    a = submit(city.jumin)
    to_source = {
        "submitted": lambda: a,
        "escalated": lambda: services.appeal_hand_on(actor=city.gw1, appeal=a, reason="需社区协调"),
        "accepted": lambda: services.appeal_accept(actor=city.gw1, appeal=a),
        "reopened": lambda: services.appeal_rate(
            actor=city.jumin, appeal=services.appeal_resolve(
                actor=city.gw1, appeal=services.appeal_accept(actor=city.gw1, appeal=a), note="已处理"),
            resolved=False, satisfaction="unsatisfied"),
        "resolved": lambda: services.appeal_resolve(
            actor=city.gw1, appeal=services.appeal_accept(actor=city.gw1, appeal=a), note="已处理"),
    }
    a = to_source[row.source]()
    assert a.state == row.source
    now = (a.step_due or a.resolved_at + dt.timedelta(days=7)) + MINUTE
    sweep(now=now)
    a.refresh_from_db()
    assert a.state == row.target
    last = AppealEvent.objects.filter(appeal=a).order_by("-id").first()
    assert (last.action, last.from_state, last.to_state, last.actor) == (row.action, row.source, row.target, None)


def test_dry_run_counts_and_writes_nothing(city):
    a = submit(city.jumin)
    b = at_street(city, accept=True)
    now = max(a.step_due, b.step_due) + MINUTE
    r = sweep(now=now, dry_run=True)
    assert (r.overdue, r.escalated) == (2, 1)
    assert not AppealEvent.objects.filter(action__in=["overdue", "escalate"]).exists()
    assert Appeal.objects.get(pk=a.pk).version == a.version


def test_the_command_prints_counts_and_exits_0(city):
    a = submit(city.jumin)
    out = io.StringIO()
    when = (a.step_due + MINUTE).isoformat()
    call_command("sweep", "--now", when, stdout=out)
    assert "overdue 1" in out.getvalue() and "escalated 1" in out.getvalue() and "errors 0" in out.getvalue()
    out = io.StringIO()
    call_command("sweep", "--now", when, "--json", stdout=out)
    counts = json.loads(out.getvalue())
    assert counts["escalated"] == 0 and counts["overdue"] == 0 and counts["dry_run"] is False


def test_the_command_refuses_a_bad_time_and_exits_non_zero_on_a_failed_row(city, monkeypatch):
    with pytest.raises(CommandError) as exc:
        call_command("sweep", "--now", "yesterday", stdout=io.StringIO())
    assert "ISO 8601" in str(exc.value)
    a = submit(city.jumin)

    def broken(**kw):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "appeal_escalate", broken)
    out = io.StringIO()
    with pytest.raises(CommandError) as exc:
        call_command("sweep", "--now", (a.step_due + MINUTE).isoformat(), stdout=out)
    assert exc.value.returncode == 1
    assert "errors 1" in out.getvalue()


def test_the_worker_runs_rounds_of_sweep_and_delivery(city):
    a = submit(city.jumin)
    city.gw1.email = "gw1@example.cn"
    city.gw1.save()
    Notification.objects.filter(recipient=city.gw1).update(email_state="pending")
    out = io.StringIO()
    call_command("worker", "--once", stdout=out)
    assert "stopped after 1 round" in out.getvalue()

    assert len(mail.outbox) == 1 and a.number in mail.outbox[0].subject + mail.outbox[0].body


def test_the_worker_stops_cleanly_on_sigterm(city):
    before = signal.getsignal(signal.SIGTERM)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGTERM))
    out = io.StringIO()
    timer.start()
    try:
        call_command("worker", "--interval", "0.05", stdout=out)
    finally:
        timer.cancel()
    assert "worker: stopped after" in out.getvalue()
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_paced_sweep_pauses_after_every_row_and_batch_and_does_the_same_work(city):
    appeals = [submit(city.jumin) for _ in range(3)]
    now = max(a.step_due for a in appeals) + MINUTE
    slept = []
    pace = Pacer(0.25, min_pause=0, sleep=slept.append)
    r = sweep(now=now, pace=pace)
    assert (r.overdue, r.escalated, r.errors, r.stopped) == (3, 3, 0, False)
    # one pause after the overdue scan's batch, one after each of the three escalations, more after the
    # other scans; each three times the work before it (duty 1/4)
    assert len(slept) >= 4 and pace.paused == pytest.approx(3 * pace.worked, rel=1e-6)
    assert Appeal.objects.filter(state="escalated").count() == 3


def test_a_stop_during_a_paced_sweep_ends_it_between_two_rows_and_the_next_sweep_goes_on(city):
    appeals = [submit(city.jumin) for _ in range(3)]
    now = max(a.step_due for a in appeals) + MINUTE
    stop = threading.Event()
    pauses = []

    def sleep(seconds):  # SIGTERM during the pause after the first escalation
        pauses.append(seconds)
        if len(pauses) == 2:
            stop.set()

    r = sweep(now=now, pace=Pacer(0.5, min_pause=0, stop=stop, sleep=sleep))
    assert r.stopped and (r.escalated, r.errors) == (1, 0)
    assert Appeal.objects.filter(state="escalated").count() == 1
    r = sweep(now=now)
    assert (r.escalated, r.stopped) == (2, False)
    assert Appeal.objects.filter(state="escalated").count() == 3
    assert AppealEvent.objects.filter(action="escalate").count() == 3  # nothing twice


def test_a_sweep_leaves_appeals_submitted_while_it_runs_to_the_next_one(city):
    first = submit(city.jumin)
    now = first.step_due + dt.timedelta(days=3)  # as `gongzhi sweep --now` a few days ahead
    late = []

    def sleep(seconds):  # a resident submits while the sweep pauses
        if not late:
            late.append(submit(city.jumin))

    r = sweep(now=now, batch=1, pace=Pacer(0.5, min_pause=0, sleep=sleep))  # one row a page: the scan reads on
    assert late and r.escalated == 1
    assert Appeal.objects.get(pk=first.pk).state == "escalated"
    assert Appeal.objects.get(pk=late[0].pk).state == "submitted"
    assert sweep(now=now).escalated == 1  # the next sweep takes it
    assert Appeal.objects.get(pk=late[0].pk).state == "escalated"


def test_the_command_paces_at_the_setting_or_duty_and_refuses_a_duty_outside_zero_to_one(city, settings,
                                                                                          monkeypatch):
    seen = []
    real = sweep_mod.sweep
    monkeypatch.setattr(sweep_cmd, "sweep", lambda **kw: seen.append(kw["pace"].duty) or real(**kw))
    settings.SWEEP_DUTY = 0.2
    call_command("sweep", stdout=io.StringIO())
    call_command("sweep", "--duty", "1", stdout=io.StringIO())
    assert seen == [0.2, 1.0]
    for bad in ("0", "1.5", "-1"):
        with pytest.raises(CommandError, match="--duty"):
            call_command("sweep", "--duty", bad, stdout=io.StringIO())
    assert seen == [0.2, 1.0]


def test_the_worker_paces_its_sweep_at_the_setting_and_tells_it_of_a_stop(city, settings, monkeypatch):
    seen = []
    real = sweep_mod.sweep
    monkeypatch.setattr(appeal_jobs, "sweep", lambda **kw: seen.append(kw["pace"]) or real(**kw))
    settings.SWEEP_DUTY = 0.3
    call_command("worker", "--once", stdout=io.StringIO())
    assert [p.duty for p in seen] == [0.3] and seen[0].stop is not None and not seen[0].stop.is_set()


def test_the_timeline_shows_the_sweeps_events_in_words(client, city):
    a = submit(city.jumin)
    sweep(now=a.step_due + MINUTE)
    client.force_login(city.cw)
    page = client.get(f"/appeals/{a.number}/").content.decode()
    assert "超时预警" in page and "超时自动上报" in page
    assert "网格的响应时限" in page and "网格超时未办，自动上报社区。" in page
    body = client.get(f"/api/v1/appeals/{a.number}", **bearer(city.cw)).json()
    assert [e["action"] for e in body["timeline"]][-2:] == ["overdue", "escalate"]
    assert body["timeline"][-1]["actor"] == "系统" and body["timeline"][-1]["action_label"] == "超时自动上报"
