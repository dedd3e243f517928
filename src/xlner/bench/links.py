"""eflomal links for the benchmarks, computed once per (set, options, seed) and shared by every benchmark.

The cache is ``<cache dir>/bench-links/`` (``--cache-dir``, else ``$XLNER_CACHE``
or ``~/.cache/xlner``); a file's name hashes the sentence pairs, the target
language, the seed, the segmentation, whether the extra parallel text of
../shared/data/parallel was used, and :data:`LINKS_VERSION`.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from xlner.types import Alignment

TokenPairs = Sequence[tuple[Sequence[str], Sequence[str]]]
#: Suffix of a segmentation whose subword links are voted on with word links.
VOTE = "+vote"
#: Bump when a change to xlner.align changes eflomal's links for the same options (cached links are then recomputed).
LINKS_VERSION = 1


def digest(*parts: Any) -> str:
    """A short stable hash of JSON-able ``parts`` (benchmark cache keys)."""
    return hashlib.sha1(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def cached_json(path: Path, compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Read JSON from ``path``, or compute it and write it atomically (a temporary file of its own, then rename)."""
    if path.exists():
        return json.loads(path.read_text(encoding="utf-8"))
    data = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(data, out)
    os.replace(tmp, path)
    return data


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
    from xlner.data import shared_data_dir

    pairs = [(list(s), list(t)) for s, t in pairs]
    key = digest(pairs, src_lang, tgt_lang, seed, subword, extra, LINKS_VERSION)

    def compute() -> dict[str, Any]:
        from xlner.align.eflomal import EflomalAligner

        aligner = EflomalAligner(
            extra_parallel=[shared_data_dir() / "parallel"] if extra else [],
            src_lang=src_lang,
            tgt_lang=tgt_lang,
            seed=seed,
            progress=False,
            subword=subword,  # explicit: "none" must not fall back to the recipe's default segmentation
            priors=False,  # joint alignment, whatever the recipe's default (the cache key assumes it)
        )
        started = time.perf_counter()
        fwd, rev = aligner.align_directional(pairs)
        return {
            "fwd": [sorted(a) for a in fwd],
            "rev": [sorted(a) for a in rev],
            "seconds": time.perf_counter() - started,
            "extra_pairs": len(aligner.extra_pairs()),
        }

    data = cached_json(cache_root(cache_dir) / f"{name}-{key}.json", compute)
    as_sets = lambda links: [frozenset(map(tuple, a)) for a in links]  # noqa: E731
    return as_sets(data["fwd"]), as_sets(data["rev"]), data["seconds"], data["extra_pairs"]


def symmetrized(
    fwd: Sequence[Alignment], rev: Sequence[Alignment], pairs: TokenPairs, symmetrization: str
) -> list[Alignment]:
    from xlner.align.symmetrize import symmetrize

    return [symmetrize(f, r, symmetrization, len(s), len(t)) for f, r, (s, t) in zip(fwd, rev, pairs)]


def recipe_segmentation() -> str:
    """The offline recipe's segmentation as the benchmarks name it ("none", "auto", "auto+vote")."""
    from xlner import recipe

    return recipe.SUBWORD + (VOTE if recipe.SUBWORD_VOTE and recipe.SUBWORD != "none" else "")


def alignments_by_symmetrization(
    name: str,
    pairs: TokenPairs,
    tgt_lang: str,
    seed: int,
    cache_dir: Path | None,
    segmentation: str,
    symmetrizations: Iterable[str],
    extra: bool = True,
) -> tuple[dict[str, list[Alignment]], float, int]:
    """Symmetrization -> alignments for ``segmentation``; seconds eflomal took; extra pairs. Links are read once.

    ``segmentation``: "none", a subword spec, or SPEC+vote (subword and word links, the 3-of-4 vote of
    :func:`xlner.align.eflomal.vote`, which replaces every symmetrization unless the subword model fell back
    to words, i.e. gave the word links).
    """
    from xlner.align.eflomal import VOTES_NEEDED, vote

    subword = segmentation.removesuffix(VOTE)
    fwd, rev, seconds, n_extra = directional_links(name, pairs, tgt_lang, seed, cache_dir, subword, extra)
    if segmentation.endswith(VOTE):
        word_fwd, word_rev, word_seconds, _ = directional_links(name, pairs, tgt_lang, seed, cache_dir, "none", extra)
        if (word_fwd, word_rev) != (fwd, rev):
            voted = [vote(links, VOTES_NEEDED) for links in zip(fwd, rev, word_fwd, word_rev)]
            return {sym: voted for sym in symmetrizations}, seconds + word_seconds, n_extra
    return {sym: symmetrized(fwd, rev, pairs, sym) for sym in symmetrizations}, seconds, n_extra


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

    See :func:`alignments_by_symmetrization`; defaults: :func:`recipe_segmentation`, :data:`xlner.recipe.SYMMETRIZATION`.
    """
    from xlner import recipe

    sym = symmetrization or recipe.SYMMETRIZATION
    by_sym, seconds, n_extra = alignments_by_symmetrization(
        name, pairs, tgt_lang, seed, cache_dir, segmentation or recipe_segmentation(), [sym], extra
    )
    return by_sym[sym], seconds, n_extra


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
