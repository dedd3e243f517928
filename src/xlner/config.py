"""Config files (TOML or YAML) whose keys are the CLI's option names.

A config file describes a run; flags given on the command line override it.
Keys may use dashes or underscores (``extra-parallel`` == ``extra_parallel``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Callable, Mapping

from xlner.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


def load_config(path: str | Path | None, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read a TOML (``.toml``) or YAML (``.yaml``/``.yml``) file into a flat-keyed dict.

    ``params`` (see :func:`command_params`): the command's options; keys and
    value types are then checked with :func:`check_config`.
    """
    if path is None:
        return {}
    path = Path(path)
    if not path.is_file():
        raise InputError("config file not found", path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"not UTF-8 text (invalid byte at offset {error.start}); save the config as UTF-8", path
        ) from None
    except OSError as error:
        raise InputError(f"cannot read config: {error.strerror or error}", path) from None
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
    config = {str(key).replace("-", "_"): value for key, value in data.items()}
    return config if params is None else check_config(config, params, path)


def command_params(command: Callable[..., Any], exclude: tuple[str, ...] = ("config",)) -> dict[str, Any]:
    """The options of a typer ``command`` as config keys (``map_`` -> ``map``) -> type (``list[T]`` for repeatable ones)."""
    import inspect
    import typing

    hints = typing.get_type_hints(command)
    out: dict[str, Any] = {}
    for name, parameter in inspect.signature(command).parameters.items():
        key = name.rstrip("_")
        info = parameter.default
        if type(info).__name__ == "ArgumentInfo" or key in exclude or name not in hints:
            continue
        if not getattr(info, "expose_value", True):
            continue  # an eager action (--list-options), no run parameter
        kind = hints[name]
        if typing.get_origin(kind) is typing.Union:  # Optional[X]
            kind = next(arg for arg in typing.get_args(kind) if arg is not type(None))
        out[key] = kind
    return out


def _convert(key: str, value: Any, kind: Any, path: Path) -> Any:
    """One config value checked against the type of its option."""

    def bad(expected: str) -> InputError:
        return InputError(f"{key}: expected {expected}, got {value!r}", path)

    if kind is bool:
        if not isinstance(value, bool):
            raise bad("true or false")
        return value
    if kind in (int, float):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (kind is int and not float(value).is_integer())
        ):
            raise bad("an integer" if kind is int else "a number")
        return int(value) if kind is int else value
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise bad("a path" if kind is Path else "a string")
    return str(value) if not isinstance(value, str) else value


def _option_table(key: str, value: Any, path: Path) -> dict[str, Any]:
    """A ``*_option`` config value: a table, one ``KEY=VALUE`` string or a list of them."""
    if isinstance(value, Mapping):
        return {str(k).replace("-", "_"): v for k, v in value.items()}
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        raise InputError(f"{key}: expected a table, KEY=VALUE or a list of KEY=VALUE, got {value!r}", path)
    try:
        return parse_key_values(items)
    except InputError as error:
        raise InputError(f"{key}: {error}", path) from None


def check_config(config: Mapping[str, Any], params: Mapping[str, Any], path: str | Path) -> dict[str, Any]:
    """Config keys checked against ``params`` (key -> type, see :func:`command_params`): unknown keys are an error with close
    matches, values must fit their option's type, and a string where a list is expected becomes one element."""
    import difflib
    import typing

    path = Path(path)
    out: dict[str, Any] = {}
    for key, value in config.items():
        if key not in params:
            close = difflib.get_close_matches(key, list(params), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise InputError(f"unknown key {key!r}{hint} (valid: {', '.join(sorted(params))})", path)
        kind = params[key]
        if key == "option" or key.endswith("_option"):
            out[key] = _option_table(key, value, path)
        elif typing.get_origin(kind) in (list, typing.List):
            items = [value] if not isinstance(value, list) else value
            inner = (typing.get_args(kind) or (str,))[0]
            out[key] = [_convert(key, item, inner, path) for item in items]
        elif value is None:
            out[key] = None
        else:
            out[key] = _convert(key, value, kind, path)
    return out


def merge_options(config: Mapping[str, Any], flags: Mapping[str, Any], defaults: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults, overridden by the config file, overridden by flags the user gave (not None)."""
    merged = dict(defaults)
    merged.update(config)
    merged.update({key: value for key, value in flags.items() if value is not None and value != [] and value != ()})
    return merged


def parse_key_values(items: list[str] | None) -> dict[str, Any]:
    """Parse repeated ``--option key=value`` flags; values are parsed as YAML scalars (1, 0.5, true, text;
    ``None``, ``none`` and ``null`` are None)."""
    options: dict[str, Any] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise InputError(f"expected KEY=VALUE, found {item!r}")
        options[key.strip().replace("-", "_")] = None if value.strip() in ("None", "none") else _scalar(value)
    return options


def _scalar(value: str) -> Any:
    """A ``KEY=VALUE`` value parsed as YAML (text that is no valid YAML stays text)."""
    import yaml

    try:
        return yaml.safe_load(value)
    except yaml.YAMLError:
        return value
