"""eflomal links for the benchmarks, computed once per (set, options, seed) and shared by every benchmark.

The cache is ``<cache dir>/bench-links/`` (``--cache-dir``, else ``$XLNER_CACHE``
or ``~/.cache/xlner``); a file's name hashes the sentence pairs, the target
language, the seed, the segmentation, whether the extra parallel text of
../shared/data/parallel was used, and :data:`LINKS_VERSION`.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

from xlner.types import Alignment

TokenPairs = Sequence[tuple[Sequence[str], Sequence[str]]]
#: Suffix of a segmentation whose subword links are voted on with word links.
VOTE = "+vote"
#: Bump when a change to xlner.align changes eflomal's links for the same options (cached links are then recomputed).
LINKS_VERSION = 1


def cache_root(cache_dir: Path | None) -> Path:
    from xlner.cache import default_cache_dir

    return (cache_dir or default_cache_dir()) / "bench-links"


def directional_links(
    name: str,
    pairs: TokenPairs,
    tgt_lang: str,
    seed: int,
    cache_dir: Path | None = None,
    subword: str = "none",
    extra: bool = True,
    src_lang: str = "en",
) -> tuple[list[Alignment], list[Alignment], float, int]:
    """eflomal forward and reverse links of ``pairs``; seconds eflomal took; extra pairs used. Cached."""
    from xlner.bench.translate_train import _digest
    from xlner.data import shared_data_dir

    pairs = [(list(s), list(t)) for s, t in pairs]
    key = _digest(pairs, src_lang, tgt_lang, seed, subword, extra, LINKS_VERSION)
    path = cache_root(cache_dir) / f"{name}-{key}.json"
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
    else:
        from xlner.align.eflomal import EflomalAligner

        options: dict[str, Any] = {"subword": subword} if subword != "none" else {}
        aligner = EflomalAligner(
            extra_parallel=[shared_data_dir() / "parallel"] if extra else [],
            src_lang=src_lang,
            tgt_lang=tgt_lang,
            seed=seed,
            progress=False,
            **options,
        )
        started = time.perf_counter()
        fwd, rev = aligner.align_directional(pairs)
        data = {
            "fwd": [sorted(a) for a in fwd],
            "rev": [sorted(a) for a in rev],
            "seconds": time.perf_counter() - started,
            "extra_pairs": len(aligner.extra_pairs()),
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)
        os.replace(tmp, path)
    as_sets = lambda links: [frozenset(map(tuple, a)) for a in links]  # noqa: E731
    return as_sets(data["fwd"]), as_sets(data["rev"]), data["seconds"], data["extra_pairs"]


def symmetrized(
    fwd: Sequence[Alignment], rev: Sequence[Alignment], pairs: TokenPairs, symmetrization: str
) -> list[Alignment]:
    from xlner.align.symmetrize import symmetrize

    return [symmetrize(f, r, symmetrization, len(s), len(t)) for f, r, (s, t) in zip(fwd, rev, pairs)]


def alignments_for(
    name: str,
    pairs: TokenPairs,
    tgt_lang: str,
    seed: int,
    cache_dir: Path | None = None,
    segmentation: str | None = None,
    symmetrization: str | None = None,
    extra: bool = True,
) -> tuple[list[Alignment], float, int]:
    """Alignments as the offline recipe makes them (or with this segmentation / symmetrization); seconds; extra pairs.

    ``segmentation``: "none", a subword spec, or SPEC+vote (subword and word links, the 3-of-4 vote of
    :func:`xlner.align.eflomal.vote`, which replaces the symmetrization unless the subword model fell back to
    words). Default: :data:`xlner.recipe.SUBWORD` (+vote when :data:`xlner.recipe.SUBWORD_VOTE`).
    """
    from xlner import recipe
    from xlner.align.eflomal import VOTES_NEEDED, vote

    if segmentation is None:
        segmentation = recipe.SUBWORD + (VOTE if recipe.SUBWORD_VOTE and recipe.SUBWORD != "none" else "")
    subword = segmentation.removesuffix(VOTE)
    fwd, rev, seconds, n_extra = directional_links(name, pairs, tgt_lang, seed, cache_dir, subword, extra)
    if segmentation.endswith(VOTE):
        word_fwd, word_rev, word_seconds, _ = directional_links(name, pairs, tgt_lang, seed, cache_dir, "none", extra)
        if (word_fwd, word_rev) != (fwd, rev):
            voted = [vote(links, VOTES_NEEDED) for links in zip(fwd, rev, word_fwd, word_rev)]
            return voted, seconds + word_seconds, n_extra
    return symmetrized(fwd, rev, pairs, symmetrization or recipe.SYMMETRIZATION), seconds, n_extra


def describe_recipe() -> str:
    """The offline recipe's alignment, in words (for benchmark descriptions)."""
    from xlner import recipe

    if recipe.SUBWORD == "none":
        return f"eflomal on words, {recipe.SYMMETRIZATION}"
    if recipe.SUBWORD_VOTE:
        return (
            f"eflomal on subwords ({recipe.SUBWORD}) and on words, links that 3 of the 4 directional "
            f"alignments share ({recipe.SYMMETRIZATION} where the subword model falls back to words)"
        )
    return f"eflomal on subwords ({recipe.SUBWORD}), {recipe.SYMMETRIZATION}"


def mean_spread(values: Sequence[float]) -> tuple[float, float]:
    """Mean and range (max - min) of ``values``."""
    return statistics.fmean(values), (max(values) - min(values)) if len(values) > 1 else 0.0


def seed_cell(values: Sequence[float], digits: int = 3) -> str:
    """``mean ±range`` over seeds (just the value when there is one, or when all are equal)."""
    mean, spread = mean_spread(values)
    return f"{mean:.{digits}f}" if len(values) == 1 or spread == 0 else f"{mean:.{digits}f} ±{spread:.{digits}f}"
