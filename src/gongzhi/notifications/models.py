"""The notification outbox: one row per message to one user, written in the transaction of its cause.

A row is the in-app notification (read or not) and, for a recipient with an email address, the
email still to send (`email_state`). Because rows are written in the same transaction as the
event that caused them, a transition that rolls back leaves no message, and a committed one never
misses its message; `deliver_outbox()` sends the emails afterwards, at least once, with retries.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Kind(models.TextChoices):
    ASSIGNED = "assigned", _("新指派")
    DUE_SOON = "due_soon", _("即将到期")
    OVERDUE = "overdue", _("已超时")
    RESULT = "result", _("办理结果")
    PROGRESS = "progress", _("办理进展")
    COMMENT = "comment", _("补充说明")
    RATING = "rating", _("评价")
    DUTY_REPORT = "duty_report", _("报到审核")  # a 双报到 approved or returned: not an appeal's result
    ACTIVITY = "activity", _("志愿活动")  # an activity changed, cancelled, a waiting place promoted
    MEETING = "meeting", _("会议议事")  # a chair month published, a swap asked or answered
    ACTION_ITEM = "action_item", _("督办事项")  # a resolution's task assigned, due soon, overdue
    VOTE = "vote", _("议题表决")  # a proposal's result published


class EmailState(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SKIPPED = "skipped", _("无需发送")


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    # Rendered once, in the site's language, when written; they never name anyone but the recipient.
    # Shown as they are only when `message` is empty (rows written before it, plain-text writers).
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    # The same text as message codes and parameters ({"title": parts, "body": parts}, see
    # messages.py), rendered in the reader's language whenever the row is shown.
    message = models.JSONField(default=dict, blank=True)
    link = models.CharField(max_length=200, blank=True)  # a path on this site
    appeal_number = models.CharField(max_length=20, blank=True)
    # What it is about when that is not (only) an appeal: "<app_label.model>:<pk>", e.g. a work order.
    target = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField()
    read_at = models.DateTimeField(null=True, blank=True)

    email_state = models.CharField(max_length=8, choices=EmailState.choices, default=EmailState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    # When delivery may be tried (again): null for "now"; a claim or a failure moves it on.
    email_next_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name = _("通知")
        verbose_name_plural = _("通知")
        indexes = [
            models.Index(fields=["recipient", "id"], name="notification_inbox"),
            models.Index(fields=["recipient"], condition=Q(read_at__isnull=True), name="notification_unread"),
            models.Index(fields=["email_next_at", "id"], condition=Q(email_state="pending"),
                         name="notification_email_pending"),
        ]

    def __str__(self):
        return f"{self.recipient_id} {self.kind} {self.title}"

    @property
    def shown_title(self) -> str:
        """The title in the active language (the reader's): from `message`, else the stored text."""
        from .messages import render_stored

        return render_stored(self.message, "title", self.title)

    @property
    def shown_body(self) -> str:
        from .messages import render_stored

        return render_stored(self.message, "body", self.body)

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
