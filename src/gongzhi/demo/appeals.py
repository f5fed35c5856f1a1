"""Sample appeals for the demo, created through the appeal services so they are exactly what the
platform itself would hold: timelines, work orders, ratings, notifications, audit entries and KPI
rollups all come from the same code paths as a real appeal.

Who: 李秀英 (resident) reports most of them in 北宁社区; 韦丽萍 (gridworker) is the first responder
in her area's micro grids and also files patrol reports; 陆海燕 (community) takes hotline calls,
takes over what is handed up, rejects and merges; 梁建华 (street, 民生街道) whistles 兴宁区市场监督管理局
(department) and 蒙晓东's member unit (liaison), and rates their work orders; grids outside her
area start with the community (no grid worker there has an account).

There are appeals in every state (submitted … merged), in fixed numbers per scale (PLAN): 62 at
small scale, 104 at district and city scale. Each costs 20–150 ms of service calls (≈ 50 ms on
average, ≈ 5 s for the district's on SQLite); 400 would double the district seed's ~10 s. Each carries an idempotency key `demo-<recipe>-<n>` of its
submitter: a second run finds the keys and creates nothing; a larger scale adds only the missing
ones.

When. Each appeal is played out on a clock set to the past — from about 60 days ago up to a few
hours ago — by pointing `django.utils.timezone.now` at that moment while its services run (and only
then). Everything the services stamp (submission, deadlines, events, work orders, numbers
SQ + that day's date, notifications, rollup days, audit entries) is therefore mutually consistent;
audit entries are appended in seeding order but carry these back-dated times. The clock never
passes the real present, so nothing lies in the future.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from unittest import mock

from django.contrib.auth import get_user_model
from django.utils import timezone

from gongzhi.accounts.models import RoleAssignment
from gongzhi.appeals import services
from gongzhi.appeals.models import Appeal, Source, State
from gongzhi.appeals.selectors import summonable_organizations
from gongzhi.places.models import Grid, GridLevel, Place

from . import plan

# recipe → (how many at small scale, at district and city scale); see the recipes below
PLAN: dict[str, tuple[int, int]] = {
    "submitted": (5, 8),
    "hotline": (1, 3),
    "accepted": (4, 7),
    "patrol": (2, 4),
    "community_start": (2, 4),
    "escalated": (3, 5),
    "at_street": (2, 4),
    "bounced": (2, 3),
    "dispatched": (3, 5),
    "reported": (2, 3),
    "resolved": (4, 7),
    "orders_resolved": (2, 3),
    "rated": (8, 14),
    "reopened": (3, 4),
    "redone": (2, 3),
    "closed": (8, 15),
    "rejected": (3, 4),
    "merged": (3, 4),
}
# the state each recipe leaves its appeal in (a merge also leaves its open twin "submitted")
ENDS_IN = {
    "submitted": State.SUBMITTED,
    "hotline": State.SUBMITTED,
    "accepted": State.ACCEPTED,
    "patrol": State.ACCEPTED,
    "community_start": State.ACCEPTED,
    "escalated": State.ESCALATED,
    "at_street": State.ESCALATED,
    "bounced": State.ACCEPTED,
    "dispatched": State.DISPATCHED,
    "reported": State.DISPATCHED,
    "resolved": State.RESOLVED,
    "orders_resolved": State.RESOLVED,
    "rated": State.RATED,
    "reopened": State.REOPENED,
    "redone": State.RATED,
    "closed": State.CLOSED,
    "rejected": State.REJECTED,
    "merged": State.MERGED,
}
# how many days ago each recipe's appeal was submitted: (newest, oldest)
AGE_DAYS = {
    "submitted": (0.1, 2.5),
    "hotline": (0.2, 2.0),
    "accepted": (0.5, 6),
    "patrol": (0.5, 8),
    "community_start": (1, 8),
    "escalated": (1, 6),
    "at_street": (2, 10),
    "bounced": (2, 12),
    "dispatched": (3, 12),
    "reported": (3, 14),
    "resolved": (2, 20),
    "orders_resolved": (6, 30),
    "rated": (6, 50),
    "reopened": (6, 40),
    "redone": (12, 55),
    "closed": (14, 59),
    "rejected": (2, 40),
    "merged": (1, 30),
}

CATEGORIES = (
    ("city_appearance", "小区门口垃圾堆积", "小区门口的垃圾已经三天没有清运，气味很大，请尽快处理。"),
    ("traffic_parking", "乱停车堵塞通道", "小区主干道两侧乱停车，消防车和救护车都进不来。"),
    ("property_management", "电梯经常故障", "3 栋电梯这个月坏了四次，物业维修不及时，老人上下楼很困难。"),
    ("facility_repair", "路灯不亮", "巷子里的路灯坏了一个多星期，晚上很黑，存在安全隐患。"),
    ("noise", "夜间噪声扰民", "楼下烧烤店每晚营业到凌晨两点，噪声很大，影响休息。"),
    ("fire_safety", "电动车楼道充电", "有住户把电动车推进楼道充电，存在火灾隐患。"),
    ("dispute", "楼上漏水纠纷", "楼上卫生间漏水到我家天花板，多次协商未果，请社区调解。"),
    ("greening", "枯树有倒伏危险", "人行道边一棵枯树向路面倾斜，刮风时有倒伏危险。"),
    ("water_power_gas", "管道漏水", "小区北门附近地面一直冒水，疑似供水管道破裂。"),
    ("pets", "犬只扰民", "邻居养的狗整夜吠叫，出门也不拴绳。"),
    (
        "elderly_disability",
        "独居老人需要帮扶",
        "5 栋一位独居老人行动不便，最近几天没见出门，请社区上门看看。",
    ),
    ("illegal_construction", "楼顶违章搭建", "7 栋楼顶有人搭建彩钢房，影响楼体安全。"),
)
FOOD_SAFETY = ("health", "餐馆后厨卫生差", "巷口一家餐馆后厨污水直排，苍蝇很多，担心食品安全。")
RESULTS = ("已现场处理完毕，并安排定期巡查。", "已协调物业和相关单位处理完毕。", "已维修完成，恢复正常。")


@contextlib.contextmanager
def clock(when: dt.datetime):
    """The services' clock, set to `when` (see the module docstring)."""
    with mock.patch("django.utils.timezone.now", return_value=when):
        yield


