"""Demo three lists for 北宁社区: needs and micro-wishes, resources of member units and the demo member,
and projects in every state of the flow (dispatched, claimed, accepted, done, rated, declined).

Everything goes through the lists services, so numbers, audit entries and time-bank credits agree.
Idempotent: a need is known by its title in 北宁社区 and a resource by its owner and title, so a
second run finds what the first made and adds nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.utils import timezone

from gongzhi.demo import plan
from gongzhi.lists import services
from gongzhi.lists.models import Need, Resource
from gongzhi.org.models import UNIT_KINDS, Organization, Person
from gongzhi.places.models import Place

# (title, beneficiary, category, skill)
WISHES = (
    ("想要一本新华字典", "小明", "children", "goods"),
    ("想要一台收音机听戏", "王奶奶", "elderly", "goods"),
    ("希望有人陪我下象棋", "陈爷爷", "elderly", "elderly"),
    ("想要一双运动鞋参加校运会", "小雨", "children", "goods"),
    ("想学用智能手机视频通话", "黄阿姨", "elderly", "tutoring"),
    ("想要一个护腰靠垫", "李伯伯", "disabled", "goods"),
    ("希望有人帮忙换个灯泡", "周奶奶", "elderly", "repair"),
    ("想要一套绘画颜料", "朵朵", "children", "goods"),
    ("想拍一张全家福", "覃奶奶一家", "hardship", "culture"),
    ("想要一台助听器", "梁爷爷", "disabled", "medical"),
    ("希望有人教我写毛笔字", "阿杰", "children", "culture"),
    ("想要一辆儿童自行车", "小宝", "children", "goods"),
)

# (title, category, skill, beneficiaries, urgency)
SERVICE_NEEDS = (
    ("独居老人水电安全检查", "elderly", "repair", 12, "urgent"),
    ("小区楼道堆物清理", "environment", "cleaning", 60, "normal"),
    ("暑期学生课业辅导", "children", "tutoring", 20, "normal"),
    ("高血压老人义诊", "health", "medical", 30, "normal"),
    ("邻里纠纷法律咨询", "other", "legal", 8, "normal"),
    ("3 号楼单元门禁维修", "facilities", "repair", 40, "urgent"),
    ("重阳节文艺汇演场地", "culture", "venue", 150, "normal"),
    ("困难家庭冬季物资", "hardship", "goods", 15, "normal"),
    ("青少年心理健康讲座", "children", "psychology", 50, "normal"),
    ("老旧小区化粪池清掏", "environment", "cleaning", 80, "urgent"),
    ("残疾人家庭无障碍改造", "disabled", "repair", 3, "normal"),
    ("社区广场舞音响更换", "culture", "money", 40, "normal"),
    ("老年食堂助餐志愿者", "elderly", "elderly", 60, "normal"),
    ("防诈骗宣传进小区", "other", "legal", 200, "normal"),
    ("儿童之家图书捐赠", "children", "goods", 35, "normal"),
    ("楼顶防水补漏", "facilities", "repair", 24, "urgent"),
    ("失能老人上门理发", "elderly", "elderly", 10, "normal"),
    ("社区公共绿地补种", "environment", "other", 300, "normal"),
)

# (owner key, title, kind, skill, capacity, availability)
RESOURCES = (
    ("liaison_unit", "电力线路免费检修", "service", "repair", 3, "每周二、周四下午"),
    ("liaison_unit", "职工志愿服务队 10 人", "hours", "elderly", 4, "周末"),
    ("liaison_unit", "单位会议室（可容纳 40 人）", "venue", "venue", 1, "工作日晚上、周末"),
    ("member", "水电维修", "service", "repair", 2, "周六全天"),
    ("member", "陪老人聊天、读报", "hours", "elderly", 2, "工作日晚上"),
    ("unit:1", "法律咨询", "service", "legal", 2, "每月第二个周三"),
    ("unit:1", "图书 200 册", "goods", "goods", 1, "随时"),
    ("unit:2", "义诊和健康讲座", "service", "medical", 2, "每月一次"),
    ("unit:2", "心理疏导", "service", "psychology", 1, "预约"),
    ("unit:3", "保洁车辆和人员", "service", "cleaning", 2, "周末"),
    ("unit:3", "公益资金 2 万元", "money", "money", 1, "年内"),
    ("unit:4", "文艺演出团队", "service", "culture", 1, "节假日"),
)


def _user(name):
    return get_user_model().objects.filter(username=name).first()


def seed_lists(*, today: dt.date | None = None, log: Callable[[str], None] = print) -> dict[str, int]:
    today = today or timezone.localdate()
    made = {"needs": 0, "resources": 0, "projects": 0}
    community = Place.objects.filter(code=plan.BEINING).first()
    cw, resident, member, liaison = _user("community"), _user("resident"), _user("member"), _user("liaison")
    if community is None or cw is None or resident is None:
        log("lists: 北宁社区 or the demo accounts are missing; skipped")
        return made
    member_person = Person.objects.filter(user=member).first() if member else None
    liaison_unit = None
    if liaison is not None:
        ra = liaison.role_assignments.filter(organization__isnull=False).select_related("organization").first()
        liaison_unit = ra.organization if ra else None
    others = list(Organization.objects.filter(kind__in=UNIT_KINDS, place_path__startswith=community.path)
                  .exclude(pk=getattr(liaison_unit, "pk", None)).order_by("id")[:4])

    # ---- resources ----
    for key, title, kind, skill, capacity, availability in RESOURCES:
        owner, actor = {}, cw
        if key == "liaison_unit" and liaison_unit is not None:
            owner, actor = {"organization": liaison_unit}, liaison
        elif key == "member" and member_person is not None:
            owner, actor = {"person": member_person}, member
        elif key.startswith("unit:") and len(others) >= int(key[5:]):
            owner = {"organization": others[int(key[5:]) - 1]}
        if not owner:
            continue
        if Resource.objects.filter(title=title, **owner).exists():
            continue
        services.resource_create(actor=actor, title=title, kind=kind, skill=skill, capacity=capacity,
                                 availability=availability, places=[community], **owner)
        made["resources"] += 1

    # ---- needs and what became of them ----
    existing = set(Need.objects.filter(place=community).values_list("title", flat=True))
    fresh = []
    for i, (title, beneficiary, category, skill) in enumerate(WISHES):
        if title in existing:
            continue
        n = services.need_create(actor=resident, kind="micro_wish", title=title, beneficiary=beneficiary,
                                 category=category, skill=skill, place=community,
                                 due_on=today + dt.timedelta(days=7 + i * 3))
        fresh.append(n)
        made["needs"] += 1
    for i, (title, category, skill, count, urgency) in enumerate(SERVICE_NEEDS):
        if title in existing:
            continue
        source = ("survey", "staff", "deliberation")[i % 3]
        n = services.need_create(actor=cw, title=title, category=category, skill=skill, beneficiaries_count=count,
                                 urgency=urgency, place=community, source=source,
                                 due_on=today + dt.timedelta(days=5 + i * 4))
        fresh.append(n)
        made["needs"] += 1

    # Every third fresh need stays open; the rest walk the flow to different points.
    takers = [u for u in [liaison_unit, *others] if u is not None]
    for i, n in enumerate(fresh):
        step = i % 6
        if step == 0 or (not takers and member_person is None):
            continue
        if step in (1, 2, 3) and takers:
            unit = takers[i % len(takers)]
            project = services.need_dispatch(actor=cw, need=n, taker_organization=unit)
            made["projects"] += 1
            # Only the demo liaison's unit answers by hand; the other units' projects are worked by
            # the community worker's records (the liaison account speaks for one unit).
            who = liaison if unit == liaison_unit else None
            if who is None:
                continue
            if step == 1:
                services.project_decline(actor=who, project=project, reason="本周人手不足，请改派")
                continue
            services.project_accept(actor=who, project=project, plan="按计划上门服务", people=3, budget="500",
                                    starts_on=today, ends_on=today + dt.timedelta(days=7))
            if step == 3:
                services.project_done(actor=who, project=project, beneficiaries_served=n.beneficiaries_count,
                                      hours="6", summary="已完成服务，群众反映良好。")
                _rate(n, cw, resident, 5)
        elif member_person is not None and step in (4, 5):
            project = services.need_claim(actor=member, need=n)
            made["projects"] += 1
            if step == 5:
                services.project_accept(actor=member, project=project, plan="周末完成", people=1)
                services.project_done(actor=member, project=project, beneficiaries_served=1, hours="2",
                                      summary="心愿已圆，老人很开心。")
                _rate(n, cw, resident, 4)
    log(f"lists: {made['needs']} needs, {made['resources']} resources, {made['projects']} projects")
    return made


def _rate(need, cw, resident, stars):
    need.refresh_from_db()
    rater = resident if need.requester_id == resident.pk else cw
    services.need_rate(actor=rater, need=need, rating=stars, comment="感谢！")
