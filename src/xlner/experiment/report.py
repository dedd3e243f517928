"""The grid's results: best layers, a summary generated from the numbers, the markdown table and the plot."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from xlner.experiment.config import ExperimentConfig
from xlner.experiment.grid import Cell, system_label


def _layer(layer: int | None) -> str:
    return "—" if layer is None else str(layer)


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


def best_layers(cells: Sequence[Cell]) -> dict[tuple[str, str], int | None]:
    """(system, method) -> the layer with the highest mean delta (mean F1 for the baseline)."""
    scores: dict[tuple[str, str, int | None], list[float]] = {}
    for c in cells:
        scores.setdefault((c.system, c.method, c.layer), []).append(c.f1 if c.delta is None else c.delta)
    best: dict[tuple[str, str], int | None] = {}
    for (system, method, layer), values in scores.items():
        current = best.get((system, method), "unset")
        if current == "unset" or _mean(values) > _mean(scores[(system, method, current)]):  # type: ignore[index]
            best[(system, method)] = layer
    return best


def summarize(cells: Sequence[Cell], config: ExperimentConfig) -> list[str]:
    """Sentences generated from the numbers: where each system helps or hurts (its best layer per method)."""
    n_tasks = len({c.task for c in cells})
    lines = []
    best = best_layers(cells)
    helped_somewhere = []
    for (system, method), layer in best.items():
        if system == config.baseline:
            continue
        row = [c for c in cells if (c.system, c.method, c.layer) == (system, method, layer) and c.delta is not None]
        if not row:
            continue
        helps = [c for c in row if c.delta is not None and c.delta > 0]
        hurts = [c for c in row if c.delta is not None and c.delta < 0]
        sig_help = [c for c in helps if c.significant]
        sig_hurt = [c for c in hurts if c.significant]
        where = f" ({', '.join(c.task for c in sig_help)})" if sig_help else ""
        lines.append(
            f"{system_label(system, layer)}, {method}: helps on {len(helps)}/{len(row)} languages (significant on {len(sig_help)}{where}), "
            f"hurts on {len(hurts)}/{len(row)} (significant on {len(sig_hurt)}); mean ΔF1 {_mean([c.delta for c in row if c.delta is not None]):+.3f} "
            f"vs {row[0].versus}."
        )
        if sig_help:
            helped_somewhere.append(f"{system} ({method})")
    head = (
        f"{len(cells)} cells over {n_tasks} dataset-languages; baseline {config.baseline}; "
        f"paired bootstrap, {config.bootstrap_samples} resamples, {config.confidence:.0%} interval."
    )
    verdict = (
        "Significant gains over the baseline: " + ", ".join(helped_somewhere) + "."
        if helped_somewhere
        else "No system is significantly better than the baseline on any dataset-language."
    )
    return [head, verdict, *lines]


def results_markdown(cells: Sequence[Cell], summary: Sequence[str], config: ExperimentConfig) -> str:
    """One table (rows: system, layer, method; columns: dataset-languages) and the summary."""
    tasks = list(dict.fromkeys(c.task for c in cells))
    rows = list(dict.fromkeys(c.row for c in cells))
    by_key = {(c.row, c.task): c for c in cells}
    header = ["system", "layer", "method", *tasks, "mean F1"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * 3 + ["---:"] * (len(tasks) + 1)) + "|"]
    for row in rows:
        values = []
        for task in tasks:
            c = by_key.get((row, task))
            if c is None:
                values.append("")
            elif c.delta is None:
                values.append(f"{c.f1:.3f}")
            else:
                values.append(f"{c.f1:.3f} {c.delta:+.3f} [{c.low:+.3f}, {c.high:+.3f}]{'*' if c.significant else ''}")
        mean = _mean([by_key[(row, t)].f1 for t in tasks if (row, t) in by_key])
        lines.append("| " + " | ".join([row[0], _layer(row[1]), row[2], *values, f"{mean:.3f}"]) + " |")
    base = config.system(config.baseline)
    text = [
        "# Does multimodal pretraining help projection-based NER?",
        "",
        "Strict span micro F1 (seqeval) of the projected target labels against the target gold. Each cell: "
        f"F1, then ΔF1 against the baseline **{system_label(base.name, base.layers[0])}** on the same dataset, "
        f"language and method (or the method's `baseline_method`), its {config.confidence:.0%} paired-bootstrap "
        f"interval over sentences ({config.bootstrap_samples} resamples, seed {config.seed}), and `*` when the "
        "interval excludes 0. Baseline rows show F1 only.",
        "",
        "\n".join(lines),
        "",
        "## Summary (generated from the numbers above)",
        "",
        *[f"- {line}" for line in summary],
        "",
    ]
    return "\n".join(text)


def plot(cells: Sequence[Cell], path: Path, config: ExperimentConfig) -> None:
    """ΔF1 per language with its interval: one panel per method, one bar per system at its best layer."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tasks = list(dict.fromkeys(c.task for c in cells))
    methods = list(dict.fromkeys(c.method for c in cells))
    best = best_layers(cells)
    colours = {s.name: plt.get_cmap("tab10")(k % 10) for k, s in enumerate(config.systems)}
    fig, axes = plt.subplots(
        len(methods), 1, figsize=(max(6.0, 0.9 * len(tasks) + 3), 3.2 * len(methods) + 0.6), squeeze=False
    )
    for ax, method in zip(axes[:, 0], methods):
        systems = [s.name for s in config.systems if s.name != config.baseline and (s.name, method) in best]
        width = 0.8 / max(1, len(systems))
        for k, system in enumerate(systems):
            row = {
                c.task: c for c in cells if (c.system, c.method, c.layer) == (system, method, best[(system, method)])
            }
            xs: list[float] = []
            ys: list[float] = []
            err: list[list[float]] = [[], []]
            for t, task in enumerate(tasks):
                c = row.get(task)
                if c is None or c.delta is None:
                    continue
                assert c.low is not None and c.high is not None  # compare() fills delta, low and high together
                xs.append(t + (k - (len(systems) - 1) / 2) * width)
                ys.append(c.delta)
                err[0].append(c.delta - c.low)
                err[1].append(c.high - c.delta)
            layer = best[(system, method)]
            ax.bar(
                xs,
                ys,
                width,
                yerr=err,
                capsize=2,
                color=colours[system],
                label=system + ("" if layer is None else f" (layer {layer})"),
            )
        ax.axhline(0, color="black", linewidth=0.8)
        ax.set_xticks(range(len(tasks)))
        ax.set_xticklabels(tasks, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("ΔF1")
        ax.set_title(method, fontsize=9)
        if systems:
            ax.legend(fontsize=7, ncol=min(3, len(systems)))
    base = config.system(config.baseline)
    fig.suptitle(
        f"ΔF1 vs {system_label(base.name, base.layers[0])} per dataset:language, "
        f"{config.confidence:.0%} paired-bootstrap intervals",
        fontsize=9,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
