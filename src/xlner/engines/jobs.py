"""Translate-train and translate-test over a sharded corpus, on either engine.

The input file is cut into shards of ``shard_size`` sentences
(:func:`~xlner.engines.shards.plan_shards`); every shard is read into a
:class:`~xlner.pipeline.Batch`, goes through the steps of
:func:`xlner.pipeline.build_steps` (the same steps the in-memory pipelines
run) and is written atomically to
``<shards dir>/<input stem>-<shard>-<config hash>.jsonl`` (or ``.parquet``).
The configuration hash covers the whole :class:`~xlner.pipeline.PipelineSpec`
(:meth:`~xlner.pipeline.PipelineSpec.describe`: components and their options,
files by size and time), the input and the shard size, but not the engine, so
a restarted job, on either engine, skips every finished shard. When all shards
are done they are exported, in order, to the ``output`` file and ``details``.

Alignment is per shard: a statistical aligner (eflomal) learns from the
shard plus its extra parallel text, so ``shard_size`` changes the alignments
(larger shards: better statistics; see docs/scaling.md). With the same shard
size, both engines give identical output.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

from xlner.cache import describe_code, describe_options, fingerprint
from xlner.engines import ENGINES, JobFailed, RayOptions, Record, Stage, failure_of, run_stages
from xlner.engines.shards import plan_shards, read_shard
from xlner.errors import XlnerError
from xlner.pipeline import (
    MARKER_METHODS,
    Batch,
    Component,
    PipelineSpec,
    build_steps,
    details_records,
)
from xlner.types import Sentence, SentencePair, spans_from_json, spans_to_json

#: Bumped when shard outputs change meaning (finished shards of older versions are recomputed).
JOB_VERSION = 2
DEFAULT_SHARD_SIZE = 1000
SHARD_FORMATS = ("jsonl", "parquet")
__all__ = ["MARKER_METHODS", "JobResult", "export", "iter_rows", "run_job"]


# ---------------------------------------------------------------- shard stages around the pipeline's steps


@dataclass
class ReadStage:
    """Shard description -> its :class:`~xlner.pipeline.Batch` (sentences and side-file lines)."""

    def __call__(self, shard: Record) -> Batch:
        data = read_shard(shard)
        sentences = [
            Sentence(t, spans_from_json(sp), i) for t, sp, i in zip(data["tokens"], data["spans"], data["ids"])
        ]
        return Batch(
            sentences,
            index=int(shard["index"]),
            translations=data.get("translations"),
            back_translations=data.get("back_translations"),
        )


def shard_records(batch: Batch, min_confidence: float) -> list[dict[str, Any]]:
    """One output record per sentence of a projected shard."""
    return [
        {
            "id": pair.id,
            "tokens": pair.tgt_tokens,
            "spans": spans_to_json(pair.tgt_spans or []),
            "confidence": confidence,
            "kept": kept,
            "alignment": sorted([i, j] for i, j in pair.alignment or ()),
            "src_tokens": pair.src_tokens,
            "src_spans": spans_to_json(pair.src_spans),
        }
        for pair, confidence, kept in batch.outputs(min_confidence)
    ]


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

    def __call__(self, batch: Batch) -> Record:
        rows = shard_records(batch, self.min_confidence)
        path = Path(self.paths[batch.index])
        write_shard(path, rows, self.format)
        return {"index": batch.index, "path": str(path), "sentences": len(rows), "kept": sum(r["kept"] for r in rows)}


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
    if output is None and shards_dir is None:
        raise XlnerError("give an output file or a shards folder")
    steps = build_steps(kind, spec, batch_tokens)
    run = spec.setup()
    started = time.perf_counter()
    side: dict[str, str | Path] = {}
    translations = _side_translations(run.translator)
    if translations:
        side["translations"] = translations
    if spec.backtranslation and spec.back_translations is not None:
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
        "batch_tokens": batch_tokens,
        "policy": policy,
        "label_names": label_names,
        "spec": spec.describe(kind),
        "code": describe_code(
            ReadStage,
            WriteStage,
            *(type(step.fn) for step in steps),
            *(c.code for c in (run.translator, run.tagger, run.aligner)),
        ),
    }
    config_hash = fingerprint(config)[:12]
    folder = Path(shards_dir) if shards_dir is not None else Path(f"{output}.shards")
    folder.mkdir(parents=True, exist_ok=True)
    paths = {s["index"]: str(folder / f"{input.stem}-{s['index']:05d}-{config_hash}.{shard_format}") for s in shards}
    pending = [s for s in shards if not Path(paths[s["index"]]).is_file()]
    skipped = [s["index"] for s in shards if Path(paths[s["index"]]).is_file()]

    min_confidence = spec.min_confidence if kind == "train" else 0.0
    stages = [Stage("read", ReadStage()), *steps, Stage("write", WriteStage(paths, shard_format, min_confidence))]
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
    project_options = None if spec.method in MARKER_METHODS else run.project_options
    export(result, output, details, kept_only=kind == "train", method=spec.method, project_options=project_options)
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
                yield Sentence(row["tokens"], spans_from_json(row["spans"]), row["id"])

    if output is not None:
        write_sentences(output, sentences())
    else:
        for _ in sentences():
            pass
    if details is not None:  # the pairs re-explained 1,000 at a time (xlner.pipeline.details_records)

        def chunk_records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            pairs = [
                SentencePair(
                    r["src_tokens"],
                    r["tokens"],
                    spans_from_json(r["src_spans"]),
                    frozenset((i, j) for i, j in r["alignment"]),
                    spans_from_json(r["spans"]),
                    r["id"],
                )
                for r in rows
            ]
            confidences = [r["confidence"] for r in rows]
            return details_records(pairs, confidences, [r["kept"] for r in rows], method, project_options or {})

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
