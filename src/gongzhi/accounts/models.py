"""Role assignments (role, scope) and API tokens."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RESIDENT = "resident", _("居民")
    PARTY_MEMBER = "party_member", _("党员")
    GRID_WORKER = "grid_worker", _("网格员/网格长")
    COMMUNITY_WORKER = "community_worker", _("社区工作者")
    STREET_OFFICER = "street_officer", _("街道干部")
    DEPARTMENT_HANDLER = "department_handler", _("职能部门")
    UNIT_LIAISON = "unit_liaison", _("成员单位联络员")
    DISTRICT_ADMIN = "district_admin", _("区委/组织部")
    AUDITOR = "auditor", _("审计/纪检")


class RoleAssignment(models.Model):
    """A role held on a scope: a place subtree, a grid subtree or an organisation subtree.

    `scope_path` copies the scope node's materialized path (prefixed with its kind) so scope checks
    are string prefix tests and selectors are one indexed prefix query.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(max_length=32, choices=Role.choices)
    place = models.ForeignKey("places.Place", null=True, blank=True, on_delete=models.PROTECT)
    grid = models.ForeignKey("places.Grid", null=True, blank=True, on_delete=models.PROTECT)
    organization = models.ForeignKey("org.Organization", null=True, blank=True, on_delete=models.PROTECT)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "role", "place", "grid", "organization"], name="roleassignment_unique"
            )
        ]

    def __str__(self):
        return f"{self.user} {self.role} @ {self.scope_label()}"

    def scope_label(self) -> str:
        node = self.grid or self.organization or self.place
        return str(node) if node else "-"


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 is stored, the token itself is shown once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    prefix = models.CharField(max_length=8, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    name = models.CharField(max_length=80, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @classmethod
    def issue(cls, user, name: str = "") -> tuple["ApiToken", str]:
        key = "gz_" + secrets.token_urlsafe(32)
        token = cls.objects.create(user=user, prefix=key[:8], key_hash=cls.hash_key(key), name=name)
        return token, key
