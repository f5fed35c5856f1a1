"""Every write to appeals: one function per use case, each the only door to its change.

A transition runs in one transaction: fetch what the actor may see (404 otherwise), look the
(state, action) up in workflow.TABLE (409 naming the allowed actions if absent), check the actor's
relation to the appeal (403), validate the input (400), then compare-and-set
`UPDATE … WHERE id=… AND state=… AND version=…`: zero rows means someone else won (409). The
winner appends a timeline event and an audit entry in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.accounts.models import RoleAssignment
from gongzhi.core import audit, geo, pii, unmask
from gongzhi.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from gongzhi.core.models import PiiAccess
from gongzhi.core.photos import reencoded as reencoded_photo
from gongzhi.core.text import checked_text
from gongzhi.core.transactions import serialised
from gongzhi.org.models import Post, PostTitle
from gongzhi.places.models import Grid
from gongzhi.places.services import grid_id_at, grid_locate

from . import hooks, selectors, staging, workflow
from .models import (
    OPEN_STATES,
    RATING_MAX,
    RATING_MIN,
    SUMMONS_DROPPED_STATES,
    SUMMONS_OPEN_STATES,
    TERMINAL_STATES,
    TEXT_MAX,
    TITLE_MAX,
    Appeal,
    AppealCounter,
    AppealEvent,
    AppealPhoto,
    Category,
    Level,
    Satisfaction,
    Source,
    State,
    SummonsState,
    Urgency,
    Whistle,
    WhistleSummons,
)
from .permissions import (
    allowed_actions,
    allowed_work_order_actions,
    can_unmask_reporter,
    can_view,
    is_staff_in_scope,
    relations,
    summons_relations,
)
from .workflow import (
    ACTION_LABELS,
    LEVEL_DOWN,
    LEVEL_ROLE,
    LEVEL_UP,
    SUMMONS_ACTION_LABELS,
    Action,
    SummonsAction,
)

# Sources and who may use them. Assisted entry: staff type in a resident's call or visit.
PUBLIC_SOURCES = {Source.RESIDENT, Source.API, Source.OPEN311}
ASSISTED_SOURCES = {Source.HOTLINE, Source.VISIT}
STAFF_SOURCES = {Source.PATROL, Source.DELIBERATION, Source.ENTERPRISE}
# Opened by a street officer (from a hotspot warning): the officer owns it at street level.
STREET_SOURCES = {Source.PROACTIVE}
# The choices' values once: `Choices.values` builds a new list on every call, and every submit asks.
URGENCIES = frozenset(Urgency.values)
SOURCES = frozenset(Source.values)
# A submit's field names, translated only when a message names them (not on every submit).
TEXT_LABEL, TITLE_LABEL = gettext_lazy("诉求内容"), gettext_lazy("标题")
ADDRESS_LABEL, ADDRESS_MAX = gettext_lazy("地址"), 200

PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTO_MAX_COUNT = 9
REASON_MAX = 500
REDIRECT_MAX = 200
PHONE_RE = re.compile(r"^1[3-9]\d{9}$")
KEY_RE = re.compile(r"^[\x21-\x7e]{1,64}$")


def stale_message():
    return _("该诉求已被他人处理，请刷新后查看。")


# ---- helpers ----

def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False)


def _user_or_none(actor):
    return actor if _signed_in(actor) else None


def _serialised(fn, busy_message=None):
    """Run `fn` in a transaction (core.transactions.serialised); `busy_message` names what was busy
    (the default speaks of an appeal)."""
    return serialised(fn, busy_message or _("系统正忙，有人正在处理同一诉求，请稍后重试。"))

def _labels(actions) -> str:
    return "、".join(str(ACTION_LABELS.get(a, a)) for a in actions)


def _ancestors(path: str) -> list[str]:
    """"/a/b/c/" → ["/a/", "/a/b/", "/a/b/c/"]: the scope paths that cover it."""
    parts = [p for p in path.split("/") if p]
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


_text = checked_text

# ---- photos ----

@dataclass(frozen=True)
class CheckedPhoto:
    data: bytes
    content_type: str
    ext: str


def check_photo(upload) -> CheckedPhoto:
    """JPEG, PNG or WebP by their magic bytes (never the name or the declared type), at most 5 MB and
    GONGZHI_PHOTO_MAX_PIXELS, decoded and encoded again without EXIF (core.photos): the re-encoded
    bytes are what is stored, the uploaded ones are dropped here."""
    checked = _sniffed_photo(upload)
    name = getattr(upload, "name", "") or _("上传的文件")
    return CheckedPhoto(reencoded_photo(checked.data, checked.content_type, name=name), checked.content_type,
                        checked.ext)


def _sniffed_photo(upload) -> CheckedPhoto:
    size = getattr(upload, "size", None)
    if size is not None and size > PHOTO_MAX_BYTES:
        raise ValidationFailed("photo_too_large", _("照片不能超过 5 MB（「%(name)s」有 %(mb).1f MB）。") % {
            "name": getattr(upload, "name", ""), "mb": size / 1024 / 1024})
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(PHOTO_MAX_BYTES + 1) if hasattr(upload, "read") else bytes(upload)
    if len(data) > PHOTO_MAX_BYTES:
        raise ValidationFailed("photo_too_large", _("照片不能超过 5 MB（「%(name)s」有 %(mb).1f MB）。") % {
            "name": getattr(upload, "name", ""), "mb": len(data) / 1024 / 1024})
    if data[:3] == b"\xff\xd8\xff":
        return CheckedPhoto(data, "image/jpeg", "jpg")
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return CheckedPhoto(data, "image/png", "png")
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return CheckedPhoto(data, "image/webp", "webp")
    raise ValidationFailed("photo_type", _("「%(name)s」不是 JPEG、PNG 或 WebP 图片。") % {
        "name": getattr(upload, "name", "") or _("上传的文件")})


def _staged_checked(staged) -> CheckedPhoto:
    """A staged photo's bytes: re-encoded already when it was staged (staging.carry)."""
    with staged.file.open("rb") as f:
        data = f.read()
    return CheckedPhoto(data, staged.content_type, staged.file.name.rsplit(".", 1)[-1])


def _check_photos(appeal_pk, uploads, already: int = 0) -> list[CheckedPhoto]:
    checked = [check_photo(u) for u in uploads or ()]
    # A department's result photos count toward its work order's nine, not the appeal's.
    existing = AppealPhoto.objects.filter(appeal_id=appeal_pk, work_order__isnull=True).count() if appeal_pk else 0
    existing += already
    if existing + len(checked) > PHOTO_MAX_COUNT:
        raise ValidationFailed("too_many_photos", _("每条诉求最多 %(max)d 张照片（已有 %(n)d 张）。") % {
            "max": PHOTO_MAX_COUNT, "n": existing})
    return checked


