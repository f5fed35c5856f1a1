"""Counting an owners' vote by Civil Code art. 278, and a plain vote by head: the exact boundaries, the
register's rules, and property tests against an independent integer oracle. Pure Python: no database."""

from __future__ import annotations

import dataclasses
import json
import random
import timeit
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from gongzhi.core.errors import ValidationFailed
from gongzhi.deliberation import tally
from gongzhi.deliberation.tally import (
    ABSTAIN,
    MAJOR,
    NO,
    ORDINARY,
    YES,
    Owner,
    Tally,
    owners_from_register,
    parse_area,
    tally_art278,
    tally_by_head,
)

PROPERTY = settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
MAX_CENTI = 500_00  # 500.00 m²


def register(areas: dict[str, str]) -> dict[str, Owner]:
    """One unit per voter: {"a": "1.00"} → owner "a" with unit "unit-a"."""
    return owners_from_register((f"unit-{voter}", voter, area) for voter, area in areas.items())


def equal_owners(n: int, area: str = "1.00") -> dict[str, Owner]:
    return register({f"v{i}": area for i in range(n)})


def votes(*choices: str | None) -> dict[str, str]:
    """Ballots for v0, v1, ... in order; None means that owner did not vote."""
    return {f"v{i}": c for i, c in enumerate(choices) if c is not None}


# ---------------------------------------------------------------------------------------------------
# Areas and the register
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, centi",
    [
        ("89.50", 8950),
        ("89.5", 8950),
        ("89", 8900),
        (" 89.50 ", 8950),
        ("0.01", 1),
        ("89.500", 8950),  # a zero third decimal is still two decimals' worth
        (89, 8900),
        (Decimal("89.50"), 8950),
        (Decimal("0.01"), 1),
        (Decimal("1E+2"), 10000),
        (Decimal("12.340"), 1234),
    ],
)
def test_parse_area_accepts_exact_decimals(value, centi):
    assert parse_area(value) == centi
    assert type(parse_area(value)) is int


@pytest.mark.parametrize(
    "value",
    [
        0,
        -1,
        "0",
        "0.00",
        "-1.00",
        "+1.00",
        "1.234",
        Decimal("1.234"),
        Decimal("0.001"),
        Decimal("-5"),
        Decimal("0"),
        1.5,
        1.0,
        0.0,
        float("nan"),
        float("inf"),
        "abc",
        "",
        "1.",
        ".5",
        "1e2",
        "1_000",
        "NaN",
        "Infinity",
        "１２",  # full-width digits
        Decimal("NaN"),
        Decimal("sNaN"),
        Decimal("Infinity"),
        None,
        True,
        [1],
        Fraction(1, 2),
    ],
)
def test_parse_area_refuses_anything_else(value):
    with pytest.raises(ValidationFailed) as caught:
        parse_area(value, unit="3-2-101")
    assert caught.value.code == "area_invalid"
    assert caught.value.extra == {"unit": "3-2-101"}
    assert caught.value.message == "专有面积必须大于 0，最多两位小数。"


def test_a_bad_area_in_the_register_names_its_unit():
    rows = [("1-101", "a", "80.00"), ("1-102", "b", 1.5)]
    with pytest.raises(ValidationFailed) as caught:
        owners_from_register(rows)
    assert caught.value.code == "area_invalid"
    assert caught.value.as_dict() == {
        "code": "area_invalid",
        "message": "专有面积必须大于 0，最多两位小数。",
        "unit": "1-102",
    }


def test_a_unit_listed_twice_is_refused_even_for_the_same_voter():
    for rows in (
        [("1-101", "a", "80.00"), ("1-101", "b", "80.00")],
        [("1-101", "a", "80.00"), ("1-101", "a", "80.00")],
    ):
        with pytest.raises(ValidationFailed) as caught:
            owners_from_register(rows)
        assert caught.value.code == "unit_duplicate"
        assert caught.value.extra == {"unit": "1-101"}


@pytest.mark.parametrize(
    "row", [("1-101", "", "80.00"), ("", "a", "80.00"), ("1-101", None, "80.00"), ("1-101", "a"), "1-101"]
)
def test_a_row_without_unit_or_voter_is_refused(row):
    with pytest.raises(ValidationFailed) as caught:
        owners_from_register([row])
    assert caught.value.code == "register_row_invalid"


def test_an_owner_of_several_units_counts_once_with_the_sum_of_areas():
    owners = owners_from_register(
        [
            ("1-101", "wang", "89.50"),
            ("1-102", "li", "100"),
            ("2-301", "wang", Decimal("120.25")),
            ("2-302", "zhao", 60),
        ]
    )
    assert list(owners) == ["wang", "li", "zhao"]
    assert owners["wang"] == Owner("wang", 8950 + 12025, ("1-101", "2-301"))
    t = tally_art278(owners, {"wang": YES, "li": YES}, ORDINARY)
    assert t.total_owners == 3
    assert t.participating_owners == 2 and t.yes_owners == 2
    assert t.total_area_centi == 8950 + 10000 + 12025 + 6000
    assert t.participating_area_centi == t.yes_area_centi == 8950 + 12025 + 10000


