"""Property tests on random instances: optimality, feasibility, determinism, bounds."""

from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlner.errors import XlnerError
from xlner.project import PRESETS, describe_methods, project, project_detailed
from xlner.project.heuristic import project_heuristic
from xlner.project.solve import Constraint, ExactSolver, MatchingProblem, is_feasible, objective, solve_dp, solve_highs
from xlner.registry import registry
from xlner.types import SentencePair, Span


@st.composite
def problems(draw, max_pairs=10):
    n_words = draw(st.integers(1, 7))
    n_cands = draw(st.integers(1, 6))
    ranges = []
    for _ in range(n_cands):
        a = draw(st.integers(0, n_words - 1))
        ranges.append((a, draw(st.integers(a + 1, n_words))))
    n_ent = draw(st.integers(1, 3))
    values = st.one_of(st.just(0.0), st.floats(0.01, 1.0))
    scores = np.array([[draw(values) for _ in ranges] for _ in range(n_ent)])
    while (scores > 0).sum() > max_pairs:  # keep brute force small
        scores[tuple(np.argwhere(scores > 0)[0])] = 0.0
    starts, ends = zip(*ranges)
    return MatchingProblem(scores, np.array(starts), np.array(ends), n_words)


def brute_force(p: MatchingProblem, constraint: Constraint) -> float:
    pairs = [tuple(x) for x in np.argwhere(p.scores > 0).tolist()]
    best = -np.inf
    for r in range(len(pairs) + 1):
        for subset in itertools.combinations(pairs, r):
            if is_feasible(p, list(subset), constraint):
                best = max(best, objective(p, list(subset)))
    return best


constraints = st.sampled_from([Constraint("<=", 1), Constraint("<=", 2)])


@settings(max_examples=150, deadline=None)
@given(problems(), constraints)
def test_exact_is_optimal_feasible_and_beats_greedy(p, constraint):
    exact = registry.solvers.create("exact").solve(p, constraint)
    greedy = registry.solvers.create("greedy").solve(p, constraint)
    assert is_feasible(p, exact.pairs, constraint) and is_feasible(p, greedy.pairs, constraint)
    assert exact.objective >= greedy.objective - 1e-9
    assert exact.objective == pytest.approx(brute_force(p, constraint))


@settings(max_examples=150, deadline=None)
@given(problems(max_pairs=18), constraints)
def test_dp_equals_highs_equals_pairwise(p, constraint):
    dp = solve_dp(p, constraint.n)
    highs = solve_highs(p, constraint)
    pairwise = registry.solvers.create("pairwise").solve(p, constraint)
    for sol in (dp, highs, pairwise):
        assert is_feasible(p, sol.pairs, constraint)
    assert dp.objective == pytest.approx(highs.objective)
    assert pairwise.objective == pytest.approx(highs.objective)


@settings(max_examples=60, deadline=None)
@given(problems(), st.sampled_from(["=", ">="]))
def test_lower_bounds_never_crash(p, op):
    sol = ExactSolver().solve(p, Constraint(op, 1))
    assert is_feasible(p, sol.pairs, Constraint(op if sol.status == "optimal" else "<=", 1))


@st.composite
def sentence_pairs(draw):
    n_src = draw(st.integers(1, 8))
    n_tgt = draw(st.integers(1, 8))
    words = st.sampled_from(["Paris", "Berlin", "the", "of", ",", ".", "Müller", "muller", "EU", "U.S."])
    src = [draw(words) for _ in range(n_src)]
    tgt = [draw(words) for _ in range(n_tgt)]
    spans, pos = [], 0
    while pos < n_src:
        a = draw(st.integers(pos, n_src - 1))
        b = draw(st.integers(a + 1, min(n_src, a + 3)))
        if draw(st.booleans()):
            spans.append(Span(a, b, draw(st.sampled_from(["PER", "ORG", "LOC"]))))
        pos = b
    links = draw(st.frozensets(st.tuples(st.integers(0, n_src - 1), st.integers(0, n_tgt - 1)), max_size=12))
    return SentencePair(src, tgt, spans, links)


def assert_valid(spans, n_tgt):
    for a, b in zip(spans, spans[1:]):
        assert a.end <= b.start
    assert all(0 <= s.start < s.end <= n_tgt for s in spans)