def _store_photos(appeal, event, checked, actor, now, work_order=None) -> list[AppealPhoto]:
    out = []
    for c in checked:
        photo = AppealPhoto(appeal=appeal, event=event, content_type=c.content_type, size=len(c.data),
                            sha256=hashlib.sha256(c.data).hexdigest(), uploaded_by=_user_or_none(actor),
                            uploaded_at=now, work_order=work_order)
        photo.file.save(f"{uuid.uuid4().hex}.{c.ext}", ContentFile(c.data), save=False)
        photo.save()
        out.append(photo)
    return out


# ---- who handles an appeal ----

def on_duty_owner(grid: Grid, today: dt.date | None = None):
    """The first responder for a micro grid: (user, level).

    The grid's grid worker with a linked user account (lowest post id, in term), else its grid
    leader, else the community worker of its community (the appeal then starts at community level).
    """
    return on_duty_owners([grid], today)[grid.pk]


def on_duty_owners(grids, today: dt.date | None = None) -> dict:
    """`on_duty_owner` of many grids, {grid id: (user, level)}: one query for their posts."""
    today = today or timezone.localdate()
    in_term = Q(starts_on__lte=today) & (Q(ends_on__isnull=True) | Q(ends_on__gt=today))
    rank = {PostTitle.GRID_WORKER: 0, PostTitle.GRID_LEADER: 1}
    best: dict[int, Post] = {}
    for post in (Post.objects.filter(in_term, grid__in=[g.pk for g in grids], title__in=list(rank),
                                     person__user__isnull=False, person__user__is_active=True)
                 .select_related("person__user").order_by("id")):
        held = best.get(post.grid_id)
        if held is None or rank[post.title] < rank[held.title]:
            best[post.grid_id] = post
    out = {}
    for g in grids:
        if g.pk in best:
            out[g.pk] = (best[g.pk].person.user, Level.GRID)
            continue
        user = level_holder(Level.COMMUNITY, grid_path=g.path, place_path=g.place_path)
        out[g.pk] = (user, Level.COMMUNITY) if user is not None else (None, Level.GRID)
    return out


def level_holder(level: str, *, grid_path: str, place_path: str):
    """The user holding the level's role on the narrowest scope covering the place; ties by lowest id."""
    role = LEVEL_ROLE[level]
    rows = (RoleAssignment.objects.filter(role=role, user__is_active=True)
            .filter(Q(place__path__in=_ancestors(place_path)) | Q(grid__path__in=_ancestors(grid_path)))
            .select_related("user", "place", "grid"))
    best = sorted(rows, key=lambda ra: (-len((ra.grid or ra.place).path), ra.user_id))
    return best[0].user if best else None


def _last_mover(appeal, action: str, level: str):
    """The active user who last moved the appeal away from `level` by `action` (hand on or back)."""
    last = (AppealEvent.objects.filter(appeal=appeal, action=action, data__from_level=level)
            .order_by("-id").values_list("data", flat=True).first())
    if last and last.get("from_owner"):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.filter(pk=last["from_owner"], is_active=True).first()
    return None


def _owner_below(appeal, level: str):
    """Who gets an appeal handed back down: whoever handed it up from that level, else the default."""
    user = _last_mover(appeal, Action.HAND_ON, level)
    if user is not None:
        return user
    if level == Level.GRID:
        user, got = on_duty_owner(appeal.grid)
        return user if got == Level.GRID else None
    return level_holder(level, grid_path=appeal.grid_path, place_path=appeal.place_path)


# ---- numbers ----

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


# ---- submit ----

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


# ---- transitions ----

@dataclass
class Change:
    fields: dict = field(default_factory=dict)
    note: str = ""
    data: dict = field(default_factory=dict)
    after: Callable | None = None  # runs once the compare-and-set has won


def _fresh(actor, appeal) -> Appeal:
    if isinstance(appeal, Appeal):
        return selectors.appeal_get_for(actor, appeal.pk)
    return selectors.appeal_get_for(actor, appeal)


def _stale(pk, actor) -> Conflict:
    now = selectors.with_related().get(pk=pk)
    return Conflict("stale", stale_message(), {"state": now.state, "version": now.version,
                                               "allowed_actions": allowed_actions(actor, now)})


def _pick(actor, appeal, action, data) -> workflow.Transition:
    if action not in workflow.ACTIONS or action == Action.SUBMIT or action in workflow.AUTO_ACTIONS:
        raise ValidationFailed("unknown_action", _("未知的操作：%(a)s") % {"a": action})
    allowed = allowed_actions(actor, appeal)
    hint = (_("当前可执行：%(list)s。") % {"list": _labels(allowed)}) if allowed else _("当前没有您可执行的操作。")
    extra = {"state": appeal.state, "action": action, "allowed_actions": allowed}
    rows = workflow.rows_for(appeal.state, action)
    if not rows:
        raise Conflict("transition_not_allowed", _("该诉求当前为「%(state)s」，不能%(action)s。%(hint)s") % {
            "state": State(appeal.state).label, "action": ACTION_LABELS[action], "hint": hint}, extra)
    rel = relations(actor, appeal)
    mine = [r for r in rows if r.roles & rel]
    if not mine:
        raise PermissionDenied("forbidden", _("您没有权限对该诉求执行「%(action)s」。") % {
            "action": ACTION_LABELS[action]}, extra)
    ok = [r for r in mine if r.allows(appeal, data)]
    if not ok:
        reason = next((r.refusal for r in mine if r.refusal), None)
        msg = str(reason) if reason else _("该诉求当前不能%(action)s。") % {"action": ACTION_LABELS[action]}
        raise Conflict("transition_not_allowed", f"{msg}{hint}", extra)
    return ok[0]


def _version(value) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationFailed("bad_version", _("版本号必须是整数。")) from None


def _transition(*, actor, appeal, action, version, data, prepare, photos=()) -> Appeal:
    version = _version(version)

    def run() -> Appeal:
        a = _fresh(actor, appeal)
        if version is not None and version != a.version:
            raise _stale(a.pk, actor)
        row = _pick(actor, a, action, data)
        now = timezone.now()
        change = prepare(a, row, data, now)
        checked = _check_photos(a.pk, photos)
        updated = Appeal.objects.filter(pk=a.pk, state=row.source, version=a.version).update(
            state=row.target, version=F("version") + 1, updated_at=now, **change.fields)
        if updated != 1:
            raise _stale(a.pk, actor)
        if change.after is not None:
            change.after(a, now)
        event = hooks.record_event(a, at=now, actor=_user_or_none(actor), action=action, from_state=row.source,
                                   to_state=row.target, note=change.note, data=change.data, changes=change.fields)
        _store_photos(a, event, checked, actor, now)
        audit.record(actor, f"appeal.{action}", a,
                     before={"state": row.source, "version": a.version, "owner": a.owner_id,
                             "owner_level": a.owner_level},
                     after={"state": row.target, "version": a.version + 1, **change.data})
        return selectors.with_related().get(pk=a.pk)

    return _serialised(run)


def _respond_deadline(a: Appeal, now):
    respond_h, _resolve_h = a.category.hours(a.urgency)
    return now + dt.timedelta(hours=respond_h)


