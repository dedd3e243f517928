"""2M-NER / MMNER CoNLL files (Wang et al. 2024): each sentence follows an ``IMGID:<id>`` line.

::

    IMGID:1015799
    RT<TAB>O
    Ronaldo<TAB>B-PER
    <blank line>

Token lines are ``token<TAB>tag`` (any whitespace separates the two columns);
blank lines separate sentences. Each sentence's id is its image id. Tags are
decoded with the scheme detected over the whole file, as :func:`xlner.io.read_conll` does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

from xlner.errors import InputError
from xlner.io.text import read_lines
from xlner.tags import POLICIES, SCHEMES, LabelMap, TagError, as_label_map, check_choice, detect_scheme, tags_to_spans
from xlner.types import Sentence

__all__ = ["read_mmner"]

_PREFIX = "IMGID:"


def _check_not_empty(blocks: list, path: str | Path, number: int) -> None:
    """Raise when the last ``IMGID`` block has no tokens (``number``: the line where that shows)."""
    if blocks and not blocks[-1][2]:
        raise InputError(f"{_PREFIX}{blocks[-1][0]} (line {blocks[-1][1][0]}) has no tokens", path, number)


def read_mmner(
    path: str | Path,
    *,
    scheme: str = "auto",
    policy: str = "strict",
    label_map: LabelMap | Mapping[str, str] | None = None,
) -> list[Sentence]:
    """Read an MMNER file into sentences whose ``id`` is the image id; errors name ``FILE:LINE``."""
    if scheme != "auto":
        scheme = check_choice(scheme, SCHEMES, "tag scheme")
    policy = check_choice(policy, POLICIES, "policy")
    lines = read_lines(path)
    blocks: list[tuple[str, list[int], list[str], list[str]]] = []  # (image id, token line numbers, tokens, tags)
    open_block = False  # tokens may still be added to blocks[-1]
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith(_PREFIX):
            _check_not_empty(blocks, path, number)
            image_id = stripped[len(_PREFIX) :].strip()
            if not image_id:
                raise InputError(f"expected {_PREFIX}<id>, found an empty id", path, number)
            blocks.append((image_id, [number], [], []))
            open_block = True
        elif not stripped:
            open_block = open_block and not blocks[-1][2]  # a blank line ends a sentence that has tokens
        else:
            if not open_block:
                raise InputError(
                    f"expected {_PREFIX}<id> before the tokens of a sentence, found {stripped!r}", path, number
                )
            columns = stripped.split()
            if len(columns) != 2:
                raise InputError(f"expected TOKEN<TAB>TAG, found {len(columns)} column(s): {stripped!r}", path, number)
            blocks[-1][1].append(number)
            blocks[-1][2].append(columns[0])
            blocks[-1][3].append(columns[1])
    _check_not_empty(blocks, path, len(lines))
    if scheme == "auto":
        try:
            scheme = detect_scheme(block[3] for block in blocks)
        except InputError as error:
            raise InputError(error.reason, path) from None
    mapping = as_label_map(label_map)
    sentences = []
    for image_id, numbers, tokens, tags in blocks:
        try:
            spans, _ = tags_to_spans(tags, scheme, policy)
        except TagError as error:
            raise InputError(error.reason, path, numbers[1 + error.index]) from None
        sentences.append(Sentence(tokens, mapping.apply(spans), image_id))
    return sentences
