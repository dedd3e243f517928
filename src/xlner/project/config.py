"""Projection options in one place: typed options per method, presets that know their method, :func:`resolve`.

>>> r = resolve("ilp", {"preset": "nmt", "nmt_model": "facebook/m2m100_418M"}, src_lang="en", tgt_lang="de")
>>> r.options.threshold, r.scorers, r.solver, r.loads_model, r.languages
(0.0, ('nmt',), 'exact', True, ('src_lang', 'tgt_lang'))

Options are the fields of :class:`HeuristicOptions` (method ``heuristic``) and
:class:`MatchingOptions` (``ilp``, ``greedy``), each with its default and help
text; the tables :data:`HEURISTIC_OPTIONS` and :data:`MATCHING_OPTIONS` list
them for the CLI and config files. A method called without ``preset=`` uses
:data:`DEFAULT_PRESETS`. Types and bounds are checked by
:mod:`xlner.project.validate`. How the defaults were chosen: docs/projection.md.
"""

from __future__ import annotations

import difflib
import inspect
from dataclasses import dataclass, field, fields
from typing import Any, Iterator, Mapping, Sequence

from xlner import recipe
from xlner.errors import XlnerError
from xlner.project.validate import check_options

METHODS: dict[str, str] = {
    "heuristic": "aligned runs of target words (Garcia-Ferrero et al. 2022), no solver",
    "ilp": "candidate matching solved exactly (dynamic program or HiGHS MILP)",
    "greedy": "candidate matching solved greedily (best remaining pair first)",
}

#: The candidate-matching methods and the solver each uses unless ``solver=`` names one.
DEFAULT_SOLVERS: dict[str, str] = {"ilp": "exact", "greedy": "greedy"}
MATCHING_METHODS = tuple(DEFAULT_SOLVERS)

#: Model-based scorers and the matching option naming each one's model.
MODEL_OPTIONS: dict[str, str] = {"ner": "ner_model", "nmt": "nmt_model", "encoder": "encoder"}

#: Scorers that need the language options (NLLB / M2M-100 language codes).
LANGUAGE_SCORERS = ("nmt",)
LANGUAGE_OPTIONS = ("src_lang", "tgt_lang")

LOWERCASE_WORD_LABEL_HELP = (
    "label (e.g. 'MISC') for a PER/LOC/ORG projection onto one lowercase word, a derived adjective; None: keep"
)
GLUE_MARKS_HELP = (
    "treat tokens made only of combining marks (split-off diacritics) as part of the token before: "
    "no span starts at one or ends just before one"
)
DEFAULT_WEIGHTS: dict[str, float] = {"alignment": 1.0, "string": 0.25}


def _option(default: Any, help: str) -> Any:
    """A dataclass field with ``help`` text; a dict default is copied per instance."""
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata={"help": help})
    return field(default=default, metadata={"help": help})


@dataclass
class HeuristicOptions:
    """Options of the ``heuristic`` method (see :func:`xlner.project.heuristic.heuristic_sources`)."""

    merge_distance: int = _option(1, "merge aligned runs separated by at most this many words")
    merge_only_if_not_first_word_aligned: bool = _option(
        False, "do not merge when the right run starts at a word aligned to the entity's first word"
    )
    length_ratio_threshold: float = _option(0.0, "drop runs whose length / entity length is at or below this")
    top_k: int | None = _option(1, "runs kept per entity (None: all)")
    keep: str = _option("longest", "which runs top_k keeps: 'longest' or 'shortest'")
    drop_punctuation_runs: bool = _option(True, "drop runs made only of punctuation tokens")
    ignore_punctuation_links: bool = _option(
        True, "remove punctuation target words from the aligned words before building runs"
    )
    glue_marks: bool = _option(True, GLUE_MARKS_HELP)
    lowercase_word_label: str | None = _option(None, LOWERCASE_WORD_LABEL_HELP)
    collisions: str = _option(
        "skip",
        "real overlaps: 'skip' (shorter entity first, overlapping runs dropped) or 'published' "
        "(source order; same label -> covering range, else the longer span)",
    )


