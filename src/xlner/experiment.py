"""Research harness: does multimodal pretraining (CLIP, OWL-ViT text towers) help projection-based NER?

``xlner experiment CONFIG`` (or :func:`run_experiment`) runs a grid
system x layer x dataset x language x method and writes ``results.md``,
``results.json`` and ``plot.png`` into the output folder.

* A **system** is a text encoder (``hf``, ``clip-text``, ``owlvit-text``, or
  ``mclip``: an M-CLIP checkpoint whose XLM-R transformer is exported once to
  a plain ``hf`` folder, see :func:`export_mclip`) used two ways: as the
  ``simalign`` word aligner whose links feed every projection method, and as
  the ``encoder`` score of candidate matching (methods whose ``weights``
  name ``encoder``). A system of type ``aligner`` (e.g. eflomal) has no
  encoder: it aligns only, and methods that need the encoder score are not
  run for it. Encoders are run at each of their ``layers`` (a grid dimension).
* A **dataset** gives, per language, source sentences with entities and
  target sentences with gold spans: ``parallel`` (gold on both sides, e.g.
  Europarl-NER en->de), ``translate-test`` (a target NER set through
  :func:`xlner.pipeline.translate_test`: translate into English, tag English,
  align, project, score against the target gold) and ``mmner`` (the same on a
  2M-NER / MMNER file, read by :func:`xlner.io.read_mmner`).
* Each cell's F1 is compared with the ``baseline`` system's cell of the same
  dataset, language and method (its ``baseline_method`` when the baseline
  cannot run the method) by a paired bootstrap over sentences: delta, 95%
  interval, and ``*`` when the interval excludes 0.

In dataset and aligner option strings, ``{lang}`` becomes the language and
``{data}`` the shared data folder. Encoders are loaded one at a time, lazily
(a fully cached run loads none). Config reference, cost estimates and how to
read the table: docs/multimodal.md; example: examples/multimodal.toml.

Every model step (translation, tagging, alignment, projection) is cached by
:mod:`xlner.cache` under ``cache_dir`` (default ``<output>/cache``), so a rerun
or an interrupted run does no work twice. Cache keys name models by hub
name or path: delete the cache after replacing a local model folder.
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from xlner.errors import InputError, XlnerError
from xlner.types import Sentence, Span

SYSTEM_TYPES = ("hf", "clip-text", "owlvit-text", "mclip", "aligner")
DATASET_KINDS = ("parallel", "translate-test", "mmner")
PROJECTION_METHODS = ("heuristic", "ilp", "greedy")


# ---------------------------------------------------------------- configuration


@dataclass
class SystemSpec:
    """One row group of the table: an encoder (at several layers) or a plain aligner."""

    name: str
    type: str
    model: str | None = None
    layers: list[int | None] = field(default_factory=lambda: [None])
    encoder_options: dict[str, Any] = field(default_factory=dict)  # HFEncoder options: pooling, batch_size, device
    align_options: dict[str, Any] = field(
        default_factory=dict
    )  # simalign options (method, ...) or the aligner's options
    aligner: str | None = None  # registry aligner name, for type "aligner"

    @property
    def has_encoder(self) -> bool:
        return self.type != "aligner"


@dataclass
class MethodSpec:
    """A projection method with options; ``alignment``: ``self`` or the name of an ``aligner`` system whose links it uses."""

    name: str
    method: str
    options: dict[str, Any] = field(default_factory=dict)
    alignment: str = "self"
    baseline_method: str | None = None

    @property
    def uses_encoder(self) -> bool:
        if self.method == "heuristic":
            return False
        from xlner.project.config import resolve_options

        return "encoder" in (resolve_options(self.method, self.options)["weights"] or {})


@dataclass
class DatasetSpec:
    """Where one dataset's languages come from (``{lang}`` and ``{data}`` are filled in its strings)."""

    name: str
    kind: str
    languages: list[str]
    options: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None
    label_map: dict[str, str] = field(default_factory=dict)
    source_lang: str = "en"


