"""Grid import/export as GeoJSON: every problem found with its line, all or nothing, byte-stable round trips."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gongzhi.core import geo
from gongzhi.core.errors import PermissionDenied
from gongzhi.core.models import AuditEntry
from gongzhi.places import geojson_io
from gongzhi.places.models import Grid, GridLevel, Place
from gongzhi.places.services import next_grid_code
from tests.factories import grid, grid_tree, rect, user

BEINING = "450102001004"
XINGNING = "450102001003"
X0, Y0 = 108.30, 22.80


def feature(code, level, geometry, *, name=None, parent_code=None, community_code=None):
    props = {
        "code": code,
        "name": name or f"网格{code or ''}",
        "level": level,
        "parent_code": parent_code,
        "community_code": community_code,
    }
    return {"type": "Feature", "properties": props, "geometry": geometry}


def collection(*features) -> str:
    """One feature per line: feature n starts on line n + 1."""
    lines = [json.dumps(f, ensure_ascii=False) for f in features]
    return '{"type": "FeatureCollection", "features": [\n' + ",\n".join(lines) + "\n]}\n"


def beining_file(**overrides):
    """A community grid, two area grids and four micro grids of 北宁社区 (a 2×2 tiling), codes 001…007."""
    c = BEINING
    fs = [
        feature(c + "001", "community", rect(X0, Y0, X0 + 0.01, Y0 + 0.01), community_code=c),
        feature(c + "002", "area", rect(X0, Y0, X0 + 0.005, Y0 + 0.01), parent_code=c + "001"),
        feature(c + "003", "area", rect(X0 + 0.005, Y0, X0 + 0.01, Y0 + 0.01), parent_code=c + "001"),
        feature(c + "004", "micro", rect(X0, Y0, X0 + 0.005, Y0 + 0.005), parent_code=c + "002"),
        feature(c + "005", "micro", rect(X0, Y0 + 0.005, X0 + 0.005, Y0 + 0.01), parent_code=c + "002"),
        feature(c + "006", "micro", rect(X0 + 0.005, Y0, X0 + 0.01, Y0 + 0.005), parent_code=c + "003"),
        feature(
            c + "007", "micro", rect(X0 + 0.005, Y0 + 0.005, X0 + 0.01, Y0 + 0.01), parent_code=c + "003"
        ),
    ]
    for i, f in overrides.items():
        fs[int(i[1:])] = f
    return fs


def bowtie(x, y, d=0.001):
    return {"type": "Polygon", "coordinates": [[[x, y], [x + d, y + d], [x + d, y], [x, y + d], [x, y]]]}


def only_problem(result):
    assert not result.ok
    assert len(result.problems) == 1, [str(p) for p in result.problems]
    return result.problems[0]


# ---- a valid file ----


def test_a_valid_file_creates_every_grid_and_points_locate_afterwards(tree):
    result = geojson_io.import_grids(collection(*beining_file()), filename="beining.geojson")
    assert result.ok, [str(p) for p in result.problems]
    assert (result.created, result.updated, result.unchanged) == (7, 0, 0)
    assert Grid.objects.count() == 7
    micro = Grid.objects.get(code=BEINING + "006")
    assert micro.parent.code == BEINING + "003"
    assert micro.path == f"/{BEINING}001/{BEINING}003/{BEINING}006/"
    assert micro.place_path == tree["beining"].path
    assert (micro.min_lon, micro.min_lat) == pytest.approx((X0 + 0.005, Y0))
    gid = geo.micro_index().locate(X0 + 0.0075, Y0 + 0.0025)
    assert gid == micro.pk
    assert geo.micro_index().locate(X0 + 0.02, Y0 + 0.02) is None


def test_an_import_writes_one_audit_entry_with_the_counts(tree):
    geojson_io.import_grids(collection(*beining_file()), filename="beining.geojson")
    entry = AuditEntry.objects.get(action="grid.import")
    assert (entry.object_type, entry.object_id) == ("grid_import", "beining.geojson")
    assert entry.after == {"created": 7, "updated": 0, "unchanged": 0}


def test_line_numbers_follow_the_file_layout(tree):
    text = json.dumps(
        {
            "type": "FeatureCollection",
            "features": beining_file(
                f4=feature(
                    BEINING + "005", "micro", bowtie(X0 + 0.001, Y0 + 0.006), parent_code=BEINING + "002"
                )
            ),
        },
        indent=2,
        ensure_ascii=False,
    )
    problem = only_problem(geojson_io.import_grids(text))
    # Each feature's opening brace sits alone on a line at the array's indent.
    starts = [n for n, line in enumerate(text.splitlines(), start=1) if line == "    {"]
    assert len(starts) == 7 and starts[0] == 4
    assert (problem.index, problem.line) == (5, starts[4])


def test_a_new_grid_without_code_gets_the_next_code_after_the_file(tree):
    fs = beining_file()
    fs.append(
        feature(
            None, "micro", rect(X0, Y0, X0 + 0.001, Y0 + 0.001), parent_code=BEINING + "002", name="新网格"
        )
    )
    # Make room: shrink the micro grid 004 so the new one does not overlap it.
    fs[3] = feature(
        BEINING + "004",
        "micro",
        {
            "type": "Polygon",
            "coordinates": [
                [
                    [X0 + 0.001, Y0],
                    [X0 + 0.005, Y0],
                    [X0 + 0.005, Y0 + 0.005],
                    [X0, Y0 + 0.005],
                    [X0, Y0 + 0.001],
                    [X0 + 0.001, Y0 + 0.001],
                    [X0 + 0.001, Y0],
                ]
            ],
        },
        parent_code=BEINING + "002",
    )
    result = geojson_io.import_grids(collection(*fs))
    assert result.ok, [str(p) for p in result.problems]
    assert Grid.objects.get(name="新网格").code == BEINING + "008"


def test_grid_seq_is_raised_so_next_codes_are_never_reused(tree):
    fs = beining_file()
    fs[6] = feature(BEINING + "042", "micro", fs[6]["geometry"], parent_code=BEINING + "003")
    assert geojson_io.import_grids(collection(*fs)).ok
    community = Place.objects.get(code=BEINING)
    assert community.grid_seq == 42
    assert next_grid_code(community) == BEINING + "043"


def test_grid_seq_never_goes_down(tree):
    Place.objects.filter(code=BEINING).update(grid_seq=100)
    assert geojson_io.import_grids(collection(*beining_file())).ok
    assert Place.objects.get(code=BEINING).grid_seq == 100


def test_dry_run_counts_but_writes_nothing(tree):
    result = geojson_io.import_grids(collection(*beining_file()), dry_run=True)
    assert result.ok and result.dry_run
    assert result.created == 7
    assert Grid.objects.count() == 0
    assert not AuditEntry.objects.filter(action="grid.import").exists()


def test_an_empty_collection_imports_nothing(tree):
    result = geojson_io.import_grids('{"type":"FeatureCollection","features":[]}')
    assert result.ok and result.counts() == {"created": 0, "updated": 0, "unchanged": 0}


# ---- upsert and round trips ----


def test_reimporting_an_export_changes_nothing(tree):
    grid_tree(tree["beining"], X0, Y0)
    grid_tree(tree["xingning"], X0 + 0.02, Y0)
    stamps = dict(Grid.objects.values_list("code", "updated_at"))
    version = geo.current_version()
    exported = geojson_io.export_grids()
    result = geojson_io.import_grids(exported)
    assert result.ok, [str(p) for p in result.problems]
    assert result.counts() == {"created": 0, "updated": 0, "unchanged": 14}
    assert dict(Grid.objects.values_list("code", "updated_at")) == stamps
    assert geo.current_version() == version
    assert geojson_io.export_grids() == exported


def test_export_wipe_import_export_gives_the_same_bytes(tree):
    grid_tree(tree["beining"], X0, Y0)
    grid_tree(tree["xingning"], X0 + 0.02, Y0)
    first = geojson_io.export_grids()
    for level in ("micro", "area", "community"):
        Grid.objects.filter(level=level).delete()
    Place.objects.update(grid_seq=0)
    result = geojson_io.import_grids(first)
    assert result.ok and result.created == 14
    assert geojson_io.export_grids() == first


def test_export_is_sorted_by_code_one_feature_per_line(tree):
    grid_tree(tree["xingning"], X0 + 0.02, Y0)
    grid_tree(tree["beining"], X0, Y0)
    text = geojson_io.export_grids()
    lines = text.splitlines()
    assert lines[0] == '{"type":"FeatureCollection","features":['
    assert lines[-1] == "]}"
    codes = [json.loads(line.rstrip(","))["properties"]["code"] for line in lines[1:-1]]
    assert codes == sorted(codes) and len(codes) == 14
    first = json.loads(lines[1].rstrip(","))
    assert list(first) == ["type", "properties", "geometry"]
    assert list(first["properties"]) == ["code", "name", "level", "parent_code", "community_code"]
    assert geojson_io.feature_count(text) == 14
    micro_only = geojson_io.export_grids(level="micro")
    assert geojson_io.feature_count(micro_only) == 8


def test_a_changed_name_and_boundary_update_the_grid_and_the_index(tree):
    assert geojson_io.import_grids(collection(*beining_file())).ok
    fs = beining_file()
    # Micro 004 gives its top strip to micro 005; both change, the rest stay.
    fs[3] = feature(
        BEINING + "004",
        "micro",
        rect(X0, Y0, X0 + 0.005, Y0 + 0.004),
        parent_code=BEINING + "002",
        name="改名的网格",
    )
    fs[4] = feature(
        BEINING + "005", "micro", rect(X0, Y0 + 0.004, X0 + 0.005, Y0 + 0.01), parent_code=BEINING + "002"
    )
    result = geojson_io.import_grids(collection(*fs))
    assert result.ok, [str(p) for p in result.problems]
    assert result.counts() == {"created": 0, "updated": 2, "unchanged": 5}
    g = Grid.objects.get(code=BEINING + "004")
    assert g.name == "改名的网格" and g.max_lat == pytest.approx(Y0 + 0.004)
    assert geo.micro_index().locate(X0 + 0.001, Y0 + 0.0045) == Grid.objects.get(code=BEINING + "005").pk


def test_moving_an_area_grid_moves_the_paths_of_its_micro_grids(tree):
    top, _micros = grid_tree(tree["beining"], X0, Y0)  # codes 001 (community), 002/005 (area)
    second_top = grid(tree["beining"], GridLevel.COMMUNITY, X0, Y0 + 0.01, X0 + 0.01, Y0 + 0.03)  # 008
    area = Grid.objects.get(code=BEINING + "005")
    moved = feature(
        area.code,
        "area",
        rect(X0, Y0 + 0.01, X0 + 0.005, Y0 + 0.02),
        name=area.name,
        parent_code=second_top.code,
    )
    # Its two micro grids must come along: they move inside the new area boundary too.
    micro_a = feature(
        BEINING + "006",
        "micro",
        rect(X0, Y0 + 0.01, X0 + 0.005, Y0 + 0.015),
        parent_code=area.code,
        name=Grid.objects.get(code=BEINING + "006").name,
    )
    result = geojson_io.import_grids(
        collection(
            moved,
            micro_a,
            feature(
                BEINING + "007",
                "micro",
                rect(X0, Y0 + 0.015, X0 + 0.005, Y0 + 0.02),
                parent_code=area.code,
                name=Grid.objects.get(code=BEINING + "007").name,
            ),
        )
    )
    assert result.ok, [str(p) for p in result.problems]
    for code in ("006", "007"):
        g = Grid.objects.get(code=BEINING + code)
        assert g.path == f"/{second_top.code}/{area.code}/{g.code}/"


def test_an_unchanged_micro_grid_follows_its_moved_parent(tree):
    grid_tree(tree["beining"], X0, Y0)
    big_top = grid(tree["beining"], GridLevel.COMMUNITY, X0 - 0.01, Y0 - 0.01, X0 + 0.02, Y0 + 0.02)  # 008
    area = Grid.objects.get(code=BEINING + "005")
    result = geojson_io.import_grids(
        collection(feature(area.code, "area", area.geometry, name=area.name, parent_code=big_top.code))
    )
    assert result.ok, [str(p) for p in result.problems]
    assert result.updated == 1
    for code in ("006", "007"):
        assert Grid.objects.get(code=BEINING + code).path == f"/{big_top.code}/{area.code}/{BEINING}{code}/"


# ---- bad input: the right message, the right line, nothing written ----


def _assert_nothing_written(before_codes):
    assert set(Grid.objects.values_list("code", flat=True)) == before_codes
    assert not AuditEntry.objects.filter(action="grid.import").exists()


BAD_CASES = {
    "unclosed_ring": (
        {
            "f3": feature(
                BEINING + "004",
                "micro",
                {
                    "type": "Polygon",
                    "coordinates": [[[X0, Y0], [X0 + 0.005, Y0], [X0 + 0.005, Y0 + 0.005], [X0, Y0 + 0.005]]],
                },
                parent_code=BEINING + "002",
            )
        },
        5,
        BEINING + "004",
        "多边形未闭合",
    ),
    "open_ring_with_enough_points": (
        {
            "f3": feature(
                BEINING + "004",
                "micro",
                {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [X0, Y0],
                            [X0 + 0.005, Y0],
                            [X0 + 0.005, Y0 + 0.005],
                            [X0, Y0 + 0.005],
                            [X0, Y0 + 0.001],
                        ]
                    ],
                },
                parent_code=BEINING + "002",
            )
        },
        5,
        BEINING + "004",
        "多边形未闭合",
    ),
    "bowtie": (
        {
            "f4": feature(
                BEINING + "005", "micro", bowtie(X0 + 0.001, Y0 + 0.006), parent_code=BEINING + "002"
            )
        },
        6,
        BEINING + "005",
        "自相交",
    ),
    "unknown_parent": (
        {
            "f5": feature(
                BEINING + "006",
                "micro",
                rect(X0 + 0.005, Y0, X0 + 0.01, Y0 + 0.005),
                parent_code=BEINING + "099",
            )
        },
        7,
        BEINING + "006",
        "上级网格 450102001004099 不存在",
    ),
    "child_outside_parent": (
        {
            "f5": feature(
                BEINING + "006",
                "micro",
                rect(X0 + 0.005, Y0, X0 + 0.011, Y0 + 0.005),
                parent_code=BEINING + "003",
            )
        },
        7,
        BEINING + "006",
        "超出上级网格 450102001004003 的范围",
    ),
    "wrong_parent_level": (
        {
            "f5": feature(
                BEINING + "006",
                "micro",
                rect(X0 + 0.005, Y0, X0 + 0.01, Y0 + 0.005),
                parent_code=BEINING + "001",
            )
        },
        7,
        BEINING + "006",
        "上级必须是片区网格",
    ),
    "code_not_starting_with_community_code": (
        {
            "f5": feature(
                XINGNING + "006",
                "micro",
                rect(X0 + 0.005, Y0, X0 + 0.01, Y0 + 0.005),
                parent_code=BEINING + "003",
            )
        },
        7,
        XINGNING + "006",
        "必须以所属社区“北宁社区”的区划代码 450102001004 开头",
    ),
    "code_not_15_digits": (
        {
            "f5": feature(
                BEINING + "06",
                "micro",
                rect(X0 + 0.005, Y0, X0 + 0.01, Y0 + 0.005),
                parent_code=BEINING + "003",
            )
        },
        7,
        BEINING + "06",
        "必须是 15 位数字",
    ),
    "unknown_level": (
        {
            "f5": feature(
                BEINING + "006",
                "block",
                rect(X0 + 0.005, Y0, X0 + 0.01, Y0 + 0.005),
                parent_code=BEINING + "003",
            )
        },
        7,
        BEINING + "006",
        "网格层级“block”无效",
    ),
    "missing_name": (
        {
            "f5": feature(
                BEINING + "006",
                "micro",
                rect(X0 + 0.005, Y0, X0 + 0.01, Y0 + 0.005),
                name=" ",
                parent_code=BEINING + "003",
            )
        },
        7,
        BEINING + "006",
        "缺少网格名称",
    ),
    "out_of_wgs84_range": (
        {
            "f5": feature(
                BEINING + "006", "micro", rect(X0 + 0.005, Y0, 190, Y0 + 0.005), parent_code=BEINING + "003"
            )
        },
        7,
        BEINING + "006",
        "超出 WGS84 范围",
    ),
    "point_geometry": (
        {
            "f5": feature(
                BEINING + "006",
                "micro",
                {"type": "Point", "coordinates": [X0, Y0]},
                parent_code=BEINING + "003",
            )
        },
        7,
        BEINING + "006",
        "几何类型必须是 Polygon 或 MultiPolygon",
    ),
    "unknown_community": (
        {
            "f0": feature(
                BEINING + "001",
                "community",
                rect(X0, Y0, X0 + 0.01, Y0 + 0.01),
                community_code="450102001999",
            )
        },
        1 + 1,
        BEINING + "001",
        "社区区划代码 450102001999 不存在",
    ),
    "community_code_of_a_street": (
        {
            "f0": feature(
                BEINING + "001",
                "community",
                rect(X0, Y0, X0 + 0.01, Y0 + 0.01),
                community_code="450102001000",
            )
        },
        2,
        BEINING + "001",
        "不是社区",
    ),
    "community_grid_without_community_code": (
        {"f0": feature(BEINING + "001", "community", rect(X0, Y0, X0 + 0.01, Y0 + 0.01))},
        2,
        BEINING + "001",
        "总网格必须填写所属社区的区划代码",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_feature_is_reported_on_its_line_and_nothing_is_written(tree, case):
    overrides, line, code, text = BAD_CASES[case]
    result = geojson_io.import_grids(collection(*beining_file(**overrides)))
    problem = only_problem(result)
    assert (problem.line, problem.code) == (line, code)
    assert text in problem.message, problem.message
    assert str(problem).startswith(f"第 {line} 行，第 {line - 1} 个要素（网格编码 {code}）：")
    _assert_nothing_written(set())


def test_bad_json_names_the_line_of_the_error(tree):
    text = collection(*beining_file()).splitlines()
    text[4] = text[4][:-2] + ","  # feature 4 loses its closing brace on line 5
    result = geojson_io.import_grids("\n".join(text))
    problem = only_problem(result)
    assert problem.line == 6 and problem.index is None
    assert "不是有效的 JSON" in problem.message
    _assert_nothing_written(set())


def test_not_a_feature_collection_is_refused(tree):
    problem = only_problem(geojson_io.import_grids('{"type": "Feature"}'))
    assert "不是 GeoJSON FeatureCollection" in problem.message
    problem = only_problem(geojson_io.import_grids(b"\xff\xfe{}"))
    assert "UTF-8" in problem.message


def test_duplicate_code_in_the_file_names_the_first_occurrence(tree):
    fs = beining_file()
    fs.append(
        feature(BEINING + "005", "micro", rect(X0 - 0.001, Y0, X0, Y0 + 0.001), parent_code=BEINING + "002")
    )
    problems = geojson_io.import_grids(collection(*fs)).problems
    dup = [p for p in problems if "重复" in p.message]
    assert len(dup) == 1
    assert (dup[0].line, dup[0].index, dup[0].code) == (9, 8, BEINING + "005")
    assert "与第 6 行的第 5 个要素相同" in dup[0].message
    _assert_nothing_written(set())


def test_overlapping_siblings_in_the_file_are_both_reported(tree):
    fs = beining_file()
    fs[4] = feature(
        BEINING + "005", "micro", rect(X0, Y0 + 0.004, X0 + 0.005, Y0 + 0.01), parent_code=BEINING + "002"
    )
    result = geojson_io.import_grids(collection(*fs))
    assert [(p.line, p.code) for p in result.problems] == [(5, BEINING + "004"), (6, BEINING + "005")]
    assert "与第 6 行的网格 450102001004005 重叠约" in result.problems[0].message
    assert "与第 5 行的网格 450102001004004 重叠约" in result.problems[1].message
    _assert_nothing_written(set())


def test_a_new_grid_overlapping_a_stored_sibling_is_refused(tree):
    top, micros = grid_tree(tree["beining"], X0, Y0)
    before = set(Grid.objects.values_list("code", flat=True))
    area = micros[0].parent
    new = feature(
        BEINING + "020", "micro", rect(X0 + 0.001, Y0 + 0.001, X0 + 0.002, Y0 + 0.002), parent_code=area.code
    )
    problem = only_problem(geojson_io.import_grids(collection(new)))
    assert f"与同一上级网格下的已有网格 {micros[0].code} 重叠约" in problem.message
    _assert_nothing_written(before)


def test_shrinking_a_parent_below_its_stored_children_is_refused(tree):
    top, micros = grid_tree(tree["beining"], X0, Y0)
    before = set(Grid.objects.values_list("code", flat=True))
    area = micros[0].parent
    shrunk = feature(
        area.code, "area", rect(X0, Y0, X0 + 0.005, Y0 + 0.006), name=area.name, parent_code=top.code
    )
    problem = only_problem(geojson_io.import_grids(collection(shrunk)))
    assert f"不再包含下级网格 {micros[1].code}" in problem.message
    _assert_nothing_written(before)


def test_touching_siblings_and_tiny_slivers_are_within_tolerance(tree):
    fs = beining_file()
    # 005 overlaps 004 by 1e-8° × 0.005° ≈ 0.6 m²: below the 1 m² tolerance.
    fs[4] = feature(
        BEINING + "005",
        "micro",
        rect(X0, Y0 + 0.005 - 1e-8, X0 + 0.005, Y0 + 0.01),
        parent_code=BEINING + "002",
    )
    assert geojson_io.import_grids(collection(*fs)).ok


def test_a_code_used_by_a_grid_of_another_level_is_refused(tree):
    grid_tree(tree["beining"], X0, Y0)  # 002 is an area grid here
    before = set(Grid.objects.values_list("code", flat=True))
    f = feature(BEINING + "002", "micro", rect(X0, Y0, X0 + 0.001, Y0 + 0.001), parent_code=BEINING + "005")
    problems = geojson_io.import_grids(collection(f)).problems
    assert any("已被北宁社区的片区网格" in p.message for p in problems), [str(p) for p in problems]
    _assert_nothing_written(before)


def test_every_problem_in_the_file_is_reported_at_once(tree):
    fs = beining_file(
        f1=feature(
            BEINING + "002",
            "area",
            rect(X0, Y0, X0 + 0.005, Y0 + 0.01),
            parent_code=BEINING + "001",
            name=" ",
        ),
        f3=feature(BEINING + "004", "micro", bowtie(X0 + 0.001, Y0 + 0.001), parent_code=BEINING + "002"),
        f6=feature(
            BEINING + "007",
            "nano",
            rect(X0 + 0.005, Y0 + 0.005, X0 + 0.01, Y0 + 0.01),
            parent_code=BEINING + "003",
        ),
    )
    result = geojson_io.import_grids(collection(*fs))
    assert [(p.line, p.index) for p in result.problems] == [(3, 2), (5, 4), (8, 7)]


def test_one_bad_feature_among_good_ones_writes_nothing(tree):
    fs = beining_file()
    fs.append(feature(None, "micro", bowtie(X0 + 0.0001, Y0 + 0.0001, 0.0005), parent_code=BEINING + "002"))
    result = geojson_io.import_grids(collection(*fs))
    problem = only_problem(result)
    assert (problem.line, problem.index, problem.code) == (9, 8, "")
    assert str(problem).startswith("第 9 行，第 8 个要素：多边形无效")
    assert Grid.objects.count() == 0
    assert Place.objects.get(code=BEINING).grid_seq == 0
    assert not AuditEntry.objects.filter(action="grid.import").exists()


# ---- who may import ----


def test_a_district_admin_imports_and_is_named_in_the_audit(tree):
    admin = user("admin", ("district_admin", tree["district"]))
    assert geojson_io.import_grids(collection(*beining_file()), actor=admin).ok
    assert AuditEntry.objects.get(action="grid.import").actor_name == "admin"


def test_a_community_worker_may_not_import(tree):
    worker = user("worker", ("community_worker", tree["beining"]))
    with pytest.raises(PermissionDenied):
        geojson_io.import_grids(collection(*beining_file()), actor=worker)
    assert Grid.objects.count() == 0


def test_a_district_admin_may_not_import_grids_of_another_district(tree):
    other = Place.objects.create(kind="district", code="450103000000", name="青秀区", parent=tree["city"])
    admin = user("qingxiu", ("district_admin", other))
    result = geojson_io.import_grids(collection(*beining_file()), actor=admin)
    assert len(result.problems) == 7
    assert "您没有权限导入社区“北宁社区”" in result.problems[0].message
    assert Grid.objects.count() == 0


# ---- the commands ----


def test_import_command_exits_0_and_prints_counts(tree, tmp_path, capsys):
    path = tmp_path / "grids.geojson"
    path.write_text(collection(*beining_file()), encoding="utf-8")
    call_command("import_grids", str(path))
    assert "新建 7 个，更新 0 个，0 个不变" in capsys.readouterr().out
    assert Grid.objects.count() == 7


def test_import_command_exits_1_listing_each_problem(tree, tmp_path, capsys):
    path = tmp_path / "bad.geojson"
    fs = beining_file(
        f3=feature(BEINING + "004", "micro", bowtie(X0 + 0.001, Y0 + 0.001), parent_code=BEINING + "002")
    )
    path.write_text(collection(*fs), encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        call_command("import_grids", str(path))
    assert exc.value.code == 1
    err = capsys.readouterr().err
    assert err.splitlines()[0].startswith(
        "第 5 行，第 4 个要素（网格编码 450102001004004）：多边形无效：自相交"
    )
    assert Grid.objects.count() == 0


def test_import_command_dry_run_writes_nothing(tree, tmp_path, capsys):
    path = tmp_path / "grids.geojson"
    path.write_text(collection(*beining_file()), encoding="utf-8")
    call_command("import_grids", str(path), "--dry-run")
    assert "试运行" in capsys.readouterr().out
    assert Grid.objects.count() == 0


def test_import_command_on_a_missing_file_is_a_command_error(tree, tmp_path):
    with pytest.raises(CommandError):
        call_command("import_grids", str(tmp_path / "nope.geojson"))


def test_export_command_writes_the_export_to_a_file_or_stdout(tree, tmp_path, capsys):
    grid_tree(tree["beining"], X0, Y0)
    out = tmp_path / "out.geojson"
    call_command("export_grids", "-o", str(out), "--level", "micro", "--within", tree["street"].code)
    assert out.read_text(encoding="utf-8") == geojson_io.export_grids(
        level="micro", within=tree["street"].code
    )
    assert "已导出 4 个网格" in capsys.readouterr().err
    call_command("export_grids")
    assert capsys.readouterr().out == geojson_io.export_grids()


def test_export_command_refuses_an_unknown_place(tree):
    with pytest.raises(CommandError):
        call_command("export_grids", "--within", "459999000000")


def test_an_empty_file_says_so(tree):
    problem = only_problem(geojson_io.import_grids(b""))
    assert (problem.line, problem.message) == (1, "文件是空的。")


def test_the_code_of_a_retired_grid_is_never_reused(tree):
    from django.utils import timezone

    top, micros = grid_tree(tree["beining"], X0, Y0)
    Grid.objects.filter(pk=micros[0].pk).update(retired_at=timezone.now())
    f = feature(micros[0].code, "micro", micros[0].geometry, parent_code=micros[0].parent.code)
    problem = only_problem(geojson_io.import_grids(collection(f)))
    assert "已停用的网格，编码不能复用" in problem.message
