"""Translate-train and translate-test over a sharded corpus, on either engine.

The input file is cut into shards of ``shard_size`` sentences
(:func:`~xlner.engines.shards.plan_shards`); every shard goes through the
stages read -> translate -> (tag) -> align -> project -> write, each built
from the step functions of :mod:`xlner.pipeline`, and its output is written
atomically to ``<shards dir>/<input stem>-<shard>-<config hash>.jsonl`` (or
``.parquet``). The configuration hash covers every option that changes the
output (components and their options, input file size and time, shard size)
but not the engine, so a restarted job, on either engine, skips every
finished shard. When all shards are done they are exported, in order, to the
``output`` file (CoNLL, or JSONL for ``.jsonl``) and ``details``.

Alignment is per shard: a statistical aligner (eflomal) learns from the
shard plus its extra parallel text, so ``shard_size`` changes the alignments
(larger shards: better statistics; see docs/scaling.md). With the same shard
size, both engines give identical output.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator, Sequence

from xlner.cache import describe_options, fingerprint
from xlner.engines import ENGINES, JobFailed, RayOptions, Record, Stage, failure_of, run_stages
from xlner.engines.shards import plan_shards, read_shard
from xlner.errors import XlnerError
from xlner.pipeline import Component, Context, PipelineSpec, align_pairs, step_project, step_tag, step_translate
from xlner.translate.detok import detokenize, tokenize
from xlner.types import Sentence, SentencePair, Span

JOB_VERSION = 1
DEFAULT_SHARD_SIZE = 1000
SHARD_FORMATS = ("jsonl", "parquet")
#: Aligners that run no neural model (no actor or GPU needed).
STATISTICAL_ALIGNERS = ("eflomal", "pharaoh")
#: Methods that need no alignment (one stage: :class:`MarkersStage`).
MARKER_METHODS = ("markers", "model-transfer")
#: Projection options that load a model (the project stage then runs in actors, on GPUs when there are).
MODEL_SCORE_OPTIONS = ("ner_model", "nmt_model", "encoder")


# ---------------------------------------------------------------- stages


def _spans(value: Sequence[Sequence[Any]]) -> list[Span]:
    return [Span(int(a), int(b), str(label)) for a, b, label in value]


def _json_spans(spans: Sequence[Span]) -> list[list[Any]]:
    return [[s.start, s.end, s.label] for s in spans]


@dataclass
class ReadStage:
    """Shard description -> its sentences (and side-file lines)."""

    def __call__(self, record: Record) -> Record:
        return {"index": record["index"], "first": record["first"], "count": record["count"], **read_shard(record)}


def _translate(
    texts: list[str], ids: list[str], mt: Component, src: str, tgt: str, ctx: Context, batch_tokens: int | None
) -> list[str]:
    """:func:`step_translate`, in batches of about ``batch_tokens`` words (sentences sorted by length) when given."""
    if mt.precomputed or not batch_tokens:
        return step_translate(texts, ids, mt, src, tgt, ctx)
    order = sorted(range(len(texts)), key=lambda k: len(texts[k].split()))
    batches: list[list[int]] = [[]]
    used = 0
    for k in order:
        words = len(texts[k].split()) + 1
        if batches[-1] and used + words > batch_tokens:
            batches.append([])
            used = 0
        batches[-1].append(k)
        used += words
    out = [""] * len(texts)
    for batch in batches:
        if batch:
            done = step_translate(
                [texts[k] for k in batch], [ids[k] for k in batch], mt, src, tgt, replace(ctx, batch_size=len(batch))
            )
            for k, text in zip(batch, done):
                out[k] = text
    return out


@dataclass
class TranslateStage:
    """Translate (and back-translate) a shard; sets src/tgt tokens. Holds the MT model."""

    kind: str
    mt: Component
    lang: str
    pivot: str
    tokenizer: str
    backtranslation: bool
    ctx: Context
    batch_tokens: int | None = None

    def __call__(self, record: Record) -> Record:
        ids, tokens = record["ids"], record["tokens"]
        src_lang, tgt_lang = (self.pivot, self.lang) if self.kind == "train" else (self.lang, self.pivot)
        texts = [detokenize(t, src_lang) for t in tokens]
        translations = record.get("translations") or _translate(
            texts, ids, self.mt, src_lang, tgt_lang, self.ctx, self.batch_tokens
        )
        translated = [tokenize(t, tgt_lang, self.tokenizer) for t in translations]
        out = {k: v for k, v in record.items() if k != "translations"}
        if self.kind == "train":
            out.update(src_tokens=tokens, tgt_tokens=translated, src_spans=record["spans"])
        else:
            out.update(src_tokens=translated, tgt_tokens=tokens)
        if self.backtranslation:
            back = record.get("back_translations")
            if back is None:
                if self.mt.precomputed:
                    raise XlnerError(
                        "back-translation with precomputed translations needs the back-translations too: --back-translations FILE"
                    )
                back = _translate(
                    [detokenize(t, tgt_lang) for t in translated],
                    ids,
                    self.mt,
                    tgt_lang,
                    src_lang,
                    self.ctx,
                    self.batch_tokens,
                )
            out["back_texts"] = list(back)
        return out


@dataclass
class TagStage:
    """Tag the English side (translate-test). Holds the tagger."""

    tagger: Component
    ctx: Context

    def __call__(self, record: Record) -> Record:
        spans = step_tag(record["src_tokens"], self.tagger, self.ctx)
        return {**record, "src_spans": [_json_spans(s) for s in spans]}


@dataclass
class AlignStage:
    """Align the shard's pairs in one call (statistical aligners learn from the shard + extra text)."""

    kind: str
    aligner: Component
    lang: str
    pivot: str
    tokenizer: str
    backtranslation: bool
    ctx: Context

    def __call__(self, record: Record) -> Record:
        pairs = [SentencePair(s, t, []) for s, t in zip(record["src_tokens"], record["tgt_tokens"])]
        back_texts = record.get("back_texts") or []
        back_lang, back_of = (self.pivot, "tgt") if self.kind == "train" else (self.lang, "src")
        align_pairs(
            pairs,
            self.aligner,
            self.backtranslation,
            lambda: list(back_texts),
            back_lang,
            back_of,
            self.tokenizer,
            self.ctx,
        )
        out = {k: v for k, v in record.items() if k != "back_texts"}
        out["alignments"] = [sorted([i, j] for i, j in p.alignment or ()) for p in pairs]
        return out


