"""Experiment configs: systems, methods and datasets of the grid, parsed and validated."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

from xlner.errors import InputError, XlnerError

SYSTEM_TYPES = ("hf", "clip-text", "owlvit-text", "mclip", "aligner")
DATASET_KINDS = ("parallel", "translate-test", "mmner")
PROJECTION_METHODS = ("heuristic", "ilp", "greedy")


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
        from xlner.project import resolve

        return "encoder" in resolve(self.method, self.options).scorers


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
    """A parsed experiment config (see docs/multimodal.md and examples/multimodal.toml)."""

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
