"""Staff tools: look into the outbox (e.g. why an email failed)."""

from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("id", "recipient", "kind", "title", "created_at", "read_at", "email_state", "attempts")
    list_filter = ("kind", "email_state")
    search_fields = ("appeal_number", "title")
    readonly_fields = [f.name for f in Notification._meta.fields]
