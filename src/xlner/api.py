"""The small API for one sentence pair, as SimAlign has: :func:`align_pair` and :func:`project_pair`.

Heavy modules load only when a function is called, so ``import xlner`` stays light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable, Sequence

if TYPE_CHECKING:
    from xlner.types import Span


def align_pair(
    src_tokens: Sequence[str], tgt_tokens: Sequence[str], aligner: Any = "eflomal", **options: Any
) -> list[tuple[int, int]]:
    """Word-align one sentence pair: sorted ``(i, j)`` links (source word ``i``, target word ``j``).

    ``aligner``: a registered name (``eflomal``, ``simalign``, ...; ``options``
    go to its factory) or an object with ``align(pairs)``. A statistical
    aligner learns from this pair alone unless given ``extra_parallel=``.
    """
    from xlner.align.base import check_tokens

    check_tokens(src_tokens, "src_tokens")
    check_tokens(tgt_tokens, "tgt_tokens")
    if isinstance(aligner, str):
        from xlner.registry import registry

        aligner = registry.aligners.create(aligner, **options)
    elif options:
        raise TypeError("options apply to an aligner given by name, not to an aligner object")
    (links,) = aligner.align([(list(src_tokens), list(tgt_tokens))])
    return sorted((int(i), int(j)) for i, j in links)


def project_pair(
    src_tokens: Sequence[str],
    src_spans: Iterable[Any],
    tgt_tokens: Sequence[str],
    alignment: Iterable[tuple[int, int]] | str,
    method: str = "ilp",
    **options: Any,
) -> list[Span]:
    """Project ``src_spans`` (``Span`` or ``(start, end, label)``) onto ``tgt_tokens`` through ``alignment``.

    ``alignment``: ``(i, j)`` links or a Pharaoh line (``"0-0 1-2"``);
    ``method`` and ``options`` as for :func:`xlner.project.project`
    (``xlner project --list-options``). Returns the target spans, sorted.
    """
    from xlner.align.base import check_tokens
    from xlner.io.pharaoh import parse_links
    from xlner.project import project
    from xlner.types import SentencePair, Span

    check_tokens(src_tokens, "src_tokens")
    check_tokens(tgt_tokens, "tgt_tokens")
    spans = [s if isinstance(s, Span) else Span(int(s[0]), int(s[1]), str(s[2])) for s in src_spans]
    links = parse_links(alignment) if isinstance(alignment, str) else frozenset((int(i), int(j)) for i, j in alignment)
    pair = SentencePair(src_tokens=list(src_tokens), tgt_tokens=list(tgt_tokens), src_spans=spans, alignment=links)
    return project([pair], method=method, **options)[0]
