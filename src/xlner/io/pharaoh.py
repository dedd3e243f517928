"""Pharaoh word alignments: ``i-j i-j ...`` per sentence pair, ``i`` source and ``j`` target word index.

An empty line is a pair without links. Links are written sorted and split
on ASCII spaces and tabs only. A line may start with ``ID<TAB>`` (as
TransAlign writes); the part before the first tab is an id only when it is not
itself a list of links (so ``0-0 1-1<TAB>`` keeps its links). Integer ids must
count up by one per line; other ids must be unique. :func:`read_pharaoh_with_ids`
returns the ids.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

from xlner.errors import InputError
from xlner.io.atomic import atomic_write
from xlner.io.text import read_lines, split_columns
from xlner.types import Alignment, Link


def parse_links(text: str) -> Alignment:
    """``"0-0 1-2"`` -> ``frozenset({(0, 0), (1, 2)})``; raises :class:`InputError` (no location) when malformed."""
    links = set()
    for item in split_columns(text):
        source, sep, target = item.partition("-")
        if not (sep and source.isdigit() and target.isdigit() and source.isascii() and target.isascii()):
            raise InputError(f"expected links like 3-5 (source-target word indices), found {item!r}")
        links.add((int(source), int(target)))
    return frozenset(links)


def _is_links(text: str) -> bool:
    try:
        parse_links(text)
    except InputError:
        return False
    return True


def read_pharaoh_with_ids(path: str | Path) -> tuple[list[str | None], list[Alignment]]:
    """Ids (None where a line has no ``ID<TAB>`` prefix) and one alignment per line; errors name ``FILE:LINE``."""
    ids: list[str | None] = []
    alignments = []
    for _, sentence_id, alignment in parse_pharaoh_lines(enumerate(read_lines(path), start=1), path):
        ids.append(sentence_id)
        alignments.append(alignment)
    return ids, alignments


def parse_pharaoh_lines(
    numbered: Iterable[tuple[int, str]], path: str | Path, before_error: Callable[[], None] | None = None
) -> Iterator[tuple[int, str | None, Alignment]]:
    """``(line number, id or None, links)`` of Pharaoh lines; ids must not repeat and integer ids must count up
    with the lines. ``before_error`` runs before an error is raised (streamed readers read the rest first)."""
    seen: dict[str, int] = {}
    offset: int | None = None  # integer ids: id - line index, the same on every line
    sentence_id: str | None

    def error(reason: str, number: int) -> InputError:
        if before_error is not None:
            before_error()
        return InputError(reason, path, number)

    for number, line in numbered:
        sentence_id, tab, links = line.partition("\t")
        if not tab or _is_links(sentence_id):
            sentence_id, links = None, line.replace("\t", " ")
        try:
            alignment = parse_links(links)
        except InputError as bad:
            raise error(bad.reason, number) from None
        if sentence_id is not None:
            sentence_id = sentence_id.strip(" ")
            if sentence_id in seen:
                raise error(f"id {sentence_id!r} repeats line {seen[sentence_id]}", number)
            seen[sentence_id] = number
            if sentence_id.isdigit() and sentence_id.isascii():
                if offset is None:
                    offset = int(sentence_id) - (number - 1)
                elif int(sentence_id) != offset + number - 1:
                    expected = offset + number - 1
                    raise error(
                        f"id {sentence_id} is out of order: expected {expected} (one line per sentence, in order)",
                        number,
                    )
        yield number, sentence_id, alignment


def read_pharaoh(path: str | Path) -> list[Alignment]:
    """One alignment per line (an ``ID<TAB>`` prefix is skipped); errors name ``FILE:LINE``."""
    return read_pharaoh_with_ids(path)[1]


def format_links(alignment: Iterable[Link]) -> str:
    """Sorted ``i-j`` links joined by spaces."""
    return " ".join(f"{i}-{j}" for i, j in sorted(alignment))


def write_pharaoh(path: str | Path, alignments: Iterable[Iterable[Link]]) -> None:
    """Write one line of sorted links per alignment, atomically."""
    with atomic_write(path) as out:
        for index, alignment in enumerate(alignments):
            links = sorted(alignment)
            for i, j in links:
                if not (isinstance(i, int) and isinstance(j, int) and i >= 0 and j >= 0):
                    raise InputError(f"alignment {index}: invalid link {(i, j)!r}: need two word indices >= 0", path)
            out.write(format_links(links) + "\n")


def validate(
    alignments: Sequence[Iterable[Link]],
    src_lens: Sequence[int],
    tgt_lens: Sequence[int],
    path: str | Path | None = None,
) -> None:
    """Check counts and that every link lies inside its sentences; errors name line ``k + 1`` of ``path``."""
    if not (len(alignments) == len(src_lens) == len(tgt_lens)):
        raise InputError(
            f"{len(alignments)} alignments for {len(src_lens)} source and {len(tgt_lens)} target sentences", path
        )
    for index, (alignment, n_src, n_tgt) in enumerate(zip(alignments, src_lens, tgt_lens)):
        for i, j in sorted(alignment):
            if i >= n_src or j >= n_tgt:
                message = f"link {i}-{j} is outside the sentence pair ({n_src} source, {n_tgt} target words)"
                if path is None:
                    raise InputError(f"alignment line {index + 1}: {message}")
                raise InputError(message, path, index + 1)
