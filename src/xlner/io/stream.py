"""Incremental readers: the sentences and alignments of a file one at a time, as the whole-file readers read them.

:class:`SentenceFile` reads CoNLL, JSONL or tokenized text like
:func:`xlner.io.text.read_sentences` (same sentences, ids, spans and
``FILE:LINE`` errors, in the same order of precedence) while holding one
sentence at a time. What needs the whole file (the tag scheme, JSONL label
names found beside the file) is learnt by :meth:`SentenceFile.prepare`, one
pass over the file; :meth:`SentenceFile.sentences` can then be iterated as
often as needed. :func:`iter_pharaoh` does the same for Pharaoh alignments.
"""

from __future__ import annotations

import json
import re
from array import array
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from xlner.errors import InputError
from xlner.tags import REPAIR_HINT, TagError, as_label_map, detect_scheme, tags_to_spans
from xlner.types import Alignment, Sentence

_BLOCK = 1 << 20  # bytes decoded at a time


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """``(number, line)`` of a UTF-8 file, 1-based, as :func:`xlner.io.text.read_lines` splits it.

    Decodes a block of whole lines at a time; a block that is not UTF-8 is
    decoded line by line to name the first bad line.
    """
    try:
        handle = open(path, "rb")
    except OSError as error:
        raise InputError(f"cannot read: {error.strerror}", path) from None
    with handle:
        number = 0
        rest = b""
        first = True
        while True:
            try:
                block = handle.read(_BLOCK)
            except OSError as error:
                raise InputError(f"cannot read: {error.strerror}", path, number + 1) from None
            data = rest + block
            if block:
                cut = data.rfind(b"\n") + 1
                if cut == 0:
                    rest = data
                    continue
                data, rest = data[:cut], data[cut:]
            elif not data:
                return
            else:
                rest = b""
            try:
                text = data.decode("utf-8-sig" if first else "utf-8")
            except UnicodeDecodeError:
                _bad_line(path, data, number, first)
                raise  # _bad_line raises; not reached
            first = False
            if "\r\n" in text:
                text = text.replace("\r\n", "\n")
            lines = text.split("\n")
            if text.endswith("\n"):
                lines.pop()
            for line in lines:
                number += 1
                yield number, line
            if not block:
                return


def _bad_line(path: str | Path, data: bytes, before: int, first: bool) -> None:
    """Raise the ``not UTF-8`` error of the first undecodable line of ``data`` (lines ``before + 1`` on)."""
    for number, raw in enumerate(data.split(b"\n"), start=before + 1):
        try:
            raw.decode("utf-8-sig" if first and number == before + 1 else "utf-8")
        except UnicodeDecodeError as error:
            byte = raw[error.start]  # as read_lines names it (after a BOM, 3 bytes early)
            raise InputError(f"not UTF-8 text (byte {byte:#04x})", path, number) from None


def columns(line: str) -> list[str]:
    """:func:`xlner.io.text.split_columns`, faster on lines with single spaces."""
    if "\t" in line:
        line = line.replace("\t", " ")
    parts = line.split(" ")
    return [part for part in parts if part] if "" in parts else parts


_LINKS = re.compile(r"[ \t]*(?:[0-9]+-[0-9]+(?:[ \t]+|$))*")
_NUMBER = re.compile(r"[0-9]+")


def parse_links(text: str) -> Alignment:
    """:func:`xlner.io.pharaoh.parse_links` (same links, same errors), faster on well-formed lines."""
    if _LINKS.fullmatch(text):
        numbers = list(map(int, _NUMBER.findall(text)))
        return frozenset(zip(numbers[0::2], numbers[1::2]))
    from xlner.io.pharaoh import parse_links as checked

    return checked(text)


def drain(path: str | Path) -> None:
    """Read the rest of ``path`` for its encoding errors, which whole-file readers report before any other."""
    for _ in iter_lines(path):
        pass


def sniff_format(path: str | Path) -> str:
    """:func:`xlner.io.text.detect_format`, reading only the first 200 lines (the rest only on an error)."""
    from itertools import islice

    from xlner.io.text import _EXTENSIONS, detect_format, sniff_lines

    if Path(path).suffix.lower() in _EXTENSIONS:
        return detect_format(path)
    return sniff_lines(islice(iter_lines(path), 200), path, before_error=lambda: drain(path))


