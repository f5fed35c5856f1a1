"""A year of appeal history for bench/appeals.py, written in bulk (PostgreSQL COPY, SQLite executemany).

Needs a configured Django (the caller sets DATABASE_URL and runs django.setup()) and the demo city.

What it writes, per appeal, is what the services would have written had the appeal lived that life:
the Appeal row in its final state and its timeline (submit, accept, hand_on, hand_back, resolve, rate,
reopen-and-redo, close, reject, merge/merged_in) with the same `data` the services put in the events.
Rules followed (the same as workflow.TABLE and services.py):
- the point lies inside the micro grid; the owner is the grid's on-duty worker (lowest post id with
  an account), or the community worker when the grid has none;
- deadlines come from the category and the urgency (respond / resolve hours); a reopen resets them;
- a state is the target of the last event; version = 1 + the number of transitions;
- numbers are SQ + local (Asia/Shanghai) date + the day's sequence, continuing AppealCounter, which
  is moved up to the last number issued (a later live submit gets the next one);
- merges go into an open appeal of the same category and grid, submitted earlier the same day.
Whistles and work orders are not generated (no Whistle/WhistleSummons rows): every appeal here is
handled at grid, community or street level.

Busy grids: each micro grid gets a log-normal weight (σ = 1.1): the busiest 1 % of grids take about
11 % of the appeals, the busiest 10 % about 44 %, the busiest one 0.37 % (3,700 in a million). Days: weekdays 1.0, weekends 0.7, a 1.25× rise over the year; hours
follow office hours (peaks 9–11 and 14–17). Deterministic for a given seed and end time.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Max

from gongzhi.accounts.models import RoleAssignment
from gongzhi.appeals.models import Appeal, AppealCounter, AppealEvent, Category
from gongzhi.core import pii
from gongzhi.org.models import Person, Post, PostTitle
from gongzhi.places.models import Grid, GridLevel, Place, PlaceKind

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
HOUR = 3600.0
RESIDENTS = 20_000
PREFIX = "bench-"  # every account the bench creates

CATEGORY_WEIGHTS = {
    "city_appearance": 18,
    "traffic_parking": 14,
    "property_management": 12,
    "facility_repair": 11,
    "noise": 9,
    "dispute": 6,
    "fire_safety": 4,
    "greening": 4,
    "water_power_gas": 4,
    "public_security": 3,
    "elderly_disability": 3,
    "employment_social_security": 3,
    "health": 3,
    "illegal_construction": 3,
    "pets": 3,
    "other": 3,
}
# source, share, who reports: resident account / assisted entry by the community / the grid worker
SOURCES = (
    ("resident", 0.50, "resident"),
    ("hotline", 0.24, "assisted"),
    ("patrol", 0.12, "patrol"),
    ("api", 0.06, "resident"),
    ("open311", 0.04, "resident"),
    ("visit", 0.04, "assisted"),
)
P_URGENT = 0.06
P_ANONYMOUS = 0.05
P_REJECT = 0.025
P_MERGE = 0.015
P_HAND_ON = 0.12  # grid → community
P_TO_STREET = 0.25  # of those, community → street
P_BOUNCE = 0.08  # of those at community, handed back down to the grid
P_RATE = {"resident": 0.75, "patrol": 0.30, "assisted": 0.0}  # the reporter must be an account to rate
SATISFACTION = (("satisfied", 0.80), ("basic", 0.13), ("unsatisfied", 0.07))
CLOSE_AFTER_H = 72.0  # rated appeals: staff close them about three days later
AUTO_CLOSE_DAYS = 7  # settings.APPEAL_AUTO_CLOSE_DAYS (read in generate())

TEXTS = {
    "city_appearance": [
        ("小区门口垃圾堆积", "小区门口的垃圾已经三天没有清运，气味很大，请尽快处理。"),
        ("占道经营", "路口有流动摊贩长期占道经营，影响行人通行。"),
    ],
    "traffic_parking": [
        ("乱停车堵塞通道", "小区主干道两侧乱停车，消防车和救护车进不来。"),
        ("路面坑洼", "人行道地砖松动、路面坑洼，老人走路容易摔倒。"),
    ],
    "property_management": [
        ("电梯经常故障", "3 栋电梯这个月坏了四次，物业维修不及时。"),
        ("物业不作为", "楼道灯坏了一个月，物业一直说在等配件。"),
    ],
    "facility_repair": [
        ("路灯不亮", "巷子里的路灯坏了，晚上很黑，存在安全隐患。"),
        ("井盖破损", "人行道上的井盖破损下陷，请尽快更换。"),
    ],
    "noise": [
        ("夜间噪声扰民", "楼下烧烤店每晚营业到凌晨两点，噪声很大。"),
        ("广场舞音响太大", "每天晚上广场舞音响声音太大，影响休息。"),
    ],
    "dispute": [("邻里漏水纠纷", "楼上卫生间漏水到我家，多次协商未果，请社区调解。")],
    "fire_safety": [
        ("电动车楼道充电", "有住户在楼道里给电动车充电，存在火灾隐患。"),
        ("消防通道堵塞", "消防通道被杂物和车辆堵塞。"),
    ],
}
REASONS = ("需社区协调", "涉及多个部门，需上级协调", "超出网格处理能力")
REJECTS = (
    ("属于民事合同纠纷，不在受理范围", "可向人民法院起诉或申请人民调解委员会调解"),
    ("涉及个人税务问题", "请联系税务局 12366 纳税服务热线"),
)
NOTES = ("已现场处理完毕", "已协调相关单位处理", "已清理完毕，并安排定期巡查", "已维修完成")


@dataclass
class World:
    grids: list  # (id, path, place_path, community_id, min_lon, min_lat, max_lon, max_lat)
    weights: np.ndarray
    grid_owner: dict  # grid id → (user id, level)
    community_worker: dict  # community place id → user id
    street_officer: dict  # community place id → user id
    categories: list  # (id, code, (urgent respond, resolve), (normal respond, resolve))
    cat_weights: np.ndarray
    residents: list
    assisted: list  # (name_enc, name_masked, phone_enc, phone_hash, phone_masked)


# ---- accounts the history needs ----


def ensure_staff(log=print) -> dict[str, int]:
    """Accounts for every grid worker, one community worker per community, one street officer per
    street, and RESIDENTS residents: idempotent (usernames start with `bench-`)."""
    User = get_user_model()
    made = defaultdict(int)
    t0 = time.perf_counter()
    with transaction.atomic():
        unusable = "!bench"
        # grid workers: every person posted as grid worker on a micro grid gets an account
        rows = list(
            Post.objects.filter(
                title=PostTitle.GRID_WORKER,
                grid__level=GridLevel.MICRO,
                person__user__isnull=True,
                ends_on__isnull=True,
            ).values_list("person_id", "person__name", "grid__parent_id")
        )
        people: dict[int, tuple[str, set]] = {}
        for pid, name, area in rows:
            people.setdefault(pid, (name, set()))[1].add(area)
        users = [
            User(username=f"{PREFIX}gw-{pid}", first_name=name, password=unusable)
            for pid, (name, _a) in people.items()
        ]
        User.objects.bulk_create(users, batch_size=2000)
        by_name = dict(User.objects.filter(username__startswith=f"{PREFIX}gw-").values_list("username", "id"))
        persons = []
        ras = []
        for pid, (_name, areas) in people.items():
            uid = by_name[f"{PREFIX}gw-{pid}"]
            persons.append(Person(pk=pid, user_id=uid))
            ras += [RoleAssignment(user_id=uid, role="grid_worker", grid_id=a) for a in areas]
        Person.objects.bulk_update(persons, ["user"], batch_size=2000)
        RoleAssignment.objects.bulk_create(ras, batch_size=2000, ignore_conflicts=True)
        made["grid_workers"] = len(users)
        # community workers and street officers
        for kind, role, tag in (
            (PlaceKind.COMMUNITY, "community_worker", "cw"),
            (PlaceKind.STREET, "street_officer", "so"),
        ):
            places = dict(Place.objects.filter(kind=kind).values_list("code", "id"))
            have = set(
                User.objects.filter(username__startswith=f"{PREFIX}{tag}-").values_list("username", flat=True)
            )
            new = [
                User(username=f"{PREFIX}{tag}-{code}", first_name=f"{tag}{code[-6:]}", password=unusable)
                for code in places
                if f"{PREFIX}{tag}-{code}" not in have
            ]
            User.objects.bulk_create(new, batch_size=2000)
            ids = dict(
                User.objects.filter(username__startswith=f"{PREFIX}{tag}-").values_list("username", "id")
            )
            RoleAssignment.objects.bulk_create(
                [
                    RoleAssignment(user_id=ids[f"{PREFIX}{tag}-{c}"], role=role, place_id=pid)
                    for c, pid in places.items()
                ],
                batch_size=2000,
                ignore_conflicts=True,
            )
            made[role] = len(new)
        # residents (no person, no role needed: any signed-in user may submit)
        have = User.objects.filter(username__startswith=f"{PREFIX}r-").count()
        new = [
            User(username=f"{PREFIX}r-{i:06d}", first_name=f"居民{i}", password=unusable)
            for i in range(have, RESIDENTS)
        ]
        User.objects.bulk_create(new, batch_size=5000)
        made["residents"] = len(new)
        # one account that reads the whole city (KPIs of the city)
        city = Place.objects.filter(kind=PlaceKind.CITY).order_by("id").first()
        u, new_city = User.objects.get_or_create(
            username=f"{PREFIX}city-admin", defaults={"first_name": "市级管理员", "password": unusable}
        )
        if city is not None:
            RoleAssignment.objects.get_or_create(user=u, role="district_admin", place=city)
        made["city_admin"] = int(new_city)
    log(
        f"  bench accounts in {time.perf_counter() - t0:.1f} s: "
        + ", ".join(f"{k} +{v}" for k, v in made.items())
    )
    return dict(made)


def load_world(seed: int = 6764) -> World:
    rng = np.random.default_rng(seed)
    grids = list(
        Grid.objects.filter(level=GridLevel.MICRO, retired_at__isnull=True)
        .order_by("id")
        .values_list("id", "path", "place_path", "community_id", "min_lon", "min_lat", "max_lon", "max_lat")
    )
    if not grids:
        raise SystemExit("no micro grids: seed the demo city first")
    weights = rng.lognormal(0.0, 1.1, len(grids))
    weights /= weights.sum()
    # the on-duty owner: first grid worker (lowest post id) with an active account, else the grid leader
    owner = {}
    for title in (PostTitle.GRID_WORKER, PostTitle.GRID_LEADER):
        for gid, uid in (
            Post.objects.filter(
                title=title,
                grid__level=GridLevel.MICRO,
                ends_on__isnull=True,
                person__user__isnull=False,
                person__user__is_active=True,
            )
            .order_by("id")
            .values_list("grid_id", "person__user_id")
        ):
            owner.setdefault(gid, (uid, "grid"))
    cw, so = {}, {}
    for uid, role, _place_id, path in (
        RoleAssignment.objects.filter(
            role__in=("community_worker", "street_officer"), place__isnull=False, user__is_active=True
        )
        .order_by("user_id")
        .values_list("user_id", "role", "place_id", "place__path")
    ):
        (cw if role == "community_worker" else so).setdefault(path, uid)
    community_worker, street_officer = {}, {}
    for _gid, _path, place_path, community_id, *_b in grids:
        parts = [p for p in place_path.split("/") if p]
        ancestors = ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]
        community_worker[community_id] = next((cw[a] for a in reversed(ancestors) if a in cw), None)
        street_officer[community_id] = next((so[a] for a in reversed(ancestors) if a in so), None)
    for g in grids:
        if g[0] not in owner and community_worker.get(g[3]):
            owner[g[0]] = (community_worker[g[3]], "community")
    cats = [
        (c.id, c.code, c.hours("urgent"), c.hours("normal")) for c in Category.objects.filter(active=True)
    ]
    cw_ = np.array([CATEGORY_WEIGHTS.get(c[1], 2) for c in cats], dtype=float)
    residents = list(
        get_user_model()
        .objects.filter(username__startswith=f"{PREFIX}r-")
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not residents:
        raise SystemExit("no bench residents: run ensure_staff() first")
    names = ["张", "王", "李", "赵", "陈", "刘", "黄", "韦", "覃", "梁"]
    assisted = []
    for i in range(40):
        name = names[i % 10] + ("女士" if i % 2 else "先生")
        phone = f"13{(i * 7919) % 10**9:09d}"
        assisted.append(
            (
                pii.encrypt(name),
                pii.mask_name(name),
                pii.encrypt(phone),
                pii.lookup_hash(phone),
                pii.mask_phone(phone),
            )
        )
    return World(
        grids, weights, owner, community_worker, street_officer, cats, cw_ / cw_.sum(), residents, assisted
    )


# ---- one appeal's life ----


def _j(d: dict) -> str:
    """JSON of a flat dict of our own constants (no quote or backslash in any string): 7× json.dumps."""
    out = []
    for k, v in d.items():
        if v is None:
            v = "null"
        elif v is True:
            v = "true"
        elif v is False:
            v = "false"
        elif isinstance(v, str):
            v = '"' + v + '"'
        else:
            v = str(v)
        out.append(f'"{k}":{v}')
    return "{" + ",".join(out) + "}"


class _Life:
    """Plays one appeal forward from its submission, stopping at `end` (epoch seconds)."""

    __slots__ = ("a", "events", "end", "t")

    def __init__(self, a: dict, end: float):
        self.a, self.end, self.events, self.t = a, end, [], a["submitted_at"]

    def at(self, delay_h: float) -> bool:
        """Move the clock on; False (and nothing written) when that moment is still in the future."""
        t = self.t + max(delay_h, 1 / 60) * HOUR
        if t >= self.end:
            return False
        self.t = t
        return True

    def event(self, actor, action, to_state, note="", data=None, *, bump=True):
        a = self.a
        data = data or {}
        self.events.append((self.t, actor, action, a["state"], to_state, note, _j(data), data))
        a["state"] = to_state
        if bump:
            a["version"] += 1
            a["updated_at"] = self.t


def _lives(world: World, n: int, day0: float, end: float, rng: np.random.Generator, first_seq: int):
    """n appeals submitted on the local day starting at day0 (epoch s), numbered from first_seq."""
    # submission times: office-hours profile
    hour_w = np.array([1, 0.5, 0.3, 0.3, 0.3, 0.5, 1, 2, 4, 6, 6, 5, 3, 3, 5, 5, 5, 4, 3, 3, 3, 2.5, 2, 1.5])
    hours = rng.choice(24, n, p=hour_w / hour_w.sum())
    secs = day0 + hours * HOUR + rng.random(n) * HOUR
    late = secs >= end  # today is not over: its appeals fall before now
    secs[late] = day0 + rng.random(int(late.sum())) * max(end - day0 - 1.0, 1.0)
    secs = np.sort(secs)
    gi = rng.choice(len(world.grids), n, p=world.weights)
    ci = rng.choice(len(world.categories), n, p=world.cat_weights)
    src = rng.choice(len(SOURCES), n, p=[s[1] for s in SOURCES])
    u = rng.random((n, 16)).tolist()
    ln = rng.standard_normal((n, 8)).tolist()
    res = rng.integers(0, len(world.residents), n).tolist()
    xy = rng.uniform(0.05, 0.95, (n, 2)).tolist()
    day = dt.datetime.fromtimestamp(day0, SHANGHAI).strftime("%Y%m%d")
    last_open: dict = {}  # (grid, category) → (appeal dict, life) earlier today, for merges
    out = []
    for k in range(n):
        g = world.grids[gi[k]]
        cat = world.categories[ci[k]]
        source, _share, kind = SOURCES[src[k]]
        uk, lk = u[k], ln[k]
        urgent = uk[0] < P_URGENT
        respond_h, resolve_h = cat[2] if urgent else cat[3]
        t0 = float(secs[k])
        owner, level = world.grid_owner.get(g[0], (None, "grid"))
        cw = world.community_worker.get(g[3])
        so = world.street_officer.get(g[3])
        reporter = submitted_by = None
        assisted = ("", "", "", "", "")
        if kind == "resident":
            reporter = submitted_by = world.residents[res[k]]
        elif kind == "patrol":
            reporter = submitted_by = owner or cw
        else:
            submitted_by = cw
            assisted = world.assisted[res[k] % len(world.assisted)]
        if reporter is None and not assisted[0]:
            reporter = submitted_by = world.residents[res[k]]
            kind = "resident"
        title, text = TEXTS.get(cat[1], [(cat[1], "")])[res[k] % len(TEXTS.get(cat[1], [1]))]
        if not text:
            title, text = "问题反映", "附近有问题需要处理，请尽快安排人员查看。"
        x0, y0, x1, y1 = g[4], g[5], g[6], g[7]
        a = {
            "id": None,
            "number": f"SQ{day}{first_seq + k:06d}",
            "category_id": cat[0],
            "urgency": "urgent" if urgent else "normal",
            "title": title,
            "text": text,
            "address": "",
            "lon": round(x0 + (x1 - x0) * xy[k][0], 7),
            "lat": round(y0 + (y1 - y0) * xy[k][1], 7),
            "grid_id": g[0],
            "community_id": g[3],
            "grid_path": g[1],
            "place_path": g[2],
            "source": source,
            "reporter_id": reporter,
            "submitted_by_id": submitted_by,
            "reporter_name_enc": assisted[0],
            "reporter_name_masked": assisted[1],
            "reporter_phone_enc": assisted[2],
            "reporter_phone_hash": assisted[3],
            "reporter_phone_masked": assisted[4],
            "consent_recorded": bool(assisted[0]),
            "anonymous": kind == "resident" and uk[1] < P_ANONYMOUS,
            "state": "",
            "version": 1,
            "owner_id": owner,
            "owner_level": level,
            "submitted_at": t0,
            "updated_at": t0,
            "respond_due": t0 + respond_h * HOUR,
            "resolve_due": t0 + resolve_h * HOUR,
            "step_due": t0 + respond_h * HOUR,
            "accepted_at": None,
            "resolved_at": None,
            "rated_at": None,
            "closed_at": None,
            "reopen_count": 0,
            "bounce_count": 0,
            "handon_count": 0,
            "merged_count": 0,
            "rating_resolved": None,
            "satisfaction": "",
            "rating_comment": "",
            "reject_reason": "",
            "redirect_to": "",
            "merged_into": None,
        }
        life = _Life(a, end)
        life.event(
            submitted_by,
            "submit",
            "submitted",
            data={"source": source, "owner": owner, "owner_level": level},
            bump=False,
        )
        out.append(life)
        _play(life, a, kind, uk, lk, respond_h, resolve_h, owner, level, cw, so, last_open, cat[0])
        if a["merged_into"] is None and not a["reject_reason"]:
            last_open[(g[0], cat[0])] = life  # a twin for later merges, if still open by then
    return out


def _play(life, a, kind, uk, lk, respond_h, resolve_h, owner, level, cw, so, last_open, cat_id):
    """The rest of the appeal's life, as far as `end` allows."""

    def lognorm(median_h, sigma, z):
        return median_h * math.exp(sigma * z)

    # staff decline it, or merge it into an open twin reported earlier today
    if uk[2] < P_REJECT and cw:
        if life.at(lognorm(2.0, 0.8, lk[0])):
            reason, where = REJECTS[int(uk[3] * len(REJECTS))]
            a.update(reject_reason=reason, redirect_to=where, closed_at=life.t, step_due=None)
            life.event(cw, "reject", "rejected", reason, {"reason": reason, "redirect_to": where})
        return
    twin = last_open.get((a["grid_id"], cat_id))
    if uk[2] < P_REJECT + P_MERGE and cw and twin is not None:
        if life.at(lognorm(1.5, 0.8, lk[0])):
            tw = twin.a
            tw_state = next((e[4] for e in reversed(twin.events) if e[0] <= life.t), "submitted")
            if tw_state in ("submitted", "accepted", "escalated", "reopened"):
                a.update(merged_into=twin, closed_at=life.t, step_due=None)
                life.event(cw, "merge", "merged", "", {"into": tw["number"]})
                tw["merged_count"] += 1
                data = {"from": a["number"]}
                twin.events.append((life.t, cw, "merged_in", tw_state, tw_state, "", _j(data), data))
                return
            life.t = a["submitted_at"]  # the twin was closed by then: handle it normally
        else:
            return
    # the first responder accepts
    if not life.at(lognorm(0.18 * respond_h, 1.1, lk[1])):
        return
    who = owner or cw
    a.update(owner_id=who, accepted_at=life.t, step_due=a["resolve_due"])
    life.event(who, "accept", "accepted", "", {"owner": who, "owner_level": a["owner_level"]})
    # handed up the levels, now and then handed back down (a bounce)
    if uk[4] < P_HAND_ON and cw and a["owner_level"] == "grid":
        if not _hand_on(life, a, cw, "community", lognorm(4.0, 0.8, lk[2]), respond_h, uk[5]):
            return
        if uk[6] < P_BOUNCE and who:
            if not life.at(lognorm(2.0, 0.8, lk[3])):
                return
            reason = "属网格职责范围，请网格员继续办理"
            a.update(
                owner_id=who,
                owner_level="grid",
                bounce_count=a["bounce_count"] + 1,
                step_due=a["resolve_due"],
            )
            life.event(
                cw,
                "hand_back",
                "accepted",
                reason,
                {
                    "reason": reason,
                    "from_level": "community",
                    "to_level": "grid",
                    "from_owner": cw,
                    "to_owner": who,
                },
            )
        else:
            if not life.at(lognorm(3.0, 0.9, lk[3])):
                return
            a.update(step_due=a["resolve_due"])
            life.event(cw, "accept", "accepted", "", {"owner": cw, "owner_level": "community"})
            if uk[7] < P_TO_STREET and so:
                if not _hand_on(life, a, so, "street", lognorm(6.0, 0.8, lk[4]), respond_h, uk[5]):
                    return
                if not life.at(lognorm(4.0, 0.9, lk[5])):
                    return
                a.update(step_due=a["resolve_due"])
                life.event(so, "accept", "accepted", "", {"owner": so, "owner_level": "street"})
    # resolve, then the reporter rates; unsatisfied the first time reopens it once
    for round_ in (0, 1):
        span = max(a["resolve_due"] - life.t, HOUR) / HOUR
        if not life.at(lognorm(0.3 * span, 0.8, lk[6 + round_])):
            return
        note = NOTES[int(uk[8 + round_] * len(NOTES))]
        a.update(resolved_at=life.t, step_due=None)
        life.event(a["owner_id"], "resolve", "resolved", note, {})
        if uk[10 + round_] >= P_RATE[kind] or a["reporter_id"] is None:
            # nobody rates it: the sweep closes it APPEAL_AUTO_CLOSE_DAYS later (row auto_close)
            if a["rated_at"] is None and life.at(AUTO_CLOSE_DAYS * 24 + uk[15]):
                data = {"resolved_at": _ts(a["resolved_at"]).isoformat(), "days": AUTO_CLOSE_DAYS}
                a.update(closed_at=life.t, step_due=None)
                life.event(None, "auto_close", "closed", "", data)
            return
        if not life.at(lognorm(20.0, 1.0, lk[6 + round_] * -0.7)):
            return
        r = uk[12 + round_]
        sat = "satisfied" if r < SATISFACTION[0][1] else "basic" if r < 0.93 else "unsatisfied"
        resolved = sat != "unsatisfied" or uk[14] < 0.4
        reopen = sat == "unsatisfied" and a["reopen_count"] == 0
        a.update(rating_resolved=resolved, satisfaction=sat, rating_comment="", rated_at=life.t)
        if reopen:
            a.update(
                reopen_count=1, step_due=life.t + respond_h * HOUR, resolve_due=life.t + resolve_h * HOUR
            )
            life.event(
                a["reporter_id"],
                "rate",
                "reopened",
                "",
                {"resolved": resolved, "satisfaction": sat, "reopen": True},
            )
            if not life.at(lognorm(0.18 * respond_h, 1.1, lk[1] * -0.5)):
                return
            a.update(step_due=a["resolve_due"])
            life.event(
                a["owner_id"],
                "accept",
                "accepted",
                "",
                {"owner": a["owner_id"], "owner_level": a["owner_level"]},
            )
            continue
        life.event(
            a["reporter_id"],
            "rate",
            "rated",
            "",
            {"resolved": resolved, "satisfaction": sat, "reopen": False},
        )
        if life.at(CLOSE_AFTER_H * (1 + uk[15])):
            a.update(closed_at=life.t, step_due=None)
            life.event(None, "close", "closed", "", {})
        return