@settings(max_examples=80, deadline=None)
@given(st.lists(sentence_pairs(), min_size=1, max_size=4), st.sampled_from(["heuristic", "ilp", "greedy"]))
def test_projection_is_valid_deterministic_and_keeps_tokens(pairs, method):
    before = copy.deepcopy(pairs)
    first = project_detailed(pairs, method)
    second = project_detailed(pairs, method)
    assert [r.spans for r in first] == [r.spans for r in second] == project(pairs, method)
    assert [p.tgt_tokens for p in pairs] == [p.tgt_tokens for p in before]
    for pair, result in zip(pairs, first):
        assert_valid(result.spans, len(pair.tgt_tokens))
        assert 0.0 <= result.confidence <= 1.0
        assert len(result.scores) == len(result.spans) == len(result.sources)
        assert {s.label for s in result.spans} <= {s.label for p in pairs for s in p.src_spans}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(sentence_pairs(), min_size=1, max_size=4),
    st.sampled_from(["heuristic", "ilp"]),
    st.sampled_from(["MISC", "X"]),
)
def test_lowercase_word_label_never_invents_a_label(pairs, method, label):
    used = {s.label for p in pairs for s in p.src_spans}
    for spans in project(pairs, method, lowercase_word_label=label):
        assert {s.label for s in spans} <= used


@settings(max_examples=150, deadline=None)
@given(
    sentence_pairs(),
    st.sampled_from(["garcia2022", "politov2025"]),
    st.booleans(),
    st.sampled_from(["skip", "published"]),
)
def test_heuristic_spans_never_overlap(pair, preset, shortest, collisions):
    opts = dict(PRESETS[preset], keep="shortest" if shortest else "longest", collisions=collisions)
    spans = project_heuristic(pair.src_spans, len(pair.tgt_tokens), pair.alignment, tgt_tokens=pair.tgt_tokens, **opts)
    assert_valid(spans, len(pair.tgt_tokens))


@settings(max_examples=60, deadline=None)
@given(st.lists(sentence_pairs(), min_size=1, max_size=4))
def test_ilp_total_score_is_never_below_greedy(pairs):
    exact = project_detailed(pairs, "ilp")
    greedy = project_detailed(pairs, "greedy")
    for e, g in zip(exact, greedy):
        assert sum(e.scores) >= sum(g.scores) - 1e-9


def test_options_presets_and_errors():
    pair = SentencePair(["Prodi"], ["Herr", "Prodi"], [Span(0, 1, "PER")], frozenset({(0, 1)}))
    assert project([pair], "heuristic", preset="politov2025") == [[Span(1, 2, "PER")]]
    assert project([pair], "ilp", preset="politov2025-ilp") == [[Span(1, 2, "PER")]]
    with pytest.raises(XlnerError, match="valid: preset"):
        project([pair], "ilp", merge_only_if_not_first_word_aligned=True)
    with pytest.raises(XlnerError, match="unknown preset"):
        project([pair], "ilp", preset="nope")
    with pytest.raises(XlnerError, match="unknown projection method"):
        project([pair], "magic")
    with pytest.raises(XlnerError, match="no alignment"):
        project([SentencePair(["a"], ["b"], [Span(0, 1, "PER")])])
    with pytest.raises(XlnerError, match="outside"):
        project([SentencePair(["a"], ["b"], [Span(0, 2, "PER")], frozenset())])
    assert "heuristic" in describe_methods() and "garcia2022" in describe_methods()
    detailed = project_detailed([pair, SentencePair(["a"], ["b"], [], frozenset())])
    assert detailed[0].confidence == pytest.approx(1.0) and detailed[1].confidence == 1.0


@settings(max_examples=60, deadline=None)
@given(st.lists(sentence_pairs(), min_size=1, max_size=4), st.sampled_from(["exact", "greedy"]))
def test_fast_path_changes_nothing(pairs, solver):
    from xlner.project.matching import match

    fast = match(pairs, solver=solver, fast_path=True)
    slow = match(pairs, solver=solver, fast_path=False)
    for a, b in zip(fast, slow):
        assert sum(a.scores) == pytest.approx(sum(b.scores))
        if solver == "greedy":
            assert a.spans == b.spans


