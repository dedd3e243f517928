"""`xlner bench solvers`: solver comparison on small problems; registration."""

from __future__ import annotations

import numpy as np
import pytest

from xlner.bench import BENCHMARKS
from xlner.bench import solvers as bench
from xlner.project.solve import MatchingProblem


def test_registered():
    assert BENCHMARKS["solvers"] == "xlner.bench.solvers"


def test_compare_solvers_agree_and_greedy_falls_into_the_trap():
    trap = MatchingProblem(np.array([[0.9, 0.8, 0.0], [0.85, 0.0, 0.8]]), np.array([0, 0, 1]), np.array([2, 1, 2]), 2)
    easy = MatchingProblem(np.array([[0.5]]), np.array([0]), np.array([1]), 1)
    out = bench.compare_solvers([trap, easy], repeat=1)
    assert out["exact (auto)"][1] == pytest.approx(2.1)
    assert out["pairwise (highs)"][1] == pytest.approx(2.1)
    assert out["greedy"][1] == pytest.approx(1.4)


def test_stage_times_and_f1_on_a_tiny_batch():
    from xlner.types import SentencePair, Span

    pairs = [SentencePair(["Prodi", "spoke"], ["Prodi", "sprach"], [Span(0, 1, "PER")], frozenset({(0, 0), (1, 1)}))]
    stages = bench.stage_times(pairs, repeat=1)
    assert set(bench.STAGES) <= set(stages)
    rows = bench.f1_rows(pairs, [[Span(0, 1, "PER")]], repeat=1)
    assert [row[1] for row in rows] == [1.0] * len(bench.CONFIGS)
