"""Symmetrization of two directional word alignments (Koehn et al. 2003).

Both inputs are in (source i, target j) orientation: ``forward`` is the
alignment a source->target model produced, ``reverse`` the one of the
target->source model, already flipped to (i, j).

* ``intersection`` / ``union``: set operations (high precision / high recall).
* ``grow-diag``: start from the intersection and repeatedly add links of the
  union that neighbour (8 directions) an existing link and cover a word that
  is still unaligned on either side, until nothing changes.
* ``grow-diag-final``: then add the remaining links of ``forward``, then of
  ``reverse``, whose source *or* target word is still unaligned.
* ``grow-diag-final-and``: same, but both words must be unaligned.

Iteration is in sorted (i, j) order, so the result is deterministic.
"""

from __future__ import annotations

from typing import Iterable

from xlner.types import Alignment, Link

METHODS = ("intersection", "union", "grow-diag", "grow-diag-final", "grow-diag-final-and")
_NEIGHBOURS = ((-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1))


def symmetrize(
    forward: Iterable[Link],
    reverse: Iterable[Link],
    method: str = "grow-diag-final-and",
    src_len: int | None = None,
    tgt_len: int | None = None,
) -> Alignment:
    """Combine two directional alignments with ``method`` (one of :data:`METHODS`).

    ``src_len``/``tgt_len``, when given, are checked against the link indices.
    """
    if method not in METHODS:
        raise ValueError(f"unknown symmetrization {method!r}: expected one of {', '.join(METHODS)}")
    fwd, rev = set(forward), set(reverse)
    for i, j in fwd | rev:
        if i < 0 or j < 0 or (src_len is not None and i >= src_len) or (tgt_len is not None and j >= tgt_len):
            raise ValueError(f"link {i}-{j} out of range for sentence lengths {src_len} x {tgt_len}")
    if method == "intersection":
        return frozenset(fwd & rev)
    if method == "union":
        return frozenset(fwd | rev)
    links = _grow_diag(fwd & rev, fwd | rev)
    if method == "grow-diag-final":
        _final(links, fwd, rev, both_unaligned=False)
    elif method == "grow-diag-final-and":
        _final(links, fwd, rev, both_unaligned=True)
    return frozenset(links)


def _grow_diag(start: set[Link], union: set[Link]) -> set[Link]:
    links = set(start)
    src_done = {i for i, _ in links}
    tgt_done = {j for _, j in links}
    changed = True
    while changed:
        changed = False
        for i, j in sorted(links):
            for di, dj in _NEIGHBOURS:
                ni, nj = i + di, j + dj
                if (ni, nj) in union and (ni, nj) not in links and (ni not in src_done or nj not in tgt_done):
                    links.add((ni, nj))
                    src_done.add(ni)
                    tgt_done.add(nj)
                    changed = True
    return links


def _final(links: set[Link], fwd: set[Link], rev: set[Link], both_unaligned: bool) -> None:
    src_done = {i for i, _ in links}
    tgt_done = {j for _, j in links}
    for direction in (fwd, rev):
        for i, j in sorted(direction):
            if (i, j) in links:
                continue
            free_i, free_j = i not in src_done, j not in tgt_done
            if (free_i and free_j) if both_unaligned else (free_i or free_j):
                links.add((i, j))
                src_done.add(i)
                tgt_done.add(j)
