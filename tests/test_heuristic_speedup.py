"""The heuristic against a plain reference written from its specification, on random inputs."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from xlner.project import PRESETS
from xlner.project.heuristic import aligned_runs, has_mark_token, heuristic_sources, project_heuristic, target_links
from xlner.types import Span

#: Words, punctuation, combining marks (alone and stacked) and non-Latin-1 letters.
TOKENS = ["a", "Bé", ",", ".", "(", "...", "\u0300", "\u0323\u0300", "ọ", "б", "ł", "U.S.", "-"]


def punct(token: str) -> bool:
    return bool(token) and all(unicodedata.category(c).startswith("P") for c in token)


def mark(token: str) -> bool:
    return bool(token) and all(unicodedata.category(c).startswith("M") for c in token)


def reference(spans, tgt_len, alignment, tokens, opts):
    """The heuristic as its docstrings describe it, one step at a time, nothing precomputed."""
    starts = list(range(tgt_len))
    if opts["glue_marks"] and tokens is not None:
        starts = [j for j, t in enumerate(tokens) if j == 0 or not mark(t)]
        word_of = [sum(1 for s in starts if s <= j) - 1 for j in range(tgt_len)]
        alignment = {(i, word_of[j]) for i, j in alignment if 0 <= j < tgt_len}
        tokens = ["".join(tokens[a:b]) for a, b in zip(starts, starts[1:] + [tgt_len])]
    n = len(starts)
    linked = {(i, j) for i, j in alignment if 0 <= j < n}
    if opts["collisions"] == "skip":
        order = sorted(range(len(spans)), key=lambda k: (spans[k].end - spans[k].start, spans[k].start))
    else:
        order = list(range(len(spans)))
    out: list[tuple[Span, int]] = []
    for k in order:
        e = spans[k]
        words = sorted({j for i, j in linked if e.start <= i < e.end})
        if opts["ignore_punctuation_links"] and tokens is not None:
            words = [j for j in words if not punct(tokens[j])]
        runs: list[list[int]] = []
        for j in words:
            if runs and runs[-1][1] == j:
                runs[-1][1] += 1
            else:
                runs.append([j, j + 1])
        if opts["drop_punctuation_runs"] and tokens is not None:
            runs = [r for r in runs if not all(punct(tokens[j]) for j in range(*r))]
        first = {j for i, j in linked if i == e.start} if opts["merge_only_if_not_first_word_aligned"] else set()
        merged: list[list[int]] = []
        for r in runs:
            if merged and r[0] - merged[-1][1] <= opts["merge_distance"] and r[0] not in first:
                merged[-1][1] = r[1]
            else:
                merged.append(r)
        merged = [r for r in merged if (r[1] - r[0]) / (e.end - e.start) > opts["length_ratio_threshold"]]
        if opts["top_k"] is not None:
            sign = -1 if opts["keep"] == "longest" else 1
            merged = sorted(merged, key=lambda r: (sign * (r[1] - r[0]), r[0]))[: opts["top_k"]]
        for a, b in merged:
            new, source = Span(a, b, e.label), k
            if opts["collisions"] == "skip":
                if not any(old.overlaps(new) for old, _ in out):
                    out.append((new, source))
                continue
            while any(old.label == new.label and old.overlaps(new) for old, _ in out):
                pos = next(p for p, (old, _) in enumerate(out) if old.label == new.label and old.overlaps(new))
                old, src = out.pop(pos)
                new, source = Span(min(old.start, new.start), max(old.end, new.end), new.label), min(source, src)
            clashing = [(old, src) for old, src in out if old.overlaps(new)]
            if all(len(old) <= len(new) for old, _ in clashing):
                out = [(old, src) for old, src in out if not old.overlaps(new)] + [(new, source)]
    ends = starts[1:] + [tgt_len]
    return sorted((Span(starts[s.start], ends[s.end - 1], s.label), k) for s, k in out)


@st.composite
def instances(draw):
    n_src = draw(st.integers(1, 6))
    tgt_len = draw(st.integers(1, 8))
    spans = []
    for _ in range(draw(st.integers(0, 3))):
        a = draw(st.integers(0, n_src - 1))
        spans.append(Span(a, draw(st.integers(a + 1, min(n_src, a + 3))), draw(st.sampled_from(["PER", "LOC"]))))
    pairs = st.tuples(st.integers(0, n_src - 1), st.integers(-1, tgt_len + 1))
    alignment = frozenset(draw(st.lists(pairs, max_size=12)))
    tokens = draw(st.one_of(st.none(), st.lists(st.sampled_from(TOKENS), min_size=tgt_len, max_size=tgt_len)))
    opts = {
        "merge_distance": draw(st.integers(0, 2)),
        "merge_only_if_not_first_word_aligned": draw(st.booleans()),
        "length_ratio_threshold": draw(st.sampled_from([0.0, 0.5, 0.8])),
        "top_k": draw(st.sampled_from([None, 0, 1, 2])),
        "keep": draw(st.sampled_from(["longest", "shortest"])),
        "drop_punctuation_runs": draw(st.booleans()),
        "ignore_punctuation_links": draw(st.booleans()),
        "glue_marks": draw(st.booleans()),
        "collisions": draw(st.sampled_from(["skip", "published"])),
    }
    return spans, tgt_len, alignment, tokens, opts


@settings(max_examples=1000, deadline=None)
@given(instances())
def test_heuristic_equals_the_reference(instance):
    spans, tgt_len, alignment, tokens, opts = instance
    expected = reference(spans, tgt_len, alignment, tokens, opts)
    assert heuristic_sources(spans, tgt_len, alignment, tgt_tokens=tokens, **opts) == expected
    assert project_heuristic(spans, tgt_len, iter(alignment), tgt_tokens=tokens, **opts) == [s for s, _ in expected]


@settings(max_examples=300, deadline=None)
@given(instances(), st.sampled_from(["garcia2022", "politov2025"]))
def test_presets_equal_the_reference(instance, preset):
    spans, tgt_len, alignment, tokens, _ = instance
    opts = {"glue_marks": True, "collisions": "skip", **dict(PRESETS[preset])}
    expected = [s for s, _ in reference(spans, tgt_len, alignment, tokens, opts)]
    assert project_heuristic(spans, tgt_len, alignment, tgt_tokens=tokens, **dict(PRESETS[preset])) == expected


@settings(max_examples=300, deadline=None)
@given(instances())
def test_aligned_runs_equal_the_reference(instance):
    spans, tgt_len, alignment, tokens, opts = instance
    links = target_links(alignment, tgt_len)
    opts = dict(opts, glue_marks=False, collisions="skip", top_k=None, length_ratio_threshold=0.0)
    for span in spans:
        runs = aligned_runs(
            span.start,
            span.end,
            links,
            merge_distance=opts["merge_distance"],
            merge_only_if_not_first_word_aligned=opts["merge_only_if_not_first_word_aligned"],
            tgt_tokens=tokens,
            drop_punctuation_runs=opts["drop_punctuation_runs"],
            ignore_punctuation_links=opts["ignore_punctuation_links"],
        )
        alone = reference([Span(span.start, span.end, "X")], tgt_len, alignment, tokens, opts)
        assert runs == [(s.start, s.end) for s, _ in alone]


@given(st.lists(st.sampled_from(TOKENS + ["", "\u0301b", "ẹ\u0300"]), max_size=6))
def test_has_mark_token_is_any_mark_only_token(tokens):
    assert has_mark_token(tokens) == any(mark(t) for t in tokens)


def test_ties_and_one_pass_alignments():
    # the same source span twice: the earlier entity wins the collision, whatever its label
    twice = [Span(0, 1, "PER"), Span(0, 1, "LOC")]
    assert heuristic_sources(twice, 2, {(0, 1)}) == [(Span(1, 2, "PER"), 0)]
    # the shorter entity wins even when it comes later and the longer one projects first
    spans = [Span(0, 2, "ORG"), Span(2, 3, "PER")]
    assert project_heuristic(spans, 3, {(0, 0), (1, 1), (2, 1)}) == [Span(1, 2, "PER")]
    # an iterator of links is read once, also with the first-word option
    links = [(0, 0), (0, 2)]
    opts = {"merge_only_if_not_first_word_aligned": True, "top_k": None}
    assert project_heuristic([Span(0, 1, "X")], 3, iter(links), **opts) == [Span(0, 1, "X"), Span(2, 3, "X")]


def test_bench_times_the_heuristic_against_the_published_steps():
    from xlner.bench import solvers as bench
    from xlner.types import SentencePair

    pairs = [
        SentencePair(["Prodi", "spoke"], ["Herr", "Prodi", "sprach", "."], [Span(0, 1, "PER")], frozenset({(0, 1)})),
        SentencePair(["Yes"], ["Ja"], [], frozenset({(0, 0)})),
    ]
    assert bench.published_heuristic_tags(*bench.published_inputs(pairs)[0]) == ["O", "B-PER", "O", "O"]
    times = bench.heuristic_times(pairs, repeat=2)
    assert set(times) == {"pure", "api", "published", "published+links", "same"} and times["same"] == 1.0
    assert all(times[k] > 0 for k in ("pure", "api", "published", "published+links"))
