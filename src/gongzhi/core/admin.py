"""Staff tools: the audit trail and the personal-data access log, read-only.

Both are evidence: nobody adds, edits or deletes a row here, not even a superuser (the audit
chain would break, and on PostgreSQL a trigger refuses it anyway).
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import AuditEntry, PiiAccess


class ReadOnlyAdmin(admin.ModelAdmin):
    show_full_result_count = False  # these tables grow without bound: skip the second COUNT(*)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ("id", "at", "actor_name", "action", "object_type", "object_id", "short_hash")
    list_filter = ("action", "object_type")
    search_fields = ("actor_name", "action", "object_type", "object_id")
    ordering = ("-id",)

    @admin.display(description=_("哈希"))
    def short_hash(self, obj):
        return obj.hash[:12]


@admin.register(PiiAccess)
class PiiAccessAdmin(ReadOnlyAdmin):
    list_display = ("id", "at", "user", "person", "field", "reason", "channel")
    list_filter = ("field", "channel")
    list_select_related = ("user", "person")
    search_fields = ("user__username", "person__name", "reason")
    ordering = ("-id",)
