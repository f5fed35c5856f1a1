"""Asynchronous submit (the API's `Prefer: respond-async`): accept now, create the appeal in a batch.

Why. A synchronous submit is a transaction of about seventeen statements (number, appeal, event,
rollups, notification, audit chain); under a burst the platform-wide hot rows (the day's counter,
the rollup rows, the audit head) serialise them. `accept` checks the request at once, with no hot
row touched, and stores it (one INSERT); the worker's `process` then creates the pending appeals
in batches, where a batch of hundreds costs about what one submit does: one counter update, one
INSERT each for appeals, events and notifications, one rollup upsert, one audit append.

No rule lives here: `process` runs each stored request through `services.check_submission` (the
same checks as a synchronous submit, against the state of the platform at processing time) and
writes with `services.write_submissions`. `accept`'s own checks are the cheap subset a client must
hear about at once (fields, category, a point inside a grid, the idempotency key); anything that
changes between the two (a category retired, a grid redrawn) fails the intake with the service's
own message, which the submitter reads at the status URL.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import time

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, DateTimeField, Min
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongzhi.core import pii
from gongzhi.core.db import prepared_cursor
from gongzhi.core.errors import Conflict, GongzhiError, NotFound

from . import services
from .models import Appeal, AppealIntake, Category, IntakeState, Source, Urgency

log = logging.getLogger(__name__)

BATCH = 500
# How stale `accept`'s first look may be (categories, the grid index); `process` checks afresh.
CACHE_SECONDS = 5.0
FIELDS = ("category", "text", "lon", "lat", "title", "urgency", "anonymous", "source", "reporter_name",
          "reporter_phone", "consent_recorded")


def accept(*, actor, idempotency_key=None, **fields) -> tuple[AppealIntake, bool]:
    """Check a submit and queue it: (the intake, replayed). Refusals are the same errors a synchronous
    submit raises. A key seen before answers its first intake (the unique constraint decides, no
    probe first: retries are rare); a key that made an appeal synchronously gets an intake that
    `process` links to that appeal."""
    services.check_submitter(actor)
    key = services.check_key(idempotency_key)
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    title = _precheck(actor, fields)
    row = AppealIntake(submitted_by=actor, idempotency_key=key, received_at=timezone.now(), title=title,
                       language=translation.get_language() or "",
                       payload_enc=pii.encrypt(json.dumps(fields, ensure_ascii=False)))
    try:
        if connection.in_atomic_block:  # a savepoint, so a refused key leaves the caller's transaction usable
            with transaction.atomic():
                _insert(row)
        else:  # one INSERT is its own transaction: no BEGIN and COMMIT round trips
            _insert(row)
    except IntegrityError:
        earlier = AppealIntake.objects.filter(submitted_by=actor, idempotency_key=key).first() if key else None
        if earlier is None:
            raise
        return earlier, True
    return row, False


_COLUMNS = ("token", "submitted_by", "idempotency_key", "title", "payload_enc", "language", "received_at", "state",
            "error_code", "error_message")


@functools.cache
def _insert_sql() -> tuple[str, list[str], list[int]]:
    """The INSERT, the attributes its parameters come from, and which of them are datetimes: the
    only values that need the database's own form (SQLite keeps them as text); the others (text,
    ids) go as they are, without a `get_db_prep_save` call for each."""
    qn = connection.ops.quote_name
    fields = [AppealIntake._meta.get_field(name) for name in _COLUMNS]
    sql = (f"INSERT INTO {qn(AppealIntake._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
           f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING {qn('id')}")
    return sql, [f.attname for f in fields], [i for i, f in enumerate(fields) if isinstance(f, DateTimeField)]


def _insert(row: AppealIntake) -> None:
    """The request's one write, as plain SQL built once and planned once per connection: this is the
    whole cost of a queued submit, and the ORM's save spent as long preparing the statement as the
    database spent on it."""
    sql, attnames, datetimes = _insert_sql()
    params = [getattr(row, name) for name in attnames]
    ops = connection.ops
    for i in datetimes:
        params[i] = ops.adapt_datetimefield_value(params[i])
    with prepared_cursor() as cur:
        cur.execute(sql, params)
        row.pk = cur.fetchone()[0]
    row._state.adding, row._state.db = False, connection.alias


def _precheck(actor, f: dict) -> str:
    """What a client must hear at once, with the service's checks and messages (in the same order as
    `check_submission`); the rest waits for `process`. Returns the title the appeal will have."""
    source = f.get("source", Source.RESIDENT)
    if source not in services.PUBLIC_SOURCES:
        # Staff sources (and unknown ones): the full check now, scope and assisted reporter included,
        # as a synchronous submit would; rare on this path, so its reads do not matter.
        return services.check_submission(actor=actor, **f).title
    code = str(f.get("category") or "").strip()
    if code not in _active_categories(code):
        raise services.bad_category(f.get("category"))
    title, _body = services.check_fields(text=f.get("text"), title=f.get("title", ""),
                                         urgency=f.get("urgency", Urgency.NORMAL), source=source)
    services.check_point_in_grid(f.get("lon"), f.get("lat"), max_age=CACHE_SECONDS)
    return title


_categories: tuple[float, frozenset] = (0.0, frozenset())


def _active_categories(wanted: str) -> frozenset:
    """Active category codes, read at most every CACHE_SECONDS (and again for a code not seen yet,
    so a category added a moment ago is accepted at once; one retired a moment ago fails later,
    at processing, with the service's message)."""
    global _categories
    at, codes = _categories
    if wanted not in codes or time.monotonic() - at > CACHE_SECONDS:
        codes = frozenset(Category.objects.filter(active=True).values_list("code", flat=True))
        _categories = (time.monotonic(), codes)
    return codes


def status_for(actor, token: str) -> AppealIntake:
    """The actor's own intake by token; anyone else's is the same 404 as a missing one."""
    row = (AppealIntake.objects.select_related("appeal").filter(token=str(token or "")[:64], submitted_by=actor)
           .first() if getattr(actor, "pk", None) else None)
    if row is None:
        raise NotFound("intake_not_found", _("没有这条受理记录，或它不是您提交的。"))
    return row


def waiting_for(actor, days: int = 7, limit: int = 20) -> list[AppealIntake]:
    """The actor's asynchronous submits of the last `days` that are not appeals (yet): pending or failed."""
    if not getattr(actor, "pk", None):
        return []
    since = timezone.now() - dt.timedelta(days=days)
    return list(AppealIntake.objects.filter(submitted_by=actor, received_at__gte=since,
                                            state__in=[IntakeState.PENDING, IntakeState.FAILED])
                .order_by("-id")[:limit])


def prune(now=None) -> int:
    """Forget processed intakes older than APPEAL_INTAKE_KEEP_DAYS: their appeals stay, their status
    URLs answer 404 like any unknown token. Pending ones are never pruned, however old."""
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.APPEAL_INTAKE_KEEP_DAYS)
    deleted, _by_model = (AppealIntake.objects.exclude(state=IntakeState.PENDING)
                          .filter(processed_at__lt=cutoff).delete())
    return deleted


