"""The offline default recipe, in one place.

Every command, pipeline, engine and benchmark that aligns and projects
without being told how uses these values: ``xlner project``, ``xlner align``,
translate-test, translate-train, the sharded engines and the benchmarks. They
were chosen by ``xlner bench defaults`` on the average over every public
evaluation set (docs/benchmarks.md, section "defaults").
"""

from __future__ import annotations

#: Symmetrization of eflomal's forward and reverse links.
SYMMETRIZATION = "intersection"
#: Subword segmentation for eflomal ("none": words; see xlner.align.subword).
SUBWORD = "auto"
#: With subwords, also align words and keep links that 3 of the 4 directional alignments share.
SUBWORD_VOTE = True
#: eflomal priors: False aligns the extra parallel text with every input; "auto" aligns it once and keeps its
#: priors when there is extra text (see xlner.align.eflomal.EflomalAligner). False: with priors the F1 is not
#: within the seed range of joint alignment on every set (``xlner bench priors``, docs/benchmarks.md "priors").
EFLOMAL_PRIORS: bool | str = False
#: Seeded eflomal runs whose links are voted on (1: one run).
EFLOMAL_RUNS = 1
#: Projection method, and the preset each method uses when none is named.
METHOD = "ilp"
PRESETS: dict[str, str] = {"heuristic": "garcia2022", "ilp": "offline", "greedy": "offline"}
#: Seeds over which every eflomal-based benchmark number is averaged.
BENCH_SEEDS = (0, 1, 2)