def test_detailed_heuristic_scores_and_confidence():
    # PER fully aligned (score 1); LOC aligned to two target words, one of which it shares with nothing else
    pair = SentencePair(
        ["Prodi", "in", "Rom"],
        ["Prodi", "in", "Rom", "heute"],
        [Span(0, 1, "PER"), Span(2, 3, "LOC")],
        frozenset({(0, 0), (2, 2), (2, 3), (1, 3)}),
    )
    result = project_detailed([pair], "heuristic")[0]
    assert result.spans == [Span(0, 1, "PER"), Span(2, 4, "LOC")]
    # LOC -> "Rom heute": source 1/1 aligned inside, target 2/2 aligned to it: 3 / 3
    assert result.scores == pytest.approx([1.0, 1.0])
    assert result.sources == [0, 1] and result.confidence == pytest.approx(1.0)
    unaligned = SentencePair(["Prodi", "Rom"], ["x"], [Span(0, 1, "PER"), Span(1, 2, "LOC")], frozenset({(0, 0)}))
    assert project_detailed([unaligned], "heuristic")[0].confidence == pytest.approx(0.5)


def test_a_plain_scorer_plugs_in_with_its_options():
    """A scorer with only ``score(pairs, candidates)`` and factory options drives the matching."""

    class LastWordScorer:
        def __init__(self, bonus: float):
            self.bonus = bonus

        def score(self, pairs, candidates):
            out = []
            for pair, cands in zip(pairs, candidates):
                m = np.zeros((len(pair.src_spans), len(cands)))
                m[:, cands.ends == len(pair.tgt_tokens)] = self.bonus
                out.append(m)
            return out

    registry.scorers.register("test-last-word")(lambda bonus=0.0: LastWordScorer(bonus))
    pair = SentencePair(["Rom"], ["in", "der", "Stadt"], [Span(0, 1, "LOC")], frozenset())
    opts = dict(weights={"test-last-word": 1.0}, threshold=0.0)
    assert project([pair], "ilp", scorer_options={"test-last-word": {"bonus": 0.5}}, **opts) == [[Span(2, 3, "LOC")]]
    assert project([pair], "ilp", **opts) == [[]]  # bonus 0: every pair scores 0
    with pytest.raises(XlnerError, match="unknown scorer"):
        project([pair], "ilp", weights={"nope": 1.0})


def test_lowercase_word_label_marks_derived_adjectives_only_when_asked_and_the_source_uses_the_label():
    # "Belgium" (LOC) aligned to the adjective "belgischen"
    pair = SentencePair(
        ["Belgium", "and", "the", "Netherlands"],
        ["die", "belgischen", "und", "Niederlande"],
        [Span(0, 1, "LOC"), Span(3, 4, "LOC")],
        frozenset({(0, 1), (1, 2), (3, 3)}),
    )
    with_misc = SentencePair(
        ["German", "wine"], ["Deutscher", "Wein"], [Span(0, 1, "MISC")], frozenset({(0, 0), (1, 1)})
    )
    plain = [[Span(1, 2, "LOC"), Span(3, 4, "LOC")]]
    for method in ("ilp", "heuristic"):
        assert project([pair], method) == plain  # off in every default preset
        assert project([pair], method, lowercase_word_label="MISC") == plain  # the source has no MISC
        relabelled = project([pair, with_misc], method, lowercase_word_label="MISC")
        assert relabelled[0] == [Span(1, 2, "MISC"), Span(3, 4, "LOC")]
    assert "lowercase_word_label" not in PRESETS["offline"]


def test_derived_word_label_only_for_one_lowercase_word_of_a_name():
    from xlner.project.matching import derived_word_label

    tokens = ["el", "gobierno", "alemán", "-Parlamento", "europea", "«", "Ötzi"]
    assert derived_word_label(Span(4, 5, "LOC"), tokens, "MISC") == Span(4, 5, "MISC")
    assert derived_word_label(Span(4, 6, "ORG"), tokens, "MISC") == Span(4, 6, "MISC")  # punctuation is no word
    assert derived_word_label(Span(1, 3, "ORG"), tokens, "MISC") == Span(1, 3, "ORG")  # several words: a noun phrase
    assert derived_word_label(Span(3, 4, "ORG"), tokens, "MISC") == Span(3, 4, "ORG")  # first letter is uppercase
    assert derived_word_label(Span(6, 7, "PER"), tokens, "MISC") == Span(6, 7, "PER")
    assert derived_word_label(Span(4, 5, "MISC"), tokens, "X") == Span(4, 5, "MISC")  # MISC stays MISC
    assert derived_word_label(Span(4, 5, "LOC"), tokens, None) == Span(4, 5, "LOC")