@dataclass
class MatchingOptions:
    """Options of the candidate-matching methods ``ilp`` and ``greedy`` (see :func:`xlner.project.matching.match`)."""

    max_words: int = _option(10, "longest n-gram candidate, in words")
    punctuation: str = _option("!?.;:", "tokens made only of these characters never fall inside an n-gram")
    ngrams: bool = _option(True, "use all n-grams up to max_words as candidates")
    aligned_subranges: bool = _option(True, "use sub-ranges of each entity's aligned target range")
    runs: bool = _option(True, "use the heuristic's aligned runs, their sub-ranges and pairwise concatenations")
    merge_distance: int = _option(1, "gap merged when building aligned runs for candidates")
    glue_marks: bool = _option(True, GLUE_MARKS_HELP)
    exact_match_score: float | None = _option(
        None,
        "fused score floor of an entity's only word-for-word copy in the target (case- and "
        "diacritic-insensitive), added as a candidate; only with a 'string' weight; None: off",
    )
    weights: dict[str, float] = _option(DEFAULT_WEIGHTS, "scorer name -> weight of its normalised score")
    scorer_options: dict[str, dict[str, Any]] = _option(
        {}, "scorer name -> options for its factory, e.g. {'ner': {'model': PATH}}"
    )
    ner_model: Any = _option(None, "target NER model (hub name or folder) for the 'ner' score and NER candidates")
    nmt_model: Any = _option(None, "seq2seq MT model (NLLB / M2M-100 / Marian, hub name or folder) for the 'nmt' score")
    encoder: Any = _option(
        None, "text encoder (hub name or folder, or NAME:PATH of a registered encoder) for the 'encoder' score"
    )
    device: str = _option("cpu", "device of the model-based scores: cpu, cuda, cuda:1")
    src_lang: str | None = _option(None, "source language code (the 'nmt' score with NLLB / M2M-100)")
    tgt_lang: str | None = _option(None, "target language code (the 'nmt' score with NLLB / M2M-100)")
    normalize: str = _option("none", "per-score normalisation before fusion: 'none', 'clip' or 'entity-max'")
    ner_candidates: str | None = _option(
        None, "NER-predicted target spans as candidates: None, 'add' (to the others) or 'only'"
    )
    ner_candidate_labels: str = _option(
        "any", "which NER spans are candidates: 'any' or 'match' (a source entity's label)"
    )
    lowercase_word_label: str | None = _option(None, LOWERCASE_WORD_LABEL_HELP)
    alignment_mode: str = _option(
        "aligned", "'aligned' or 'distinct' (both bounded by 1) or 'links' (published link count)"
    )
    threshold: float = _option(0.2, "fused scores below this are never chosen")
    constraint: str = _option("<=1", "projections per entity: '<=n', '=n' or '>=n'")
    solver: str | None = _option(None, "solver name (default: 'exact' for ilp, 'greedy' for greedy)")
    solver_options: dict[str, Any] = _option(
        {}, "options for the solver's factory, e.g. {method: highs} or {max_states: 65536} for 'exact'"
    )
    progress: bool = _option(False, "show a progress bar")


def option_table(cls: type) -> dict[str, tuple[Any, str]]:
    """name -> (default, help text) of the options dataclass ``cls``."""
    instance = cls()
    return {f.name: (getattr(instance, f.name), f.metadata["help"]) for f in fields(cls)}


#: Heuristic options: name -> (default, description).
HEURISTIC_OPTIONS: dict[str, tuple[Any, str]] = option_table(HeuristicOptions)
#: Candidate-matching options: name -> (default, description).
MATCHING_OPTIONS: dict[str, tuple[Any, str]] = option_table(MatchingOptions)


class Preset(Mapping[str, Any]):
    """Named option values for the methods in ``methods``; reads as the mapping of its options."""

    def __init__(self, name: str, methods: Sequence[str], options: Mapping[str, Any], about: str):
        self.name, self.methods, self.about = name, tuple(methods), about
        self._options = dict(options)

    def __getitem__(self, key: str) -> Any:
        return self._options[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._options)

    def __len__(self) -> int:
        return len(self._options)

    def __repr__(self) -> str:
        return f"Preset({self.name!r}, methods={self.methods}, {self._options!r})"


def _heuristic(name: str, about: str, **options: Any) -> Preset:
    return Preset(name, ("heuristic",), options, about)


def _matching(name: str, about: str, **options: Any) -> Preset:
    return Preset(name, MATCHING_METHODS, options, about)


_ALIGN = {"alignment_mode": "aligned", "constraint": "<=1"}
_NGRAMS_ONLY = {"ngrams": True, "aligned_subranges": False, "runs": False}

