"""Translate-train against T-Projection's silver data: same translations, same tagger, MasakhaNER 2.0 test.

    xlner bench translate-train [--langs hau ibo swa yor] [--seeds 0 1 2] [--cache-dir DIR] [--max-train N]

For each language, ../shared/data/translate-train/<lang> holds CoNLL-2003
English train sentences with gold PER/ORG/LOC (``en.conll``) and their
machine translation (``tgt.conll``) with the labels T-Projection
(Garcia-Ferrero et al. 2023) projected onto it. xlner projects the English
gold onto the same target tokens (T-Projection's labels are never read into
the projection) with offline components: eflomal (once per seed) aligned
together with the en-<lang> text of ../shared/data/parallel, the offline
recipe's symmetrization, then the ILP ``offline`` preset, the heuristic (``garcia2022``) and the ILP silver
filtered by confidence. One CRF (:func:`xlner.downstream.train_crf`, same
settings) is trained per silver set and scored on MasakhaNER 2.0 test with
DATE->O. Tables (printed and written to docs/benchmarks.md, section
"translate-train"): test F1, paired bootstrap against T-Projection, agreement
of each silver set with T-Projection's, time per stage; plot
docs/translate_train.png.
"""

from __future__ import annotations

import argparse
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

from xlner.bench.links import describe_recipe, digest, seed_cell
from xlner.bench.report import (
    BENCHMARKS_MD,
    add_output_options,
    command_line,
    markdown_table,
    plots_wanted,
    publish,
)
from xlner.data import shared_data_dir
from xlner.errors import InputError
from xlner.io import read_conll
from xlner.metrics import evaluate_spans, paired_bootstrap
from xlner.recipe import BENCH_SEEDS
from xlner.tags import LabelMap
from xlner.types import Alignment, Sentence, SentencePair, Span

LANGS = ["hau", "ibo", "swa", "yor"]
EVAL_MAP = LabelMap.from_options(maps=["DATE=O"])
CRF_OPTIONS: dict[str, Any] = {"c1": 0.1, "c2": 0.1, "max_iterations": 100, "seed": 0}
#: Fixed before looking at any test score: keep ILP silver sentences whose confidence is at least this.
CONFIDENCE_THRESHOLD = 0.5
#: xlner projections: key -> (row name, method, options).
PROJECTIONS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "ilp": ("xlner ILP (offline preset)", "ilp", {"preset": "offline"}),
    "heuristic": ("xlner heuristic (garcia2022)", "heuristic", {"preset": "garcia2022"}),
}
FILTERED = "ilp-confident"
TPROJECTION = "t-projection"
#: Every silver set, in table order: key -> row name.
SYSTEMS: dict[str, str] = {
    "ilp": PROJECTIONS["ilp"][0],
    "heuristic": PROJECTIONS["heuristic"][0],
    FILTERED: f"xlner ILP, confidence >= {CONFIDENCE_THRESHOLD}",
    TPROJECTION: "T-Projection (published silver)",
}