@dataclass
class MarkersStage:
    """``markers`` / ``model-transfer`` methods (no alignment): :mod:`xlner.project.markers` over one shard."""

    kind: str
    method: str
    mt: Component
    tagger: Component | None
    lang: str
    pivot: str
    tokenizer: str
    options: dict[str, Any]
    ctx: Context

    def __call__(self, record: Record) -> Record:
        from xlner import marker_steps
        from xlner.project import markers

        sentences = [Sentence(t, _spans(sp), i) for t, sp, i in zip(record["tokens"], record["spans"], record["ids"])]
        if self.kind == "train":
            pairs, confidences, report = marker_steps.translate_train_markers(
                sentences,
                lang=self.lang,
                pivot=self.pivot,
                translator=self.mt,
                ctx=self.ctx,
                tokenizer=self.tokenizer,
                options=self.options,
            )
            targets = [(p.tgt_tokens, p.tgt_spans or []) for p in pairs]
        else:
            if self.method == "markers":
                out, pairs, confidences, report = marker_steps.translate_test_markers(
                    sentences,
                    lang=self.lang,
                    pivot=self.pivot,
                    translator=self.mt,
                    tagger=self.tagger,
                    ctx=self.ctx,
                    tokenizer=self.tokenizer,
                    options=self.options,
                )
            else:
                out, pairs, confidences = marker_steps.model_transfer(sentences, tagger=self.tagger, ctx=self.ctx)
                report = None
            targets = [(s.tokens, s.spans) for s in out]
        if report is not None:
            markers.log_report(report)
        return {
            "index": record["index"],
            "ids": record["ids"],
            "src_tokens": [list(p.src_tokens) for p in pairs],
            "src_spans": [_json_spans(p.src_spans) for p in pairs],
            "alignments": [sorted([i, j] for i, j in p.alignment or ()) for p in pairs],
            "tgt_tokens": [list(t) for t, _ in targets],
            "tgt_spans": [_json_spans(sp) for _, sp in targets],
            "confidences": [float(c) for c in confidences],
        }


