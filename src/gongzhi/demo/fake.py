"""Deterministic made-up people and units for the demo: names, valid ID numbers, phones, agreements."""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass

SEED = 20091201  # 北宁社区联合党委, the city's first, was set up in 2009

# Surnames as common in Nanning (Zhuang and Han), most frequent first and repeated to weight them.
SURNAMES = "黄黄黄黄韦韦韦陆陆李李梁梁覃覃蒙莫农陈陈刘张王杨周吴潘罗蓝廖唐何谢邓林苏卢赵曾甘宁滕冯邱"
GIVEN_M = "伟强军勇杰涛斌明波辉刚健华平建国志海峰磊宇鹏飞俊锋文德成荣光振"
GIVEN_F = "芳娟敏静丽艳燕红霞秀英玲萍婷雪琳梅兰凤洁慧颖佳月春桂琴莲"

# Every person's ID number is unique by construction: the 17 digits are a bijection of
# (community, person key) into (birth date, sequence) within the district's region code.
_EPOCH = dt.date(1945, 1, 1)
_MEMBER_DAYS = (dt.date(2004, 12, 31) - _EPOCH).days + 1
_STAFF_EPOCH = dt.date(1965, 1, 1)
_STAFF_DAYS = (dt.date(2000, 12, 31) - _STAFF_EPOCH).days + 1
# Party members take sequence 000–799, staff 800–999: two disjoint domains, so no collision.
_MEMBER_SPACE = _MEMBER_DAYS * 800
_STAFF_SPACE = _STAFF_DAYS * 200
_MUL = 7_368_787  # a multiplier coprime with both spaces scrambles the order (checked below)
MEMBER_KEYS = 100_000  # member keys per community
STAFF_KEYS = 10_000  # staff keys per community
if math.gcd(_MUL, _MEMBER_SPACE) != 1 or math.gcd(_MUL, _STAFF_SPACE) != 1:
    raise ImportError("fake._MUL must be coprime with both ID spaces, or ID numbers could repeat")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_digit(first17: str) -> str:
    """GB 11643 check character of an 18-digit resident ID number."""
    return "10X98765432"[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


@dataclass(frozen=True)
class FakePerson:
    name: str
    gender: str
    id_number: str
    phone: str
    birth: dt.date


def person(region: str, community_index: int, key: int, *, staff: bool = False) -> FakePerson:
    """The person with this key in this community: the same person on every run and every scale."""
    if staff:
        if not 0 <= key < STAFF_KEYS:
            raise ValueError("staff key out of range")
        v = ((community_index * STAFF_KEYS + key) * _MUL + 1) % _STAFF_SPACE
        birth = _STAFF_EPOCH + dt.timedelta(days=v // 200)
        seq = 800 + v % 200
    else:
        if not 0 <= key < MEMBER_KEYS:
            raise ValueError("member key out of range")
        v = ((community_index * MEMBER_KEYS + key) * _MUL + 1) % _MEMBER_SPACE
        birth = _EPOCH + dt.timedelta(days=v // 800)
        seq = v % 800
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    gender = "M" if seq % 2 else "F"  # GB 11643: an odd sequence is a man
    rng = random.Random(v * 31 + int(region) + (7 if staff else 0))
    given = GIVEN_M if gender == "M" else GIVEN_F
    name = rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2))))
    phone = "1" + rng.choice("3456789") + "".join(rng.choice("0123456789") for _ in range(9))
    return FakePerson(name, gender, first17 + check_digit(first17), phone, birth)


def short_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_M + GIVEN_F) + rng.choice(GIVEN_M + GIVEN_F)


# ---- member units ----

BRANDS = (
    "恒达",
    "永盛",
    "鑫源",
    "嘉禾",
    "华信",
    "金桂",
    "绿城",
    "邕江",
    "博雅",
    "宏图",
    "瑞丰",
    "盛世",
    "康宁",
    "德润",
    "安和",
    "锦程",
    "新象",
    "福顺",
    "信诚",
    "众合",
    "天祥",
    "海川",
    "明德",
    "致远",
)
INDUSTRIES = (
    "商贸",
    "科技",
    "物业服务",
    "建筑工程",
    "餐饮管理",
    "医药连锁",
    "文化传媒",
    "电子商务",
    "家政服务",
    "教育咨询",
)
SHOPS = (
    "便利店",
    "粮油店",
    "大药房",
    "五金店",
    "茶庄",
    "眼镜店",
    "美发店",
    "水果店",
    "早餐店",
    "快递驿站",
    "干洗店",
    "书店",
)
GOVERNMENT = (
    "{s}派出所",
    "{s}司法所",
    "{s}税务所",
    "{s}市场监管所",
    "{s}城管执法中队",
    "{s}消防救援站",
    "{s}交警中队",
    "{s}环卫站",
)
INSTITUTION = (
    "南宁市{s}小学",
    "南宁市{s}中学",
    "{s}幼儿园",
    "{s}社区卫生服务中心",
    "{s}文化活动中心",
    "{s}养老服务中心",
    "{s}图书分馆",
    "{s}职业技能培训学校",
    "{s}青少年活动中心",
    "{s}老年大学",
)
STATE = (
    "{s}供电所",
    "{s}邮政支局",
    "中国工商银行南宁{s}支行",
    "中国建设银行南宁{s}支行",
    "中国农业银行南宁{s}支行",
    "中国银行南宁{s}支行",
    "广西北部湾银行{s}支行",
    "中国移动南宁{s}营业厅",
    "中国电信南宁{s}营业厅",
    "南宁{s}燃气服务站",
    "南宁{s}自来水服务站",
    "广西{s}建设投资有限公司",
)
SOCIAL = (
    "{s}社会工作服务中心",
    "{s}志愿者协会",
    "{s}老年协会",
    "{s}文体协会",
    "{s}慈善会",
    "{s}家庭教育促进会",
    "{s}人民调解协会",
    "{s}书画协会",
    "{s}商会",
    "{s}物业管理协会",
)
# Named in the Xingning report as member units of 北宁社区联合党委.
BEINING_REAL = (("南宁市第七人民医院", "institution"), ("南宁饭店", "state_enterprise"))


