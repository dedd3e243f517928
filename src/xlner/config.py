"""Config files (TOML or YAML) whose keys are the CLI's option names.

A config file describes a run; flags given on the command line override it.
Keys may use dashes or underscores (``extra-parallel`` == ``extra_parallel``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Mapping

from xlner.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def load_config(path: str | Path | None) -> dict[str, Any]:
    """Read a TOML (``.toml``) or YAML (``.yaml``/``.yml``) file into a flat-keyed dict."""
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        raise InputError("config file not found", path)
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix == ".toml":
            data = tomllib.loads(text)
        elif path.suffix in (".yaml", ".yml"):
            import yaml

            data = yaml.safe_load(text) or {}
        else:
            raise InputError("expected a .toml, .yaml or .yml config file", path)
    except InputError:
        raise
    except Exception as error:  # parser errors carry their own line numbers
        raise InputError(f"cannot parse config: {error}", path) from None
    if not isinstance(data, dict):
        raise InputError("expected a table of options at the top level", path)
    return {key.replace("-", "_"): value for key, value in data.items()}


def merge_options(config: Mapping[str, Any], flags: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults, overridden by the config file, overridden by flags the user gave (not None)."""
    merged = dict(defaults)
    merged.update(config)
    merged.update({key: value for key, value in flags.items() if value is not None and value != [] and value != ()})
    return merged


def parse_key_values(items: list[str] | None) -> dict[str, Any]:
    """Parse repeated ``--option key=value`` flags; values are parsed as YAML scalars (1, 0.5, true, text)."""
    import yaml

    options: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"expected KEY=VALUE, found {item!r}")
        options[key.strip().replace("-", "_")] = yaml.safe_load(value)
    return options
