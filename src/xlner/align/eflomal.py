"""Statistical word alignment with eflomal (Östling & Tiedemann 2016).

The forward (source->target) and reverse models run in one call of eflomal's
binary; their links are combined with :func:`~xlner.align.symmetrize.symmetrize`.
Extra parallel text (files or folders, see :func:`find_parallel_files`) is
aligned together with the input so the model sees more data; only the
input's alignments are returned.

Limits and choices (documented behaviour, not accidents):

* **Empty sentences**: a pair with an empty side gets no links and is left
  out of what eflomal sees.
* **Very long sides**: eflomal accepts at most 1024 tokens per sentence; a side
  still longer after windowing (see "Long pairs") is truncated to
  :data:`MAX_TOKENS` tokens, words beyond stay unaligned.
* **Determinism**: eflomal seeds itself from ``/dev/urandom`` and has no seed
  option. xlner compiles (once, with the system C compiler) a tiny
  ``LD_PRELOAD`` library that makes eflomal read its seed from a file written
  from ``seed``, and runs each direction's samplers on one thread
  (``OMP_NUM_THREADS=2,1``: the two directions still run in parallel), so the
  same input and seed give the same output. Without a C compiler the result
  is random and a warning says so.
* **Subwords** (``subword``, see :mod:`xlner.align.subword`): eflomal can run
  on SentencePiece pieces of each word instead of words; piece links map back
  to word links per direction and symmetrization happens on words. The
  :data:`MAX_TOKENS` limit then counts pieces: a word whose pieces are cut
  stays unaligned.
* **Runs** (``runs``): eflomal runs with seeds ``seed, seed+1, ...`` on the
  same prepared input; a directional link is kept when more than half of the
  runs have it (before symmetrization), which lowers the variance across seeds.
* **Priors** (``priors``): instead of aligning the extra parallel text together
  with every input, align it once, turn its links into eflomal priors
  (lexical, jump and fertility counts, :func:`priors_counts`) and align each
  new input alone with them; the two directions then run as two eflomal
  processes side by side, each with the lexical priors of its own links. See
  :class:`EflomalAligner` and :meth:`EflomalAligner.priors_key` for the
  on-disk cache.
* **Long pairs**: a pair with a side beyond
  :data:`xlner.align.long.LONG_PAIR_TOKENS` tokens is aligned in windows (see
  :mod:`xlner.align.long`), so alignment time stays linear in the length.
* **Child process**: eflomal runs in its own process group, dies with xlner
  (``PR_SET_PDEATHSIG`` on Linux, so even ``kill -9`` of xlner stops it), and
  SIGINT/SIGTERM/SIGHUP received while it runs kill it; SIGTERM and SIGHUP
  then end xlner with ``SystemExit(128 + signal)`` so temporary folders are
  removed. Folders left by a killed (``kill -9``) xlner are removed by the next
  run.
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import logging
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

from xlner import recipe
from xlner.align import long
from xlner.align import subword as sw
from xlner.align.base import TokenPair, check_pairs
from xlner.align.symmetrize import METHODS, symmetrize
from xlner.align.tokenize import tokenize
from xlner.errors import InputError, XlnerError
from xlner.registry import registry
from xlner.types import Alignment

log = logging.getLogger(__name__)

#: Tokens per sentence side that eflomal sees (its binary rejects more than 1024).
MAX_TOKENS = 1000
#: Bump when a change makes cached priors stale (tokenization, how they are computed or stored).
PRIORS_VERSION = 3
#: Whether the reverse model gets lexical priors counted on reverse links (else on forward links, as eflomal does).
REVERSE_LEX_PRIORS = True
#: eflomal's priors by word: lexical (source word -> target word -> alpha), HMM jumps forward and reverse
#: (jump -> alpha), fertility forward and reverse (word -> fertility -> alpha), then lexical counted on the
#: reverse links; ``<NULL>`` is the empty word.
Priors = tuple[
    dict[str, dict[str, float]],
    dict[int, float],
    dict[int, float],
    dict[str, dict[int, float]],
    dict[str, dict[int, float]],
    dict[str, dict[str, float]],
]

#: One side as eflomal sees it: token sentences, each token's word (None: tokens are words)
#: and how many leading words kept all their pieces.
_Side = tuple[Sequence[Sequence[str]], list[list[int]] | None, list[int] | None]

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

    ``subword``: ``"none"`` (words, the default), ``"auto"``, a vocabulary
    size (``8000``) or per side (``"src=none,tgt=16000"``, ``{"src": "none",
    "tgt": 16000}``, ``("none", 16000)``); see :mod:`xlner.align.subword`.
    ``runs``: eflomal runs (seeds ``seed``, ``seed+1``, ...) whose directional
    links are put to a majority vote. ``subword="none"`` and ``runs=1`` give
    exactly the plain aligner's output, and ``config()`` leaves them out then
    (so existing cache keys stay valid). ``subword_vote``: when subwords are
    used, also align words (same seeds) and keep the links that at least
    three of the four directional alignments share (:func:`vote`) instead of
    symmetrizing; without subwords it changes nothing. ``on_progress``: called
    with the estimated share of eflomal's work done (0 to 1, from the
    iterations of the model stages it has finished) while it runs.

    ``priors``: ``False`` aligns the input together with the extra parallel
    text on every call; ``True`` aligns the extra text once (same
    segmentation, seeds and eflomal options), keeps eflomal priors computed
    from its links on disk, and aligns each input alone with them (an error
    without extra text); ``"auto"`` is ``True`` when there is extra text,
    else ``False``. With subwords the SentencePiece models are trained on the
    extra text and kept with the priors; with ``subword_vote`` the word
    alignment has priors of its own; with ``runs`` > 1 the priors come from
    the runs' majority-vote links. Without ``n_iterations`` an input aligned
    with priors gets the iteration schedule of a joint run (input + extra
    sentences). ``priors_cache``: the folder of cached
    priors (default ``<cache dir>/eflomal-priors``, see
    :func:`xlner.cache.default_cache_dir`); an entry is named by
    :meth:`priors_key`.
    """

    symmetrization: str = recipe.SYMMETRIZATION
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
    subword: str | int | Mapping[str, Any] | Sequence[Any] | None = recipe.SUBWORD
    runs: int = recipe.EFLOMAL_RUNS
    subword_vote: bool = recipe.SUBWORD_VOTE
    priors: bool | str = recipe.EFLOMAL_PRIORS
    priors_cache: str | Path | None = None
    on_progress: Callable[[float], None] | None = field(default=None, compare=False, repr=False)
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
            self.n_iterations = parse_iterations(self.n_iterations)
        self.subword = sw.format_subword(sw.parse_subword(self.subword))
        if isinstance(self.runs, bool) or not isinstance(self.runs, int) or self.runs < 1:
            raise XlnerError(f"eflomal runs must be a whole number >= 1, not {self.runs!r}")
        self.priors = parse_priors(self.priors)
        if self.priors is True and not self.extra_parallel:
            raise XlnerError("eflomal priors=true needs extra parallel text (extra_parallel) to compute them from")

    @property
    def uses_priors(self) -> bool:
        """Whether inputs are aligned alone with priors from the extra parallel text."""
        return bool(self.priors) and bool(self.extra_parallel)

    def config(self) -> dict[str, Any]:
        """Every option that changes the output (for cache keys)."""
        options = {f.name: getattr(self, f.name) for f in fields(self) if f.init and f.name not in _NOT_OUTPUT}
        options["extra_parallel"] = list(self.extra_parallel)
        options["n_iterations"] = list(self.n_iterations) if self.n_iterations else None
        if options["subword"] == "none":
            del options["subword"]
        if options["runs"] == 1:
            del options["runs"]
        if not options["subword_vote"]:
            del options["subword_vote"]
        if self.uses_priors:
            options["priors"] = True
        else:
            del options["priors"]
        return {"aligner": "eflomal", **options}

    def align(self, pairs: Sequence[TokenPair]) -> list[Alignment]:
        """Symmetrized alignment of each (source tokens, target tokens) pair."""
        check_pairs(pairs)
        report = self.on_progress
        voting = self.subword_vote and sw.parse_subword(self.subword) != ("none", "none")
        first = report if report is None or not voting else (lambda share: report(share / 2))  # half of the work
        forward, reverse, segmented = self._directional(pairs, first)
        if self.subword_vote and segmented:
            words = replace(self, subword="none", subword_vote=False)
            words._extra_cache = self._extra_cache
            second = None if report is None else (lambda share: report(0.5 + share / 2))
            word_forward, word_reverse, _ = words._directional(pairs, second)
            return [vote(links, VOTES_NEEDED) for links in zip(forward, reverse, word_forward, word_reverse)]
        return [
            symmetrize(f, r, self.symmetrization, len(src), len(tgt))
            for f, r, (src, tgt) in zip(forward, reverse, pairs)
        ]

    def align_directional(self, pairs: Sequence[TokenPair]) -> tuple[list[Alignment], list[Alignment]]:
        """The forward and reverse alignments, both in (source i, target j) orientation."""
        forward, reverse, _ = self._directional(pairs, self.on_progress)
        return forward, reverse

    def _directional(
        self, pairs: Sequence[TokenPair], on_progress: Callable[[float], None] | None
    ) -> tuple[list[Alignment], list[Alignment], bool]:
        """Forward and reverse alignments, and whether either side was segmented into subwords."""
        windows, origin = long.split_pairs(pairs)
        kept = [n for n, (src, tgt) in enumerate(windows) if len(src) and len(tgt)]
        forward: list[Alignment] = [frozenset()] * len(windows)
        reverse: list[Alignment] = [frozenset()] * len(windows)
        if not kept:
            return [frozenset()] * len(pairs), [frozenset()] * len(pairs), False
        fold = str.lower if self.lowercase else str
        src_side: list[Sequence[str]] = [[fold(w) for w in windows[n][0][:MAX_TOKENS]] for n in kept]
        tgt_side: list[Sequence[str]] = [[fold(w) for w in windows[n][1][:MAX_TOKENS]] for n in kept]
        if any(len(windows[n][0]) > MAX_TOKENS or len(windows[n][1]) > MAX_TOKENS for n in kept):
            log.warning("sentences longer than %d tokens are truncated for eflomal", MAX_TOKENS)
        priors: Priors | None = None
        n_iterations = self.n_iterations
        if self.uses_priors:
            priors, models = self.load_priors(on_progress)
            on_progress = None  # building the priors was the work worth reporting
            segmented = [_segment_with(model, side) for model, side in zip(models, (src_side, tgt_side))]
            if n_iterations is None:  # the schedule of a joint run: the priors stand for the extra text
                n_extra = _PRIORS_PAIRS.get(str(self.priors_folder()), 0)
                n_iterations = _schedule(self.model, self.rel_iterations, len(kept) + n_extra)
        else:
            for src, tgt in self.extra_pairs():
                src_side.append(src)
                tgt_side.append(tgt)
            segmented = [
                _segment_with(self._subword_model(side, spec), side)
                for side, spec in zip((src_side, tgt_side), sw.parse_subword(self.subword))
            ]
        runs = self._runs(segmented, len(kept), on_progress, priors, n_iterations)
        pieces = any(owner is not None for _, owner, _ in segmented)
        if pieces:
            runs = [(_piece_links_to_words(f, *segmented), _piece_links_to_words(r, *segmented)) for f, r in runs]
        fwd_links = majority_vote([run[0] for run in runs])
        rev_links = majority_vote([run[1] for run in runs])
        for n, f, r in zip(kept, fwd_links, rev_links):
            forward[n], reverse[n] = f, r
        return long.merge_links(forward, origin, len(pairs)), long.merge_links(reverse, origin, len(pairs)), pieces

    def _runs(
        self,
        segmented: Sequence[_Side],
        n_read: int,
        on_progress: Callable[[float], None] | None,
        priors: Priors | None = None,
        n_iterations: tuple[int, int, int] | None = None,
    ) -> list[tuple[list[Alignment], list[Alignment]]]:
        """eflomal's (forward, reverse) token links of the first ``n_read`` sentences, one per run."""
        return _eflomal_runs(
            segmented[0][0],
            segmented[1][0],
            model=self.model,
            n_iterations=n_iterations or self.n_iterations,
            n_samplers=self.n_samplers,
            rel_iterations=self.rel_iterations,
            null_prior=self.null_prior,
            seeds=_seeds(self.seed, self.runs),
            n_read=n_read,
            on_progress=on_progress,
            priors=priors,
        )

    def _subword_model(self, sents: Sequence[Sequence[str]], spec: sw.SideSpec) -> sw.SubwordModel | None:
        """The SentencePiece model for one side's sentences (None: words)."""
        if spec == "none":
            return None
        counts = sw.word_counts(sents)
        size = sw.resolve_vocab_size(spec, len(sents), len(counts))
        if size is None:
            return None
        from xlner.cache import default_cache_dir

        return sw.train_subword_model(counts, size, default_cache_dir() / "subword")

    def priors_folder(self) -> Path:
        """The cache folder of this aligner's priors (see :meth:`priors_key`)."""
        from xlner.cache import default_cache_dir

        root = Path(self.priors_cache) if self.priors_cache is not None else default_cache_dir() / "eflomal-priors"
        return root / self.priors_key()

    def priors_key(self) -> str:
        """Hash of everything the priors depend on.

        The extra text's file contents (in :func:`find_parallel_files` order)
        and ``max_extra_pairs``, lowercasing, the subword setting and
        SentencePiece trainer version, eflomal's model options, ``seed`` and
        ``runs``, :data:`MAX_TOKENS` and :data:`PRIORS_VERSION`.
        """
        from xlner.cache import fingerprint

        files = find_parallel_files(self.extra_parallel, self.src_lang, self.tgt_lang)
        spec = {
            "version": PRIORS_VERSION,
            "corpus": [[_file_digest(path) for path in pair] for pair in files],
            "max_extra_pairs": self.max_extra_pairs,
            "lowercase": self.lowercase,
            "max_tokens": MAX_TOKENS,
            "subword": [str(side) for side in sw.parse_subword(self.subword)],
            "subword_trainer": sw.TRAINER_VERSION,
            "model": self.model,
            "n_iterations": list(self.n_iterations) if self.n_iterations else None,
            "n_samplers": self.n_samplers,
            "rel_iterations": self.rel_iterations,
            "null_prior": self.null_prior,
            "seed": self.seed,
            "runs": self.runs,
        }
        return fingerprint(spec)[:24]

    def load_priors(
        self, on_progress: Callable[[float], None] | None = None
    ) -> tuple[Priors, tuple[sw.SubwordModel | None, sw.SubwordModel | None]]:
        """The priors and (source, target) subword models: from the cache, else computed and cached."""
        folder = self.priors_folder()
        memo = _PRIORS_MEMO.get(str(folder))
        if memo is not None and (folder / _PRIORS_META).is_file():
            return memo
        if not (folder / _PRIORS_META).is_file():
            self._build_priors(folder, on_progress)
        priors = _read_priors_index(folder)
        meta = json.loads((folder / _PRIORS_META).read_text(encoding="utf-8"))
        models = tuple(sw.SubwordModel(folder / name) if name else None for name in meta["models"])
        loaded = (priors, (models[0], models[1]))
        _PRIORS_PAIRS[str(folder)] = int(meta["pairs"])
        _PRIORS_MEMO[str(folder)] = loaded
        return loaded

    def _build_priors(self, folder: Path, on_progress: Callable[[float], None] | None) -> None:
        """Align the extra text alone, compute eflomal's priors from its links and write them to ``folder``."""
        import eflomal

        from xlner.io.atomic import atomic_write

        started = time.perf_counter()
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise XlnerError(f"eflomal priors cache {folder.parent}: cannot create a folder there ({error})") from None
        extra = self.extra_pairs()
        if not extra:
            raise XlnerError("eflomal priors: the extra parallel text has no sentence pairs")
        log.info("computing eflomal priors from %d extra parallel pairs (cached in %s)", len(extra), folder)
        sides = ([src for src, _ in extra], [tgt for _, tgt in extra])
        models = [self._subword_model(side, spec) for side, spec in zip(sides, sw.parse_subword(self.subword))]
        segmented = [_segment_with(model, side) for model, side in zip(models, sides)]
        runs = self._runs(segmented, len(extra), on_progress)
        fwd = majority_vote([run[0] for run in runs])
        rev = majority_vote([run[1] for run in runs])

        *counts, reverse_lex = priors_counts(segmented[0][0], segmented[1][0], fwd, rev)
        names: list[str | None] = []
        for side, model in zip(("src", "tgt"), models):
            if model is None:
                names.append(None)
                continue
            with atomic_write(folder / f"{side}.model", "wb") as out:
                out.write(model.path.read_bytes())
            names.append(f"{side}.model")
        with atomic_write(folder / _PRIORS_FILE) as out:
            eflomal.write_priors(out, *counts)
        with atomic_write(folder / _REVERSE_LEX_FILE) as out:
            eflomal.write_priors(out, reverse_lex, {}, {}, {}, {})
        _read_priors_index(folder)  # the word index of the priors, for fast reading
        meta = {"options": self.config(), "pairs": len(extra), "models": names}
        meta["seconds"] = round(time.perf_counter() - started, 3)
        with atomic_write(folder / _PRIORS_META) as out:  # written last: the entry is complete
            json.dump(meta, out, indent=1, default=str)

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


