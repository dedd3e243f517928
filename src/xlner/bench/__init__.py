"""Benchmarks on the real data in ../shared/data, run by ``xlner bench NAME``.

Each benchmark module has ``main(argv)`` that prints its tables and writes
them, with the command that made them, into its own section of
docs/benchmarks.md. ``benchmarks/NAME.py`` scripts are thin wrappers.
"""

from __future__ import annotations

#: benchmark name -> module under xlner.bench
BENCHMARKS: dict[str, str] = {
    "defaults": "xlner.bench.defaults",
    "europarl": "xlner.bench.europarl",
    "alignment": "xlner.bench.alignment",
    "bam": "xlner.bench.bam",
    "conll-reproduction": "xlner.bench.conll_reproduction",
    "solvers": "xlner.bench.solvers",
    "translate-train": "xlner.bench.translate_train",
    "scale": "xlner.bench.scale",
    "scoring": "xlner.bench.scoring",
    "priors": "xlner.bench.priors",
}

#: (row name, projection method, options) that the real-data benchmarks compare;
#: "offline" is xlner's pre-declared default (tuned on Europarl en->de only).
PROJECTION_METHODS: list[tuple[str, str, dict]] = [
    ("heuristic, preset garcia2022", "heuristic", {"preset": "garcia2022"}),
    ("heuristic, preset politov2025", "heuristic", {"preset": "politov2025"}),
    ("ILP, alignment (links, published)", "ilp", {"preset": "politov2025-ilp"}),
    (
        "ILP, alignment only (offline preset, no string score)",
        "ilp",
        {"preset": "offline", "weights": {"alignment": 1.0}},
    ),
    ("ILP, alignment + string (offline default)", "ilp", {"preset": "offline"}),
    ("greedy, alignment + string", "greedy", {"preset": "offline"}),
]