@dataclass
class ExperimentConfig:
    """A parsed experiment config (see the module doc and examples/multimodal.toml)."""

    output: Path
    baseline: str
    systems: list[SystemSpec]
    methods: list[MethodSpec]
    datasets: list[DatasetSpec]
    cache_dir: Path | None = None
    device: str = "cpu"
    bootstrap_samples: int = 1000
    seed: int = 0
    confidence: float = 0.95
    batch_size: int = 32
    raw: dict[str, Any] = field(default_factory=dict)

    def system(self, name: str) -> SystemSpec:
        return next(s for s in self.systems if s.name == name)

    def method(self, name: str) -> MethodSpec:
        return next(m for m in self.methods if m.name == name)


def _table_list(raw: Mapping[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    value = raw.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, Mapping) for v in value):
        raise InputError(f"expected a non-empty list of tables [[{key}]]", where)
    return [{k.replace("-", "_"): v for k, v in item.items()} for item in value]


def _take(item: dict[str, Any], allowed: Sequence[str], where: str, label: str) -> None:
    unknown = sorted(set(item) - set(allowed))
    if unknown:
        import difflib

        close = difflib.get_close_matches(unknown[0], list(allowed), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise InputError(f"{label}: unknown key(s) {', '.join(unknown)}{hint}; valid: {', '.join(allowed)}", where)


def _integer(value: Any, key: str, minimum: int, where: str) -> Any:
    """``value`` (None passes) as an integer >= ``minimum``, else an error naming ``key`` and the file."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InputError(f"{key} must be an integer, got {value!r}", where)
    if value < minimum:
        raise InputError(f"{key} must be >= {minimum}, got {value}", where)
    return value


def _unique(names: list[str], where: str, label: str) -> None:
    seen = {n for n in names if names.count(n) > 1}
    if seen:
        raise InputError(f"{label}: duplicate name(s) {', '.join(sorted(seen))}", where)


def parse_config(
    raw: Mapping[str, Any], where: str = "config", overrides: Mapping[str, Any] | None = None
) -> ExperimentConfig:
    """Validate a config dict (as :func:`xlner.config.load_config` returns); ``overrides``: output, cache_dir, limit, device."""
    raw = {k.replace("-", "_"): v for k, v in raw.items()}
    overrides = {k: v for k, v in (overrides or {}).items() if v is not None}
    top = (
        "output",
        "baseline",
        "encoders",
        "methods",
        "datasets",
        "cache_dir",
        "device",
        "bootstrap_samples",
        "seed",
        "confidence",
        "batch_size",
        "description",
    )
    _take(raw, top, where, "top level")
    device = str(overrides.get("device", raw.get("device", "cpu")))
    systems = []
    for k, item in enumerate(_table_list(raw, "encoders", where)):
        label = f"encoders[{k}] ({item.get('name', '?')})"
        _take(item, ("name", "type", "model", "layers", "options", "align", "aligner"), where, label)
        kind = item.get("type", "hf")
        if kind not in SYSTEM_TYPES:
            raise InputError(f"{label}: unknown type {kind!r}; expected one of {', '.join(SYSTEM_TYPES)}", where)
        if "name" not in item:
            raise InputError(f"{label}: missing name", where)
        if kind == "aligner":
            if not item.get("aligner"):
                raise InputError(
                    f"{label}: type 'aligner' needs aligner = <registry aligner name, e.g. eflomal>", where
                )
            layers: list[int | None] = [None]
        else:
            if not item.get("model"):
                raise InputError(f"{label}: needs model = <hub name or folder>", where)
            layers = item.get("layers", [8])
            if not isinstance(layers, list) or not layers or not all(isinstance(x, int) for x in layers):
                raise InputError(f"{label}: layers must be a non-empty list of integers", where)
        options = dict(item.get("options", {}))
        if kind != "aligner":
            options["device"] = device if "device" in overrides else options.get("device", device)
        systems.append(
            SystemSpec(
                str(item["name"]),
                kind,
                item.get("model"),
                list(layers),
                options if kind != "aligner" else {},
                dict(item.get("align", {})) if kind != "aligner" else options,
                item.get("aligner"),
            )
        )
    _unique([s.name for s in systems], where, "encoders")
    aligner_systems = {s.name for s in systems if not s.has_encoder}
    methods = []
    for k, item in enumerate(_table_list(raw, "methods", where)):
        label = f"methods[{k}] ({item.get('name', '?')})"
        _take(item, ("name", "method", "options", "alignment", "baseline_method"), where, label)
        if item.get("method") not in PROJECTION_METHODS:
            raise InputError(f"{label}: method must be one of {', '.join(PROJECTION_METHODS)}", where)
        spec = MethodSpec(
            str(item.get("name", item["method"])),
            item["method"],
            dict(item.get("options", {})),
            str(item.get("alignment", "self")),
            item.get("baseline_method"),
        )
        if spec.alignment != "self" and spec.alignment not in aligner_systems:
            raise InputError(
                f"{label}: alignment must be 'self' or the name of an aligner system ({', '.join(sorted(aligner_systems)) or 'none'})",
                where,
            )
        try:
            spec.uses_encoder  # validates the options early
        except XlnerError as error:
            raise InputError(f"{label}: {error}", where) from None
        methods.append(spec)
    _unique([m.name for m in methods], where, "methods")
    for m in methods:
        if m.baseline_method is not None and m.baseline_method not in {x.name for x in methods}:
            raise InputError(f"methods ({m.name}): unknown baseline_method {m.baseline_method!r}", where)
    datasets = []
    for k, item in enumerate(_table_list(raw, "datasets", where)):
        label = f"datasets[{k}] ({item.get('name', '?')})"
        kind = item.pop("kind", None)
        if kind not in DATASET_KINDS:
            raise InputError(f"{label}: kind must be one of {', '.join(DATASET_KINDS)}", where)
        common = {"name", "languages", "limit", "label_map", "source_lang"}
        specific = {
            "parallel": ("source", "target"),
            "translate-test": (
                "dataset",
                "split",
                "translator",
                "translator_options",
                "tagger",
                "tagger_options",
                "tokenizer",
            ),
            "mmner": ("path", "translator", "translator_options", "tagger", "tagger_options", "tokenizer"),
        }[kind]
        _take(item, [*common, *specific], where, label)
        required = {"parallel": ("source", "target"), "translate-test": ("dataset",), "mmner": ("path",)}[kind]
        missing = [key for key in ("name", "languages", *required) if key not in item]
        if kind != "parallel" and "translator" not in item:
            missing.append("translator")
        if kind != "parallel" and "tagger" not in item:
            missing.append("tagger")
        if missing:
            raise InputError(f"{label}: missing {', '.join(missing)}", where)
        limit = _integer(overrides.get("limit", item.get("limit")), f"{label}: limit", 1, where)
        options = {key: item[key] for key in specific if key in item}
        datasets.append(
            DatasetSpec(
                str(item["name"]),
                kind,
                [str(x) for x in item["languages"]],
                options,
                None if limit is None else int(limit),
                dict(item.get("label_map", {})),
                str(item.get("source_lang", "en")),
            )
        )
    _unique([d.name for d in datasets], where, "datasets")
    baseline = raw.get("baseline")
    if baseline not in {s.name for s in systems}:
        raise InputError(
            f"baseline must name one of the encoders ({', '.join(s.name for s in systems)}), got {baseline!r}", where
        )
    output = overrides.get("output", raw.get("output"))
    if not output:
        raise InputError("no output folder: set output = DIR in the config or pass --output", where)
    cache_dir = overrides.get("cache_dir", raw.get("cache_dir"))
    confidence = raw.get("confidence", 0.95)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise InputError(f"confidence must be in (0, 1), got {confidence}", where)
    return ExperimentConfig(
        Path(output),
        str(baseline),
        systems,
        methods,
        datasets,
        None if cache_dir is None else Path(cache_dir),
        device,
        _integer(raw.get("bootstrap_samples", 1000), "bootstrap_samples", 1, where),
        _integer(raw.get("seed", 0), "seed", 0, where),
        float(confidence),
        _integer(raw.get("batch_size", 32), "batch_size", 1, where),
        dict(raw),
    )


def load_experiment(path: str | Path, **overrides: Any) -> ExperimentConfig:
    """Read and validate a TOML/YAML experiment config (``overrides``: output, cache_dir, limit, device)."""
    from xlner.config import load_config

    return parse_config(load_config(path), str(path), overrides)


# ---------------------------------------------------------------- data


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


# ---------------------------------------------------------------- running cells


def export_mclip(checkpoint: str | Path, out: str | Path, base: str | None = None) -> Path:
    """Save the XLM-R transformer of an M-CLIP text encoder as a plain ``hf`` model folder (idempotent).

    M-CLIP checkpoints (e.g. ``M-CLIP/XLM-Roberta-Large-Vit-B-32``) hold a
    ``MultilingualCLIP`` model: ``transformer.*`` (an XLM-R model whose
    architecture is the config's ``modelBase``) and ``LinearTransformation.*``
    (the projection of the pooled sentence vector into CLIP space, which word
    alignment does not use and which is dropped). ``checkpoint``: a folder or
    a hub name (downloaded with ``huggingface_hub``); ``base``: the XLM-R
    config to use instead of ``modelBase``.
    """
    import torch  # noqa: F401
    import transformers

    out = Path(out)
    if (out / "config.json").is_file():
        return out
    folder = Path(checkpoint)
    if not folder.is_dir():
        try:
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(str(checkpoint)))
        except Exception as error:
            raise XlnerError(
                f"cannot find M-CLIP checkpoint {checkpoint!r} ({type(error).__name__}: {error})"
            ) from None
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise InputError("not an M-CLIP checkpoint: config.json missing", folder)
    meta = json.loads(config_file.read_text(encoding="utf-8"))
    base = base or meta.get("modelBase")
    if not base:
        raise InputError("config.json has no modelBase (the XLM-R architecture); pass base=", config_file)
    state = _load_state_dict(folder)
    weights = {k[len("transformer.") :]: v for k, v in state.items() if k.startswith("transformer.")}
    if not weights:
        raise InputError("no transformer.* weights in the checkpoint", folder)
    model = transformers.AutoModel.from_config(transformers.AutoConfig.from_pretrained(base))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.startswith("pooler.")]  # M-CLIP mean-pools; its pooler may be absent
    if missing or unexpected:
        raise XlnerError(f"M-CLIP weights do not fit {base!r}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    tokenizer_source = (
        folder if (folder / "tokenizer.json").is_file() or (folder / "sentencepiece.bpe.model").is_file() else base
    )
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tokenizer_source))
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
    return out


def _load_state_dict(folder: Path) -> dict[str, Any]:
    import torch

    files = sorted(folder.glob("*.safetensors"))
    if files:
        from safetensors.torch import load_file

        return {k: v for f in files for k, v in load_file(str(f)).items()}
    files = sorted(folder.glob("pytorch_model*.bin"))
    if not files:
        raise InputError("no *.safetensors or pytorch_model*.bin weights", folder)
    return {k: v for f in files for k, v in torch.load(str(f), map_location="cpu", weights_only=True).items()}


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
        return [list(r.spans) for r in step_project(pairs, method.method, options, ctx)]
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
            log(f"{_system_label(system.name, layer)} {task.key} {method.name}: F1 {cell.f1:.3f} ({seconds:.1f} s)")


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
        cell.versus = f"{_system_label(base.name, base_layer)}, {name}"


# ---------------------------------------------------------------- reporting


def _layer(layer: int | None) -> str:
    return "—" if layer is None else str(layer)


def _system_label(name: str, layer: int | None) -> str:
    return name if layer is None else f"{name} (layer {layer})"


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
            f"{_system_label(system, layer)}, {method}: helps on {len(helps)}/{len(row)} languages (significant on {len(sig_help)}{where}), "
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
        f"F1, then ΔF1 against the baseline **{_system_label(base.name, base.layers[0])}** on the same dataset, "
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
        f"ΔF1 vs {_system_label(base.name, base.layers[0])} per dataset:language, "
        f"{config.confidence:.0%} paired-bootstrap intervals",
        fontsize=9,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


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