def _hand_on(life, a, to_owner, to_level, delay_h, respond_h, u) -> bool:
    if not life.at(delay_h):
        return False
    reason = REASONS[int(u * len(REASONS))]
    data = {
        "reason": reason,
        "from_level": a["owner_level"],
        "to_level": to_level,
        "from_owner": a["owner_id"],
        "to_owner": to_owner,
    }
    a.update(
        owner_id=to_owner,
        owner_level=to_level,
        handon_count=a["handon_count"] + 1,
        step_due=life.t + respond_h * HOUR,
    )
    life.event(data["from_owner"], "hand_on", "escalated", reason, data)
    return True


# ---- writing ----

APPEAL_COLS = (
    "id",
    "number",
    "category_id",
    "urgency",
    "title",
    "text",
    "address",
    "lon",
    "lat",
    "grid_id",
    "community_id",
    "grid_path",
    "place_path",
    "source",
    "reporter_id",
    "submitted_by_id",
    "reporter_name_enc",
    "reporter_name_masked",
    "reporter_phone_enc",
    "reporter_phone_hash",
    "reporter_phone_masked",
    "consent_recorded",
    "anonymous",
    "state",
    "version",
    "owner_id",
    "owner_level",
    "submitted_at",
    "updated_at",
    "respond_due",
    "resolve_due",
    "step_due",
    "accepted_at",
    "resolved_at",
    "rated_at",
    "closed_at",
    "reopen_count",
    "bounce_count",
    "handon_count",
    "merged_count",
    "rating_resolved",
    "satisfaction",
    "rating_comment",
    "reject_reason",
    "redirect_to",
    "merged_into_id",
)
EVENT_COLS = ("appeal_id", "at", "actor_id", "action", "from_state", "to_state", "note", "data")
_TIMES = {
    "submitted_at",
    "updated_at",
    "respond_due",
    "resolve_due",
    "step_due",
    "accepted_at",
    "resolved_at",
    "rated_at",
    "closed_at",
}


