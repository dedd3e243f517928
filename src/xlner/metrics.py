"""Strict entity-span scores, computed exactly as seqeval's default mode does.

A predicted span is correct when ``(sentence, start, end, label)`` equals a
gold span. Precision, recall and F1 are micro-averaged over all spans and
given per label; a zero denominator gives 0.0 (seqeval's default). Label maps
(:class:`LabelMap`, defined in :mod:`xlner.tags`) relabel or drop spans of
both sides first.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from xlner.errors import InputError
from xlner.tags import LabelMap, as_label_map
from xlner.types import Span

if TYPE_CHECKING:
    from rich.table import Table

__all__ = [
    "LabelMap",
    "Report",
    "Scores",
    "SpanCounts",
    "evaluate_spans",
    "paired_bootstrap",
    "render_markdown",
    "render_report",
]


@dataclass(frozen=True)
class Scores:
    """Counts and scores of one label (or of all labels for the micro average)."""

    correct: int
    support: int  # gold spans
    predicted: int

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.correct / self.support if self.support else 0.0

    @property
    def f1(self) -> float:
        return _f1(self.precision, self.recall)

    def to_dict(self) -> dict[str, float | int]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "support": self.support,
            "predicted": self.predicted,
            "correct": self.correct,
        }


def _f1(precision: float, recall: float) -> float:
    # Same operations, in the same order, as seqeval (so results match bit for bit).
    denominator = precision + recall
    return 2.0 * precision * recall / denominator if denominator else 0.0


@dataclass
class Report:
    """Per-label :class:`Scores`, their micro average, the sentence count and the label map used."""

    per_type: dict[str, Scores]
    micro: Scores
    sentences: int
    labels: str = "labels: as given"
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def macro_f1(self) -> float:
        """Unweighted mean of the per-label F1 (0.0 when there are no labels)."""
        if not self.per_type:
            return 0.0
        return sum(s.f1 for s in self.per_type.values()) / len(self.per_type)

    def to_dict(self) -> dict[str, Any]:
        return {
            "sentences": self.sentences,
            "labels": self.labels,
            "micro": self.micro.to_dict(),
            "macro_f1": self.macro_f1,
            "per_type": {label: scores.to_dict() for label, scores in self.per_type.items()},
            **self.extra,
        }


def _span_sets(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]], mapping: LabelMap):
    if len(gold) != len(pred):
        raise InputError(f"gold has {len(gold)} sentences but the prediction has {len(pred)}")
    for spans_gold, spans_pred in zip(gold, pred):
        yield set(mapping.apply(spans_gold)), set(mapping.apply(spans_pred))


class SpanCounts:
    """Strict span counts per label, added up sentence list by sentence list (streamed evaluation)."""

    def __init__(self, label_map: LabelMap | Mapping[str, str] | None = None):
        self.label_map = as_label_map(label_map)
        self.support: Counter[str] = Counter()
        self.predicted: Counter[str] = Counter()
        self.correct: Counter[str] = Counter()
        self.sentences = 0

    def add(self, gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]]) -> None:
        """Count gold and predicted spans, one list per sentence (same sentence count)."""
        for gold_set, pred_set in _span_sets(gold, pred, self.label_map):
            self.support.update(span.label for span in gold_set)
            self.predicted.update(span.label for span in pred_set)
            self.correct.update(span.label for span in gold_set & pred_set)
        self.sentences += len(gold)

    def report(self) -> Report:
        """The :class:`Report` of everything counted."""
        labels = sorted(set(self.support) | set(self.predicted))
        per_type = {label: Scores(self.correct[label], self.support[label], self.predicted[label]) for label in labels}
        micro = Scores(sum(self.correct.values()), sum(self.support.values()), sum(self.predicted.values()))
        return Report(per_type, micro, self.sentences, self.label_map.describe())


def evaluate_spans(
    gold: Sequence[Sequence[Span]],
    pred: Sequence[Sequence[Span]],
    label_map: LabelMap | Mapping[str, str] | None = None,
) -> Report:
    """Score predicted spans against gold spans, one list per sentence (same sentence count)."""
    counts = SpanCounts(label_map)
    counts.add(gold, pred)
    return counts.report()


def _counts(gold: Sequence[Sequence[Span]], pred: Sequence[Sequence[Span]], mapping: LabelMap):
    """Per-sentence (correct, support, predicted) as a numpy array of shape (n, 3)."""
    import numpy as np

    rows = [(len(g & p), len(g), len(p)) for g, p in _span_sets(gold, pred, mapping)]
    return np.array(rows, dtype=np.int64).reshape(-1, 3)


def paired_bootstrap(
    gold: Sequence[Sequence[Span]],
    pred_a: Sequence[Sequence[Span]],
    pred_b: Sequence[Sequence[Span]],
    n_samples: int = 1000,
    seed: int = 0,
    label_map: LabelMap | Mapping[str, str] | None = None,
    confidence: float = 0.95,
) -> tuple[float, float, float, float]:
    """Paired bootstrap over sentences of the micro-F1 difference A - B.

    Returns ``(delta, low, high, p_value)``: the observed difference, the
    percentile confidence interval of the resampled differences, and the
    one-sided p-value, the share of resamples whose difference is not on the
    same side of zero as the observed one (``<= 0`` when ``delta > 0``,
    ``>= 0`` otherwise).
    """
    import numpy as np

    mapping = as_label_map(label_map)
    counts_a = _counts(gold, pred_a, mapping)
    counts_b = _counts(gold, pred_b, mapping)
    n = len(counts_a)
    if len(counts_b) != n:
        raise InputError(f"prediction A has {n} sentences but prediction B has {len(counts_b)}")
    if n == 0 or n_samples < 1:
        raise InputError("paired_bootstrap needs at least one sentence and one sample")

    def micro_f1(totals):  # totals: (..., 3) correct, support, predicted
        correct, support, predicted = (totals[..., k].astype(float) for k in range(3))
        with np.errstate(divide="ignore", invalid="ignore"):
            precision = np.where(predicted > 0, correct / predicted, 0.0)
            recall = np.where(support > 0, correct / support, 0.0)
            denominator = precision + recall
            return np.where(denominator > 0, 2.0 * precision * recall / denominator, 0.0)

    delta = float(micro_f1(counts_a.sum(0)) - micro_f1(counts_b.sum(0)))
    rng = np.random.default_rng(seed)
    deltas = np.empty(n_samples)
    chunk = max(1, 2_000_000 // n)
    for begin in range(0, n_samples, chunk):
        size = min(chunk, n_samples - begin)
        index = rng.integers(0, n, size=(size, n))
        deltas[begin : begin + size] = micro_f1(counts_a[index].sum(1)) - micro_f1(counts_b[index].sum(1))
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(deltas, [tail, 100 - tail])
    p_value = float(np.mean(deltas <= 0) if delta > 0 else np.mean(deltas >= 0))
    return delta, float(low), float(high), p_value


def _rows(report: Report) -> list[tuple[str, Scores]]:
    return [*report.per_type.items(), ("micro avg", report.micro)]


def render_report(report: Report, title: str = "Entity spans") -> "Table":
    """A rich table: one row per label, then the micro average; the caption names the label map."""
    from rich.table import Table

    table = Table(title=f"{title}\n{report.sentences} sentences; {report.labels}")
    table.add_column("label")
    for name in ("precision", "recall", "F1", "gold", "predicted"):
        table.add_column(name, justify="right")
    for index, (label, scores) in enumerate(_rows(report)):
        if index == len(report.per_type):
            table.add_section()
        table.add_row(
            label,
            f"{scores.precision:.4f}",
            f"{scores.recall:.4f}",
            f"{scores.f1:.4f}",
            str(scores.support),
            str(scores.predicted),
        )
    return table


def render_markdown(report: Report, title: str = "Entity spans") -> str:
    """The same table in Markdown."""
    lines = [
        f"**{title}** ({report.sentences} sentences; {report.labels})",
        "",
        "| label | precision | recall | F1 | gold | predicted |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, scores in _rows(report):
        lines.append(
            f"| {label} | {scores.precision:.4f} | {scores.recall:.4f} | {scores.f1:.4f} "
            f"| {scores.support} | {scores.predicted} |"
        )
    return "\n".join(lines) + "\n"
