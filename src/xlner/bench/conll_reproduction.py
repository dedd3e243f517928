"""Reproduction of Easy-Label-Projection's heuristic (García-Ferrero et al. 2022) on its own
published alignments: xlner's preset "garcia2022" against the published projected labels.

    xlner bench conll-reproduction [--directions en2de en2es en2it]

For every published en->X file (MT system x aligner) the CoNLL-2003 English test
spans are projected with the published Pharaoh alignment and compared, sentence
by sentence, with the published projected labels. A small re-implementation of
the published code's behaviour (commit 59ab498, the data release), written from
its description in docs/reproduction.md, tells each difference's cause.
Sections: "conll-reproduction" in docs/benchmarks.md; explanations in docs/reproduction.md.
"""

from __future__ import annotations

import argparse
import string
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from xlner.bench.report import add_output_options, command_line, markdown_table, publish
from xlner.data import shared_data_dir
from xlner.errors import InputError
from xlner.io import read_pharaoh
from xlner.io.text import read_lines
from xlner.project import project
from xlner.project.config import PRESETS
from xlner.project.heuristic import is_punctuation, project_heuristic
from xlner.tags import tags_to_spans
from xlner.types import Alignment, SentencePair, Span

DIRECTIONS = ["en2de", "en2es", "en2it"]
#: aligner -> suffix of its alignment file (the one the published code projects with).
ALIGNMENT_FILES = {
    "awesome": "test.talp",
    "fast_align": "test.grow_diag_final-and.talp",
    "mgiza": "test.grow_diag_final-and.talp",
    "simalign": "test.itermax.talp",
}
MT_SYSTEMS = ["DeepL", "MarianMT", "Mbart_many2many", "m2m100"]
#: Difference causes, in the order they are reported.
CAUSES = {
    "overlap": "two entities' projections overlap (published: same label -> union, else the longer stays; "
    "xlner: the shorter entity's projection stays)",
    "false collision": "published bug: a projection lying left of the previous entity's counts as a collision "
    "(merged or dropped)",
    "merge": "groups one word apart whose joint extent exceeds 3 words (published: not merged; xlner: merged)",
    "punctuation": "aligned punctuation (published: ASCII punctuation words removed before grouping; "
    "xlner: Unicode punctuation words removed, so symbols such as $ stay)",
    "out of range": "links to words beyond the sentence",
}
_ASCII_PUNCTUATION = set(string.punctuation)


@dataclass
class Block:
    """One blank-line-separated block of a published file (``-DOCSTART-`` blocks kept, to stay line-aligned)."""

    tokens: list[str]
    tags: list[str]

    @property
    def is_docstart(self) -> bool:
        return bool(self.tokens) and self.tokens[0] == "-DOCSTART-"


def read_blocks(path: Path) -> list[Block]:
    """``token tag`` lines, blank lines between blocks; errors name ``FILE:LINE``."""
    blocks: list[Block] = []
    current = Block([], [])
    for number, line in enumerate(read_lines(path), start=1):
        columns = line.split()
        if not columns:
            if current.tokens:
                blocks.append(current)
            current = Block([], [])
            continue
        if len(columns) < 2:
            raise InputError(f"expected 'token tag', found {line!r}", path, number)
        current.tokens.append(columns[0])
        current.tags.append(columns[-1])
    if current.tokens:
        blocks.append(current)
    return blocks


def spans_of(tags: Sequence[str]) -> list[Span]:
    """IOB2 spans; an I-X after O or another type starts an entity (as the published reader and seqeval do)."""
    return tags_to_spans(tags, "iob2", "repair")[0]


@dataclass
class Reference:
    """Spans the published algorithm gives, and which of its special cases fired (:data:`CAUSES` keys)."""

    spans: list[Span]
    events: set[str] = field(default_factory=set)


