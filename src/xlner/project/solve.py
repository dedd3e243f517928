"""Solvers of one candidate-matching problem, all with one interface and one result type.

Problem (see GUIDE section 3): choose pairs (entity e, candidate c) with
score ``scores[e, c] > 0`` to maximise the total score, such that each entity
is chosen ``<= n``, ``= n`` or ``>= n`` times and no target word is covered
by two chosen candidates (one constraint per target word).

- ``exact``: optimal. Tries, in order: the per-entity upper bound reached by
  the greedy solution (then greedy is optimal), a dynamic program over target
  positions with a count per entity (``<= n`` and few entities), else the
  HiGHS MILP (``highspy``).
- ``greedy``: best remaining pair first, skipping pairs that overlap a chosen
  one or exceed the entity's allowance.
- ``pairwise``: the published MILP with one constraint per pair of
  overlapping pairs (quadratic); for benchmarks only.

``= n`` and ``>= n`` may be infeasible: the exact solvers then solve the
``<= n`` relaxation and report ``status="relaxed"``; greedy cannot enforce
lower bounds and reports ``status="relaxed"`` when one is not met.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from xlner.errors import XlnerError
from xlner.registry import registry

_EPS = 1e-9


@dataclass(frozen=True)
class Constraint:
    """How often each entity is projected: ``op`` in ("<=", "=", ">=") and ``n`` >= 0."""

    op: str = "<="
    n: int = 1

    @classmethod
    def parse(cls, value: "str | Constraint") -> "Constraint":
        """``"<=1"``, ``"= 2"``, ``">=1"`` (or a Constraint) -> Constraint."""
        if isinstance(value, Constraint):
            return value
        m = re.fullmatch(r"\s*(<=|=|==|>=)\s*(\d+)\s*", str(value))
        if not m:
            raise XlnerError(f"constraint must look like '<=1', '=1' or '>=1', got {value!r}")
        op = "=" if m.group(1) == "==" else m.group(1)
        return cls(op, int(m.group(2)))


@dataclass
class MatchingProblem:
    """Scores (E x K, 0 = never) of entities against candidates ``[starts[k], ends[k])``."""

    scores: np.ndarray
    starts: np.ndarray
    ends: np.ndarray
    n_words: int

    def __post_init__(self) -> None:
        self.scores = np.asarray(self.scores, dtype=np.float64)
        if self.scores.ndim != 2 or self.scores.shape[1] != len(self.starts):
            raise XlnerError(f"scores must be (entities x {len(self.starts)} candidates), got {self.scores.shape}")
        self.starts = np.asarray(self.starts, dtype=np.int64)
        self.ends = np.asarray(self.ends, dtype=np.int64)


@dataclass
class Solution:
    """Chosen ``(entity, candidate)`` index pairs, their total score, and how they were found."""

    pairs: list[tuple[int, int]] = field(default_factory=list)
    objective: float = 0.0
    status: str = "optimal"  # "optimal", "heuristic" (greedy) or "relaxed"
    method: str = ""


class Solver(Protocol):
    def solve(self, problem: MatchingProblem, constraint: Constraint = Constraint()) -> Solution: ...


def positive_pairs(problem: MatchingProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Entity indices, candidate indices and scores of the pairs with score > 0."""
    e, c = np.nonzero(problem.scores > 0)
    return e, c, problem.scores[e, c]


def objective(problem: MatchingProblem, pairs: list[tuple[int, int]]) -> float:
    return float(sum(problem.scores[e, c] for e, c in pairs))


def is_feasible(problem: MatchingProblem, pairs: list[tuple[int, int]], constraint: Constraint) -> bool:
    """No chosen candidates overlap and every entity's count satisfies ``constraint``."""
    used = np.zeros(problem.n_words, dtype=int)
    for _, c in pairs:
        used[problem.starts[c] : problem.ends[c]] += 1
    if (used > 1).any():
        return False
    counts = np.bincount([e for e, _ in pairs], minlength=problem.scores.shape[0])
    op, n = constraint.op, constraint.n
    return bool(((counts <= n) if op == "<=" else (counts == n) if op == "=" else (counts >= n)).all())


def greedy_pairs(problem: MatchingProblem, cap: int | None) -> list[tuple[int, int]]:
    """Best remaining pair first; ``cap`` pairs per entity at most (None: no cap).

    Ties go to the lower entity index, then the shorter candidate, then the leftmost.
    """
    e, c, s = positive_pairs(problem)
    order = np.lexsort((problem.starts[c], problem.ends[c] - problem.starts[c], e, -s))
    counts: dict[int, int] = {}
    occupied = 0
    chosen = []
    starts, ends = problem.starts.tolist(), problem.ends.tolist()
    for k in order.tolist():
        ent, cand = int(e[k]), int(c[k])
        if cap is not None and counts.get(ent, 0) >= cap:
            continue
        mask = ((1 << (ends[cand] - starts[cand])) - 1) << starts[cand]
        if occupied & mask:
            continue
        occupied |= mask
        counts[ent] = counts.get(ent, 0) + 1
        chosen.append((ent, cand))
    return sorted(chosen)


