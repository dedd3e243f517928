"""An on-disk cache of pipeline steps, one JSONL shard per batch, so runs resume.

Layout::

    <cache dir>/<step>/<component>-<key>/meta.json        what the key stands for
    <cache dir>/<step>/<component>-<key>/code.json        the code it stands for
    <cache dir>/<step>/<component>-<key>/<batch hash>.jsonl one {"in": ..., "out": ...} per record

``key`` hashes the xlner cache version, the step, the component's name, its
options and the code that runs the step (:func:`describe_code`: the source
of the modules defining the step and the component, xlner's version, the
version of any third-party package defining them). In the options, a file
counts by its size and modification time, and a local model folder by the
names, sizes and modification times of its files (:func:`describe_folder`),
so editing a step or replacing a model in place recomputes. A batch's shard
is named by the hash of its inputs and written atomically (temp file +
rename) as soon as the batch is done: an interrupted run (Ctrl-C, ``kill
-9``) loses at most the batch in flight, and the next run recomputes only
missing shards. Delete a folder to forget a step.

The cache folder is ``--cache-dir``, else ``$XLNER_CACHE``, else ``~/.cache/xlner``.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import sys
import types
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence, TypeVar

from xlner.io import atomic_write

CACHE_VERSION = 2
MAX_FOLDER_FILES = 2000  # a folder option lists at most this many files ...
MAX_FOLDER_DEPTH = 8  # ... this many levels down
#: A folder holding one of these files (at its top) is a model folder, keyed by its contents.
MODEL_FILE_NAMES = frozenset({"config.json", "config.cfg", "meta.json", "tokenizer.json", "tokenizer_config.json"})
MODEL_FILE_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".onnx", ".gguf", ".h5", ".model", ".crfsuite")
In = TypeVar("In")
Out = TypeVar("Out")


def default_cache_dir() -> Path:
    """``$XLNER_CACHE`` if set, else ``~/.cache/xlner``."""
    env = os.environ.get("XLNER_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "xlner"


def describe_folder(path: str | Path) -> dict[str, Any]:
    """A folder as its path and its files' relative names, sizes and modification times.

    Sorted by name, hidden entries (``.git``, ``.cache``) and ``__pycache__``
    skipped, at most :data:`MAX_FOLDER_FILES` files and :data:`MAX_FOLDER_DEPTH`
    levels (``"truncated": true`` past that). Links are followed.
    """
    root = os.path.abspath(path)
    files: list[list[Any]] = []
    truncated = False

    def walk(folder: str, prefix: str, depth: int) -> None:
        nonlocal truncated
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if truncated or entry.name.startswith(".") or entry.name == "__pycache__":
                continue
            name = f"{prefix}{entry.name}"
            try:
                is_dir = entry.is_dir()
                stat = None if is_dir else entry.stat()
            except OSError:  # a broken link
                files.append([name, None, None])
                continue
            if is_dir:
                if depth < MAX_FOLDER_DEPTH:
                    walk(entry.path, f"{name}/", depth + 1)
                else:
                    truncated = True
            elif len(files) >= MAX_FOLDER_FILES:
                truncated = True
            elif stat is not None:
                files.append([name, stat.st_size, stat.st_mtime_ns])

    walk(root, "", 1)
    described: dict[str, Any] = {"folder": root, "files": files}
    if truncated:
        described["truncated"] = True
    return described


def is_model_folder(path: str | Path) -> bool:
    """Whether ``path`` is a folder with a model or config file at its top (:data:`MODEL_FILE_NAMES`,
    :data:`MODEL_FILE_SUFFIXES`): a Hugging Face, CTranslate2 or spaCy model, not a working folder."""
    try:
        with os.scandir(path) as entries:
            return any(e.name in MODEL_FILE_NAMES or e.name.endswith(MODEL_FILE_SUFFIXES) for e in entries)
    except OSError:
        return False


def describe_options(value: Any) -> Any:
    """Options as JSON; a string naming an existing file becomes its path, size and modification time,
    one naming a model folder (:func:`is_model_folder`) :func:`describe_folder`; other folders stay paths."""
    if isinstance(value, Path):
        value = str(value)
    if isinstance(value, str) and len(value) < 4096 and os.path.isfile(value):
        stat = os.stat(value)
        return {"file": os.path.abspath(value), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    if isinstance(value, str) and len(value) < 4096 and is_model_folder(value):
        return describe_folder(value)
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


@functools.lru_cache(maxsize=None)
def _distribution(top: str, installed: bool) -> str | None:
    """``name==version`` of the distribution that installs the top-level package ``top``, if any."""
    try:
        dist = importlib.metadata.distribution(top)
        return f"{dist.metadata['Name']}=={dist.version}"
    except importlib.metadata.PackageNotFoundError:
        pass
    if not installed:  # not under site-packages: a local module, hashed by its source
        return None
    names = importlib.metadata.packages_distributions().get(top)
    if not names:
        return None
    return f"{names[0]}=={importlib.metadata.version(names[0])}"


@functools.lru_cache(maxsize=1024)
def _file_digest(path: str, size: int, mtime_ns: int) -> str:
    """SHA-256 of a file's bytes (memoised per path, size and modification time)."""
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _source_files(module: types.ModuleType, whole_package: bool) -> list[Path]:
    file = getattr(module, "__file__", None)
    if not file:
        return []
    path = Path(file)
    if whole_package and hasattr(module, "__path__"):
        return sorted(path.parent.rglob("*.py"))
    return [path]


