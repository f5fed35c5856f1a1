"""Submitting appeals: checks, the grid under the point, numbers, and writing one or a batch (the intake)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core import audit, geo, pii
from gongzhi.core.errors import NotFound, PermissionDenied, ValidationFailed
from gongzhi.places.models import Grid
from gongzhi.places.services import grid_id_at, grid_locate

from .. import hooks, selectors, staging, workflow
from ..models import TEXT_MAX, TITLE_MAX, Appeal, AppealCounter, Category, Level, Source, State, Urgency
from ..permissions import is_staff_in_scope
from ..workflow import Action
from .common import (
    ADDRESS_LABEL,
    ADDRESS_MAX,
    ASSISTED_SOURCES,
    KEY_RE,
    PHONE_RE,
    SOURCES,
    STAFF_SOURCES,
    STREET_SOURCES,
    TEXT_LABEL,
    TITLE_LABEL,
    URGENCIES,
    _serialised,
    _signed_in,
    _text,
    _user_or_none,
)
from .handlers import on_duty_owners
from .photos import _check_photos, _staged_checked, _store_photos


def _next_numbers(day: dt.date, count: int) -> list[str]:
    """`count` consecutive numbers of the day: SQ + yyyymmdd (Asia/Shanghai) + the day's sequence,
    from a counter row locked by the update.

    One round trip (UPDATE … RETURNING, on PostgreSQL and SQLite ≥ 3.35) in the common case, however
    many numbers; the row stays locked until commit, so callers take numbers as late in their
    transaction as they can."""
    table = connection.ops.quote_name(AppealCounter._meta.db_table)
    sql = f"UPDATE {table} SET last = last + %s WHERE day = %s RETURNING last"
    param = connection.ops.adapt_datefield_value(day)
    with connection.cursor() as cur:
        cur.execute(sql, [count, param])
        got = cur.fetchone()
        if got is None:
            try:
                with transaction.atomic():
                    AppealCounter.objects.create(day=day, last=count)
                got = (count,)
            except IntegrityError:  # another submit created the day's row first
                cur.execute(sql, [count, param])
                got = cur.fetchone()
    last = got[0]
    return [f"SQ{day:%Y%m%d}{n:06d}" for n in range(last - count + 1, last + 1)]


class Lookups:
    """A batch's memo of the reads every submit repeats: categories by code, grids by the index's id.

    Only for one batch inside one transaction (the intake worker's): what it holds is what the first
    read in the batch saw."""

    def __init__(self):
        self.categories: dict[str, Category | None] = {}
        self.grids: dict[int, Grid] = {}
        self.index = None

    def grid_id(self, lon, lat) -> int | None:
        """The index's micro grid at a point, the index read once for the batch (no version check per row)."""
        if self.index is None:
            self.index = geo.micro_index()
        return self.index.locate(*geo.check_point(lon, lat))

    def load_grids(self, points) -> None:
        """Read the grids of many (lon, lat) points with one query; the index says which they are.
        A point that is bad or outside every grid is skipped here: its own check will say so."""
        ids = set()
        for lon, lat in points:
            try:
                gid = self.grid_id(lon, lat)
            except (ValidationFailed, TypeError, ValueError):
                continue
            if gid is not None and gid not in self.grids:
                ids.add(gid)
        # Only the community comes along: a batch writes appeals and answers nobody, so the chain of
        # parents that a submit's answer shows (grid_locate's) is not needed.
        for grid in Grid.objects.select_related("community").filter(pk__in=ids, retired_at__isnull=True):
            self.grids[grid.pk] = grid


def _category(value, memo: Lookups | None = None) -> Category:
    if isinstance(value, Category):
        cat = value
    else:
        code = str(value or "").strip()
        if memo is not None and code in memo.categories:
            cat = memo.categories[code]
        else:
            cat = Category.objects.filter(code=code).first()
            if memo is not None:
                memo.categories[code] = cat
    if cat is None or not cat.active:
        raise bad_category(value)
    return cat


def bad_category(value) -> ValidationFailed:
    return ValidationFailed("bad_category", _("未知的诉求分类：%(code)s，请从列表中选择。") % {"code": value})


def _in_grid(lon, lat, find):
    """`find()` the grid at a point that must be given, with a submit's messages for a missing point
    and for one outside every grid."""
    if lon in (None, "") or lat in (None, ""):
        raise ValidationFailed("point_required", _("请在地图上点选问题发生的位置，或使用“我的位置”。"))
    try:
        return find()
    except NotFound as exc:
        raise ValidationFailed("outside_grids", _("%(msg)s请在网格范围内重新选择位置。") % {"msg": exc.message}) from None


def _locate(lon, lat, memo: Lookups | None = None) -> Grid:
    def find():
        if memo is None:
            return grid_locate(lon, lat)
        grid = memo.grids.get(memo.grid_id(lon, lat))
        if grid is None:
            grid = grid_locate(lon, lat)  # the authoritative read (it also rebuilds a stale index)
            memo.grids[grid.pk] = grid
        return grid

    return _in_grid(lon, lat, find)


def check_point_in_grid(lon, lat, *, max_age: float = 0.0) -> int:
    """A submit's point check from the grid index alone (no row read): the asynchronous submit's
    first look, which `check_submission` repeats in full when the appeal is made."""
    return _in_grid(lon, lat, lambda: grid_id_at(lon, lat, max_age=max_age))


@dataclass
class Submission:
    """A submit that passed every check and read everything it needs: `write_submissions` only writes."""

    actor: object
    category: Category
    urgency: str
    title: str
    text: str
    lon: float
    lat: float
    grid: Grid
    source: str
    reporter: object
    name: str
    phone: str
    consent_recorded: bool
    anonymous: bool
    key: str | None
    photos: list = field(default_factory=list)
    at: dt.datetime | None = None  # when it was received (the intake's time); now if None
    staged: list = field(default_factory=list)  # StagedPhoto rows attached (photos holds their bytes)
    address: str = ""  # where the caller said it is (staff entry), as typed or found by place search


def title_of(title: str, text: str) -> str:
    """An appeal's title: the one given, else the first line of its text (at most 30 characters)."""
    return title or text.splitlines()[0][:30]


def check_fields(*, text, title, urgency, source) -> tuple[str, str]:
    """A submit's own fields, checked: (title, text) as the appeal will have them."""
    if not isinstance(urgency, str) or urgency not in URGENCIES:
        raise ValidationFailed("bad_urgency", _("紧急程度只能是“紧急”或“一般”。"))
    body = _text(text, field_label=TEXT_LABEL, max_len=TEXT_MAX)
    head = title_of(_text(title, field_label=TITLE_LABEL, max_len=TITLE_MAX, required=False), body)
    if not isinstance(source, str) or source not in SOURCES:
        raise ValidationFailed("bad_source", _("未知的诉求来源：%(s)s") % {"s": source})
    return head, body


def check_key(idempotency_key) -> str | None:
    if idempotency_key in (None, ""):
        return None
    key = str(idempotency_key).strip()
    if not KEY_RE.match(key):
        raise ValidationFailed("bad_idempotency_key", _("幂等键应为 1 至 64 个可见 ASCII 字符。"))
    return key


def check_submitter(actor) -> None:
    row = workflow.rows_for(workflow.NEW, Action.SUBMIT)[0]  # the table says who may submit
    if not _signed_in(actor) or workflow.ANYONE not in row.roles:
        raise PermissionDenied("login_required", _("请先登录再提交诉求。"))


def check_submission(*, actor, category, text, lon, lat, title="", urgency=Urgency.NORMAL, anonymous=False,
                     source=Source.RESIDENT, idempotency_key=None, reporter_name="", reporter_phone="",
                     consent_recorded=False, photos=(), at=None, memo: Lookups | None = None,
                     staged_photos=(), address="") -> Submission:
    """Every check a submit makes (400/403 with a clear message), and every read it needs; no writes.

    `staged_photos`: tokens of the actor's staged photos (appeals.staging) to attach, counted with
    `photos` toward the limit; locked here, so the caller's transaction is the only one to take them.
    """
    check_submitter(actor)
    key = check_key(idempotency_key)
    cat = _category(category, memo)
    head, body = check_fields(text=text, title=title, urgency=urgency, source=source)
    address = _text(address, field_label=ADDRESS_LABEL, max_len=ADDRESS_MAX, required=False)
    grid = _locate(lon, lat, memo)
    probe = Appeal(grid_path=grid.path, place_path=grid.place_path)
    reporter = actor
    name = phone = ""
    if source in ASSISTED_SOURCES or source in STAFF_SOURCES:
        if not is_staff_in_scope(actor, probe):
            raise PermissionDenied("forbidden", _("只有该网格所在社区的工作人员可以录入“%(source)s”来源的诉求。") % {
                "source": Source(source).label})
    if source in STREET_SOURCES and not is_staff_in_scope(actor, probe, roles={workflow.STREET_OFFICER}):
        raise PermissionDenied("forbidden", _("只有该网格所在街道的街道干部可以发起“%(source)s”诉求。") % {
            "source": Source(source).label})
    staged = staging.held(actor, staged_photos, lock=True) if staged_photos else []
    staged_checked = [_staged_checked(s) for s in staged]
    if source in ASSISTED_SOURCES:
        reporter = None
        name = _text(reporter_name, field_label=_("反映人姓名"), max_len=50)
        phone = re.sub(r"[\s-]", "", reporter_phone or "")
        if phone and not PHONE_RE.match(phone):
            raise ValidationFailed("bad_phone", _("手机号应为 11 位数字，以 1 开头：%(value)s") % {
                "value": reporter_phone})
        if not consent_recorded:
            raise ValidationFailed("consent_required", _("代为录入须先征得反映人同意，并勾选“已征得同意”。"))
    return Submission(actor=actor, category=cat, urgency=urgency, title=head, text=body, lon=float(lon),
                      lat=float(lat), grid=grid, source=source, reporter=reporter, name=name, phone=phone,
                      consent_recorded=bool(consent_recorded and name), anonymous=bool(anonymous), key=key,
                      photos=staged_checked + _check_photos(None, photos, already=len(staged_checked)), at=at,
                      staged=staged, address=address)


def write_submissions(subs: list[Submission]) -> list[Appeal]:
    """Create the appeals of checked submissions, in the caller's transaction, in order.

    Each grid's on-duty worker becomes the owner (首问). Whatever the number of appeals, the writes
    are one counter update per day, one INSERT each for appeals, events and notifications, one
    rollup upsert and one audit append: the cost of a batch of intake is close to that of one submit.
    """
    now = timezone.now()
    on_duty = on_duty_owners(list({s.grid.pk: s.grid for s in subs if s.source not in STREET_SOURCES}.values()))
    owners = [(s.actor, Level.STREET) if s.source in STREET_SOURCES else on_duty[s.grid.pk] for s in subs]
    # Platform-wide hot rows (the day's counter, the rollup rows, the audit chain's head) are
    # written from here on, after every read, so their locks are held for the fewest statements.
    by_day: dict[dt.date, list[Submission]] = {}
    for s in subs:
        by_day.setdefault(timezone.localdate(s.at or now), []).append(s)
    numbers = {}
    for day, group in sorted(by_day.items()):
        for s, number in zip(group, _next_numbers(day, len(group)), strict=True):
            numbers[id(s)] = number
    appeals = []
    for s, (owner, level) in zip(subs, owners, strict=True):
        at = s.at or now
        respond_h, resolve_h = s.category.hours(s.urgency)
        respond_due = at + dt.timedelta(hours=respond_h)
        appeals.append(Appeal(
            number=numbers[id(s)], category=s.category, urgency=s.urgency, title=s.title, text=s.text,
            lon=s.lon, lat=s.lat, address=s.address, grid=s.grid, community=s.grid.community, grid_path=s.grid.path,
            place_path=s.grid.place_path, source=s.source, reporter=s.reporter, submitted_by=s.actor,
            reporter_name_enc=pii.encrypt(s.name), reporter_name_masked=pii.mask_name(s.name),
            reporter_phone_enc=pii.encrypt(s.phone), reporter_phone_hash=pii.lookup_hash(s.phone),
            reporter_phone_masked=pii.mask_phone(s.phone), consent_recorded=s.consent_recorded,
            anonymous=s.anonymous, state=State.SUBMITTED, owner=owner, owner_level=level,
            submitted_at=at, updated_at=now, respond_due=respond_due,
            resolve_due=at + dt.timedelta(hours=resolve_h), step_due=respond_due, idempotency_key=s.key,
        ))
    Appeal.objects.bulk_create(appeals)
    row = workflow.rows_for(workflow.NEW, Action.SUBMIT)[0]
    events = hooks.record_submits([
        (a, {"at": a.submitted_at, "actor": _user_or_none(s.actor), "action": Action.SUBMIT,
             "from_state": row.source, "to_state": row.target,
             "data": {"source": s.source, "owner": a.owner_id, "owner_level": a.owner_level}})
        for a, s in zip(appeals, subs, strict=True)])
    stored = [_store_photos(a, e, s.photos, s.actor, now) if s.photos else []
              for a, e, s in zip(appeals, events, subs, strict=True)]
    staging.consume([p for s in subs for p in s.staged])
    audit.record_many([
        (s.actor, "appeal.submit", a, {"after": {
            "number": a.number, "category": s.category.code, "grid": s.grid.code, "source": s.source,
            "owner": a.owner_id, "owner_level": a.owner_level, "anonymous": a.anonymous,
            "photos": len(s.photos)}})
        for a, s in zip(appeals, subs, strict=True)])
    for a, e, photos in zip(appeals, events, stored, strict=True):
        # The new row already holds what an answer shows (category, grid, community, owner and
        # reporter objects were set above), and its whole timeline is this one event: callers get
        # them without reading anything back.
        a.merged_into = None
        a.replayed = False
        a.fresh_timeline = [_with_photos(e, photos)]
        a.fresh_photos = list(photos)
    return appeals


def replay_submit(actor, key):
    """The submitter's earlier appeal under this idempotency key, if any, marked `replayed`
    (a cheap probe first: retries are rare)."""
    if not key or not Appeal.objects.filter(submitted_by=actor, idempotency_key=key).exists():
        return None
    existing = selectors.with_related().get(submitted_by=actor, idempotency_key=key)
    existing.replayed = True
    return existing


def appeal_submit(*, actor, idempotency_key=None, **fields) -> Appeal:
    """Submit an appeal. Its point picks the micro grid, whose on-duty worker becomes the owner (首问).

    A retry with the same idempotency key by the same submitter returns the first appeal (with
    `replayed = True`) and writes nothing, even when the two requests race: the unique constraint
    decides and the loser reads the winner's row. Fields: those of `check_submission`.
    """
    check_submitter(actor)
    key = check_key(idempotency_key)
    existing = replay_submit(actor, key)
    if existing is not None:
        return existing
    try:
        return _serialised(lambda: write_submissions([check_submission(actor=actor, idempotency_key=key,
                                                                        **fields)])[0])
    except ValidationFailed as exc:
        # A twin sent at once (a double tap) took the staged photos with it: the twin's appeal is the answer.
        existing = replay_submit(actor, key) if exc.code == "staged_photo_invalid" else None
        if existing is None:
            raise
        return existing
    except IntegrityError:
        # A twin with the same key committed between the probe and our insert: the unique
        # constraint decided, and `_serialised`'s transaction (or savepoint) rolled back cleanly.
        existing = replay_submit(actor, key)
        if existing is None:
            raise
        return existing


def _with_photos(event, photos):
    """Mark `event.photos.all()` as already fetched (Django's prefetch cache), to avoid a query."""
    event._prefetched_objects_cache = {"photos": list(photos)}
    return event