_PRESETS = [
    _heuristic(
        "garcia2022",
        "Easy-Label-Projection's published code: punctuation words removed, gaps of one word filled, longest run kept",
        merge_distance=1,
        merge_only_if_not_first_word_aligned=False,
        length_ratio_threshold=0.0,
        top_k=1,
        keep="longest",
        drop_punctuation_runs=True,
        ignore_punctuation_links=True,
    ),
    _heuristic(
        "politov2025",
        "the reimplementation of Politov et al. (2025): length ratio > 0.8, gap 1, every run kept",
        merge_distance=1,
        merge_only_if_not_first_word_aligned=False,
        length_ratio_threshold=0.8,
        top_k=None,
        keep="longest",
        drop_punctuation_runs=False,
        ignore_punctuation_links=False,
    ),
    _matching(
        "politov2025-ilp",
        "Politov et al. (2025) candidate matching with alignment scores only (link count)",
        weights={"alignment": 1.0},
        alignment_mode="links",
        threshold=0.0,
        constraint="<=1",
    ),
    _matching(
        "offline",
        "the offline default: alignment + string similarity; an entity's only verbatim copy scores 1",
        weights={"alignment": 1.0, "string": 0.25},
        alignment_mode="aligned",
        threshold=0.2,
        constraint="<=1",
        exact_match_score=1.0,
    ),
    # The model-based fusion presets of Politov et al. (2025, NoDaLiDa); see docs/projection.md.
    _matching(
        "align",
        "alignment score only (published link count), alignment candidates",
        weights={"alignment": 1.0},
        alignment_mode="links",
        threshold=0.0,
        constraint="<=1",
        ngrams=False,
        normalize="none",
    ),
    _matching(
        "ner",
        "target NER model, per entity label, on n-gram candidates",
        weights={"ner": 1.0},
        **_NGRAMS_ONLY,
        threshold=0.1,
        constraint="<=1",
        scorer_options={"ner": {"mode": "label"}},
        normalize="none",
    ),
    _matching(
        "nmt",
        "translation likelihood (forced decoding, both directions) on n-gram candidates",
        weights={"nmt": 1.0},
        **_NGRAMS_ONLY,
        threshold=0.0,
        constraint="<=1",
        normalize="none",
    ),
    _matching(
        "align_ner",
        "alignment + NER (label-agnostic NER score)",
        weights={"alignment": 1.0, "ner": 1.0},
        **_ALIGN,
        threshold=0.1,
        scorer_options={"ner": {"mode": "any"}},
        normalize="clip",
    ),
    _matching(
        "align_ner_per_class",
        "alignment + NER (NER probability of the entity's own label)",
        weights={"alignment": 1.0, "ner": 1.0},
        **_ALIGN,
        threshold=0.1,
        scorer_options={"ner": {"mode": "label"}},
        normalize="clip",
    ),
    _matching(
        "align_nmt",
        "alignment + translation",
        weights={"alignment": 1.0, "nmt": 1.0},
        **_ALIGN,
        threshold=0.1,
        normalize="entity-max",
    ),
    _matching(
        "ner_spans_nmt",
        "candidates = the target NER model's predicted spans; translation score",
        weights={"nmt": 1.0},
        ner_candidates="only",
        threshold=0.0,
        constraint="<=1",
        normalize="none",
    ),
    _matching(
        "all_fusion",
        "alignment + NER + translation",
        weights={"alignment": 1.0, "ner": 1.0, "nmt": 1.0},
        **_ALIGN,
        threshold=0.1,
        scorer_options={"ner": {"mode": "label"}},
        normalize="entity-max",
    ),
    _matching(
        "all_fusion_string",
        "all_fusion + the offline character-trigram string score",
        weights={"alignment": 1.0, "ner": 1.0, "nmt": 1.0, "string": 0.25},
        **_ALIGN,
        threshold=0.1,
        scorer_options={"ner": {"mode": "label"}},
        normalize="entity-max",
    ),
]

#: Named presets, each for the methods it names (``PRESETS[name].methods``).
PRESETS: dict[str, Preset] = {p.name: p for p in _PRESETS}

#: The Politov et al. (2025) model-based fusion presets (a subset of :data:`PRESETS`).
FUSION_PRESETS: dict[str, Preset] = {
    name: PRESETS[name]
    for name in (
        "align",
        "ner",
        "nmt",
        "align_ner",
        "align_ner_per_class",
        "align_nmt",
        "ner_spans_nmt",
        "all_fusion",
        "all_fusion_string",
    )
}

#: The preset a method uses when none is named (API, CLI, pipelines, config files).
DEFAULT_PRESETS: dict[str, str] = dict(recipe.PRESETS)


def presets(method: str) -> list[str]:
    """Names of the presets of ``method``."""
    _check_method(method)
    return [name for name, p in PRESETS.items() if method in p.methods]