def test_the_developers_unsold_units_count_as_one_owner():
    # The developer still holds 6 of 10 units (60% of the area) but is one owner among five.
    rows = [(f"1-{100 + i}", "developer", "100.00") for i in range(6)]
    rows += [(f"2-{100 + i}", f"buyer{i}", "100.00") for i in range(4)]
    owners = owners_from_register(rows)
    assert len(owners) == 5
    assert owners["developer"].area_centi == 600_00 and len(owners["developer"].units) == 6

    # Developer plus two buyers: 80% of the area but only 3/5 of the owners: no quorum.
    t = tally_art278(owners, {"developer": YES, "buyer0": YES, "buyer1": YES}, ORDINARY)
    assert (t.participation_area, t.participation_owners) == (Fraction(4, 5), Fraction(3, 5))
    assert not t.quorum_met and t.rule == "quorum"

    # Everyone votes; the developer alone has most of the area but one head of five: fails.
    t = tally_art278(owners, {"developer": YES, **{f"buyer{i}": NO for i in range(4)}}, ORDINARY)
    assert t.quorum_met and not t.passed
    assert t.yes_share_area == Fraction(3, 5) and t.yes_share_owners == Fraction(1, 5)


def test_owner_refuses_a_float_or_empty_area():
    with pytest.raises(TypeError):
        Owner("a", 1.5, ("u",))
    with pytest.raises(ValueError):
        Owner("a", 0, ("u",))


# ---------------------------------------------------------------------------------------------------
# Quorum: 2/3 of the area AND 2/3 of the owners take part ("以上": exactly 2/3 is enough)
# ---------------------------------------------------------------------------------------------------


def test_exactly_two_thirds_take_part():
    t = tally_art278(equal_owners(3), votes(YES, YES, None), ORDINARY)
    assert t.participation_area == t.participation_owners == Fraction(2, 3)
    assert t.quorum_met and t.passed and t.rule == "ordinary_over_half"


def test_one_centiare_short_of_two_thirds_fails():
    owners = register({"v0": "0.99", "v1": "1.00", "v2": "1.01"})  # 1.99 of 3.00 m²
    t = tally_art278(owners, votes(YES, YES, None), ORDINARY)
    assert t.participation_owners == Fraction(2, 3)
    assert t.participation_area == Fraction(199, 300)
    assert not t.quorum_met and not t.passed and t.rule == "quorum"
    # ...and one centiare more than two thirds is, of course, enough.
    owners = register({"v0": "1.01", "v1": "1.00", "v2": "1.00"})
    assert tally_art278(owners, votes(YES, YES, None), ORDINARY).quorum_met


def test_one_owner_short_of_two_thirds_fails():
    # 5 of 8 owners (< 2/3) with 3/4 of the area; 6 of 9 would be exactly 2/3.
    owners = register(
        {**{f"v{i}": "1.00" for i in range(4)}, "v4": "8.00", "v5": "1.00", "v6": "1.00", "v7": "1.00"}
    )
    t = tally_art278(owners, votes(YES, YES, YES, YES, YES, None, None, None), ORDINARY)
    assert t.participation_area == Fraction(12, 15) and t.participation_owners == Fraction(5, 8)
    assert not t.quorum_met


def test_quorum_needs_the_area_as_well_as_the_heads():
    owners = register({"v0": "1.00", "v1": "1.00", "v2": "10.00"})
    t = tally_art278(owners, votes(YES, YES, None), ORDINARY)
    assert t.participation_owners == Fraction(2, 3) and t.participation_area == Fraction(1, 6)
    assert not t.quorum_met and not t.passed and t.rule == "quorum"


def test_quorum_needs_the_heads_as_well_as_the_area():
    owners = register({"v0": "10.00", "v1": "1.00", "v2": "1.00"})
    t = tally_art278(owners, votes(YES, None, None), MAJOR)
    assert t.participation_area == Fraction(5, 6) and t.participation_owners == Fraction(1, 3)
    assert not t.quorum_met and not t.passed and t.rule == "quorum"


def test_without_quorum_even_a_unanimous_yes_fails():
    t = tally_art278(equal_owners(10), votes(*[YES] * 6), ORDINARY)
    assert t.yes_share_area == t.yes_share_owners == 1
    assert not t.quorum_met and not t.passed and t.rule == "quorum"


