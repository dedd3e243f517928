"""The "encoder" score: cosine of mean word vectors, with a hand-made encoder and a tiny random BERT."""

from __future__ import annotations

import numpy as np
import pytest

from xlner.errors import XlnerError
from xlner.project import project_detailed
from xlner.project.candidates import Candidates, generate_candidates
from xlner.registry import registry
from xlner.types import SentencePair, Span

VOCAB = {"Obama": 0, "Barack": 1, "Paris": 2, "Kano": 3, "ya": 4, "visited": 4, "ziyarci": 5}


class OneHotEncoder:
    """Word vectors = one-hot of the word's class in VOCAB (dimension 6); counts its calls."""

    def __init__(self):
        self.calls: list[list[str]] = []

    def embed_words(self, sentences):
        out = []
        for words in sentences:
            self.calls.append(list(words))
            v = np.zeros((len(words), 6), dtype=np.float32)
            for i, w in enumerate(words):
                v[i, VOCAB.get(w, 5)] = 1.0
            out.append(v)
        return out


def _pairs():
    return [
        SentencePair(
            "Barack Obama visited Paris".split(),
            "Obama Barack ya Paris Kano".split(),
            [Span(0, 2, "PER"), Span(3, 4, "LOC")],
            frozenset(),
        ),
        SentencePair("Barack Obama visited Paris".split(), "Kano ziyarci".split(), [Span(3, 4, "LOC")], frozenset()),
    ]


def test_cosine_of_mean_vectors_and_each_sentence_embedded_once():
    encoder = OneHotEncoder()
    scorer = registry.scorers.create("encoder", model=encoder)
    pairs = _pairs()
    cands = [Candidates.from_ranges([(0, 2), (0, 1), (3, 4), (2, 4)]), Candidates.from_ranges([(0, 1), (0, 2)])]
    got = scorer.score(pairs, cands)
    assert [m.shape for m in got] == [(2, 4), (1, 2)]
    assert cands[0].spans() == [(0, 1), (0, 2), (2, 4), (3, 4)]
    np.testing.assert_allclose(got[0][0], [np.sqrt(0.5), 1.0, 0.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(got[0][1], [0.0, 0.0, np.sqrt(0.5), 1.0], atol=1e-9)
    np.testing.assert_allclose(got[1][0], [0.0, 0.0], atol=1e-9)
    assert len(encoder.calls) == 3  # one source sentence (shared) and two targets


def test_batched_equals_one_by_one():
    scorer = registry.scorers.create("encoder", model=OneHotEncoder())
    pairs = _pairs()
    cands = generate_candidates(pairs, max_words=3)
    batched = scorer.score(pairs, cands)
    for pair, cand, matrix in zip(pairs, cands, batched):
        np.testing.assert_allclose(scorer.score([pair], [cand])[0], matrix, atol=1e-12)


def test_tiny_hf_encoder_through_project_options(tmp_path):
    pytest.importorskip("transformers")
    from tiny_models import tiny_token_classifier

    path = str(tiny_token_classifier(tmp_path))
    pairs = [SentencePair(p.src_tokens, p.tgt_tokens, p.src_spans, frozenset({(0, 0)})) for p in _pairs()]
    results = project_detailed(
        pairs, "ilp", weights={"encoder": 1.0}, encoder=path, threshold=0.0, scorer_options={"encoder": {"layer": -1}}
    )
    for pair, result in zip(pairs, results):
        assert all(0 <= s.start < s.end <= len(pair.tgt_tokens) for s in result.spans)
        assert all(0.0 <= x <= 1.0 for x in result.scores)
    scorer = registry.scorers.create("encoder", model=f"hf:{path}", layer=-1)
    direct = scorer.score(pairs, [Candidates.from_ranges([(0, 1), (0, 2)])] * 2)
    assert direct[0].shape == (2, 2) and (direct[0] >= 0).all() and (direct[0] <= 1).all()


def test_missing_encoder_is_a_clear_error():
    with pytest.raises(XlnerError, match="encoder="):
        registry.scorers.create("encoder")
