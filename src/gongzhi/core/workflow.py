"""State machines as data: a table of transitions, shared by every app that has one.

An app's workflow module lists its rows; its services look a row up by (state, action), check the
actor's relations against `roles` and the row's `guard`, and pages offer exactly the rows that pass.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Transition:
    source: str
    action: str
    target: str
    roles: frozenset[str]
    guard: Callable | None = None
    # Input the action needs (pages render these fields; services validate them).
    requires: tuple[str, ...] = ()
    # Said when the row matches state, action and role but its guard refuses.
    refusal: object = field(default=None, compare=False)

    def allows(self, obj, data=None) -> bool:
        return self.guard is None or bool(self.guard(obj, data))


def rows(sources, action, target, roles, **kw) -> tuple[Transition, ...]:
    """The same transition from each of several states."""
    return tuple(Transition(s, action, target, frozenset(roles), **kw) for s in sources)