def _conll_blocks(path: str | Path, tagged: bool) -> Iterator[tuple[int, list[str], list[str]]]:
    """(first line, tokens, tags) of each CoNLL sentence (tags empty unless ``tagged``); errors as in read_conll."""
    from xlner.io.conll import _tag_index_rule

    needed, expected = _tag_index_rule(-1) if tagged else (1, "")
    tokens: list[str] = []
    tags: list[str] = []
    first = 0
    for number, line in iter_lines(path):
        cols = columns(line)
        if not cols or cols[0] == "-DOCSTART-":
            if tokens:
                yield first, tokens, tags
                tokens, tags = [], []
            continue
        if len(cols) < needed:
            found = f"{len(cols)} column" + ("" if len(cols) == 1 else "s")
            error = InputError(f"{expected}, found {found}: {line.strip()!r}", path, number)
            drain(path)
            raise error
        if not tokens:
            first = number
        tokens.append(cols[0])
        if tagged:
            tags.append(cols[-1])
    if tokens:
        yield first, tokens, tags


@dataclass
class SentenceFile:
    """One input file of sentences, read incrementally (see the module docstring).

    ``labels``, ``policy`` and ``label_names`` as for
    :func:`~xlner.io.text.read_sentences`. After :meth:`prepare`:
    ``format``, ``scheme`` (``""`` when no tags are decoded) and the JSONL
    label names; each full pass of :meth:`sentences` sets ``count``,
    ``entities``, ``repairs``, ``labels_seen`` and ``has_tokens``.
    """

    path: str | Path
    labels: bool = True
    policy: str = "strict"
    label_names: Sequence[str] | str | Path | None = None
    format: str = ""
    scheme: str = ""
    count: int = 0
    entities: int = 0
    repairs: int = 0
    labels_seen: set[str] = field(default_factory=set)
    has_tokens: bool = False
    _names: list[str] | None = None
    _tagged: bool = False  # some JSONL record has ner_tags to decode
    _repairs: int = 0  # repairs of the pass under way

    def prepare(self) -> "SentenceFile":
        """Sniff the format and, for tags, detect the scheme over the whole file (one pass); returns self."""
        from xlner.io.jsonl import load_label_names

        self.format = sniff_format(self.path)
        if self.format == "conll" and self.labels:
            box: list[InputError] = []
            self.scheme = self._detect((tags for _, _, tags in self._guard(_conll_blocks(self.path, True), box)), box)
        elif self.format == "jsonl":
            self._names = load_label_names(self.label_names) if self.label_names is not None else None
            if self.labels:  # unlabelled records are only parsed, by sentences()
                box = []
                records = self._guard(self._jsonl_records(search=True), box)
                scheme = self._detect((tags for _, _, tags in records if tags is not None), box)
                self.scheme = scheme if self._tagged else ""
        return self

    def check(self, each: Any = None) -> "array[int]":
        """:meth:`prepare` and one full pass of :meth:`sentences`; returns the token count of each sentence.

        ``each(index, line, tokens)``, when given, sees every sentence. A
        tagged CoNLL file is decoded as IOB2 while its scheme is detected, so
        both need one pass when the file is IOB2 (most are).
        """
        lengths: array[int] = array("q")
        if sniff_format(self.path) == "conll" and self.labels:
            self.format = "conll"
            if self._speculate(lengths, each):
                return lengths
            lengths, each = array("q"), None  # each saw every sentence already
        else:
            self.prepare()
        for index, (line, sentence) in enumerate(self.sentences()):
            lengths.append(len(sentence.tokens))
            if each is not None:
                each(index, line, sentence.tokens)
        return lengths

    def _speculate(self, lengths: "array[int]", each: Any) -> bool:
        """Detect the scheme and decode as IOB2 in one pass; True (counts set) when the scheme is IOB2."""
        box: list[InputError] = []
        failed: list[InputError] = []
        stats = {"entities": 0, "repairs": 0, "has_tokens": False}
        labels: set[str] = set()
        mapping = as_label_map(None)

        def tag_lists() -> Iterator[list[str]]:
            for index, (first, tokens, tags) in enumerate(self._guard(_conll_blocks(self.path, True), box)):
                lengths.append(len(tokens))
                if each is not None:
                    each(index, first, tokens)
                stats["has_tokens"] = True
                if not failed:
                    try:
                        spans, repairs = tags_to_spans(tags, "iob2", self.policy)
                    except TagError as error:
                        reason = f"{error.reason}; {REPAIR_HINT}" if error.repairable else error.reason
                        failed.append(InputError(reason, self.path, first + error.index))
                    else:
                        spans = mapping.apply(spans)
                        stats["repairs"] += repairs
                        stats["entities"] += len(spans)
                        labels.update(span.label for span in spans)
                yield tags

        self.scheme = self._detect(tag_lists(), box)
        if self.scheme != "iob2":
            return False
        if failed:
            raise failed[0]
        self.count, self.entities, self.repairs = len(lengths), stats["entities"], stats["repairs"]
        self.labels_seen, self.has_tokens = labels, bool(stats["has_tokens"])
        return True

    @staticmethod
    def _guard(items: Iterator[Any], box: list[InputError]) -> Iterator[Any]:
        """``items``, stopping at (and keeping) its first input error, so the scheme detector does not relocate it."""
        try:
            yield from items
        except InputError as error:
            box.append(error)

    def _detect(self, tag_lists: Any, box: list[InputError]) -> str:
        """The scheme of ``tag_lists``; an input error stopped in ``box`` while reading them comes first."""
        try:
            scheme = detect_scheme(tag_lists)
        except InputError as error:
            if box:
                raise box[0] from None
            raise InputError(error.reason, self.path) from None
        if box:
            raise box[0]
        return scheme

    def _jsonl_records(self, search: bool) -> Iterator[tuple[int, Sentence, list[str] | None]]:
        """(line, sentence, tag names or None) of each JSONL record; ``search`` looks for label names beside the file."""
        from xlner.io.jsonl import _names_of, _parse, find_label_names

        index = 0
        searched = self._names is not None or not search
        for number, line in iter_lines(self.path):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                drain(self.path)
                raise InputError(f"invalid JSON: {error.msg} (column {error.colno})", self.path, number) from None
            try:
                sentence, raw_tags = _parse(record, index)
                tags = None
                if raw_tags is not None and self.labels:
                    if raw_tags and not isinstance(raw_tags[0], str) and not searched:
                        found = find_label_names(self.path)
                        self._names = found[0] if found else None
                        searched = True
                    tags = _names_of(raw_tags, self._names)
                    self._tagged = True
            except InputError as error:
                drain(self.path)
                raise InputError(error.reason, self.path, number) from None
            index += 1
            yield number, sentence, tags

    def sentences(self) -> Iterator[tuple[int, Sentence]]:
        """``(line, sentence)`` in file order; errors name ``FILE:LINE``. Call :meth:`prepare` first.

        The counts (``count``, ``entities``, ...) are set when a pass ends.
        """
        if not self.format:
            raise RuntimeError("SentenceFile.prepare() must run before sentences()")
        self._repairs = 0
        count = entities = 0
        labels: set[str] = set()
        has_tokens = False
        for line, sentence in self._decoded():
            count += 1
            entities += len(sentence.spans)
            labels.update(span.label for span in sentence.spans)
            has_tokens = has_tokens or bool(sentence.tokens)
            yield line, sentence
        self.count, self.entities, self.labels_seen, self.has_tokens = count, entities, labels, has_tokens
        self.repairs = self._repairs

    def _decoded(self) -> Iterator[tuple[int, Sentence]]:
        mapping = as_label_map(None)
        if self.format == "conll":
            for index, (first, tokens, tags) in enumerate(_conll_blocks(self.path, self.labels)):
                spans: list[Any] = []
                if self.labels:
                    try:
                        spans, repairs = tags_to_spans(tags, self.scheme, self.policy)
                    except TagError as error:
                        reason = f"{error.reason}; {REPAIR_HINT}" if error.repairable else error.reason
                        raise InputError(reason, self.path, first + error.index) from None
                    self._repairs += repairs
                yield first, Sentence(tokens, mapping.apply(spans), str(index))
        elif self.format == "jsonl":
            from xlner.io.jsonl import _decode

            for number, sentence, tag_names in self._jsonl_records(search=False):
                if tag_names is not None:
                    try:
                        sentence.spans, repairs = _decode(tag_names, self.scheme, self.policy)
                    except InputError as error:
                        raise InputError(error.reason, self.path, number) from None
                    self._repairs += repairs
                sentence.spans = mapping.apply(sentence.spans) if self.labels else []
                yield number, sentence
        else:
            for number, line in iter_lines(self.path):
                yield number, Sentence(columns(line), [], str(number - 1))


def iter_pharaoh(path: str | Path) -> Iterator[tuple[int, Alignment]]:
    """``(line, links)`` of a Pharaoh file, checked as :func:`xlner.io.pharaoh.read_pharaoh_with_ids` checks it."""
    from xlner.io.pharaoh import parse_pharaoh_lines

    for number, _, alignment in parse_pharaoh_lines(iter_lines(path), path, before_error=lambda: drain(path)):
        yield number, alignment
