"""The appeals' background jobs, registered with core.jobs (AppealsConfig.ready) and run by
`gongzhi worker`: the intake of queued submits, the deadline sweep, and pruning of old intake rows."""

from __future__ import annotations

from gongzhi.core import jobs

from . import intake
from .sweep import sweep

PRUNE_EVERY_SECONDS = 3600  # it reads the whole (small) intake table


def drain_intake(ctx: jobs.JobContext) -> str | None:
    """Create the appeals queued by asynchronous submits (Prefer: respond-async), in batches."""
    done, failed = intake.drain()
    return f"intake: {done} appeal(s) created, {failed} refused" if done or failed else None


def deadline_sweep(ctx: jobs.JobContext) -> str | None:
    """Warn, escalate and auto-close (appeals.sweep), paced so that a heavy sweep (the first after a long
    stop) spreads out instead of stalling the web tier; SIGTERM ends it between two rows."""
    report = sweep(pace=ctx.pacer())
    counts = ", ".join(f"{k} {v}" for k, v in report.as_dict().items() if v)
    lines = [f"sweep: {counts}"] if counts else []
    if report.stopped:
        lines.append("sweep: stopped between two rows (the next round goes on from there)")
    return "\n".join(lines) or None


def prune_intake(ctx: jobs.JobContext) -> str | None:
    pruned = intake.prune()
    return f"intake: {pruned} processed submit(s) older than the keep period forgotten" if pruned else None


def register() -> None:
    jobs.register("appeals.intake", drain_intake, every=jobs.POLL, order=10)
    jobs.register("appeals.sweep", deadline_sweep, every=jobs.ROUND, order=20)
    jobs.register("appeals.intake_prune", prune_intake, every=PRUNE_EVERY_SECONDS, order=30)