def unit_catalogue(community_code: str, stem: str, *, real: tuple = ()) -> list[tuple[str, str]]:
    """A community's candidate member units in a fixed order; a scale takes the first N.

    The list never depends on N, so a larger scale extends a smaller one instead of reshuffling it.
    """
    rng = random.Random(SEED + int(community_code))
    pool = [(t.format(s=stem), "government") for t in GOVERNMENT]
    pool += [(t.format(s=stem), "institution") for t in INSTITUTION]
    pool += [(t.format(s=stem), "state_enterprise") for t in STATE]
    pool += [(t.format(s=stem), "social_org") for t in SOCIAL]
    combos = [(b, i) for b in BRANDS for i in INDUSTRIES]
    pool += [(f"广西{stem}{b}{i}有限公司", "private_enterprise") for b, i in rng.sample(combos, 100)]
    shops = [(b, s) for b in BRANDS for s in SHOPS]
    pool += [(f"{stem}{b}{s}", "individual_business") for b, s in rng.sample(shops, 60)]
    rng.shuffle(pool)
    return list(real) + pool


# The alliance of the 万里国际汽配城 (Xingning report): 3 community committees, 4 government and
# institution units, 2 industry committees, 9 private enterprises and 36 party-member businesses.
ALLIANCE_NAME = "万里国际汽配城党建联盟"
ALLIANCE_COMMUNITIES = ("450102003005", "450102003004", "450102003002")  # 邕武东、五村岭、兴东
ALLIANCE_GOVERNMENT = (
    ("南宁市公安局兴宁分局邕武派出所", "government"),
    ("兴宁区人才服务中心", "institution"),
)
ALLIANCE_DEPARTMENTS = ("兴宁区市场监督管理局", "兴宁区交通运输局")
ALLIANCE_INDUSTRY = ("兴宁区汽配行业党委", "万里国际汽配城“小个专”行业党委")
CHAOYANG_INDUSTRY = "朝阳商圈“小个专”行业党委"


def alliance_enterprises() -> list[str]:
    rng = random.Random(SEED + 1)
    return [f"广西{b}汽车配件有限公司" for b in rng.sample(BRANDS, 9)]


def alliance_businesses() -> list[str]:
    rng = random.Random(SEED + 2)
    kinds = ("汽配商行", "轮胎经营部", "汽车用品店", "汽车修理厂", "蓄电池经营部", "车灯配件店")
    return [f"万里汽配城{b}{k}" for b, k in rng.sample([(b, k) for b in BRANDS for k in kinds], 36)]


def chaoyang_businesses() -> list[str]:
    rng = random.Random(SEED + 3)
    return [f"朝阳商圈{b}{s}" for b, s in rng.sample([(b, s) for b in BRANDS for s in SHOPS], 12)]


DEPARTMENTS = (
    "市场监督管理局",
    "城市管理局",
    "住房和城乡建设局",
    "人力资源和社会保障局",
    "交通运输局",
    "卫生健康局",
    "民政局",
    "应急管理局",
)

DUTIES = (
    "参加联合党委联席会议，共商社区事务",
    "认领需求清单项目并按期完成",
    "组织在职党员到社区“双报到”开展服务",
    "向居民开放单位活动场地和设施",
    "包保包联网格，协助网格员排查隐患",
    "担任轮值主席，牵头开展主题活动",
    "协助化解矛盾纠纷，参与平安建设",
    "参与创城创卫和环境卫生整治",
    "及时通报单位工作动态，共享信息",
)
COMMITMENTS = (
    "每年认领服务项目不少于2个",
    "每季度开展志愿服务活动不少于1次",
    "会议室每月向社区开放不少于4次",
    "每年为辖区居民提供就业岗位",
    "结对帮扶困难群众家庭2户",
    "每半年组织义诊或健康讲座1次",
    "提供免费法律咨询服务",
    "每年捐赠社区惠民活动物资",
)


def agreement_terms(
    rng: random.Random, k: int, today: dt.date
) -> tuple[dt.date, dt.date, list[str], list[str]]:
    """A 3-year term; one agreement in eight ends within the month, so the reminders have work."""
    if k % 8 == 3:
        ends = today + dt.timedelta(days=3 + (k * 7) % 26)
    else:
        ends = today + dt.timedelta(days=31 + rng.randrange(1064))
    try:
        starts = ends.replace(year=ends.year - 3)
    except ValueError:  # 29 February
        starts = ends.replace(year=ends.year - 3, day=28)
    duties = rng.sample(DUTIES, rng.choice((3, 4)))
    commitments = rng.sample(COMMITMENTS, rng.choice((2, 3)))
    return starts, ends, duties, commitments
