"""Benchmarks on the real data in ../shared/data, run by ``xlner bench NAME``.

Each benchmark module has ``main(argv)`` that prints its tables and writes
them, with the command that made them, into its own section of
docs/benchmarks.md. ``benchmarks/NAME.py`` scripts are thin wrappers.
"""

from __future__ import annotations

#: benchmark name -> module under xlner.bench
BENCHMARKS: dict[str, str] = {
    "europarl": "xlner.bench.europarl",
    "alignment": "xlner.bench.alignment",
    "bam": "xlner.bench.bam",
    "conll-reproduction": "xlner.bench.conll_reproduction",
    "solvers": "xlner.bench.solvers",
    "translate-train": "xlner.bench.translate_train",
    "scale": "xlner.bench.scale",
    "scoring": "xlner.bench.scoring",
}
