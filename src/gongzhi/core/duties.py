"""Segregation of duties: a staff power (credit, reverse, approve, mark attendance) is never used for oneself.

One rule for every service that applies such a power: the actor must not be the beneficiary, whether
the beneficiary is named as a user account or as a person record linked to one. The requester's own
actions on their own things (a resident rating the service they asked for) are not staff powers and do
not come here.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .errors import PermissionDenied

SELF_DEALING = "self_dealing"


def _user_id_of(subject):
    """The user account behind `subject`: a user, a person (its linked user), or an id of a user."""
    if subject is None:
        return None
    if isinstance(subject, int):
        return subject
    if hasattr(subject, "is_authenticated"):
        return subject.pk
    return getattr(subject, "user_id", None)


def is_self(actor, *subjects) -> bool:
    """True when any of `subjects` (users, people, user ids) is the actor's own account."""
    if actor is None or not getattr(actor, "is_authenticated", False):
        return False
    return any(uid is not None and uid == actor.pk for uid in map(_user_id_of, subjects))


def refuse_self(actor, *subjects, code: str = SELF_DEALING, message=None) -> None:
    """Refuse (403, code `self_dealing`) when the actor would use a staff power for themself.

    Superusers are held to the rule too: the point is that a second person sees every such act."""
    if is_self(actor, *subjects):
        raise PermissionDenied(code, message or _("不能为自己办理此项业务，请由其他工作人员办理。"))
