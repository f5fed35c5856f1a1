"""Organisations, memberships and agreements, people with party membership, and posts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from gongzhi.core.search import keep_search_key


class OrgKind(models.TextChoices):
    DISTRICT_COMMITTEE = "district_committee", _("区委")
    STREET_COMMITTEE = "street_committee", _("街道党工委")
    COMMUNITY_COMMITTEE = "community_committee", _("社区党委")
    JOINT_COMMITTEE = "joint_committee", _("社区联合党委")
    COMPOUND_BRANCH = "compound_branch", _("小区党支部")
    BUILDING_GROUP = "building_group", _("楼栋党小组")
    GOVERNMENT = "government", _("机关单位")
    INSTITUTION = "institution", _("事业单位")
    STATE_ENTERPRISE = "state_enterprise", _("国有企业")
    PRIVATE_ENTERPRISE = "private_enterprise", _("非公企业")
    SOCIAL_ORG = "social_org", _("社会组织")
    INDIVIDUAL_BUSINESS = "individual_business", _("党员个体经营户")
    DEPARTMENT = "department", _("职能部门")
    INDUSTRY_COMMITTEE = "industry_committee", _("行业党委")
    ALLIANCE = "alliance", _("党建联盟")


# Kinds that can be a member unit of a joint committee or alliance.
UNIT_KINDS = {
    OrgKind.GOVERNMENT,
    OrgKind.INSTITUTION,
    OrgKind.STATE_ENTERPRISE,
    OrgKind.PRIVATE_ENTERPRISE,
    OrgKind.SOCIAL_ORG,
    OrgKind.INDIVIDUAL_BUSINESS,
    OrgKind.DEPARTMENT,
    OrgKind.INDUSTRY_COMMITTEE,
    OrgKind.COMMUNITY_COMMITTEE,
}


class Organization(models.Model):
    kind = models.CharField(max_length=32, choices=OrgKind.choices)
    name = models.CharField(max_length=150)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    # Where it sits (its community, street or district): its scope for permissions.
    place = models.ForeignKey("places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="organizations")
    path = models.CharField(max_length=255, db_index=True, editable=False)
    place_path = models.CharField(max_length=255, db_index=True, blank=True, editable=False)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, blank=True)
    contact_name = models.CharField(max_length=50, blank=True)
    # "huangzhiqiang hzq 黄志强": name, full pinyin and initials for the pickers (core.search).
    search_key = models.CharField(max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Optimistic concurrency: every edit is UPDATE … WHERE id=… AND version=…, then version+1.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="org_unique_name_under_parent")]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # The path is built from ids, so a new row learns its id first, then writes its path.
        self.place_path = self.place.path if self.place_id else ""
        keep_search_key(self, kwargs)
        if self.pk is None:
            self.path = ""
            super().save(*args, **kwargs)
            self.path = self.compute_path()
            Organization.objects.filter(pk=self.pk).update(path=self.path)
        else:
            self.path = self.compute_path()
            super().save(*args, **kwargs)

    def compute_path(self) -> str:
        return (self.parent.path if self.parent_id else "/") + f"{self.pk}/"


class MembershipRole(models.TextChoices):
    MEMBER_UNIT = "member_unit", _("成员单位")
    SEAT_HOLDER = "seat_holder", _("兼职委员单位")


class MembershipStatus(models.TextChoices):
    ACTIVE = "active", _("有效")
    SUSPENDED = "suspended", _("暂停")
    ENDED = "ended", _("已退出")


class Membership(models.Model):
    """A member unit in a joint committee or alliance."""

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="memberships")
    member = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="member_of")
    role = models.CharField(max_length=16, choices=MembershipRole.choices, default=MembershipRole.MEMBER_UNIT)
    status = models.CharField(max_length=16, choices=MembershipStatus.choices, default=MembershipStatus.ACTIVE)
    joined_on = models.DateField()
    left_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["organization_id", "member__name"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "member"], name="membership_unique_pair"),
            models.CheckConstraint(condition=~Q(organization=models.F("member")), name="membership_not_self"),
        ]


class AgreementStatus(models.TextChoices):
    DRAFT = "draft", _("草拟")
    SIGNED = "signed", _("已签订")
    EXPIRED = "expired", _("已到期")
    TERMINATED = "terminated", _("已终止")


class Agreement(models.Model):
    """A co-building agreement (or alliance charter) that backs a membership."""

    membership = models.ForeignKey(Membership, on_delete=models.PROTECT, related_name="agreements")
    number = models.CharField(max_length=40, unique=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    duties = models.JSONField(default=list, blank=True)
    commitments = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.SIGNED)
    # Optimistic concurrency: every edit is UPDATE … WHERE id=… AND version=…, then version+1.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-ends_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gt=models.F("starts_on")), name="agreement_ends_after_start"),
        ]


class Person(models.Model):
    """A person known to the platform. Phone and ID are encrypted; masked copies are for display."""

    name = models.CharField(max_length=50)
    gender = models.CharField(max_length=1, blank=True, choices=[("M", _("男")), ("F", _("女"))])
    phone_enc = models.TextField(blank=True)
    phone_hash = models.CharField(max_length=64, blank=True, db_index=True)
    phone_masked = models.CharField(max_length=20, blank=True)
    id_enc = models.TextField(blank=True)
    id_hash = models.CharField(max_length=64, blank=True, db_index=True)
    id_masked = models.CharField(max_length=20, blank=True)
    registered_community = models.ForeignKey(
        "places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="registered_people"
    )
    place_path = models.CharField(max_length=255, db_index=True, blank=True, editable=False)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="person"
    )
    search_key = models.CharField(max_length=500, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    # Optimistic concurrency: every edit is UPDATE … WHERE id=… AND version=…, then version+1.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["id_hash"], condition=~Q(id_hash=""), name="person_unique_id_number"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.place_path = self.registered_community.path if self.registered_community_id else ""
        keep_search_key(self, kwargs)
        super().save(*args, **kwargs)


class PartyStatus(models.TextChoices):
    IN_SERVICE = "in_service", _("在职党员")
    RETIRED = "retired", _("退休党员")
    FLOATING = "floating", _("流动党员")


class PartyMembership(models.Model):
    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="party")
    home_organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="party_members")
    status = models.CharField(max_length=16, choices=PartyStatus.choices, default=PartyStatus.IN_SERVICE)
    joined_on = models.DateField(null=True, blank=True)


class PostTitle(models.TextChoices):
    SECRETARY = "secretary", _("书记")
    DEPUTY_SECRETARY = "deputy_secretary", _("副书记")
    COMMITTEE_MEMBER = "committee_member", _("委员")
    PART_TIME_MEMBER = "part_time_member", _("兼职委员")
    GRID_LEADER = "grid_leader", _("网格长")
    GRID_WORKER = "grid_worker", _("网格员")
    FIRST_GRID_LEADER = "first_grid_leader", _("第一网格长")
    INSTRUCTOR = "instructor", _("网格党建指导员")
    BUILDING_HEAD = "building_head", _("楼栋长")
    LIAISON = "liaison", _("联络员")


# Posts one person holds at a time per scope; the service refuses a second concurrent holder.
SINGLE_HOLDER_TITLES = {
    PostTitle.SECRETARY,
    PostTitle.GRID_LEADER,
    PostTitle.FIRST_GRID_LEADER,
    PostTitle.INSTRUCTOR,
    PostTitle.BUILDING_HEAD,
}


class Post(models.Model):
    """A person's post with its scope (an organisation, a place or a grid) and term."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="posts")
    title = models.CharField(max_length=32, choices=PostTitle.choices)
    organization = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="posts")
    place = models.ForeignKey("places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="posts")
    grid = models.ForeignKey("places.Grid", null=True, blank=True, on_delete=models.PROTECT, related_name="posts")
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    # Optimistic concurrency: every edit is UPDATE … WHERE id=… AND version=…, then version+1.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["grid_id", "title", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__isnull=True) | Q(ends_on__gt=models.F("starts_on")), name="post_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(organization__isnull=False) | Q(place__isnull=False) | Q(grid__isnull=False),
                name="post_has_scope",
            ),
        ]


class GridUnit(models.Model):
    """包保包联: a member unit assigned to a grid."""

    grid = models.ForeignKey("places.Grid", on_delete=models.CASCADE, related_name="unit_links")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="grid_links")
    since = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["grid", "organization"], name="gridunit_unique_pair")]
