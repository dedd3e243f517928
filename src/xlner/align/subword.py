"""Subword units for statistical alignment: SentencePiece unigram models per side.

A statistical aligner sees rare inflected words once or twice and cannot learn
them; splitting words into frequent pieces (``hawaku`` + ``fanikiwa``) shares
evidence between forms. Each *word* is segmented on its own, so pieces never
cross words, and links between pieces map back to links between their words
(:func:`pieces_to_words`).

The subword option of :class:`~xlner.align.eflomal.EflomalAligner` (and
``xlner align --subword``), parsed by :func:`parse_subword`:

* ``"none"`` (or ``None``, ``0``): words, both sides;
* ``"auto"``: :func:`auto_vocab_size` decides per side from the amount of text;
* ``8000`` or ``"8000"``: a vocabulary of 8000 pieces, both sides;
* per side: ``"src=none,tgt=16000"`` (a side left out is ``none``), a mapping
  ``{"src": "none", "tgt": 16000}`` or a pair ``("none", 16000)``.

Models are trained on the side's word counts (the text being aligned, after the
aligner's lowercasing and tokenization) and cached on disk under
``<cache dir>/subword/`` (``$XLNER_CACHE`` or ``~/.cache/xlner``), named by a
hash of the counts and the training options.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Union

from xlner.errors import XlnerError
from xlner.types import Alignment, Link

log = logging.getLogger(__name__)

#: One side's setting: ``"none"`` (words), ``"auto"`` or a vocabulary size.
SideSpec = Union[str, int]  # noqa: UP007 (a runtime alias: Python 3.10 needs Union here)

#: ``auto``: fewer training sentences than this keep words.
AUTO_MIN_SENTENCES = 10_000
#: ``auto``: the vocabulary size for enough data ...
AUTO_VOCAB_SIZE = 16_000
#: ... capped at this fraction of the side's word types.
AUTO_TYPE_FRACTION = 0.5

_SIDES = ("src", "tgt")
#: Bump when training options change, so cached models are retrained.
TRAINER_VERSION = 1
_TRAINER_OPTIONS: dict[str, Any] = {
    "model_type": "unigram",
    "character_coverage": 1.0,
    "normalization_rule_name": "identity",
    "remove_extra_whitespaces": False,
    "hard_vocab_limit": False,
    "bos_id": -1,
    "eos_id": -1,
    "num_threads": 1,
}
_MODELS: dict[str, SubwordModel] = {}


def auto_vocab_size(n_sentences: int, n_word_types: int) -> int | None:
    """The ``auto`` rule: a vocabulary size for a side, or None to keep words.

    Words below :data:`AUTO_MIN_SENTENCES` sentences (pairs); else
    :data:`AUTO_VOCAB_SIZE` pieces, at most :data:`AUTO_TYPE_FRACTION` of the
    word types (subwords only help when they are fewer than the words).
    """
    if n_sentences < AUTO_MIN_SENTENCES:
        return None
    size = min(AUTO_VOCAB_SIZE, int(AUTO_TYPE_FRACTION * n_word_types))
    return size if size > 0 else None


def _parse_side(value: Any, where: str) -> SideSpec:
    if value is None or value is False:
        return "none"
    if isinstance(value, bool):
        raise XlnerError(f"subword {where}: expected none, auto or a vocabulary size, not {value!r}")
    if isinstance(value, str):
        text = value.strip().lower()
        if text in ("none", "words", "", "0"):
            return "none"
        if text == "auto":
            return "auto"
        try:
            value = int(text)
        except ValueError:
            raise XlnerError(f"subword {where}: expected none, auto or a vocabulary size, not {value!r}") from None
    if isinstance(value, int):
        if value == 0:
            return "none"
        if value < 2:
            raise XlnerError(f"subword {where}: a vocabulary size must be at least 2, not {value}")
        return value
    raise XlnerError(f"subword {where}: expected none, auto or a vocabulary size, not {value!r}")


def parse_subword(value: Any) -> tuple[SideSpec, SideSpec]:
    """(source, target) settings from any spelling of the subword option (see the module docs)."""
    if isinstance(value, Mapping):
        unknown = set(map(str, value)) - set(_SIDES)
        if unknown:
            raise XlnerError(f"subword: unknown side {min(unknown)!r} (expected src and/or tgt)")
        return _parse_side(value.get("src"), "src"), _parse_side(value.get("tgt"), "tgt")
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise XlnerError(f"subword: expected a (source, target) pair, not {value!r}")
        return _parse_side(value[0], "src"), _parse_side(value[1], "tgt")
    if isinstance(value, str) and ("=" in value or ":" in value):
        sides: dict[str, str] = {}
        for part in value.split(","):
            key, sep, setting = part.replace(":", "=").partition("=")
            key = key.strip().lower()
            if not sep or key not in _SIDES or key in sides:
                raise XlnerError(f"subword: expected e.g. src=none,tgt=16000, not {value!r}")
            sides[key] = setting
        return parse_subword(sides)
    side = _parse_side(value, "")
    return side, side


def format_subword(sides: tuple[SideSpec, SideSpec]) -> str:
    """The canonical spelling: ``"none"``, ``"auto"``, ``"8000"`` or ``"src=none,tgt=16000"``."""
    src, tgt = (str(s) for s in sides)
    return src if src == tgt else f"src={src},tgt={tgt}"


class SubwordModel:
    """A trained SentencePiece model that segments single words."""

    def __init__(self, path: Path) -> None:
        import sentencepiece as spm

        self.path = path
        self._sp = spm.SentencePieceProcessor(model_file=str(path))
        self._memo: dict[str, list[str]] = {}

    @property
    def vocab_size(self) -> int:
        """Number of pieces in the model."""
        return int(self._sp.get_piece_size())

    def segment(self, word: str) -> list[str]:
        """The word's pieces; they concatenate to ``word`` (a word with an unknown character stays whole)."""
        return self.segment_many([word])[0]

    def segment_many(self, words: Iterable[str]) -> list[list[str]]:
        """:meth:`segment` of each word (each distinct word is encoded once)."""
        words = list(words)
        todo = sorted({w for w in words if w not in self._memo})
        if todo:
            sp = self._sp
            for word, ids in zip(todo, sp.encode(todo)):
                pieces = (
                    []
                    if any(sp.is_unknown(i) for i in ids)
                    else [sp.id_to_piece(i).replace("\u2581", " ") for i in ids]
                )
                if pieces and pieces[0].startswith(" "):
                    pieces[0] = pieces[0][1:]  # SentencePiece's word-start marker
                pieces = [p for p in pieces if p]
                self._memo[word] = pieces if pieces and "".join(pieces) == word else [word]
        return [self._memo[w] for w in words]