def published_heuristic(src_spans: Sequence[Span], tgt_tokens: Sequence[str], alignment: Iterable) -> Reference:
    """Behaviour of Easy-Label-Projection's projection at its data release (see docs/reproduction.md).

    Per source entity, in source order: the target words aligned to it, minus
    words made only of ASCII punctuation; maximal runs; a run is joined to the
    next while the next one ends at most 2 words after the (growing) run's
    first word; the longest run (first on ties). Then, over neighbours in
    source order, a projection whose last word is at or after the next one's
    first word "collides": same label -> union, else the longer one stays
    (the later one on ties). Tags are written in order, later ones overwriting.
    """
    events: set[str] = set()
    n = len(tgt_tokens)
    links: dict[int, set[int]] = {}
    for i, j in alignment:
        if j >= n:
            events.add("out of range")
            continue
        links.setdefault(i, set()).add(j)
    projections: list[tuple[list[int], str]] = []
    for span in src_spans:
        words = sorted({j for i in range(span.start, span.end) for j in links.get(i, ())})
        kept = [j for j in words if not all(c in _ASCII_PUNCTUATION for c in tgt_tokens[j].strip())]
        if any(is_punctuation(tgt_tokens[j]) for j in words) or len(kept) != len(words):
            events.add("punctuation")
        if not kept:
            continue
        runs = [[kept[0], kept[0]]]  # inclusive [first, last]
        for j in kept[1:]:
            if j == runs[-1][1] + 1:
                runs[-1][1] = j
            else:
                runs.append([j, j])
        k = 0
        while k < len(runs) - 1:
            if runs[k + 1][1] - runs[k][0] <= 2:
                runs[k][1] = runs.pop(k + 1)[1]
            else:
                if runs[k + 1][0] - runs[k][1] <= 2:  # a one-word gap xlner would fill
                    events.add("merge")
                k += 1
        first, last = max(runs, key=lambda r: r[1] - r[0])
        projections.append((list(range(first, last + 1)), span.label))
    k = 0
    while k < len(projections) - 1:  # same-label collisions: union
        (a, label_a), (b, label_b) = projections[k], projections[k + 1]
        if a[-1] >= b[0]:
            events.add("overlap" if a[0] <= b[-1] else "false collision")
            if label_a == label_b:
                projections[k] = (sorted(set(a) | set(b)), label_a)
                del projections[k + 1]
                continue
        k += 1
    k = 0
    while k < len(projections) - 1:  # other collisions: the longer stays
        a, b = projections[k][0], projections[k + 1][0]
        if a[-1] >= b[0]:
            events.add("overlap" if a[0] <= b[-1] and len(a) == a[-1] - a[0] + 1 else "false collision")
            del projections[k + 1 if len(a) > len(b) else k]
        else:
            k += 1
    tags = ["O"] * n
    for words, label in projections:
        if any(tags[j] != "O" for j in words) or len(words) != words[-1] - words[0] + 1:
            events.add("false collision")  # overwritten or discontinuous tags
        tags[words[0]] = "B-" + label
        for j in words[1:]:
            tags[j] = "I-" + label
    return Reference(spans_of(tags), events)


@dataclass
class FileResult:
    """Agreement of one published file."""

    direction: str
    mt: str
    aligner: str
    sentences: int
    xlner_same: int
    reference_same: int
    xlner_seconds: float
    core_seconds: float
    reference_seconds: float
    causes: Counter = field(default_factory=Counter)  # cause (or "+"-joined causes) -> differing sentences
    examples: dict[str, tuple] = field(default_factory=dict)


def published_files(root: Path, directions: Sequence[str]) -> list[tuple[str, str, str, Path, Path]]:
    """(direction, MT, aligner, projected .tsv, alignment .talp) for every published en->X test file."""
    found = []
    for direction in directions:
        for mt in MT_SYSTEMS:
            for aligner, suffix in ALIGNMENT_FILES.items():
                tsv = root / "automatic_projections" / direction / f"{mt}.50000.{aligner}.test.tsv"
                talp = root / "automatic_projections" / "alignments" / direction / f"{mt}.50000.{aligner}.{suffix}"
                if tsv.exists() and talp.exists():
                    found.append((direction, mt, aligner, tsv, talp))
    return found


def compare_file(
    source: list[Block], tsv: Path, talp: Path, direction: str, mt: str, aligner: str, limit: int | None = None
) -> FileResult:
    """Project with xlner (garcia2022) and the reference; count sentences equal to the published spans."""
    target = read_blocks(tsv)
    alignments: list[Alignment] = read_pharaoh(talp)
    if not (len(source) == len(target) == len(alignments)):
        counts = f"{len(source)} source blocks, {len(target)} projected blocks, {len(alignments)} alignment lines"
        raise InputError(f"{counts}: expected the same number", tsv)
    keep = [k for k, block in enumerate(source) if not block.is_docstart][:limit]
    pairs = [SentencePair(source[k].tokens, target[k].tokens, spans_of(source[k].tags), alignments[k]) for k in keep]
    kept_alignments = [alignments[k] for k in keep]  # each pair's alignment, typed as present
    published = [spans_of(target[k].tags) for k in keep]
    started = time.perf_counter()
    ours = project(pairs, "heuristic", preset="garcia2022")
    xlner_seconds = time.perf_counter() - started
    started = time.perf_counter()
    options = PRESETS["garcia2022"]
    for p, alignment in zip(pairs, kept_alignments):
        project_heuristic(p.src_spans, len(p.tgt_tokens), alignment, tgt_tokens=p.tgt_tokens, **options)
    core_seconds = time.perf_counter() - started
    started = time.perf_counter()
    reference = [published_heuristic(p.src_spans, p.tgt_tokens, a) for p, a in zip(pairs, kept_alignments)]
    reference_seconds = time.perf_counter() - started
    result = FileResult(direction, mt, aligner, len(pairs), 0, 0, xlner_seconds, core_seconds, reference_seconds)
    for k, pair, mine, ref, pub in zip(keep, pairs, ours, reference, published):
        result.reference_same += set(ref.spans) == set(pub)
        if set(mine) == set(pub):
            result.xlner_same += 1
            continue
        cause = "+".join(c for c in CAUSES if c in ref.events) or "unexplained"
        if set(ref.spans) != set(pub):
            cause = "reference also differs"
        result.causes[cause] += 1
        result.examples.setdefault(cause, (k, pair, pub, mine))
    return result