@dataclass
class ProjectStage:
    """Project the source spans onto the targets."""

    method: str
    options: dict[str, Any]
    ctx: Context

    def __call__(self, record: Record) -> Record:
        pairs = [
            SentencePair(s, t, _spans(sp), frozenset((i, j) for i, j in a))
            for s, t, sp, a in zip(
                record["src_tokens"], record["tgt_tokens"], record["src_spans"], record["alignments"]
            )
        ]
        results = step_project(pairs, self.method, self.options, self.ctx)
        return {
            **record,
            "tgt_spans": [_json_spans(r.spans) for r in results],
            "confidences": [float(r.confidence) for r in results],
        }


def shard_records(record: Record, min_confidence: float) -> list[dict[str, Any]]:
    """One output record per sentence of a projected shard."""
    rows = []
    for k, sentence_id in enumerate(record["ids"]):
        confidence = record["confidences"][k]
        tokens = record["tgt_tokens"][k]
        rows.append(
            {
                "id": sentence_id,
                "tokens": tokens,
                "spans": record["tgt_spans"][k],
                "confidence": confidence,
                "kept": bool(confidence >= min_confidence and tokens),
                "alignment": record["alignments"][k],
                "src_tokens": record["src_tokens"][k],
                "src_spans": record["src_spans"][k],
            }
        )
    return rows


def write_shard(path: Path, rows: list[dict[str, Any]], format: str) -> None:
    """Write one output shard atomically (JSONL, or Parquet with spans as {start, end, label})."""
    from xlner.io import atomic_write

    if format == "jsonl":
        with atomic_write(path) as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        return
    import pyarrow as pa
    import pyarrow.parquet as pq

    def as_structs(spans: list[list[Any]]) -> list[dict[str, Any]]:
        return [{"start": a, "end": b, "label": label} for a, b, label in spans]

    span_type = pa.list_(pa.struct([("start", pa.int64()), ("end", pa.int64()), ("label", pa.string())]))
    schema = pa.schema(
        [
            ("id", pa.string()),
            ("tokens", pa.list_(pa.string())),
            ("spans", span_type),
            ("confidence", pa.float64()),
            ("kept", pa.bool_()),
            ("alignment", pa.list_(pa.list_(pa.int64()))),
            ("src_tokens", pa.list_(pa.string())),
            ("src_spans", span_type),
        ]
    )
    table = pa.Table.from_pylist(
        [{**r, "spans": as_structs(r["spans"]), "src_spans": as_structs(r["src_spans"])} for r in rows], schema=schema
    )
    with atomic_write(path, "wb") as out:
        pq.write_table(table, out)


def read_shard_output(path: Path) -> list[dict[str, Any]]:
    """The records of one output shard (as written by :func:`write_shard`)."""
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]
    import pyarrow.parquet as pq

    rows = pq.read_table(path).to_pylist()
    for row in rows:
        for key in ("spans", "src_spans"):
            row[key] = [[s["start"], s["end"], s["label"]] for s in row[key] or []]
    return rows


@dataclass
class WriteStage:
    """Write a projected shard to ``paths[index]``; returns a small status record."""

    paths: dict[int, str]
    format: str
    min_confidence: float

    def __call__(self, record: Record) -> Record:
        rows = shard_records(record, self.min_confidence)
        path = Path(self.paths[record["index"]])
        write_shard(path, rows, self.format)
        return {
            "index": record["index"],
            "path": str(path),
            "sentences": len(rows),
            "kept": sum(r["kept"] for r in rows),
        }


# ---------------------------------------------------------------- jobs


@dataclass
class JobResult:
    """What a sharded job did: every shard file (in order), which were computed now and which reused."""

    output: Path | None
    shard_files: list[Path]
    computed: list[int]
    skipped: list[int]
    config_hash: str
    sentences: int = 0
    kept: int = 0
    spans: int = 0
    seconds: float = 0.0
    records: list[Record] = field(default_factory=list, repr=False)


def _describe(component: Component) -> dict[str, Any]:
    options = component.options if component.key_options is None else component.key_options
    return {"name": component.name, "options": describe_options(dict(options))}


def _side_translations(mt: Component) -> str | None:
    """A positional (plain text) translations file, cut per shard by the reader."""
    if not mt.precomputed:
        return None
    path = mt.options.get("path") or mt.options.get("translations")
    if path and not str(path).endswith(".jsonl"):
        return str(path)
    return None


