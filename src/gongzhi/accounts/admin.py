"""Staff tools for role assignments and API tokens. Writes made here are audited like any other;
token keys are never shown (only the hash is stored), so tokens are created on the token page,
by the API or by `gongzhi create_token`, and only revoked here."""

from django import forms
from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from gongzhi.core import audit
from gongzhi.core.errors import GongzhiError

from . import services
from .models import ApiToken, RoleAssignment


class RoleAssignmentForm(forms.ModelForm):
    class Meta:
        model = RoleAssignment
        fields = ("user", "role", "place", "grid", "organization")

    actor = None  # the signed-in staff member, set by RoleAssignmentAdmin.get_form

    def clean(self):
        cleaned = super().clean()
        user = cleaned.get("user")
        if user is not None and self.actor is not None and user.pk == self.actor.pk:
            # The same rule as services.role_assign: nobody raises their own rights.
            raise forms.ValidationError(_("不能给自己授予角色，请由其他管理员办理。"))
        if sum(cleaned.get(f) is not None for f in ("place", "grid", "organization")) != 1:
            raise forms.ValidationError(_("角色必须且只能有一个范围：地点、网格或组织。"))
        return cleaned


def _record(ra):
    return {"user": ra.user.username, "role": ra.role, "scope": ra.scope_label()}


@admin.register(RoleAssignment)
class RoleAssignmentAdmin(admin.ModelAdmin):
    form = RoleAssignmentForm
    list_display = ("user", "role", "scope", "created_at")
    list_filter = ("role",)
    list_select_related = ("user", "place", "grid", "organization")
    search_fields = ("user__username", "user__first_name", "place__code", "place__name", "grid__code")
    autocomplete_fields = ("user", "place", "grid")
    raw_id_fields = ("organization",)
    ordering = ("-id",)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.actor = request.user
        return form

    @admin.display(description=_("范围"))
    def scope(self, obj):
        return obj.scope_label()

    def save_model(self, request, obj, form, change):
        before = None
        if change:
            old = RoleAssignment.objects.select_related("user", "place", "grid", "organization").get(pk=obj.pk)
            before = _record(old)
        super().save_model(request, obj, form, change)
        audit.record(request.user, "role.change" if change else "role.assign", obj, before=before,
                     after=_record(obj))

    def delete_model(self, request, obj):
        audit.record(request.user, "role.revoke", obj, before=_record(obj))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("user", "place", "grid", "organization"):
            self.delete_model(request, obj)


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    # key_hash is left out on purpose: it is not the key, but there is no reason to show it either.
    fields = ("user", "prefix", "name", "created_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    list_display = ("prefix", "user", "name", "created_at", "last_used_at", "revoked_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user",)
    search_fields = ("prefix", "user__username", "name")
    actions = ["revoke"]
    ordering = ("-id",)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("撤销所选令牌"), permissions=["view"])
    def revoke(self, request, queryset):
        done = 0
        for tok in queryset.select_related("user").filter(revoked_at__isnull=True):
            try:
                services.token_revoke(actor=request.user, token=tok)
                done += 1
            except GongzhiError as exc:
                self.message_user(request, str(exc.message), messages.ERROR)
        self.message_user(request, _("已撤销 %(n)s 个令牌。") % {"n": done}, messages.SUCCESS)