def backlog() -> dict:
    """How many submits wait for the worker, and for how long the oldest has (for /healthz)."""
    got = AppealIntake.objects.filter(state=IntakeState.PENDING).aggregate(n=Count("id"), oldest=Min("received_at"))
    age = (timezone.now() - got["oldest"]).total_seconds() if got["oldest"] else 0.0
    return {"pending": got["n"], "oldest_seconds": round(age, 1)}


def process(limit: int = BATCH) -> tuple[int, int]:
    """Turn up to `limit` pending intakes (oldest first) into appeals, in one transaction: (done, failed).

    Two workers never take the same rows (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite has one
    writer at a time). A request whose key made an appeal meanwhile (a synchronous retry) is linked
    to that appeal, never duplicated.
    """
    if not AppealIntake.objects.filter(state=IntakeState.PENDING).exists():
        return 0, 0  # the idle probe: a read on the partial index, no write lock (SQLite's are global)
    with transaction.atomic():
        rows = list(AppealIntake.objects.filter(state=IntakeState.PENDING).select_related("submitted_by")
                    .order_by("id").select_for_update(skip_locked=True, of=("self",))[:limit])
        if not rows:
            return 0, 0
        now = timezone.now()
        memo = services.Lookups()
        payloads = [json.loads(pii.decrypt(row.payload_enc)) for row in rows]
        memo.load_grids((p.get("lon"), p.get("lat")) for p in payloads)
        todo: list[tuple[AppealIntake, services.Submission]] = []
        for row, payload in zip(rows, payloads, strict=True):
            try:
                with translation.override(row.language or None):
                    sub = services.check_submission(actor=row.submitted_by, idempotency_key=row.idempotency_key,
                                                    at=row.received_at, memo=memo, **payload)
            except GongzhiError as exc:
                _fail(row, exc, now)
                continue
            todo.append((row, sub))
        _write(todo, now)
        _save(rows, now)
    done = sum(r.state == IntakeState.DONE for r in rows)
    return done, len(rows) - done


