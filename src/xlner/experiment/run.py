"""One experiment end to end: grid, comparison with the baseline, results.md, results.json and plot.png."""

from __future__ import annotations

import json
import platform
import time
from typing import Any, Callable

from xlner.errors import XlnerError
from xlner.experiment.compare import compare
from xlner.experiment.config import ExperimentConfig
from xlner.experiment.grid import run_grid
from xlner.experiment.report import plot, results_markdown, summarize


def run_experiment(config: ExperimentConfig, log: Callable[[str], None] = lambda _: None) -> dict[str, Any]:
    """Run the grid, compare with the baseline, write results.md / results.json / plot.png; returns the JSON data."""
    from xlner.io import atomic_write

    started = time.perf_counter()
    cells, predictions, tasks = run_grid(config, log)
    if not cells:
        raise XlnerError("the grid is empty: no (system, method) combination can run")
    compare(cells, predictions, tasks, config)
    summary = summarize(cells, config)
    out = config.output
    out.mkdir(parents=True, exist_ok=True)
    data = {
        "baseline": config.baseline,
        "summary": summary,
        "cells": [{**c.__dict__, "task": c.task} for c in cells],
        "seconds": time.perf_counter() - started,
        "python": platform.python_version(),
        "config": config.raw,
    }
    with atomic_write(out / "results.json") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=1, default=str)
    with atomic_write(out / "results.md") as handle:
        handle.write(results_markdown(cells, summary, config))
    plot(cells, out / "plot.png", config)
    return data