def appeal_accept(*, actor, appeal, version=None, note="") -> Appeal:
    """Take the appeal on (受理): whoever accepts becomes its owner; the resolve deadline starts to count."""
    def prepare(a, row, data, now):
        note_ = _text(data["note"], field_label=_("说明"), max_len=REASON_MAX, required=False)
        owner = _user_or_none(actor) or a.owner
        return Change(
            fields={"owner": owner, "accepted_at": a.accepted_at or now, "step_due": a.resolve_due},
            note=note_, data={"owner": owner.pk if owner else None, "owner_level": a.owner_level})

    return _transition(actor=actor, appeal=appeal, action=Action.ACCEPT, version=version, data={"note": note},
                       prepare=prepare)


def appeal_hand_on(*, actor, appeal, reason, version=None) -> Appeal:
    """Hand the appeal up one level (grid → community → street), with a reason; counted."""
    def prepare(a, row, data, now):
        reason_ = _text(data["reason"], field_label=_("上报原因"), max_len=REASON_MAX)
        to_level = LEVEL_UP[a.owner_level]
        owner = level_holder(to_level, grid_path=a.grid_path, place_path=a.place_path)
        if owner is None:
            raise Conflict("no_handler", _("%(place)s没有%(level)s层级的处理人账号，无法上报；请联系管理员配置。") % {
                "place": a.community.name, "level": Level(to_level).label})
        return Change(
            fields={"owner": owner, "owner_level": to_level, "handon_count": F("handon_count") + 1,
                    "step_due": _respond_deadline(a, now)},
            note=reason_,
            data={"reason": reason_, "from_level": a.owner_level, "to_level": to_level,
                  "from_owner": a.owner_id, "to_owner": owner.pk})

    return _transition(actor=actor, appeal=appeal, action=Action.HAND_ON, version=version,
                       data={"reason": reason}, prepare=prepare)


def appeal_hand_back(*, actor, appeal, reason, version=None) -> Appeal:
    """Send the appeal back down one level, with a reason; it lands accepted there and counts a bounce."""
    def prepare(a, row, data, now):
        reason_ = _text(data["reason"], field_label=_("退回原因"), max_len=REASON_MAX)
        to_level = LEVEL_DOWN[a.owner_level]
        owner = _owner_below(a, to_level)
        if owner is None:
            raise Conflict("no_handler", _("%(place)s没有%(level)s层级的处理人账号，无法退回。") % {
                "place": a.community.name, "level": Level(to_level).label})
        return Change(
            fields={"owner": owner, "owner_level": to_level, "bounce_count": F("bounce_count") + 1,
                    "accepted_at": a.accepted_at or now, "step_due": a.resolve_due},
            note=reason_,
            data={"reason": reason_, "from_level": a.owner_level, "to_level": to_level,
                  "from_owner": a.owner_id, "to_owner": owner.pk})

    return _transition(actor=actor, appeal=appeal, action=Action.HAND_BACK, version=version,
                       data={"reason": reason}, prepare=prepare)


def appeal_resolve(*, actor, appeal, note, version=None, photos=()) -> Appeal:
    """Report the result (办结), with a note and optional result photos; the reporter rates next."""
    def prepare(a, row, data, now):
        note_ = _text(data["note"], field_label=_("办理结果"), max_len=TEXT_MAX)
        return Change(fields={"resolved_at": now, "step_due": None}, note=note_, data={})

    return _transition(actor=actor, appeal=appeal, action=Action.RESOLVE, version=version, data={"note": note},
                       prepare=prepare, photos=photos)


def _bool(value):
    if isinstance(value, bool) or value is None:
        return value
    s = str(value).strip().lower()
    if s in ("1", "true", "yes", "on", "是"):
        return True
    if s in ("0", "false", "no", "off", "否"):
        return False
    return None


def appeal_rate(*, actor, appeal, resolved, satisfaction, comment="", version=None) -> Appeal:
    """The reporter rates the result. Unsatisfied the first time reopens it for redo; then it is final."""
    data = {"resolved": _bool(resolved), "satisfaction": satisfaction, "comment": comment}

    def prepare(a, row, data, now):
        if data["resolved"] is None:
            raise ValidationFailed("resolved_required", _("请选择问题是否已解决。"))
        if data["satisfaction"] not in Satisfaction.values:
            raise ValidationFailed("bad_satisfaction", _("请选择满意、基本满意或不满意。"))
        comment_ = _text(data["comment"], field_label=_("评价意见"), max_len=REASON_MAX, required=False)
        fields = {"rating_resolved": data["resolved"], "satisfaction": data["satisfaction"],
                  "rating_comment": comment_, "rated_at": now}
        reopen = row.target == State.REOPENED
        if reopen:
            respond_h, resolve_h = a.category.hours(a.urgency)
            fields.update(reopen_count=F("reopen_count") + 1, step_due=now + dt.timedelta(hours=respond_h),
                          resolve_due=now + dt.timedelta(hours=resolve_h))
        out = {"resolved": data["resolved"], "satisfaction": data["satisfaction"], "reopen": reopen}
        if a.reporter_id is None:
            out["callback"] = True  # staff recorded what the resident said on a call-back (回访)
        return Change(fields=fields, note=comment_, data=out)

    return _transition(actor=actor, appeal=appeal, action=Action.RATE, version=version, data=data, prepare=prepare)


def appeal_close(*, actor, appeal, note="", version=None) -> Appeal:
    """Close a rated appeal (staff, or the system)."""
    def prepare(a, row, data, now):
        return Change(fields={"closed_at": now, "step_due": None},
                      note=_text(data["note"], field_label=_("说明"), max_len=REASON_MAX, required=False))

    return _transition(actor=actor, appeal=appeal, action=Action.CLOSE, version=version, data={"note": note},
                       prepare=prepare)


def appeal_reject(*, actor, appeal, reason, redirect_to, version=None) -> Appeal:
    """Decline an appeal out of scope, naming why and where the resident should turn instead."""
    def prepare(a, row, data, now):
        reason_ = _text(data["reason"], field_label=_("不予受理的理由"), max_len=REASON_MAX)
        where = _text(data["redirect_to"], field_label=_("建议反映渠道（负责单位及联系方式）"), max_len=REDIRECT_MAX)
        return Change(fields={"reject_reason": reason_, "redirect_to": where, "closed_at": now, "step_due": None},
                      note=reason_, data={"reason": reason_, "redirect_to": where})

    return _transition(actor=actor, appeal=appeal, action=Action.REJECT, version=version,
                       data={"reason": reason, "redirect_to": redirect_to}, prepare=prepare)


