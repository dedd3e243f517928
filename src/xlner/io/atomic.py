"""Safe output files: all or nothing, never a destroyed device, link or input.

One mechanism for every writer (:func:`atomic_write`):

- a regular file or a new path is written to a unique temporary file beside
  it and moved into place with ``os.replace``;
- a symbolic link is followed and its *target* replaced that way (the link
  stays a link);
- ``-`` (standard output), a character device (``/dev/null``), a FIFO or a
  socket, and ``/dev/stdout``-like paths are streamed to directly;
- a directory is an error.

:func:`check_outputs` checks a command's output paths before any work and
refuses an output that names one of its inputs (or another output);
:meth:`OutputPlan.commit` defers the final replace of those outputs until the
whole run succeeded, so the outputs of one run appear together.
"""

from __future__ import annotations

import contextlib
import contextvars
import io
import os
import stat
import sys
import tempfile
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Mapping

from xlner.errors import InputError

_STREAM_PREFIXES = ("/dev/stdout", "/dev/stderr", "/dev/fd/", "/proc/self/fd/")


def _new_file_mode(path: Path) -> int:
    """Permissions for the result: the old file's, else what ``open()`` would give."""
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def output_kind(path: str | Path) -> str:
    """``"stdout"`` (``-``), ``"stream"`` (device, FIFO, socket, /dev/stdout), ``"dir"``, ``"file"`` or ``"new"``."""
    text = str(path)
    if text == "-":
        return "stdout"
    if text.startswith(_STREAM_PREFIXES) or text in ("/dev/stdout", "/dev/stderr"):
        return "stream"
    try:
        mode = os.stat(path).st_mode  # follows symbolic links
    except (FileNotFoundError, NotADirectoryError):
        return "new"  # also a dangling link (its target is created); a bad folder is reported when writing
    except OSError as error:
        raise InputError(f"cannot write: {error.strerror}", path) from None
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISREG(mode):
        return "file"
    return "stream"


def is_stdout(path: str | Path | None) -> bool:
    """True when ``path`` writes to this process's standard output (``-``, ``/dev/stdout``, a link to it)."""
    if path is None:
        return False
    if str(path) in ("-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"):
        return True
    try:
        mine, theirs = os.fstat(sys.stdout.fileno()), os.stat(path)
    except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
        return False
    return not stat.S_ISREG(theirs.st_mode) and (mine.st_dev, mine.st_ino) == (theirs.st_dev, theirs.st_ino)