def _ts(v):
    return None if v is None else dt.datetime.fromtimestamp(v, dt.UTC)


_TIME_AT = [i for i, c in enumerate(APPEAL_COLS) if c in _TIMES]
_MERGED_AT = APPEAL_COLS.index("merged_into_id")
_KEYS = [("merged_into" if c == "merged_into_id" else c) for c in APPEAL_COLS]


def _appeal_row(a: dict) -> tuple:
    row = [a[k] for k in _KEYS]
    for i in _TIME_AT:
        v = row[i]
        if v is not None:
            row[i] = dt.datetime.fromtimestamp(v, dt.UTC)
    if row[_MERGED_AT] is not None:
        row[_MERGED_AT] = row[_MERGED_AT].a["id"]
    return tuple(row)


class _Writer:
    def __init__(self):
        self.pg = connection.vendor == "postgresql"
        self.appeal_table = Appeal._meta.db_table
        self.event_table = AppealEvent._meta.db_table
        self.superuser = False
        if self.pg:
            with connection.cursor() as cur:
                cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                self.superuser = bool(cur.fetchone()[0])

    def reserve_ids(self, n: int) -> int:
        """The first of n appeal ids nobody else will be given (its own short transaction: several
        generator processes, or a live submit, may ask at the same time)."""
        if not self.pg:
            return (Appeal.objects.aggregate(m=Max("id"))["m"] or 0) + 1
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(6764)")
            cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [self.appeal_table])
            seq = cur.fetchone()[0]
            # is_called is false on a fresh sequence: then last_value has not been handed out yet
            cur.execute(
                f"SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM {self.appeal_table}), "
                f"(SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM {seq}))"
            )
            first = cur.fetchone()[0] + 1
            cur.execute("SELECT setval(%s, %s)", [seq, first + n - 1])
            return first

    def write(self, appeals: list[tuple], events: list[tuple]) -> None:
        if self.pg:
            with connection.cursor() as cur:
                raw = cur.cursor
                with raw.copy(f"COPY {self.appeal_table} ({', '.join(APPEAL_COLS)}) FROM STDIN") as cp:
                    for r in appeals:
                        cp.write_row(r)
                with raw.copy(f"COPY {self.event_table} ({', '.join(EVENT_COLS)}) FROM STDIN") as cp:
                    for r in events:
                        cp.write_row(r)
            return
        with connection.cursor() as cur:
            cur.executemany(
                f"INSERT INTO {self.appeal_table} ({', '.join(APPEAL_COLS)}) VALUES "
                f"({', '.join(['%s'] * len(APPEAL_COLS))})",
                appeals,
            )
            cur.executemany(
                f"INSERT INTO {self.event_table} ({', '.join(EVENT_COLS)}) VALUES "
                f"({', '.join(['%s'] * len(EVENT_COLS))})",
                events,
            )


