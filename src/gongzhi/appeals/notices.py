"""Notifications on appeal events (filled in by the notifications slice)."""


def on_event(appeal, event, **context) -> None:
    return None
