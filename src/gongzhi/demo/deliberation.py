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
    made = {"chair_months": 0, "chair_months_published": 0, "meeting_series": 0, "meetings": 0, "owned_units": 0,
            "proposals": 0, "proposals_passed": 0}
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
    seed_votes(cw=cw, community=committee.place, today=today, made=made)
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


def _sheet():
    """A small photo standing in for a scanned paper ballot."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (245, 245, 240)).save(buf, "JPEG")
    return SimpleUploadedFile("ballot.jpg", buf.getvalue(), content_type="image/jpeg")


def _register_xlsx(compound) -> bytes:
    """大修厂小区's owners: four flats in each of its nine buildings, one couple sharing a flat, one owner
    of two flats, and two flats the developer has not sold."""
    import random
    from decimal import Decimal

    from gongzhi.core.exports import Column, build_xlsx
    from gongzhi.deliberation.services.register import REGISTER_HEADERS
    from gongzhi.demo import fake

    rng = random.Random(278)
    rows = []
    buildings = [b.name for b in compound.children.order_by("code")] or [f"{k + 1}栋" for k in range(9)]
    n = 0
    for b in buildings:
        for floor in range(1, 5):
            area = Decimal(rng.randrange(6000, 14000)) / 100
            unit = f"{floor}01"
            if n in (7, 23):
                rows.append([b, unit, area, "", "", "", "", "是"])
            else:
                owner = (f"{fake.short_name(rng)}", f"139{n:08d}") if n != 30 else rows[2][3:6:2]
                rows.append([b, unit, area, owner[0], "", owner[1], "是", "否"])
                if n == 12:  # a couple: the wife is an owner too, the husband votes
                    rows.append([b, unit, area, fake.short_name(rng), "", f"138{n:08d}", "否", "否"])
            n += 1
    cols = [Column(h, lambda r, i=i: r[i]) for i, h in enumerate(REGISTER_HEADERS)]
    return build_xlsx("业主名册", cols, rows)


def seed_votes(*, cw, community, today: dt.date, made: dict) -> None:
    """The owners' register of 大修厂小区 (imported from Excel through the service) and two decided owners'
    votes: a major matter that passed and an ordinary one that failed its quorum."""
    import io

    from gongzhi.deliberation.models import OwnedUnit, Proposal
    from gongzhi.deliberation.services import register, votes
    from gongzhi.places.models import Place, PlaceKind

    compound = Place.objects.filter(kind=PlaceKind.COMPOUND, parent=community).order_by("code").first()
    if compound is None or OwnedUnit.objects.filter(compound=compound).exists():
        return
    result = register.import_register(actor=cw, compound=compound, fileobj=io.BytesIO(_register_xlsx(compound)),
                                      source="demo")
    made["owned_units"] += result.units
    keys = sorted({key for _unit, key, _area in register.register_rows(compound)})
    tz = timezone.get_current_timezone()
    for title, body, matter, days_ago, share_voting, yes_every in (
        ("和美楼加装电梯", "和美楼加装一部电梯，费用由各楼层业主按受益程度分摊，使用住宅专项维修资金 12 万元。", "major", 40, 0.9, 8),
        ("更换小区门禁系统", "更换为人脸识别门禁，费用由物业公司承担。", "ordinary", 12, 0.4, 2),
    ):
        opens = timezone.make_aware(dt.datetime.combine(today - dt.timedelta(days=days_ago), dt.time(9)), tz)
        closes = opens + dt.timedelta(days=7)
        p = votes.proposal_create(actor=cw, place=compound, title=title, body=body, electorate="owners",
                                  matter=matter, discussion_until=opens, opens_at=opens, closes_at=closes,
                                  now=opens - dt.timedelta(days=7))
        voting = keys[: int(len(keys) * share_voting)]
        for k, key in enumerate(voting):
            choice = "no" if (k + 1) % yes_every == 0 else "yes"
            votes.ballot_paper(actor=cw, proposal=p, voter_key=key, choice=choice, photo=_sheet(),
                               now=opens + dt.timedelta(hours=k + 1))
        votes.decide_due(now=closes + dt.timedelta(minutes=5))
        made["proposals"] += 1
    made["proposals_passed"] = Proposal.objects.filter(place=compound, passed=True).count()
