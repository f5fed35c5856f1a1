"""Demo volunteering for 北宁社区: three teams, the demo member's and liaison's unit's dual reports
(approved), activities past and upcoming (one full with a wait list) and some attendance.

Everything goes through the volunteering services, so audit entries, time-bank credits and
counts agree. Idempotent: a second run finds what the first made and adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from gongzhi.demo import plan
from gongzhi.org.models import Person
from gongzhi.places.models import Place
from gongzhi.volunteering import services
from gongzhi.volunteering.models import Activity, DualReport, SignUp, Team

TEAMS = (("红扳手", "维修", "水电、门窗、家电小修，每月第一个周六集中服务。"),
         ("追光", "助学", "为社区学生提供课业辅导和心理陪伴。"),
         ("啄木鸟", "文明劝导", "劝导不文明行为，清理楼道小广告。"))

# (title, team name or "", venue, days from today, start hour, hours long, capacity, past)
ACTIVITIES = (
    ("上门为独居老人检修水电", "红扳手", "北宁社区各小区", -20, 9, 3, 6, True),
    ("清理楼道小广告", "啄木鸟", "北宁社区 3 号小区", -6, 15, 2, 10, True),
    ("周末课业辅导", "追光", "北宁社区党群服务中心二楼", 3, 9, 2, 2, False),
    ("家电义务维修集市", "红扳手", "北宁社区广场", 10, 9, 3, 20, False),
    ("文明养犬劝导", "啄木鸟", "北宁社区各小区出入口", 17, 8, 2, 8, False),
)


def _user(name):
    return get_user_model().objects.filter(username=name).first()


def seed_volunteering(*, today: dt.date | None = None, log: Callable[[str], None] = print) -> dict[str, int]:
    today = today or timezone.localdate()
    made = {"teams": 0, "dual_reports": 0, "activities": 0, "signups": 0, "attendance": 0}
    community = Place.objects.filter(code=plan.BEINING).first()
    cw, member, liaison = _user("community"), _user("member"), _user("liaison")
    if community is None or cw is None:
        log("volunteering: 北宁社区 or the demo community worker is missing; skipped")
        return made
    member_person = Person.objects.filter(user=member).first() if member else None
    volunteers = list(Person.objects.filter(registered_community=community, party__isnull=False)
                      .exclude(pk=getattr(member_person, "pk", None)).order_by("id")[:8])

    teams = {}
    for i, (name, speciality, description) in enumerate(TEAMS):
        t = Team.objects.filter(community=community, name=name).first()
        if t is None:
            leader = volunteers[i] if i < len(volunteers) else None
            t = services.team_create(actor=cw, community=community, name=name, speciality=speciality,
                                     description=description, leader=leader)
            made["teams"] += 1
        teams[name] = t

    year = today.year
    if member_person is not None and not DualReport.objects.filter(person=member_person, year=year).exists():
        r = services.report_submit(actor=member, kind="member", community=community, year=year,
                                   offer="水电维修；周末可服务")
        services.report_approve(actor=cw, report=r, version=r.version)
        made["dual_reports"] += 1
    unit = None
    if liaison is not None:
        ra = liaison.role_assignments.filter(organization__isnull=False).select_related("organization").first()
        unit = ra.organization if ra else None
    if unit is not None and not DualReport.objects.filter(organization=unit, year=year).exists():
        r = services.report_submit(actor=liaison, kind="unit", organization=unit, community=community, year=year,
                                   offer="提供会议室和 10 名志愿者")
        services.report_approve(actor=cw, report=r, version=r.version)
        made["dual_reports"] += 1

    now = timezone.now()
    for title, team_name, venue, days, hour, length, capacity, past in ACTIVITIES:
        if Activity.objects.filter(community=community, title=title).exists():
            continue
        day = today + dt.timedelta(days=days)
        starts = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
        ends = starts + dt.timedelta(hours=length)
        if past:
            # Held now through the services (sign-up, check-in/out, finish), then dated back: it starts
            # in a minute, so the member's check-in comes before the start.
            starts, ends = now + dt.timedelta(minutes=1), now + dt.timedelta(minutes=1, hours=length)
        a = services.activity_create(actor=cw, title=title, community=community, venue=venue, starts_at=starts,
                                     ends_at=ends, capacity=capacity, hours=length, organiser_kind="team",
                                     team=teams[team_name], publish=True)
        made["activities"] += 1
        people = volunteers[: capacity + 2] if capacity <= 2 else volunteers[:3]
        for p in people:
            services.signup_create(actor=cw, activity=a, person=p)
            made["signups"] += 1
        if member_person is not None and (past or capacity <= 2):
            services.signup_create(actor=member, activity=a)
            made["signups"] += 1
        if past:
            if member_person is not None:
                services.check_in(actor=member, code=a.code)
                # The member stays throughout: the clock is moved on past the end before they check out.
                gone = dt.timedelta(minutes=2, hours=length)
                Activity.objects.filter(pk=a.pk).update(starts_at=a.starts_at - gone, ends_at=a.ends_at - gone)
                SignUp.objects.filter(activity=a, person=member_person).update(
                    checked_in_at=F("checked_in_at") - gone)
                services.check_out(actor=member, code=a.code)
                made["attendance"] += 1
            a.refresh_from_db()
            services.activity_finish(actor=cw, activity=a, version=a.version, summary=f"{title}：顺利完成。",
                                     beneficiaries=12 * length)
            real_start = timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))
            shift = real_start - a.starts_at
            Activity.objects.filter(pk=a.pk).update(starts_at=real_start, ends_at=real_start
                                                    + dt.timedelta(hours=length),
                                                    finished_at=real_start + dt.timedelta(hours=length))
            for s in SignUp.objects.filter(activity=a):
                SignUp.objects.filter(pk=s.pk).update(
                    queued_at=s.queued_at + shift,
                    checked_in_at=s.checked_in_at + shift if s.checked_in_at else None,
                    checked_out_at=s.checked_out_at + shift if s.checked_out_at else None)
    log("volunteering: " + ", ".join(f"{k} {v}" for k, v in made.items()))
    return made


