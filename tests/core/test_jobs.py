"""core.jobs and `gongzhi worker`: the worker runs what the apps registered, each at its pace and in
order; a job that fails is logged and the others still run; a stop ends the worker between jobs."""

import io

import pytest
from django.core.management import call_command

from gongzhi.core import jobs
from gongzhi.core.pacing import Stopped

pytestmark = pytest.mark.django_db


@pytest.fixture
def only(monkeypatch):
    """Replace the registry with the test's own jobs (the apps' jobs are tested with their apps)."""
    monkeypatch.setattr(jobs, "_jobs", {})
    return jobs.register


def test_rounds_run_in_order_polls_every_time_and_periodic_jobs_when_due(only):
    ran = []
    only("b.second", lambda ctx: ran.append("second") and None, order=20)
    only("a.first", lambda ctx: ran.append("first") or "first said something", order=10)
    only("z.hourly", lambda ctx: ran.append("hourly") and None, every=3600, order=15)
    only("p.poll", lambda ctx: ran.append("poll") and None, every=jobs.POLL)
    out = io.StringIO()
    call_command("worker", "--rounds", "3", "--interval", "0", stdout=out)
    assert ran == ["poll", "first", "hourly", "second",
                   "poll", "first", "second",  # the hourly job is not due again
                   "poll", "first", "second"]
    assert out.getvalue().count("first said something") == 3
    assert "stopped after 3 round(s)" in out.getvalue()


def test_intake_only_runs_the_poll_jobs(only):
    ran = []
    only("r.round", lambda ctx: ran.append("round"))
    only("p.poll", lambda ctx: ran.append("poll"), every=jobs.POLL)
    call_command("worker", "--intake-only", "--rounds", "2", stdout=io.StringIO())
    assert ran == ["poll", "poll"]


def test_a_failing_job_is_logged_and_the_round_goes_on(only, caplog):
    ran = []

    def broken(ctx):
        raise RuntimeError("disk full")

    only("a.broken", broken, order=1)
    only("b.fine", lambda ctx: ran.append("fine"), order=2)
    call_command("worker", "--once", stdout=io.StringIO())
    assert ran == ["fine"]
    assert "worker: a.broken failed" in caplog.text and "disk full" in caplog.text


def test_a_stop_during_a_job_ends_the_round_and_the_worker(only):
    ran = []

    def stopping(ctx):  # SIGTERM arrives while the job paces itself
        ctx.stop.set()
        ran.append("stopping")
        raise Stopped

    only("a.stopping", stopping, order=1)
    only("b.later", lambda ctx: ran.append("later"), order=2)
    out = io.StringIO()
    call_command("worker", "--interval", "0", stdout=out)
    assert ran == ["stopping"]
    assert "a.stopping: stopped (SIGTERM)" in out.getvalue() and "stopped after 1 round(s)" in out.getvalue()


def test_the_context_paces_at_the_sweep_duty(settings):
    settings.SWEEP_DUTY = 0.4
    assert jobs.JobContext().pacer().duty == 0.4


@pytest.mark.parametrize("every", [0, -5, "hourly", None])
def test_a_job_with_no_sensible_period_is_refused(only, every):
    with pytest.raises(ValueError, match="every"):
        only("x.bad", lambda ctx: None, every=every)
    assert jobs.jobs() == [] and jobs.jobs(poll=True) == []