def day_counts(n: int, end: dt.datetime, rng: np.random.Generator) -> list[tuple[float, int]]:
    """(local midnight as epoch seconds, appeals that day) for the 365 local days ending with end's day."""
    last = end.astimezone(SHANGHAI).replace(hour=0, minute=0, second=0, microsecond=0)
    days = [last - dt.timedelta(days=364 - i) for i in range(365)]
    w = np.array([(0.7 if d.weekday() >= 5 else 1.0) * (1.0 + 0.25 * i / 364) for i, d in enumerate(days)])
    # today is only partly over
    w[-1] *= min(1.0, (end - last).total_seconds() / 86400.0)
    counts = rng.multinomial(n, w / w.sum())
    return [(d.timestamp(), int(c)) for d, c in zip(days, counts, strict=True)]


def _add_rollups(lives, resolve_hours, nodes_of: dict) -> int:
    """Add the new appeals' KPI increments to AppealRollup, with kpi.py's own definitions.

    The same replay `kpi.rebuild` runs over the timeline (kpi.replay_appeal: the increments
    `kpi.on_event` added live), on the rows just written instead of reading them back; the upsert
    adds to what is there (kpi._upsert: c = c + excluded.c), so topping a database up keeps its
    rollups right without recomputing the earlier appeals. bench/appeals.py --kpi-rebuild checks the
    result equals `gongzhi kpi_rebuild`'s.
    """
    from gongzhi.appeals import kpi

    rows = kpi._Rows()
    for life in lives:
        a = life.a
        key = (a["grid_path"], a["place_path"])
        nodes = nodes_of.get(key)
        if nodes is None:
            nodes = nodes_of[key] = kpi.appeal_nodes(*key)
        facts = kpi._AppealFacts(
            a["id"],
            a["grid_path"],
            a["place_path"],
            _ts(a["submitted_at"]),
            _ts(a["respond_due"]),
            _ts(a["resolve_due"]),
            a["category_id"],
            a["urgency"],
        )
        events = [
            (None, e[2], _ts(e[0]), e[7])
            for e in sorted(life.events, key=lambda e: e[0])
            if e[2] in kpi.APPEAL_ACTIONS
        ]
        day = kpi.local_day(facts.submitted_at)
        for _event_id, inc in kpi.replay_appeal(facts, events, resolve_hours):
            rows.add(nodes, day, inc)
    items = sorted(rows.rows.items())
    per = max(1, 60_000 // (5 + len(kpi.COUNTERS)))  # the database's limit on parameters per statement
    for i in range(0, len(items), per):
        part = kpi._Rows()
        part.rows = dict(items[i : i + per])
        kpi._upsert(part)
    return len(items)


def generate(
    world: World,
    n: int,
    *,
    end: dt.datetime,
    seed: int,
    log=print,
    chunk: int = 50_000,
    rollups: bool = True,
    workers: int = 1,
) -> dict:
    """Add n appeals submitted over the year before `end`, with their timelines (and, with `rollups`,
    their KPI rollups). Returns counts and times.

    With workers > 1 (PostgreSQL only) the days are dealt out to that many forked processes: each
    day's appeals, numbers, merges and rollup rows stay within one process, ids are reserved under
    an advisory lock.
    """
    global AUTO_CLOSE_DAYS
    AUTO_CLOSE_DAYS = getattr(settings, "APPEAL_AUTO_CLOSE_DAYS", AUTO_CLOSE_DAYS)
    plan = day_counts(n, end, np.random.default_rng(seed))
    t0 = time.perf_counter()
    if workers <= 1 or connection.vendor != "postgresql":
        out = _generate_days(world, plan, end, seed, log, chunk, rollups, t0)
    else:
        import multiprocessing

        connection.close()  # each process opens its own
        jobs = [
            (world, plan[k::workers], end, seed + 1 + k, log, chunk, rollups, t0, f"[{k}] ")
            for k in range(workers)
        ]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.starmap(_generate_days, jobs)
        out = {"appeals": 0, "events": 0, "rollup_upserts": 0, "states": defaultdict(int)}
        for part in parts:
            for k in ("appeals", "events", "rollup_upserts"):
                out[k] += part[k]
            for state, c in part["states"].items():
                out["states"][state] += c
        out["states"] = dict(out["states"])
    out["seconds"] = time.perf_counter() - t0
    return out


def _generate_days(world, plan, end, seed, log, chunk, rollups, t0, tag="") -> dict:
    rng = np.random.default_rng(seed)
    writer = _Writer()
    resolve_hours, nodes_of, n_rollups = {}, {}, [0]
    if rollups:
        from gongzhi.appeals import kpi

        resolve_hours = kpi._category_resolve_hours()
    counters = dict(AppealCounter.objects.values_list("day", "last"))
    end_s = end.timestamp()
    n_appeals = n_events = 0
    states: dict[str, int] = defaultdict(int)
    pending: list = []
    new_counters: dict[dt.date, int] = {}

    def flush():
        nonlocal n_appeals, n_events
        if not pending:
            return
        lives = [life for batch in pending for life in batch]
        pending.clear()
        first = writer.reserve_ids(len(lives))
        for i, life in enumerate(lives):
            life.a["id"] = first + i
        appeals = [_appeal_row(life.a) for life in lives]
        events = []
        for life in lives:
            aid = life.a["id"]
            for e in life.events:
                events.append((aid, _ts(e[0]), *e[1:7]))
        events.sort(key=lambda r: (r[0], r[1]))
        with transaction.atomic():
            if writer.pg:
                with connection.cursor() as cur:
                    cur.execute("SET LOCAL synchronous_commit = off")
                    if writer.superuser:
                        # the rows are consistent by construction: skip the per-row FK trigger checks
                        cur.execute("SET LOCAL session_replication_role = replica")
            writer.write(appeals, events)
            if rollups:
                n_rollups[0] += _add_rollups(lives, resolve_hours, nodes_of)
            # the days just written, in the same transaction: an interrupted run leaves no number reusable
            AppealCounter.objects.bulk_create(
                [AppealCounter(day=d, last=v) for d, v in new_counters.items()],
                update_conflicts=True,
                unique_fields=["day"],
                update_fields=["last"],
            )
            new_counters.clear()
        for life in lives:
            states[life.a["state"]] += 1
        n_appeals += len(appeals)
        n_events += len(events)
        took = time.perf_counter() - t0
        log(
            f"  {tag}{n_appeals:>11,} appeals {n_events:>12,} events  {took:7.1f} s  "
            f"({n_appeals / took:,.0f} appeals/s, {(n_appeals + n_events) / took:,.0f} rows/s)"
        )

    size = 0
    for day0, count in plan:
        if not count:
            continue
        day = dt.datetime.fromtimestamp(day0, SHANGHAI).date()
        start = counters.get(day, 0) + 1
        if start + count > 999_999:
            raise SystemExit(f"more than 999,999 appeals on {day}: numbers would overflow")
        batch = _lives(world, count, day0, end_s, rng, start)
        if batch:
            new_counters[day] = start + len(batch) - 1
        pending.append(batch)
        size += len(batch)
        if size >= chunk:
            flush()
            size = 0
    flush()
    connection.close()
    return {"appeals": n_appeals, "events": n_events, "rollup_upserts": n_rollups[0], "states": dict(states)}
