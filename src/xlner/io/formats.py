"""Labelled-sentence outputs chosen by suffix: CoNLL, JSONL, spaCy DocBin; a Hugging Face Dataset.

``.conll``/``.txt``/``.tsv`` -> IOB2 CoNLL, ``.jsonl`` -> JSONL (``spans`` and
``ner_tags``), ``.spacy`` -> spaCy DocBin (needs the ``spacy`` extra).
Standard output, devices and FIFOs without a known suffix get CoNLL; any
other suffix is refused by :func:`output_format` (call it before any work).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Sequence

from xlner.errors import InputError, XlnerError
from xlner.types import Sentence

#: suffix -> output format
OUTPUT_SUFFIXES: dict[str, str] = {
    ".conll": "conll",
    ".txt": "conll",
    ".tsv": "conll",
    ".jsonl": "jsonl",
    ".spacy": "spacy",
}


def output_format(path: str | Path) -> str:
    """``"conll"``, ``"jsonl"`` or ``"spacy"`` for ``path``; an :class:`InputError` for an unknown suffix."""
    from xlner.io.atomic import output_kind

    suffix = Path(str(path)).suffix.lower()
    if suffix in OUTPUT_SUFFIXES:
        fmt = OUTPUT_SUFFIXES[suffix]
        if fmt == "spacy":
            _spacy()
        return fmt
    try:
        streamed = output_kind(path) in ("stdout", "stream")
    except InputError:
        streamed = False
    if streamed:
        return "conll"
    known = ", ".join(OUTPUT_SUFFIXES)
    raise InputError(f"unknown output suffix {suffix or '(none)'!r}: use one of {known}", path)


def write_sentences(path: str | Path, sentences: Iterable[Sentence]) -> None:
    """Write ``sentences`` in the format of ``path``'s suffix (see :func:`output_format`)."""
    from xlner.io.conll import write_conll
    from xlner.io.jsonl import write_jsonl

    fmt = output_format(path)
    if fmt == "spacy":
        write_docbin(path, sentences)
    else:
        (write_jsonl if fmt == "jsonl" else write_conll)(path, sentences)


def _spacy() -> Any:
    try:
        import spacy
    except ImportError:
        raise XlnerError("writing .spacy needs spaCy: pip install 'xlner[spacy]'") from None
    return spacy


def write_docbin(path: str | Path, sentences: Iterable[Sentence]) -> None:
    """Write a spaCy DocBin (``DocBin().from_disk(path)``; entities as ``doc.ents``), atomically."""
    from xlner.io.atomic import atomic_write

    spacy = _spacy()
    from spacy.tokens import Doc, DocBin
    from spacy.tokens import Span as SpacySpan

    vocab = spacy.blank("xx").vocab
    docbin = DocBin(attrs=["ENT_IOB", "ENT_TYPE"], store_user_data=False)
    for index, sentence in enumerate(sentences):
        doc = Doc(vocab, words=list(sentence.tokens), spaces=[True] * len(sentence.tokens))
        try:
            doc.ents = [SpacySpan(doc, s.start, s.end, label=s.label) for s in sentence.spans]
        except (ValueError, IndexError) as error:
            raise InputError(f"sentence {index}: {error}", path) from None
        if sentence.id is not None:
            doc.user_data["id"] = sentence.id
        docbin.add(doc)
    data = docbin.to_bytes()
    with atomic_write(path, "wb") as out:
        out.write(data)


def to_hf_dataset(sentences: Iterable[Sentence], label_names: Sequence[str] | str | None = None) -> Any:
    """A ``datasets.Dataset`` with ``id``, ``tokens`` and ``ner_tags`` (a ``ClassLabel`` sequence, IOB2).

    ``label_names``: tags (``O,B-PER,I-PER``) or entity types (``PER,ORG``), as
    for JSONL; default: ``O`` then ``B-``/``I-`` of every label found, sorted.
    """
    try:
        import datasets
    except ImportError:
        raise XlnerError("to_hf_dataset needs the datasets package: pip install 'xlner[hf]'") from None
    from xlner.io.jsonl import load_label_names
    from xlner.tags import spans_to_tags

    sentences = list(sentences)
    if label_names is None:
        labels = sorted({span.label for sentence in sentences for span in sentence.spans})
        names = ["O"] + [f"{prefix}-{label}" for label in labels for prefix in ("B", "I")]
    else:
        names = load_label_names(label_names if not isinstance(label_names, tuple) else list(label_names))
    index = {name: k for k, name in enumerate(names)}
    ids, tokens, tags = [], [], []
    for k, sentence in enumerate(sentences):
        sentence_tags = spans_to_tags(sentence.spans, len(sentence.tokens))
        missing = sorted(set(sentence_tags) - set(index))
        if missing:
            raise InputError(f"sentence {k}: tag {missing[0]} is not among the label names ({','.join(names)})")
        ids.append(str(sentence.id if sentence.id is not None else k))
        tokens.append(list(sentence.tokens))
        tags.append([index[tag] for tag in sentence_tags])
    features = datasets.Features(
        {
            "id": datasets.Value("string"),
            "tokens": datasets.Sequence(datasets.Value("string")),
            "ner_tags": datasets.Sequence(datasets.ClassLabel(names=names)),
        }
    )
    return datasets.Dataset.from_dict({"id": ids, "tokens": tokens, "ner_tags": tags}, features=features)