def describe_example(pair: SentencePair, published: list[Span], ours: list[Span]) -> str:
    """A short text form of one differing sentence (entities, links, both projections)."""

    def show(spans, tokens):
        return (
            "; ".join(f"{s.label} [{s.start},{s.end}) '{' '.join(tokens[s.start : s.end])}'" for s in spans) or "none"
        )

    assert pair.alignment is not None  # the pairs of compare_file are aligned
    links = sorted((i, j) for i, j in pair.alignment if any(s.start <= i < s.end for s in pair.src_spans))
    return (
        f"source: {show(pair.src_spans, pair.src_tokens)}; entity links: "
        f"{' '.join(f'{i}-{j}' for i, j in links)}; published: {show(published, pair.tgt_tokens)}; "
        f"xlner: {show(ours, pair.tgt_tokens)}"
    )


def run(directions: list[str], command: str) -> tuple[str, list[FileResult]]:
    root = shared_data_dir() / "conll-projection"
    source = read_blocks(root / "original" / "en" / "en.conll.test.tsv")
    results = []
    for direction, mt, aligner, tsv, talp in published_files(root, directions):
        results.append(compare_file(source, tsv, talp, direction, mt, aligner))
    rows = [
        [
            f"en->{r.direction[3:]}",
            r.mt,
            r.aligner,
            r.sentences,
            r.xlner_same / r.sentences,
            f"{r.reference_same}/{r.sentences}",
            r.sentences - r.xlner_same,
        ]
        for r in results
    ]
    totals: Counter = Counter()
    for r in results:
        totals.update(r.causes)
    cause_rows = [[cause, count, CAUSES.get(cause, "")] for cause, count in totals.most_common()]
    n = sum(r.sentences for r in results)
    time_rows = []
    for name, attribute in [
        ("xlner project(pairs, 'heuristic', preset='garcia2022')", "xlner_seconds"),
        ("xlner project_heuristic only (xlner.project.heuristic)", "core_seconds"),
        ("re-implementation of the published behaviour (this module)", "reference_seconds"),
    ]:
        seconds = sum(getattr(r, attribute) for r in results)
        time_rows.append([name, n, seconds * 1000, round(n / seconds), seconds / n * 799 * 1000, seconds / n * 1e6])
    text = [
        f"Command: `{command}`",
        "",
        "Easy-Label-Projection test files (CoNLL-2003 English test, 3,453 sentences without -DOCSTART-, "
        "translated by 4 MT systems; DeepL with 4 aligners): xlner's heuristic, preset garcia2022, on the published "
        "alignments (awesome; fast_align and mgiza grow-diag-final-and; SimAlign itermax, as the published code "
        "reads them). Agreement = share of sentences whose projected span set equals the published one. "
        "'reference' is a re-implementation of the published code's behaviour at its data release (commit "
        "59ab498), used to name each difference's cause. Explanations: [reproduction.md](reproduction.md).",
        "",
        markdown_table(
            ["pair", "MT", "aligner", "sentences", "xlner agreement", "reference identical", "differing sentences"],
            rows,
        ),
        "",
        "Causes of the differing sentences (all files; a sentence can need several):",
        "",
        markdown_table(["cause", "sentences", "meaning"], cause_rows),
        "",
        "Time (this shared 2-core machine, one process, all files above):",
        "",
        markdown_table(
            ["projection", "sentences", "ms", "sentences / s", "ms per 799 sentences", "ms per 1,000 sentences"],
            time_rows,
        ),
    ]
    return "\n".join(text), results


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (``argv`` as on the command line) and write its section."""
    parser = argparse.ArgumentParser(prog="xlner bench conll-reproduction", description=__doc__.splitlines()[0])
    parser.add_argument("--directions", nargs="+", default=DIRECTIONS, choices=DIRECTIONS)
    parser.add_argument("--examples", action="store_true", help="also print one differing sentence per cause and file")
    add_output_options(parser)
    args = parser.parse_args(argv)
    markdown, results = run(args.directions, command_line("conll-reproduction", argv))
    publish(
        "conll-reproduction",
        "Reproduction of the published heuristic (Easy-Label-Projection)",
        markdown,
        args,
        partial=sorted(args.directions) != sorted(DIRECTIONS),
    )
    if args.examples:
        for r in results:
            for cause, (k, pair, pub, mine) in r.examples.items():
                print(f"\n[{r.direction} {r.mt} {r.aligner}] block {k}, {cause}: {describe_example(pair, pub, mine)}")


if __name__ == "__main__":
    main()