def drain(batch: int = BATCH) -> tuple[int, int]:
    """Process until nothing is pending: (done, failed) in all."""
    done = failed = 0
    while True:
        d, f = process(batch)
        if not d and not f:
            return done, failed
        done, failed = done + d, failed + f


def _save(rows, now) -> None:
    """Store what became of each row: the done ones with one UPDATE … FROM (VALUES …) (Django's
    bulk_update writes a CASE per column, the slowest part of a batch), the few failed ones as they are."""
    done = [r for r in rows if r.state == IntakeState.DONE]
    if done:
        qn = connection.ops.quote_name
        table = qn(AppealIntake._meta.db_table)
        values = ", ".join(["(%s, %s)"] * len(done))
        sql = (f"UPDATE {table} SET {qn('state')} = %s, {qn('appeal_id')} = v.column2, {qn('processed_at')} = %s, "
               f"{qn('payload_enc')} = '' FROM (VALUES {values}) AS v WHERE {table}.{qn('id')} = v.column1")
        params = [IntakeState.DONE, connection.ops.adapt_datetimefield_value(now)]
        for r in done:
            params += [r.pk, r.appeal.pk]
        with connection.cursor() as cur:
            cur.execute(sql, params)
    failed = [r for r in rows if r.state == IntakeState.FAILED]
    if failed:
        AppealIntake.objects.bulk_update(failed, ["state", "error_code", "error_message", "processed_at",
                                                  "payload_enc"])


def _fail(row, exc: GongzhiError, now) -> None:
    row.state, row.error_code, row.error_message = IntakeState.FAILED, exc.code, str(exc.message)
    row.processed_at, row.payload_enc = now, ""


def _done(row, appeal, now) -> None:
    row.state, row.appeal, row.processed_at, row.payload_enc = IntakeState.DONE, appeal, now, ""


def _link_existing(todo, now) -> int:
    """Mark done, with that appeal, each request whose key already made one (a synchronous retry)."""
    keyed = [(r, s) for r, s in todo if s.key]
    if not keyed:
        return 0
    found = {(a.submitted_by_id, a.idempotency_key): a for a in Appeal.objects.filter(
        submitted_by_id__in={s.actor.pk for _r, s in keyed}, idempotency_key__in={s.key for _r, s in keyed})}
    linked = 0
    for row, sub in keyed:
        appeal = found.get((sub.actor.pk, sub.key))
        if appeal is not None:
            _done(row, appeal, now)
            linked += 1
    return linked


def _write(todo, now) -> None:
    """Write the batch in one savepoint. The common case finds no key used before, so nothing is
    looked up first: the appeals' unique key decides. When it refuses (a synchronous retry made
    one of these appeals), the requests whose keys exist are linked to those appeals and the rest
    is written again; what still fails is written one by one, so one bad request never holds up
    the queue."""
    for _attempt in range(2):
        if not todo:
            return
        try:
            with transaction.atomic():
                appeals = services.write_submissions([s for _r, s in todo])
        except IntegrityError:
            if not _link_existing(todo, now):
                break
            todo = [(r, s) for r, s in todo if r.state == IntakeState.PENDING]
            continue
        for (row, _sub), appeal in zip(todo, appeals, strict=True):
            _done(row, appeal, now)
        return
    log.warning("intake: a batch of %d was refused by the database; writing it one by one", len(todo))
    for row, sub in todo:
        try:
            with transaction.atomic():
                _done(row, services.write_submissions([sub])[0], now)
        except IntegrityError:
            if not _link_existing([(row, sub)], now):
                log.exception("intake: %s could not be written", row.token)
                _fail(row, Conflict("write_failed", _("诉求未能生成，请重新提交；如多次出现请联系社区。")), now)
