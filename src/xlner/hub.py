"""Loading Hugging Face models: a local folder or the local cache first, and a fast error when offline.

:func:`from_pretrained` is what every xlner loader calls (translators, taggers,
encoders, projection scorers): a folder is loaded as is; a hub name is first
loaded with ``local_files_only=True``; only when it is not cached is the hub
asked, and only when the hub answers (``HF_HUB_OFFLINE=1``, or no answer
within :data:`TIMEOUT_S` seconds, means it does not). :func:`check_model`
does the same checks without loading, so commands can fail before any work.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path
from typing import Any, Callable, TypeVar

from xlner.errors import XlnerError

T = TypeVar("T")
TIMEOUT_S = 3.0
_HUB_NAME = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")


def offline() -> bool:
    """True when ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) is set to a true value."""
    return any(
        os.environ.get(var, "").strip().lower() in ("1", "true", "yes", "on")
        for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def endpoint() -> str:
    """The hub address (``HF_ENDPOINT`` or huggingface.co)."""
    return os.environ.get("HF_ENDPOINT", "").strip() or "https://huggingface.co"


@functools.lru_cache(maxsize=4)
def _reachable(url: str, timeout: float) -> bool:
    import urllib.error
    import urllib.request

    try:
        urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=timeout).close()
    except urllib.error.HTTPError:
        return True  # it answered
    except Exception:  # DNS failure, refused, timeout, TLS: no hub
        return False
    return True


def hub_reachable(timeout: float = TIMEOUT_S) -> bool:
    """Whether the hub answers within ``timeout`` seconds (False when offline mode is set); cached per process."""
    return not offline() and _reachable(endpoint(), timeout)


def is_local(name: str | os.PathLike) -> bool:
    """Whether ``name`` is meant as a folder: it exists, or it looks like a path (./x, /x, ~/x, x/y/z)."""
    text = str(name)
    return Path(text).expanduser().exists() or text.startswith((".", "/", "~")) or text.count("/") > 1 or "\\" in text


def is_cached(name: str, filename: str = "config.json") -> bool:
    """Whether the hub model ``name`` has ``filename`` in the local Hugging Face cache."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        found = try_to_load_from_cache(name, filename)
    except Exception:  # an invalid repo id
        return False
    return isinstance(found, str)


def unavailable(name: str, what: str = "model") -> XlnerError:
    """The error for a hub model that is neither a folder, nor cached, nor downloadable now."""
    why = "HF_HUB_OFFLINE is set" if offline() else f"the hub ({endpoint()}) cannot be reached"
    return XlnerError(
        f"{what} {name!r} is not a folder and not in the local Hugging Face cache, and {why}. "
        "Give a local folder (save_pretrained output or a downloaded snapshot), or download the model into the "
        "cache ($HF_HOME) on a machine with internet and set HF_HUB_OFFLINE=1 here"
    )


def check_model(name: str | os.PathLike, what: str = "model") -> None:
    """Fail now, without loading anything, when ``name`` cannot be loaded: a missing folder, or a hub
    name that is not cached while the hub is unreachable."""
    text = str(name)
    if is_local(text):
        path = Path(text).expanduser()
        if not path.is_dir():
            raise XlnerError(f"{what} folder {text!r} " + ("is not a folder" if path.exists() else "not found"))
        return
    if not _HUB_NAME.fullmatch(text):
        raise XlnerError(f"{what} {text!r} is neither a folder nor a hub name (ORG/NAME)")
    if not is_cached(text) and not hub_reachable():
        raise unavailable(text, what)


def from_pretrained(load: Callable[..., T], name: str | os.PathLike, **options: Any) -> T:
    """``load(name, **options)`` (a ``from_pretrained``), trying the local cache first and failing fast offline."""
    text = str(name)
    if is_local(text) or options.get("local_files_only"):
        return load(text, **options)
    try:
        return load(text, **{**options, "local_files_only": True})
    except (OSError, ValueError):  # not (fully) cached: transformers raises OSError (ValueError for some tokenizers)
        if not hub_reachable():
            raise unavailable(text) from None
    return load(text, **options)