def priors_counts(
    src_sents: Sequence[Sequence[str]],
    tgt_sents: Sequence[Sequence[str]],
    forward: Sequence[Alignment],
    reverse: Sequence[Alignment],
) -> tuple[Counter[Any], ...]:
    """eflomal's prior counts of aligned text (lexical, jumps, fertilities) plus what it leaves out.

    ``eflomal.calculate_priors`` counts lexical pairs on forward links only and
    fertilities of linked words only; here the fertility tables also count the
    unlinked words (fertility 0) and a sixth table counts lexical pairs on the
    reverse links, for the reverse model.
    """
    import eflomal

    def text(sents: Sequence[Sequence[str]]) -> list[str]:
        return [" ".join(s) for s in sents]

    def links(alignments: Sequence[Alignment]) -> list[str]:
        return [" ".join(f"{i}-{j}" for i, j in sorted(a)) for a in alignments]

    lex, hmmf, hmmr, ferf, ferr = eflomal.calculate_priors(
        text(src_sents), text(tgt_sents), links(forward), links(reverse)
    )
    reverse_lex: Counter[tuple[str, str]] = Counter()
    for src, tgt, fwd, rev in zip(src_sents, tgt_sents, forward, reverse):
        reverse_lex.update((src[i], tgt[j]) for i, j in rev)
        linked_src = {i for i, _ in fwd}
        linked_tgt = {j for _, j in rev}
        ferf.update((word, 0) for i, word in enumerate(src) if i not in linked_src)
        ferr.update((word, 0) for j, word in enumerate(tgt) if j not in linked_tgt)
    return lex, hmmf, hmmr, ferf, ferr, reverse_lex


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
            raise XlnerError(
                f"extra parallel text {path}: set src_lang and tgt_lang (e.g. en and de) to pick its files"
            )
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

    from xlner.io.text import read_lines

    pairs: list[TokenPair] = []
    fold = str.lower if lowercase else str
    for src_path, tgt_path in tqdm(files, desc="extra parallel text", unit="file", disable=not progress, leave=False):
        src_lines = read_lines(src_path)
        tgt_lines = read_lines(tgt_path)
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


