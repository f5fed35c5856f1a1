"""The pure parts of the demo: the division extract, the scale plans, the city layout, fake people."""

import re

import numpy as np
import pytest
import shapely
from shapely.geometry import box, shape
from shapely.ops import unary_union

from gongzhi.demo import divisions, fake, plan, tiling
from gongzhi.org.services import validate_id_number


def test_the_extract_holds_the_city_its_urban_districts_streets_and_communities():
    rows = divisions.load()
    by_code = {d.code: d for d in rows}
    kinds = [d.kind for d in rows]
    assert kinds.count("city") == 1 and kinds.count("district") == 7 and kinds.count("community") == 314
    assert by_code["450102001004"].name == "北宁社区" and by_code["450102001000"].name == "民生街道"
    for d in rows:
        assert re.fullmatch(r"\d{12}", d.code)
        assert d.kind == "city" or by_code[d.parent_code]
        if d.kind == "community":
            assert d.name.endswith("社区") and "居委会" not in d.name and int(d.code[9:]) < 200


def test_scale_sizes_follow_the_reports():
    district = plan.build("district")
    assert len(district.communities) == 35 and district.grid_count == 910
    assert {c.code[:6] for c in district.communities} == {"450102"}
    assert {plan.BEINING, plan.XINGNING_COMMUNITY} <= {c.code for c in district.communities}
    city = plan.build("city")
    assert len(city.communities) == 260 and city.grid_count == 6764
    assert sorted(city.districts) == sorted(divisions.URBAN_DISTRICTS)
    assert 79_000 <= sum(c.members for c in city.communities) <= 81_000
    beining = next(c for c in city.communities if c.code == plan.BEINING)
    assert beining.units == 164 and beining.members == plan.BEINING_MEMBERS
    assert abs(beining.centre[0] - 108.325) < 1e-9 and abs(beining.centre[1] - 22.825) < 1e-9
    # A community sits in the same place whatever the scale.
    small = {c.code: c.bbox for c in plan.build("small").communities}
    assert all(small[c.code] == c.bbox for c in city.communities if c.code in small)


def test_city_grids_tile_every_community_and_never_overlap_across_the_city():
    micros = []
    for c in plan.build("city").communities:
        specs = c.grid_specs()
        assert len({s.code for s in specs}) == len(specs)
        mine = [box(*s.bbox) for s in specs if s.level == "micro"]
        assert abs(unary_union(mine).symmetric_difference(box(*c.bbox)).area) < 1e-9
        micros += mine
    assert len(micros) == 260 * 20 + 4
    tree = shapely.STRtree(micros)
    left, right = tree.query(micros, predicate="intersects")
    arr = np.array(micros, dtype=object)
    overlap = shapely.area(shapely.intersection(arr[left], arr[right]))
    assert float(overlap[left != right].max()) == 0.0


def test_grid_geometry_is_a_closed_ring_rounded_to_seven_decimals():
    spec = plan.build("small").communities[0].grid_specs()[-1]
    ring = spec.geometry["coordinates"][0]
    assert spec.geometry["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) == 5
    assert all(round(v, 7) == v for pt in ring for v in pt)
    assert shape(spec.geometry).is_valid


def test_fake_people_have_valid_unique_id_numbers_in_both_domains():
    seen = set()
    for community in range(0, 78, 7):
        for key in range(0, 9300, 37):
            seen.add(validate_id_number(fake.person("450102", community, key).id_number))
        for key in range(0, 10_000, 97):
            seen.add(validate_id_number(fake.person("450102", community, key, staff=True).id_number))
    assert len(seen) == 12 * (len(range(0, 9300, 37)) + len(range(0, 10_000, 97)))
    p = fake.person("450103", 5, 42)
    assert p == fake.person("450103", 5, 42)  # the same person on every run
    assert re.fullmatch(r"1[3-9]\d{9}", p.phone) and p.id_number.startswith("450103")
    assert (p.gender == "M") == (int(p.id_number[16]) % 2 == 1)


def test_unit_catalogue_is_stable_and_a_larger_scale_extends_a_smaller_one():
    a = fake.unit_catalogue("450102001004", "北宁", real=fake.BEINING_REAL)
    assert a == fake.unit_catalogue("450102001004", "北宁", real=fake.BEINING_REAL)
    assert len({n for n, _k in a}) == len(a) >= plan.BEINING_UNITS
    assert a[0] == ("南宁市第七人民医院", "institution")


def test_lattices_of_two_districts_that_would_overlap_are_refused():
    tiling.DISTRICT_CENTRES["999999"] = tiling.DISTRICT_CENTRES["450103"]
    try:
        with pytest.raises(ValueError, match="overlap"):
            tiling.community_boxes([("450103001001", "450103"), ("999999001001", "999999")])
    finally:
        del tiling.DISTRICT_CENTRES["999999"]
