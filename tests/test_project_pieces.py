"""Long targets cut into pieces for candidate matching (xlner.project.pieces)."""

from __future__ import annotations

import random

import pytest

from xlner.project import project, project_detailed
from xlner.project.candidates import LONG_TARGET
from xlner.project.explain import project_explained
from xlner.project.pieces import cut_points, iter_pieces, plan_pieces
from xlner.types import SentencePair, Span


def short_pair(k: int) -> SentencePair:
    """'Anna{k} met Bob{k} in Paris{k} .' -> 'Gestern traf Anna{k} Bob{k} in Paris{k} .' (word links)."""
    src = [f"Anna{k}", "met", f"Bob{k}", "in", f"Paris{k}", "."]
    tgt = ["Gestern", "traf", f"Anna{k}", f"Bob{k}", "in", f"Paris{k}", "."]
    links = {(0, 2), (1, 1), (2, 3), (3, 4), (4, 5), (5, 6)}
    return SentencePair(src, tgt, [Span(4, 5, "LOC"), Span(0, 1, "PER"), Span(2, 3, "PER")], frozenset(links))


def joined(pairs: list[SentencePair]) -> SentencePair:
    """The pairs end to end as one pair (spans and links shifted along)."""
    src: list[str] = []
    tgt: list[str] = []
    spans: list[Span] = []
    links: set[tuple[int, int]] = set()
    for p in pairs:
        spans += [Span(s.start + len(src), s.end + len(src), s.label) for s in p.src_spans]
        links |= {(i + len(src), j + len(tgt)) for i, j in p.alignment or ()}
        src += p.src_tokens
        tgt += p.tgt_tokens
    return SentencePair(src, tgt, spans, frozenset(links), id="long")


def long_pair(n_sentences: int = 200) -> tuple[SentencePair, list[SentencePair]]:
    parts = [short_pair(k) for k in range(n_sentences)]
    return joined(parts), parts


