"""Meetings and deliberation: the joint committee's rotating chair (轮值主席) and its swaps.

A chair term is one month of one joint committee, held by one member unit. Months are planned by
`roster.plan` (least recently served first), published months are frozen, and two units may swap
two unpublished months when both liaisons consent (ChairSwap).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class TermSource(models.TextChoices):
    GENERATED = "generated", _("轮换生成")
    SWAPPED = "swapped", _("协商互换")


class ChairTerm(models.Model):
    """One month of a joint committee's rotating chair: the unit that convenes that month."""

    committee = models.ForeignKey("org.Organization", on_delete=models.PROTECT, related_name="chair_terms")
    month = models.DateField(help_text="the first day of the month")
    unit = models.ForeignKey("org.Organization", on_delete=models.PROTECT, related_name="chair_months")
    source = models.CharField(max_length=16, choices=TermSource.choices, default=TermSource.GENERATED)
    published_at = models.DateTimeField(null=True, blank=True)
    # The committee's place path and the unit's org path, copied for scope checks (core.scopes).
    place_path = models.CharField(max_length=255, db_index=True, blank=True, editable=False)
    unit_path = models.CharField(max_length=255, blank=True, editable=False)
    # Optimistic concurrency: every edit is UPDATE … WHERE id=… AND version=…, then version+1.
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["committee_id", "month"]
        constraints = [
            models.UniqueConstraint(fields=["committee", "month"], name="chairterm_one_per_month"),
            models.CheckConstraint(condition=~Q(committee=models.F("unit")), name="chairterm_not_self"),
        ]

    def __str__(self):
        return f"{self.month:%Y-%m} {self.unit_id}"

    @property
    def published(self) -> bool:
        return self.published_at is not None

    def scope_paths(self) -> dict[str, str]:
        return {"place": self.place_path, "org": self.unit_path}


class SwapState(models.TextChoices):
    PENDING = "pending", _("待对方同意")
    ACCEPTED = "accepted", _("已互换")
    DECLINED = "declined", _("对方未同意")
    WITHDRAWN = "withdrawn", _("已撤回")


class ChairSwap(models.Model):
    """A request by one unit's liaison to swap its month with another unit's; the other consents."""

    committee = models.ForeignKey("org.Organization", on_delete=models.PROTECT, related_name="chair_swaps")
    term_a = models.ForeignKey(ChairTerm, on_delete=models.CASCADE, related_name="swaps_asked")
    term_b = models.ForeignKey(ChairTerm, on_delete=models.CASCADE, related_name="swaps_offered")
    # The units as they were asked: a swap is refused if either month has changed hands since.
    unit_a = models.ForeignKey("org.Organization", on_delete=models.PROTECT, related_name="+")
    unit_b = models.ForeignKey("org.Organization", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500, blank=True)
    state = models.CharField(max_length=16, choices=SwapState.choices, default=SwapState.PENDING)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    place_path = models.CharField(max_length=255, db_index=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(term_a=models.F("term_b")), name="chairswap_two_months"),
            # One open request per month and direction: a second ask waits for the first answer.
            models.UniqueConstraint(fields=["term_a"], condition=Q(state="pending"), name="chairswap_one_open_ask"),
        ]

    def scope_paths(self) -> dict[str, str]:
        return {"place": self.place_path}


class MeetingKind(models.TextChoices):
    JOINT = "joint", _("联席会议")
    DELIBERATION = "deliberation", _("议事会")
    THEME = "theme", _("主题活动")


class MeetingForm(models.TextChoices):
    """The named forms a meeting takes (seeds 000 and 002); each belongs to one kind (FORMS_OF)."""

    PLENARY = "plenary", _("全体会议")
    QUARTERLY = "quarterly", _("季度例会")
    AD_HOC = "ad_hoc", _("临时会议")
    FENG_SI = "feng_si", _("逢四说事")
    BENCH = "bench", _("板凳议事会")
    OLD_FRIENDS = "old_friends", _("老友议事会")
    OTHER = "other", _("其他议事")
    THEME = "theme", _("轮值主席主题活动")


FORMS_OF = {
    MeetingKind.JOINT: (MeetingForm.PLENARY, MeetingForm.QUARTERLY, MeetingForm.AD_HOC),
    MeetingKind.DELIBERATION: (MeetingForm.FENG_SI, MeetingForm.BENCH, MeetingForm.OLD_FRIENDS, MeetingForm.OTHER),
    MeetingKind.THEME: (MeetingForm.THEME,),
}