def appeal_merge(*, actor, appeal, into, version=None, note="") -> Appeal:
    """Merge a duplicate into another open appeal of the same category; the target counts it."""
    def prepare(a, row, data, now):
        number = _text(data["into"], field_label=_("合并到的诉求编号"), max_len=20)
        target = selectors.appeal_get_for(actor, number)
        if target.pk == a.pk:
            raise ValidationFailed("merge_self", _("不能把诉求合并到它自己。"))
        if target.category_id != a.category_id:
            raise ValidationFailed("merge_category", _("只能合并到同一分类的诉求（%(a)s ≠ %(b)s）。") % {
                "a": a.category.label, "b": target.category.label})
        if target.state not in OPEN_STATES:
            raise ValidationFailed("merge_closed", _("诉求 %(n)s 已不在办理中，不能合并到它。") % {"n": target.number})
        note_ = _text(data["note"], field_label=_("说明"), max_len=REASON_MAX, required=False)

        def after(a, now):
            # The target must still be open when we commit, and it learns it has one more reporter.
            if not Appeal.objects.filter(pk=target.pk, state__in=OPEN_STATES).update(
                    merged_count=F("merged_count") + 1):
                raise Conflict("stale", _("诉求 %(n)s 刚刚已办结或关闭，不能合并到它。") % {"n": target.number})
            hooks.record_event(target, at=now, actor=_user_or_none(actor), action="merged_in",
                               from_state=target.state, to_state=target.state, note=note_, data={"from": a.number})

        return Change(fields={"merged_into": target, "closed_at": now, "step_due": None}, note=note_,
                      data={"into": target.number}, after=after)

    return _transition(actor=actor, appeal=appeal, action=Action.MERGE, version=version,
                       data={"into": into, "note": note}, prepare=prepare)


TRANSITION_SERVICES = {
    Action.ACCEPT: appeal_accept,
    Action.HAND_ON: appeal_hand_on,
    Action.HAND_BACK: appeal_hand_back,
    Action.RESOLVE: appeal_resolve,
    Action.RATE: appeal_rate,
    Action.REJECT: appeal_reject,
    Action.MERGE: appeal_merge,
    Action.CLOSE: appeal_close,
}


def appeal_act(*, actor, appeal, action: str, version=None, **fields) -> Appeal:
    """Dispatch one action by name (the API and the pages post actions by name)."""
    service = TRANSITION_SERVICES.get(action)
    if service is None:
        raise ValidationFailed("unknown_action", _("未知的操作：%(a)s") % {"a": action})
    kwargs = {k: fields.get(k, () if k == "photos" else "") for k in _ACTION_PARAMS[action]}
    return service(actor=actor, appeal=appeal, version=version, **kwargs)


_ACTION_PARAMS = {
    Action.ACCEPT: ("note",),
    Action.HAND_ON: ("reason",),
    Action.HAND_BACK: ("reason",),
    Action.RESOLVE: ("note", "photos"),
    Action.RATE: ("resolved", "satisfaction", "comment"),
    Action.REJECT: ("reason", "redirect_to"),
    Action.MERGE: ("into", "note"),
    Action.CLOSE: ("note",),
}


# ---- photos after submit ----

def appeal_photo_add(*, actor, appeal, upload) -> AppealPhoto:
    """Add a photo to an open appeal: its reporter, its owner or staff in scope; at most 9 in all."""
    def run() -> AppealPhoto:
        a = _fresh(actor, appeal)
        rel = relations(actor, a)
        if not ({workflow.REPORTER, workflow.OWNER} & rel or is_staff_in_scope(actor, a)):
            raise PermissionDenied("forbidden", _("只有反映人和处理人可以为该诉求添加照片。"))
        if a.state in TERMINAL_STATES:
            raise Conflict("appeal_closed", _("该诉求已结束，不能再添加照片。"))
        # Lock the appeal row (PostgreSQL) so two uploads cannot both pass the count.
        Appeal.objects.select_for_update().filter(pk=a.pk).first()
        checked = _check_photos(a.pk, [upload])
        now = timezone.now()
        event = hooks.record_event(a, at=now, actor=_user_or_none(actor), action="photo",
                                   from_state=a.state, to_state=a.state)
        photo = _store_photos(a, event, checked, actor, now)[0]
        audit.record(actor, "appeal.photo", a, after={"photo": photo.pk, "sha256": photo.sha256})
        return photo

    return _serialised(run)


def photo_get_for(actor, appeal_number, photo_id) -> AppealPhoto:
    appeal = selectors.appeal_get_for(actor, appeal_number)
    photo = AppealPhoto.objects.filter(pk=photo_id, appeal=appeal).first()
    if photo is None or not can_view(actor, appeal):
        raise NotFound("photo_not_found", _("照片不存在。"))
    return photo



# ---- the whistle (吹哨) and work orders (工单) ----

SUMMONS_MAX = 20


def work_order_stale_message():
    return _("该工单已被他人处理，请刷新后查看。")


def _item(entry, key):
    return entry.get(key) if isinstance(entry, dict) else getattr(entry, key, None)


def _local(when) -> str:
    return timezone.localtime(when).strftime("%Y-%m-%d %H:%M")


def _deadline(value, *, field_label, org_name, default, now):
    """An aware datetime in the future: a datetime, or ISO 8601 text (no offset means Asia/Shanghai)."""
    if value in (None, ""):
        return default
    when = value
    if not isinstance(value, dt.datetime):
        try:
            when = parse_datetime(str(value).strip())
        except ValueError:
            when = None
        if when is None:
            raise ValidationFailed("bad_deadline", _("「%(org)s」的%(field)s格式不正确：%(value)s（例如 2025-06-30T18:00）。") % {
                "org": org_name, "field": field_label, "value": value})
    if timezone.is_naive(when):
        when = timezone.make_aware(when)
    if when <= now:
        raise ValidationFailed("deadline_past", _("「%(org)s」的%(field)s %(when)s 已经过去，请选择将来的时间。") % {
            "org": org_name, "field": field_label, "when": _local(when)})
    horizon = settings.DEADLINE_HORIZON_DAYS
    if when > now + dt.timedelta(days=horizon):
        try:
            shown = _local(when)
        except OverflowError:  # 9999-12-31T23:59Z has no local time
            shown = when.isoformat()
        raise ValidationFailed("deadline_too_far", _("「%(org)s」的%(field)s %(when)s 太远：时限最多为 %(days)d 天之内。") % {
            "org": org_name, "field": field_label, "when": shown, "days": horizon})
    return when


def _organization_ids(items) -> list[int]:
    ids = []
    for entry in items:
        raw = _item(entry, "organization_id")
        if raw is None and _item(entry, "organization") is not None:
            raw = getattr(_item(entry, "organization"), "pk", _item(entry, "organization"))
        try:
            ids.append(int(raw))
        except (TypeError, ValueError):
            raise ValidationFailed("bad_organization", _("请选择要召集的职能部门或成员单位。")) from None
    return ids


