"""One registry of named components, shared by the CLI, config files and the API.

>>> from xlner.registry import registry
>>> @registry.aligners.register("my-aligner")
... def make(**options): ...
>>> registry.aligners.create("my-aligner", some_option=1)

Factories are registered lazily: each entry module is imported only when a
component of its kind is first asked for, so heavy libraries (torch,
transformers, spacy) load only when used.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
from typing import Any, Callable

from xlner.errors import XlnerError


def _typed_signature(factory: Callable[..., Any]) -> None:
    """Give a ``(**options) -> Class`` factory ``Class``'s parameters as ``__signature__`` (shown by ``help()``)."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return
    params = list(signature.parameters.values())
    if not params or params[-1].kind is not inspect.Parameter.VAR_KEYWORD:
        return
    built = signature.return_annotation
    if isinstance(built, str):
        built = getattr(factory, "__globals__", {}).get(built.strip("'\""))
    if not isinstance(built, type) or built is inspect.Signature.empty:
        return
    try:
        own = list(inspect.signature(built).parameters.values())
    except (TypeError, ValueError):
        return
    named = {p.name for p in params[:-1]}
    extra = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY)
        for p in own
        if p.name not in named and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    tail = [p for p in own if p.kind is inspect.Parameter.VAR_KEYWORD]
    try:
        factory.__signature__ = signature.replace(parameters=[*params[:-1], *extra, *tail])  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return
    if factory.__doc__ is None:
        factory.__doc__ = f"Build a {built.__name__}; options: see {built.__module__}.{built.__qualname__}."


class Registry:
    """Named factories of one kind of component (aligners, solvers, ...)."""

    def __init__(self, kind: str, modules: tuple[str, ...] = ()):
        self.kind = kind
        self._modules = modules
        self._loaded = False
        self._factories: dict[str, Callable[..., Any]] = {}

    def register(self, name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register ``factory`` under ``name``; a ``**options`` factory gets the typed signature of the class it builds."""

        def decorator(factory: Callable[..., Any]) -> Callable[..., Any]:
            _typed_signature(factory)
            self._factories[name] = factory
            return factory

        return decorator

    def _load(self) -> None:
        if not self._loaded:
            self._loaded = True
            for module in self._modules:
                importlib.import_module(module)

    def names(self) -> list[str]:
        self._load()
        return sorted(self._factories)

    def get(self, name: str) -> Callable[..., Any]:
        self._load()
        if name not in self._factories:
            close = difflib.get_close_matches(name, self._factories, n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise XlnerError(f"unknown {self.kind} {name!r}: known {', '.join(self.names())}{hint}")
        return self._factories[name]

    def create(self, name: str, **options: Any) -> Any:
        return self.get(name)(**options)


class _Registries:
    def __init__(self) -> None:
        self.aligners = Registry("aligner", ("xlner.align",))
        self.translators = Registry("translator", ("xlner.translate",))
        self.taggers = Registry("tagger", ("xlner.tag",))
        self.encoders = Registry("encoder", ("xlner.align.encoders",))
        self.solvers = Registry("solver", ("xlner.project.solve",))
        self.scorers = Registry("scorer", ("xlner.project.scores", "xlner.project.scorers"))


registry = _Registries()
