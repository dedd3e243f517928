"""The Ray engine: the job's stages as one streaming Ray Data pipeline.

Each row of the dataset is one shard (``{"index": k, "data": pickled record}``,
one shard per block), so Ray Data streams shards through the stages with
back-pressure: memory depends on shard size and workers, not corpus size.
Model stages run in actor pools (the model is loaded once per actor, on a GPU
when the cluster has GPUs); other stages run as tasks. Ray Data retries tasks
whose worker died and restarts dead actors (its defaults); exceptions inside
a stage are retried per shard by :func:`xlner.engines.apply_stage` and then
reported, with the shard's sentence ids, as a failed shard.

Ray is imported here only (``pip install 'xlner[ray]'``).
"""

from __future__ import annotations

import functools
import pickle
from typing import Any, Sequence

from xlner.engines import RayOptions, Record, Stage, apply_stage
from xlner.errors import XlnerError


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise XlnerError("the ray engine needs Ray Data: pip install 'xlner[ray]'") from None
    return ray


def init_ray(options: RayOptions) -> Any:
    """Connect to ``options.address`` or start a local Ray instance (reuses one already started)."""
    ray = _import_ray()
    if not ray.is_initialized():
        if options.address:
            ray.init(address=options.address, ignore_reinit_error=True)
        else:
            ray.init(num_cpus=options.num_cpus, include_dashboard=False, ignore_reinit_error=True)
    return ray


def _row(index: int, record: Record) -> dict[str, Any]:
    return {"index": index, "data": pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)}


def _apply_row(stages: Sequence[Stage], retries: int, row: dict[str, Any]) -> dict[str, Any]:
    """Unpickle a shard, run consecutive stages on it, pickle it once again."""
    record = pickle.loads(row["data"])
    for stage in stages:
        record = apply_stage(stage, record, retries)
    return _row(row["index"], record)


def _groups(stages: Sequence[Stage]) -> list[list[Stage]]:
    """Each model stage alone; consecutive other stages together (one task, no serialization between them)."""
    groups: list[list[Stage]] = []
    for stage in stages:
        if stage.model or not groups or groups[-1][-1].model:
            groups.append([stage])
        else:
            groups[-1].append(stage)
    return groups


class _ModelStage:
    """A Ray Data actor holding one stage (and so its model) for its lifetime."""

    stage: Stage
    retries: int

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        return _apply_row([self.stage], self.retries, row)


def _actor_class(stage: Stage, retries: int) -> type:
    """An actor class bound to ``stage`` (shipped with the class, so Ray can restart the actor from it alone)."""
    name = "".join(part.title() for part in stage.name.replace("-", " ").split()) + "Stage"
    return type(name, (_ModelStage,), {"stage": stage, "retries": retries})


def run_ray(
    shards: Sequence[Record], stages: Sequence[Stage], *, retries: int = 2, options: RayOptions | None = None
) -> list[Record]:
    """Final records of ``shards`` (in completion order) after running ``stages`` on Ray Data."""
    options = options or RayOptions()
    ray = init_ray(options)
    if not shards:
        return []
    has_gpus = ray.cluster_resources().get("GPU", 0) > 0
    gpus = options.gpus_per_worker if options.gpus_per_worker is not None else (1.0 if has_gpus else 0.0)
    cpus = options.cpus_per_worker
    workers = max(1, options.workers)
    ds = ray.data.from_items([_row(int(s["index"]), dict(s)) for s in shards], override_num_blocks=len(shards))
    for group in _groups(stages):
        stage = group[0]
        if stage.model:
            ds = ds.map(
                _actor_class(stage, retries),
                compute=ray.data.ActorPoolStrategy(size=workers),
                num_cpus=cpus,
                num_gpus=(gpus if stage.gpu else 0) or None,
            )
        else:
            task = functools.partial(_apply_row, group, retries)
            ds = ds.map(task, compute=ray.data.TaskPoolStrategy(size=workers), num_cpus=cpus)
    return [pickle.loads(row["data"]) for row in ds.iter_rows()]