@dataclass
class LanguageResult:
    """Everything measured for one language; ``f1`` / ``predictions`` / ``silver`` are keyed by :data:`SYSTEMS`."""

    lang: str
    pairs: int
    extra_pairs: int
    test_sentences: int
    english_spans: int
    seed: int = 0
    f1: dict[str, float] = field(default_factory=dict)
    silver_spans: dict[str, int] = field(default_factory=dict)
    silver_sentences: dict[str, int] = field(default_factory=dict)
    agreement: dict[str, tuple[float, float]] = field(default_factory=dict)  # (span F1, identical share)
    bootstrap: dict[str, tuple[float, float, float, float]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    f1_marks_attached: dict[str, float] = field(default_factory=dict)
    gold: list[list[Span]] = field(default_factory=list, repr=False)
    predictions: dict[str, list[list[Span]]] = field(default_factory=dict, repr=False)


def bench_cache(cache_dir: Path | None) -> Path:
    """Where this benchmark caches projections and CRF runs (``--cache-dir``, else $XLNER_CACHE or ~/.cache/xlner)."""
    from xlner.cache import default_cache_dir

    folder = (cache_dir or default_cache_dir()) / "bench-translate-train"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _spans_json(spans_of: Sequence[Sequence[Span]]) -> list[list[list[Any]]]:
    return [[[s.start, s.end, s.label] for s in spans] for spans in spans_of]


def _spans_from_json(data: list[list[list[Any]]]) -> list[list[Span]]:
    return [[Span(int(a), int(b), str(label)) for a, b, label in spans] for spans in data]


def load_pairs(
    lang: str, max_train: int | None = None, data_dir: Path | None = None
) -> tuple[list[Sentence], list[Sentence]]:
    """English gold sentences and T-Projection's target sentences (ids from ids.txt), the first ``max_train``."""
    folder = (data_dir or shared_data_dir()) / "translate-train" / lang
    english = read_conll(folder / "en.conll").sentences
    target = read_conll(folder / "tgt.conll").sentences
    ids = (folder / "ids.txt").read_text(encoding="utf-8").split()
    if not len(english) == len(target) == len(ids):
        raise InputError(
            f"{len(english)} English, {len(target)} target sentences and {len(ids)} ids: expected pairs", folder
        )
    for sentences in (english, target):
        for sentence, sentence_id in zip(sentences, ids):
            sentence.id = sentence_id
    return english[:max_train], target[:max_train]


def align(
    lang: str,
    english: Sequence[Sentence],
    target_tokens: Sequence[Sequence[str]],
    cache_dir: Path | None,
    extra: bool = True,
    seed: int = 0,
) -> tuple[list[Alignment], int, float]:
    """The offline recipe's alignments (with the en-``lang`` parallel text when ``extra``), extra pairs, seconds."""
    from xlner.bench.links import alignments_for

    pairs = [(s.tokens, list(t)) for s, t in zip(english, target_tokens)]
    alignments, seconds, n_extra = alignments_for(f"tt-{lang}", pairs, lang, seed, cache_dir, extra=extra)
    return alignments, n_extra, seconds


def _drop_overlaps(spans: Sequence[Span]) -> list[Span]:
    """Spans sorted by start, each overlapping an earlier one dropped (the CRF needs a tagging)."""
    kept: list[Span] = []
    for span in sorted(spans):
        if not any(span.overlaps(other) for other in kept):
            kept.append(span)
    return kept


def project_silver(
    english: Sequence[Sentence],
    target_tokens: Sequence[Sequence[str]],
    alignments: Sequence[frozenset],
    method: str,
    options: dict[str, Any],
    cache_dir: Path,
) -> tuple[list[list[Span]], list[float], float]:
    """xlner's projected spans and confidence per target sentence, and the seconds it took; cached."""
    import xlner.project
    from xlner.cache import StepCache, cached_call
    from xlner.project import project_detailed

    pairs = [
        SentencePair(list(s.tokens), list(t), list(s.spans), a) for s, t, a in zip(english, target_tokens, alignments)
    ]

    def compute() -> dict[str, Any]:
        started = time.perf_counter()
        results = project_detailed(pairs, method, **options)
        return {
            "spans": _spans_json([_drop_overlaps(r.spans) for r in results]),
            "confidence": [r.confidence for r in results],
            "seconds": time.perf_counter() - started,
        }

    inputs = [(p.src_tokens, p.tgt_tokens, _spans_json([p.src_spans]), sorted(p.alignment or ())) for p in pairs]
    cache = StepCache.open(cache_dir, "project", method, options, code=xlner.project)
    data = cached_call(compute, digest(inputs), cache=cache)
    return _spans_from_json(data["spans"]), data["confidence"], data["seconds"]


def train_and_tag(
    silver: Sequence[Sentence], test: Sequence[Sentence], cache_dir: Path, crf_options: dict[str, Any]
) -> tuple[list[list[Span]], float]:
    """Train the CRF on ``silver``, tag ``test``; predictions and training seconds, cached."""
    import xlner.downstream
    from xlner.cache import StepCache, cached_call
    from xlner.downstream import train_crf

    def compute() -> dict[str, Any]:
        started = time.perf_counter()
        tagger = train_crf(silver, progress=False, **crf_options)
        seconds = time.perf_counter() - started
        return {"predicted": _spans_json(tagger.tag([s.tokens for s in test])), "seconds": seconds}

    silver_key = [(s.tokens, _spans_json([s.spans])) for s in silver]
    cache = StepCache.open(cache_dir, "crf", "crf", crf_options, code=xlner.downstream)
    data = cached_call(compute, digest(silver_key, [s.tokens for s in test]), cache=cache)
    return _spans_from_json(data["predicted"]), data["seconds"]


def _is_mark(token: str) -> bool:
    return all(unicodedata.category(char).startswith("M") for char in token)


def attach_marks(sentence: Sentence) -> Sentence:
    """Glue tokens made only of combining marks (``"Wọ ́ n"`` -> ``"Wọ́n"``) to the token before; spans follow.

    The Yoruba and Igbo translations split diacritics off as tokens, the
    MasakhaNER test sets do not. Spans that come to overlap keep the first.
    """
    tokens: list[str] = []
    new_index: list[int] = []
    for token in sentence.tokens:
        if tokens and _is_mark(token):
            tokens[-1] += token
        else:
            tokens.append(token)
        new_index.append(len(tokens) - 1)
    spans = [Span(new_index[s.start], new_index[s.end - 1] + 1, s.label) for s in sentence.spans]
    return Sentence(tokens, _drop_overlaps(spans), sentence.id)


def silver_agreement(reference: Sequence[Sequence[Span]], other: Sequence[Sequence[Span]]) -> tuple[float, float]:
    """(span micro F1 of ``other`` against ``reference``, share of sentences with identical span sets)."""
    f1 = evaluate_spans(reference, other).micro.f1
    same = sum(set(a) == set(b) for a, b in zip(reference, other))
    return f1, same / len(reference) if reference else 1.0


def run_language(
    lang: str,
    cache_dir: Path,
    max_train: int | None = None,
    max_test: int | None = None,
    extra: bool = True,
    crf_options: dict[str, Any] | None = None,
    n_bootstrap: int = 1000,
    attach: bool = True,
    seed: int = 0,
) -> LanguageResult:
    """Align, project, train one CRF per silver set and score it on MasakhaNER 2.0 ``lang`` test (DATE->O).

    With ``attach``, silver sets with combining-mark tokens also train a CRF
    after :func:`attach_marks` (``f1_marks_attached``).
    """
    from xlner.datasets import load_dataset

    crf_options = dict(CRF_OPTIONS if crf_options is None else crf_options)
    english, target = load_pairs(lang, max_train)
    target_tokens = [t.tokens for t in target]  # T-Projection's labels stay out of xlner's projection
    test = load_dataset("masakhaner2", lang, "test", label_map=EVAL_MAP)[:max_test]
    alignments, n_extra, align_seconds = align(lang, english, target_tokens, cache_dir, extra, seed)
    cache_dir = bench_cache(cache_dir)
    result = LanguageResult(lang, len(english), n_extra, len(test), sum(len(s.spans) for s in english), seed)
    result.seconds[f"eflomal ({len(english):,} + {n_extra:,} extra pairs)"] = align_seconds

    silver: dict[str, list[Sentence]] = {TPROJECTION: target}
    for key, (name, method, options) in PROJECTIONS.items():
        spans, confidence, seconds = project_silver(english, target_tokens, alignments, method, options, cache_dir)
        result.seconds[f"projection: {name}"] = seconds
        silver[key] = [Sentence(t.tokens, s, t.id) for t, s in zip(target, spans)]
        if key == "ilp":
            silver[FILTERED] = [s for s, c in zip(silver[key], confidence) if c >= CONFIDENCE_THRESHOLD]

    gold = result.gold = [s.spans for s in test]
    predictions = result.predictions
    for key in SYSTEMS:
        sentences = silver[key]
        result.silver_sentences[key] = len(sentences)
        result.silver_spans[key] = sum(len(s.spans) for s in sentences)
        if key in PROJECTIONS:
            result.agreement[key] = silver_agreement([t.spans for t in target], [s.spans for s in sentences])
        predictions[key], seconds = train_and_tag(sentences, test, cache_dir, crf_options)
        result.seconds[f"CRF training: {SYSTEMS[key]}"] = seconds
        result.f1[key] = evaluate_spans(gold, predictions[key], EVAL_MAP).micro.f1
        attached = [attach_marks(s) for s in sentences] if attach else sentences
        if any(len(a.tokens) < len(s.tokens) for a, s in zip(attached, sentences)):
            predicted, _ = train_and_tag(attached, test, cache_dir, crf_options)
            result.f1_marks_attached[key] = evaluate_spans(gold, predicted, EVAL_MAP).micro.f1
    for key in SYSTEMS:
        if key != TPROJECTION:
            result.bootstrap[key] = paired_bootstrap(
                gold, predictions[key], predictions[TPROJECTION], n_samples=n_bootstrap, seed=0, label_map=EVAL_MAP
            )
    return result


def _sentence_counts(gold: Sequence[Sequence[Span]], predicted: Sequence[Sequence[Span]]):
    """Per test sentence (correct, gold, predicted) span counts after DATE->O, shape (n, 3)."""
    import numpy as np

    rows = []
    for gold_spans, predicted_spans in zip(gold, predicted):
        g, p = set(EVAL_MAP.apply(gold_spans)), set(EVAL_MAP.apply(predicted_spans))
        rows.append((len(g & p), len(g), len(p)))
    return np.array(rows, dtype=float).reshape(-1, 3)


def average_bootstrap(
    results: Sequence[LanguageResult], key: str, n_samples: int = 1000, seed: int = 0
) -> tuple[float, float, float, float]:
    """Paired bootstrap of the average over languages of F1(``key``) - F1(T-Projection).

    Each resample draws every language's test sentences with replacement
    (independently per language). Returns ``(delta, low, high, p_value)`` as
    :func:`xlner.metrics.paired_bootstrap` does (95% interval, one-sided p).
    """
    import numpy as np

    def f1(totals):
        correct, support, predicted = totals[..., 0], totals[..., 1], totals[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(predicted > 0, correct / predicted, 0.0)
            recall = np.where(support > 0, correct / support, 0.0)
            return np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)

    rng = np.random.default_rng(seed)
    observed, sampled = 0.0, np.zeros(n_samples)
    for r in results:
        a = _sentence_counts(r.gold, r.predictions[key])
        b = _sentence_counts(r.gold, r.predictions[TPROJECTION])
        observed += float(f1(a.sum(0)) - f1(b.sum(0))) / len(results)
        index = rng.integers(0, len(a), size=(n_samples, len(a)))
        sampled += (f1(a[index].sum(1)) - f1(b[index].sum(1))) / len(results)
    low, high = np.percentile(sampled, [2.5, 97.5])
    p_value = float(np.mean(sampled <= 0) if observed > 0 else np.mean(sampled >= 0))
    return observed, float(low), float(high), p_value


def significance(p_value: float) -> str:
    """``**`` for p < 0.01, ``*`` for p < 0.05, else nothing."""
    return "**" if p_value < 0.01 else "*" if p_value < 0.05 else ""


def _mark(tests: dict[str, tuple[float, float, float, float]], key: str) -> str:
    return significance(tests[key][3]) if key in tests else ""


def _all_significant(tests: Sequence[tuple[float, float, float, float]]) -> str:
    """The weakest significance mark shared by every seed's test, when all point the same way."""
    if not tests or not (all(t[0] > 0 for t in tests) or all(t[0] < 0 for t in tests)):
        return ""
    return significance(max(t[3] for t in tests))


def render(by_seed: Sequence[Sequence[LanguageResult]], command: str, plot: str | None = None) -> str:
    """The markdown section: ``by_seed[k]`` is every language's result with the k-th eflomal seed."""
    results = by_seed[0]
    langs = [r.lang for r in results]
    seeds = [r_list[0].seed for r_list in by_seed]
    averaged = {key: [average_bootstrap(rs, key) for rs in by_seed] for key in SYSTEMS if key != TPROJECTION}

    def over_seeds(value: Callable[[LanguageResult], float], k: int) -> list[float]:
        return [value(rs[k]) for rs in by_seed]

    f1_rows = []
    for key, name in SYSTEMS.items():
        cells = [
            seed_cell(over_seeds(lambda r: r.f1[key], k))
            + (_all_significant([rs[k].bootstrap[key] for rs in by_seed]) if key in averaged else "")
            for k in range(len(langs))
        ]
        averages = [sum(r.f1[key] for r in rs) / len(rs) for rs in by_seed]
        f1_rows.append([name, *cells, seed_cell(averages) + _all_significant(averaged.get(key, []))])
    boot_rows = []
    for key in averaged:
        for k, lang in enumerate([*langs, "average"]):
            tests = averaged[key] if lang == "average" else [rs[k].bootstrap[key] for rs in by_seed]
            boot_rows.append(
                [lang, SYSTEMS[key], *(f"{d:+.3f} [{lo:+.3f}, {hi:+.3f}] p {p:.3f}" for d, lo, hi, p in tests)]
            )
    agree_rows = [[r.lang, "English gold", r.pairs, r.english_spans, "", ""] for r in results]
    for key in SYSTEMS:
        for k, r in enumerate(results):
            cells = ["", ""]
            if key in r.agreement:
                cells = [
                    seed_cell(over_seeds(lambda x: x.agreement[key][0], k)),
                    seed_cell(over_seeds(lambda x: x.agreement[key][1], k)),
                ]
            agree_rows.append(
                [
                    r.lang,
                    SYSTEMS[key],
                    seed_cell(over_seeds(lambda x: float(x.silver_sentences[key]), k), 0),
                    seed_cell(over_seeds(lambda x: float(x.silver_spans[key]), k), 0),
                    *cells,
                ]
            )
    attached = [k for k, r in enumerate(results) if r.f1_marks_attached]
    attached_rows = [
        [SYSTEMS[key], *(seed_cell(over_seeds(lambda r: r.f1_marks_attached[key], k)) for k in attached)]
        for key in SYSTEMS
    ]
    time_rows = [[r.lang, stage, seconds] for r in results for stage, seconds in r.seconds.items()]
    extra = ", ".join(f"{r.lang} {r.extra_pairs:,}" for r in results)
    crf = ", ".join(f"{k}={v}" for k, v in CRF_OPTIONS.items())
    text = [
        f"Command: `{command}`",
        "",
        "Translate-train on identical translations (../shared/data/translate-train: CoNLL-2003 English train, "
        "gold PER/ORG/LOC, machine-translated; "
        + ", ".join(f"{r.lang} {r.pairs:,}" for r in results)
        + " pairs). xlner projects the English gold onto the target tokens (T-Projection's labels are not read) "
        f"with the offline recipe's alignment ({describe_recipe()}) aligned together with the pairs and the en-<lang> "
        f"text of ../shared/data/parallel (extra pairs: {extra}); eflomal seeds {', '.join(map(str, seeds))}, each "
        "cell the mean ± the range (max - min) over the seeds. The confidence filter keeps ILP silver sentences with "
        f"confidence >= {CONFIDENCE_THRESHOLD} (fixed in advance; sentences without entities have confidence 1). "
        f"Each silver set trains the same CRF (xlner.downstream.train_crf, {crf}); strict span micro F1 on "
        f"MasakhaNER 2.0 test ({', '.join(f'{r.lang} {r.test_sentences:,}' for r in results)} sentences), DATE->O. "
        "Marks: paired bootstrap (1,000 resamples of test sentences, seed 0) against T-Projection's row, "
        "one-sided p < 0.05 `*`, < 0.01 `**`, shown only when every seed's test is significant in the same "
        "direction (the sign is in the bootstrap table below); for the average, every language's test set is "
        "resampled and the average F1 difference is tested.",
        "",
        markdown_table(["silver data", *langs, "average"], f1_rows),
        "",
        "Average over languages, xlner minus T-Projection, per seed: "
        + "; ".join(
            f"{SYSTEMS[key]} " + ", ".join(f"{d:+.3f} (p {p:.3f})" for d, _, _, p in tests)
            for key, tests in averaged.items()
        )
        + ".",
        "",
    ]
    if plot:
        text += [f"![translate-train F1 per language]({plot})", ""]
    text += [
        "Paired bootstrap of test F1, xlner minus T-Projection, per eflomal seed (95% interval, one-sided p):",
        "",
        markdown_table(["lang", "silver data", *(f"seed {s}" for s in seeds)], boot_rows),
        "",
        "Silver data: sentences, spans, and agreement with T-Projection's silver labels on the same tokens "
        "(span micro F1 against T-Projection's, share of sentences with identical spans):",
        "",
        markdown_table(
            ["lang", "silver data", "sentences", "spans", "F1 vs T-Projection", "identical sentences"], agree_rows
        ),
        "",
    ]
    if attached:
        text += [
            f"Tokenization check ({', '.join(langs[k] for k in attached)}): these translations split combining "
            "diacritics into tokens of their own (`Wọ ́ n`), the MasakhaNER test sets do not (`Wọ́n`). The same CRF "
            "trained after gluing such tokens to the token before (spans follow; xlner.bench.translate_train."
            "attach_marks), same test, F1:",
            "",
            markdown_table(["silver data", *(langs[k] for k in attached)], attached_rows),
            "",
        ]
    text += [
        f"Time (seconds, seed {seeds[0]}, this shared 2-core machine; cached stages report the time of the run that "
        "made them):",
        "",
        markdown_table(["lang", "stage", "seconds"], time_rows),
    ]
    return "\n".join(text)


def plot_f1(results: Sequence[Sequence[LanguageResult]], path: Path) -> None:
    """Grouped bars: test F1 per language (and the average) for each silver set, seed means (``results[seed][lang]``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = [r.lang for r in results[0]] + ["average"]
    width = 0.8 / len(SYSTEMS)
    fig, ax = plt.subplots(figsize=(8, 4.8))
    for k, (key, name) in enumerate(SYSTEMS.items()):
        values = [sum(rs[k].f1[key] for rs in results) / len(results) for k in range(len(groups) - 1)]
        values.append(sum(values) / len(values))
        ax.bar([g + (k - (len(SYSTEMS) - 1) / 2) * width for g in range(len(groups))], values, width, label=name)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylabel("span F1, MasakhaNER 2.0 test (DATE->O)")
    ax.set_title("Translate-train: CRF trained on each silver set")
    ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (``argv`` as on the command line), write its section and plot."""
    parser = argparse.ArgumentParser(prog="xlner bench translate-train", description=__doc__.splitlines()[0])
    parser.add_argument("--langs", nargs="+", default=LANGS, choices=LANGS)
    parser.add_argument(
        "--seeds", nargs="+", type=int, default=list(BENCH_SEEDS), help="eflomal seeds (at least 3 to publish)"
    )
    parser.add_argument(
        "--cache-dir", type=Path, default=None, help="cache folder (default $XLNER_CACHE or ~/.cache/xlner)"
    )
    parser.add_argument("--max-train", type=int, default=None, help="use only the first N translated pairs")
    parser.add_argument(
        "--attach-marks",
        action="store_true",
        help="also train each CRF on silver data with split-off diacritics glued back (the tokenization check)",
    )
    add_output_options(parser)
    args = parser.parse_args(argv)
    partial = sorted(args.langs) != LANGS or args.max_train is not None or len(args.seeds) < 3
    results: list[list[LanguageResult]] = []
    for seed in args.seeds:
        results.append([])
        for lang in args.langs:
            started = time.perf_counter()
            results[-1].append(run_language(lang, args.cache_dir, args.max_train, seed=seed, attach=args.attach_marks))
            print(f"{lang} seed {seed}: {time.perf_counter() - started:.0f} s", flush=True)
    plot_path = BENCHMARKS_MD.parent / "translate_train.png"
    plot = plots_wanted(args, partial)
    if plot:
        plot_f1(results, plot_path)
    markdown = render(results, command_line("translate-train", argv), plot_path.name if plot else None)
    publish("translate-train", "Translate-train against T-Projection (MasakhaNER 2.0 test)", markdown, args, partial)


if __name__ == "__main__":
    main()