def parse_iterations(value: Any) -> tuple[int, int, int]:
    """The ``n_iterations`` option: three whole numbers >= 0 (IBM1, HMM, fertility), also as text "4,4,16"."""
    items = value.replace(" ", "").split(",") if isinstance(value, str) else value
    try:
        numbers = tuple(int(n) for n in items)
        whole = all(not isinstance(n, bool) and float(n) == int(n) for n in items)
    except (TypeError, ValueError):
        numbers, whole = (), False
    if len(numbers) != 3 or not whole or min(numbers) < 0:
        raise XlnerError(
            f"eflomal n_iterations must be three whole numbers >= 0 (IBM1, HMM, fertility), e.g. 4,4,16; not {value!r}"
        )
    return numbers[0], numbers[1], numbers[2]


def parse_priors(value: Any) -> bool | str:
    """The ``priors`` option: ``True``, ``False`` or ``"auto"`` (also true/false/on/off/yes/no/1/0 as text)."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "auto":
            return "auto"
        if text in ("true", "yes", "on", "1"):
            return True
        if text in ("false", "no", "off", "0", "none", ""):
            return False
    raise XlnerError(f"eflomal priors must be true, false or auto, not {value!r}")


def _segment_with(model: sw.SubwordModel | None, sents: Sequence[Sequence[str]]) -> _Side:
    """One side as eflomal sees it: words (no model), or pieces with each piece's word and the whole words."""
    if model is None:
        return sents, None, None
    return sw.segment_sentences(model, sents, MAX_TOKENS)


