"""An on-disk cache of pipeline steps, one JSONL shard per batch, so runs resume.

Layout::

    <cache dir>/<step>/<component>-<key>/meta.json        what the key stands for
    <cache dir>/<step>/<component>-<key>/<batch hash>.jsonl one {"in": ..., "out": ...} per record

``key`` hashes the xlner cache version, the step, the component's name and
its options (files named in the options count by size and modification
time). A batch's shard is named by the hash of its inputs and written
atomically (temp file + rename) as soon as the batch is done: an interrupted
run (Ctrl-C, ``kill -9``) loses at most the batch in flight, and the next run
recomputes only missing shards. Delete a folder to forget a step.

The cache folder is ``--cache-dir``, else ``$XLNER_CACHE``, else ``~/.cache/xlner``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TypeVar

from xlner.io import atomic_write

CACHE_VERSION = 1
In = TypeVar("In")
Out = TypeVar("Out")


def default_cache_dir() -> Path:
    """``$XLNER_CACHE`` if set, else ``~/.cache/xlner``."""
    env = os.environ.get("XLNER_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "xlner"


def describe_options(value: Any) -> Any:
    """Options as JSON; a string naming an existing file becomes its path, size and modification time."""
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str) and len(value) < 4096 and os.path.isfile(value):
        stat = os.stat(value)
        return {"file": os.path.abspath(value), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    if isinstance(value, Mapping):
        return {str(k): describe_options(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [describe_options(v) for v in value]
        return sorted(items, key=json.dumps) if isinstance(value, (set, frozenset)) else items
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if callable(getattr(value, "config", None)):
        return describe_options(value.config())
    return repr(value)


def fingerprint(*parts: Any) -> str:
    """A stable SHA-256 hex digest of JSON values."""
    text = json.dumps(list(parts), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class StepCache:
    """The cached batches of one step run by one configured component."""

    folder: Path

    @classmethod
    def open(cls, root: str | Path | None, step: str, component: str, options: Mapping[str, Any]) -> "StepCache":
        """The folder of ``step`` for ``component`` with ``options`` under ``root`` (default cache dir if None)."""
        root = default_cache_dir() if root is None else Path(root)
        described = describe_options(dict(options))
        key = fingerprint(CACHE_VERSION, step, component, described)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in component)[:40]
        folder = root / step / f"{safe}-{key[:20]}"
        folder.mkdir(parents=True, exist_ok=True)
        meta = folder / "meta.json"
        if not meta.exists():
            with atomic_write(meta) as out:
                json.dump(
                    {"version": CACHE_VERSION, "step": step, "component": component, "options": described},
                    out,
                    ensure_ascii=False,
                    indent=1,
                )
        return cls(folder)

    def _shard(self, inputs: Sequence[Any]) -> Path:
        return self.folder / f"{fingerprint(list(inputs))[:32]}.jsonl"

    def get(self, inputs: Sequence[Any]) -> list[Any] | None:
        """The stored outputs of this batch, or None (also for a damaged shard, which is recomputed)."""
        path = self._shard(inputs)
        try:
            records = [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]
        except (OSError, ValueError):
            return None
        if len(records) != len(inputs) or any(not isinstance(r, dict) or "out" not in r for r in records):
            return None
        return [r["out"] for r in records]

    def put(self, inputs: Sequence[Any], outputs: Sequence[Any]) -> None:
        """Store one batch atomically."""
        with atomic_write(self._shard(inputs)) as out:
            for item, result in zip(inputs, outputs):
                out.write(json.dumps({"in": item, "out": result}, ensure_ascii=False) + "\n")


def cached_map(
    function: Callable[[list[In]], Sequence[Out]],
    items: Sequence[In],
    *,
    cache: StepCache | None,
    batch_size: int | None,
    encode: Callable[[In], Any] = lambda x: x,
    to_json: Callable[[Out], Any] = lambda x: x,
    from_json: Callable[[Any], Out] = lambda x: x,
    desc: str = "",
) -> list[Out]:
    """Apply ``function`` batch by batch (``batch_size=None``: one batch), reusing and filling ``cache``.

    ``encode`` turns an input into the JSON value that identifies it;
    ``to_json``/``from_json`` convert outputs for storage. Outputs come back
    in input order and round-tripped through JSON, so a run from the cache and
    a fresh run give identical results. A step found wholly in the cache prints
    ``DESC: N sent (cached)`` on stderr instead of a progress bar.
    """
    from tqdm.auto import tqdm

    items = list(items)
    size = max(1, batch_size or len(items) or 1)
    results: list[Out] = []
    batches = [items[start : start + size] for start in range(0, len(items), size)]
    keyed = [[encode(item) for item in batch] for batch in batches]
    found = [cache.get(keys) if cache is not None else None for keys in keyed]
    reused = sum(len(batch) for batch, stored in zip(batches, found) if stored is not None)
    if items and reused == len(items):  # every batch from the cache: one line, no progress bar
        if desc:
            tqdm.write(f"{desc}: {len(items)} sent (cached)", file=sys.stderr)
        # every batch is non-empty, so each stored is a list here (the filter only narrows the type)
        return [from_json(value) for stored in found if stored is not None for value in stored]
    with tqdm(total=len(items), desc=desc or None, unit="sent", disable=not items, leave=False) as bar:
        if reused:
            bar.set_postfix_str(f"{reused} cached")
        for batch, keys, stored in zip(batches, keyed, found):
            if stored is None:
                outputs = list(function(batch))
                if len(outputs) != len(batch):
                    raise RuntimeError(f"{desc or 'step'}: {len(outputs)} outputs for {len(batch)} inputs")
                stored = [json.loads(json.dumps(to_json(o), ensure_ascii=False)) for o in outputs]
                if cache is not None:
                    cache.put(keys, stored)
            results.extend(from_json(value) for value in stored)
            bar.update(len(batch))
    return results
