"""KPI rollups (filled in by the KPI slice)."""


def on_event(appeal, event, **context) -> None:
    return None