def run_job(
    kind: str,
    input: str | Path,
    output: str | Path | None = None,
    spec: PipelineSpec | None = None,
    *,
    batch_tokens: int | None = None,
    input_format: str = "auto",
    shard_size: int = DEFAULT_SHARD_SIZE,
    shards_dir: str | Path | None = None,
    shard_format: str = "jsonl",
    details: str | Path | None = None,
    engine: str = "local",
    retries: int = 2,
    ray_options: RayOptions | None = None,
    policy: str = "repair",
    label_names: Any = None,
    **options: Any,
) -> JobResult:
    """Run translate-``kind`` (``"train"`` or ``"test"``) over ``input`` shard by shard on ``engine``.

    The pipeline is ``spec`` with ``options`` (fields of
    :class:`xlner.pipeline.PipelineSpec`) replacing its fields, as for
    :func:`xlner.pipeline.translate_train` / :func:`~xlner.pipeline.translate_test`.
    ``shards_dir`` (default ``<output>.shards``) receives one output file per
    shard; finished shards are skipped. ``output``/``details``: exports
    written once every shard is done. ``batch_tokens``: translate in batches
    of about that many words. ``policy``/``label_names``: how labels are read
    (see :func:`xlner.tags.tags_to_spans`, :mod:`xlner.io.jsonl`). Raises :class:`~xlner.engines.JobFailed` naming
    failed shards and their sentence ids after ``retries`` retries each.
    """
    spec = PipelineSpec.of(spec, options, "run_job")
    if kind not in ("train", "test"):
        raise XlnerError(f"unknown job kind {kind!r}: expected train or test")
    if engine not in ENGINES:
        raise XlnerError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")
    if shard_format not in SHARD_FORMATS:
        raise XlnerError(f"unknown shard format {shard_format!r}: expected {' or '.join(SHARD_FORMATS)}")
    run = spec.setup()
    if output is None and shards_dir is None:
        raise XlnerError("give an output file or a shards folder")
    started = time.perf_counter()
    lang, pivot, method, tokenizer, backtranslation, ctx = (
        spec.lang,
        spec.pivot,
        spec.method,
        spec.tokenizer,
        spec.backtranslation,
        run.ctx,
    )
    mt, al = run.translator, run.aligner
    ner = run.tagger if kind == "test" else None
    side: dict[str, str | Path] = {}
    translations = _side_translations(mt)
    if translations:
        side["translations"] = translations
    if backtranslation and spec.back_translations is not None:
        side["back_translations"] = str(spec.back_translations)
    input = Path(input)
    shards = plan_shards(input, input_format, shard_size, labels=kind == "train", side_files=side)
    for shard in shards:  # how labels are read (see xlner.tags and xlner.io.jsonl)
        shard.update(policy=policy, label_names=label_names)

    config = {
        "version": JOB_VERSION,
        "kind": kind,
        "input": describe_options(str(input)),
        "format": input_format,
        "shard_size": shard_size,
        "lang": lang,
        "pivot": pivot,
        "translator": _describe(mt),
        "aligner": _describe(al),
        "tagger": _describe(ner) if ner else None,
        "method": method,
        "method_options": describe_options(run.method_options),
        "backtranslation": backtranslation,
        "back_translations": describe_options(str(spec.back_translations)) if spec.back_translations else None,
        "tokenizer": tokenizer,
        "batch_size": spec.batch_size,
        "batch_tokens": batch_tokens,
        "min_confidence": spec.min_confidence,
        "policy": policy,
        "label_names": label_names,
    }
    config_hash = fingerprint(config)[:12]
    folder = Path(shards_dir) if shards_dir is not None else Path(f"{output}.shards")
    folder.mkdir(parents=True, exist_ok=True)
    paths = {s["index"]: str(folder / f"{input.stem}-{s['index']:05d}-{config_hash}.{shard_format}") for s in shards}
    pending = [s for s in shards if not Path(paths[s["index"]]).is_file()]
    skipped = [s["index"] for s in shards if Path(paths[s["index"]]).is_file()]

    stages = [Stage("read", ReadStage())]
    if method in MARKER_METHODS:
        if method == "model-transfer" and kind == "train":
            raise XlnerError("model-transfer is a translate-test method")
        stages.append(
            Stage(
                method,
                MarkersStage(kind, method, mt, ner, lang, pivot, tokenizer, run.method_options, ctx),
                model=True,
                gpu=True,
            )
        )
    else:
        stages.append(
            Stage(
                "translate",
                TranslateStage(kind, mt, lang, pivot, tokenizer, backtranslation, ctx, batch_tokens),
                model=True,
                gpu=True,
            )
        )
        if ner is not None:
            stages.append(Stage("tag", TagStage(ner, ctx), model=True, gpu=True))
        neural = al.name not in STATISTICAL_ALIGNERS
        stages.append(
            Stage("align", AlignStage(kind, al, lang, pivot, tokenizer, backtranslation, ctx), model=neural, gpu=neural)
        )
        project_options = run.project_options
        scored = any(project_options.get(k) for k in MODEL_SCORE_OPTIONS)
        stages.append(Stage("project", ProjectStage(method, project_options, ctx), model=scored, gpu=scored))
    stages.append(Stage("write", WriteStage(paths, shard_format, spec.min_confidence if kind == "train" else 0.0)))
    records = run_stages(
        pending, stages, engine=engine, retries=retries, ray_options=ray_options, desc=f"translate-{kind} shards"
    )
    failures = [f for f in map(failure_of, records) if f is not None]
    if failures:
        raise JobFailed(sorted(failures, key=lambda f: f.index))
    result = JobResult(
        Path(output) if output else None,
        [Path(paths[s["index"]]) for s in shards],
        sorted(r["index"] for r in records),
        skipped,
        config_hash,
        records=records,
    )
    export(
        result,
        output,
        details,
        kept_only=kind == "train",
        method=method,
        project_options=None if method in MARKER_METHODS else run.project_options,
    )
    result.seconds = time.perf_counter() - started
    return result


