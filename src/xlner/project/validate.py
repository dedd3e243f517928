"""Types and bounds of the projection options, checked before any work.

Every option of :class:`xlner.project.config.HeuristicOptions` and
:class:`~xlner.project.config.MatchingOptions` has a checker here (a test
keeps the tables in step). A checker returns the value, coerced
where the meaning is clear (``"0.5"`` -> 0.5, ``"None"``/``"none"``/``"null"``
-> None for options that take None) and raises :class:`XlnerError` naming the
option otherwise.
"""

from __future__ import annotations

import os
import re
from typing import Any, Callable, Mapping

from xlner.errors import XlnerError

Checker = Callable[[str, Any], Any]
NONE_WORDS = ("none", "null", "~", "")


class BadOption(XlnerError):
    """An option value of the wrong type or out of bounds."""

    def __init__(self, name: str, value: Any, expected: str):
        self.name, self.value, self.expected = name, value, expected
        super().__init__(f"option {name}={value!r}: expected {expected}")


def _fail(name: str, value: Any, expected: str) -> BadOption:
    return BadOption(name, value, expected)


def boolean(name: str, value: Any) -> bool:
    """``True``/``False`` (also the strings true/false/yes/no/on/off/1/0)."""
    if isinstance(value, bool):
        return value
    words = {"true": True, "yes": True, "on": True, "1": True, "false": False, "no": False, "off": False, "0": False}
    if isinstance(value, (str, int)) and str(value).strip().lower() in words:
        return words[str(value).strip().lower()]
    raise _fail(name, value, "true or false")


def integer(minimum: int | None = None) -> Checker:
    """An integer (not a bool), at least ``minimum``."""

    def check(name: str, value: Any) -> int:
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise _fail(name, value, "an integer") from None
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise _fail(name, value, "an integer")
        if minimum is not None and value < minimum:
            raise _fail(name, value, f"an integer >= {minimum}")
        return value

    check.expected = "an integer" + (f" >= {minimum}" if minimum is not None else "")  # type: ignore[attr-defined]
    return check


def number(minimum: float | None = None, maximum: float | None = None) -> Checker:
    """A finite number in [``minimum``, ``maximum``]."""

    def check(name: str, value: Any) -> float:
        if isinstance(value, str):
            try:
                value = float(value.strip())
            except ValueError:
                raise _fail(name, value, "a number") from None
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or value != value
            or value in (float("inf"), float("-inf"))
        ):
            raise _fail(name, value, "a finite number")
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            bounds = (
                f"in [{minimum}, {maximum}]"
                if minimum is not None and maximum is not None
                else (f">= {minimum}" if minimum is not None else f"<= {maximum}")
            )
            raise _fail(name, value, f"a number {bounds}")
        return float(value) if isinstance(value, float) else value

    return check


def text(name: str, value: Any) -> str:
    """A string."""
    if not isinstance(value, str):
        raise _fail(name, value, "a string")
    return value


def path_or_name(name: str, value: Any) -> Any:
    """A hub name or a folder (a string or a path)."""
    if isinstance(value, os.PathLike):
        return value
    if not isinstance(value, str) or not value.strip():
        raise _fail(name, value, "a model name or folder")
    return value


def choice(*values: str) -> Checker:
    """One of ``values``."""

    def check(name: str, value: Any) -> str:
        if value not in values:
            raise _fail(name, value, "one of " + ", ".join(repr(v) for v in values))
        return value

    return check


def optional(inner: Checker) -> Checker:
    """None (also the strings None, none, null) or what ``inner`` accepts."""

    def check(name: str, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() in NONE_WORDS):
            return None
        try:
            return inner(name, value)
        except BadOption as error:
            raise BadOption(error.name, error.value, f"{error.expected} or None") from None

    return check


def pattern(regex: str, expected: str) -> Checker:
    """A string matching ``regex`` in full."""

    def check(name: str, value: Any) -> str:
        if not isinstance(value, str) or not re.fullmatch(regex, value):
            raise _fail(name, value, expected)
        return value

    return check


def scorer_mapping(values: Checker, expected: str) -> Checker:
    """A table {scorer name: value}; names must be registered scorers."""

    def check(name: str, value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise _fail(name, value, f"a table {{scorer name: {expected}}}, e.g. {{alignment: 1.0, string: 0.25}}")
        from xlner.registry import registry

        known = registry.scorers.names()
        out = {}
        for key, item in value.items():
            if key not in known:
                raise XlnerError(f"option {name}: unknown scorer {key!r}: known {', '.join(known)}")
            out[key] = values(f"{name}.{key}", item)
        return out

    return check


def table(name: str, value: Any) -> dict[str, Any]:
    """A table of options."""
    if not isinstance(value, Mapping):
        raise _fail(name, value, "a table of options")
    return dict(value)


def _solver(name: str, value: Any) -> str:
    from xlner.registry import registry

    known = registry.solvers.names()
    if value not in known:
        raise _fail(name, value, "one of " + ", ".join(known))
    return value


CONSTRAINT = pattern(r"\s*(<=|=|==|>=)\s*\d+\s*", "'<=n', '=n' or '>=n', e.g. '<=1'")
GLUE = boolean

#: Heuristic option checkers.
HEURISTIC_TYPES: dict[str, Checker] = {
    "merge_distance": integer(0),
    "merge_only_if_not_first_word_aligned": boolean,
    "length_ratio_threshold": number(0.0),
    "top_k": optional(integer(1)),
    "keep": choice("longest", "shortest"),
    "drop_punctuation_runs": boolean,
    "ignore_punctuation_links": boolean,
    "glue_marks": GLUE,
    "lowercase_word_label": optional(text),
    "collisions": choice("skip", "published"),
}

#: Candidate-matching option checkers.
MATCHING_TYPES: dict[str, Checker] = {
    "max_words": integer(1),
    "punctuation": text,
    "ngrams": boolean,
    "aligned_subranges": boolean,
    "runs": boolean,
    "merge_distance": integer(0),
    "glue_marks": GLUE,
    "exact_match_score": optional(number()),
    "weights": scorer_mapping(number(), "weight"),
    "scorer_options": scorer_mapping(table, "options"),
    "ner_model": optional(path_or_name),
    "nmt_model": optional(path_or_name),
    "encoder": optional(path_or_name),
    "device": text,
    "src_lang": optional(text),
    "tgt_lang": optional(text),
    "normalize": choice("none", "clip", "entity-max"),
    "ner_candidates": optional(choice("add", "only")),
    "ner_candidate_labels": choice("any", "match"),
    "lowercase_word_label": optional(text),
    "alignment_mode": choice("aligned", "distinct", "links"),
    "threshold": number(),
    "constraint": CONSTRAINT,
    "solver": optional(_solver),
    "solver_options": table,
    "progress": boolean,
}


def option_checkers(method: str) -> dict[str, Checker]:
    """Checkers of every option of ``method`` ("heuristic", else candidate matching)."""
    return HEURISTIC_TYPES if method == "heuristic" else MATCHING_TYPES


def check_options(method: str, options: Mapping[str, Any], where: str = "options") -> dict[str, Any]:
    """``options`` of ``method`` with each value checked and coerced; names not of ``method`` pass unchanged."""
    checkers = option_checkers(method)
    out = dict(options)
    for name, value in options.items():
        if name in checkers:
            try:
                out[name] = checkers[name](name, value)
            except BadOption as error:
                suffix = "" if where == "options" else f", in {where}"
                raise XlnerError(
                    f"option {error.name}={error.value!r} (method {method!r}{suffix}): expected {error.expected}"
                ) from None
    return out
