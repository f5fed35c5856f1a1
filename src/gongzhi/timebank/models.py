"""The time bank: hours of service as time credits in a double-entry ledger.

Every movement is one TimeTransaction with two (or more) TimeEntry rows whose amounts sum to zero,
so all accounts together always sum to zero. Credits are issued from the issuing account of the
person's community (one per community; one platform-wide account for people registered in no
community): that account goes negative by exactly the credits issued there, so "issued" is a
number one can read off the ledger. Person accounts never go below zero (a CHECK constraint backs
the service's locked re-check). Entries and transactions are immutable: the model layer refuses
updates and deletes, and database triggers refuse them too (migration 0002); a mistake is undone
by a reversal transaction pointing at the one it reverses.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ZERO = Decimal("0.00")


class AccountKind(models.TextChoices):
    PERSON = "person", _("个人账户")
    ISSUING = "issuing", _("发行账户")


class TimeAccount(models.Model):
    kind = models.CharField(max_length=16, choices=AccountKind.choices)
    person = models.OneToOneField("org.Person", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="time_account")
    # The community of an issuing account; for a person account the community it was opened in.
    place = models.ForeignKey("places.Place", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="time_accounts")
    place_path = models.CharField(max_length=255, blank=True, db_index=True)
    # Kept in the same transaction as the entries; equals the sum of this account's entries.
    balance = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(kind="issuing") | Q(balance__gte=0),
                                   name="timeaccount_person_balance_not_negative"),
            models.CheckConstraint(condition=(Q(kind="person") & Q(person__isnull=False))
                                   | (Q(kind="issuing") & Q(person__isnull=True)),
                                   name="timeaccount_kind_matches_person"),
            models.UniqueConstraint(fields=["place"], condition=Q(kind="issuing"),
                                    name="timeaccount_one_issuing_per_place"),
            models.UniqueConstraint(fields=["kind"], condition=Q(kind="issuing", place__isnull=True),
                                    name="timeaccount_one_platform_issuing"),
        ]

    def __str__(self):
        if self.kind == AccountKind.PERSON:
            return str(_("%(name)s的时间账户") % {"name": self.person.name if self.person_id else ""})
        return str(_("%(place)s发行账户") % {"place": self.place.name if self.place_id else _("平台")})

    def scope_paths(self) -> dict:
        if self.person_id:
            return {"place": self.person.place_path}
        return {"place": self.place_path} if self.place_path else {}


class TxnKind(models.TextChoices):
    CREDIT = "credit", _("服务入账")
    SPEND = "spend", _("兑换服务")
    TRANSFER = "transfer", _("转赠家人")
    REVERSAL = "reversal", _("冲正")


class ImmutableQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("time bank ledger rows are immutable")

    def delete(self):
        raise TypeError("time bank ledger rows are immutable")


class ImmutableModel(models.Model):
    objects = ImmutableQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("time bank ledger rows are immutable")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("time bank ledger rows are immutable")


class TimeTransaction(ImmutableModel):
    kind = models.CharField(max_length=16, choices=TxnKind.choices)
    # The magnitude moved (positive); the entries carry the signs.
    hours = models.DecimalField(max_digits=9, decimal_places=2)
    memo = models.CharField(max_length=500, blank=True)
    # Where credited hours came from ("activity", "project", "manual"); unique with source_ref.
    source = models.CharField(max_length=32, blank=True)
    source_ref = models.CharField(max_length=100, blank=True)
    # A reversal points at the transaction it undoes; each transaction is reversed at most once.
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="reversed_by")
    # PROTECT: the row is immutable, so it cannot follow a deleted user by SET_NULL (deactivate instead).
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "source_ref"], condition=~Q(source=""),
                                    name="timetransaction_unique_source"),
            models.CheckConstraint(condition=Q(hours__gt=0), name="timetransaction_hours_positive"),
            models.CheckConstraint(condition=Q(kind="reversal", reverses__isnull=False)
                                   | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                                   name="timetransaction_reversal_has_target"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_kind_display()} {self.hours}"


class TimeEntry(ImmutableModel):
    transaction = models.ForeignKey(TimeTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(TimeAccount, on_delete=models.PROTECT, related_name="entries")
    amount = models.DecimalField(max_digits=9, decimal_places=2)
    # The account's balance right after this entry (the account was locked when it was written).
    balance_after = models.DecimalField(max_digits=12, decimal_places=2)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["account", "id"])]
        constraints = [models.CheckConstraint(condition=~Q(amount=0), name="timeentry_amount_not_zero")]


class FamilyLink(models.Model):
    """Two people a community worker has recorded as family: time credits may be given between them.

    Stored once per pair with person_a_id < person_b_id."""

    person_a = models.ForeignKey("org.Person", on_delete=models.CASCADE, related_name="+")
    person_b = models.ForeignKey("org.Person", on_delete=models.CASCADE, related_name="+")
    relation = models.CharField(max_length=20)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"], name="familylink_unique_pair"),
            models.CheckConstraint(condition=Q(person_a__lt=models.F("person_b")), name="familylink_ordered_pair"),
        ]


class CreditRequestState(models.TextChoices):
    PENDING = "pending", _("待复核")
    APPROVED = "approved", _("已复核入账")
    DECLINED = "declined", _("已驳回")


class CreditRequest(models.Model):
    """A manual credit above the second-approval size, waiting for a second staff member.

    Kept apart from the ledger (whose rows never change): the request moves pending → approved or
    declined by compare-and-set, and an approval posts the credit through credit_hours with the
    request as its source, so one request credits at most once."""

    person = models.ForeignKey("org.Person", on_delete=models.PROTECT, related_name="+")
    hours = models.DecimalField(max_digits=9, decimal_places=2)
    reason = models.CharField(max_length=200)
    state = models.CharField(max_length=16, choices=CreditRequestState.choices, default=CreditRequestState.PENDING,
                             db_index=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(max_length=200, blank=True)
    transaction = models.OneToOneField(TimeTransaction, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="credit_request")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0), name="creditrequest_hours_positive"),
            models.CheckConstraint(condition=~Q(decided_by=models.F("requested_by")),
                                   name="creditrequest_decider_not_requester"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.hours} ({self.get_state_display()})"

    def scope_paths(self) -> dict:
        return {"place": self.person.place_path}
