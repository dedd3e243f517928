"""Running the grid: one task per (dataset, language), one cell per (system, layer, task, method)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from xlner.errors import InputError
from xlner.experiment.config import DatasetSpec, ExperimentConfig, MethodSpec, SystemSpec
from xlner.experiment.export import export_mclip
from xlner.types import Sentence, Span


@dataclass
class Task:
    """One (dataset, language): gold target sentences, and either source sentences (parallel) or target input."""

    dataset: DatasetSpec
    lang: str
    gold: list[Sentence]
    source: list[Sentence] | None = None  # parallel data only

    @property
    def key(self) -> str:
        return f"{self.dataset.name}:{self.lang}"


def _fill(value: Any, lang: str) -> Any:
    """``{lang}`` and ``{data}`` (the shared data folder) in strings, recursively."""
    from xlner.data import shared_data_dir

    if isinstance(value, str):
        return value.replace("{lang}", lang).replace("{data}", str(shared_data_dir()))
    if isinstance(value, Mapping):
        return {k: _fill(v, lang) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, lang) for v in value]
    return value


def load_task(dataset: DatasetSpec, lang: str) -> Task:
    """Read the sentences of one (dataset, language), first ``limit`` only; every sentence gets an id."""
    from xlner.io import read_mmner, read_sentences

    options = _fill(dataset.options, lang)
    source: list[Sentence] | None = None
    gold: list[Sentence]
    if dataset.kind == "parallel":
        source = read_sentences(options["source"], policy="repair")
        gold = read_sentences(options["target"], policy="repair")
        if len(source) != len(gold):
            raise InputError(
                f"{len(gold)} target sentences but the source file {options['source']} has {len(source)}",
                options["target"],
            )
    elif dataset.kind == "mmner":
        gold = read_mmner(options["path"], policy="repair")
    else:
        from xlner.datasets import load_dataset

        gold = load_dataset(options["dataset"], lang, options.get("split", "test"))
    gold = [Sentence(list(s.tokens), list(s.spans), s.id if s.id is not None else str(k)) for k, s in enumerate(gold)]
    if dataset.limit is not None:
        gold = gold[: dataset.limit]
        source = None if source is None else source[: dataset.limit]
    return Task(dataset, lang, gold, source)


def make_encoder(system: SystemSpec, layer: int, cache_dir: Path) -> Any:
    """The system's :class:`~xlner.align.encoders.HFEncoder` at ``layer`` (model loaded on first use)."""
    from xlner.registry import registry

    name, model = system.type, str(system.model)
    if name == "mclip":
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in model)
        model, name = str(export_mclip(model, cache_dir / "mclip" / safe)), "hf"
    return registry.encoders.create(name, name_or_path=model, layer=layer, **system.encoder_options)


def _aligner_component(system: SystemSpec, encoder: Any, src_lang: str, tgt_lang: str) -> Any:
    from xlner.pipeline import Component

    if system.has_encoder:
        options = {"progress": False, **system.align_options, "encoder": encoder}
        return Component("aligners", "simalign", options)
    options = _fill(dict(system.align_options), tgt_lang)
    if options.get("extra_parallel"):
        options.setdefault("src_lang", src_lang)
        options.setdefault("tgt_lang", tgt_lang)
    return Component("aligners", str(system.aligner), options)


def _method_options(method: MethodSpec, encoder: Any) -> dict[str, Any]:
    options = dict(method.options)
    if method.uses_encoder:
        scorer_options = {k: dict(v) for k, v in dict(options.get("scorer_options") or {}).items()}
        scorer_options.setdefault("encoder", {})["model"] = encoder
        options["scorer_options"] = scorer_options
    return options