def piece_tokens(pieces: Sequence[str]) -> list[str]:
    """The tokens an aligner sees for one word's pieces: the first marked as word-initial."""
    return ["\u2581" + p if k == 0 else p for k, p in enumerate(pieces)]


def train_subword_model(word_counts: Mapping[str, int], vocab_size: int, cache_dir: Path) -> SubwordModel | None:
    """A unigram model of ``vocab_size`` pieces (at least one per character) for these word counts.

    Trained once and kept under ``cache_dir`` (named by a hash of the counts
    and options); None when no word can be trained on.
    """
    import sentencepiece as spm

    lines = sorted(f"{w}\t{c}\n" for w, c in word_counts.items() if c > 0 and w and not any(ch in w for ch in "\t\n\r"))
    if not lines:
        return None
    chars = {ch for line in lines for ch in line.split("\t", 1)[0]} | {"\u2581"}
    # SentencePiece needs a piece per character (+ <unk>); a larger size than the
    # data allows is a soft limit (hard_vocab_limit=False).
    size = max(int(vocab_size), len(chars) + 2)
    options = {**_TRAINER_OPTIONS, "vocab_size": size}
    digest = hashlib.sha256()
    digest.update(json.dumps({"version": TRAINER_VERSION, **options}, sort_keys=True).encode())
    for line in lines:
        digest.update(line.encode("utf-8"))
    target = Path(cache_dir) / f"unigram-{size}-{digest.hexdigest()[:24]}.model"
    if str(target) in _MODELS and target.is_file():
        return _MODELS[str(target)]
    if not target.is_file():
        log.info("training a %d-piece SentencePiece model on %d word types", size, len(lines))
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".train-") as tmp:
            words = Path(tmp) / "words.tsv"
            words.write_text("".join(lines), encoding="utf-8")
            spm.SentencePieceTrainer.train(
                input=str(words),
                input_format="tsv",
                model_prefix=str(Path(tmp) / "model"),
                minloglevel=2,
                **options,
            )
            os.replace(Path(tmp) / "model.model", target)
    model = SubwordModel(target)
    _MODELS[str(target)] = model
    return model


def word_counts(sents: Iterable[Sequence[str]]) -> Counter[str]:
    """How often each word occurs in these sentences."""
    counts: Counter[str] = Counter()
    for sent in sents:
        counts.update(sent)
    return counts


def resolve_vocab_size(spec: SideSpec, n_sentences: int, n_word_types: int) -> int | None:
    """The vocabulary size of one side's setting (None: words)."""
    if spec == "none":
        return None
    if spec == "auto":
        return auto_vocab_size(n_sentences, n_word_types)
    return int(spec)


def segment_sentences(
    model: SubwordModel, sents: Sequence[Sequence[str]], max_tokens: int
) -> tuple[list[list[str]], list[list[int]], list[int]]:
    """Piece sentences (at most ``max_tokens`` pieces), each piece's word index, and per
    sentence the number of leading words whose pieces all fit (the others stay unaligned)."""
    pieces: list[list[str]] = []
    owners: list[list[int]] = []
    complete: list[int] = []
    for sent in sents:
        tokens: list[str] = []
        owner: list[int] = []
        whole = 0
        for n, word_pieces in enumerate(model.segment_many(sent)):
            tokens.extend(piece_tokens(word_pieces))
            owner.extend([n] * len(word_pieces))
            if len(tokens) <= max_tokens:
                whole = n + 1
            if len(tokens) >= max_tokens:
                break
        pieces.append(tokens[:max_tokens])
        owners.append(owner[:max_tokens])
        complete.append(whole)
    return pieces, owners, complete


def pieces_to_words(
    links: Iterable[Link],
    src_owner: Sequence[int] | None,
    tgt_owner: Sequence[int] | None,
    src_complete: int | None = None,
    tgt_complete: int | None = None,
) -> Alignment:
    """Word links of piece links: words are linked when any of their pieces are.

    ``*_owner[k]`` is piece ``k``'s word (None: that side is words already);
    words from ``*_complete`` on lost pieces to truncation and get no links.
    """
    words = set()
    for i, j in links:
        wi = src_owner[i] if src_owner is not None else i
        wj = tgt_owner[j] if tgt_owner is not None else j
        if (src_complete is None or wi < src_complete) and (tgt_complete is None or wj < tgt_complete):
            words.add((wi, wj))
    return frozenset(words)