def _check_method(method: str) -> None:
    if method not in METHODS:
        hint = _did_you_mean(method, METHODS)
        raise XlnerError(f"unknown projection method {method!r}: known {', '.join(METHODS)}{hint}")


def _did_you_mean(word: str, known: Any) -> str:
    close = difflib.get_close_matches(str(word), list(known), n=3)
    return f"; did you mean {', '.join(close)}?" if close else ""


def method_options(method: str) -> dict[str, tuple[Any, str]]:
    """The options (default, description) that ``method`` accepts."""
    _check_method(method)
    return HEURISTIC_OPTIONS if method == "heuristic" else MATCHING_OPTIONS


def _preset(method: str, name: str) -> Preset:
    """The preset ``name``, which must be one of ``method``'s."""
    if name not in PRESETS:
        hint = _did_you_mean(name, PRESETS)
        raise XlnerError(f"unknown preset {name!r}{hint}; presets of {method!r}: {', '.join(presets(method))}")
    preset = PRESETS[name]
    if method not in preset.methods:
        raise XlnerError(
            f"preset {name!r} is for method {' or '.join(preset.methods)}, not {method!r}; "
            f"presets of {method!r}: {', '.join(presets(method))}"
        )
    return preset


@dataclass(frozen=True)
class Resolved:
    """Resolved projection options and what follows from them.

    ``options``: every option, typed. ``given``: the options as asked, plus
    the language options :func:`resolve` filled in, for callers that pass
    them on. ``scorers``: the scorers that run, in fusion
    order, with ``scorer_options`` their factory options. ``models``: each
    model-based component that runs ("ner", "nmt", "encoder" scorers,
    "ner_candidates") -> its model (None when not named). ``languages``: the
    language options the run needs. ``solver``/``solver_options``: the
    matching solver (None for the heuristic).
    """

    method: str
    preset: str | None
    options: HeuristicOptions | MatchingOptions
    given: dict[str, Any]
    scorers: tuple[str, ...] = ()
    scorer_options: dict[str, dict[str, Any]] = field(default_factory=dict)
    models: dict[str, Any] = field(default_factory=dict)
    languages: tuple[str, ...] = ()
    solver: str | None = None
    solver_options: dict[str, Any] = field(default_factory=dict)

    @property
    def loads_model(self) -> bool:
        """Whether projecting loads a model (a model-based scorer or NER candidates): a model / GPU step."""
        return bool(self.models)

    @property
    def device(self) -> str:
        """Device of the model-based scorers ("cpu" for the heuristic)."""
        return getattr(self.options, "device", "cpu")

    def as_dict(self) -> dict[str, Any]:
        """Every option by name (values not copied: scorer options may hold model objects)."""
        return {f.name: getattr(self.options, f.name) for f in fields(self.options)}


def resolve(
    method: str, options: Mapping[str, Any] | None = None, src_lang: str | None = None, tgt_lang: str | None = None
) -> Resolved:
    """Defaults of ``method``, then its preset (``preset=`` or the default), then ``options``; and the derived facts.

    ``src_lang``/``tgt_lang`` fill the options of the same name when a scorer
    that runs needs them and the options do not set them. Raises
    :class:`XlnerError` naming the option (and close matches) for an unknown
    option, a wrong type, a preset of another method or a bad solver option.
    """
    given = dict(options or {})
    values = _values(method, given)
    preset = given.get("preset") or DEFAULT_PRESETS.get(method)
    if method == "heuristic":
        return Resolved(method, preset, HeuristicOptions(**values), given)
    weights = values["weights"] or dict(DEFAULT_WEIGHTS)
    scorers = tuple(weights)
    languages = LANGUAGE_OPTIONS if any(s in LANGUAGE_SCORERS for s in scorers) else ()
    filled = {key: lang for key, lang in zip(LANGUAGE_OPTIONS, (src_lang, tgt_lang))}
    for key in languages:
        if key not in given and filled[key] is not None:
            given[key] = filled[key]
            values.update(check_options(method, {key: filled[key]}))
    factory = scorer_factory_options(
        weights,
        values["scorer_options"],
        alignment_mode=values["alignment_mode"],
        **{name: values[name] for name in (*MODEL_OPTIONS.values(), "device", *LANGUAGE_OPTIONS)},
    )
    models = {name: factory[name].get("model") for name in scorers if name in MODEL_OPTIONS}
    if values["ner_candidates"]:
        models["ner_candidates"] = values["ner_model"]
    solver = values["solver"] or DEFAULT_SOLVERS[method]
    _check_solver_options(solver, values["solver_options"])
    return Resolved(
        method,
        preset,
        MatchingOptions(**values),
        given,
        scorers,
        factory,
        models,
        languages,
        solver,
        dict(values["solver_options"]),
    )


