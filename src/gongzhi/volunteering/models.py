"""Dual reporting (双报到), volunteer teams, activities with sign-up, wait list and attendance.

Models hold data and the invariants the database can enforce; flows live in services.py.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Team(models.Model):
    """A volunteer team (志愿服务队) of a community, with a leader, members and a speciality."""

    name = models.CharField(_("队名"), max_length=60)
    speciality = models.CharField(_("服务专长"), max_length=100, blank=True)
    description = models.CharField(_("简介"), max_length=500, blank=True)
    community = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="volunteer_teams")
    place_path = models.CharField(max_length=255, db_index=True, editable=False)
    # The unit that runs the team, if any (its liaison may edit the team).
    unit = models.ForeignKey("org.Organization", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="volunteer_teams")
    leader = models.ForeignKey("org.Person", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="led_teams")
    members = models.ManyToManyField("org.Person", through="TeamMember", related_name="volunteer_teams")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Optimistic concurrency: every edit is UPDATE … WHERE id=… AND version=…, then version+1.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["place_path", "name"]
        verbose_name = _("志愿服务队")
        verbose_name_plural = _("志愿服务队")
        constraints = [models.UniqueConstraint(fields=["community", "name"], name="team_unique_name_in_community")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.place_path = self.community.path
        super().save(*args, **kwargs)

    def scope_paths(self) -> dict:
        paths = {"place": self.place_path}
        if self.unit_id:
            paths["org"] = self.unit.path
        return paths


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey("org.Person", on_delete=models.PROTECT, related_name="team_memberships")
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [models.UniqueConstraint(fields=["team", "person"], name="team_member_unique")]


# ---- dual reporting (双报到) ----

class ReportKind(models.TextChoices):
    UNIT = "unit", _("单位报到")
    MEMBER = "member", _("在职党员报到")


class ReportState(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已通过")
    REJECTED = "rejected", _("已退回")
    WITHDRAWN = "withdrawn", _("已撤回")


# A subject holds at most one report in these states per year (enforced by the database).
ACTIVE_REPORT_STATES = (ReportState.PENDING, ReportState.APPROVED)


class DualReport(models.Model):
    """A unit registering with the community it sits in, or an in-service party member with the one
    they live in, for a year. The community approves or rejects (with a reason)."""

    kind = models.CharField(max_length=8, choices=ReportKind.choices)
    organization = models.ForeignKey("org.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                     related_name="dual_reports")
    person = models.ForeignKey("org.Person", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="dual_reports")
    community = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="dual_reports")
    place_path = models.CharField(max_length=255, db_index=True, editable=False)
    year = models.PositiveSmallIntegerField()
    state = models.CharField(max_length=12, choices=ReportState.choices, default=ReportState.PENDING)
    # What the unit or member offers to the community (skills, services, resources).
    offer = models.CharField(max_length=500, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                     related_name="dual_reports_submitted")
    submitted_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="dual_reports_decided")
    decided_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-year", "-submitted_at", "-id"]
        verbose_name = _("双报到")
        verbose_name_plural = _("双报到")
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="unit", organization__isnull=False, person__isnull=True)
                           | Q(kind="member", person__isnull=False, organization__isnull=True)),
                name="dualreport_subject_matches_kind"),
            models.UniqueConstraint(fields=["organization", "year"], condition=Q(state__in=ACTIVE_REPORT_STATES),
                                    name="dualreport_one_active_unit_per_year"),
            models.UniqueConstraint(fields=["person", "year"], condition=Q(state__in=ACTIVE_REPORT_STATES),
                                    name="dualreport_one_active_member_per_year"),
        ]

    def __str__(self):
        return f"{self.subject_name} → {self.community} ({self.year})"

    @property
    def subject_name(self) -> str:
        return self.organization.name if self.kind == ReportKind.UNIT else self.person.name

    def save(self, *args, **kwargs):
        self.place_path = self.community.path
        super().save(*args, **kwargs)

    def scope_paths(self) -> dict:
        paths = {"place": self.place_path}
        if self.organization_id:
            paths["org"] = self.organization.path
        return paths


# ---- activities ----

class OrganiserKind(models.TextChoices):
    TEAM = "team", _("志愿服务队")
    UNIT = "unit", _("成员单位")
    COMMUNITY = "community", _("社区")


class ActivityState(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("报名中")
    CANCELLED = "cancelled", _("已取消")
    FINISHED = "finished", _("已结束")


class Activity(models.Model):
    title = models.CharField(_("活动名称"), max_length=100)
    description = models.TextField(_("活动内容"), blank=True)
    organiser_kind = models.CharField(max_length=12, choices=OrganiserKind.choices)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="activities")
    unit = models.ForeignKey("org.Organization", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="volunteer_activities")
    community = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="volunteer_activities")
    place_path = models.CharField(max_length=255, db_index=True, editable=False)
    venue = models.CharField(_("地点"), max_length=200)
    starts_at = models.DateTimeField(_("开始时间"), db_index=True)
    ends_at = models.DateTimeField(_("结束时间"))
    capacity = models.PositiveIntegerField(_("名额"))
    hours = models.DecimalField(_("计时（小时）"), max_digits=4, decimal_places=1)
    state = models.CharField(max_length=12, choices=ActivityState.choices, default=ActivityState.DRAFT)
    # The check-in code shown at the venue (6 characters, unique while it is set).
    code = models.CharField(max_length=6, blank=True)
    summary = models.TextField(_("活动总结"), blank=True)
    beneficiaries = models.PositiveIntegerField(_("服务人数"), default=0)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT,
                                   related_name="volunteer_activities_created")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["starts_at", "id"]
        verbose_name = _("志愿活动")
        verbose_name_plural = _("志愿活动")
        constraints = [
            models.CheckConstraint(condition=Q(capacity__gte=1), name="activity_capacity_positive"),
            models.CheckConstraint(condition=Q(hours__gt=0, hours__lte=24), name="activity_hours_range"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="activity_ends_after_start"),
            models.UniqueConstraint(fields=["code"], condition=~Q(code=""), name="activity_unique_code"),
            models.CheckConstraint(
                condition=(Q(organiser_kind="team", team__isnull=False) | Q(organiser_kind="unit", unit__isnull=False)
                           | Q(organiser_kind="community")),
                name="activity_organiser_given"),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        self.place_path = self.community.path
        super().save(*args, **kwargs)

    def scope_paths(self) -> dict:
        paths = {"place": self.place_path}
        unit = self.unit if self.unit_id else (self.team.unit if self.team_id and self.team.unit_id else None)
        if unit is not None:
            paths["org"] = unit.path
        return paths

    @property
    def organiser_name(self) -> str:
        if self.organiser_kind == OrganiserKind.TEAM and self.team_id:
            return self.team.name
        if self.organiser_kind == OrganiserKind.UNIT and self.unit_id:
            return self.unit.name
        return self.community.name


class SignUpState(models.TextChoices):
    SIGNED = "signed", _("已报名")
    WAITING = "waiting", _("候补中")
    CANCELLED = "cancelled", _("已取消")


LIVE_SIGNUP_STATES = (SignUpState.SIGNED, SignUpState.WAITING)


class SignUp(models.Model):
    activity = models.ForeignKey(Activity, on_delete=models.CASCADE, related_name="signups")
    person = models.ForeignKey("org.Person", on_delete=models.PROTECT, related_name="activity_signups")
    state = models.CharField(max_length=12, choices=SignUpState.choices)
    # Wait-list order: the first waiting row by (queued_at, id) is promoted when a place frees up.
    queued_at = models.DateTimeField()
    promoted_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_out_at = models.DateTimeField(null=True, blank=True)
    hours_credited = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["queued_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["activity", "person"], condition=Q(state__in=LIVE_SIGNUP_STATES),
                                    name="signup_one_live_per_person"),
            models.CheckConstraint(condition=Q(checked_out_at__isnull=True) | Q(checked_in_at__isnull=False),
                                   name="signup_out_after_in"),
            models.CheckConstraint(condition=Q(hours_credited__isnull=True) | Q(hours_credited__gt=0),
                                   name="signup_hours_positive"),
        ]

    def scope_paths(self) -> dict:
        return self.activity.scope_paths()
