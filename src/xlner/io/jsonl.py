"""JSONL sentences, one JSON object per line, in either of two layouts.

xlner's layout: ``{"id": "...", "tokens": [...], "spans": [[start, end, label], ...]}``
(``spans`` are half-open token ranges and may be omitted for unlabelled
sentences).

Hugging Face layout: ``{"id": "...", "tokens": [...], "ner_tags": [...]}`` with
one tag per token, either strings (``"B-PER"``) or integers indexing a list of
label names. The names come from ``label_names`` (a list, ``"O,B-PER,I-PER"``,
entity types ``"PER,ORG"`` meaning ``O, B-PER, I-PER, B-ORG, I-ORG`` as the
Hugging Face NER datasets order them, or a file), else from a file beside the
data: ``STEM.labels``, ``label_names.txt``, ``label_names.json``,
``dataset_info.json`` or ``features.json`` (a JSON list, ``{"label_names": [...]}``,
Hugging Face ``features``/``dataset_info``, or ``id2label``). Tags are decoded
like CoNLL tags (scheme detected over the whole file, ``policy`` for invalid
sequences).

``id`` is optional (the sentence index is used when absent). Blank lines are
skipped.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterable, Sequence

from xlner.errors import InputError
from xlner.io.atomic import atomic_write
from xlner.io.text import Corpus, check_token, read_lines
from xlner.tags import REPAIR_HINT, TagError, check_choice, detect_scheme, spans_to_tags, tags_to_spans
from xlner.types import Sentence, Span, spans_to_json

LABEL_FILES = ("label_names.txt", "label_names.json", "dataset_info.json", "features.json")
LAYOUTS = ("both", "spans", "hf")


def _is_tag(name: str) -> bool:
    return name == "O" or (len(name) > 2 and name[1] == "-" and name[0] in "BIESLU")


def tag_names(names: Sequence[str]) -> list[str]:
    """Tags for integer ``ner_tags``: ``names`` as given when they are tags (``O, B-PER, ...``);
    entity types (``PER, ORG``) become ``O, B-PER, I-PER, B-ORG, I-ORG``."""
    names = [str(name).strip() for name in names]
    if not names or any(not name or any(c in " \t\r\n" for c in name) for name in names):
        raise InputError(
            f"bad label names {names!r}: expected tags such as O,B-PER,I-PER or entity types such as PER,ORG"
        )
    tags = [_is_tag(name) for name in names]
    if all(tags):
        return names
    if any(tags):
        raise InputError(f"label names mix tags and entity types: {','.join(names)}")
    return ["O"] + [f"{prefix}-{name}" for name in names for prefix in ("B", "I")]


def _names_in_json(data: Any) -> list[str] | None:
    if isinstance(data, list) and all(isinstance(x, str) for x in data):
        return data
    if not isinstance(data, dict):
        return None
    if isinstance(data.get("id2label"), dict):
        try:
            return [data["id2label"][key] for key in sorted(data["id2label"], key=int)]
        except (ValueError, TypeError):
            return None
    for key in ("label_names", "names", "features", "ner_tags", "feature"):
        if key in data:
            found = _names_in_json(data[key])
            if found:
                return found
    return None


def load_label_names(value: Sequence[str] | str | Path) -> list[str]:
    """Tag names from a list, a comma-separated string or a file (see the module docstring)."""
    if isinstance(value, (list, tuple)):
        return tag_names(value)
    text = str(value)
    if isinstance(value, Path) or os.path.isfile(text):
        lines = [line.strip() for line in read_lines(text) if line.strip()]
        body = "\n".join(lines)
        if body.startswith(("[", "{")):
            try:
                found = _names_in_json(json.loads(body))
            except json.JSONDecodeError as error:
                raise InputError(f"invalid JSON: {error.msg}", text, error.lineno) from None
            if not found:
                raise InputError(
                    'expected a JSON list of label names, {"label_names": [...]}, Hugging Face features or id2label',
                    text,
                )
            return tag_names(found)
        names = [name for line in lines for name in line.split(",") if name.strip()]
        if not names:
            raise InputError("no label names in the file", text)
        return tag_names(names)
    return tag_names([name for name in text.split(",") if name.strip()])


def find_label_names(path: str | Path) -> tuple[list[str], str] | None:
    """Label names from a file beside ``path`` (``STEM.labels``, ``label_names.txt``, ...) and that file."""
    path = Path(path)
    for name in (f"{path.stem}.labels", *LABEL_FILES):
        candidate = path.parent / name
        if candidate.is_file():
            return load_label_names(candidate), str(candidate)
    return None


def _parse(record: Any, index: int) -> tuple[Sentence, list[Any] | None]:
    """Sentence (spans of the ``spans`` layout) and the raw ``ner_tags`` (None when absent)."""
    if not isinstance(record, dict):
        raise InputError(f"expected a JSON object, found {type(record).__name__}")
    tokens = record.get("tokens")
    if not isinstance(tokens, list):
        raise InputError('expected "tokens": a list of strings')
    for token in tokens:
        check_token(token)
    raw_tags = record.get("ner_tags")
    both = raw_tags is not None and record.get("spans") is not None  # xlner's default output: spans win
    if raw_tags is not None:
        if not isinstance(raw_tags, list) or len(raw_tags) != len(tokens):
            raise InputError(f'expected "ner_tags": a list of {len(tokens)} tags, one per token')
        kinds = {
            "int" if isinstance(t, int) and not isinstance(t, bool) else "str" if isinstance(t, str) else "bad"
            for t in raw_tags
        }
        if "bad" in kinds or len(kinds) > 1:
            raise InputError('expected "ner_tags" to be all strings (B-PER) or all integers (label indices)')
    spans = []
    for item in record.get("spans", []) or []:
        if not (
            isinstance(item, list)
            and len(item) == 3
            and all(isinstance(x, int) and not isinstance(x, bool) for x in item[:2])
            and isinstance(item[2], str)
        ):
            raise InputError(f"expected a span [start, end, label], found {json.dumps(item, ensure_ascii=False)}")
        start, end, label = item
        if not (0 <= start < end <= len(tokens)):
            raise InputError(
                f"span {json.dumps(item, ensure_ascii=False)} is outside 0 <= start < end <= {len(tokens)}"
            )
        if not label or label == "O" or any(c.isspace() for c in label):
            raise InputError(f"span {json.dumps(item, ensure_ascii=False)} has an invalid label")
        spans.append(Span(start, end, label))
    if both:
        assert raw_tags is not None  # both: ner_tags and spans are present
        if all(isinstance(t, str) for t in raw_tags) and raw_tags != spans_to_tags(spans, len(tokens)):
            raise InputError('"spans" and "ner_tags" disagree: keep one of them')
        raw_tags = None
    sentence_id = record.get("id")
    if sentence_id is None:
        sentence_id = str(index)
    elif isinstance(sentence_id, (str, int)) and not isinstance(sentence_id, bool):
        sentence_id = str(sentence_id)
    else:
        raise InputError('expected "id" to be a string or an integer')
    return Sentence(list(tokens), spans, sentence_id), raw_tags


def _names_of(raw_tags: list[Any], names: list[str] | None) -> list[str]:
    if not raw_tags or isinstance(raw_tags[0], str):
        return raw_tags
    if names is None:
        raise InputError(
            "integer ner_tags need label names: pass --label-names (e.g. O,B-PER,I-PER or PER,ORG, or a file) "
            "or put label_names.txt or dataset_info.json beside the file"
        )
    for tag in raw_tags:
        if not 0 <= tag < len(names):
            raise InputError(f"ner_tag {tag} is outside the {len(names)} label names ({','.join(names)})")
    return [names[tag] for tag in raw_tags]


def _decode(tags: list[str], scheme: str, policy: str) -> tuple[list[Span], int]:
    try:
        return tags_to_spans(tags, scheme, policy)
    except TagError as error:
        reason = f"tag {error.index + 1}: {error.reason}"
        raise InputError(f"{reason}; {REPAIR_HINT}" if error.repairable else reason) from None


def parse_record(
    record: Any, index: int, *, policy: str = "repair", scheme: str = "auto", label_names: Sequence[str] | None = None
) -> Sentence:
    """One decoded JSON value -> Sentence (either layout); raises InputError (no location) when malformed.

    ``ner_tags`` are decoded one record at a time (``scheme="auto"`` detects it from this record).
    """
    sentence, raw_tags = _parse(record, index)
    if raw_tags is not None:
        names = tag_names(label_names) if label_names is not None else None
        sentence.spans, _ = _decode(_names_of(raw_tags, names), scheme, policy)
    return sentence


def read_jsonl_corpus(
    path: str | Path,
    *,
    labels: bool = True,
    policy: str = "strict",
    scheme: str = "auto",
    label_names: Sequence[str] | str | Path | None = None,
) -> Corpus:
    """Read one sentence per non-blank line (either layout); errors name ``FILE:LINE``."""
    from xlner.tags import SCHEMES

    if scheme != "auto":
        scheme = check_choice(scheme, SCHEMES, "tag scheme")
    names = load_label_names(label_names) if label_names is not None else None
    names_searched = names is not None
    sentences: list[Sentence] = []
    numbers: list[int] = []
    tag_lists: list[tuple[int, list[str]]] = []  # (sentence index, tags)
    for number, line in enumerate(read_lines(path), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise InputError(f"invalid JSON: {error.msg} (column {error.colno})", path, number) from None
        try:
            sentence, raw_tags = _parse(record, len(sentences))
            if raw_tags is not None and labels:
                if raw_tags and not isinstance(raw_tags[0], str) and not names_searched:
                    found = find_label_names(path)
                    names = found[0] if found else None
                    names_searched = True
                tag_lists.append((len(sentences), _names_of(raw_tags, names)))
        except InputError as error:
            raise InputError(error.reason, path, number) from None
        sentences.append(sentence)
        numbers.append(number)
    corpus = Corpus(sentences, path, "jsonl", numbers)
    if tag_lists:
        if scheme == "auto":
            try:
                scheme = detect_scheme(tags for _, tags in tag_lists)
            except InputError as error:
                raise InputError(error.reason, path) from None
        corpus.scheme = scheme
        for index, tags in tag_lists:
            try:
                sentences[index].spans, repairs = _decode(tags, scheme, policy)
            except InputError as error:
                raise InputError(error.reason, path, numbers[index]) from None
            corpus.repairs += repairs
            corpus[index] = sentences[index]
    return corpus


def read_jsonl(
    path: str | Path, *, policy: str = "strict", label_names: Sequence[str] | str | Path | None = None
) -> list[Sentence]:
    """Read one sentence per non-blank line (either layout); errors name ``FILE:LINE``."""
    return list(read_jsonl_corpus(path, policy=policy, label_names=label_names))


def write_jsonl(
    path: str | Path, sentences: Iterable[Sentence], *, layout: str = "both", label_names: Sequence[str] | None = None
) -> None:
    """Write one JSON object per sentence (UTF-8), atomically.

    ``layout="both"`` (default): ``spans`` and IOB2 string ``ner_tags``, so
    ``datasets.load_dataset("json", ...)`` reads tokens and tags directly;
    ``layout="spans"``: spans as ``[start, end, label]`` only; ``layout="hf"``:
    IOB2 ``ner_tags`` only, as strings, or as indices into ``label_names`` when given.
    """
    layout = check_choice(layout, LAYOUTS, "JSONL layout")
    names = tag_names(label_names) if label_names is not None else None
    with atomic_write(path) as out:
        for index, sentence in enumerate(sentences):
            try:
                for token in sentence.tokens:
                    check_token(token)
                for span in sentence.spans:
                    if span.end > len(sentence.tokens):
                        raise InputError(
                            f"span [{span.start}, {span.end}) is outside the {len(sentence.tokens)} tokens"
                        )
                    check_token(span.label, "label")
                    if span.label == "O":
                        raise InputError(f"span [{span.start}, {span.end}) has the label 'O'")
                record: dict[str, Any] = {}
                if sentence.id is not None:
                    record["id"] = sentence.id
                record["tokens"] = sentence.tokens
                if layout in ("spans", "both"):
                    record["spans"] = spans_to_json(sentence.spans)
                if layout == "both":
                    record["ner_tags"] = spans_to_tags(sentence.spans, len(sentence.tokens))
                elif layout == "hf":
                    tags = spans_to_tags(sentence.spans, len(sentence.tokens))
                    if names is not None:
                        missing = sorted(set(tags) - set(names))
                        if missing:
                            raise InputError(f"tag {missing[0]} is not among the label names ({','.join(names)})")
                        record["ner_tags"] = [names.index(tag) for tag in tags]
                    else:
                        record["ner_tags"] = tags
            except InputError as error:
                raise InputError(f"sentence {index}: {error.reason}", path) from None
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