def _values(method: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Every option of ``method``: defaults, then the preset, then ``options``, each layer checked."""
    known = method_options(method)
    options = dict(options)
    fresh = option_table(HeuristicOptions if method == "heuristic" else MatchingOptions)  # dict defaults copied
    values = {name: default for name, (default, _) in fresh.items()}
    name = options.pop("preset", None) or DEFAULT_PRESETS.get(method)
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if name is not None:
        layers.append((f"preset {name!r}", _preset(method, name)))
    layers.append(("options", options))
    for where, layer in layers:
        unknown = sorted(set(layer) - set(known))
        if unknown:
            hints = "".join(_did_you_mean(u, known) for u in unknown)
            raise XlnerError(
                f"unknown option(s) {', '.join(unknown)} for method {method!r} in {where}{hints}; "
                f"valid: preset, {', '.join(known)}"
            )
        values.update(check_options(method, layer, where))
    return values


def _check_solver_options(solver: str, options: Mapping[str, Any]) -> None:
    """``options`` are keyword arguments of solver ``solver``'s factory."""
    from xlner.registry import registry

    factory = registry.solvers.get(solver)
    try:
        inspect.signature(factory).bind(**options)
    except TypeError:
        params = [p for p in inspect.signature(factory).parameters.values() if p.kind is not p.VAR_KEYWORD]
        valid = [p.name for p in params]
        unknown = sorted(set(options) - set(valid))
        hints = "".join(_did_you_mean(u, valid) for u in unknown)
        raise XlnerError(
            f"option solver_options: unknown option(s) {', '.join(unknown) or '?'} for solver {solver!r}{hints}; "
            f"valid: {', '.join(valid) or 'none'}"
        ) from None


def scorer_factory_options(
    weights: Mapping[str, float],
    scorer_options: Mapping[str, Mapping[str, Any]] | None = None,
    *,
    alignment_mode: str = "aligned",
    ner_model: Any = None,
    nmt_model: Any = None,
    encoder: Any = None,
    device: str = "cpu",
    src_lang: str | None = None,
    tgt_lang: str | None = None,
) -> dict[str, dict[str, Any]]:
    """Factory options of each scorer in ``weights``; ``scorer_options[name]`` wins over the matching options.

    The alignment scorer's ``mode`` is ``alignment_mode``; the model-based
    scorers get their model option (:data:`MODEL_OPTIONS`), ``device`` and,
    for ``nmt``, the languages.
    """
    models = {"ner_model": ner_model, "nmt_model": nmt_model, "encoder": encoder}
    base: dict[str, dict[str, Any]] = {"alignment": {"mode": alignment_mode}}
    for name, option in MODEL_OPTIONS.items():
        base[name] = {"model": models[option], "device": device}
    base["nmt"].update(src_lang=src_lang, tgt_lang=tgt_lang)
    overrides = scorer_options or {}
    return {name: {**base.get(name, {}), **dict(overrides.get(name) or {})} for name in weights}


def resolve_options(method: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Every option of ``method`` by name (:func:`resolve`'s ``as_dict()``)."""
    return resolve(method, options).as_dict()


def with_languages(method: str, options: Mapping[str, Any] | None, src_lang: str, tgt_lang: str) -> dict[str, Any]:
    """``options`` plus ``src_lang``/``tgt_lang`` (unless given) when a scorer that runs needs them.

    Other methods (``markers``, ...) get ``options`` back unchanged.
    """
    options = dict(options or {})
    if method in MATCHING_METHODS and resolve(method, options).languages:
        options.setdefault("src_lang", src_lang)
        options.setdefault("tgt_lang", tgt_lang)
    return options


def describe_methods() -> str:
    """Help text listing methods, their options with defaults, and their presets."""
    lines = ["Methods:"]
    lines += [f"  {name}: {text}" for name, text in METHODS.items()]
    for title, table in (("heuristic", HEURISTIC_OPTIONS), ("ilp / greedy", MATCHING_OPTIONS)):
        lines.append(f"Options of {title}:")
        lines += [f"  {name} (default {default!r}): {text}" for name, (default, text) in table.items()]
    lines.append("Presets:")
    lines += [f"  {name} ({', '.join(p.methods)}): {p.about}" for name, p in PRESETS.items()]
    lines.append("Without preset=: " + ", ".join(f"{m} uses {p!r}" for m, p in DEFAULT_PRESETS.items()))
    return "\n".join(lines)
