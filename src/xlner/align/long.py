"""Long sentence pairs cut into windows, so statistical alignment stays linear in the input length.

eflomal's cost per pair grows with the product of its sides' lengths, and its
iteration schedule (``5000 / sqrt(sentences)``) gives a lone pair thousands of
iterations: one 3,000-token pair alone did not align in 300 s. A pair with a
side longer than :data:`LONG_PAIR_TOKENS` tokens is therefore cut into
``ceil(longest side / WINDOW_TOKENS)`` windows;
the ``k``-th cut falls near ``k / windows`` of each side, moved to the nearest
boundary both sides share (its mean position within :data:`SNAP_FRACTION` of a
window of that point): each side is
split into segments after its sentence-internal punctuation (:func:`xlner.types.ends_clause`)
and the segment sequences are paired by length, as Gale and Church pair
sentences (:func:`shared_boundaries`). Without such a boundary the cut is
proportional. Each window
is aligned as a pair of its own and its links are shifted back, so no link
crosses a window boundary. Pairs whose sides are both at most
:data:`LONG_PAIR_TOKENS` tokens are left as they are.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from xlner.types import Alignment, ends_clause

#: A pair with a side longer than this many tokens is aligned in windows.
LONG_PAIR_TOKENS = 256
#: The aimed-for window size (tokens of the longer side).
WINDOW_TOKENS = 128
#: A cut may move to a shared boundary up to this fraction of a window away (mean position of both sides).
SNAP_FRACTION = 0.5

#: A window: (source start, source end, target start, target end), ends exclusive.
Window = tuple[int, int, int, int]


def windows(n_src: int, n_tgt: int, src: Sequence[str] = (), tgt: Sequence[str] = ()) -> list[Window]:
    """The windows of a pair of ``n_src`` and ``n_tgt`` tokens (one window covering it when it is short).

    ``src`` / ``tgt`` are the tokens (for cuts at shared punctuation); without them cuts are proportional.
    """
    if max(n_src, n_tgt) <= LONG_PAIR_TOKENS or min(n_src, n_tgt) == 0:
        return [(0, n_src, 0, n_tgt)]
    count = math.ceil(max(n_src, n_tgt) / WINDOW_TOKENS)
    count = min(count, n_src, n_tgt)  # every window needs a token on each side
    src_cuts, tgt_cuts = [0], [0]
    boundaries = shared_boundaries(src, tgt) if len(src) == n_src and len(tgt) == n_tgt else []
    for k in range(1, count):
        ideal_src, ideal_tgt = k * n_src / count, k * n_tgt / count
        cut = _nearest_boundary(boundaries, k / count, n_src, n_tgt, 1 / count)
        s, t = cut if cut is not None else (round(ideal_src), round(ideal_tgt))
        # keep cuts strictly increasing and leave a token for each later window
        s = min(max(s, src_cuts[-1] + 1), n_src - (count - k))
        t = min(max(t, tgt_cuts[-1] + 1), n_tgt - (count - k))
        src_cuts.append(s)
        tgt_cuts.append(t)
    src_cuts.append(n_src)
    tgt_cuts.append(n_tgt)
    return [(src_cuts[k], src_cuts[k + 1], tgt_cuts[k], tgt_cuts[k + 1]) for k in range(count)]


def _segments(tokens: Sequence[str]) -> list[int]:
    """Positions just after each break token, and the end: the ends of the side's segments (sentences)."""
    ends = [k + 1 for k, token in enumerate(tokens) if ends_clause(token) and k + 1 < len(tokens)]
    return ends + [len(tokens)]


#: Moves of the segment alignment (source segments, target segments) and their penalties.
_MOVES = {(1, 1): 0.0, (1, 2): 1.0, (2, 1): 1.0, (2, 2): 1.5, (1, 0): 3.0, (0, 1): 3.0}
#: The segment alignment keeps within this many segments of the diagonal.
_BAND = 40