def test_targets_up_to_the_limit_are_never_cut():
    pair, _ = long_pair(LONG_TARGET // 7)  # 7 target words a sentence: at most LONG_TARGET words
    assert len(pair.tgt_tokens) <= LONG_TARGET
    assert cut_points(pair) == [] and plan_pieces([pair]) is None


def test_pieces_put_back_together_give_the_pair():
    pair, _ = long_pair()
    pairs = [pair, short_pair(0)]
    where = plan_pieces(pairs)
    assert where is not None
    pieces = list(iter_pieces(pairs, where))
    assert [w.pair for w in where].count(1) == 1  # the short pair is one piece
    own = [(p, w) for p, w in zip(pieces, where) if w.pair == 0]
    assert len(own) > 1
    tokens: list[str] = []
    spans, links = set(), set()
    for k, (piece, w) in enumerate(own):
        assert w.tgt_offset == len(tokens) and w.tgt_end == w.tgt_offset + len(piece.tgt_tokens)
        if k < len(own) - 1:
            assert piece.tgt_tokens[-1] == "." and piece.src_tokens[-1] == "."  # one sentence a piece
        tokens += piece.tgt_tokens
        spans |= {(w.entities[e], s.start + w.src_offset, s.end + w.src_offset) for e, s in enumerate(piece.src_spans)}
        links |= {(i + w.src_offset, j + w.tgt_offset) for i, j in piece.alignment or ()}
    assert tokens == pair.tgt_tokens
    assert spans == {(e, s.start, s.end) for e, s in enumerate(pair.src_spans)}
    assert links == set(pair.alignment or ())


def test_no_cut_where_a_link_or_an_entity_crosses():
    pair, _ = long_pair()
    crossing = SentencePair(
        pair.src_tokens, pair.tgt_tokens, pair.src_spans, pair.alignment | {(0, len(pair.tgt_tokens) - 1)}
    )
    assert cut_points(crossing) == []  # the first source word links to the last target word
    cuts = cut_points(pair)
    i, _ = cuts[0]
    across = SentencePair(
        pair.src_tokens, pair.tgt_tokens, [*pair.src_spans, Span(i - 1, i + 1, "MISC")], pair.alignment
    )
    assert i not in [c for c, _ in cut_points(across)]


@pytest.mark.parametrize("method", ["ilp", "greedy"])
def test_a_long_pair_projects_as_its_sentences_do(method: str):
    pair, parts = long_pair()
    expected: list[Span] = []
    offset = 0
    for part, spans in zip(parts, project(parts, method)):
        expected += [Span(s.start + offset, s.end + offset, s.label) for s in spans]
        offset += len(part.tgt_tokens)
    (result,) = project_detailed([pair], method)
    assert result.spans == sorted(expected, key=lambda s: (s.start, s.end)) and len(expected) == 3 * len(parts)
    for span, e in zip(result.spans, result.sources):  # sources index the pair's own (unsorted) entities
        entity = pair.src_spans[e]
        assert pair.src_tokens[entity.start] == pair.tgt_tokens[span.start] and entity.label == span.label
    assert result.confidence == pytest.approx(1.0)


def test_details_of_a_long_pair_match_its_projection():
    pair, _ = long_pair()
    drop = {(i, j) for i, j in pair.alignment or () if pair.src_tokens[i] == "Bob100"}  # Bob100: no link, no copy
    tgt = ["Xyz" if t == "Bob100" else t for t in pair.tgt_tokens]
    pair = SentencePair(pair.src_tokens, tgt, pair.src_spans, (pair.alignment or frozenset()) - drop, id="long")
    results, (record,) = project_explained([pair], "ilp")
    spans = [(d["start"], d["end"], d["label"]) for d in record["spans"]]
    assert spans == [(s.start, s.end, s.label) for s in results[0].spans]
    for d in record["spans"]:
        entity = pair.src_spans[d["source"]]
        assert (d["src_start"], d["src_end"]) == (entity.start, entity.end)
        assert d["text"] == " ".join(pair.tgt_tokens[d["start"] : d["end"]])
        inside = [
            [i, j] for i, j in pair.alignment or () if entity.start <= i < entity.end and d["start"] <= j < d["end"]
        ]
        assert d["links"] == sorted(inside) and inside
    (missing,) = record["unprojected"]
    assert pair.src_tokens[missing["src_start"]] == "Bob100" and missing["reason"] == "below threshold"
    candidate = missing["candidate"]  # the best candidate under the threshold, at its place in the whole target
    assert candidate["text"] == " ".join(pair.tgt_tokens[candidate["start"] : candidate["end"]])
    assert 100 * 7 <= candidate["start"] < candidate["end"] <= 101 * 7 and candidate["score"] < 0.2  # its sentence
    assert record["src_spans"] == [[s.start, s.end, s.label] for s in pair.src_spans]


def uncut_long_pair(seed: int, n: int = 3000) -> SentencePair:
    """A target of ``n`` words without clause ends (so no cut), entities linked near and far, names copied."""
    rng = random.Random(seed)
    src = [f"w{k}" for k in range(40)]
    tgt = [f"t{rng.randrange(500)}" for _ in range(n)]
    spans = [Span(2, 4, "PER"), Span(10, 11, "LOC"), Span(20, 23, "ORG"), Span(30, 31, "MISC")]
    links = {(k, rng.randrange(n)) for k in range(40) if k != 22}
    for span in spans:
        at = rng.randrange(n - 5)
        for i in range(span.start, span.end):
            links.add((i, at + i - span.start))
            tgt[rng.randrange(n)] = src[i]  # a copy of the word somewhere, near or far
    comma = rng.randrange(n)
    tgt[comma] = ","  # an ORG word's one link goes to a word no candidate covers
    return SentencePair(src, tgt, spans, frozenset({(i, j) for i, j in links if i != 22} | {(22, comma)}))


@pytest.mark.parametrize("options", [{}, {"preset": "politov2025-ilp"}, {"alignment_mode": "distinct"}])
def test_long_targets_score_on_the_covered_words_only(monkeypatch, options):
    """Word matrices of a long target keep only the words some candidate covers, with the same results."""
    import xlner.project.scores as scores

    pairs = [uncut_long_pair(seed) for seed in range(3)] + [short_pair(1)]
    assert all(cut_points(p) == [] for p in pairs)
    compact = project_detailed(pairs, "ilp", **options)
    monkeypatch.setattr(scores, "LONG_TARGET", 10**9)  # every word a column, as for short targets
    full = project_detailed(pairs, "ilp", **options)
    assert [r.spans for r in compact] == [r.spans for r in full] and any(r.spans for r in compact[:3])
    for a, b in zip(compact, full):
        assert a.scores == pytest.approx(b.scores) and a.confidence == pytest.approx(b.confidence)
