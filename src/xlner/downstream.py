"""Downstream target-language tagger: a CPU CRF over standard word features.

Translate-train ends by training a tagger on the projected (silver) target
sentences and scoring it on gold target test data. :func:`train_crf` does this
with sklearn-crfsuite (``pip install sklearn-crfsuite``) in minutes on a CPU;
:func:`evaluate_silver` trains and scores in one call.

Features per word: bias, lower-cased word, prefixes and suffixes (1-4
characters), word shape (``Xxxx``, ``dd``), title/upper/digit/punctuation
flags, the same lexical features of the words at -2..+2, and BOS/EOS markers.
Training (L-BFGS with elastic-net ``c1``/``c2``) is deterministic: the same
sentences and settings give the same model and predictions.

Future work: a transformer tagger fine-tuned on a GPU (e.g. XLM-R / AfroXLMR)
for the strongest downstream numbers.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from xlner.errors import InputError, XlnerError
from xlner.tags import LabelMap, as_label_map, spans_to_tags, tags_to_spans
from xlner.types import Sentence, Span

if TYPE_CHECKING:
    from xlner.metrics import Report

__all__ = ["CrfTagger", "evaluate_silver", "train_crf", "word_features"]

FEATURES_VERSION = 1  # bump when word_features changes: saved models record it
_MODEL_FILE = "model.crfsuite"
_META_FILE = "xlner-crf.json"


def _shape(word: str) -> str:
    """``"Abuja-2"`` -> ``"Xx-d"``: character classes with repeats collapsed."""
    out: list[str] = []
    for char in word:
        kind = "X" if char.isupper() else "x" if char.islower() else "d" if char.isdigit() else char
        if not out or out[-1] != kind:
            out.append(kind)
    return "".join(out)


def _lexical(word: str, prefix: str) -> dict[str, Any]:
    return {
        f"{prefix}lower": word.lower(),
        f"{prefix}shape": _shape(word),
        f"{prefix}title": word.istitle(),
        f"{prefix}upper": word.isupper(),
    }


def word_features(tokens: Sequence[str], i: int) -> dict[str, Any]:
    """The CRF features of ``tokens[i]`` (see the module doc)."""
    word = tokens[i]
    features: dict[str, Any] = {"bias": 1.0, **_lexical(word, "")}
    lower = word.lower()
    for n in range(1, 5):
        if len(lower) > n:
            features[f"pre{n}"] = lower[:n]
            features[f"suf{n}"] = lower[-n:]
    features["digit"] = word.isdigit()
    features["has_digit"] = any(c.isdigit() for c in word)
    features["punct"] = not any(c.isalnum() for c in word)
    features["len"] = str(min(len(word), 10))
    for offset in (-2, -1, 1, 2):
        j = i + offset
        if 0 <= j < len(tokens):
            features.update(_lexical(tokens[j], f"{offset:+d}:"))
        elif j == -1:
            features["BOS"] = True
        elif j == len(tokens):
            features["EOS"] = True
    return features


def _sentence_features(tokens: Sequence[str]) -> list[dict[str, Any]]:
    return [word_features(tokens, i) for i in range(len(tokens))]


class CrfTagger:
    """A trained CRF; ``tag(token_lists)`` returns spans (the :class:`xlner.tag.base.Tagger` protocol)."""

    def __init__(self, model: bytes, settings: Mapping[str, Any] | None = None):
        import pycrfsuite

        self.model = model
        self.settings = dict(settings or {})
        self._tagger = pycrfsuite.Tagger()
        self._tagger.open_inmemory(model)

    @property
    def labels(self) -> list[str]:
        """The tags the model knows (IOB2)."""
        return list(self._tagger.labels())

    def tag(self, sentences: Sequence[Sequence[str]]) -> list[list[Span]]:
        """Entity spans for each tokenized sentence (empty sentences get none)."""
        out = []
        for tokens in sentences:
            tags = self._tagger.tag(_sentence_features(tokens)) if tokens else []
            out.append(tags_to_spans(tags, "iob2", "repair")[0])
        return out

    def save(self, directory: str | Path) -> Path:
        """Write ``model.crfsuite`` and ``xlner-crf.json`` (settings) into ``directory``."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        (directory / _MODEL_FILE).write_bytes(self.model)
        meta = {"features_version": FEATURES_VERSION, "settings": self.settings}
        (directory / _META_FILE).write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path) -> "CrfTagger":
        """Read a tagger written by :meth:`save`."""
        directory = Path(directory)
        for name in (_MODEL_FILE, _META_FILE):
            if not (directory / name).is_file():
                raise InputError(f"not a saved CRF tagger: {name} is missing", directory)
        try:
            meta = json.loads((directory / _META_FILE).read_text(encoding="utf-8"))
        except json.JSONDecodeError as error:
            raise InputError(f"invalid JSON: {error.msg}", directory / _META_FILE, error.lineno) from None
        version = meta.get("features_version")
        if version != FEATURES_VERSION:
            raise InputError(
                f"model uses features version {version}, this xlner uses {FEATURES_VERSION}: retrain it", directory
            )
        return cls((directory / _MODEL_FILE).read_bytes(), meta.get("settings"))