def module_fingerprint(name: str, whole_package: bool = False) -> str:
    """What stands for module ``name``'s code: ``python X.Y`` (standard library), ``dist==version``
    (an installed third-party package) or ``sha256:...`` of its source (xlner, local modules; with
    ``whole_package`` every ``.py`` file of a package). Cheap: digests are memoised per file."""
    top = name.partition(".")[0]
    if top in sys.stdlib_module_names or top == "builtins":
        return f"python {sys.version_info.major}.{sys.version_info.minor}"
    module = sys.modules.get(name)
    if module is None:
        try:
            module = importlib.import_module(name)
        except ImportError:
            return "no source"
    files = _source_files(module, whole_package)
    if top != "xlner":
        installed = any(part in ("site-packages", "dist-packages") for f in files for part in f.parts)
        dist = _distribution(top, installed)
        if dist is not None:
            return dist
    if not files:
        return "no source"
    digest = hashlib.sha256()
    for file in files:
        stat = file.stat()
        digest.update(f"{file.name}\0{_file_digest(str(file), stat.st_size, stat.st_mtime_ns)}\0".encode())
    return f"sha256:{digest.hexdigest()[:24]}"


def _modules_of(obj: Any) -> Iterator[tuple[str, bool]]:
    """The modules whose code ``obj`` runs: (name, whole package)."""
    if obj is None:
        return
    if isinstance(obj, types.ModuleType):  # a package given by itself counts with all its files
        yield obj.__name__, hasattr(obj, "__path__")
    elif isinstance(obj, (list, tuple)):
        for item in obj:
            yield from _modules_of(item)
    elif isinstance(obj, functools.partial):
        yield from _modules_of(obj.func)
    elif isinstance(obj, types.MethodType):
        yield from _modules_of(obj.__func__)
        yield from _modules_of(type(obj.__self__))
    elif isinstance(obj, type):  # a class and its bases
        for cls in obj.__mro__[:-1]:  # not ``object``
            yield cls.__module__, False
    elif isinstance(obj, (types.FunctionType, types.BuiltinFunctionType)):
        yield obj.__module__ or "builtins", False
        built = getattr(obj, "__annotations__", {}).get("return")  # a factory: the class it builds
        if isinstance(built, str):
            built = getattr(obj, "__globals__", {}).get(built.strip("'\""))
        if isinstance(built, type):
            yield from _modules_of(built)
    else:  # an instance: its class
        yield from _modules_of(type(obj))