def test_nobody_voting_fails_on_quorum_without_dividing_by_zero():
    t = tally_art278(equal_owners(3), {}, MAJOR)
    assert (t.quorum_met, t.passed, t.rule) == (False, False, "quorum")
    assert t.yes_share_area == t.yes_share_owners == 0 and t.participation_area == 0
    t = tally_art278({}, {}, ORDINARY)
    assert (t.total_owners, t.total_area_centi, t.quorum_met, t.passed) == (0, 0, False, False)
    assert t.participation_area == t.participation_owners == 0
    assert "未通过" in t.explain()
    json.dumps(t.as_dict())


def test_abstentions_take_part():
    t = tally_art278(equal_owners(3), votes(YES, ABSTAIN, ABSTAIN), ORDINARY)
    assert t.quorum_met and t.participating_owners == 3 and t.abstain_owners == 2
    assert not t.passed and t.yes_share_owners == Fraction(1, 3)


# ---------------------------------------------------------------------------------------------------
# Major matters (items 6–8): 3/4 of the participating area AND owners ("以上": exactly 3/4 passes)
# ---------------------------------------------------------------------------------------------------


def test_major_exactly_three_quarters_passes():
    t = tally_art278(equal_owners(4, "25.00"), votes(YES, YES, YES, NO), MAJOR)
    assert t.yes_share_area == t.yes_share_owners == Fraction(3, 4)
    assert t.passed and t.rule == "major_3_4"


def test_major_one_centiare_short_of_three_quarters_fails():
    owners = register({"v0": "1.00", "v1": "1.00", "v2": "1.00", "v3": "1.01"})
    t = tally_art278(owners, votes(YES, YES, YES, NO), MAJOR)
    assert t.yes_share_owners == Fraction(3, 4) and t.yes_share_area == Fraction(300, 401)
    assert t.quorum_met and not t.passed and t.rule == "major_3_4"


def test_major_needs_the_area_as_well_as_the_heads():
    owners = register({"v0": "1.00", "v1": "1.00", "v2": "1.00", "v3": "100.00"})
    t = tally_art278(owners, votes(YES, YES, YES, NO), MAJOR)
    assert t.quorum_met and t.yes_share_owners == Fraction(3, 4) and t.yes_share_area == Fraction(3, 103)
    assert not t.passed


def test_major_needs_the_heads_as_well_as_the_area():
    owners = register({"v0": "100.00", "v1": "1.00", "v2": "1.00", "v3": "1.00"})
    t = tally_art278(owners, votes(YES, NO, NO, NO), MAJOR)
    assert t.quorum_met and t.yes_share_area == Fraction(100, 103) and t.yes_share_owners == Fraction(1, 4)
    assert not t.passed


def test_an_abstention_can_sink_a_major_vote():
    owners = equal_owners(5)
    assert tally_art278(owners, votes(YES, YES, YES, NO, None), MAJOR).passed  # 3/4
    t = tally_art278(owners, votes(YES, YES, YES, NO, ABSTAIN), MAJOR)  # 3/5
    assert t.quorum_met and not t.passed
    assert t.abstain_owners == 1 and t.abstain_area_centi == 100 and t.participating_owners == 5
    # An abstention is not a no, though: 3 yes and 1 abstention is still 3/4.
    assert tally_art278(owners, votes(YES, YES, YES, ABSTAIN, None), MAJOR).passed


def test_the_same_votes_pass_as_ordinary_but_not_as_major():
    ballots = votes(YES, YES, NO, None)
    assert not tally_art278(equal_owners(4), ballots, MAJOR).passed
    assert tally_art278(equal_owners(4), ballots, ORDINARY).passed


# ---------------------------------------------------------------------------------------------------
# Ordinary matters: MORE than half of the participating area AND owners (exactly 1/2 fails)
# ---------------------------------------------------------------------------------------------------


def test_ordinary_exactly_half_fails():
    t = tally_art278(equal_owners(4), votes(YES, YES, NO, NO), ORDINARY)
    assert t.yes_share_area == t.yes_share_owners == Fraction(1, 2)
    assert t.quorum_met and not t.passed and t.rule == "ordinary_over_half"


def test_ordinary_just_over_half_of_the_area_passes():
    owners = register({"v0": "1.00", "v1": "1.01", "v2": "2.00"})
    t = tally_art278(owners, votes(YES, YES, NO), ORDINARY)
    assert t.yes_share_area == Fraction(201, 401) and t.passed


def test_ordinary_exactly_half_of_the_area_fails_despite_the_heads():
    owners = register({"v0": "1.00", "v1": "1.00", "v2": "2.00"})
    t = tally_art278(owners, votes(YES, YES, NO), ORDINARY)
    assert t.yes_share_owners == Fraction(2, 3) and t.yes_share_area == Fraction(1, 2)
    assert not t.passed


