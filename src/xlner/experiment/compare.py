"""Each cell against the baseline: paired bootstrap over sentences."""

from __future__ import annotations

from typing import Mapping

from xlner.experiment.config import ExperimentConfig
from xlner.experiment.grid import Cell, Task, system_label
from xlner.types import Span


def compare(
    cells: list[Cell],
    predictions: Mapping[tuple, list[list[Span]]],
    tasks: Mapping[str, Task],
    config: ExperimentConfig,
) -> None:
    """Fill each non-baseline cell's delta, interval, p-value and significance (paired bootstrap over sentences)."""
    from xlner.metrics import paired_bootstrap

    base = config.system(config.baseline)
    base_layer = base.layers[0]
    for cell in cells:
        if cell.system == base.name:
            continue
        versus = [cell.method] + (
            [config.method(cell.method).baseline_method] if config.method(cell.method).baseline_method else []
        )
        for name in versus:
            reference = predictions.get((base.name, base_layer, cell.task, name))
            if reference is not None:
                break
        else:
            continue
        task = tasks[cell.task]
        delta, low, high, p = paired_bootstrap(
            [s.spans for s in task.gold],
            predictions[(cell.system, cell.layer, cell.task, cell.method)],
            reference,
            n_samples=config.bootstrap_samples,
            seed=config.seed,
            label_map=task.dataset.label_map or None,
            confidence=config.confidence,
        )
        cell.delta, cell.low, cell.high, cell.p_value = delta, low, high, p
        cell.significant = bool(low > 0 or high < 0)
        cell.versus = f"{system_label(base.name, base_layer)}, {name}"