def shared_boundaries(src: Sequence[str], tgt: Sequence[str]) -> list[tuple[int, int]]:
    """Cut points (source, target) that both sides share: segment ends matched by length (Gale-Church style).

    Each side is split after its break tokens; a dynamic programme over the
    segment sequences (moves 1-1, 1-2, 2-1, 2-2, 1-0, 0-1, cost the length
    mismatch at the sides' length ratio plus a penalty per move kind) pairs
    them; the ends of the paired groups are the shared boundaries (the pair's
    end included). Linear in the length: the programme stays in a band of
    :data:`_BAND` segments around the diagonal.
    """
    src_ends, tgt_ends = [0] + _segments(src), [0] + _segments(tgt)
    m, n = len(src_ends) - 1, len(tgt_ends) - 1
    ratio = len(tgt) / max(1, len(src))
    inf = float("inf")
    cost: dict[tuple[int, int], float] = {(0, 0): 0.0}
    back: dict[tuple[int, int], tuple[int, int]] = {}
    for x in range(m + 1):
        centre = x * n / max(1, m)
        for y in range(max(0, int(centre) - _BAND), min(n, int(centre) + _BAND) + 1):
            if (x, y) == (0, 0):
                continue
            best, move_from = inf, None
            for (dx, dy), penalty in _MOVES.items():
                prev = (x - dx, y - dy)
                if prev not in cost:
                    continue
                a = (src_ends[x] - src_ends[prev[0]]) * ratio
                b = tgt_ends[y] - tgt_ends[prev[1]]
                value = cost[prev] + 10 * abs(a - b) / (a + b + 1) + penalty
                if value < best:
                    best, move_from = value, prev
            if move_from is not None:
                cost[x, y] = best
                back[x, y] = move_from
    if (m, n) not in cost:
        return [(len(src), len(tgt))]
    path = [(m, n)]
    while path[-1] != (0, 0):
        path.append(back[path[-1]])
    return [(src_ends[x], tgt_ends[y]) for x, y in reversed(path[:-1])]


def _nearest_boundary(
    boundaries: Sequence[tuple[int, int]], share: float, n_src: int, n_tgt: int, window_share: float
) -> tuple[int, int] | None:
    """The shared boundary whose mean position (share of each side) is nearest ``share``, within
    :data:`SNAP_FRACTION` of a window (``window_share`` of the pair)."""
    best: tuple[float, int, int] | None = None
    for i, j in boundaries:
        cost = abs((i / n_src + j / n_tgt) / 2 - share)
        if cost <= SNAP_FRACTION * window_share and (best is None or cost < best[0]):
            best = (cost, i, j)
    return None if best is None else (best[1], best[2])


def split_pairs(
    pairs: Sequence[tuple[Sequence[str], Sequence[str]]],
) -> tuple[list[tuple[Sequence[str], Sequence[str]]], list[tuple[int, int, int]]]:
    """Pairs with long ones cut into windows, and per window (original pair, source offset, target offset)."""
    pieces: list[tuple[Sequence[str], Sequence[str]]] = []
    origin: list[tuple[int, int, int]] = []
    for n, (src, tgt) in enumerate(pairs):
        for s0, s1, t0, t1 in windows(len(src), len(tgt), src, tgt):
            pieces.append((src[s0:s1], tgt[t0:t1]) if (s0, s1, t0, t1) != (0, len(src), 0, len(tgt)) else (src, tgt))
            origin.append((n, s0, t0))
    return pieces, origin


def merge_links(links: Sequence[Alignment], origin: Sequence[tuple[int, int, int]], n_pairs: int) -> list[Alignment]:
    """The windows' links shifted back into their pairs (see :func:`split_pairs`)."""
    merged: list[set[tuple[int, int]]] = [set() for _ in range(n_pairs)]
    for window_links, (n, s0, t0) in zip(links, origin):
        merged[n].update((i + s0, j + t0) for i, j in window_links)
    return [frozenset(m) for m in merged]