def test_ordinary_exactly_half_of_the_heads_fails_despite_the_area():
    owners = register({"v0": "9.00", "v1": "9.00", "v2": "1.00", "v3": "1.00"})
    t = tally_art278(owners, votes(YES, YES, NO, NO), ORDINARY)
    assert t.yes_share_area == Fraction(9, 10) and t.yes_share_owners == Fraction(1, 2)
    assert not t.passed


def test_ordinary_needs_the_heads_as_well_as_the_area():
    owners = register({"v0": "10.00", "v1": "1.00", "v2": "1.00"})
    t = tally_art278(owners, votes(YES, NO, NO), ORDINARY)
    assert t.yes_share_area == Fraction(5, 6) and t.yes_share_owners == Fraction(1, 3)
    assert not t.passed


def test_ordinary_needs_the_area_as_well_as_the_heads():
    owners = register({"v0": "1.00", "v1": "1.00", "v2": "10.00"})
    t = tally_art278(owners, votes(YES, YES, NO), ORDINARY)
    assert t.yes_share_owners == Fraction(2, 3) and t.yes_share_area == Fraction(1, 6)
    assert not t.passed


# ---------------------------------------------------------------------------------------------------
# Ballots
# ---------------------------------------------------------------------------------------------------


def test_a_ballot_from_outside_the_register_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        tally_art278(equal_owners(3), {"v0": YES, "stranger": YES}, ORDINARY)
    assert caught.value.code == "not_in_register"
    assert caught.value.extra == {"voter": "stranger"}
    assert caught.value.message == "投票人不在业主名册中。"


@pytest.mark.parametrize("choice", ["YES", "maybe", "", None, 1, True, ["yes"]])
def test_an_unknown_choice_is_refused(choice):
    with pytest.raises(ValidationFailed) as caught:
        tally_art278(equal_owners(3), {"v0": YES, "v1": choice}, ORDINARY)
    assert caught.value.code == "choice_invalid"
    assert caught.value.extra == {"voter": "v1"}


def test_an_unknown_matter_is_refused():
    with pytest.raises(ValidationFailed) as caught:
        tally_art278(equal_owners(3), votes(YES, YES, YES), "urgent")
    assert caught.value.code == "matter_invalid"


# ---------------------------------------------------------------------------------------------------
# The result: exact numbers, JSON, explanation
# ---------------------------------------------------------------------------------------------------


