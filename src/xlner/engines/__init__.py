"""Execution engines: run the same per-shard stages in a local loop or on Ray Data.

A job is a list of input shards (small dicts, see :mod:`xlner.engines.shards`)
and a list of :class:`Stage` objects, each a picklable callable from one shard
record to the next (the pipeline's stages pass a :class:`xlner.pipeline.Batch`). The last stage writes the shard's output file
and returns a small status record. Both engines call the same stage objects
through :func:`apply_stage`, so their outputs are identical:

* ``local`` (:mod:`xlner.engines.local`): one shard after another in this process;
* ``ray`` (:mod:`xlner.engines.ray`): a streaming Ray Data pipeline, one
  ``Dataset.map`` per stage; stages that hold a model run in actor pools
  (with GPUs when the cluster has them), the others as tasks.

A stage that raises is retried ``retries`` times on the same shard, then the
shard is marked failed with its sentence ids and passed through the later
stages untouched; the job reports every failed shard (:class:`JobFailed`),
never drops one silently. Ray is imported only by the ray engine.

The translate-train / translate-test jobs are in :mod:`xlner.engines.jobs`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

from xlner.errors import InputError, XlnerError

log = logging.getLogger(__name__)

ENGINES = ("local", "ray")
Record = dict[str, Any]


@dataclass
class Stage:
    """One step over shard records.

    ``fn`` must be picklable (Ray ships it to workers). ``model=True``: ``fn``
    holds a model created on first use; Ray keeps it in ``workers`` long-lived
    actors instead of re-creating it per task; ``gpu=True``: each such actor
    gets GPUs when the cluster has them.
    """

    name: str
    fn: Callable[[Any], Any]
    model: bool = False
    gpu: bool = False


@dataclass
class RayOptions:
    """How to reach and use a Ray cluster.

    ``address``: an existing cluster (``auto`` or ``ray://host:10001``); None
    starts a local one with ``num_cpus`` CPUs (None: all). ``workers``:
    parallel workers per stage (actors for model stages, concurrent tasks
    otherwise); ``gpus_per_worker``: GPUs per model actor (None: 1 when the
    cluster has GPUs, else 0); ``cpus_per_worker``: CPUs each worker reserves.
    """

    address: str | None = None
    num_cpus: int | None = None
    workers: int = 1
    gpus_per_worker: float | None = None
    cpus_per_worker: float = 1.0


@dataclass
class ShardFailure:
    """A shard that failed after its retries."""

    index: int
    stage: str
    error: str
    ids: list[str] = field(default_factory=list)

    def describe(self) -> str:
        ids = self.ids
        shown = ", ".join(ids[:3]) + (f", ... {ids[-1]}" if len(ids) > 3 else "")
        return f"shard {self.index} ({len(ids)} sentences, ids {shown}) failed in {self.stage}: {self.error}"


class JobFailed(XlnerError):
    """Some shards failed after their retries; finished shards are kept for a rerun."""

    def __init__(self, failures: Sequence[ShardFailure]):
        self.failures = list(failures)
        lines = "\n".join(f"  {f.describe()}" for f in self.failures)
        super().__init__(f"{len(self.failures)} shard(s) failed (finished shards are kept; rerun to retry):\n{lines}")


def _shard_ids(record: Any) -> tuple[Any, list[str]]:
    """A record's shard index and sentence ids: a shard description (dict) or a :class:`xlner.pipeline.Batch`."""
    if isinstance(record, dict):
        ids = record.get("ids") or [str(record.get("first", 0) + k) for k in range(record.get("count", 0))]
        return record.get("index"), [str(i) for i in ids]
    return getattr(record, "index", None), [str(i) for i in getattr(record, "ids", [])]


def apply_stage(stage: Stage, record: Any, retries: int) -> Any:
    """``stage.fn(record)``, retried; after the last failure, the record becomes a failure record."""
    if isinstance(record, dict) and "error" in record:
        return record
    attempts = 1 + max(0, retries)
    for attempt in range(1, attempts + 1):
        try:
            return stage.fn(record)
        except InputError as error:  # bad input: retrying cannot help
            last: Exception = error
            break
        except Exception as error:  # noqa: BLE001 - reported with the shard's ids, never dropped
            last = error
            log.warning(
                "shard %s: %s failed (attempt %d of %d): %s",
                _shard_ids(record)[0],
                stage.name,
                attempt,
                attempts,
                error,
            )
            if attempt < attempts:
                time.sleep(min(2.0, 0.1 * attempt))
    index, ids = _shard_ids(record)
    return {
        "index": index,
        "ids": ids,
        "error": f"{type(last).__name__}: {last}",
        "stage": stage.name,
    }


def failure_of(record: Record) -> ShardFailure | None:
    """The failure a final record carries, if any."""
    if "error" not in record:
        return None
    return ShardFailure(int(record["index"]), record.get("stage", "?"), record["error"], list(record.get("ids", [])))


def run_stages(
    shards: Sequence[Record],
    stages: Sequence[Stage],
    *,
    engine: str = "local",
    retries: int = 2,
    ray_options: RayOptions | None = None,
    desc: str = "shards",
) -> list[Record]:
    """Run ``stages`` over ``shards`` with ``engine``; the final records (any order for ray), failures included."""
    if engine == "local":
        from xlner.engines.local import run_local

        return run_local(shards, stages, retries=retries, desc=desc)
    if engine == "ray":
        from xlner.engines.ray import run_ray

        return run_ray(shards, stages, retries=retries, options=ray_options or RayOptions())
    raise XlnerError(f"unknown engine {engine!r}: expected one of {', '.join(ENGINES)}")


__all__ = ["ENGINES", "JobFailed", "RayOptions", "ShardFailure", "Stage", "apply_stage", "failure_of", "run_stages"]
