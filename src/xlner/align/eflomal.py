"""Statistical word alignment with eflomal (Östling & Tiedemann 2016).

The forward (source->target) and reverse models run in one call of eflomal's
binary; their links are combined with :func:`~xlner.align.symmetrize.symmetrize`.
Extra parallel text (files or folders, see :func:`find_parallel_files`) is
aligned together with the input so the model sees more data; only the
input's alignments are returned.

Limits and choices (documented behaviour, not accidents):

* **Empty sentences**: a pair with an empty side gets no links and is left
  out of what eflomal sees.
* **Long sentences**: eflomal accepts at most 1024 tokens per sentence; longer
  sides are truncated to :data:`MAX_TOKENS` tokens, words beyond stay unaligned.
* **Determinism**: eflomal seeds itself from ``/dev/urandom`` and has no seed
  option. xlner compiles (once, with the system C compiler) a tiny
  ``LD_PRELOAD`` library that makes eflomal read its seed from a file written
  from ``seed``, and runs each direction's samplers on one thread
  (``OMP_NUM_THREADS=2,1``: the two directions still run in parallel), so the
  same input and seed give the same output. Without a C compiler the result
  is random and a warning says so.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import shutil
import subprocess
import tempfile
import warnings
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Sequence

from xlner.align.base import TokenPair
from xlner.align.symmetrize import METHODS, symmetrize
from xlner.align.tokenize import tokenize
from xlner.errors import InputError, XlnerError
from xlner.registry import registry
from xlner.types import Alignment

log = logging.getLogger(__name__)

#: Tokens per sentence side that eflomal sees (its binary rejects more than 1024).
MAX_TOKENS = 1000

_SHIM_SOURCE = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
typedef FILE *(*fopen_t)(const char *, const char *);
static FILE *redirect(const char *name, const char *mode, const char *symbol) {
    fopen_t real = (fopen_t)dlsym(RTLD_NEXT, symbol);
    const char *seed = getenv("XLNER_EFLOMAL_SEED_FILE");
    if (seed != NULL && name != NULL && strcmp(name, "/dev/urandom") == 0) name = seed;
    return real(name, mode);
}
FILE *fopen(const char *name, const char *mode) { return redirect(name, mode, "fopen"); }
FILE *fopen64(const char *name, const char *mode) { return redirect(name, mode, "fopen64"); }
"""


@dataclass
class EflomalAligner:
    """eflomal forward + reverse models, symmetrized.

    ``extra_parallel``: files or folders of line-aligned raw text (see
    :func:`find_parallel_files`; folders need ``src_lang``/``tgt_lang``).
    ``max_extra_pairs`` caps how many extra pairs are used (the first ones, in
    sorted file order). ``n_iterations`` is (IBM1, HMM, fertility) iterations;
    by default eflomal's rule ``5000 / sqrt(sentences)`` (times
    ``rel_iterations``) decides. ``n_samplers`` is 2 (eflomal's Python API
    uses 3): for determinism one direction's samplers run one after another,
    so each sampler adds its full cost. ``progress`` only shows reading the
    extra text; eflomal itself runs quietly.
    """

    symmetrization: str = "grow-diag-final-and"
    extra_parallel: Sequence[str | Path] = ()
    src_lang: str | None = None
    tgt_lang: str | None = None
    max_extra_pairs: int | None = None
    lowercase: bool = True
    seed: int = 0
    n_iterations: tuple[int, int, int] | None = None
    n_samplers: int = 2
    model: int = 3
    rel_iterations: float = 1.0
    null_prior: float = 0.2
    progress: bool = True
    _extra_cache: list[TokenPair] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.symmetrization not in METHODS:
            raise XlnerError(f"unknown symmetrization {self.symmetrization!r}: expected one of {', '.join(METHODS)}")
        if self.model not in (1, 2, 3):
            raise XlnerError(f"eflomal model must be 1 (IBM1), 2 (HMM) or 3 (HMM+fertility), not {self.model!r}")
        if isinstance(self.extra_parallel, (str, Path)):
            self.extra_parallel = [self.extra_parallel]
        self.extra_parallel = [str(p) for p in self.extra_parallel]
        if self.n_iterations is not None:
            self.n_iterations = tuple(int(n) for n in self.n_iterations)  # type: ignore[assignment]

    def config(self) -> dict[str, Any]:
        """Every option that changes the output (for cache keys)."""
        options = {f.name: getattr(self, f.name) for f in fields(self) if f.init and f.name != "progress"}
        options["extra_parallel"] = list(self.extra_parallel)
        options["n_iterations"] = list(self.n_iterations) if self.n_iterations else None
        return {"aligner": "eflomal", **options}

    def align(self, pairs: Sequence[TokenPair]) -> list[Alignment]:
        """Symmetrized alignment of each (source tokens, target tokens) pair."""
        forward, reverse = self.align_directional(pairs)
        return [
            symmetrize(f, r, self.symmetrization, len(src), len(tgt))
            for f, r, (src, tgt) in zip(forward, reverse, pairs)
        ]

    def align_directional(self, pairs: Sequence[TokenPair]) -> tuple[list[Alignment], list[Alignment]]:
        """The forward and reverse alignments, both in (source i, target j) orientation."""
        kept = [n for n, (src, tgt) in enumerate(pairs) if len(src) and len(tgt)]
        forward: list[Alignment] = [frozenset()] * len(pairs)
        reverse: list[Alignment] = [frozenset()] * len(pairs)
        if not kept:
            return forward, reverse
        fold = str.lower if self.lowercase else str
        src_side = [[fold(w) for w in pairs[n][0][:MAX_TOKENS]] for n in kept]
        tgt_side = [[fold(w) for w in pairs[n][1][:MAX_TOKENS]] for n in kept]
        if any(len(pairs[n][0]) > MAX_TOKENS or len(pairs[n][1]) > MAX_TOKENS for n in kept):
            log.warning("sentences longer than %d tokens are truncated for eflomal", MAX_TOKENS)
        for src, tgt in self.extra_pairs():
            src_side.append(src)
            tgt_side.append(tgt)
        fwd_links, rev_links = run_eflomal(
            src_side,
            tgt_side,
            model=self.model,
            n_iterations=self.n_iterations,
            n_samplers=self.n_samplers,
            rel_iterations=self.rel_iterations,
            null_prior=self.null_prior,
            seed=self.seed,
        )
        for n, f, r in zip(kept, fwd_links, rev_links):
            forward[n], reverse[n] = f, r
        return forward, reverse

    def extra_pairs(self) -> list[TokenPair]:
        """The extra parallel text, tokenized (and lowercased); read once."""
        if self._extra_cache is None:
            pairs: list[TokenPair] = []
            if self.extra_parallel:
                pairs = read_parallel(
                    find_parallel_files(self.extra_parallel, self.src_lang, self.tgt_lang),
                    max_pairs=self.max_extra_pairs,
                    lowercase=self.lowercase,
                    progress=self.progress,
                )
                log.info("using %d extra parallel pairs", len(pairs))
            self._extra_cache = pairs
        return self._extra_cache