def upper_bound(problem: MatchingProblem, n: int) -> float:
    """Sum over entities of their ``n`` best scores: no ``<= n`` solution exceeds it."""
    if problem.scores.size == 0:
        return 0.0
    top = -np.sort(-problem.scores, axis=1)[:, :n]
    return float(top.sum())


def solve_dp(problem: MatchingProblem, n: int = 1, max_states: int = 1 << 16) -> Solution:
    """Exact ``<= n`` solution by dynamic programming over target positions.

    The state is (position, count of each entity's projections so far), with
    ``(n + 1) ** E`` count vectors; refuses problems above ``max_states``.
    """
    E = problem.scores.shape[0]
    radix = n + 1
    n_states = radix**E
    if n_states > max_states:
        raise XlnerError(f"dynamic program needs {n_states} states (> {max_states})")
    e_idx, c_idx, s = positive_pairs(problem)
    W = problem.n_words
    by_start: list[list[int]] = [[] for _ in range(W)]
    for k, c in enumerate(c_idx.tolist()):
        by_start[problem.starts[c]].append(k)
    states = np.arange(n_states)
    strides = radix ** np.arange(E)
    digits = (states[None, :] // strides[:, None]) % radix  # (E, n_states)
    value = np.zeros((W + 1, n_states))
    choice = np.full((W, n_states), -1, dtype=np.int64)  # pair index, -1 = skip word
    ends = problem.ends
    for p in range(W - 1, -1, -1):
        best = value[p + 1].copy()
        pick = np.full(n_states, -1, dtype=np.int64)
        for k in by_start[p]:
            ent = e_idx[k]
            ok = digits[ent] < n
            nxt = np.where(ok, states + strides[ent], 0)
            cand = np.where(ok, s[k] + value[ends[c_idx[k]], nxt], -np.inf)
            better = cand > best + _EPS
            best = np.where(better, cand, best)
            pick = np.where(better, k, pick)
        value[p] = best
        choice[p] = pick
    pairs, p, state = [], 0, 0
    while p < W:
        k = choice[p, state]
        if k < 0:
            p += 1
        else:
            pairs.append((int(e_idx[k]), int(c_idx[k])))
            state += int(strides[e_idx[k]])
            p = int(ends[c_idx[k]])
    pairs.sort()
    return Solution(pairs, objective(problem, pairs), "optimal", "dp")


_HIGHS = None


def _highs():
    """One reused HiGHS instance, silent before anything is printed.

    ``highspy.Highs()`` prints its banner while it registers its callbacks,
    after the C++ object exists; the subclass turns ``output_flag`` off in
    between, so nothing reaches the console.
    """
    global _HIGHS
    if _HIGHS is None:
        import highspy

        class SilentHighs(highspy.Highs):
            def enableCallbacks(self) -> None:
                self.setOptionValue("output_flag", False)
                self.setOptionValue("log_to_console", False)
                super().enableCallbacks()

        _HIGHS = SilentHighs()
    return _HIGHS


def _highs_solve(problem: MatchingProblem, constraint: Constraint, rows: list[np.ndarray]) -> Solution:
    """MILP over the positive pairs with entity rows plus the given overlap rows (<= 1)."""
    import highspy

    e_idx, c_idx, s = positive_pairs(problem)
    m = len(s)
    op, n = constraint.op, constraint.n
    if m == 0:
        met = op == "<=" or n == 0 or problem.scores.shape[0] == 0
        return Solution([], 0.0, "optimal" if met else "relaxed", "highs")
    lo = {"<=": -np.inf, "=": n, ">=": n}[op]
    hi = {"<=": n, "=": n, ">=": np.inf}[op]
    E = problem.scores.shape[0]
    ent_rows = [np.flatnonzero(e_idx == e) for e in range(E)]
    all_rows = ent_rows + rows
    row_lo = np.array([lo] * E + [-np.inf] * len(rows))
    row_hi = np.array([hi] * E + [1.0] * len(rows))
    lp = highspy.HighsLp()
    lp.num_col_ = m
    lp.num_row_ = len(all_rows)
    lp.col_cost_ = s
    lp.col_lower_ = np.zeros(m)
    lp.col_upper_ = np.ones(m)
    lp.row_lower_ = row_lo
    lp.row_upper_ = row_hi
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.integrality_ = [highspy.HighsVarType.kInteger] * m
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum([len(r) for r in all_rows])]).astype(np.int32)
    lp.a_matrix_.index_ = (np.concatenate(all_rows) if all_rows else np.zeros(0)).astype(np.int32)
    lp.a_matrix_.value_ = np.ones(len(lp.a_matrix_.index_))
    h = _highs()
    h.clearModel()
    h.passModel(lp)
    h.run()
    status = h.getModelStatus()
    if status != highspy.HighsModelStatus.kOptimal:
        if op != "<=" and status == highspy.HighsModelStatus.kInfeasible:
            relaxed = _highs_solve(problem, Constraint("<=", n), rows)
            relaxed.status = "relaxed"
            return relaxed
        raise XlnerError(f"HiGHS could not solve a matching problem: {h.modelStatusToString(status)}")
    x = np.asarray(h.getSolution().col_value) > 0.5
    pairs = sorted((int(e_idx[k]), int(c_idx[k])) for k in np.flatnonzero(x))
    return Solution(pairs, objective(problem, pairs), "optimal", "highs")


