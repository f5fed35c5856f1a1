"""Counting a vote exactly: the owners of a compound deciding together (Civil Code art. 278), and a plain
count by head for other bodies (a residents' council, a member-unit assembly).

Art. 278 (业主共同决定事项). A vote counts only if owners holding at least 2/3 of the exclusive floor area
AND at least 2/3 of the owners by head take part. Then:

* a *major* matter — items (6)–(8): raising the maintenance fund; rebuilding or reconstructing the
  building or its facilities; changing the use of common parts or running a business on them — passes
  with at least 3/4 of the participating area AND at least 3/4 of the participating owners saying yes;
* every other, *ordinary* matter (using the maintenance fund included) passes with more than half of
  the participating area AND more than half of the participating owners saying yes.

"以上" includes the number itself (art. 1259), so exactly 2/3 and exactly 3/4 reach their bar; "过半数" is
strictly more than half, so exactly 1/2 does not. An abstention takes part: it counts towards the 2/3
quorum and in the denominator of the yes share, so it can sink a vote.

Who counts and how much (最高人民法院关于审理建筑物区分所有权纠纷案件适用法律若干问题的解释, arts. 8–9):
a unit's area is the one in the real-estate register (or, until registered, the surveyed or contracted
area — the caller supplies whichever applies); owners are counted one per unit, except that one buyer
of several units counts once, and the developer's unsold (or sold but not yet delivered) units count
together as one owner. This module needs no special case for either: the register names each unit's
voting representative (`voter_key`), and the caller gives all of one buyer's units the same key, and all
the developer's units one key of its own (e.g. "developer"). Owners are then aggregated by key: one head
each, with the sum of their units' areas.

Arithmetic is exact throughout: areas are integers in hundredths of a square metre (centiares, the
register's precision), ratios are `fractions.Fraction`, comparisons are integer cross-multiplications.
No binary floating point enters: a float area is refused rather than rounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from gongzhi.core.errors import ValidationFailed

__all__ = [
    "ABSTAIN",
    "ART278",
    "CHOICES",
    "HEAD",
    "MAJOR",
    "MATTERS",
    "NO",
    "ORDINARY",
    "RULE_HEAD",
    "RULE_MAJOR",
    "RULE_ORDINARY",
    "RULE_QUORUM",
    "YES",
    "Owner",
    "Tally",
    "owners_from_register",
    "parse_area",
    "tally_art278",
    "tally_by_head",
]

MAJOR = "major"
ORDINARY = "ordinary"
MATTERS = (MAJOR, ORDINARY)

ART278 = "art278"
HEAD = "head"

YES = "yes"
NO = "no"
ABSTAIN = "abstain"
CHOICES = frozenset({YES, NO, ABSTAIN})

RULE_QUORUM = "quorum"
RULE_MAJOR = "major_3_4"
RULE_ORDINARY = "ordinary_over_half"
RULE_HEAD = "head_threshold"

QUORUM_278 = Fraction(2, 3)
# matter -> (bar for the yes share of the participants, whether reaching the bar exactly is enough, rule)
_BARS = {
    MAJOR: (Fraction(3, 4), True, RULE_MAJOR),
    ORDINARY: (Fraction(1, 2), False, RULE_ORDINARY),
}

# Plain ASCII digits with an optional fraction part: no sign, exponent, "NaN", "Infinity" or "_".
_AREA_TEXT = re.compile(r"[0-9]+(?:\.[0-9]+)?")


# ---------------------------------------------------------------------------------------------------
# The register
# ---------------------------------------------------------------------------------------------------


def _centiares(value: object) -> int | None:
    """The value in hundredths of a square metre, or None if it is not an exact decimal with at most
    two decimals (its sign is checked by the caller)."""
    if isinstance(value, bool | float):  # bool is an int; a float is never exact enough to trust
        return None
    if isinstance(value, int):
        return value * 100
    if isinstance(value, str):
        text = value.strip()
        if not _AREA_TEXT.fullmatch(text):
            return None
        value = Decimal(text)
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        numerator, denominator = value.as_integer_ratio()
        if (numerator * 100) % denominator:
            return None  # a third decimal that is not zero: "1.230" is fine, "1.234" is not
        return numerator * 100 // denominator
    return None


def parse_area(value: object, *, unit: str | None = None) -> int:
    """A unit's exclusive floor area in centiares (1 = 0.01 m²).

    Accepts an int (whole m²), a Decimal, or a string such as "89.50"; the value must be greater than 0
    with at most two decimals. Floats, NaN, infinities, signs, exponents in strings and anything else
    raise ValidationFailed("area_invalid") with the unit's key in `extra`.
    """
    centi = _centiares(value)
    if centi is None or centi <= 0:
        raise ValidationFailed("area_invalid", _("专有面积必须大于 0，最多两位小数。"), {"unit": unit})
    return centi


@dataclass(frozen=True)
class Owner:
    """One voting owner: `key` is the voter key, `area_centi` the sum of their units' areas in centiares,
    `units` their unit keys in register order."""

    key: str
    area_centi: int
    units: tuple[str, ...]

    def __post_init__(self):
        if not isinstance(self.area_centi, int) or isinstance(self.area_centi, bool):
            raise TypeError(
                f"Owner.area_centi must be an int of centiares, not {type(self.area_centi).__name__}"
            )
        if self.area_centi <= 0:
            raise ValueError("Owner.area_centi must be positive")


def owners_from_register(rows: Iterable[tuple[str, str, object]]) -> dict[str, Owner]:
    """The owners, by voter key (in order of first appearance), from the register's rows
    `(unit_key, voter_key, area)` — one row per housing unit.

    Rows sharing a voter key make one owner with the sum of their areas (one buyer of several units;
    the developer's unsold units). A unit listed twice, a row without a unit or voter key, or a bad
    area raises ValidationFailed.
    """
    areas: dict[str, int] = {}
    units: dict[str, list[str]] = {}
    seen: set[str] = set()
    for row in rows:
        try:
            unit, voter, area = row
        except (TypeError, ValueError):
            unit = voter = area = None
        if not (isinstance(unit, str) and unit.strip() and isinstance(voter, str) and voter.strip()):
            raise ValidationFailed(
                "register_row_invalid",
                _("业主名册的每一行都必须写明房屋和投票人。"),
                {"unit": unit if isinstance(unit, str) else None},
            )
        if unit in seen:
            raise ValidationFailed(
                "unit_duplicate", _("同一套房屋在业主名册中出现了不止一次。"), {"unit": unit}
            )
        seen.add(unit)
        centi = parse_area(area, unit=unit)
        if voter in areas:
            areas[voter] += centi
            units[voter].append(unit)
        else:
            areas[voter] = centi
            units[voter] = [unit]
    return {voter: Owner(voter, centi, tuple(units[voter])) for voter, centi in areas.items()}


# ---------------------------------------------------------------------------------------------------
# Arithmetic and formatting (integers only)
# ---------------------------------------------------------------------------------------------------


def _reaches(part: int, whole: int, bar: Fraction, inclusive: bool) -> bool:
    """part/whole ≥ bar (or > bar), by cross-multiplication; never true of an empty whole."""
    if whole <= 0:
        return False
    left, right = part * bar.denominator, bar.numerator * whole
    return left >= right if inclusive else left > right


def _ratio(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(0)


def _area_text(centi: int) -> str:
    return f"{centi // 100}.{centi % 100:02d}"


def _fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def _percent_text(value: Fraction) -> str:
    """value as a percentage with four decimals, rounded half up by integer arithmetic (2/3 → "66.6667")."""
    # value * 100 * 10**4, rounded half up: floor((2·n·10**6 + d) / (2·d))
    scaled = (2 * value.numerator * 10**6 + value.denominator) // (2 * value.denominator)
    return f"{scaled // 10**4}.{scaled % 10**4:04d}"


def _sign(met: bool, inclusive: bool) -> str:
    if inclusive:
        return "≥" if met else "<"
    return ">" if met else "≤"


# ---------------------------------------------------------------------------------------------------
# The result
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """The outcome of one count, with every number behind it.

    mode "art278": owners by head and by area, `matter` MAJOR or ORDINARY, bars fixed by the law.
    mode "head": voters by head only (the *_owners fields count voters; the area fields are 0),
    `matter` None, `threshold`/`inclusive`/`quorum`/`quorum_inclusive` as the caller gave them.

    `rule` names what decided it: "quorum" when too few took part (the votes are then moot),
    otherwise the pass rule applied — "major_3_4", "ordinary_over_half" or "head_threshold".
    """

    mode: str
    matter: str | None
    total_owners: int
    total_area_centi: int
    participating_owners: int
    participating_area_centi: int
    yes_owners: int
    yes_area_centi: int
    no_owners: int
    no_area_centi: int
    abstain_owners: int
    abstain_area_centi: int
    quorum_met: bool
    passed: bool
    rule: str
    threshold: Fraction | None = None  # the yes share of the participants needed to pass
    inclusive: bool = True  # whether reaching `threshold` exactly passes
    quorum: Fraction | None = None  # the share of the electorate that must take part (None: no quorum)
    quorum_inclusive: bool = True  # whether reaching `quorum` exactly is enough

    @property
    def participation_area(self) -> Fraction:
        return _ratio(self.participating_area_centi, self.total_area_centi)

    @property
    def participation_owners(self) -> Fraction:
        return _ratio(self.participating_owners, self.total_owners)

    @property
    def yes_share_area(self) -> Fraction:
        return _ratio(self.yes_area_centi, self.participating_area_centi)

    @property
    def yes_share_owners(self) -> Fraction:
        return _ratio(self.yes_owners, self.participating_owners)

    def as_dict(self) -> dict:
        """A JSON-safe dict: areas as m² strings ("123.45"), ratios as "num/den" strings (reduced) with a
        "..._percent" string to four decimals. Area entries are None in head mode."""
        by_area = self.mode == ART278

        def area(centi: int) -> str | None:
            return _area_text(centi) if by_area else None

        out = {
            "mode": self.mode,
            "matter": self.matter,
            "total_owners": self.total_owners,
            "total_area": area(self.total_area_centi),
            "participating_owners": self.participating_owners,
            "participating_area": area(self.participating_area_centi),
            "yes_owners": self.yes_owners,
            "yes_area": area(self.yes_area_centi),
            "no_owners": self.no_owners,
            "no_area": area(self.no_area_centi),
            "abstain_owners": self.abstain_owners,
            "abstain_area": area(self.abstain_area_centi),
            "quorum_met": self.quorum_met,
            "passed": self.passed,
            "rule": self.rule,
            "threshold": _fraction_text(self.threshold) if self.threshold is not None else None,
            "inclusive": self.inclusive,
            "quorum": _fraction_text(self.quorum) if self.quorum is not None else None,
            "quorum_inclusive": self.quorum_inclusive,
        }
        for name, value, applies in (
            ("participation_area", self.participation_area, by_area),
            ("participation_owners", self.participation_owners, True),
            ("yes_share_area", self.yes_share_area, by_area),
            ("yes_share_owners", self.yes_share_owners, True),
        ):
            out[name] = _fraction_text(value) if applies else None
            out[name + "_percent"] = _percent_text(value) if applies else None
        return out

    @classmethod
    def from_dict(cls, d: dict) -> Tally:
        """The tally back from `as_dict()` (a stored, published result), to explain it in any language."""

        def centi(text) -> int:
            return int(Decimal(text) * 100) if text is not None else 0

        def frac(text):
            return Fraction(text) if text is not None else None

        return cls(
            mode=d["mode"], matter=d["matter"], total_owners=d["total_owners"], total_area_centi=centi(d["total_area"]),
            participating_owners=d["participating_owners"],
            participating_area_centi=centi(d["participating_area"]), yes_owners=d["yes_owners"],
            yes_area_centi=centi(d["yes_area"]), no_owners=d["no_owners"], no_area_centi=centi(d["no_area"]),
            abstain_owners=d["abstain_owners"], abstain_area_centi=centi(d["abstain_area"]),
            quorum_met=d["quorum_met"], passed=d["passed"], rule=d["rule"], threshold=frac(d["threshold"]),
            inclusive=d["inclusive"], quorum=frac(d["quorum"]), quorum_inclusive=d["quorum_inclusive"])

    def explain(self) -> str:
        """One line saying why it passed or failed, with the numbers (in the active language)."""
        outcome = pgettext("vote result", "通过") if self.passed else pgettext("vote result", "未通过")
        if self.mode == ART278:
            return self._explain_art278(outcome)
        return self._explain_head(outcome)

    def _explain_art278(self, outcome: str) -> str:
        assert self.quorum is not None and self.threshold is not None
        part_area = self.participating_area_centi
        quorum = {
            "part_area": _area_text(part_area),
            "total_area": _area_text(self.total_area_centi),
            "part_area_pct": _percent_text(self.participation_area),
            "area_cmp": _sign(_reaches(part_area, self.total_area_centi, self.quorum, True), True),
            "part_owners": self.participating_owners,
            "total_owners": self.total_owners,
            "part_owners_pct": _percent_text(self.participation_owners),
            "owners_cmp": _sign(
                _reaches(self.participating_owners, self.total_owners, self.quorum, True), True
            ),
        }
        if not self.quorum_met:
            return (
                _(
                    "参与表决的专有面积 %(part_area)s/%(total_area)s m²（%(part_area_pct)s%%）%(area_cmp)s 2/3，"
                    "人数 %(part_owners)s/%(total_owners)s（%(part_owners_pct)s%%）%(owners_cmp)s 2/3，"
                    "未达到法定的参与表决比例，未通过"
                )
                % quorum
            )
        bar, inclusive = self.threshold, self.inclusive
        return _(
            "参与表决的专有面积 %(part_area)s/%(total_area)s m²（%(part_area_pct)s%%）%(area_cmp)s 2/3，"
            "人数 %(part_owners)s/%(total_owners)s（%(part_owners_pct)s%%）%(owners_cmp)s 2/3；"
            "同意的专有面积 %(yes_area)s/%(part_area)s m²（%(yes_area_pct)s%%）%(yes_area_cmp)s %(bar)s，"
            "人数 %(yes_owners)s/%(part_owners)s（%(yes_owners_pct)s%%）%(yes_owners_cmp)s %(bar)s，%(outcome)s"
        ) % {
            **quorum,
            "yes_area": _area_text(self.yes_area_centi),
            "yes_area_pct": _percent_text(self.yes_share_area),
            "yes_area_cmp": _sign(_reaches(self.yes_area_centi, part_area, bar, inclusive), inclusive),
            "yes_owners": self.yes_owners,
            "yes_owners_pct": _percent_text(self.yes_share_owners),
            "yes_owners_cmp": _sign(
                _reaches(self.yes_owners, self.participating_owners, bar, inclusive), inclusive
            ),
            "bar": _fraction_text(bar),
            "outcome": outcome,
        }

    def _explain_head(self, outcome: str) -> str:
        assert self.threshold is not None
        values = {
            "part": self.participating_owners,
            "total": self.total_owners,
            "part_pct": _percent_text(self.participation_owners),
            "yes": self.yes_owners,
            "yes_pct": _percent_text(self.yes_share_owners),
            "yes_cmp": _sign(
                _reaches(self.yes_owners, self.participating_owners, self.threshold, self.inclusive),
                self.inclusive,
            ),
            "threshold": _fraction_text(self.threshold),
            "outcome": outcome,
        }
        if self.quorum is None:
            return (
                _("同意 %(yes)s/%(part)s 人（%(yes_pct)s%%）%(yes_cmp)s %(threshold)s，%(outcome)s") % values
            )
        values["quorum"] = _fraction_text(self.quorum)
        values["quorum_cmp"] = _sign(self.quorum_met, self.quorum_inclusive)
        if not self.quorum_met:
            return (
                _(
                    "参与表决 %(part)s/%(total)s 人（%(part_pct)s%%）%(quorum_cmp)s %(quorum)s，未达到参与表决比例，未通过"
                )
                % values
            )
        return (
            _(
                "参与表决 %(part)s/%(total)s 人（%(part_pct)s%%）%(quorum_cmp)s %(quorum)s；"
                "同意 %(yes)s/%(part)s 人（%(yes_pct)s%%）%(yes_cmp)s %(threshold)s，%(outcome)s"
            )
            % values
        )


# ---------------------------------------------------------------------------------------------------
# Counting
# ---------------------------------------------------------------------------------------------------


def _bad_choice(voter: object) -> ValidationFailed:
    return ValidationFailed("choice_invalid", _("表决意见只能是同意、反对或弃权。"), {"voter": voter})


def _not_in_register(voter: object) -> ValidationFailed:
    return ValidationFailed("not_in_register", _("投票人不在业主名册中。"), {"voter": voter})


def tally_art278(owners: Mapping[str, Owner], ballots: Mapping[str, str], matter: str) -> Tally:
    """Count the owners' vote on `matter` (MAJOR or ORDINARY) by Civil Code art. 278.

    `owners` is what owners_from_register returns; `ballots` maps voter key to "yes", "no" or
    "abstain" (an owner who did not vote is simply absent). A voter key not in `owners`, an unknown
    choice or an unknown matter raises ValidationFailed. One pass over each mapping.
    """
    if matter not in _BARS:
        raise ValidationFailed("matter_invalid", _("表决事项的类别无效。"), {"matter": str(matter)})
    bar, inclusive, pass_rule = _BARS[matter]

    heads = {YES: 0, NO: 0, ABSTAIN: 0}
    area = {YES: 0, NO: 0, ABSTAIN: 0}
    for voter, choice in ballots.items():
        owner = owners.get(voter)
        if owner is None:
            raise _not_in_register(voter)
        if not (isinstance(choice, str) and choice in CHOICES):
            raise _bad_choice(voter)
        heads[choice] += 1
        area[choice] += owner.area_centi

    total_owners = len(owners)
    total_area = sum(owner.area_centi for owner in owners.values())
    part_owners = heads[YES] + heads[NO] + heads[ABSTAIN]
    part_area = area[YES] + area[NO] + area[ABSTAIN]

    quorum_met = (
        part_owners > 0
        and _reaches(part_area, total_area, QUORUM_278, True)
        and _reaches(part_owners, total_owners, QUORUM_278, True)
    )
    passed = (
        quorum_met
        and _reaches(area[YES], part_area, bar, inclusive)
        and _reaches(heads[YES], part_owners, bar, inclusive)
    )
    return Tally(
        mode=ART278,
        matter=matter,
        total_owners=total_owners,
        total_area_centi=total_area,
        participating_owners=part_owners,
        participating_area_centi=part_area,
        yes_owners=heads[YES],
        yes_area_centi=area[YES],
        no_owners=heads[NO],
        no_area_centi=area[NO],
        abstain_owners=heads[ABSTAIN],
        abstain_area_centi=area[ABSTAIN],
        quorum_met=quorum_met,
        passed=passed,
        rule=pass_rule if quorum_met else RULE_QUORUM,
        threshold=bar,
        inclusive=inclusive,
        quorum=QUORUM_278,
        quorum_inclusive=True,
    )


def _share(value: object, name: str) -> Fraction:
    if isinstance(value, bool) or not isinstance(value, int | Fraction):
        raise TypeError(f"{name} must be a Fraction (or int), not {type(value).__name__}")
    value = Fraction(value)
    if not 0 <= value <= 1:
        raise ValueError(f"{name} must be between 0 and 1")
    return value


def tally_by_head(
    voters: Iterable[str],
    ballots: Mapping[str, str],
    threshold: Fraction,
    *,
    inclusive: bool,
    quorum: Fraction | None = None,
    quorum_inclusive: bool = True,
) -> Tally:
    """Count a vote by head only (a residents' council, a member-unit assembly, ...).

    It passes if the yes votes reach `threshold` of those taking part (abstentions take part):
    yes/participating ≥ threshold when `inclusive` ("半数以上"), > threshold otherwise ("过半数").
    With a `quorum`, at least that share of `voters` must take part first (more than it when
    `quorum_inclusive` is False, e.g. the residents' meeting's "过半数出席"), else rule "quorum".
    Nobody taking part never passes. `threshold` and `quorum` are Fractions (or ints) in [0, 1]:
    anything else is a programming error (TypeError/ValueError). Ballots are checked as in
    tally_art278.
    """
    threshold = _share(threshold, "threshold")
    if quorum is not None:
        quorum = _share(quorum, "quorum")
    if isinstance(voters, str):
        raise TypeError("voters must be a collection of voter keys, not one string")
    electorate = set(voters)

    heads = {YES: 0, NO: 0, ABSTAIN: 0}
    for voter, choice in ballots.items():
        if voter not in electorate:
            raise _not_in_register(voter)
        if not (isinstance(choice, str) and choice in CHOICES):
            raise _bad_choice(voter)
        heads[choice] += 1

    total = len(electorate)
    part = heads[YES] + heads[NO] + heads[ABSTAIN]
    quorum_met = quorum is None or (part > 0 and _reaches(part, total, quorum, quorum_inclusive))
    passed = quorum_met and _reaches(heads[YES], part, threshold, inclusive)
    return Tally(
        mode=HEAD,
        matter=None,
        total_owners=total,
        total_area_centi=0,
        participating_owners=part,
        participating_area_centi=0,
        yes_owners=heads[YES],
        yes_area_centi=0,
        no_owners=heads[NO],
        no_area_centi=0,
        abstain_owners=heads[ABSTAIN],
        abstain_area_centi=0,
        quorum_met=quorum_met,
        passed=passed,
        rule=RULE_HEAD if quorum_met else RULE_QUORUM,
        threshold=threshold,
        inclusive=inclusive,
        quorum=quorum,
        quorum_inclusive=quorum_inclusive,
    )
