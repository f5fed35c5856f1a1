"""Personal data over its life: retention (PIPL art. 19) and a person's export (art. 45).

Retention anonymises closed records once the retention period has passed. Export gathers
everything held about one person; each app contributes the section it holds (`register_export`).

Each app that holds personal data in closed records registers one step here (in its AppConfig.ready),
so core drives the job without importing any app above it. A step finds its closed rows older than
the cut-off that are not yet anonymised, removes who reported or asked and how to reach them, keeps
everything statistics read (category, grid, states, timestamps, rating scores), marks the rows
anonymised, and writes one audit entry per batch with the counts. Rows already marked are skipped, so
a second run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone

from . import pii

DEFAULT_YEARS = 3


@dataclass
class StepResult:
    """What one step did (or, on a dry run, would do): rows anonymised, and batches written."""

    rows: int = 0
    batches: int = 0
    extra: dict = field(default_factory=dict)


def in_batches(label: str, due, anonymise_batch, *, cutoff, dry_run=False, batch=500,
               progress=lambda _m: None, actor=None) -> StepResult:
    """The loop every app's step shares: `due(cutoff)` is the queryset of rows past the period and not
    yet anonymised; `anonymise_batch(ids, cutoff=, actor=)` anonymises one batch in its own
    transaction and returns how many rows it changed. Keyset over ids, progress after each batch."""
    result = StepResult()
    if dry_run:
        result.rows = due(cutoff).count()
        progress(f"{label}: {result.rows} to anonymise (dry run)")
        return result
    last = 0
    while True:
        ids = list(due(cutoff).filter(id__gt=last).order_by("id").values_list("id", flat=True)[:batch])
        if not ids:
            break
        last = ids[-1]
        result.rows += anonymise_batch(ids, cutoff=cutoff, actor=actor)
        result.batches += 1
        progress(f"{label}: {result.rows} anonymised (batch {result.batches}, up to id {last})")
    return result


# name → step(*, cutoff, dry_run, batch, progress, actor) -> StepResult
Step = Callable[..., StepResult]
_STEPS: dict[str, Step] = {}


def register(name: str, step: Step) -> None:
    """An app adds its step (idempotent: registering the same name again replaces it)."""
    _STEPS[name] = step


# name → section(person) -> JSON-able list or dict: what the app holds about this org.Person
_EXPORTS: dict[str, Callable] = {}


def register_export(name: str, section: Callable) -> None:
    """An app adds the section of a person's data export it holds."""
    _EXPORTS[name] = section


def export_sections(person) -> dict:
    """Every registered section for one person (the caller checks permission and logs the access)."""
    return {name: section(person) for name, section in _EXPORTS.items()}


def steps() -> dict[str, Step]:
    return dict(_STEPS)


def retention_years() -> float:
    return float(getattr(settings, "GONGZHI_RETENTION_YEARS", DEFAULT_YEARS))


def cutoff_for(years: float, *, now: dt.datetime | None = None) -> dt.datetime:
    """The moment before which a closed record is anonymised (a year counts 365.25 days)."""
    if years != years or years <= 0:  # NaN or not positive
        raise ValueError("years must be a positive number")
    return (now or timezone.now()) - dt.timedelta(days=365.25 * years)


def run(*, years: float, dry_run: bool = False, batch: int = 500, actor=None, now=None,
        progress: Callable[[str], None] | None = None) -> dict[str, StepResult]:
    """Run every registered step; returns each step's result by name."""
    cutoff = cutoff_for(years, now=now)
    say = progress or (lambda _msg: None)
    out = {}
    for name, step in _STEPS.items():
        out[name] = step(cutoff=cutoff, dry_run=dry_run, batch=batch, progress=say, actor=actor)
    return out


# ---- free text ----

def mask_text(text: str) -> str:
    """Free text with phone and ID numbers masked: the one public-text masker (core.pii)."""
    return pii.mask_public_text(text) if text else text


def mask_json(value):
    """A JSON value with every string in it passed through mask_text."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [mask_json(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_json(v) for k, v in value.items()}
    return value