def word_rows(problem: MatchingProblem) -> list[np.ndarray]:
    """For each target word covered by two or more positive pairs, the indices of those pairs."""
    _, c_idx, _ = positive_pairs(problem)
    cover = (np.arange(problem.n_words)[:, None] >= problem.starts[c_idx][None, :]) & (
        np.arange(problem.n_words)[:, None] < problem.ends[c_idx][None, :]
    )
    return [np.flatnonzero(row) for row in cover if row.sum() > 1]


def pair_rows(problem: MatchingProblem) -> list[np.ndarray]:
    """The published formulation: one row per pair of overlapping positive pairs."""
    _, c_idx, _ = positive_pairs(problem)
    st, en = problem.starts[c_idx], problem.ends[c_idx]
    overlap = (st[:, None] < en[None, :]) & (st[None, :] < en[:, None])
    a, b = np.nonzero(np.triu(overlap, k=1))
    return [np.array([i, j]) for i, j in zip(a.tolist(), b.tolist())]


def solve_highs(problem: MatchingProblem, constraint: Constraint = Constraint()) -> Solution:
    """Exact solution by HiGHS with one overlap constraint per target word."""
    return _highs_solve(problem, constraint, word_rows(problem))


class ExactSolver:
    """Optimal solver; ``method`` "auto", "dp" or "highs" (auto: bound check, DP, then HiGHS)."""

    def __init__(self, method: str = "auto", max_states: int = 4096):
        if method not in ("auto", "dp", "highs"):
            raise XlnerError(f"exact solver method must be 'auto', 'dp' or 'highs', got {method!r}")
        self.method = method
        self.max_states = max_states

    def solve(self, problem: MatchingProblem, constraint: Constraint = Constraint()) -> Solution:
        constraint = Constraint.parse(constraint)
        if self.method == "highs" or constraint.op != "<=":
            if self.method == "dp":
                raise XlnerError("the dynamic program handles only '<= n' constraints")
            return solve_highs(problem, constraint)
        if self.method == "dp":
            return solve_dp(problem, constraint.n, max_states=1 << 30)
        if not (problem.scores > 0).any():
            return Solution([], 0.0, "optimal", "trivial")
        pairs = greedy_pairs(problem, constraint.n)
        value = objective(problem, pairs)
        if value >= upper_bound(problem, constraint.n) - _EPS:
            return Solution(pairs, value, "optimal", "bound")
        if (constraint.n + 1) ** problem.scores.shape[0] <= self.max_states:
            return solve_dp(problem, constraint.n, self.max_states)
        return solve_highs(problem, constraint)


class GreedySolver:
    """Best remaining pair first; allows ``n`` pairs per entity under ``<= n`` and ``= n``."""

    def solve(self, problem: MatchingProblem, constraint: Constraint = Constraint()) -> Solution:
        constraint = Constraint.parse(constraint)
        cap = None if constraint.op == ">=" else constraint.n
        pairs = greedy_pairs(problem, cap)
        ok = constraint.op == "<=" or is_feasible(problem, pairs, constraint)
        return Solution(pairs, objective(problem, pairs), "heuristic" if ok else "relaxed", "greedy")


class PairwiseSolver:
    """The published MILP (one constraint per overlapping pair), via HiGHS; for benchmarks."""

    def solve(self, problem: MatchingProblem, constraint: Constraint = Constraint()) -> Solution:
        constraint = Constraint.parse(constraint)
        solution = _highs_solve(problem, constraint, pair_rows(problem))
        solution.method = "pairwise"
        return solution


@registry.solvers.register("exact")
def make_exact(method: str = "auto", max_states: int = 4096) -> ExactSolver:
    return ExactSolver(method, max_states)


@registry.solvers.register("greedy")
def make_greedy() -> GreedySolver:
    return GreedySolver()


@registry.solvers.register("pairwise")
def make_pairwise() -> PairwiseSolver:
    return PairwiseSolver()