class _Play:
    """One appeal played forward: `then(hours)` moves its clock on before the next service call."""

    def __init__(self, seeder: AppealSeeder, start: dt.datetime):
        self.s, self.t = seeder, start

    def then(self, hours: float, fn: Callable, **kw):
        self.t = min(self.t + dt.timedelta(hours=hours), self.s.latest)
        with clock(self.t):
            return fn(**kw)


class AppealSeeder:
    def __init__(self, scale: str, now: dt.datetime | None = None):
        self.scale = scale
        real = now or timezone.now()
        self.now = real.replace(second=0, microsecond=0)
        self.latest = self.now - dt.timedelta(minutes=5)
        users = {
            u.username: u
            for u in get_user_model().objects.filter(
                username__in=["resident", "gridworker", "community", "street", "department", "liaison"]
            )
        }
        self.resident, self.gridworker = users["resident"], users["gridworker"]
        self.community, self.street = users["community"], users["street"]
        self.department, self.liaison = users["department"], users["liaison"]
        area = RoleAssignment.objects.get(user=self.gridworker, role="grid_worker").grid
        self.my_grids = list(Grid.objects.filter(parent=area, level=GridLevel.MICRO).order_by("code"))
        beining = Place.objects.get(code=plan.BEINING)
        self.other_grids = list(
            Grid.objects.filter(community=beining, level=GridLevel.MICRO, retired_at__isnull=True)
            .exclude(parent=area)
            .order_by("code")
        )
        self.department_org = RoleAssignment.objects.get(
            user=self.department, role="department_handler"
        ).organization
        self.unit = RoleAssignment.objects.get(user=self.liaison, role="unit_liaison").organization
        self.created: dict[str, int] = {}

    # ---- helpers ----

    def point(self, grids: list[Grid], n: int) -> tuple[float, float]:
        g = grids[n % len(grids)]
        fx, fy = 0.2 + 0.6 * ((n * 0.618034) % 1), 0.2 + 0.6 * ((n * 0.414214) % 1)
        return round(g.min_lon + (g.max_lon - g.min_lon) * fx, 7), round(
            g.min_lat + (g.max_lat - g.min_lat) * fy, 7
        )

    def start(self, recipe: str, n: int) -> dt.datetime:
        lo, hi = AGE_DAYS[recipe]
        days = lo + (hi - lo) * ((n * 0.618034 + len(recipe) * 0.1) % 1)
        # office hours, Asia/Shanghai: between 08:00 and 18:00 that day
        local = timezone.localtime(self.now - dt.timedelta(days=days))
        hour = 8 + (n * 7 + len(recipe)) % 10
        local = local.replace(hour=hour, minute=(n * 13) % 60)
        return min(local, self.latest - dt.timedelta(hours=1))

    def submit(self, p: _Play, key: str, n: int, *, actor=None, grids=None, category=None, **kw) -> Appeal:
        code, title, text = category or CATEGORIES[n % len(CATEGORIES)]
        lon, lat = self.point(grids or self.my_grids, n)
        with clock(p.t):
            return services.appeal_submit(
                actor=actor or self.resident,
                category=code,
                title=title,
                text=text,
                lon=lon,
                lat=lat,
                idempotency_key=key,
                urgency="urgent" if n % 9 == 4 else "normal",
                **kw,
            )

    def owner(self, a: Appeal):
        """Whoever owns the appeal now: 韦丽萍 in a demo database; in one where her grids have other
        workers with accounts (e.g. bench/appeals.py's), the grid's first responder."""
        return a.owner or self.gridworker

    def to_street(self, p: _Play, a: Appeal) -> Appeal:
        a = p.then(
            1.5, services.appeal_hand_on, actor=self.owner(a), appeal=a, reason="涉及多个部门，需社区协调"
        )
        a = p.then(2, services.appeal_accept, actor=self.community, appeal=a)
        return p.then(
            3,
            services.appeal_hand_on,
            actor=self.community,
            appeal=a,
            reason="涉及市场监管和驻区单位，需街道吹哨调度",
        )

    def whistle(self, p: _Play, a: Appeal) -> Appeal:
        orgs = [self.department_org]
        if summonable_organizations(a).filter(pk=self.unit.pk).exists():
            orgs.append(self.unit)
        a = p.then(1, services.appeal_accept, actor=self.street, appeal=a)
        return p.then(
            1,
            services.whistle_blow,
            actor=self.street,
            appeal=a,
            note="请两家单位按时报到、联合处置",
            summons=[{"organization_id": o.pk} for o in orgs],
        )

    def handler_of(self, wo):
        return self.department if wo.assignee_id == self.department_org.pk else self.liaison

    def rate(self, p: _Play, a: Appeal, n: int, satisfaction: str | None = None) -> Appeal:
        sat = satisfaction or ("satisfied" if n % 4 else "basic")
        return p.then(
            20,
            services.appeal_rate,
            actor=self.resident,
            appeal=a,
            resolved=True,
            satisfaction=sat,
            comment="处理及时，谢谢！" if sat == "satisfied" else "",
        )

    def resolved(self, p: _Play, a: Appeal, n: int) -> Appeal:
        a = p.then(2, services.appeal_accept, actor=self.gridworker, appeal=a)
        return p.then(
            20, services.appeal_resolve, actor=self.gridworker, appeal=a, note=RESULTS[n % len(RESULTS)]
        )

    # ---- recipes: each plays one appeal (merged: two) up to its state ----

    def play(self, recipe: str, n: int, key: str) -> None:
        p = _Play(self, self.start(recipe, n))
        if recipe == "hotline":
            self.submit(
                p,
                key,
                n,
                actor=self.community,
                source=Source.HOTLINE,
                reporter_name="王女士",
                reporter_phone=f"1380771{n:04d}",
                consent_recorded=True,
            )
            return
        if recipe == "patrol":
            a = self.submit(p, key, n, actor=self.gridworker, source=Source.PATROL)
            p.then(0.5, services.appeal_accept, actor=self.gridworker, appeal=a)
            return
        if recipe == "community_start":
            a = self.submit(p, key, n, grids=self.other_grids)
            p.then(
                3,
                services.appeal_accept,
                actor=self.community if a.owner_level != "grid" else self.owner(a),
                appeal=a,
            )
            return
        if recipe == "merged":
            cat = CATEGORIES[n % len(CATEGORIES)]
            twin = self.submit(p, key + "-twin", n, category=cat)
            p.t += dt.timedelta(hours=2)
            a = self.submit(p, key, n + 1, category=cat)
            p.then(
                1,
                services.appeal_merge,
                actor=self.community,
                appeal=a,
                into=twin.number,
                note="同一地点同一问题，合并办理",
            )
            return
        category = FOOD_SAFETY if recipe in ("dispatched", "reported", "orders_resolved") and n % 2 else None
        a = self.submit(p, key, n, category=category)
        if recipe == "submitted":
            return
        if recipe == "rejected":
            p.then(
                4,
                services.appeal_reject,
                actor=self.community,
                appeal=a,
                reason="属于民事合同纠纷，不在本平台受理范围。",
                redirect_to="可向兴宁区人民法院起诉，或申请人民调解委员会调解（0771-1234567）",
            )
            return
        if recipe in ("escalated", "bounced"):
            a = p.then(
                1.5, services.appeal_hand_on, actor=self.owner(a), appeal=a, reason="需社区协调物业处理"
            )
            if recipe == "bounced":
                p.then(
                    2,
                    services.appeal_hand_back,
                    actor=self.community,
                    appeal=a,
                    reason="属网格职责范围，请网格员继续跟进",
                )
            return
        if recipe == "at_street":
            self.to_street(p, a)
            return
        if recipe in ("dispatched", "reported", "orders_resolved"):
            a = self.whistle(p, self.to_street(p, a))
            for wo in a.work_orders.order_by("id"):
                if recipe == "dispatched":
                    break
                wo = p.then(
                    2,
                    services.summons_report,
                    actor=self.handler_of(wo),
                    work_order=wo,
                    note="已报到，马上安排",
                )
                if recipe == "orders_resolved":
                    wo = p.then(
                        30,
                        services.summons_resolve,
                        actor=self.handler_of(wo),
                        work_order=wo,
                        note=RESULTS[n % len(RESULTS)],
                    )
                    if n % 2 == 0:
                        p.then(
                            4,
                            services.summons_rate,
                            actor=self.street,
                            work_order=wo,
                            speed=4 + n % 2,
                            result=5,
                            comment="响应及时",
                        )
            return
        if recipe == "accepted":
            p.then(2, services.appeal_accept, actor=self.gridworker, appeal=a, note="马上去现场查看")
            return
        a = self.resolved(p, a, n)
        if recipe == "resolved":
            return
        if recipe in ("reopened", "redone"):
            a = self.rate(p, a, n, "unsatisfied")
            if recipe == "redone":
                a = p.then(3, services.appeal_accept, actor=self.gridworker, appeal=a, note="重新办理")
                a = p.then(
                    24, services.appeal_resolve, actor=self.gridworker, appeal=a, note="已重新处理并回访"
                )
                self.rate(p, a, n)
            return
        a = self.rate(p, a, n)
        if recipe == "closed":
            p.then(48, services.appeal_close, actor=self.community, appeal=a, note="已回访，结案")

    def run(self) -> int:
        have = set(
            Appeal.objects.filter(idempotency_key__startswith="demo-").values_list(
                "idempotency_key", flat=True
            )
        )
        made = 0
        column = 0 if self.scale == "small" else 1
        for recipe, counts in PLAN.items():
            for n in range(counts[column]):
                key = f"demo-{recipe}-{n}"
                if key in have:
                    continue
                self.play(recipe, n, key)
                made += 1
                self.created[recipe] = self.created.get(recipe, 0) + 1
        return made


def expected_states(scale: str) -> dict[str, int]:
    """How many demo appeals end in each state at a scale (a merge's twin stays submitted)."""
    column = 0 if scale == "small" else 1
    out: dict[str, int] = {}
    for recipe, counts in PLAN.items():
        state = str(ENDS_IN[recipe])
        out[state] = out.get(state, 0) + counts[column]
        if recipe == "merged":
            out[State.SUBMITTED] = out.get(State.SUBMITTED, 0) + counts[column]
    return out


def seed_appeals(scale: str, now: dt.datetime | None = None) -> int:
    """Create the scale's demo appeals that are missing; the number of recipes played."""
    return AppealSeeder(scale, now).run()