def find_parallel_files(
    paths: Sequence[str | Path], src_lang: str | None, tgt_lang: str | None
) -> list[tuple[Path, Path]]:
    """(source file, target file) pairs from files, prefixes or folders.

    Each path may be: a folder (every ``X.<src_lang>`` below it that has an
    ``X.<tgt_lang>`` beside it, sorted); a file ``X.<src_lang>`` or
    ``X.<tgt_lang>`` (its partner is found by swapping the suffix); or a
    prefix ``X`` with ``X.<src_lang>`` and ``X.<tgt_lang>``. Languages are the
    file-name suffixes (ISO codes such as ``en``, ``de``, ``hau``).
    """
    found: list[tuple[Path, Path]] = []
    for raw in paths:
        path = Path(raw)
        if not (src_lang and tgt_lang):
            raise XlnerError(f"extra parallel text {path}: set src_lang and tgt_lang (e.g. en and de) to pick its files")
        if path.is_dir():
            pairs = [
                (s, s.with_name(s.name[: -len(src_lang)] + tgt_lang))
                for s in sorted(path.rglob(f"*.{src_lang}"))
                if s.is_file() and s.with_name(s.name[: -len(src_lang)] + tgt_lang).is_file()
            ]
            if not pairs:
                raise InputError(f"no files *.{src_lang} with a *.{tgt_lang} beside them", path)
            found.extend(pairs)
            continue
        stem = str(path)
        for lang in (src_lang, tgt_lang):
            if path.is_file() and stem.endswith("." + lang):
                stem = stem[: -len(lang) - 1]
                break
        src, tgt = Path(f"{stem}.{src_lang}"), Path(f"{stem}.{tgt_lang}")
        for side in (src, tgt):
            if not side.is_file():
                raise InputError(f"parallel file not found (expected {src.name} and {tgt.name})", side)
        found.append((src, tgt))
    return found


def read_parallel(
    files: Sequence[tuple[Path, Path]], max_pairs: int | None = None, lowercase: bool = True, progress: bool = False
) -> list[TokenPair]:
    """Tokenized line pairs of line-aligned files; pairs with an empty side are skipped."""
    from tqdm import tqdm

    pairs: list[TokenPair] = []
    fold = str.lower if lowercase else str
    for src_path, tgt_path in tqdm(files, desc="extra parallel text", unit="file", disable=not progress, leave=False):
        src_lines = src_path.read_text(encoding="utf-8").splitlines()
        tgt_lines = tgt_path.read_text(encoding="utf-8").splitlines()
        if len(src_lines) != len(tgt_lines):
            raise InputError(
                f"{len(src_lines)} lines but {tgt_path} has {len(tgt_lines)}; parallel files must be line-aligned",
                src_path,
            )
        for src_line, tgt_line in zip(src_lines, tgt_lines):
            src = tokenize(fold(src_line))[:MAX_TOKENS]
            tgt = tokenize(fold(tgt_line))[:MAX_TOKENS]
            if src and tgt:
                pairs.append((src, tgt))
                if max_pairs is not None and len(pairs) >= max_pairs:
                    return pairs
    return pairs