def whistle_blow(*, actor, appeal, summons, note="", version=None) -> Appeal:
    """Blow the whistle (吹哨): summon departments or member units to an appeal at street level.

    Each summoned organisation gets a work order with a report-for-duty deadline and a resolve
    deadline. They default from the category (report within its respond hours, resolve within its
    resolve hours), may be set per organisation, and are never in the past. The appeal goes to
    dispatched; the officer who whistles becomes its owner.
    """
    def prepare(a, row, data, now):
        note_ = _text(data["note"], field_label=_("吹哨说明"), max_len=REASON_MAX, required=False)
        items = list(data["summons"] or ())
        if not items:
            raise ValidationFailed("summons_required", _("请至少选择一个要召集的职能部门或成员单位。"))
        if len(items) > SUMMONS_MAX:
            raise ValidationFailed("too_many_summons", _("一次吹哨最多召集 %(max)d 个单位。") % {"max": SUMMONS_MAX})
        ids = _organization_ids(items)
        if len(set(ids)) != len(ids):
            raise ValidationFailed("duplicate_organization", _("同一个单位只需召集一次，请删去重复的行。"))
        orgs = {o.pk: o for o in selectors.summonable_organizations(a).filter(pk__in=ids)}
        for pk in ids:
            if pk not in orgs:
                raise ValidationFailed("bad_organization", _(
                    "编号为 %(id)s 的单位不是本区的职能部门或成员单位，不能召集。") % {"id": pk})
        busy = list(WhistleSummons.objects.filter(appeal=a, assignee_id__in=ids, state__in=SUMMONS_OPEN_STATES)
                    .values_list("assignee__name", flat=True))
        if busy:
            raise ValidationFailed("already_summoned", _("「%(org)s」已有本诉求的工单在办，不需重复召集。") % {
                "org": "、".join(busy)})
        respond_h, resolve_h = a.category.hours(a.urgency)
        plan = []
        for entry, pk in zip(items, ids, strict=True):
            org = orgs[pk]
            report_due = _deadline(_item(entry, "report_due"), field_label=_("报到时限"), org_name=org.name,
                                   default=now + dt.timedelta(hours=respond_h), now=now)
            resolve_due = _deadline(_item(entry, "resolve_due"), field_label=_("办结时限"), org_name=org.name,
                                    default=now + dt.timedelta(hours=resolve_h), now=now)
            if resolve_due < report_due:
                raise ValidationFailed("resolve_before_report", _(
                    "「%(org)s」的办结时限（%(resolve)s）不能早于报到时限（%(report)s）。") % {
                    "org": org.name, "resolve": _local(resolve_due), "report": _local(report_due)})
            plan.append((org, report_due, resolve_due))
        pending = list(WhistleSummons.objects.filter(appeal=a, state__in=SUMMONS_OPEN_STATES)
                       .values_list("step_due", flat=True))
        out = {"organizations": [org.name for org, _r, _d in plan]}

        def after(a, now):
            whistle = Whistle.objects.create(appeal=a, blown_by=actor, at=now, note=note_)
            made = [WhistleSummons.objects.create(
                appeal=a, whistle=whistle, assignee=org, assignee_path=org.path, round=a.reopen_count,
                summoned_at=now, report_due=report_due, resolve_due=resolve_due, step_due=report_due)
                for org, report_due, resolve_due in plan]
            out.update(whistle=whistle.pk, work_orders=[wo.pk for wo in made],
                       deadlines=[[_local(wo.report_due), _local(wo.resolve_due)] for wo in made])

        return Change(fields={"owner": actor, "accepted_at": a.accepted_at or now,
                              "step_due": min([r for _o, r, _d in plan] + pending)},
                      note=note_, data=out, after=after)

    return _transition(actor=actor, appeal=appeal, action=Action.WHISTLE, version=version,
                       data={"note": note, "summons": summons}, prepare=prepare)


def _work_order_stale(pk, actor) -> Conflict:
    now = selectors.work_orders_with_related().get(pk=pk)
    return Conflict("stale", work_order_stale_message(), {
        "state": now.state, "version": now.version, "allowed_actions": allowed_work_order_actions(actor, now)})


def _summons_labels(actions) -> str:
    return "、".join(str(SUMMONS_ACTION_LABELS.get(a, a)) for a in actions)


def _pick_summons(actor, wo, action, data) -> workflow.Transition:
    if action not in workflow.SUMMONS_ACTIONS:
        raise ValidationFailed("unknown_action", _("未知的操作：%(a)s") % {"a": action})
    allowed = allowed_work_order_actions(actor, wo)
    hint = (_("当前可执行：%(list)s。") % {"list": _summons_labels(allowed)}) if allowed else _("当前没有您可执行的操作。")
    extra = {"state": wo.state, "action": action, "allowed_actions": allowed}
    rows = workflow.summons_rows_for(wo.state, action)
    label = SUMMONS_ACTION_LABELS[action]
    if not rows:
        raise Conflict("transition_not_allowed", _("该工单当前为「%(state)s」，不能%(action)s。%(hint)s") % {
            "state": SummonsState(wo.state).label, "action": label, "hint": hint}, extra)
    rel = summons_relations(actor, wo)
    mine = [r for r in rows if r.roles & rel]
    if not mine:
        raise PermissionDenied("forbidden", _("您没有权限对该工单执行「%(action)s」。") % {"action": label}, extra)
    ok = [r for r in mine if r.allows(wo, data)]
    if not ok:
        reason = next((r.refusal for r in mine if r.refusal), None)
        msg = str(reason) if reason else _("该工单当前不能%(action)s。") % {"action": label}
        raise Conflict("transition_not_allowed", f"{msg}{hint}", extra)
    return ok[0]


def _check_work_order_photos(wo_pk, uploads) -> list[CheckedPhoto]:
    checked = [check_photo(u) for u in uploads or ()]
    existing = AppealPhoto.objects.filter(work_order_id=wo_pk).count()
    if existing + len(checked) > PHOTO_MAX_COUNT:
        raise ValidationFailed("too_many_photos", _("每个工单最多 %(max)d 张照片（已有 %(n)d 张）。") % {
            "max": PHOTO_MAX_COUNT, "n": existing})
    return checked


def _settle(a: Appeal, now, trigger: WhistleSummons) -> None:
    """After a work order changed, with the appeal row locked: resolve the appeal when every work
    order of this round is resolved, send it back to the street when none is left, else move its
    step deadline to the most urgent pending one."""
    if a.state != State.DISPATCHED:
        return
    live = list(WhistleSummons.objects.filter(appeal_id=a.pk, round=a.reopen_count)
                .exclude(state__in=SUMMONS_DROPPED_STATES).values_list("state", "step_due"))
    if live and all(state == SummonsState.RESOLVED for state, _due in live):
        action, fields = Action.ORDERS_RESOLVED, {"resolved_at": now, "step_due": None}
    elif not live:
        action, fields = Action.BACK_TO_STREET, {"accepted_at": a.accepted_at or now, "step_due": a.resolve_due}
    else:
        due = min(d for state, d in live if state in SUMMONS_OPEN_STATES)
        Appeal.objects.filter(pk=a.pk).update(step_due=due, updated_at=now)
        return
    row = workflow.rows_for(a.state, action)[0]
    if Appeal.objects.filter(pk=a.pk, state=row.source, version=a.version).update(
            state=row.target, version=F("version") + 1, updated_at=now, **fields) != 1:
        raise _stale(a.pk, None)
    data = {"work_order": trigger.pk, "work_orders": len(live)}
    hooks.record_event(a, at=now, actor=None, action=action, from_state=row.source, to_state=row.target,
                       data=data, changes=fields, work_order=trigger)
    audit.record(None, f"appeal.{action}", a, before={"state": row.source, "version": a.version},
                 after={"state": row.target, "version": a.version + 1, **data})