def _no_float_in(value) -> bool:
    if isinstance(value, float):
        return False
    if isinstance(value, dict):
        return all(_no_float_in(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_no_float_in(v) for v in value)
    return True


def test_the_result_holds_integers_and_fractions_only():
    owners = register({"v0": "33.33", "v1": "33.33", "v2": "33.34"})
    t = tally_art278(owners, votes(YES, NO, ABSTAIN), MAJOR)
    for field in dataclasses.fields(t):
        assert not isinstance(getattr(t, field.name), float), field.name
    for name in ("participation_area", "participation_owners", "yes_share_area", "yes_share_owners"):
        assert type(getattr(t, name)) is Fraction, name
    assert t.yes_share_area == Fraction(3333, 10000)
    d = t.as_dict()
    assert _no_float_in(d)
    assert json.loads(json.dumps(d)) == d
    assert d["total_area"] == "100.00" and d["yes_area"] == "33.33" and d["abstain_area"] == "33.34"
    assert d["yes_share_area"] == "3333/10000" and d["yes_share_area_percent"] == "33.3300"
    assert d["yes_share_owners"] == "1/3" and d["yes_share_owners_percent"] == "33.3333"
    assert d["participation_owners"] == "1/1" and d["participation_owners_percent"] == "100.0000"
    assert (d["threshold"], d["inclusive"], d["quorum"], d["quorum_inclusive"]) == ("3/4", True, "2/3", True)
    assert (d["mode"], d["matter"], d["rule"], d["passed"]) == ("art278", "major", "major_3_4", False)


@pytest.mark.parametrize(
    "value, text",
    [
        (Fraction(2, 3), "66.6667"),
        (Fraction(1, 3), "33.3333"),
        (Fraction(0), "0.0000"),
        (Fraction(1), "100.0000"),
        (Fraction(1, 2_000_000), "0.0001"),  # exactly 0.00005 %: half rounds up
        (Fraction(1, 2_000_001), "0.0000"),
        (Fraction(199, 300), "66.3333"),
    ],
)
def test_percentages_round_half_up_exactly(value, text):
    assert tally._percent_text(value) == text


def test_explain_major_pass():
    t = tally_art278(equal_owners(4, "25.00"), votes(YES, YES, YES, NO), MAJOR)
    assert t.explain() == (
        "参与表决的专有面积 100.00/100.00 m²（100.0000%）≥ 2/3，人数 4/4（100.0000%）≥ 2/3；"
        "同意的专有面积 75.00/100.00 m²（75.0000%）≥ 3/4，人数 3/4（75.0000%）≥ 3/4，通过"
    )


def test_explain_ordinary_exactly_half():
    t = tally_art278(equal_owners(4), votes(YES, YES, NO, NO), ORDINARY)
    assert t.explain().endswith(
        "同意的专有面积 2.00/4.00 m²（50.0000%）≤ 1/2，人数 2/4（50.0000%）≤ 1/2，未通过"
    )


def test_explain_quorum_failure_shows_which_half_fell_short():
    owners = register({"v0": "10.00", "v1": "1.00", "v2": "1.00"})
    text = tally_art278(owners, votes(YES, None, None), ORDINARY).explain()
    assert text == (
        "参与表决的专有面积 10.00/12.00 m²（83.3333%）≥ 2/3，人数 1/3（33.3333%）< 2/3，"
        "未达到法定的参与表决比例，未通过"
    )
    assert "\n" not in text


# ---------------------------------------------------------------------------------------------------
# By head
# ---------------------------------------------------------------------------------------------------

COUNCIL = [f"m{i}" for i in range(6)]


def test_by_head_threshold_inclusive_or_not():
    ballots = {"m0": YES, "m1": YES, "m2": NO, "m3": NO}
    t = tally_by_head(COUNCIL, ballots, Fraction(1, 2), inclusive=True)
    assert t.passed and t.rule == "head_threshold" and t.mode == "head" and t.matter is None
    assert not tally_by_head(COUNCIL, ballots, Fraction(1, 2), inclusive=False).passed
    assert tally_by_head(COUNCIL, {**ballots, "m4": YES}, Fraction(1, 2), inclusive=False).passed


def test_by_head_abstentions_take_part():
    t = tally_by_head(COUNCIL, {"m0": YES, "m1": YES, "m2": ABSTAIN}, Fraction(2, 3), inclusive=True)
    assert t.passed and t.participating_owners == 3 and t.abstain_owners == 1
    t = tally_by_head(
        COUNCIL, {"m0": YES, "m1": YES, "m2": ABSTAIN, "m3": ABSTAIN}, Fraction(2, 3), inclusive=True
    )
    assert not t.passed


def test_by_head_quorum():
    ballots = {"m0": YES, "m1": YES, "m2": YES}  # 3 of 6 take part
    t = tally_by_head(COUNCIL, ballots, Fraction(1, 2), inclusive=False, quorum=Fraction(1, 2))
    assert t.quorum_met and t.passed
    # The residents' meeting needs MORE than half present ("过半数出席").
    t = tally_by_head(
        COUNCIL, ballots, Fraction(1, 2), inclusive=False, quorum=Fraction(1, 2), quorum_inclusive=False
    )
    assert not t.quorum_met and not t.passed and t.rule == "quorum"
    assert t.explain() == "参与表决 3/6 人（50.0000%）≤ 1/2，未达到参与表决比例，未通过"
    t = tally_by_head(
        COUNCIL, {**ballots, "m3": NO}, 0, inclusive=False, quorum=Fraction(1, 2), quorum_inclusive=False
    )
    assert t.quorum_met and t.passed
    assert t.explain() == "参与表决 4/6 人（66.6667%）> 1/2；同意 3/4 人（75.0000%）> 0/1，通过"


def test_by_head_nobody_voting_never_passes():
    for quorum in (None, Fraction(0)):
        t = tally_by_head(COUNCIL, {}, Fraction(0), inclusive=True, quorum=quorum)
        assert not t.passed and t.yes_share_owners == 0
    t = tally_by_head([], {}, Fraction(1, 2), inclusive=True)
    assert not t.passed and t.total_owners == 0
    assert t.explain() == "同意 0/0 人（0.0000%）< 1/2，未通过"


def test_by_head_counts_each_voter_once_and_has_no_areas():
    t = tally_by_head(["a", "b", "a", "c"], {"a": YES}, Fraction(1, 2), inclusive=True)
    assert t.total_owners == 3
    d = t.as_dict()
    assert (
        d["total_area"] is None
        and d["yes_share_area"] is None
        and d["yes_share_owners_percent"] == "100.0000"
    )
    assert d["threshold"] == "1/2" and d["quorum"] is None
    json.dumps(d)


def test_by_head_refuses_bad_ballots():
    with pytest.raises(ValidationFailed) as caught:
        tally_by_head(COUNCIL, {"outsider": YES}, Fraction(1, 2), inclusive=True)
    assert caught.value.code == "not_in_register"
    with pytest.raises(ValidationFailed) as caught:
        tally_by_head(COUNCIL, {"m0": "oui"}, Fraction(1, 2), inclusive=True)
    assert caught.value.code == "choice_invalid"


def test_by_head_refuses_bad_arguments():
    with pytest.raises(TypeError):
        tally_by_head(COUNCIL, {}, 0.5, inclusive=True)
    with pytest.raises(TypeError):
        tally_by_head(COUNCIL, {}, Fraction(1, 2), inclusive=True, quorum=0.5)
    with pytest.raises(ValueError):
        tally_by_head(COUNCIL, {}, Fraction(3, 2), inclusive=True)
    with pytest.raises(TypeError):
        tally_by_head("m0m1", {}, Fraction(1, 2), inclusive=True)


# ---------------------------------------------------------------------------------------------------
# Speed
# ---------------------------------------------------------------------------------------------------


def test_five_thousand_owners_tally_well_under_100_ms():
    rows = [(f"u{i}", f"v{i // 2 if i < 2000 else i}", f"{50 + i % 100}.{i % 100:02d}") for i in range(6000)]
    owners = owners_from_register(rows)
    assert len(owners) == 5000
    ballots = {key: (YES, NO, ABSTAIN)[i % 3] for i, key in enumerate(owners) if i % 5}
    best = min(timeit.repeat(lambda: tally_art278(owners, ballots, MAJOR), number=1, repeat=5))
    assert best < 0.1


# ---------------------------------------------------------------------------------------------------
# Properties, against an independent oracle
# ---------------------------------------------------------------------------------------------------

OPTIONS = [YES, NO, ABSTAIN, None]


def _split(pick, total: int, parts: int) -> list[int]:
    """`total` centiares in `parts` pieces of 1..MAX_CENTI each (the caller makes sure that fits);
    `pick(low, high)` chooses each piece."""
    pieces = []
    for left in range(parts - 1, 0, -1):
        piece = pick(max(1, total - MAX_CENTI * left), min(MAX_CENTI, total - left))
        pieces.append(piece)
        total -= piece
    return pieces + [total]


def _exact_shares(draw, inside: list[int], outside: list[int], bar: Fraction, areas: list[int]) -> None:
    """Give the owners `inside` and `outside` areas so that inside / (inside + outside) == bar exactly."""
    a, b = bar.numerator, bar.denominator
    k, m = len(inside), len(outside)
    low = max(-(-k // a), -(-m // (b - a)))
    high = min(MAX_CENTI * k // a, MAX_CENTI * m // (b - a))
    u = draw(st.integers(low, high) | st.sampled_from([high, (low + high) // 2]))  # not always tiny
    for group, total in ((inside, a * u), (outside, (b - a) * u)):
        pieces = _split(lambda lo, hi: draw(st.integers(lo, hi)), total, len(group))
        for i, area in zip(group, pieces, strict=True):
            areas[i] = area


def _written(rnd, centi: int):
    """The same area written as a register might: "12.30", "12.3", Decimal, or an int of m²."""
    forms = [f"{centi // 100}.{centi % 100:02d}", Decimal(centi) / 100]
    if centi % 100 == 0:
        forms += [centi // 100, str(centi // 100)]
    elif centi % 10 == 0:
        forms.append(f"{centi // 100}.{(centi % 100) // 10}")
    return rnd.choice(forms)


@st.composite
def elections(draw):
    """(register rows, {voter: centiares}, ballots, matter), biased towards the exact boundaries: the
    head counts and/or the areas may be built to land exactly on 2/3 (quorum) or on the matter's bar,
    and then possibly nudged by one vote or one centiare. How the areas are split into units and
    written down is left to a seeded Random: it must not matter."""
    matter = draw(st.sampled_from([MAJOR, ORDINARY]))
    bar = Fraction(3, 4) if matter == MAJOR else Fraction(1, 2)

    heads_plan = draw(st.sampled_from(["free", "quorum", "bar"]))
    if heads_plan == "free":  # lopsided mixes are as likely as even ones
        n = draw(st.integers(1, 60))
        weights = draw(st.tuples(*[st.integers(0, 3)] * len(OPTIONS)).filter(any))
        pool = [option for option, weight in zip(OPTIONS, weights, strict=True) for _ in range(weight)]
        choices = draw(st.lists(st.sampled_from(pool), min_size=n, max_size=n))
    elif heads_plan == "quorum":  # exactly 2/3 of the owners take part, or one absentee more or fewer
        t = draw(st.integers(1, 20))
        votes_cast = st.lists(st.sampled_from([YES, NO, ABSTAIN]), min_size=2 * t, max_size=2 * t)
        choices = draw(votes_cast) + [None] * (t + draw(st.sampled_from([0, 0, -1, 1])))
    else:  # exactly `bar` of the participants say yes, or one yes more or fewer; absentees near the quorum
        t = draw(st.integers(1, 60 // bar.denominator))
        participants = bar.denominator * t
        yes = bar.numerator * t + draw(st.sampled_from([0, -1, 1]))
        others = st.lists(
            st.sampled_from([NO, ABSTAIN]), min_size=participants - yes, max_size=participants - yes
        )
        absent = draw(st.integers(0, min(60 - participants, participants // 2 + 1)))  # 2/3 is at p // 2
        choices = [YES] * yes + draw(others) + [None] * absent
    choices = draw(st.permutations(choices))
    n = len(choices)

    largest = draw(st.sampled_from([100, MAX_CENTI]))  # sometimes small absentees, to meet the quorum
    areas = draw(st.lists(st.integers(1, largest), min_size=n, max_size=n))
    area_plan = draw(st.sampled_from(["free", "quorum", "bar", "bar"]))
    if area_plan == "quorum":
        inside = [i for i, c in enumerate(choices) if c is not None]
        outside = [i for i, c in enumerate(choices) if c is None]
        target = Fraction(2, 3)
    else:
        inside = [i for i, c in enumerate(choices) if c == YES]
        outside = [i for i, c in enumerate(choices) if c in (NO, ABSTAIN)]
        target = bar
    if area_plan != "free" and inside and outside:
        _exact_shares(draw, inside, outside, target, areas)
        if draw(st.booleans()):  # one centiare off the boundary
            i = draw(st.integers(0, n - 1))
            areas[i] = min(MAX_CENTI, max(1, areas[i] + draw(st.sampled_from([-1, 1]))))

    voters = [f"owner-{i}" for i in range(n)]
    if draw(st.booleans()):
        voters[0] = "developer"
    rnd = random.Random(draw(st.integers(0, 2**32 - 1)))
    rows = []
    for i, (voter, area) in enumerate(zip(voters, areas, strict=True)):
        pieces = _split(rnd.randint, area, rnd.randint(1, min(3, area)))
        rows += [(f"{i}-{j}", voter, _written(rnd, piece)) for j, piece in enumerate(pieces)]
    rnd.shuffle(rows)
    ballots = {voter: c for voter, c in zip(voters, choices, strict=True) if c is not None}
    return rows, dict(zip(voters, areas, strict=True)), ballots, matter


def oracle(area_of: dict[str, int], ballots: dict[str, str], matter: str) -> tuple[bool, bool]:
    """(quorum met, passed), by the law's words and plain integer cross-multiplication."""
    total_area, total_heads = sum(area_of.values()), len(area_of)
    part_area = sum(area_of[v] for v in ballots)
    part_heads = len(ballots)
    yes_area = sum(area_of[v] for v, c in ballots.items() if c == YES)
    yes_heads = sum(1 for c in ballots.values() if c == YES)
    quorum = part_heads > 0 and 3 * part_area >= 2 * total_area and 3 * part_heads >= 2 * total_heads
    if matter == MAJOR:
        carried = 4 * yes_area >= 3 * part_area and 4 * yes_heads >= 3 * part_heads
    else:
        carried = 2 * yes_area > part_area and 2 * yes_heads > part_heads
    return quorum, quorum and carried


def _percent_oracle(value: Fraction) -> str:
    with localcontext() as ctx:
        ctx.prec = 100
        exact = Decimal(value.numerator) * 100 / Decimal(value.denominator)
        return str(exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP))


@PROPERTY
@given(election=elections())
def test_art278_agrees_with_the_oracle(election):
    rows, area_of, ballots, matter = election
    owners = owners_from_register(rows)
    assert {k: o.area_centi for k, o in owners.items()} == area_of
    t = tally_art278(owners, ballots, matter)
    assert (t.quorum_met, t.passed) == oracle(area_of, ballots, matter)
    assert t.rule == (
        "quorum" if not t.quorum_met else {MAJOR: "major_3_4", ORDINARY: "ordinary_over_half"}[matter]
    )
    assert t.participating_owners == t.yes_owners + t.no_owners + t.abstain_owners == len(ballots)
    assert t.participating_area_centi == t.yes_area_centi + t.no_area_centi + t.abstain_area_centi
    assert t.total_area_centi == sum(area_of.values())

    d = t.as_dict()
    assert _no_float_in(d)
    for name in ("participation_area", "participation_owners", "yes_share_area", "yes_share_owners"):
        value = getattr(t, name)
        assert type(value) is Fraction and 0 <= value <= 1
        assert Fraction(d[name]) == value
        assert d[name + "_percent"] == _percent_oracle(value)
    assert Decimal(d["total_area"]) * 100 == t.total_area_centi
    assert t.explain().endswith("未通过" if not t.passed else "，通过")


BOUNDARIES = {
    "quorum exactly 2/3 by area and by head": lambda t: (
        t.participation_area == t.participation_owners == Fraction(2, 3)
    ),
    "quorum one centiare short by area": lambda t: (
        0 < 2 * t.total_area_centi - 3 * t.participating_area_centi <= 3
    ),
    "major exactly 3/4 by area and by head": lambda t: (
        t.matter == MAJOR and t.quorum_met and t.yes_share_area == t.yes_share_owners == Fraction(3, 4)
    ),
    "major one centiare short by area": lambda t: (
        t.matter == MAJOR and t.quorum_met and 0 < 3 * t.participating_area_centi - 4 * t.yes_area_centi <= 4
    ),
    "major area exactly 3/4, heads over": lambda t: (
        t.matter == MAJOR
        and t.quorum_met
        and t.yes_share_area == Fraction(3, 4)
        and t.yes_share_owners > Fraction(3, 4)
    ),
    "ordinary exactly 1/2 by area and by head": lambda t: (
        t.matter == ORDINARY and t.quorum_met and t.yes_share_area == t.yes_share_owners == Fraction(1, 2)
    ),
    "ordinary one centiare over 1/2 by area": lambda t: (
        t.matter == ORDINARY and t.quorum_met and 2 * t.yes_area_centi - t.participating_area_centi in (1, 2)
    ),
}


def test_the_strategy_reaches_the_exact_boundaries():
    """The biased strategy does land on (and just beside) each bar, else the property test proves little.
    Some boundaries are rare draws (about 1 in 100): up to four seeded rounds of 600, stopping once all
    were seen, so the check neither depends on one lucky seed nor on the order tests ran in."""
    seen = Counter()

    def sample_round(round_seed):
        @seed(round_seed)
        @settings(max_examples=600, deadline=None, database=None)
        @given(elections())
        def sample(election):
            rows, _, ballots, matter = election
            t = tally_art278(owners_from_register(rows), ballots, matter)
            seen.update(name for name, lands in BOUNDARIES.items() if lands(t))

        sample()

    for round_seed in (278, 1259, 2021, 4):
        sample_round(round_seed)
        if set(seen) == set(BOUNDARIES):
            break
    assert set(seen) == set(BOUNDARIES), seen


@st.composite
def head_votes(draw):
    threshold = Fraction(*sorted(draw(st.tuples(st.integers(0, 6), st.integers(1, 6)))))
    if draw(st.booleans()):  # exactly on the threshold
        t = draw(st.integers(1, 8))
        p = threshold.denominator * t
        yes = threshold.numerator * t
        choices = [YES] * yes + draw(
            st.lists(st.sampled_from([NO, ABSTAIN]), min_size=p - yes, max_size=p - yes)
        )
        choices += [None] * draw(st.integers(0, p))
        choices = draw(st.permutations(choices))
    else:
        choices = draw(st.lists(st.sampled_from(OPTIONS), max_size=40))
    quorum = draw(st.none() | st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(2, 3), Fraction(1)]))
    voters = [f"m{i}" for i in range(len(choices))]
    ballots = {v: c for v, c in zip(voters, choices, strict=True) if c is not None}
    return voters, ballots, threshold, draw(st.booleans()), quorum, draw(st.booleans())


@PROPERTY
@given(case=head_votes())
def test_by_head_agrees_with_the_oracle(case):
    voters, ballots, threshold, inclusive, quorum, quorum_inclusive = case
    t = tally_by_head(
        voters, ballots, threshold, inclusive=inclusive, quorum=quorum, quorum_inclusive=quorum_inclusive
    )
    n, p = len(voters), len(ballots)
    y = sum(1 for c in ballots.values() if c == YES)
    if quorum is None:
        quorum_met = True
    else:
        left, right = p * quorum.denominator, quorum.numerator * n
        quorum_met = p > 0 and (left >= right if quorum_inclusive else left > right)
    left, right = y * threshold.denominator, threshold.numerator * p
    carried = p > 0 and (left >= right if inclusive else left > right)
    assert (t.quorum_met, t.passed) == (quorum_met, quorum_met and carried)
    assert t.rule == ("head_threshold" if quorum_met else "quorum")
    assert _no_float_in(t.as_dict())


@given(centi=st.integers(1, 10**12))
@settings(max_examples=200, deadline=None)
def test_parse_area_round_trips(centi):
    assert parse_area(f"{centi // 100}.{centi % 100:02d}") == centi
    assert parse_area(Decimal(centi).scaleb(-2)) == centi
    with pytest.raises(ValidationFailed):
        parse_area(f"{centi // 100}.{centi % 100:02d}1")


def test_tally_is_a_frozen_dataclass():
    t = tally_art278(equal_owners(3), votes(YES, YES, YES), ORDINARY)
    assert isinstance(t, Tally)
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.passed = False
