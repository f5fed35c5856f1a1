"""Actors that are not a signed-in user: the operator at the server's command line."""


class CommandLineActor:
    """The operator at the server: every scope, named "cli" in the audit trail (no user row)."""

    pk = None
    id = None
    username = "cli"
    is_active = True
    is_authenticated = True
    is_superuser = True
