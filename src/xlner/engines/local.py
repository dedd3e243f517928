"""The local engine: every stage over one shard after another, in this process."""

from __future__ import annotations

from typing import Sequence

from xlner.engines import Record, Stage, apply_stage


def run_local(
    shards: Sequence[Record], stages: Sequence[Stage], *, retries: int = 2, desc: str = "shards"
) -> list[Record]:
    """Final records of ``shards`` in order (a shard holds memory only while it is processed)."""
    from tqdm.auto import tqdm

    results = []
    for shard in tqdm(list(shards), desc=desc, unit="shard", disable=len(shards) < 2):
        record = dict(shard)
        for stage in stages:
            record = apply_stage(stage, record, retries)
        results.append(record)
    return results