def _summons_transition(*, actor, work_order, action, version, data, prepare, photos=()) -> WhistleSummons:
    version = _version(version)

    def run() -> WhistleSummons:
        pk = work_order.pk if isinstance(work_order, WhistleSummons) else work_order
        seen = selectors.work_order_get_for(actor, pk)  # 404 before anything is locked
        # Every work-order write locks its appeal first, so one appeal's work orders change one at a
        # time and the count in _settle sees every other writer's committed result (on SQLite the
        # IMMEDIATE transaction already holds the database's write lock).
        a = Appeal.objects.select_for_update().select_related("category").get(pk=seen.appeal_id)
        wo = selectors.work_orders_with_related().get(pk=seen.pk)
        if version is not None and version != wo.version:
            raise _work_order_stale(wo.pk, actor)
        row = _pick_summons(actor, wo, action, data)
        now = timezone.now()
        change = prepare(wo, row, data, now)
        checked = _check_work_order_photos(wo.pk, photos)
        updated = WhistleSummons.objects.filter(pk=wo.pk, state=row.source, version=wo.version).update(
            state=row.target, version=F("version") + 1, **change.fields)
        if updated != 1:
            raise _work_order_stale(wo.pk, actor)
        data_out = {"work_order": wo.pk, "organization": wo.assignee.name, "order_from": row.source,
                    "order_to": row.target, **change.data}
        event = hooks.record_event(a, at=now, actor=_user_or_none(actor), action=workflow.SUMMONS_EVENTS[action],
                                   from_state=a.state, to_state=a.state, note=change.note, data=data_out,
                                   work_order=wo, work_order_changes={"state": row.target, **change.fields})
        _store_photos(a, event, checked, actor, now, work_order=wo)
        audit.record(actor, f"workorder.{action}", wo, before={"state": row.source, "version": wo.version},
                     after={"state": row.target, "version": wo.version + 1, "appeal": a.number, **change.data})
        if row.source != row.target:
            _settle(a, now, wo)
        return selectors.work_orders_with_related().get(pk=wo.pk)

    return _serialised(run)


def summons_report(*, actor, work_order, version=None, note="") -> WhistleSummons:
    """Report for duty (报到): the organisation takes the work order on; its resolve deadline now counts."""
    def prepare(wo, row, data, now):
        note_ = _text(data["note"], field_label=_("说明"), max_len=REASON_MAX, required=False)
        return Change(fields={"reported_at": now, "reported_by": _user_or_none(actor), "step_due": wo.resolve_due},
                      note=note_)

    return _summons_transition(actor=actor, work_order=work_order, action=SummonsAction.REPORT, version=version,
                               data={"note": note}, prepare=prepare)


def summons_resolve(*, actor, work_order, note, version=None, photos=()) -> WhistleSummons:
    """Submit the result (办理结果) with optional photos. The appeal resolves with its last work order."""
    def prepare(wo, row, data, now):
        note_ = _text(data["note"], field_label=_("办理结果"), max_len=TEXT_MAX)
        return Change(fields={"resolved_at": now, "resolved_by": _user_or_none(actor), "result_note": note_},
                      note=note_)

    return _summons_transition(actor=actor, work_order=work_order, action=SummonsAction.RESOLVE, version=version,
                               data={"note": note}, prepare=prepare, photos=photos)


def summons_return(*, actor, work_order, reason, version=None) -> WhistleSummons:
    """The organisation says the work order is not theirs, with a reason; if every work order comes
    back, the appeal returns to the street."""
    def prepare(wo, row, data, now):
        reason_ = _text(data["reason"], field_label=_("退回原因"), max_len=REASON_MAX)
        return Change(fields={"closed_at": now, "closed_by": _user_or_none(actor), "reason": reason_},
                      note=reason_, data={"reason": reason_})

    return _summons_transition(actor=actor, work_order=work_order, action=SummonsAction.RETURN, version=version,
                               data={"reason": reason}, prepare=prepare)


def summons_cancel(*, actor, work_order, reason, version=None) -> WhistleSummons:
    """The street withdraws a summons it no longer needs, with a reason."""
    def prepare(wo, row, data, now):
        reason_ = _text(data["reason"], field_label=_("撤销原因"), max_len=REASON_MAX)
        return Change(fields={"closed_at": now, "closed_by": _user_or_none(actor), "reason": reason_},
                      note=reason_, data={"reason": reason_})

    return _summons_transition(actor=actor, work_order=work_order, action=SummonsAction.CANCEL, version=version,
                               data={"reason": reason}, prepare=prepare)


def _score(value, field_label) -> int:
    if isinstance(value, bool):
        value = None
    try:
        n = int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        n = None
    if n is None or not RATING_MIN <= n <= RATING_MAX:
        raise ValidationFailed("bad_rating", _("请为%(field)s打 %(min)d 至 %(max)d 分。") % {
            "field": field_label, "min": RATING_MIN, "max": RATING_MAX})
    return n


def summons_rate(*, actor, work_order, speed, result, comment="", version=None) -> WhistleSummons:
    """The street rates a resolved work order (reverse evaluation): response speed and result, 1–5, once."""
    def prepare(wo, row, data, now):
        speed_ = _score(data["speed"], _("响应速度"))
        result_ = _score(data["result"], _("办理结果"))
        comment_ = _text(data["comment"], field_label=_("评价意见"), max_len=REASON_MAX, required=False)
        return Change(fields={"rating_speed": speed_, "rating_result": result_, "rating_comment": comment_,
                              "rated_at": now, "rated_by": _user_or_none(actor)},
                      note=comment_, data={"speed": speed_, "result": result_})

    return _summons_transition(actor=actor, work_order=work_order, action=SummonsAction.RATE, version=version,
                               data={"speed": speed, "result": result, "comment": comment}, prepare=prepare)


SUMMONS_SERVICES = {
    SummonsAction.REPORT: summons_report,
    SummonsAction.RESOLVE: summons_resolve,
    SummonsAction.RETURN: summons_return,
    SummonsAction.CANCEL: summons_cancel,
    SummonsAction.RATE: summons_rate,
}

_SUMMONS_PARAMS = {
    SummonsAction.REPORT: ("note",),
    SummonsAction.RESOLVE: ("note", "photos"),
    SummonsAction.RETURN: ("reason",),
    SummonsAction.CANCEL: ("reason",),
    SummonsAction.RATE: ("speed", "result", "comment"),
}


