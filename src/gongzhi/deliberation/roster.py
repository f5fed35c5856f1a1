"""The rotating chair's plan: pure functions, no database.

The rule (seed 000, DOMAIN §6): every active member unit chairs once before any chairs twice,
across years; a unit that joins later enters the cycle without moving published months; a unit
whose agreement lapses leaves it. One rule does all of it: each open month goes to the eligible
unit that has waited longest, where a unit that has never chaired has waited longest of all
(ties: the earlier joiner, then the lower id). With a steady set of N units that is a plain round
robin, so any N consecutive months see each unit exactly once; a newcomer chairs at the next open
month, ahead of everyone's second turn.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def month_end(month: dt.date) -> dt.date:
    return next_month(month) - dt.timedelta(days=1)


def months_of(year: int) -> list[dt.date]:
    return [dt.date(year, m, 1) for m in range(1, 13)]


@dataclass(frozen=True)
class Window:
    """A span of days in which a unit may chair: its membership, cut to one agreement's term."""

    starts: dt.date
    ends: dt.date | None  # None: open-ended

    def covers(self, month: dt.date) -> bool:
        # Eligible for a month if the window overlaps it at all (an agreement signed mid-month counts).
        return self.starts <= month_end(month) and (self.ends is None or self.ends >= month)


@dataclass(frozen=True)
class Unit:
    id: int
    joined_on: dt.date
    windows: tuple[Window, ...]

    def eligible(self, month: dt.date) -> bool:
        return any(w.covers(month) for w in self.windows)


def plan(months: Iterable[dt.date], units: Iterable[Unit], *, history: Mapping[int, dt.date],
         kept: Mapping[dt.date, int]) -> dict[dt.date, int | None]:
    """Assign each month (ascending) a unit id, or None when no unit is eligible that month.

    `history`: each unit's last chaired month before the first planned month. `kept`: months whose
    holder is fixed (published, or swapped by consent); they count as served like any other month.
    """
    pool = sorted(units, key=lambda u: (u.joined_on, u.id))
    rank = {u.id: i for i, u in enumerate(pool)}
    last: dict[int, dt.date] = dict(history)
    out: dict[dt.date, int | None] = {}
    for month in sorted(months):
        if month in kept:
            chosen = kept[month]
        else:
            candidates = [u.id for u in pool if u.eligible(month)]
            # Never chaired sorts first (date.min), then the longest wait, then the earlier joiner.
            chosen = min(candidates, key=lambda uid: (last.get(uid, dt.date.min), rank[uid])) if candidates else None
        out[month] = chosen
        if chosen is not None:
            last[chosen] = month
    return out


def counts_in_window(assigned: Mapping[dt.date, int | None], start: dt.date, n: int,
                     eligible: Callable[[int], bool] | None = None) -> dict[int, int]:
    """How many of `n` months from `start` each unit chaired (used by the fairness checks)."""
    out: dict[int, int] = {}
    month = start
    for _ in range(n):
        uid = assigned.get(month)
        if uid is not None and (eligible is None or eligible(uid)):
            out[uid] = out.get(uid, 0) + 1
        month = next_month(month)
    return out
