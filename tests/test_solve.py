"""Solvers on small hand-made problems: exact, DP, HiGHS, greedy, pairwise, constraints."""

from __future__ import annotations

import numpy as np
import pytest

from xlner.errors import XlnerError
from xlner.project.solve import (
    Constraint,
    ExactSolver,
    MatchingProblem,
    is_feasible,
    solve_dp,
    solve_highs,
)
from xlner.registry import registry


def problem(scores, ranges, n_words):
    starts, ends = zip(*ranges)
    return MatchingProblem(np.array(scores, dtype=float), np.array(starts), np.array(ends), n_words)


# Greedy takes the big overlapping pair (0.9) and loses two pairs worth 0.8 together.
TRAP = problem([[0.9, 0.8, 0.0], [0.85, 0.0, 0.8]], [(0, 2), (0, 1), (1, 2)], 2)


def test_exact_beats_greedy_on_the_trap():
    greedy = registry.solvers.create("greedy").solve(TRAP)
    exact = registry.solvers.create("exact").solve(TRAP)
    assert greedy.pairs == [(0, 0)] and greedy.objective == pytest.approx(0.9)
    assert exact.pairs == [(0, 1), (1, 2)] and exact.objective == pytest.approx(1.6)
    assert exact.status == "optimal"


@pytest.mark.parametrize("method", ["dp", "highs"])
def test_exact_methods_agree_on_the_trap(method):
    assert ExactSolver(method).solve(TRAP).pairs == [(0, 1), (1, 2)]


def test_pairwise_equals_exact_objective():
    assert registry.solvers.create("pairwise").solve(TRAP).objective == pytest.approx(1.6)


def test_greedy_allows_n_per_entity():
    p = problem([[0.5, 0.4, 0.3]], [(0, 1), (1, 2), (2, 3)], 3)
    sol = registry.solvers.create("greedy").solve(p, Constraint.parse("<=2"))
    assert sol.pairs == [(0, 0), (0, 1)]
    assert registry.solvers.create("exact").solve(p, "<=2").objective == pytest.approx(0.9)
    assert solve_dp(p, n=3).objective == pytest.approx(1.2)


def test_equality_and_lower_bounds():
    p = problem([[0.5, 0.4, 0.0], [0.0, 0.0, 0.1]], [(0, 1), (1, 2), (2, 3)], 3)
    sol = ExactSolver().solve(p, Constraint("=", 2))  # entity 1 has one candidate only: infeasible
    assert sol.status == "relaxed" and is_feasible(p, sol.pairs, Constraint("<=", 2))
    ge = solve_highs(p, Constraint(">=", 1))
    assert ge.pairs == [(0, 0), (0, 1), (1, 2)] and ge.status == "optimal"
    greedy = registry.solvers.create("greedy").solve(p, Constraint("=", 2))
    assert greedy.status == "relaxed"


def test_empty_and_all_zero_problems():
    empty = MatchingProblem(np.zeros((0, 0)), np.zeros(0), np.zeros(0), 0)
    for name in ("exact", "greedy", "pairwise"):
        assert registry.solvers.create(name).solve(empty).pairs == []
    zero = problem([[0.0, 0.0]], [(0, 1), (1, 2)], 2)
    assert ExactSolver().solve(zero).pairs == [] and solve_dp(zero).pairs == []


def test_constraint_parsing_and_errors():
    assert Constraint.parse(" >= 2") == Constraint(">=", 2)
    assert Constraint.parse("==1") == Constraint("=", 1)
    with pytest.raises(XlnerError):
        Constraint.parse("< 1")
    with pytest.raises(XlnerError):
        ExactSolver("magic")
    with pytest.raises(XlnerError):
        ExactSolver("dp").solve(TRAP, Constraint("=", 1))
    with pytest.raises(XlnerError):
        solve_dp(problem([[1.0]] * 20, [(0, 1)], 1), n=1, max_states=1000)
    with pytest.raises(XlnerError):
        MatchingProblem(np.zeros(3), np.zeros(3), np.zeros(3), 3)


def test_highs_prints_nothing():
    """A fresh process solving with HiGHS writes nothing (no banner) to stdout or stderr."""
    import subprocess
    import sys

    code = (
        "import numpy as np\n"
        "from xlner.project.solve import MatchingProblem, Constraint, solve_highs, _highs\n"
        "p = MatchingProblem(np.array([[0.9, 0.8, 0.0], [0.85, 0.0, 0.8]]), np.array([0, 0, 1]), np.array([2, 1, 2]), 2)\n"
        "assert solve_highs(p, Constraint('<=', 1)).pairs == [(0, 1), (1, 2)]\n"
        "assert _highs().getOptionValue('output_flag')[-1] is False\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""