def run_eflomal(
    src_sents: Sequence[Sequence[str]],
    tgt_sents: Sequence[Sequence[str]],
    model: int = 3,
    n_iterations: tuple[int, int, int] | None = None,
    n_samplers: int = 2,
    rel_iterations: float = 1.0,
    null_prior: float = 0.2,
    seed: int | None = 0,
) -> tuple[list[Alignment], list[Alignment]]:
    """Run eflomal's binary on non-empty sentences; forward and reverse links in (i, j) order."""
    if len(src_sents) != len(tgt_sents):
        raise XlnerError(f"eflomal needs as many source sentences ({len(src_sents)}) as target ones ({len(tgt_sents)})")
    if any(not s or len(s) > MAX_TOKENS for s in (*src_sents, *tgt_sents)):
        raise XlnerError(f"eflomal sentences must have 1 to {MAX_TOKENS} tokens")
    binary = Path(__import__("eflomal").__file__).parent / "bin" / "eflomal"
    if n_iterations is None:
        # eflomal's own default schedule
        iters = max(2, int(round(rel_iterations * 5000 / math.sqrt(len(src_sents)))))
        quarter = max(1, iters // 4)
        n_iterations = {1: (iters, 0, 0), 2: (max(2, quarter), iters, 0), 3: (max(2, quarter), quarter, iters)}[model]
    env = dict(os.environ, OMP_NUM_THREADS="2,1")
    with tempfile.TemporaryDirectory(prefix="xlner-eflomal-") as tmp:
        work = Path(tmp)
        _write_text(work / "src", src_sents)
        _write_text(work / "tgt", tgt_sents)
        if seed is not None:
            shim = _seed_shim()
            if shim is not None:
                # xorshift must not start from 0 (it would stay 0): hash the seed
                (work / "seed").write_bytes(hashlib.sha256(str(seed).encode()).digest())
                env["XLNER_EFLOMAL_SEED_FILE"] = str(work / "seed")
                env["LD_PRELOAD"] = " ".join(filter(None, [str(shim), env.get("LD_PRELOAD", "")]))
        args = [str(binary), "-q", "-m", str(model), "-s", str(work / "src"), "-t", str(work / "tgt")]
        args += ["-n", str(n_samplers), "-N", str(null_prior), "-1", str(n_iterations[0])]
        if model >= 2:
            args += ["-2", str(n_iterations[1])]
        if model >= 3:
            args += ["-3", str(n_iterations[2])]
        args += ["-f", str(work / "fwd"), "-r", str(work / "rev")]
        done = subprocess.run(args, env=env, capture_output=True, text=True)
        if done.returncode != 0:
            raise XlnerError(f"eflomal failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
        forward = _read_links(work / "fwd", len(src_sents))
        reverse = _read_links(work / "rev", len(src_sents))
    return forward, reverse


def _write_text(path: Path, sents: Sequence[Sequence[str]]) -> None:
    """eflomal's input format: ``n_sents voc_size`` then ``len id id ...`` per line (ids from 0)."""
    index: dict[str, int] = {}
    lines = [" ".join([str(len(s))] + [str(index.setdefault(w, len(index))) for w in s]) for s in sents]
    with open(path, "w", encoding="ascii") as out:
        out.write(f"{len(sents)} {len(index)}\n")
        out.write("\n".join(lines) + "\n")


def _read_links(path: Path, n_sents: int) -> list[Alignment]:
    lines = path.read_text(encoding="ascii").split("\n")[:n_sents]
    if len(lines) < n_sents:
        raise XlnerError(f"eflomal wrote {len(lines)} alignment lines for {n_sents} sentences")
    result = []
    for line in lines:
        links = (link.split("-") for link in line.split())
        result.append(frozenset((int(i), int(j)) for i, j in links))
    return result


def _seed_shim() -> Path | None:
    """Path of the compiled seed library (built once per user), or None without a C compiler."""
    digest = hashlib.sha256(_SHIM_SOURCE.encode()).hexdigest()[:16]
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "xlner"
    target = cache / f"eflomal-seed-{digest}.so"
    if target.is_file():
        return target
    compiler = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if compiler is None:
        warnings.warn("no C compiler found: eflomal runs unseeded, results vary between runs", stacklevel=3)
        return None
    try:
        cache.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            source = Path(tmp) / "shim.c"
            source.write_text(_SHIM_SOURCE)
            built = Path(tmp) / "shim.so"
            subprocess.run(
                [compiler, "-shared", "-fPIC", "-O2", "-o", str(built), str(source), "-ldl"],
                check=True,
                capture_output=True,
            )
            os.replace(built, target)
    except (OSError, subprocess.CalledProcessError) as error:
        warnings.warn(f"could not build eflomal's seed library ({error}): results vary between runs", stacklevel=3)
        return None
    return target


@registry.aligners.register("eflomal")
def _make_eflomal(**options: Any) -> EflomalAligner:
    return EflomalAligner(**options)