_PRIORS_FILE = "priors.tsv"
_REVERSE_LEX_FILE = "reverse-lex.tsv"
_PRIORS_META = "meta.json"
_PRIORS_INDEX = "priors-index.json"
#: Priors read in this process, by cache folder.
_PRIORS_MEMO: dict[str, tuple[Priors, tuple[sw.SubwordModel | None, sw.SubwordModel | None]]] = {}
#: Extra pairs behind the priors read in this process, by cache folder.
_PRIORS_PAIRS: dict[str, int] = {}
_DIGESTS: dict[tuple[str, int, int], str] = {}


def _schedule(model: int, rel_iterations: float, n_sentences: int) -> tuple[int, int, int]:
    """eflomal's default (IBM1, HMM, fertility) iterations for ``n_sentences`` sentences."""
    iters = max(2, int(round(rel_iterations * 5000 / math.sqrt(n_sentences))))
    quarter = max(1, iters // 4)
    return {1: (iters, 0, 0), 2: (max(2, quarter), iters, 0), 3: (max(2, quarter), quarter, iters)}[model]


def _file_digest(path: Path) -> str:
    """SHA-256 of a file's bytes (remembered per path, size and modification time in this process)."""
    stat = path.stat()
    memo_key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if memo_key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _DIGESTS[memo_key] = digest.hexdigest()
    return _DIGESTS[memo_key]


def _read_priors_index(folder: Path) -> Priors:
    """The priors of ``folder`` by word: from its JSON index, else from ``priors.tsv`` (and the index written)."""
    from xlner.io.atomic import atomic_write

    index_path = folder / _PRIORS_INDEX
    if index_path.is_file():
        data = json.loads(index_path.read_text(encoding="utf-8"))
    else:
        import eflomal

        with open(folder / _PRIORS_FILE, encoding="utf-8") as handle:
            lex_list, hmmf, hmmr, ferf_list, ferr_list = eflomal.read_priors(handle)
        with open(folder / _REVERSE_LEX_FILE, encoding="utf-8") as handle:
            lexr_list = eflomal.read_priors(handle)[0]
        data = {"lex": {}, "hmmf": hmmf, "hmmr": hmmr, "ferf": {}, "ferr": {}, "lexr": {}}
        for name, pairs in (("lex", lex_list), ("lexr", lexr_list)):
            for src, tgt, alpha in pairs:
                row = data[name].setdefault(src, {})
                row[tgt] = row.get(tgt, 0.0) + alpha
        for name, table in (("ferf", ferf_list), ("ferr", ferr_list)):
            for word, fert, alpha in table:
                row = data[name].setdefault(word, {})
                row[fert] = row.get(fert, 0.0) + alpha
        with atomic_write(index_path) as out:
            json.dump(data, out, ensure_ascii=False)
        data = json.loads(index_path.read_text(encoding="utf-8"))  # the same types as a later read
    jumps = [{int(k): float(v) for k, v in data[name].items()} for name in ("hmmf", "hmmr")]
    ferts = [
        {w: {int(k): float(v) for k, v in row.items()} for w, row in data[name].items()} for name in ("ferf", "ferr")
    ]
    return data["lex"], jumps[0], jumps[1], ferts[0], ferts[1], data["lexr"]


def _write_priors(
    path: Path, priors: Priors, src_index: Mapping[str, int], tgt_index: Mapping[str, int], reverse: bool = False
) -> None:
    """eflomal's binary priors input for this input's vocabularies (ids + 1; 0 is NULL); unseen words are dropped.

    ``reverse``: the lexical priors counted on reverse links (for a reverse-only run).
    """
    lex, hmmf, hmmr, ferf, ferr, lexr = priors
    if reverse:
        lex = lexr
    src_ids = {word: k + 1 for word, k in src_index.items()}
    tgt_ids = {word: k + 1 for word, k in tgt_index.items()}
    src_ids["<NULL>"] = tgt_ids["<NULL>"] = 0
    lex_ids: dict[tuple[int, int], float] = {}
    for src, e in src_ids.items():
        row = lex.get(src)
        if row is None:
            continue
        if len(row) > len(tgt_ids):
            found = ((tgt_ids[t], row[t]) for t in tgt_ids.keys() & row.keys())
        else:
            found = ((tgt_ids[t], alpha) for t, alpha in row.items() if t in tgt_ids)
        for f, alpha in found:
            lex_ids[e, f] = lex_ids.get((e, f), 0.0) + alpha
    fertility = []
    for ids, table in ((src_ids, ferf), (tgt_ids, ferr)):
        fertility.append(
            {(e, fert): alpha for word, e in ids.items() if e and word in table for fert, alpha in table[word].items()}
        )
    lines = [
        f"{len(src_index) + 1} {len(tgt_index) + 1} {len(lex_ids)} {len(hmmf)} {len(hmmr)} "
        f"{len(fertility[0])} {len(fertility[1])}"
    ]
    lines += [f"{e} {f} {alpha:g}" for (e, f), alpha in sorted(lex_ids.items())]
    lines += [f"{jump} {alpha:g}" for jump, alpha in sorted(hmmf.items())]
    lines += [f"{jump} {alpha:g}" for jump, alpha in sorted(hmmr.items())]
    for found_fert in fertility:
        lines += [f"{e} {fert} {alpha:g}" for (e, fert), alpha in sorted(found_fert.items())]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


def _piece_links_to_words(links: Sequence[Alignment], src: _Side, tgt: _Side) -> list[Alignment]:
    """Word links of one direction's piece links, sentence by sentence (a side without owners is words)."""

    def at(values: list[Any] | None, k: int) -> Any:
        return None if values is None else values[k]

    return [
        sw.pieces_to_words(piece_links, at(src[1], k), at(tgt[1], k), at(src[2], k), at(tgt[2], k))
        for k, piece_links in enumerate(links)
    ]


def run_eflomal(
    src_sents: Sequence[Sequence[str]],
    tgt_sents: Sequence[Sequence[str]],
    model: int = 3,
    n_iterations: tuple[int, int, int] | None = None,
    n_samplers: int = 2,
    rel_iterations: float = 1.0,
    null_prior: float = 0.2,
    seed: int | None = 0,
    runs: int = 1,
) -> tuple[list[Alignment], list[Alignment]]:
    """Run eflomal's binary on non-empty sentences; forward and reverse links in (i, j) order.

    With ``runs`` > 1, eflomal runs with seeds ``seed, seed+1, ...`` and each
    direction keeps the links of more than half of the runs.
    """
    results = _eflomal_runs(
        src_sents,
        tgt_sents,
        model,
        n_iterations,
        n_samplers,
        rel_iterations,
        null_prior,
        _seeds(seed, runs),
        len(src_sents),
    )
    return majority_vote([r[0] for r in results]), majority_vote([r[1] for r in results])


#: Directional alignments (of four: subwords and words, both directions) that must share a link (see :func:`vote`).
VOTES_NEEDED = 3


def vote(alignments: Sequence[Alignment], needed: int) -> Alignment:
    """The links that at least ``needed`` of ``alignments`` contain."""
    counts: dict[tuple[int, int], int] = {}
    for links in alignments:
        for link in links:
            counts[link] = counts.get(link, 0) + 1
    return frozenset(link for link, n in counts.items() if n >= needed)


def majority_vote(runs: Sequence[Sequence[Alignment]]) -> list[Alignment]:
    """Per sentence, the links found in more than half of ``runs`` (one alignment list per run)."""
    if len(runs) == 1:
        return list(runs[0])
    voted = []
    for alignments in zip(*runs):
        counts = Counter(link for a in alignments for link in a)
        voted.append(frozenset(link for link, count in counts.items() if 2 * count > len(runs)))
    return voted


def _seeds(seed: int | None, runs: int) -> list[int | None]:
    if runs < 1:
        raise XlnerError(f"eflomal runs must be >= 1, not {runs}")
    return [None if seed is None else seed + k for k in range(runs)]


def _eflomal_runs(
    src_sents: Sequence[Sequence[str]],
    tgt_sents: Sequence[Sequence[str]],
    model: int,
    n_iterations: tuple[int, int, int] | None,
    n_samplers: int,
    rel_iterations: float,
    null_prior: float,
    seeds: Sequence[int | None],
    n_read: int,
    on_progress: Callable[[float], None] | None = None,
    priors: Priors | None = None,
) -> list[tuple[list[Alignment], list[Alignment]]]:
    """One eflomal call per seed on the same input files: (forward, reverse) of the first ``n_read`` sentences.

    ``priors`` (as :func:`eflomal.read_priors` returns them) are passed to eflomal for these sentences' words.
    """
    if len(src_sents) != len(tgt_sents):
        raise XlnerError(f"eflomal needs as many source sentences ({len(src_sents)}) as target ones ({len(tgt_sents)})")
    if any(not s or len(s) > MAX_TOKENS for s in (*src_sents, *tgt_sents)):
        raise XlnerError(f"eflomal sentences must have 1 to {MAX_TOKENS} tokens")
    binary = Path(str(__import__("eflomal").__file__)).parent / "bin" / "eflomal"
    if n_iterations is None:
        n_iterations = _schedule(model, rel_iterations, len(src_sents))  # eflomal's own default schedule
    _remove_stale_work_dirs()
    shim = _seed_shim() if any(seed is not None for seed in seeds) else None
    results: list[tuple[list[Alignment], list[Alignment]]] = []
    with tempfile.TemporaryDirectory(prefix=f"{_WORK_PREFIX}{os.getpid()}-") as tmp:
        work = Path(tmp)
        src_index = _write_text(work / "src", src_sents)
        tgt_index = _write_text(work / "tgt", tgt_sents)
        # one process per direction when each direction has lexical priors of its own (same output otherwise)
        split = priors is not None and REVERSE_LEX_PRIORS
        if priors is not None:
            _write_priors(work / "priors", priors, src_index, tgt_index)
            if split:
                _write_priors(work / "priors-rev", priors, src_index, tgt_index, reverse=True)
        for seed in seeds:
            env = dict(os.environ, OMP_NUM_THREADS="1" if split else "2,1")
            if seed is not None and shim is not None:
                # xorshift must not start from 0 (it would stay 0): hash the seed
                (work / "seed").write_bytes(hashlib.sha256(str(seed).encode()).digest())
                env["XLNER_EFLOMAL_SEED_FILE"] = str(work / "seed")
                env["LD_PRELOAD"] = " ".join(filter(None, [str(shim), env.get("LD_PRELOAD", "")]))
            args = [str(binary), "-m", str(model), "-s", str(work / "src"), "-t", str(work / "tgt")]
            args += ["-n", str(n_samplers), "-N", str(null_prior), "-1", str(n_iterations[0])]
            if model >= 2:
                args += ["-2", str(n_iterations[1])]
            if model >= 3:
                args += ["-3", str(n_iterations[2])]
            if split:
                commands = [
                    (args + ["-p", str(work / "priors"), "-f", str(work / "fwd")], env, work / "stderr"),
                    (args + ["-p", str(work / "priors-rev"), "-r", str(work / "rev")], env, work / "stderr-rev"),
                ]
            else:
                options = ["-p", str(work / "priors")] if priors is not None else []
                commands = [(args + options + ["-f", str(work / "fwd"), "-r", str(work / "rev")], env, work / "stderr")]
            poll = None
            if on_progress is not None:
                done_runs = len(results)
                stages = [n for n in n_iterations[:model] if n]

                def poll() -> None:
                    logs = [path.read_text(errors="replace") for _, _, path in commands if path.is_file()]
                    on_progress((done_runs + _stage_share(logs, stages)) / len(seeds))

            for code, (_, _, stderr_path) in zip(run_children(commands, poll), commands):
                if code != 0:
                    stderr = stderr_path.read_text(encoding="utf-8", errors="replace")
                    raise XlnerError(f"eflomal failed (exit {code}): {stderr.strip()[-2000:]}")
            results.append((_read_links(work / "fwd", n_read), _read_links(work / "rev", n_read)))
    return results


#: Fields of :class:`EflomalAligner` that do not change its output (left out of ``config()``).
_NOT_OUTPUT = ("progress", "on_progress", "priors_cache")
_WORK_PREFIX = "xlner-eflomal-"
_PR_SET_PDEATHSIG = 1


def _death_signal_setup() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes the child get SIGKILL when xlner dies (Linux), or None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    parent = os.getpid()

    def setup() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != parent:  # xlner died before prctl took effect
            os._exit(1)

    return setup


def _stage_share(logs: Sequence[str], stages: Sequence[int]) -> float:
    """Estimated share of a run done, from eflomal's logs (one per process): finished model stages of both
    directions, by iterations."""
    finished = sum(log.count("\nDone:") + log.startswith("Done:") for log in logs)
    per_direction = [n for n in stages for _ in range(2)]  # the two directions run side by side
    return min(1.0, sum(per_direction[:finished]) / (sum(per_direction) or 1))


def run_child(
    args: Sequence[str], env: Mapping[str, str], stderr_path: Path, poll: Callable[[], None] | None = None
) -> int:
    """Run a command to its end and return its exit status; it dies with xlner (see :func:`run_children`)."""
    return run_children([(args, env, stderr_path)], poll)[0]


def run_children(
    commands: Sequence[tuple[Sequence[str], Mapping[str, str], Path]], poll: Callable[[], None] | None = None
) -> list[int]:
    """Run (args, env, stderr file) commands side by side to their ends; their exit statuses.

    Each child gets its own process group (and, on Linux, SIGKILL when xlner
    dies). While they run, SIGINT, SIGTERM and SIGHUP kill their groups; SIGINT
    then raises KeyboardInterrupt and SIGTERM/SIGHUP ``SystemExit(128 +
    signal)``, unless a Python handler was installed before (it is called).
    Handlers are set only in the main thread and restored afterwards.
    ``poll`` is called about twice a second while a child runs.
    """
    holder: list[subprocess.Popen[bytes]] = []
    with contextlib.ExitStack() as stack, _kill_child_on_signals(holder):
        try:
            for args, env, stderr_path in commands:
                stderr = stack.enter_context(open(stderr_path, "wb"))
                holder.append(
                    subprocess.Popen(
                        list(args),
                        env=dict(env),
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=stderr,
                        start_new_session=True,
                        # preexec_fn only calls prctl; safer than it looks (PLW1509), nothing else gives PDEATHSIG
                        preexec_fn=_death_signal_setup(),  # noqa: PLW1509
                    )
                )
            for child in holder:
                while True:
                    try:
                        child.wait(timeout=0.5 if poll is not None else None)
                        break
                    except subprocess.TimeoutExpired:
                        if poll is not None:
                            poll()
            return [child.returncode for child in holder]
        finally:
            for child in holder:
                if child.returncode is None:
                    _kill_group(child)
                    child.wait()


def _kill_group(child: subprocess.Popen[bytes]) -> None:
    if child.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)