def summons_act(*, actor, work_order, action: str, version=None, **fields) -> WhistleSummons:
    """Dispatch one work-order action by name (the API and the pages post actions by name)."""
    service = SUMMONS_SERVICES.get(action)
    if service is None:
        raise ValidationFailed("unknown_action", _("未知的操作：%(a)s") % {"a": action})
    kwargs = {k: fields.get(k, () if k == "photos" else "") for k in _SUMMONS_PARAMS[action]}
    return service(actor=actor, work_order=work_order, version=version, **kwargs)


# ---- the deadline sweep (`gongzhi sweep`): warnings, escalation, auto-close ----
#
# These run as the system (actor None) from appeals/sweep.py, each in its own short transaction,
# and apply the rows of workflow.SWEEP_TABLE, which nobody is ever offered. A warning (overdue,
# due soon) changes no state but bumps the version with a compare-and-set, so of two sweeps
# running at once exactly one writes it; it is written once per step and deadline (the timeline
# is checked first), so a second sweep at the same moment writes nothing. Their timeline notes are
# written in the site's language: the sweep has no request to take one from.
def _due_soon_window(hours: float, longest: float | None = None) -> dt.timedelta:
    """A step is due soon in the last APPEAL_DUE_SOON_FRACTION of its length, capped at that
    fraction of the longest category deadline (so the sweep's scan has a bound). `longest` is
    max_step_hours(), a query: the sweep passes it once a scan rather than once a row."""
    longest = max_step_hours() if longest is None else longest
    return dt.timedelta(hours=settings.APPEAL_DUE_SOON_FRACTION * min(hours, longest))


def max_step_hours() -> int:
    """The longest deadline any category sets (hours): the sweep's due-soon scan looks this far ahead."""
    from django.db.models import Max

    agg = Category.objects.aggregate(*(Max(f) for f in ("urgent_respond_hours", "urgent_resolve_hours",
                                                        "normal_respond_hours", "normal_resolve_hours")))
    return max([v for v in agg.values() if v] or [168])


def appeal_step(a: Appeal) -> str | None:
    """Which step the appeal's step_due is the deadline of: a response from the level that holds it
    (submitted, handed on, reopened) or its result (accepted). Dispatched appeals wait on their work
    orders, whose steps are warned one by one; other states have no pending step."""
    if a.state in (State.SUBMITTED, State.ESCALATED, State.REOPENED):
        return workflow.STEP_RESPOND
    if a.state == State.ACCEPTED:
        return workflow.STEP_RESOLVE
    return None


def _appeal_step_hours(a: Appeal, step: str) -> float:
    respond_h, resolve_h = a.category.hours(a.urgency)
    return respond_h if step == workflow.STEP_RESPOND else resolve_h


def work_order_step(wo: WhistleSummons) -> tuple[str | None, dt.datetime | None]:
    if wo.state == SummonsState.SUMMONED:
        return workflow.STEP_REPORT, wo.report_due
    if wo.state == SummonsState.REPORTED:
        return workflow.STEP_WO_RESOLVE, wo.resolve_due
    return None, None


def _same_time(iso, when) -> bool:
    try:
        return dt.datetime.fromisoformat(iso) == when
    except (TypeError, ValueError):
        return False


def warned(appeal_pk, action: str, step: str, due, work_order_pk=None, events=None) -> bool:
    """Whether the timeline already holds this warning (of this step, with this deadline)."""
    if events is None:
        events = AppealEvent.objects.filter(appeal_id=appeal_pk, action=action).values_list("data", flat=True)
    return any(d.get("step") == step and d.get("work_order") == work_order_pk and _same_time(d.get("due"), due)
               for d in events)


def _due_check(action: str, due, now, window: dt.timedelta) -> bool:
    if action == workflow.OVERDUE:
        return due <= now
    return now < due <= now + window


def _sweep_note(action, step, due, *, level) -> str:
    """The timeline's words for a warning, in the site's language (the sweep has no request)."""
    with translation.override(settings.LANGUAGE_CODE):
        template = (_("%(who)s的%(step)s时限 %(due)s 已过。") if action == workflow.OVERDUE
                    else _("%(who)s的%(step)s时限 %(due)s 即将到期。"))
        return template % {"who": level, "step": workflow.STEP_LABELS[step], "due": _local(due)}


def _write_warning(a: Appeal, *, action, step, due, now, extra=None) -> dict | None:
    """Version +1 (compare-and-set on the row as read) and the warning on the timeline; None if lost."""
    if Appeal.objects.filter(pk=a.pk, state=a.state, version=a.version, step_due=due).update(
            version=F("version") + 1) != 1:
        return None
    data = {"step": step, "due": due.isoformat(), "level": a.owner_level, **(extra or {})}
    hooks.record_event(a, at=now, actor=None, action=action, from_state=a.state, to_state=a.state, data=data,
                       note=_sweep_note(action, step, due, level=Level(a.owner_level).label))
    audit.record(None, f"appeal.{action}", a, before={"version": a.version}, after={"version": a.version + 1, **data})
    a.version += 1
    return data


def appeal_warn(*, appeal, action: str, now=None) -> bool:
    """Warn of the appeal's pending step: `overdue` (its deadline passed) or `due_soon`. Once per
    step and deadline; True if this call wrote it. Escalation below the street goes through
    appeal_escalate, which writes the overdue warning itself."""
    if action not in (workflow.OVERDUE, workflow.DUE_SOON):
        raise ValueError(action)
    now = now or timezone.now()
    pk = appeal.pk if isinstance(appeal, Appeal) else appeal

    def run() -> bool:
        a = Appeal.objects.select_related("category").get(pk=pk)
        step, due = appeal_step(a), a.step_due
        if step is None or due is None:
            return False
        if not _due_check(action, due, now, _due_soon_window(_appeal_step_hours(a, step))):
            return False
        if warned(a.pk, action, step, due):
            return False
        return _write_warning(a, action=action, step=step, due=due, now=now) is not None

    return _serialised(run)


def _owner_above(a: Appeal, level: str):
    """Who takes an escalated appeal: whoever handed it down from that level, else the level's holder."""
    user = _last_mover(a, Action.HAND_BACK, level)
    if user is not None:
        return user
    return level_holder(level, grid_path=a.grid_path, place_path=a.place_path)


@dataclass
class EscalateOutcome:
    warned: bool = False  # the overdue warning was written by this call
    escalated: bool = False
    no_handler: bool = False  # overdue below the street, but nobody holds the level above


