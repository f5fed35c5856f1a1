"""Deliberation's background jobs, registered with core.jobs (DeliberationConfig.ready) and run by
`gongzhi worker`: recurring sessions materialised a rolling 90 days ahead, and the action items'
due-soon and overdue warnings."""

from __future__ import annotations

from gongzhi.core import jobs

from .services.meetings import materialise
from .services.proceedings import actions_sweep
from .services.votes import decide_due

EVERY_SECONDS = 3600  # the window moves by a day a day: hourly keeps it full with room to spare


def materialise_occurrences(ctx: jobs.JobContext) -> str | None:
    made = materialise(pacer=ctx.pacer())
    return f"deliberation: {made} session occurrence(s) materialised" if made else None


def action_deadlines(ctx: jobs.JobContext) -> str | None:
    """Action items due within two days, and overdue ones: their owners are told once each."""
    counts = actions_sweep(pacer=ctx.pacer())
    done = ", ".join(f"{k} {v}" for k, v in counts.items() if v)
    return f"deliberation: {done}" if done else None


def proposals_by_the_clock(ctx: jobs.JobContext) -> str | None:
    """Proposals open for voting at their opening; after the close the result is computed and published once."""
    n = decide_due(pacer=ctx.pacer())
    return f"deliberation: {n} proposal result(s) published" if n else None


def register() -> None:
    jobs.register("deliberation.occurrences", materialise_occurrences, every=EVERY_SECONDS, order=40)
    # With the appeals' deadline sweep, each round (an indexed query on open items by due date).
    jobs.register("deliberation.actions", action_deadlines, every=jobs.ROUND, order=45)
    jobs.register("deliberation.proposals", proposals_by_the_clock, every=jobs.ROUND, order=46)