class MeetingSeries(models.Model):
    """Sessions that repeat by an RFC 5545 rule ("逢四说事": FREQ=MONTHLY;BYMONTHDAY=4,14,24), held by a
    community or compound (deliberation) or a joint committee. Occurrences are materialised as Meeting
    rows a rolling 90 days ahead by the sweep; exceptions cancel or move one occurrence only."""

    kind = models.CharField(max_length=16, choices=MeetingKind.choices)
    form = models.CharField(max_length=16, choices=MeetingForm.choices)
    title = models.CharField(max_length=100)
    committee = models.ForeignKey("org.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="meeting_series")
    place = models.ForeignKey("places.Place", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="meeting_series")
    rule = models.CharField(max_length=200)
    dtstart = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField()
    location = models.CharField(max_length=200, blank=True)
    active = models.BooleanField(default=True)
    # Occurrences exist as Meeting rows up to here (the sweep moves it on; idempotent either way).
    materialised_until = models.DateTimeField(null=True, blank=True)
    place_path = models.CharField(max_length=255, db_index=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["place_path", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(committee__isnull=False) | Q(place__isnull=False),
                                   name="meetingseries_has_host"),
            models.CheckConstraint(condition=Q(duration_minutes__gt=0), name="meetingseries_positive_duration"),
        ]

    def __str__(self):
        return self.title

    @property
    def host(self):
        """Who holds it: the community or compound, else the joint committee."""
        return self.place if self.place_id else self.committee

    def scope_paths(self) -> dict[str, str]:
        return {"place": self.place_path}


class SeriesException(models.Model):
    """One occurrence of a series cancelled (a holiday) or moved; the others are untouched."""

    series = models.ForeignKey(MeetingSeries, on_delete=models.CASCADE, related_name="exceptions")
    original_start = models.DateTimeField()
    cancelled = models.BooleanField(default=False)
    new_start = models.DateTimeField(null=True, blank=True)
    new_end = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["series_id", "original_start"]
        constraints = [
            models.UniqueConstraint(fields=["series", "original_start"], name="seriesexception_one_per_occurrence"),
            models.CheckConstraint(
                condition=Q(cancelled=True) | (Q(new_start__isnull=False) & Q(new_end__gt=models.F("new_start"))),
                name="seriesexception_cancel_or_move"),
        ]


class MeetingState(models.TextChoices):
    SCHEDULED = "scheduled", _("已安排")
    HELD = "held", _("已召开")
    CANCELLED = "cancelled", _("已取消")


class Meeting(models.Model):
    """One meeting or session: on its own, or one occurrence of a series (series + original_start)."""

    kind = models.CharField(max_length=16, choices=MeetingKind.choices)
    form = models.CharField(max_length=16, choices=MeetingForm.choices)
    title = models.CharField(max_length=100)
    committee = models.ForeignKey("org.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="meetings")
    place = models.ForeignKey("places.Place", null=True, blank=True, on_delete=models.PROTECT, related_name="meetings")
    # The theme activity's convener: the month's rotating chair.
    convener = models.ForeignKey("org.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="convened_meetings")
    series = models.ForeignKey(MeetingSeries, null=True, blank=True, on_delete=models.PROTECT, related_name="meetings")
    original_start = models.DateTimeField(null=True, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    location = models.CharField(max_length=200, blank=True)
    state = models.CharField(max_length=16, choices=MeetingState.choices, default=MeetingState.SCHEDULED)
    cancel_reason = models.CharField(max_length=200, blank=True)
    # The 6-digit code shown in the room; attendees type it on their phone (made when first shown).
    code = models.CharField(max_length=6, blank=True)
    minutes = models.TextField(blank=True)
    recorder = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    place_path = models.CharField(max_length=255, db_index=True, blank=True, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["place_path", "starts_at"], name="meeting_scope_time")]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="meeting_ends_after_start"),
            models.CheckConstraint(condition=Q(committee__isnull=False) | Q(place__isnull=False),
                                   name="meeting_has_host"),
            # Materialising twice (two sweeps, a retry) can never make a second row for one occurrence.
            models.UniqueConstraint(fields=["series", "original_start"], condition=Q(series__isnull=False),
                                    name="meeting_one_per_occurrence"),
        ]

    def __str__(self):
        return self.title

    @property
    def host(self):
        """Who holds it: the community or compound, else the joint committee."""
        return self.place if self.place_id else self.committee

    def scope_paths(self) -> dict[str, str]:
        return {"place": self.place_path}


class CalendarToken(models.Model):
    """The secret in a person's private calendar URL: only its SHA-256 is kept; resetting replaces it."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_token")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now=True)


class AgendaSource(models.TextChoices):
    TYPED = "typed", _("现场提出")
    APPEAL = "appeal", _("诉求")
    NEED = "need", _("需求")
    PROPOSAL = "proposal", _("表决议题")


class AgendaItem(models.Model):
    """One topic on a meeting's agenda: typed, or drawn in one click from an open appeal or need."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="agenda")
    position = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    detail = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=AgendaSource.choices, default=AgendaSource.TYPED)
    # The number of the appeal or need it came from (or became): a link that survives either side's retention.
    ref = models.CharField(max_length=40, blank=True)
    raised_by = models.CharField(max_length=50, blank=True)  # as the recorder wrote it (a resident's name, a unit)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meeting_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "position"], name="agendaitem_one_per_position"),
            # The same appeal or need is on one meeting's agenda once.
            models.UniqueConstraint(fields=["meeting", "source", "ref"], condition=~Q(ref=""),
                                    name="agendaitem_source_once"),
        ]