def _version() -> str:
    try:
        return importlib.metadata.version("xlner")
    except importlib.metadata.PackageNotFoundError:
        return "0+unknown"


def describe_code(*objects: Any) -> dict[str, str]:
    """What stands for the code of ``objects`` (modules, classes, functions, factories, instances,
    lists of them): ``{"xlner": version, module: module_fingerprint, ...}``, sorted by module.

    A class counts with its bases, a registry factory with the class it builds
    (its return annotation), an instance with its class, a module or package
    given by itself with all its files. Code these modules call elsewhere is
    not followed: a step's helpers belong in its module, or in ``code``.
    """
    described = {"xlner": _version()}
    for name, whole in _modules_of(list(objects)):
        key = f"{name}/*" if whole else name
        if key not in described:
            described[key] = module_fingerprint(name, whole)
    return dict(sorted(described.items()))


def code_fingerprint(*objects: Any) -> str:
    """A stable hex digest of :func:`describe_code` (the same in every process while the code is unchanged)."""
    return fingerprint(describe_code(*objects))


def fingerprint(*parts: Any) -> str:
    """A stable SHA-256 hex digest of JSON values."""
    text = json.dumps(list(parts), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class StepCache:
    """The cached batches of one step run by one configured component (``salt``: extra shard key, see :func:`cached_map`)."""

    folder: Path
    salt: str = ""

    @classmethod
    def open(
        cls, root: str | Path | None, step: str, component: str, options: Mapping[str, Any], code: Any = None
    ) -> "StepCache":
        """The folder of ``step`` for ``component`` with ``options`` under ``root`` (default cache dir if None).

        ``code``: what runs the step (the step function, the component's class or
        factory, modules; see :func:`describe_code`); without it the key knows
        only xlner's version.
        """
        root = default_cache_dir() if root is None else Path(root)
        described = describe_options(dict(options))
        code_described = describe_code(code)
        key = fingerprint(CACHE_VERSION, step, component, described, code_described)
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in component)[:40]
        folder = root / step / f"{safe}-{key[:20]}"
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"version": CACHE_VERSION, "step": step, "component": component, "options": described}
        for name, value in (("meta.json", meta), ("code.json", code_described)):
            if not (folder / name).exists():
                with atomic_write(folder / name) as out:
                    json.dump(value, out, ensure_ascii=False, indent=1)
        return cls(folder)

    def _shard(self, inputs: Sequence[Any]) -> Path:
        key = fingerprint(self.salt, list(inputs)) if self.salt else fingerprint(list(inputs))
        return self.folder / f"{key[:32]}.jsonl"

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
    code: Any = None,
) -> list[Out]:
    """Apply ``function`` batch by batch (``batch_size=None``: one batch), reusing and filling ``cache``.

    ``code`` (see :func:`describe_code`; e.g. ``function`` itself) also keys the
    batches, for code that :meth:`StepCache.open` was not told about.
    ``encode`` turns an input into the JSON value that identifies it;
    ``to_json``/``from_json`` convert outputs for storage. Outputs come back
    in input order and round-tripped through JSON, so a run from the cache and
    a fresh run give identical results. A step found wholly in the cache prints
    ``DESC: N sent (cached)`` on stderr instead of a progress bar.
    """
    from tqdm.auto import tqdm

    if cache is not None and code is not None:
        cache = replace(cache, salt=code_fingerprint(code))
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


def cached_call(compute: Callable[[], Any], key: Any, *, cache: StepCache | None) -> Any:
    """``compute()``'s JSON result, stored in ``cache`` as one record named by the JSON value ``key``."""
    stored = cache.get([key]) if cache is not None else None
    if stored is None:
        stored = [json.loads(json.dumps(compute(), ensure_ascii=False))]
        if cache is not None:
            cache.put([key], stored)
    return stored[0]
