"""Throughput of the model-based projection scores ("ner", "nmt"): batched vs one pair at a time.

    xlner bench scoring [--sentences 100] [--max-words 3] [--reference-pairs 300] [--threads 2]
                        [--ner-model PATH] [--nmt-model PATH] [--device cpu] [--no-write]

Gold English entities of the first ``--sentences`` Europarl-NER test sentences
(../shared/data/europarl-ner) are paired with every n-gram (up to
``--max-words`` words) of the human German sentence; each score is computed
for all pairs with xlner's batched scorer (one NER forward pass per sentence;
MT encoder once per distinct text, padded decoder batches), and, as the
baseline in the same process, one pair at a time with a fresh model state
(no cache: one forward pass per pair, what a per-pair loop does) on the first
``--reference-pairs`` pairs. Without ``--ner-model``/``--nmt-model`` tiny
random models are built (tests/tiny_models.py): those numbers are tiny-model
CPU numbers, useful only as a ratio, not comparable in absolute terms with
real models (the published implementation took 700-1,500 s for the 799
sentences with real models on a GPU). Table written to docs/benchmarks.md,
section "scoring".
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from xlner.bench.report import add_output_options, command_line, markdown_table, publish
from xlner.data import shared_data_dir
from xlner.types import SentencePair


def load_pairs(n: int) -> list[SentencePair]:
    """The first ``n`` Europarl-NER en/de test pairs with entities (no alignment: n-gram candidates only)."""
    from xlner.io import read_conll

    data = shared_data_dir() / "europarl-ner"
    en = read_conll(data / "en.test.conll").sentences
    de = read_conll(data / "de.test.conll").sentences
    pairs = [SentencePair(s.tokens, t.tokens, list(s.spans), frozenset()) for s, t in zip(en, de) if s.spans]
    return pairs[:n]


def tiny_models(folder: Path) -> tuple[str, str]:
    """Build the tiny random NER and M2M-100 models of tests/tiny_models.py into ``folder``."""
    tests = Path(__file__).resolve().parents[3] / "tests"
    sys.path.insert(0, str(tests))
    try:
        from tiny_models import tiny_m2m100, tiny_token_classifier
    finally:
        sys.path.remove(str(tests))
    return str(tiny_token_classifier(folder)), str(tiny_m2m100(folder))


def _flat_pairs(pairs: list[SentencePair], candidates: list, limit: int) -> list[tuple[SentencePair, Any]]:
    """The first ``limit`` (entity, candidate) pairs, each as a one-entity, one-candidate problem."""
    from xlner.project.candidates import Candidates

    out = []
    for pair, cands in zip(pairs, candidates):
        for span in pair.src_spans:
            for a, b in cands.spans():
                one = SentencePair(pair.src_tokens, pair.tgt_tokens, [span], pair.alignment)
                out.append((one, Candidates.from_ranges([(a, b)])))
                if len(out) >= limit:
                    return out
    return out


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def run(args: argparse.Namespace) -> list[list[object]]:
    from xlner.project.candidates import generate_candidates
    from xlner.project.scorers.ner import NerScorer
    from xlner.project.scorers.nmt import NmtScorer

    pairs = load_pairs(args.sentences)
    candidates = generate_candidates(pairs, max_words=args.max_words, aligned_subranges=False, runs=False)
    n_pairs = sum(len(p.src_spans) * len(c) for p, c in zip(pairs, candidates))
    with tempfile.TemporaryDirectory() as tmp:
        ner_path, nmt_path = args.ner_model, args.nmt_model
        if not (ner_path and nmt_path):
            tiny_ner, tiny_nmt = tiny_models(Path(tmp))
            ner_path, nmt_path = ner_path or tiny_ner, nmt_path or tiny_nmt
        reference = _flat_pairs(pairs, candidates, args.reference_pairs)
        rows = []

        ner = NerScorer(ner_path, device=args.device, batch_size=args.ner_batch_size)
        ner.model._cache.clear()
        batched_s, batched = timed(lambda: ner.score(pairs, candidates))

        def ner_one_by_one() -> list[float]:
            values = []
            for one, cand in reference:
                ner.model._cache.clear()  # a per-pair loop runs the model for every pair
                values.append(float(ner.score([one], [cand])[0][0, 0]))
            return values

        ref_s, ref_values = timed(ner_one_by_one)
        _check(batched, pairs, candidates, reference, ref_values)
        rows.append(_row("ner (target NER model)", len(pairs), n_pairs, batched_s, len(reference), ref_s))

        nmt = NmtScorer(nmt_path, src_lang="en", tgt_lang="de", device=args.device, batch_size=args.nmt_batch_size)
        nmt.decoder.cache.clear()
        batched_s, batched = timed(lambda: nmt.score(pairs, candidates))
        single = NmtScorer(nmt_path, src_lang="en", tgt_lang="de", device=args.device, batch_size=1)

        def nmt_one_by_one() -> list[float]:
            values = []
            for one, cand in reference:
                single.decoder.cache.clear()
                values.append(float(single.score([one], [cand])[0][0, 0]))
            return values

        ref_s, ref_values = timed(nmt_one_by_one)
        _check(batched, pairs, candidates, reference, ref_values)
        rows.append(
            _row("nmt (forced decoding, both directions)", len(pairs), n_pairs, batched_s, len(reference), ref_s)
        )
    return rows


def _check(batched: list[np.ndarray], pairs, candidates, reference, ref_values: list[float]) -> None:
    """The one-by-one values must equal the batched ones (same pairs, same order)."""
    flat = [
        m[e, k] for m, p, c in zip(batched, pairs, candidates) for e in range(len(p.src_spans)) for k in range(len(c))
    ]
    got = np.array(flat[: len(ref_values)])
    if not np.allclose(got, ref_values, atol=1e-5):
        raise AssertionError(f"batched and one-by-one scores differ by up to {np.abs(got - ref_values).max():.2e}")


def _row(name: str, sentences: int, pairs: int, seconds: float, ref_pairs: int, ref_seconds: float) -> list[object]:
    rate, ref_rate = pairs / seconds, ref_pairs / ref_seconds
    return [
        name,
        sentences,
        pairs,
        f"{seconds:.2f}",
        f"{rate:,.0f}",
        ref_pairs,
        f"{ref_rate:,.0f}",
        f"{rate / ref_rate:.0f}x",
    ]


HEADER = [
    "score",
    "sentences",
    "pairs",
    "batched s",
    "batched pairs/s",
    "one-by-one pairs",
    "one-by-one pairs/s",
    "speed-up",
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="xlner bench scoring", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=100)
    parser.add_argument("--max-words", type=int, default=3)
    parser.add_argument("--reference-pairs", type=int, default=300)
    parser.add_argument("--ner-model", default=None)
    parser.add_argument("--nmt-model", default=None)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--ner-batch-size", type=int, default=32)
    parser.add_argument("--nmt-batch-size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    add_output_options(parser)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    rows = run(args)
    table = markdown_table(HEADER, rows)
    models = "real models" if args.ner_model and args.nmt_model else "tiny random models (tests/tiny_models.py)"
    text = "\n".join(
        [
            (
                f"`{command_line('scoring', argv)}` on {platform.processor() or platform.machine()}, device {args.device}, "
                f"torch threads {torch.get_num_threads()}, {models}."
            ),
            "",
            (
                "Europarl-NER en->de test: gold English entities x every German n-gram (up to "
                f"{args.max_words} words). *Batched* is xlner's scorer on all pairs (NER: one forward pass per sentence; "
                "NMT: encoder once per distinct text, padded decoder batches, both directions); *one-by-one* runs the same "
                "scorer on one pair at a time with its cache cleared (a model call per pair), in the same process, on the "
                "first pairs; both give the same values (checked to 1e-5)."
            ),
            "",
            table,
            "",
            (
                "These are tiny-model CPU numbers: only the speed-up is meaningful; absolute throughput with real models "
                "(XLM-R large NER, NLLB-200 3.3B) is far lower and not comparable. For scale, the published implementation "
                "(Politov et al. 2025) took 700-1,500 s for the 799 sentences with real models."
            ),
        ]
    )
    publish("scoring", "Model-based projection scores: throughput (scoring)", text, args)


if __name__ == "__main__":
    main()