def train_crf(
    sentences: Sequence[Sentence],
    *,
    c1: float = 0.1,
    c2: float = 0.1,
    max_iterations: int = 100,
    seed: int = 0,
    progress: bool = True,
) -> CrfTagger:
    """Train a CRF on sentences with (silver or gold) spans.

    L-BFGS training is deterministic, so ``seed`` changes nothing today; it
    is recorded with the model for stochastic trainers to come.
    Sentences without tokens are skipped; overlapping spans are an error.
    """
    try:
        import sklearn_crfsuite
    except ImportError:
        raise XlnerError("the CRF tagger needs sklearn-crfsuite: pip install sklearn-crfsuite") from None
    from tqdm import tqdm

    features, labels = [], []
    for index, sentence in enumerate(tqdm(sentences, desc="CRF features", unit="sent", disable=not progress)):
        if not sentence.tokens:
            continue
        try:
            labels.append(spans_to_tags(sentence.spans, len(sentence.tokens)))
        except InputError as error:
            raise InputError(f"training sentence {index} (id {sentence.id}): {error.reason}") from None
        features.append(_sentence_features(sentence.tokens))
    if not features:
        raise XlnerError("no training sentences with tokens")
    settings = {"c1": c1, "c2": c2, "max_iterations": max_iterations, "seed": seed}
    with tempfile.TemporaryDirectory(prefix="xlner-crf-") as tmp:
        path = Path(tmp) / _MODEL_FILE
        crf = sklearn_crfsuite.CRF(
            algorithm="lbfgs",
            c1=c1,
            c2=c2,
            max_iterations=max_iterations,
            all_possible_transitions=True,
            model_filename=str(path),
        )
        crf.fit(features, labels)
        model = path.read_bytes()
    return CrfTagger(model, settings)


def evaluate_silver(
    train_sentences: Sequence[Sentence],
    test_sentences: Sequence[Sentence],
    label_map: LabelMap | Mapping[str, str] | None = None,
    **crf_options: Any,
) -> "Report":
    """Train :func:`train_crf` on (silver) ``train_sentences``, score on gold ``test_sentences``.

    ``label_map`` (e.g. ``{"DATE": "O"}``) is applied to the training spans
    and to both sides of the evaluation. Returns a :class:`xlner.metrics.Report`
    whose ``extra`` holds the sentence counts and the training seconds.
    """
    from xlner.metrics import evaluate_spans

    mapping = as_label_map(label_map)
    train = [Sentence(s.tokens, mapping.apply(s.spans), s.id) for s in train_sentences]
    start = time.perf_counter()
    tagger = train_crf(train, **crf_options)
    seconds = time.perf_counter() - start
    predicted = tagger.tag([s.tokens for s in test_sentences])
    report = evaluate_spans([s.spans for s in test_sentences], predicted, mapping)
    report.extra.update({"train_sentences": len(train), "train_seconds": round(seconds, 2), "tagger": "crf"})
    return report
