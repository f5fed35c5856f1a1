"""Appeals (诉求) with their categories, append-only timeline and photos; whistles and work orders.

The models hold data and the invariants the database can enforce (unique numbers, one appeal per
idempotency key and submitter, counters never negative). Flows live in services.py, and which
transition is allowed when lives in workflow.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

TEXT_MAX = 2000
TITLE_MAX = 100


class Urgency(models.TextChoices):
    URGENT = "urgent", _("紧急")
    NORMAL = "normal", _("一般")


class State(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    ACCEPTED = "accepted", _("办理中")
    ESCALATED = "escalated", _("已上报")
    # Reserved for the whistle slice: a street officer summoned departments (work orders open).
    DISPATCHED = "dispatched", _("已派单")
    RESOLVED = "resolved", _("已办结")
    RATED = "rated", _("已评价")
    REOPENED = "reopened", _("重新办理")
    CLOSED = "closed", _("已结案")
    REJECTED = "rejected", _("不予受理")
    MERGED = "merged", _("已合并")


# States in which someone still has to act on the appeal (inboxes, sweeps, duplicates).
OPEN_STATES = (State.SUBMITTED, State.ACCEPTED, State.ESCALATED, State.DISPATCHED, State.REOPENED)
TERMINAL_STATES = (State.CLOSED, State.REJECTED, State.MERGED)


class Level(models.TextChoices):
    GRID = "grid", _("网格")
    COMMUNITY = "community", _("社区")
    STREET = "street", _("街道")


class Source(models.TextChoices):
    RESIDENT = "resident", _("居民上报")
    HOTLINE = "hotline", _("热线代录")
    PATROL = "patrol", _("网格巡查")
    API = "api", _("接口")
    OPEN311 = "open311", _("Open311")
    DELIBERATION = "deliberation", _("议事会")
    VISIT = "visit", _("走访")
    ENTERPRISE = "enterprise", _("企业服务")
    # Opened by a street officer from a hotspot warning before anyone else asks (未诉先办).
    PROACTIVE = "proactive", _("未诉先办")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("满意")
    BASIC = "basic", _("基本满意")
    UNSATISFIED = "unsatisfied", _("不满意")


def category_label(category, language: str | None = None) -> str:
    """A category's name for a reader: English (`name_en`) when the language is English and one is set,
    else the Chinese name. `language` defaults to the active one (the request's)."""
    if category is None:
        return ""
    lang = (language or get_language() or "").lower()
    if lang.startswith("en") and category.name_en:
        return category.name_en
    return category.name


class Category(models.Model):
    """A kind of appeal, with its default routing and deadlines per urgency (editable by the district)."""

    code = models.SlugField(_("编码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=50, unique=True)
    # Shown instead of `name` to readers whose language is English (pages, API, Open311); blank falls back.
    name_en = models.CharField(_("英文名称"), max_length=80, blank=True, default="")
    description = models.CharField(_("说明"), max_length=200, blank=True)
    default_department = models.ForeignKey(
        "org.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="appeal_categories",
        limit_choices_to={"kind": "department"}, verbose_name=_("默认职能部门"),
    )
    urgent_respond_hours = models.PositiveIntegerField(_("紧急：响应时限（小时）"), default=2)
    urgent_resolve_hours = models.PositiveIntegerField(_("紧急：办结时限（小时）"), default=24)
    normal_respond_hours = models.PositiveIntegerField(_("一般：响应时限（小时）"), default=24)
    normal_resolve_hours = models.PositiveIntegerField(_("一般：办结时限（小时）"), default=168)
    sort = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["sort", "id"]
        verbose_name = _("诉求分类")
        verbose_name_plural = _("诉求分类")
        constraints = [
            models.CheckConstraint(
                condition=Q(urgent_respond_hours__gt=0, urgent_resolve_hours__gt=0, normal_respond_hours__gt=0,
                            normal_resolve_hours__gt=0),
                name="category_hours_positive",
            ),
        ]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """The name in the active language: the one rule every page, API answer and Open311 service uses."""
        return category_label(self)

    def hours(self, urgency: str) -> tuple[int, int]:
        """(respond hours, resolve hours) for an urgency."""
        if urgency == Urgency.URGENT:
            return self.urgent_respond_hours, self.urgent_resolve_hours
        return self.normal_respond_hours, self.normal_resolve_hours


class AppealCounter(models.Model):
    """The last sequence number issued on a day (Asia/Shanghai): numbers read SQ + yyyymmdd + 6 digits."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)


class Appeal(models.Model):
    number = models.CharField(max_length=20, unique=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="appeals")
    urgency = models.CharField(max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    title = models.CharField(max_length=TITLE_MAX)
    text = models.TextField()
    lon = models.FloatField()
    lat = models.FloatField()
    # Where the caller said it is (staff entry: typed, or filled by the place search); may be blank.
    address = models.CharField(max_length=200, blank=True, default="")
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="appeals")
    community = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="appeals")
    # Copies of the micro grid's path and its community's place path: scope checks are prefix tests.
    grid_path = models.CharField(max_length=255)
    place_path = models.CharField(max_length=255)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.RESIDENT)

    # Who reported it: a user, or (assisted entry) a resident named here, encrypted, with consent.
    reporter = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="appeals_reported")
    # Who typed it in (the reporter, or the staff member entering a call); idempotency keys are theirs.
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="appeals_submitted")
    reporter_name_enc = models.TextField(blank=True)
    reporter_name_masked = models.CharField(max_length=50, blank=True)
    reporter_phone_enc = models.TextField(blank=True)
    reporter_phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    reporter_phone_masked = models.CharField(max_length=20, blank=True)
    consent_recorded = models.BooleanField(default=False)
    anonymous = models.BooleanField(default=False)

    state = models.CharField(max_length=16, choices=State.choices, default=State.SUBMITTED)
    # Compare-and-set: every transition is UPDATE … WHERE id=… AND state=… AND version=…, then +1.
    version = models.PositiveIntegerField(default=1)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="appeals_owned")
    owner_level = models.CharField(max_length=16, choices=Level.choices, default=Level.GRID)

    submitted_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    respond_due = models.DateTimeField()
    resolve_due = models.DateTimeField()
    # The deadline of the step now pending (respond, resolve …): what inboxes sort by and sweeps scan.
    step_due = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    reopen_count = models.PositiveSmallIntegerField(default=0)
    bounce_count = models.PositiveSmallIntegerField(default=0)
    handon_count = models.PositiveSmallIntegerField(default=0)
    merged_count = models.PositiveIntegerField(default=0)  # duplicates merged into this one

    rating_resolved = models.BooleanField(null=True, blank=True)
    satisfaction = models.CharField(max_length=16, choices=Satisfaction.choices, blank=True)
    rating_comment = models.TextField(blank=True)

    reject_reason = models.TextField(blank=True)
    redirect_to = models.CharField(max_length=200, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="merged_from")
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    # The hotspot warning this appeal is one of the repeats of, and (once a street officer has
    # turned the hotspot into one) the proactive appeal the repeats link to.
    hotspot = models.ForeignKey("Hotspot", null=True, blank=True, on_delete=models.SET_NULL, related_name="appeals")
    proactive = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="repeats")
    # Set once retention (appeals/retention.py) removed who reported it and how to reach them.
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["submitted_by", "idempotency_key"],
                                    condition=Q(idempotency_key__isnull=False), name="appeal_unique_idempotency_key"),
            models.CheckConstraint(condition=Q(reopen_count__lte=1), name="appeal_reopens_once"),
            models.CheckConstraint(condition=~Q(merged_into=models.F("id")), name="appeal_not_merged_into_self"),
            models.CheckConstraint(condition=Q(reporter__isnull=False) | ~Q(reporter_name_enc="")
                                   | Q(anonymised_at__isnull=False),
                                   name="appeal_has_reporter"),
        ]
        indexes = [
            models.Index(fields=["state", "step_due"], name="appeal_state_due"),
            models.Index(fields=["owner", "state"], name="appeal_owner_state"),
            models.Index(fields=["reporter", "id"], name="appeal_reporter"),
            models.Index(fields=["place_path", "state"], name="appeal_place_state"),
            models.Index(fields=["grid_path", "state"], name="appeal_grid_state"),
            models.Index(fields=["category", "submitted_at"], name="appeal_category_time"),
            # Inboxes and boards ask for open appeals under a grid or place path prefix. These partial
            # indexes hold only the open ~1 % of the table, and pattern ops let PostgreSQL answer
            # `path LIKE 'prefix%'` from them (the plain indexes above cannot: the collation is not C),
            # so an inbox reads a few hundred rows, not every open appeal in the city.
            models.Index(fields=["grid_path"], name="appeal_open_grid_path", opclasses=["varchar_pattern_ops"],
                         condition=Q(state__in=OPEN_STATES)),
            models.Index(fields=["place_path"], name="appeal_open_place_path", opclasses=["varchar_pattern_ops"],
                         condition=Q(state__in=OPEN_STATES)),
            # The sweep's auto-close looks for resolved appeals left unrated.
            models.Index(fields=["resolved_at"], name="appeal_resolved_unrated", condition=Q(state="resolved")),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES


class AppealEvent(models.Model):
    """One line of an appeal's timeline: who did what when. Append-only: never edited, never deleted."""

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    action = models.CharField(max_length=16)
    from_state = models.CharField(max_length=16, blank=True)
    to_state = models.CharField(max_length=16)
    note = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["appeal", "id"], name="appealevent_appeal")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("AppealEvent is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("AppealEvent is append-only")


def photo_path(instance, filename):
    # The name is ours (uuid + extension of the detected type), never the uploader's.
    return f"appeals/{instance.appeal.submitted_at:%Y/%m}/{filename}"


class AppealPhoto(models.Model):
    """A photo of an appeal, optionally of one timeline event (e.g. the result photo on resolve).

    Served only through a view that checks the viewer may see the appeal; never from MEDIA_URL.
    """

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="photos")
    event = models.ForeignKey(AppealEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="photos")
    file = models.FileField(upload_to=photo_path, max_length=200)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField()
    # A department's result photo belongs to its work order (at most 9 per work order, not per appeal).
    work_order = models.ForeignKey("WhistleSummons", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="photos")

    class Meta:
        ordering = ["id"]


class Whistle(models.Model):
    """A street officer blows the whistle (吹哨) on an appeal: one or more organisations are summoned."""

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="whistles")
    blown_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return f"{self.appeal.number} #{self.pk}"


class SummonsState(models.TextChoices):
    SUMMONED = "summoned", _("待报到")
    REPORTED = "reported", _("已报到")
    RESOLVED = "resolved", _("已办结")
    RETURNED = "returned", _("已退回")
    CANCELLED = "cancelled", _("已撤销")


# A work order still to be worked on; and the ones that no longer count toward the appeal's result.
SUMMONS_OPEN_STATES = (SummonsState.SUMMONED, SummonsState.REPORTED)
SUMMONS_DROPPED_STATES = (SummonsState.RETURNED, SummonsState.CANCELLED)
RATING_MIN, RATING_MAX = 1, 5


class WhistleSummons(models.Model):
    """One summoned organisation's share of an appeal: the work order (工单) in its inbox.

    summoned → reported (报到) → resolved (result submitted); or returned (not theirs, with a
    reason) or cancelled by the street. Transitions live in workflow.SUMMONS_TABLE; every change is
    a compare-and-set on `version`. The street rates the result once it is resolved (reverse
    evaluation): speed and result, 1–5 each.
    """

    appeal = models.ForeignKey(Appeal, on_delete=models.PROTECT, related_name="work_orders")
    whistle = models.ForeignKey(Whistle, on_delete=models.PROTECT, related_name="summons")
    assignee = models.ForeignKey("org.Organization", on_delete=models.PROTECT, related_name="work_orders")
    # A copy of the assignee's organisation path: "work orders in my department" is a prefix query.
    assignee_path = models.CharField(max_length=255)
    state = models.CharField(max_length=16, choices=SummonsState.choices, default=SummonsState.SUMMONED)
    version = models.PositiveIntegerField(default=1)
    # The appeal's reopen_count when summoned. The appeal resolves when every work order of the
    # current round is resolved: a reopened appeal's new whistle is not satisfied by the old results.
    round = models.PositiveSmallIntegerField(default=0)

    summoned_at = models.DateTimeField()
    report_due = models.DateTimeField()
    resolve_due = models.DateTimeField()
    # The deadline of the pending step (report, then resolve); kept at the last one once finished,
    # so the inbox can sort and keyset-paginate on (step_due, id) without nulls.
    step_due = models.DateTimeField()
    reported_at = models.DateTimeField(null=True, blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    result_note = models.TextField(blank=True)
    # Returned (by the organisation) or cancelled (by the street): when and why.
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="+")
    reason = models.TextField(blank=True)

    rating_speed = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_result = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.TextField(blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")

    class Meta:
        ordering = ["id"]
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        constraints = [
            models.UniqueConstraint(fields=["whistle", "assignee"], name="summons_once_per_whistle"),
            # An organisation holds at most one open work order per appeal.
            models.UniqueConstraint(fields=["appeal", "assignee"], condition=Q(state__in=SUMMONS_OPEN_STATES),
                                    name="summons_one_open_per_appeal"),
            models.CheckConstraint(condition=Q(resolve_due__gte=models.F("report_due")),
                                   name="summons_resolve_after_report"),
            models.CheckConstraint(
                condition=(Q(rating_speed__isnull=True, rating_result__isnull=True)
                           | Q(rating_speed__gte=RATING_MIN, rating_speed__lte=RATING_MAX,
                               rating_result__gte=RATING_MIN, rating_result__lte=RATING_MAX,
                               state=SummonsState.RESOLVED)),
                name="summons_rating_1_to_5_when_resolved"),
        ]
        indexes = [
            models.Index(fields=["assignee_path", "step_due", "id"], name="summons_inbox"),
            models.Index(fields=["state", "step_due"], name="summons_state_due"),
            models.Index(fields=["appeal", "state"], name="summons_appeal_state"),
        ]

    def __str__(self):
        return f"{self.appeal.number} → {self.assignee}"

    @property
    def is_open(self) -> bool:
        return self.state in SUMMONS_OPEN_STATES


# The glossary's other name for one summons: a work order (工单).
WorkOrder = WhistleSummons


class HotspotState(models.TextChoices):
    OPEN = "open", _("待处置")
    CONVERTED = "converted", _("已转未诉先办")
    DISMISSED = "dismissed", _("已忽略")


class Hotspot(models.Model):
    """A hotspot warning: N or more appeals of one category within R metres and T days.

    Radius, window and threshold are copied from the settings at detection time so the warning
    still reads right after the settings change. A street officer turns it into one proactive
    appeal (`proactive_appeal`) or dismisses it with a reason; its repeats point here.
    """

    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="hotspots")
    grid = models.ForeignKey("places.Grid", on_delete=models.PROTECT, related_name="hotspots")
    grid_path = models.CharField(max_length=255)
    place_path = models.CharField(max_length=255)
    lon = models.FloatField()
    lat = models.FloatField()
    radius_m = models.PositiveIntegerField()
    window_days = models.PositiveIntegerField()
    threshold = models.PositiveIntegerField()
    appeal_count = models.PositiveIntegerField(default=0)
    first_at = models.DateTimeField()
    last_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=HotspotState.choices, default=HotspotState.OPEN)
    version = models.PositiveIntegerField(default=1)
    proactive_appeal = models.OneToOneField(Appeal, null=True, blank=True, on_delete=models.PROTECT,
                                            related_name="hotspot_source")
    dismissed_reason = models.TextField(blank=True)
    handled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    handled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["-last_at", "-id"]
        verbose_name = _("热点预警")
        verbose_name_plural = _("热点预警")
        indexes = [
            models.Index(fields=["place_path", "state", "last_at"], name="hotspot_scope_state"),
            models.Index(fields=["category", "state"], name="hotspot_category_state"),
        ]

    def __str__(self):
        return f"{self.category} × {self.appeal_count} @ {self.grid_id}"