def test_derived_word_label_skips_lowercase_prefixes_uncased_scripts_and_lowercased_text():
    from xlner.project.matching import derived_word_label

    zulu = ["UNelson", "uMandela", "wazalelwa", "eMvezo", "."]
    assert derived_word_label(Span(1, 2, "PER"), zulu, "MISC") == Span(1, 2, "PER")  # a name with a lowercase prefix
    assert derived_word_label(Span(3, 4, "LOC"), zulu, "MISC") == Span(3, 4, "LOC")
    georgian = ["Ის", "თბილისში", "ცხოვრობს"]  # Unicode calls Mkhedruli letters lowercase; the script has no capitals
    assert derived_word_label(Span(1, 2, "LOC"), georgian, "MISC") == Span(1, 2, "LOC")
    lowered = ["die", "belgischen", "und", "niederländischen", "bauern"]  # lowercased MT output
    assert derived_word_label(Span(1, 2, "LOC"), lowered, "MISC") == Span(1, 2, "LOC")
    assert derived_word_label(Span(1, 2, "LOC"), ["Die", *lowered[1:]], "MISC") == Span(1, 2, "MISC")


def test_exact_match_score_lets_a_unique_copy_beat_a_misaligned_range():
    # "Pieter" is misaligned to "ya": alignment + string alone prefer "Pieter Hendriks ya"
    pair = SentencePair(
        ["Pieter", "Hendriks", "said"],
        ["Pieter", "Hendriks", "ya", "ce"],
        [Span(0, 2, "PER")],
        frozenset({(0, 2), (1, 1), (2, 3)}),
    )
    assert PRESETS["offline"]["exact_match_score"] == 1.0
    assert project([pair], "ilp", exact_match_score=None) == [[Span(0, 3, "PER")]]
    assert project([pair], "ilp") == [[Span(0, 2, "PER")]]
    detailed = project_detailed([pair], "greedy")[0]
    assert detailed.spans == [Span(0, 2, "PER")] and detailed.scores == [1.0]
    twice = SentencePair(pair.src_tokens, pair.tgt_tokens + ["pieter", "hendriks"], pair.src_spans, pair.alignment)
    assert project([twice], "ilp") == [[Span(0, 3, "PER")]]  # two copies: no evidence which one


def test_exact_copy_outside_the_ngram_candidates_is_added():
    pair = SentencePair(["in", "Oslo"], ["Oslo", "Da"], [Span(1, 2, "LOC")], frozenset({(1, 1)}))
    opts = {"weights": {"alignment": 1.0, "string": 0.25}, "ngrams": False}
    assert project([pair], "ilp", exact_match_score=None, **opts) == [[Span(1, 2, "LOC")]]
    assert project([pair], "ilp", **opts) == [[Span(0, 1, "LOC")]]
    # a copy is string evidence: without the string score the option does nothing
    assert project([pair], "ilp", **{**opts, "weights": {"alignment": 1.0}}) == [[Span(1, 2, "LOC")]]


@pytest.mark.parametrize("method", ["ilp", "greedy", "heuristic"])
def test_mark_only_tokens_stay_with_their_word(method):
    dot = "\u0323"
    tokens = ["ní", "LÓ", dot, "DÍNÌ", "."]
    for link, plain in (((1, 1), Span(1, 2, "LOC")), ((1, 2), Span(2, 3, "LOC"))):
        pair = SentencePair(["in", "London", "."], tokens, [Span(1, 2, "LOC")], frozenset({(0, 0), link, (2, 4)}))
        assert project([pair], method) == [[Span(1, 3, "LOC")]]
        assert project([pair], method, glue_marks=False) == [[plain]]