@contextlib.contextmanager
def _kill_child_on_signals(holder: list[subprocess.Popen[bytes]]) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    names = ("SIGINT", "SIGTERM", "SIGHUP")
    previous: dict[int, Any] = {}
    for signum in (getattr(signal, name) for name in names if hasattr(signal, name)):
        before = signal.getsignal(signum)
        if before is signal.SIG_IGN:
            continue  # e.g. SIGHUP under nohup: keep ignoring it

        def handler(signum: int, frame: Any, before: Any = before) -> None:
            for child in holder:
                _kill_group(child)
            if callable(before):
                before(signum, frame)
            elif signum == signal.SIGINT:
                raise KeyboardInterrupt
            else:
                raise SystemExit(128 + signum)

        previous[signum] = before
        signal.signal(signum, handler)
    try:
        yield
    finally:
        for signum, before in previous.items():
            signal.signal(signum, before if before is not None else signal.SIG_DFL)


def _remove_stale_work_dirs() -> None:
    """Remove work folders of xlner processes that no longer exist (killed with ``kill -9``)."""
    for path in Path(tempfile.gettempdir()).glob(f"{_WORK_PREFIX}*-*"):
        pid_text = path.name[len(_WORK_PREFIX) :].split("-", 1)[0]
        if not pid_text.isdigit() or int(pid_text) == os.getpid():
            continue
        try:
            if path.stat().st_uid != os.getuid():
                continue
            os.kill(int(pid_text), 0)
        except ProcessLookupError:
            shutil.rmtree(path, ignore_errors=True)
        except OSError:
            continue


def _write_text(path: Path, sents: Sequence[Sequence[str]]) -> dict[str, int]:
    """eflomal's input format: ``n_sents voc_size`` then ``len id id ...`` per line (ids from 0); the ids."""
    index: dict[str, int] = {}
    lines = [" ".join([str(len(s))] + [str(index.setdefault(w, len(index))) for w in s]) for s in sents]
    with open(path, "w", encoding="ascii") as out:
        out.write(f"{len(sents)} {len(index)}\n")
        out.write("\n".join(lines) + "\n")
    return index


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