def appeal_escalate(*, appeal, now=None) -> EscalateOutcome:
    """The step of an appeal at grid or community level is overdue: warn (once), then move it up one
    level to the level's on-duty holder (row `escalate`), as a hand-on would, by the system.

    At the street there is no level above: only the overdue warning is written (the notices tell the
    street and its district). The new level owes a response within the category's respond hours;
    the appeal's resolve deadline is unchanged (it counts from submission, as for a hand-on).
    """
    now = now or timezone.now()
    pk = appeal.pk if isinstance(appeal, Appeal) else appeal
    out = EscalateOutcome()

    def run() -> EscalateOutcome:
        a = Appeal.objects.select_related("category", "community").get(pk=pk)
        step, due = appeal_step(a), a.step_due
        if step is None or due is None or due > now:
            return out
        rows = [r for r in workflow.sweep_rows_for(a.state, workflow.SweepAction.ESCALATE) if r.allows(a)]
        to_level = LEVEL_UP.get(a.owner_level)
        owner = _owner_above(a, to_level) if rows and to_level else None
        if not warned(a.pk, workflow.OVERDUE, step, due):
            extra = {"escalates": True} if owner is not None else {}
            out.warned = _write_warning(a, action=workflow.OVERDUE, step=step, due=due, now=now,
                                        extra=extra) is not None
            if not out.warned:
                return out  # another sweep is on it
        if not rows or to_level is None:
            return out
        if owner is None:
            out.no_handler = True
            return out
        row = rows[0]
        fields = {"owner": owner, "owner_level": to_level, "step_due": now + dt.timedelta(
            hours=a.category.hours(a.urgency)[0])}
        if Appeal.objects.filter(pk=a.pk, state=row.source, version=a.version, step_due=due).update(
                state=row.target, version=F("version") + 1, updated_at=now, **fields) != 1:
            if out.warned:
                raise _stale(a.pk, None)  # cannot happen while we hold the row; never half-done
            return out
        data = {"step": step, "due": due.isoformat(), "from_level": a.owner_level, "to_level": to_level,
                "from_owner": a.owner_id, "to_owner": owner.pk}
        with translation.override(settings.LANGUAGE_CODE):
            note = _("%(from)s超时未办，自动上报%(to)s。") % {"from": Level(a.owner_level).label,
                                                        "to": Level(to_level).label}
        hooks.record_event(a, at=now, actor=None, action=row.action, from_state=row.source, to_state=row.target,
                           note=note, data=data, changes=fields)
        audit.record(None, f"appeal.{row.action}", a,
                     before={"state": row.source, "version": a.version, "owner": a.owner_id,
                             "owner_level": a.owner_level},
                     after={"state": row.target, "version": a.version + 1, **data})
        out.escalated = True
        return out

    return _serialised(run)


def appeal_auto_close(*, appeal, now=None) -> bool:
    """Close an appeal resolved APPEAL_AUTO_CLOSE_DAYS ago that its reporter has not rated (row
    `auto_close`). Its rating stays empty. True if this call closed it."""
    now = now or timezone.now()
    pk = appeal.pk if isinstance(appeal, Appeal) else appeal
    days = settings.APPEAL_AUTO_CLOSE_DAYS

    def run() -> bool:
        a = Appeal.objects.get(pk=pk)
        rows = [r for r in workflow.sweep_rows_for(a.state, workflow.SweepAction.AUTO_CLOSE) if r.allows(a)]
        if not rows or a.resolved_at is None or a.resolved_at > now - dt.timedelta(days=days):
            return False
        row = rows[0]
        fields = {"closed_at": now, "step_due": None}
        if Appeal.objects.filter(pk=a.pk, state=row.source, version=a.version).update(
                state=row.target, version=F("version") + 1, updated_at=now, **fields) != 1:
            return False
        data = {"resolved_at": a.resolved_at.isoformat(), "days": days}
        with translation.override(settings.LANGUAGE_CODE):
            note = _("办结后 %(days)d 天内未评价，自动结案。") % {"days": days}
        hooks.record_event(a, at=now, actor=None, action=row.action, from_state=row.source, to_state=row.target,
                           note=note, data=data, changes=fields)
        audit.record(None, f"appeal.{row.action}", a, before={"state": row.source, "version": a.version},
                     after={"state": row.target, "version": a.version + 1, **data})
        return True

    return _serialised(run)


def work_order_warn(*, work_order, action: str, now=None) -> bool:
    """Warn of a work order's pending step (report for duty, result): overdue or due soon, once per
    step and deadline, on its appeal's timeline; the notices tell the organisation (and the street,
    when overdue). The compare-and-set is on the work order's version; the appeal row is locked
    first, as every work-order write does."""
    if action not in (workflow.OVERDUE, workflow.DUE_SOON):
        raise ValueError(action)
    now = now or timezone.now()
    pk = work_order.pk if isinstance(work_order, WhistleSummons) else work_order

    def run() -> bool:
        appeal_id = WhistleSummons.objects.values_list("appeal_id", flat=True).get(pk=pk)
        a = Appeal.objects.select_for_update().select_related("category").get(pk=appeal_id)
        wo = WhistleSummons.objects.select_related("assignee").get(pk=pk)
        step, due = work_order_step(wo)
        if step is None or a.state != State.DISPATCHED:
            return False
        window = _due_soon_window((due - wo.summoned_at).total_seconds() / 3600)
        if not _due_check(action, due, now, window) or warned(a.pk, action, step, due, wo.pk):
            return False
        if WhistleSummons.objects.filter(pk=wo.pk, state=wo.state, version=wo.version).update(
                version=F("version") + 1) != 1:
            return False
        data = {"step": step, "due": due.isoformat(), "level": a.owner_level, "work_order": wo.pk,
                "organization": wo.assignee.name, "organization_id": wo.assignee_id}
        hooks.record_event(a, at=now, actor=None, action=action, from_state=a.state, to_state=a.state, data=data,
                           note=_sweep_note(action, step, due, level=wo.assignee.name),
                           work_order=wo, work_order_changes={})
        audit.record(None, f"workorder.{action}", wo, before={"version": wo.version},
                     after={"version": wo.version + 1, "appeal": a.number, **data})
        return True

    return _serialised(run)


# ---- assisted reporters' personal data ----

def appeal_reporter_unmask(*, actor, appeal, field: str, reason: str, channel: str = "web") -> str:
    """Read an assisted reporter's name or phone in clear: a permission, and always an audit entry
    (who, which appeal, which field, why; never the value)."""
    if field not in ("phone", "name"):
        raise ValidationFailed("bad_field", _("只能查看反映人的姓名或手机号。"))
    reason = unmask.clean_reason(reason)
    a = selectors.appeal_get_for(actor, appeal.pk if hasattr(appeal, "pk") else appeal)
    if not can_unmask_reporter(actor, a):
        raise PermissionDenied("forbidden", _("您没有权限查看诉求 %(number)s 反映人的完整信息。") % {
            "number": a.number})
    unmask.check_rate(actor)
    token = a.reporter_phone_enc if field == "phone" else a.reporter_name_enc
    if not token:
        missing = _("诉求 %(number)s 没有登记反映人的手机号。") if field == "phone" else _("诉求 %(number)s 没有登记反映人的姓名。")
        raise ValidationFailed("nothing_recorded", missing % {"number": a.number})
    with transaction.atomic():
        # The person access log (what auditors read for every clear read) and the hash-chained trail.
        PiiAccess.objects.create(user=actor, person=None, subject=_("诉求 %(number)s") % {"number": a.number},
                                 field=f"reporter_{field}", reason=reason, channel=channel)
        audit.record(actor, "appeal.reporter_unmask", a, after={
            "number": a.number, "field": field, "reason": reason, "channel": channel})
    return pii.decrypt(token)
