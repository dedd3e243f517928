"""CoNLL files: one ``token ... tag`` line per token, blank lines between sentences.

Columns are split on ASCII spaces and tabs only (a token may hold U+00A0); the token is the first
column and the tag is ``tag_column`` (0-based, negative counts from the end,
default the last). ``-DOCSTART-`` lines end a sentence and are skipped; any
number of blank lines separate sentences; CRLF and a UTF-8 BOM are accepted.
Written files are ``token<TAB>tag`` in IOB2.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from xlner.errors import InputError
from xlner.io.atomic import atomic_write
from xlner.io.text import check_token, read_lines, split_columns
from xlner.tags import (
    POLICIES,
    REPAIR_HINT,
    SCHEMES,
    LabelMap,
    TagError,
    as_label_map,
    check_choice,
    detect_scheme,
    spans_to_tags,
    tags_to_spans,
)
from xlner.types import Sentence


@dataclass
class ConllData:
    """Sentences read from one CoNLL file.

    ``lines[k]`` is the 1-based line of sentence ``k``'s first token,
    ``scheme`` the tag scheme used to decode (``""`` when tags were not read)
    and ``repairs`` how many invalid tags ``policy="repair"`` fixed.
    """

    path: str
    sentences: list[Sentence] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)
    scheme: str = ""
    repairs: int = 0

    def __len__(self) -> int:
        return len(self.sentences)

    def __iter__(self) -> Iterator[Sentence]:
        return iter(self.sentences)

    def __getitem__(self, index: int) -> Sentence:
        return self.sentences[index]

    def where(self, index: int) -> str:
        """``"path:line"`` of sentence ``index``."""
        return f"{self.path}:{self.lines[index]}"


def _tag_index_rule(tag_column: int) -> tuple[int, str]:
    """Minimum column count for ``tag_column`` and the error text when a line has fewer."""
    if tag_column == 0:
        raise InputError("tag_column 0 is the token column: use -1 (last) or a column >= 1")
    needed = tag_column + 1 if tag_column > 0 else max(2, 1 - tag_column)
    if tag_column == -1:
        expected = "expected TOKEN and TAG"
    else:
        expected = f"expected at least {needed} columns (TOKEN first, TAG in column {tag_column})"
    return needed, expected


def _read_blocks(path: str | Path, tag_column: int | None) -> tuple[list[list[str]], list[list[str]], list[int]]:
    """Token lists, tag lists (empty when ``tag_column`` is None) and first lines of each sentence."""
    needed, expected = (1, "") if tag_column is None else _tag_index_rule(tag_column)
    tokens_of: list[list[str]] = []
    tags_of: list[list[str]] = []
    first_lines: list[int] = []
    tokens: list[str] = []
    tags: list[str] = []
    for number, line in enumerate(read_lines(path), start=1):
        columns = split_columns(line)
        if not columns or columns[0] == "-DOCSTART-":
            if tokens:
                tokens_of.append(tokens)
                tags_of.append(tags)
                tokens, tags = [], []
            continue
        if len(columns) < needed:
            found = f"{len(columns)} column" + ("" if len(columns) == 1 else "s")
            raise InputError(f"{expected}, found {found}: {line.strip()!r}", path, number)
        if not tokens:
            first_lines.append(number)
        tokens.append(columns[0])
        if tag_column is not None:
            tags.append(columns[tag_column])
    if tokens:
        tokens_of.append(tokens)
        tags_of.append(tags)
    return tokens_of, tags_of, first_lines


def read_conll(
    path: str | Path,
    *,
    tag_column: int = -1,
    scheme: str = "auto",
    policy: str = "strict",
    label_map: LabelMap | Mapping[str, str] | None = None,
) -> ConllData:
    """Read a tagged CoNLL file into sentences with spans.

    ``scheme``: ``auto`` (detected over the whole file, see
    :func:`xlner.tags.detect_scheme`), ``iob1``, ``iob2``, ``bioes`` or
    ``bilou``. ``policy``: ``strict`` raises ``FILE:LINE: ...`` on an invalid
    sequence, ``repair`` fixes it as seqeval does and counts it.
    ``label_map`` relabels or drops (``-> O``) the decoded spans.
    """
    if scheme != "auto":
        scheme = check_choice(scheme, SCHEMES, "tag scheme")
    policy = check_choice(policy, POLICIES, "policy")
    tokens_of, tags_of, first_lines = _read_blocks(path, tag_column)
    if scheme == "auto":
        try:
            scheme = detect_scheme(tags_of)
        except InputError as error:
            raise InputError(error.reason, path) from None
    mapping = as_label_map(label_map)
    data = ConllData(str(path), scheme=scheme, lines=first_lines)
    for index, (tokens, tags) in enumerate(zip(tokens_of, tags_of)):
        try:
            spans, repairs = tags_to_spans(tags, scheme, policy)
        except TagError as error:
            reason = f"{error.reason}; {REPAIR_HINT}" if error.repairable else error.reason
            raise InputError(reason, path, first_lines[index] + error.index) from None
        data.repairs += repairs
        data.sentences.append(Sentence(tokens, mapping.apply(spans), str(index)))
    return data


def read_conll_tokens(path: str | Path) -> ConllData:
    """Read only the tokens (first column) of a CoNLL file; tags, if any, are ignored."""
    tokens_of, _, first_lines = _read_blocks(path, None)
    sentences = [Sentence(tokens, [], str(index)) for index, tokens in enumerate(tokens_of)]
    return ConllData(str(path), sentences, first_lines)


def write_conll(path: str | Path, sentences: Iterable[Sentence]) -> None:
    """Write ``token<TAB>tag`` (IOB2) lines, a blank line after each sentence, atomically.

    Raises :class:`InputError` (and leaves ``path`` untouched) for an empty
    sentence, a token with whitespace, or overlapping / out-of-range spans.
    """
    with atomic_write(path) as out:
        for index, sentence in enumerate(sentences):
            name = f"sentence {index}" + ("" if sentence.id in (None, str(index)) else f" (id {sentence.id})")
            try:
                if not sentence.tokens:
                    raise InputError("an empty sentence cannot be written as CoNLL")
                tags = spans_to_tags(sentence.spans, len(sentence.tokens))
                lines = [f"{check_token(token)}\t{tag}\n" for token, tag in zip(sentence.tokens, tags)]
            except InputError as error:
                raise InputError(f"{name}: {error.reason}", path) from None
            out.write("".join(lines) + "\n")


def check_same_tokens(gold: Any, pred: Any) -> None:
    """Raise :class:`InputError` unless both files hold the same sentences of the same tokens.

    ``gold`` and ``pred`` are :class:`ConllData` or :class:`~xlner.io.text.Corpus`.
    The message names both sentence counts, or the first differing sentence
    (1-based) as ``FILE:LINE`` in each file and the first differing token.
    """
    if len(gold) != len(pred):
        raise InputError(f"{gold.path} has {len(gold)} sentences but {pred.path} has {len(pred)}")
    for index, (a, b) in enumerate(zip(gold, pred)):
        if a.tokens == b.tokens:
            continue
        where = f"sentence {index + 1} differs ({gold.where(index)} and {pred.where(index)})"
        for k, (x, y) in enumerate(zip(a.tokens, b.tokens)):
            if x != y:
                raise InputError(f"{where}: token {k + 1} is {x!r} in {gold.path} but {y!r} in {pred.path}")
        raise InputError(f"{where}: {len(a.tokens)} tokens in {gold.path} but {len(b.tokens)} in {pred.path}")
