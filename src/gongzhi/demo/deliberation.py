"""Demo deliberation for 北宁社区: its joint committee's chair roster (this year's published, next
year's a draft), 逢四说事 on the 4th, 14th and 24th since January with a holiday cancelled and one session
moved, a weekly 老友议事会, the year's quarterly joint meetings and this month's theme activity, all
through the services (audit entries and notices to the chairs agree).

Idempotent: a second run finds the months the first made and adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.utils import timezone

from gongzhi.core.errors import GongzhiError
from gongzhi.deliberation import recurrence, services
from gongzhi.deliberation.models import ChairTerm, Meeting, MeetingSeries
from gongzhi.demo import plan
from gongzhi.org.models import Organization, OrgKind


def seed_deliberation(*, today: dt.date | None = None, log: Callable[[str], None] = print) -> dict[str, int]:
    today = today or timezone.localdate()
    made = {"chair_months": 0, "chair_months_published": 0, "meeting_series": 0, "meetings": 0}
    committee = Organization.objects.filter(kind=OrgKind.JOINT_COMMITTEE, place__code=plan.BEINING).first()
    cw = get_user_model().objects.filter(username="community").first()
    if committee is None or cw is None:
        log("deliberation: 北宁社区联合党委 or the demo community worker is missing; skipped")
        return made
    for year, publish in ((today.year, True), (today.year + 1, False)):
        if ChairTerm.objects.filter(committee=committee, month__year=year).exists():
            continue
        try:
            result = services.roster_generate(actor=cw, committee=committee, year=year, today=dt.date(year, 1, 1))
            made["chair_months"] += len(result.changed)
            if publish:
                made["chair_months_published"] += services.roster_publish(actor=cw, committee=committee, year=year)
        except GongzhiError as exc:  # a scale without member units: nothing to rotate
            log(f"deliberation: {year} roster skipped: {exc.message}")
    if not MeetingSeries.objects.filter(place=committee.place).exists():
        _seed_meetings(committee, cw, today, made)
    return made


def _seed_meetings(committee, cw, today: dt.date, made: dict) -> None:
    community = committee.place
    jan1 = timezone.make_aware(dt.datetime(today.year, 1, 1))
    since_jan = (timezone.make_aware(dt.datetime.combine(today, dt.time())) - jan1) + services.HORIZON
    series = [
        services.series_create(actor=cw, kind="deliberation", form="feng_si", title="逢四说事",
                               rule=recurrence.PRESETS["feng_si"], dtstart=f"{today.year}-01-04 19:30",
                               duration_minutes=90, location=f"{community.name}党群服务中心议事厅", place=community),
        services.series_create(actor=cw, kind="deliberation", form="old_friends", title="老友议事会",
                               rule=recurrence.PRESETS["weekly_thu"], dtstart=f"{today.year}-01-07 09:30",
                               duration_minutes=60, location=f"{community.name}长者饭堂", place=community),
    ]
    made["meeting_series"] += len(series)
    # A year of sessions: materialised from January (the job keeps 90 days ahead from here on).
    made["meetings"] += services.materialise(now=jan1, horizon=since_jan, series_ids=[s.pk for s in series])
    feng_si = series[0]
    for day, cancel, new_start, reason in ((f"{today.year}-10-04 19:30", False, f"{today.year}-10-09 19:30", "国庆假期顺延"),
                                           (f"{today.year}-04-04 19:30", True, None, "清明节")):
        services.series_exception(actor=cw, series=feng_si, original_start=day, cancel=cancel, new_start=new_start,
                                  reason=reason)
    for quarter, month in enumerate((3, 6, 9, 12), start=1):
        services.meeting_create(actor=cw, kind="joint", form="plenary" if quarter == 1 else "quarterly",
                                title=f"{committee.name}第{quarter}季度联席会议", committee=committee,
                                starts_at=f"{today.year}-{month:02d}-25 09:00", ends_at=f"{today.year}-{month:02d}-25 11:00",
                                location=f"{community.name}党群服务中心")
        made["meetings"] += 1
    if ChairTerm.objects.filter(committee=committee, month=today.replace(day=1)).exists():
        services.meeting_create(actor=cw, kind="theme", title="“我为群众办实事”主题党日", committee=committee,
                                starts_at=f"{today.year}-{today.month:02d}-20 15:00",
                                ends_at=f"{today.year}-{today.month:02d}-20 17:00", location=f"{community.name}广场")
        made["meetings"] += 1
    made["meetings"] = Meeting.objects.filter(place_path__startswith=community.path).count()
