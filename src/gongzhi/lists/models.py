"""The three lists (三张清单): needs, resources and projects, and the photos of a project's outcome.

The models hold data and the invariants the database can enforce: unique numbers, one live project
per need (a conditional unique constraint on the link row), exactly one taker per project and one
owner per resource, amounts never negative. Flows live in services.py; which transition is allowed
when lives in workflow.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

TITLE_MAX = 100
TEXT_MAX = 2000
BENEFICIARY_MAX = 30
RATING_MIN, RATING_MAX = 1, 5


class Skill(models.TextChoices):
    """The kind of help: what a need asks for and what a resource offers (matching compares these)."""

    REPAIR = "repair", _("维修")
    ELDERLY = "elderly", _("助老")
    TUTORING = "tutoring", _("助学")
    MEDICAL = "medical", _("医疗")
    LEGAL = "legal", _("法律")
    PSYCHOLOGY = "psychology", _("心理")
    CULTURE = "culture", _("文体")
    CLEANING = "cleaning", _("保洁")
    GOODS = "goods", _("物资")
    MONEY = "money", _("资金")
    VENUE = "venue", _("场地")
    OTHER = "other", _("其他")


class NeedKind(models.TextChoices):
    SERVICE = "service", _("服务需求")
    MICRO_WISH = "micro_wish", _("微心愿")


class NeedCategory(models.TextChoices):
    """Who or what a need is for (the survey's headings)."""

    ELDERLY = "elderly", _("养老助老")
    CHILDREN = "children", _("儿童关爱")
    DISABLED = "disabled", _("助残扶弱")
    HARDSHIP = "hardship", _("困难帮扶")
    ENVIRONMENT = "environment", _("环境整治")
    FACILITIES = "facilities", _("设施维修")
    CULTURE = "culture", _("文体活动")
    HEALTH = "health", _("健康义诊")
    OTHER = "other", _("其他")


class Urgency(models.TextChoices):
    URGENT = "urgent", _("紧急")
    NORMAL = "normal", _("一般")


class NeedSource(models.TextChoices):
    RESIDENT = "resident", _("群众点单")
    SURVEY = "survey", _("年度需求调查")
    APPEAL = "appeal", _("诉求转化")
    DELIBERATION = "deliberation", _("议事会")
    STAFF = "staff", _("社区走访")


class NeedState(models.TextChoices):
    OPEN = "open", _("待认领")
    DISPATCHED = "dispatched", _("已派单")
    CLAIMED = "claimed", _("已认领")
    ACCEPTED = "accepted", _("实施中")
    DONE = "done", _("已完成")
    RATED = "rated", _("已评价")
    WITHDRAWN = "withdrawn", _("已撤回")


# A need in one of these states has a live project (its taker is known).
TAKEN_STATES = (NeedState.DISPATCHED, NeedState.CLAIMED, NeedState.ACCEPTED, NeedState.DONE, NeedState.RATED)


class TakerKind(models.TextChoices):
    ORGANIZATION = "organization", _("成员单位")
    TEAM = "team", _("志愿服务队")
    PERSON = "person", _("党员")


class ResourceKind(models.TextChoices):
    SERVICE = "service", _("技能服务")
    VENUE = "venue", _("场地")
    GOODS = "goods", _("物资")
    MONEY = "money", _("资金")
    HOURS = "hours", _("志愿时长")


class ProjectState(models.TextChoices):
    DISPATCHED = "dispatched", _("待接单")
    CLAIMED = "claimed", _("已认领")
    ACCEPTED = "accepted", _("实施中")
    DONE = "done", _("已完成")
    DECLINED = "declined", _("已谢绝")
    CANCELLED = "cancelled", _("已撤销")


# A project in one of these states holds its needs.
LIVE_PROJECT_STATES = (ProjectState.DISPATCHED, ProjectState.CLAIMED, ProjectState.ACCEPTED, ProjectState.DONE)


class ProjectVia(models.TextChoices):
    DISPATCH = "dispatch", _("社区派单")
    CLAIM = "claim", _("主动认领")


class ListCounter(models.Model):
    """The last sequence number issued per prefix and day (Asia/Shanghai): XQ20261126-0001."""

    prefix = models.CharField(max_length=4)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prefix", "day"], name="lists_counter_unique_day")]


class Need(models.Model):
    number = models.CharField(_("编号"), max_length=20, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=NeedKind.choices, default=NeedKind.SERVICE)
    category = models.CharField(_("类别"), max_length=16, choices=NeedCategory.choices, default=NeedCategory.OTHER)
    skill = models.CharField(_("所需服务"), max_length=16, choices=Skill.choices, default=Skill.OTHER)
    title = models.CharField(_("标题"), max_length=TITLE_MAX)
    description = models.TextField(_("说明"), blank=True)
    # What the public sees of who benefits: an alias the requester typed ("王奶奶"), never a full name.
    beneficiary = models.CharField(_("受益对象"), max_length=BENEFICIARY_MAX, blank=True)
    beneficiaries_count = models.PositiveIntegerField(_("受益人数"), default=1)
    # Private: who asked (a resident's account) and who typed it in (the same, or a staff member).
    requester = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="needs_requested")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="needs_recorded")
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="needs",
                              verbose_name=_("社区"))
    place_path = models.CharField(max_length=255, db_index=True, editable=False)
    grid = models.ForeignKey("places.Grid", null=True, blank=True, on_delete=models.PROTECT, related_name="needs",
                             verbose_name=_("网格"))
    grid_path = models.CharField(max_length=255, blank=True, editable=False)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    urgency = models.CharField(_("紧急程度"), max_length=8, choices=Urgency.choices, default=Urgency.NORMAL)
    due_on = models.DateField(_("期望完成日期"))
    source = models.CharField(_("来源"), max_length=16, choices=NeedSource.choices, default=NeedSource.RESIDENT)
    source_ref = models.CharField(_("来源编号"), max_length=40, blank=True)
    state = models.CharField(_("状态"), max_length=16, choices=NeedState.choices, default=NeedState.OPEN)
    # The requester's rating of the service (评单), one per need.
    rating = models.PositiveSmallIntegerField(_("评分"), null=True, blank=True)
    rating_comment = models.CharField(_("评价"), max_length=500, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    rated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency: every edit is UPDATE … WHERE id=… AND version=…, then version+1.
    version = models.PositiveIntegerField(default=1, editable=False)
    # Set once retention (lists/retention.py) removed who asked and how to reach them.
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("需求")
        verbose_name_plural = _("需求清单")
        indexes = [models.Index(fields=["state", "place_path"]), models.Index(fields=["kind", "state"])]
        constraints = [
            models.CheckConstraint(condition=Q(beneficiaries_count__gte=1), name="need_beneficiaries_positive"),
            models.CheckConstraint(condition=Q(rating__isnull=True) | Q(rating__gte=RATING_MIN, rating__lte=RATING_MAX),
                                   name="need_rating_range"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    def save(self, *args, **kwargs):
        self.place_path = self.place.path
        self.grid_path = self.grid.path if self.grid_id else ""
        super().save(*args, **kwargs)

    def scope_paths(self) -> dict:
        paths = {"place": self.place_path}
        if self.grid_path:
            paths["grid"] = self.grid_path
        return paths

    @property
    def is_micro_wish(self) -> bool:
        return self.kind == NeedKind.MICRO_WISH


class Resource(models.Model):
    """What a member unit, a volunteer team or a party member offers, and where."""

    owner_kind = models.CharField(_("提供方类型"), max_length=16, choices=TakerKind.choices)
    organization = models.ForeignKey("org.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="resources")
    team = models.ForeignKey("volunteering.Team", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="resources")
    person = models.ForeignKey("org.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="resources")
    kind = models.CharField(_("资源类型"), max_length=16, choices=ResourceKind.choices, default=ResourceKind.SERVICE)
    skill = models.CharField(_("服务类别"), max_length=16, choices=Skill.choices, default=Skill.OTHER)
    title = models.CharField(_("名称"), max_length=TITLE_MAX)
    description = models.TextField(_("说明"), blank=True)
    # How many needs it can serve at once.
    capacity = models.PositiveIntegerField(_("可同时承接数"), default=1)
    availability = models.CharField(_("可提供时间"), max_length=200, blank=True)
    available_from = models.DateField(_("起始日期"), null=True, blank=True)
    available_until = models.DateField(_("截止日期"), null=True, blank=True)
    places = models.ManyToManyField("places.Place", blank=True, related_name="+", verbose_name=_("服务社区"))
    grids = models.ManyToManyField("places.Grid", blank=True, related_name="+", verbose_name=_("服务网格"))
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    active = models.BooleanField(_("有效"), default=True)
    # Copies of the owner's paths (a unit's org path, its community's place path): scope is a prefix test.
    place_path = models.CharField(max_length=255, db_index=True, blank=True, editable=False)
    org_path = models.CharField(max_length=255, db_index=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("资源")
        verbose_name_plural = _("资源清单")
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="resource_capacity_positive"),
            models.CheckConstraint(
                condition=(Q(owner_kind="organization", organization__isnull=False, team__isnull=True,
                             person__isnull=True)
                           | Q(owner_kind="team", organization__isnull=True, team__isnull=False, person__isnull=True)
                           | Q(owner_kind="person", organization__isnull=True, team__isnull=True,
                               person__isnull=False)),
                name="resource_exactly_one_owner"),
        ]

    def __str__(self):
        return self.title

    @property
    def owner(self):
        return self.organization or self.team or self.person

    def save(self, *args, **kwargs):
        self.org_path, self.place_path = _owner_paths(self.organization, self.team, self.person)
        super().save(*args, **kwargs)

    def scope_paths(self) -> dict:
        paths = {}
        if self.place_path:
            paths["place"] = self.place_path
        if self.org_path:
            paths["org"] = self.org_path
        return paths


def _owner_paths(organization, team, person) -> tuple[str, str]:
    """(org path, place path) of a resource owner or project taker."""
    if organization is not None:
        return organization.path, organization.place_path
    if team is not None:
        return (team.unit.path if team.unit_id else ""), team.place_path
    if person is not None:
        return "", person.place_path
    return "", ""


class Project(models.Model):
    """A need, or a bundle of needs, taken on by a unit, a team or a party member."""

    number = models.CharField(_("编号"), max_length=20, unique=True)
    title = models.CharField(_("项目名称"), max_length=TITLE_MAX)
    needs = models.ManyToManyField(Need, through="ProjectNeed", related_name="projects")
    taker_kind = models.CharField(_("承接方类型"), max_length=16, choices=TakerKind.choices)
    taker_organization = models.ForeignKey("org.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                           related_name="projects")
    taker_team = models.ForeignKey("volunteering.Team", null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="projects")
    taker_person = models.ForeignKey("org.Person", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="projects")
    resource = models.ForeignKey(Resource, null=True, blank=True, on_delete=models.PROTECT, related_name="projects")
    via = models.CharField(_("来源"), max_length=16, choices=ProjectVia.choices)
    # The community the needs are in (scope for staff) and the taker's org path (scope for its liaison).
    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="lists_projects")
    place_path = models.CharField(max_length=255, db_index=True, editable=False)
    taker_org_path = models.CharField(max_length=255, db_index=True, blank=True, editable=False)
    plan = models.TextField(_("实施计划"), blank=True)
    starts_on = models.DateField(_("开始日期"), null=True, blank=True)
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    budget = models.DecimalField(_("预算（元）"), max_digits=12, decimal_places=2, default=0)
    people = models.PositiveIntegerField(_("投入人数"), default=0)
    state = models.CharField(_("状态"), max_length=16, choices=ProjectState.choices)
    # Outcome.
    beneficiaries_served = models.PositiveIntegerField(_("服务人数"), default=0)
    hours = models.DecimalField(_("服务时长（小时）"), max_digits=8, decimal_places=1, default=0)
    summary = models.TextField(_("成效小结"), blank=True)
    decline_reason = models.CharField(_("谢绝原因"), max_length=500, blank=True)
    dispatched_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                      related_name="+")
    claimed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)  # declined or cancelled
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("项目")
        verbose_name_plural = _("项目清单")
        indexes = [models.Index(fields=["state", "place_path"])]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0), name="project_budget_not_negative"),
            models.CheckConstraint(condition=Q(hours__gte=0), name="project_hours_not_negative"),
            models.CheckConstraint(
                condition=(Q(taker_kind="organization", taker_organization__isnull=False, taker_team__isnull=True,
                             taker_person__isnull=True)
                           | Q(taker_kind="team", taker_organization__isnull=True, taker_team__isnull=False,
                               taker_person__isnull=True)
                           | Q(taker_kind="person", taker_organization__isnull=True, taker_team__isnull=True,
                               taker_person__isnull=False)),
                name="project_exactly_one_taker"),
        ]

    def __str__(self):
        return f"{self.number} {self.title}"

    @property
    def taker(self):
        return self.taker_organization or self.taker_team or self.taker_person

    def save(self, *args, **kwargs):
        self.place_path = self.place.path
        self.taker_org_path = _owner_paths(self.taker_organization, self.taker_team, self.taker_person)[0]
        super().save(*args, **kwargs)

    def scope_paths(self) -> dict:
        paths = {"place": self.place_path}
        if self.taker_org_path:
            paths["org"] = self.taker_org_path
        return paths


class ProjectNeed(models.Model):
    """A need's place in a project. At most one live link per need: never two takers for one need."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="links")
    need = models.ForeignKey(Need, on_delete=models.PROTECT, related_name="links")
    # False once the project was declined or cancelled and the need went back to the list.
    live = models.BooleanField(default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["need"], condition=Q(live=True), name="need_one_live_project"),
            models.UniqueConstraint(fields=["project", "need"], name="project_need_unique_pair"),
        ]


def photo_path(instance, filename):
    # The name is ours (uuid + extension of the detected type), never the uploader's.
    return f"lists/{instance.uploaded_at:%Y/%m}/{filename}"


class ProjectPhoto(models.Model):
    """A photo of a project's outcome; served only through a view that checks the viewer may see it."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="photos")
    file = models.FileField(upload_to=photo_path, max_length=200)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        ordering = ["id"]