def run_cell(task: Task, aligner: Any, method: MethodSpec, encoder: Any, config: ExperimentConfig) -> list[list[Span]]:
    """Projected target spans of every sentence of ``task`` (cached steps)."""
    from xlner.pipeline import Context, step_align, step_project, translate_test
    from xlner.types import SentencePair

    cache_dir = config.cache_dir or config.output / "cache"
    options = _method_options(method, encoder)
    if task.source is not None:
        ctx = Context(cache_dir, True, config.batch_size)
        alignments = step_align([(s.tokens, t.tokens) for s, t in zip(task.source, task.gold)], aligner, ctx)
        pairs = [
            SentencePair(list(s.tokens), list(t.tokens), list(s.spans), a)
            for s, t, a in zip(task.source, task.gold, alignments)
        ]
        return [list(r.spans) for r in step_project(pairs, method.method, options)]
    data = _fill(task.dataset.options, task.lang)
    result = translate_test(
        [Sentence(list(s.tokens), [], s.id) for s in task.gold],
        lang=task.lang,
        pivot=task.dataset.source_lang,
        translator=data["translator"],
        translator_options=data.get("translator_options"),
        tagger=data["tagger"],
        tagger_options=data.get("tagger_options"),
        aligner=aligner,
        method=method.method,
        method_options=options,
        tokenizer=data.get("tokenizer", "moses"),
        cache_dir=cache_dir,
        batch_size=config.batch_size,
    )
    return [list(s.spans) for s in result.sentences]


@dataclass
class Cell:
    """One F1 of the grid, with its delta against the baseline (filled by :func:`compare`)."""

    system: str
    layer: int | None
    dataset: str
    lang: str
    method: str
    f1: float
    precision: float
    recall: float
    sentences: int
    seconds: float
    delta: float | None = None
    low: float | None = None
    high: float | None = None
    p_value: float | None = None
    significant: bool | None = None
    versus: str | None = None

    @property
    def task(self) -> str:
        return f"{self.dataset}:{self.lang}"

    @property
    def row(self) -> tuple[str, int | None, str]:
        return (self.system, self.layer, self.method)


def run_grid(
    config: ExperimentConfig, log: Callable[[str], None] = lambda _: None
) -> tuple[list[Cell], dict[tuple, list[list[Span]]], dict[str, Task]]:
    """Every cell of the grid: the cells, their predictions by (system, layer, task, method), and the tasks."""
    tasks = {t.key: t for d in config.datasets for t in (load_task(d, lang) for lang in d.languages)}
    cells: list[Cell] = []
    predictions: dict[tuple, list[list[Span]]] = {}
    for system in config.systems:
        for layer in system.layers:  # one encoder (model) in memory at a time
            _run_system(system, layer, list(tasks.values()), config, cells, predictions, log)
    return cells, predictions, tasks


def _run_system(
    system: SystemSpec,
    layer: int | None,
    tasks: list[Task],
    config: ExperimentConfig,
    cells: list[Cell],
    predictions: dict[tuple, list[list[Span]]],
    log: Callable[[str], None],
) -> None:
    from xlner.metrics import evaluate_spans

    encoder = None
    if system.has_encoder:
        assert layer is not None  # encoder systems have integer layers (checked when the config is read)
        encoder = make_encoder(system, layer, config.cache_dir or config.output / "cache")
    for task in tasks:
        src_lang = task.dataset.source_lang
        own = _aligner_component(system, encoder, src_lang, task.lang)
        for method in config.methods:
            if method.uses_encoder and encoder is None:
                continue
            aligner = (
                own
                if method.alignment == "self"
                else _aligner_component(config.system(method.alignment), None, src_lang, task.lang)
            )
            started = time.perf_counter()
            predicted = run_cell(task, aligner, method, encoder, config)
            seconds = time.perf_counter() - started
            report = evaluate_spans([s.spans for s in task.gold], predicted, task.dataset.label_map or None)
            cell = Cell(
                system.name,
                layer,
                task.dataset.name,
                task.lang,
                method.name,
                report.micro.f1,
                report.micro.precision,
                report.micro.recall,
                len(task.gold),
                seconds,
            )
            cells.append(cell)
            predictions[(system.name, layer, task.key, method.name)] = predicted
            log(f"{system_label(system.name, layer)} {task.key} {method.name}: F1 {cell.f1:.3f} ({seconds:.1f} s)")


def system_label(name: str, layer: int | None) -> str:
    """``name`` or ``name (layer N)``, as rows and comparisons are labelled."""
    return name if layer is None else f"{name} (layer {layer})"