# Active OutputPlan commit: resolved output path -> list of (temporary file, target) to replace at the end.
_DEFERRED: contextvars.ContextVar[dict[str, list[tuple[str, Path]]] | None] = contextvars.ContextVar(
    "xlner_deferred", default=None
)


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str = "utf-8") -> Iterator[IO[Any]]:
    """Open ``path`` for writing safely (see the module docstring).

    Files: a temporary file beside the (link-resolved) path replaces it on
    success; if the body raises, the temporary file is removed and ``path``
    is left as it was. Streams (``-``, devices, FIFOs) are written directly.
    Text mode writes ``\\n`` line ends.
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"atomic_write mode must be 'w' or 'wb', not {mode!r}")
    kind = output_kind(path)
    if kind == "dir":
        raise InputError("is a directory, expected a file to write", path)
    if kind == "stdout":
        handle: IO[Any] = sys.stdout.buffer if mode == "wb" else sys.stdout
        yield handle
        handle.flush()
        return
    if kind == "stream":
        try:
            stream = open(path, mode) if mode == "wb" else open(path, "w", encoding=encoding, newline="\n")
        except OSError as error:
            raise InputError(f"cannot write: {error.strerror}", path) from None
        with stream:
            yield stream
        return
    target = Path(os.path.realpath(path))  # a link's target is replaced, the link stays
    try:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as error:
        raise InputError(f"cannot write: {error.strerror}", path) from None
    try:
        if mode == "wb":
            handle = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding=encoding, newline="\n")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, _new_file_mode(target))
        deferred = _DEFERRED.get()
        if deferred is not None and str(target) in deferred:
            deferred[str(target)].append((tmp_name, target))
        else:
            os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _flatten(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (str, os.PathLike)):
        return [str(value)]
    if isinstance(value, Iterable):
        return [str(item) for item in value if item is not None and item != ""]
    return [str(value)]


def _identity(path: str) -> tuple[str, tuple[int, int] | None]:
    """Resolved path and (device, inode) when it exists."""
    try:
        info = os.stat(path)
        inode: tuple[int, int] | None = (info.st_dev, info.st_ino)
    except OSError:
        inode = None
    return os.path.realpath(path), inode


class OutputPlan:
    """The checked output files of one command; :meth:`commit` writes them together."""

    def __init__(self, outputs: Mapping[str, str]):
        self.outputs = dict(outputs)

    @contextlib.contextmanager
    def commit(self) -> Iterator[None]:
        """Defer replacing the plan's files until the body succeeds, then replace them all."""
        deferred: dict[str, list[tuple[str, Path]]] = {
            os.path.realpath(path): [] for path in self.outputs.values() if output_kind(path) in ("file", "new")
        }
        token = _DEFERRED.set(deferred)
        try:
            yield
        except BaseException:
            for pending in deferred.values():
                for tmp_name, _ in pending:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp_name)
            raise
        finally:
            _DEFERRED.reset(token)
        for pending in deferred.values():
            for index, (tmp_name, target) in enumerate(pending):
                if index + 1 < len(pending):  # written twice: the last one wins
                    os.unlink(tmp_name)
                else:
                    os.replace(tmp_name, target)


def check_outputs(outputs: Mapping[str, Any], inputs: Mapping[str, Any] | None = None) -> OutputPlan:
    """Check output paths before any work; return the plan to :meth:`~OutputPlan.commit` them.

    ``outputs`` and ``inputs`` map option names (``"--output"``) to a path,
    a list of paths or None. Each output must not be a directory, its folder
    is created when missing and must be writable, and it must not name (by
    resolved path or by device and inode) an input or another output.
    Raises :class:`InputError` with one line naming both options.
    """
    checked: dict[str, str] = {}
    seen: list[tuple[str, str, tuple[str, tuple[int, int] | None]]] = []
    for option, value in (inputs or {}).items():
        for path in _flatten(value):
            if path == "-" or os.path.isdir(path):
                continue
            with contextlib.suppress(OSError):
                if stat.S_ISCHR(os.stat(path).st_mode):
                    continue
            seen.append((option, path, _identity(path)))
    for option, value in outputs.items():
        for path in _flatten(value):
            kind = output_kind(path)
            if kind == "dir":
                raise InputError(f"{option} is a directory, expected a file to write", path)
            if kind in ("file", "new"):
                parent = Path(os.path.realpath(path)).parent
                try:
                    parent.mkdir(parents=True, exist_ok=True)
                except OSError as error:
                    raise InputError(f"cannot create the folder of {option}: {error.strerror}", parent) from None
                if not os.access(parent, os.W_OK | os.X_OK):
                    raise InputError(f"cannot write {option}: folder not writable", parent)
            elif kind == "stream" and os.path.exists(path) and not os.access(path, os.W_OK):
                raise InputError(f"cannot write {option}: permission denied", path)
            if kind == "stdout" or (kind == "stream" and not os.path.exists(path)):
                checked[option] = path
                continue
            resolved, inode = _identity(path)
            char_device = kind == "stream" and stat.S_ISCHR(os.stat(path).st_mode)
            if not char_device:
                for other_option, _, (other_resolved, other_inode) in seen:
                    if resolved == other_resolved or (inode is not None and inode == other_inode):
                        raise InputError(f"{option} and {other_option} name the same file: {path}")
                seen.append((option, path, (resolved, inode)))
            checked[option] = path
    return OutputPlan(checked)
