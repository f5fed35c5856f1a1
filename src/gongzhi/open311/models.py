"""The one table the facade needs of its own: the token handed back for each request posted through it."""

from __future__ import annotations

import secrets

from django.db import models


def new_token() -> str:
    return secrets.token_hex(16)


class Open311Token(models.Model):
    """GeoReport v2's `token` for a POSTed request, resolvable by GET tokens/{token}.

    We create appeals synchronously, so the service_request_id is known at once; the token is still
    issued (one per appeal, so a replayed POST gets the same one back) for clients that poll by token.
    Tokens are random and say nothing about the reporter.
    """

    token = models.CharField(max_length=32, unique=True, default=new_token)
    appeal = models.OneToOneField("appeals.Appeal", on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "Open311 token"

    def __str__(self):
        return self.token
