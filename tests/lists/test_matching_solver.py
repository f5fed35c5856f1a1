"""The matching solver: exact (against brute force on tiny instances), never worse than greedy first-fit."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gongzhi.lists import matching
from gongzhi.lists.matching import UNMATCHED, Problem


def random_problem(rnd: random.Random, n_needs: int, n_res: int, density: float = 0.4) -> Problem:
    edges = [(i, r, rnd.randint(0, 50)) for i in range(n_needs) for r in range(n_res) if rnd.random() < density]
    n_owners = max(1, n_res // 2)
    return Problem(
        n_needs=n_needs, n_resources=n_res, edges=edges,
        capacity=[rnd.randint(0, 3) for _ in range(n_res)],
        owner=[rnd.randrange(n_owners) for _ in range(n_res)],
        owner_open=[rnd.randint(0, 3) for _ in range(n_owners)],
        load_weight=rnd.choice([0, 5, 20]),
        need_cost=[rnd.choice([0, 0, 100]) for _ in range(n_needs)],
    )


def brute_force(problem: Problem) -> tuple[int, int]:
    """(matched, cost) of the lexicographic optimum by trying every assignment."""
    options = [[UNMATCHED] + [r for i2, r, _ in problem.edges if i2 == i] for i in range(problem.n_needs)]
    best = (0, 0)
    for assignment in itertools.product(*options):
        try:
            matching.check(problem, list(assignment))
        except ValueError:
            continue
        matched = sum(r != UNMATCHED for r in assignment)
        key = (matched, -matching.objective(problem, list(assignment)))
        if key > (best[0], -best[1]):
            best = (matched, -key[1])
    return best


def test_every_need_is_matched_when_a_feasible_taker_exists():
    # Need 0 can go to either resource; need 1 only to resource 0. Greedy gives 0 → r0 and strands need 1.
    p = Problem(n_needs=2, n_resources=2, edges=[(0, 0, 1), (0, 1, 5), (1, 0, 1)], capacity=[1, 1], owner=[0, 1])
    greedy = matching.greedy_first_fit(p)
    best = matching.solve(p)
    assert greedy.assignment == [0, UNMATCHED]
    assert best.assignment == [1, 0]
    assert best.matched == 2 and best.cost == 6


def test_convex_load_spreads_work_across_owners():
    # Equally near resources; owner 0 already holds one project. Marginal load costs: owner 1 → 0, 10, 20;
    # owner 0 → 10, 20. The three cheapest slots are owner 1's first two and owner 0's first.
    p = Problem(n_needs=3, n_resources=2, edges=[(i, r, 10) for i in range(3) for r in range(2)],
                capacity=[3, 3], owner=[0, 1], owner_open=[1, 0], load_weight=10)
    best = matching.solve(p)
    assert sorted(best.assignment) == [0, 1, 1]
    assert best.cost == 30 + (0 + 10) + 10
    lopsided = [1, 1, 1]
    assert matching.objective(p, lopsided) > best.cost


def test_urgent_needs_win_when_capacity_is_short():
    p = Problem(n_needs=2, n_resources=1, edges=[(0, 0, 0), (1, 0, 50)], capacity=[1], owner=[0],
                need_cost=[1000, 0])
    assert matching.solve(p).assignment == [UNMATCHED, 0]


def test_infeasible_pairs_are_never_used_and_zero_capacity_is_respected():
    p = Problem(n_needs=2, n_resources=2, edges=[(0, 0, 1), (1, 1, 1)], capacity=[0, 1], owner=[0, 0])
    assert matching.solve(p).assignment == [UNMATCHED, 1]


def test_empty_problems():
    assert matching.solve(Problem(0, 0, [], [], [])).matched == 0
    assert matching.solve(Problem(2, 1, [], [1], [0])).assignment == [UNMATCHED, UNMATCHED]


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError):
        Problem(n_needs=1, n_resources=2, edges=[], capacity=[1], owner=[0, 0])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n_needs=st.integers(1, 5), n_res=st.integers(1, 4))
def test_solver_equals_brute_force_on_tiny_instances(seed, n_needs, n_res):
    p = random_problem(random.Random(seed), n_needs, n_res)
    best = matching.solve(p)
    matching.check(p, best.assignment)
    assert (best.matched, best.cost) == brute_force(p)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), n_needs=st.integers(1, 60), n_res=st.integers(1, 30))
def test_solver_is_never_worse_than_greedy(seed, n_needs, n_res):
    p = random_problem(random.Random(seed), n_needs, n_res, density=0.15)
    best, greedy = matching.solve(p), matching.greedy_first_fit(p)
    matching.check(p, best.assignment)
    matching.check(p, greedy.assignment)
    assert best.matched >= greedy.matched
    if best.matched == greedy.matched:
        assert best.cost <= greedy.cost
    assert best.cost == matching.objective(p, best.assignment)
