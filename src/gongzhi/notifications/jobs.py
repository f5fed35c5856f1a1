"""The notifications' background job, registered with core.jobs (NotificationsConfig.ready): send the
pending emails of the outbox, last in each round so that what the round's sweeps queued goes out in it."""

from __future__ import annotations

from gongzhi.core import jobs

from .services import deliver_outbox


def deliver(ctx: jobs.JobContext) -> str | None:
    sent = deliver_outbox()
    counts = sent.as_dict()
    return "notifications: " + ", ".join(f"{k} {v}" for k, v in counts.items()) if any(counts.values()) else None


def register() -> None:
    jobs.register("notifications.deliver", deliver, every=jobs.ROUND, order=90)
