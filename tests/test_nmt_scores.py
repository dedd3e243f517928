"""The "nmt" score: forced decoding with tiny random M2M-100, NLLB and Marian models."""

from __future__ import annotations

import numpy as np
import pytest

from xlner.errors import XlnerError
from xlner.project.candidates import Candidates, generate_candidates
from xlner.project.scorers.nmt import ForcedDecoder, load_forced_decoder
from xlner.registry import registry
from xlner.types import SentencePair, Span

pytest.importorskip("transformers")

ITEMS = [
    ("Barack Obama", "Barack Obama"),
    ("Paris", "Kano a ranar"),
    ("Angela Merkel", "ya ziyarci Kano a ranar Litinin ."),
    ("Paris", "Kano"),
    ("Microsoft and Google", "Nairobi"),
]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from tiny_models import tiny_m2m100, tiny_marian, tiny_nllb

    folder = tmp_path_factory.mktemp("mt")
    return {"m2m": str(tiny_m2m100(folder)), "nllb": str(tiny_nllb(folder)), "marian": str(tiny_marian(folder))}


LANGS = {"m2m": ("en", "ha"), "nllb": ("eng", "hau"), "marian": (None, None)}


def _reference(decoder: ForcedDecoder, src: str, tgt: str) -> float:
    """Mean log-probability from one plain (unbatched) forward pass with ``labels``."""
    import torch

    tok, net = decoder.tokenizer, decoder.net
    enc = tok(src, text_target=tgt, return_tensors="pt")
    with torch.no_grad():
        logits = net(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"], labels=enc["labels"]).logits
    logp = logits.log_softmax(-1)[0].gather(-1, enc["labels"][0][:, None])[:, 0]
    skip = 0 if decoder.family == "marian" else 1
    return float(logp[skip:].mean())


@pytest.mark.parametrize("family", ["m2m", "nllb", "marian"])
def test_forced_decoding_matches_a_plain_forward_pass_in_any_batch_size(models, family):
    src, tgt = LANGS[family]
    batched = ForcedDecoder(models[family], batch_size=3)
    assert batched.family == family
    got = batched.mean_logprobs(ITEMS, src, tgt)
    batched._set_languages(src, tgt)
    ref = np.array([_reference(batched, a, b) for a, b in ITEMS])
    np.testing.assert_allclose(got, ref, atol=1e-5)
    single = ForcedDecoder(models[family], batch_size=1)
    np.testing.assert_allclose(
        np.concatenate([single.mean_logprobs([item], src, tgt) for item in ITEMS]), got, atol=1e-5
    )
    assert np.all(got < 0)


def test_encoder_runs_once_per_distinct_source_and_results_are_cached(models, monkeypatch):
    decoder = ForcedDecoder(models["m2m"], batch_size=2)
    calls = []
    encoder = decoder.net.get_encoder()
    original = encoder.forward

    def counting(*args, **kwargs):
        calls.append(kwargs["input_ids"].shape[0])
        return original(*args, **kwargs)

    monkeypatch.setattr(encoder, "forward", counting)
    decoder.mean_logprobs(ITEMS, "en", "ha")
    assert sum(calls) == len({a for a, _ in ITEMS})  # 4 distinct inputs for 5 items
    calls.clear()
    decoder.mean_logprobs(ITEMS[:2], "en", "ha")
    assert calls == []  # cached
    decoder.mean_logprobs(ITEMS[:1], "ha", "en")  # another direction is another key
    assert sum(calls) == 1


def _pairs() -> list[SentencePair]:
    return [
        SentencePair(
            "Barack Obama visited Paris .".split(),
            "Barack Obama ya ziyarci Kano .".split(),
            [Span(0, 2, "PER"), Span(3, 4, "LOC")],
            frozenset({(0, 0), (1, 1), (3, 4)}),
        ),
        SentencePair(
            "Angela Merkel".split(), "Angela Merkel a ranar Litinin".split(), [Span(0, 2, "PER")], frozenset()
        ),
    ]


def test_scorer_shapes_directions_and_batching(models):
    load_forced_decoder.cache_clear()
    pairs = _pairs()
    cands = generate_candidates(pairs, max_words=3)
    both = registry.scorers.create("nmt", model=models["m2m"], src_lang="en", tgt_lang="ha", batch_size=16).score(
        pairs, cands
    )
    assert [m.shape for m in both] == [(2, len(cands[0])), (1, len(cands[1]))]
    assert all(((m > 0) & (m <= 1)).all() for m in both)
    fwd = registry.scorers.create("nmt", model=models["m2m"], src_lang="en", tgt_lang="ha", direction="forward").score(
        pairs, cands
    )
    bwd = registry.scorers.create("nmt", model=models["m2m"], src_lang="en", tgt_lang="ha", direction="backward").score(
        pairs, cands
    )
    for b, f, k in zip(both, fwd, bwd):
        np.testing.assert_allclose(b, (f + k) / 2, atol=1e-7)
    e, c = 0, cands[0].spans().index((0, 2))
    decoder = load_forced_decoder(models["m2m"], "cpu", 16)
    expected = np.exp(decoder.mean_logprobs([("Barack Obama", "Barack Obama")], "en", "ha"))[0]
    assert fwd[0][e, c] == pytest.approx(expected)
    one = registry.scorers.create("nmt", model=models["m2m"], src_lang="en", tgt_lang="ha", batch_size=1)
    for pair, cand, matrix in zip(pairs, cands, both):
        np.testing.assert_allclose(one.score([pair], [cand])[0], matrix, atol=1e-5)


def test_languages_are_required_for_many_to_many_models(models):
    scorer = registry.scorers.create("nmt", model=models["nllb"])
    with pytest.raises(XlnerError, match="src_lang= and tgt_lang="):
        scorer.score(_pairs(), [Candidates.from_ranges([(0, 1)])] * 2)
    marian = registry.scorers.create("nmt", model=models["marian"])
    assert marian.score(_pairs(), [Candidates.from_ranges([(0, 1)])] * 2)[0].shape == (2, 1)
    with pytest.raises(XlnerError, match="nmt_model"):
        registry.scorers.create("nmt")
    with pytest.raises(XlnerError, match="direction"):
        registry.scorers.create("nmt", model=models["marian"], direction="sideways")


@pytest.mark.shared_data
def test_scoring_benchmark_runs_on_a_few_sentences(shared_data, capsys):
    from xlner.bench.scoring import main

    main(["--sentences", "3", "--max-words", "2", "--reference-pairs", "6", "--no-write", "--threads", "1"])
    table = capsys.readouterr().out
    assert "| ner (target NER model) | 3 |" in table and "| nmt (forced decoding, both directions) | 3 |" in table