# ---- KPI rollups (appeals/kpi.py keeps them; the KPI page and API read only these) ----

class RollupKind(models.TextChoices):
    CITY = "city", _("市")
    DISTRICT = "district", _("区")
    STREET = "street", _("街道")
    COMMUNITY = "community", _("社区")
    GRID = "grid", _("网格")
    ORG = "org", _("单位")
    # One organisation's work orders for appeals inside one place (the departments a street summoned).
    DEPT = "dept", _("单位（在辖区内）")


def _counter():
    return models.PositiveIntegerField(default=0)


class AppealRollup(models.Model):
    """The KPI counters of one node on one day (Asia/Shanghai), kept by kpi.on_event in the same
    transaction as each transition (an upsert adding to the counters), never by a scan.

    `node` names the node with its kind ("place:/…/", "grid:/…/", "org:/…/", "dept:<org id>@place:/…/")
    and `parent` the node above it, so the children of a node over a period are one indexed query.
    Each node also has month rows ("month:" + node, parent "month:" + parent, day = the 1st) that sum
    its days, so a long period reads one row per whole month.
    Appeal counters sit on place and grid rows and count appeals by the day they were submitted;
    work-order counters sit on org and dept rows and count work orders by the day they were
    summoned (see kpi.py for every definition).
    """

    day = models.DateField()
    node = models.CharField(max_length=300)
    kind = models.CharField(max_length=16, choices=RollupKind.choices)
    parent = models.CharField(max_length=300, blank=True)
    org = models.ForeignKey("org.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    submitted = _counter()
    accepted = _counter()
    accepted_on_time = _counter()
    resolved = _counter()
    resolved_on_time = _counter()
    rated = _counter()
    satisfied = _counter()
    basically_satisfied = _counter()
    unsatisfied = _counter()
    reporter_resolved = _counter()
    reopened = _counter()
    handed_on = _counter()
    bounces = _counter()
    escalated = _counter()
    overdue = _counter()
    rejected = _counter()
    merged = _counter()
    closed = _counter()

    summoned = _counter()
    reported = _counter()
    reported_on_time = _counter()
    wo_resolved = _counter()
    wo_resolved_on_time = _counter()
    returned = _counter()
    cancelled = _counter()
    wo_overdue = _counter()
    wo_rated = _counter()
    speed_sum = _counter()
    result_sum = _counter()

    class Meta:
        ordering = ["node", "day"]
        verbose_name = _("绩效汇总")
        verbose_name_plural = _("绩效汇总")
        constraints = [models.UniqueConstraint(fields=["node", "day"], name="appealrollup_node_day")]
        indexes = [models.Index(fields=["parent", "kind", "day"], name="appealrollup_children")]

    def __str__(self):
        return f"{self.node} {self.day}"


class IntakeState(models.TextChoices):
    PENDING = "pending", _("受理中")
    DONE = "done", _("已生成诉求")
    FAILED = "failed", _("未能受理")


def new_intake_token() -> str:
    import secrets

    return secrets.token_hex(16)


class AppealIntake(models.Model):
    """A submit accepted for asynchronous processing (the API's `Prefer: respond-async`).

    The request checks what it can at once and answers 202 with `token`; the worker turns pending
    rows into appeals in batches through the same service functions as a synchronous submit
    (`services.check_submission`, `services.write_submissions`), then the row says which appeal it
    became or why it could not (a category retired meanwhile, say). The submitted fields may hold
    an assisted reporter's name and phone, so they are stored encrypted and emptied once processed.
    """

    # Unique by a constraint, not unique=True, which on PostgreSQL adds a second (LIKE) index that
    # every queued submit would write and nothing reads.
    token = models.CharField(max_length=32, default=new_intake_token)
    # No database constraint and no index of its own. The submitter is the authenticated user at
    # insert, and PROTECT is Django's (its deletion collector), so the ORM still cannot delete a user
    # with queued submits. The database's check would cost every queued submit a locking read of the
    # user's row (FOR KEY SHARE), on one row for all the submits of one app's token. Lookups by
    # submitter use the idempotency constraint's index, which leads with it.
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
                                     db_constraint=False, db_index=False)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    # What the submitter recognises it by on "my appeals" while it waits or if it fails: the title,
    # else the text's first line (as the appeal's own title would be), in clear like the appeal's.
    title = models.CharField(max_length=TITLE_MAX, blank=True)
    payload_enc = models.TextField(blank=True)
    language = models.CharField(max_length=16, blank=True)  # the request's, for the error message
    received_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=IntakeState.choices, default=IntakeState.PENDING)
    # No index: nothing looks intakes up by appeal, and every queued submit would pay for one.
    appeal = models.ForeignKey(Appeal, null=True, blank=True, on_delete=models.PROTECT, related_name="+",
                               db_index=False)
    error_code = models.CharField(max_length=40, blank=True)
    error_message = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["token"], name="intake_unique_token"),
            # Without a condition: keys left empty (NULL) never clash (NULLs are distinct in a unique
            # index), and the whole index then also serves every lookup by submitter.
            models.UniqueConstraint(fields=["submitted_by", "idempotency_key"], name="intake_unique_idempotency_key"),
            models.CheckConstraint(condition=Q(state="pending") | Q(processed_at__isnull=False),
                                   name="intake_processed_has_time"),
            models.CheckConstraint(condition=~Q(state="done") | Q(appeal__isnull=False), name="intake_done_has_appeal"),
        ]
        # The worker's probe ("anything pending?") reads this small partial index, never the table.
        indexes = [models.Index(fields=["id"], condition=Q(state="pending"), name="intake_pending")]

    def __str__(self):
        return self.token


def staged_photo_path(instance, filename):
    # Outside appeals/: a staged photo belongs to no appeal yet. The name is ours, never the uploader's.
    return f"staged/{instance.created_at:%Y/%m}/{filename}"


class StagedPhoto(models.Model):
    """A photo received with a form that failed validation, kept so the next submit can attach it.

    A browser cannot re-fill a file input, so the server keeps what it received: re-encoded at once
    (core.photos, like every upload), owned by the uploading user, named by a random token only
    that user's page carries, and removed when attached, discarded or expired (`gongzhi sweep`).
    """

    token = models.CharField(max_length=64, unique=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    file = models.FileField(upload_to=staged_photo_path, max_length=200)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    name = models.CharField(max_length=100, blank=True)  # the uploader's file name, shown back to them only
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["id"]
