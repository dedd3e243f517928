"""Research harness: does multimodal pretraining (CLIP, OWL-ViT, M-CLIP text towers) help projection-based NER?

``xlner experiment CONFIG`` (or :func:`run_experiment`) runs a grid
system x layer x dataset x language x method, compares every cell with the
``baseline`` system by a paired bootstrap over sentences and writes
``results.md``, ``results.json`` and ``plot.png``. Modules: :mod:`.config`
(parsing and validation), :mod:`.grid` (tasks and cells), :mod:`.compare`
(bootstrap), :mod:`.report` (summary, table, plot), :mod:`.export` (M-CLIP
export), :mod:`.run` (the whole run). Config reference and how to read the
results: docs/multimodal.md; example: examples/multimodal.toml.
"""

from xlner.experiment.compare import compare
from xlner.experiment.config import (
    DATASET_KINDS,
    PROJECTION_METHODS,
    SYSTEM_TYPES,
    DatasetSpec,
    ExperimentConfig,
    MethodSpec,
    SystemSpec,
    load_experiment,
    parse_config,
)
from xlner.experiment.export import export_mclip
from xlner.experiment.grid import Cell, Task, load_task, make_encoder, run_cell, run_grid, system_label
from xlner.experiment.report import best_layers, plot, results_markdown, summarize
from xlner.experiment.run import run_experiment

__all__ = [
    "DATASET_KINDS",
    "PROJECTION_METHODS",
    "SYSTEM_TYPES",
    "Cell",
    "DatasetSpec",
    "ExperimentConfig",
    "MethodSpec",
    "SystemSpec",
    "Task",
    "best_layers",
    "compare",
    "export_mclip",
    "load_experiment",
    "load_task",
    "make_encoder",
    "parse_config",
    "plot",
    "results_markdown",
    "run_cell",
    "run_experiment",
    "run_grid",
    "summarize",
    "system_label",
]