def iter_rows(shard_files: Sequence[Path]) -> Iterator[dict[str, Any]]:
    """Every output record, shard by shard, in input order."""
    for path in shard_files:
        yield from read_shard_output(path)


def export(
    result: JobResult,
    output: str | Path | None,
    details: str | Path | None = None,
    *,
    kept_only: bool = True,
    method: str = "ilp",
    project_options: dict[str, Any] | None = None,
) -> None:
    """Stream the shards into ``output`` (format by suffix, :mod:`xlner.io.formats`) and ``details``; count into ``result``."""
    from xlner.io import atomic_write, write_sentences

    def sentences() -> Iterator[Sentence]:
        result.sentences = result.kept = result.spans = 0
        for row in iter_rows(result.shard_files):
            result.sentences += 1
            if row["kept"] or not kept_only:
                result.kept += 1
                result.spans += len(row["spans"])
                yield Sentence(row["tokens"], _spans(row["spans"]), row["id"])

    if output is not None:
        write_sentences(output, sentences())
    else:
        for _ in sentences():
            pass
    if (
        details is not None
    ):  # xlner.project.explain records: pairs re-projected (method, project_options), 1,000 at a time
        from xlner.project.explain import plain_record, project_explained

        def chunk_records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            pairs = [
                SentencePair(
                    r["src_tokens"],
                    r["tokens"],
                    _spans(r["src_spans"]),
                    frozenset((i, j) for i, j in r["alignment"]),
                    _spans(r["spans"]),
                    r["id"],
                )
                for r in rows
            ]
            if project_options is None:  # marker methods: spans without scores
                records = [plain_record(p, r["confidence"], method) for p, r in zip(pairs, rows)]
            else:
                records = project_explained(pairs, method, **project_options)[1]
            for record, row in zip(records, rows):
                record["kept"] = bool(row["kept"])
            return records

        with atomic_write(details) as out:
            chunk: list[dict[str, Any]] = []
            for row in iter_rows(result.shard_files):
                chunk.append(row)
                if len(chunk) == 1000:
                    out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in chunk_records(chunk))
                    chunk = []
            if chunk:
                out.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in chunk_records(chunk))


def translate_train_job(input: str | Path, output: str | Path | None = None, **options: Any) -> JobResult:
    """Silver training data from labelled ``pivot`` sentences in ``input``, sharded (see :func:`run_job`)."""
    return run_job("train", input, output, **options)


def translate_test_job(input: str | Path, output: str | Path | None = None, **options: Any) -> JobResult:
    """Label the ``lang`` sentences of ``input`` through ``pivot``, sharded (see :func:`run_job`)."""
    return run_job("test", input, output, **options)