class AttendanceWay(models.TextChoices):
    CODE = "code", _("签到码")
    RECORDER = "recorder", _("记录员登记")


class Attendance(models.Model):
    """Who took part: signed in with the meeting's code on their phone, or marked by the recorder."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="attendance")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    name = models.CharField(max_length=50)  # as shown in the ledger (the account's name, or typed by the recorder)
    unit = models.ForeignKey("org.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    way = models.CharField(max_length=16, choices=AttendanceWay.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ["meeting_id", "at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "user"], condition=Q(user__isnull=False),
                                    name="attendance_once_per_account"),
        ]


class Resolution(models.Model):
    """What a meeting decided; each becomes action items tracked to done."""

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="resolutions")
    agenda_item = models.ForeignKey(AgendaItem, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="resolutions")
    text = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["meeting_id", "id"]


class ActionState(models.TextChoices):
    OPEN = "open", _("办理中")
    DONE = "done", _("已办结")


class ActionItem(models.Model):
    """督办事项: one resolution's task with an owner (a person's account or an organisation) and a due
    date, warned about before and after it is due by the sweep, through the notification outbox."""

    resolution = models.ForeignKey(Resolution, on_delete=models.CASCADE, related_name="actions")
    title = models.CharField(max_length=200)
    owner_user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    owner_org = models.ForeignKey("org.Organization", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="action_items")
    owner_name = models.CharField(max_length=150)
    due_on = models.DateField()
    state = models.CharField(max_length=16, choices=ActionState.choices, default=ActionState.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    done_note = models.CharField(max_length=500, blank=True)
    warned_due_soon_at = models.DateTimeField(null=True, blank=True)
    warned_overdue_at = models.DateTimeField(null=True, blank=True)
    place_path = models.CharField(max_length=255, db_index=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["state", "due_on"], name="actionitem_open_due")]
        constraints = [
            models.CheckConstraint(condition=Q(owner_user__isnull=False) | Q(owner_org__isnull=False),
                                   name="actionitem_has_owner"),
            models.CheckConstraint(condition=Q(state="open") | Q(done_at__isnull=False), name="actionitem_done_when"),
        ]

    def scope_paths(self) -> dict[str, str]:
        return {"place": self.place_path}


class OwnedUnit(models.Model):
    """业主名册: one housing unit of a compound with its registered exclusive floor area (m², 2 decimals).
    Its owners are UnitOwner rows with one voting representative; the developer's unsold units have
    none and count together as one owner (Civil Code art. 278 as the Hezhou vote applied it, seed 003)."""

    compound = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="owned_units")
    building = models.CharField(max_length=40)
    unit_no = models.CharField(max_length=40)
    area = models.DecimalField(max_digits=10, decimal_places=2)
    developer_unsold = models.BooleanField(default=False)
    place_path = models.CharField(max_length=255, db_index=True, blank=True, editable=False)

    class Meta:
        ordering = ["compound_id", "building", "unit_no"]
        constraints = [
            models.UniqueConstraint(fields=["compound", "building", "unit_no"], name="ownedunit_unique_number"),
            models.CheckConstraint(condition=Q(area__gt=0), name="ownedunit_positive_area"),
        ]

    def scope_paths(self) -> dict[str, str]:
        return {"place": self.place_path}


class UnitOwner(models.Model):
    unit = models.ForeignKey(OwnedUnit, on_delete=models.CASCADE, related_name="owners")
    person = models.ForeignKey("org.Person", on_delete=models.PROTECT, related_name="owned_units")
    representative = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "person"], name="unitowner_once"),
            models.UniqueConstraint(fields=["unit"], condition=Q(representative=True),
                                    name="unitowner_one_representative"),
        ]


class ProposalElectorate(models.TextChoices):
    OWNERS = "owners", _("业主（民法典第278条）")
    RESIDENTS = "residents", _("居民（按人数）")


class ProposalMatter(models.TextChoices):
    ORDINARY = "ordinary", _("一般事项（过半数）")
    MAJOR = "major", _("重大事项（第278条第六至八项，四分之三以上）")
    HEAD = "head", _("按人数表决")


class ProposalState(models.TextChoices):
    DISCUSSION = "discussion", _("讨论中")
    VOTING = "voting", _("投票中")
    DECIDED = "decided", _("已公布结果")
    WITHDRAWN = "withdrawn", _("已撤回")


class Proposal(models.Model):
    """民议民决: a proposal discussed, then voted on between an opening and a closing time; after the
    close its result is computed once and published with the rule and the full tally."""

    place = models.ForeignKey("places.Place", on_delete=models.PROTECT, related_name="proposals")
    title = models.CharField(max_length=100)
    body = models.TextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    agenda_item = models.ForeignKey(AgendaItem, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="proposals")
    electorate = models.CharField(max_length=16, choices=ProposalElectorate.choices)
    matter = models.CharField(max_length=16, choices=ProposalMatter.choices)
    # By-head votes: the share of those voting that must say yes, as a fraction (e.g. 1/2, strictly more).
    threshold_num = models.PositiveSmallIntegerField(default=1)
    threshold_den = models.PositiveSmallIntegerField(default=2)
    threshold_inclusive = models.BooleanField(default=False)
    secret = models.BooleanField(default=False)
    allow_change = models.BooleanField(default=False)
    discussion_until = models.DateTimeField()
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=ProposalState.choices, default=ProposalState.DISCUSSION)
    result = models.JSONField(null=True, blank=True)  # the published tally (tally.Tally.as_dict())
    passed = models.BooleanField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    place_path = models.CharField(max_length=255, db_index=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(closes_at__gt=models.F("opens_at")), name="proposal_closes_after_opening"),
            models.CheckConstraint(condition=Q(opens_at__gte=models.F("discussion_until")),
                                   name="proposal_vote_after_discussion"),
            models.CheckConstraint(condition=Q(threshold_den__gt=0) & Q(threshold_num__lte=models.F("threshold_den")),
                                   name="proposal_threshold_fraction"),
        ]

    def __str__(self):
        return self.title

    def scope_paths(self) -> dict[str, str]:
        return {"place": self.place_path}


class ProposalComment(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    author_name = models.CharField(max_length=50)
    text = models.CharField(max_length=1000)
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["proposal_id", "created_at", "id"]


class BallotChoice(models.TextChoices):
    YES = "yes", _("同意")
    NO = "no", _("反对")
    ABSTAIN = "abstain", _("弃权")


class BallotWay(models.TextChoices):
    ONLINE = "online", _("线上")
    PAPER = "paper", _("纸质")


class VoterRoll(models.Model):
    """Who voted on a proposal, and how (online or on paper): one row per voter, enforced by the
    database. For an open ballot it carries the choice too; for a secret one the choice lives in
    SecretBallot, which names no voter, so no query or export can join the two."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="roll")
    voter_key = models.CharField(max_length=40)  # "person:12" (an owner or resident), "developer"
    voter_name = models.CharField(max_length=50)
    way = models.CharField(max_length=8, choices=BallotWay.choices)
    choice = models.CharField(max_length=8, choices=BallotChoice.choices, blank=True)  # empty when secret
    paper_photo = models.CharField(max_length=200, blank=True)  # the scanned sheet (core.photos name)
    entered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    cast_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["proposal_id", "id"]
        constraints = [models.UniqueConstraint(fields=["proposal", "voter_key"], name="voterroll_one_ballot")]


class SecretBallot(models.Model):
    """A secret ballot's choice: a random id, the proposal and the choice; no voter, no time. For an
    owners' vote it carries the voter's weight (their registered area, in 1/100 m²), which art. 278
    counts with the choice; nothing else about them."""

    id = models.UUIDField(primary_key=True, editable=False)
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="secret_ballots")
    choice = models.CharField(max_length=8, choices=BallotChoice.choices)
    area_centi = models.PositiveBigIntegerField(null=True, blank=True)


class Recount(models.Model):
    """A correction after publication: a new, audited tally beside the published one (which stays)."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="recounts")
    reason = models.CharField(max_length=500)
    result = models.JSONField()
    passed = models.BooleanField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()

    class Meta:
        ordering = ["proposal_id", "at", "id"]
