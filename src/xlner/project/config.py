"""Projection options: defaults per method, named presets, validation and help text.

Every option of :func:`xlner.project.project` is listed here once, with its
default and a one-line description, so the API, the CLI and config files agree.
A method called without ``preset=`` uses :data:`DEFAULT_PRESETS`. How each
default was chosen (over every public evaluation set) is in
docs/benchmarks.md, section "defaults".
"""

from __future__ import annotations

from typing import Any, Mapping

from xlner import recipe
from xlner.errors import XlnerError

METHODS: dict[str, str] = {
    "heuristic": "aligned runs of target words (Garcia-Ferrero et al. 2022), no solver",
    "ilp": "candidate matching solved exactly (dynamic program or HiGHS MILP)",
    "greedy": "candidate matching solved greedily (best remaining pair first)",
}

LOWERCASE_WORD_LABEL_HELP = (
    "label (e.g. 'MISC') for a PER/LOC/ORG projection onto one lowercase word, a derived adjective; None: keep"
)

GLUE_MARKS_HELP = (
    "treat tokens made only of combining marks (split-off diacritics) as part of the token before: "
    "no span starts at one or ends just before one"
)

#: Heuristic options: name -> (default, description).
HEURISTIC_OPTIONS: dict[str, tuple[Any, str]] = {
    "merge_distance": (1, "merge aligned runs separated by at most this many words"),
    "merge_only_if_not_first_word_aligned": (
        False,
        "do not merge when the right run starts at a word aligned to the entity's first word",
    ),
    "length_ratio_threshold": (0.0, "drop runs whose length / entity length is at or below this"),
    "top_k": (1, "runs kept per entity (None: all)"),
    "keep": ("longest", "which runs top_k keeps: 'longest' or 'shortest'"),
    "drop_punctuation_runs": (True, "drop runs made only of punctuation tokens"),
    "ignore_punctuation_links": (True, "remove punctuation target words from the aligned words before building runs"),
    "glue_marks": (True, GLUE_MARKS_HELP),
    "lowercase_word_label": (None, LOWERCASE_WORD_LABEL_HELP),
    "collisions": (
        "skip",
        "real overlaps: 'skip' (shorter entity first, overlapping runs dropped) or 'published' "
        "(source order; same label -> covering range, else the longer span)",
    ),
}

#: Candidate-matching options: name -> (default, description).
MATCHING_OPTIONS: dict[str, tuple[Any, str]] = {
    "max_words": (10, "longest n-gram candidate, in words"),
    "punctuation": ("!?.;:", "tokens made only of these characters never fall inside an n-gram"),
    "ngrams": (True, "use all n-grams up to max_words as candidates"),
    "aligned_subranges": (True, "use sub-ranges of each entity's aligned target range"),
    "runs": (True, "use the heuristic's aligned runs, their sub-ranges and pairwise concatenations"),
    "merge_distance": (1, "gap merged when building aligned runs for candidates"),
    "glue_marks": (True, GLUE_MARKS_HELP),
    "exact_match_score": (
        None,
        "fused score floor of an entity's only word-for-word copy in the target (case- and "
        "diacritic-insensitive), added as a candidate; only with a 'string' weight; None: off",
    ),
    "weights": ({"alignment": 1.0, "string": 0.25}, "scorer name -> weight of its normalised score"),
    "scorer_options": ({}, "scorer name -> options for its factory, e.g. {'ner': {'model': PATH}}"),
    "ner_model": (None, "target NER model (hub name or folder) for the 'ner' score and NER candidates"),
    "nmt_model": (None, "seq2seq MT model (NLLB / M2M-100 / Marian, hub name or folder) for the 'nmt' score"),
    "encoder": (
        None,
        "text encoder (hub name or folder, or NAME:PATH of a registered encoder) for the 'encoder' score",
    ),
    "device": ("cpu", "device of the model-based scores: cpu, cuda, cuda:1"),
    "src_lang": (None, "source language code (the 'nmt' score with NLLB / M2M-100)"),
    "tgt_lang": (None, "target language code (the 'nmt' score with NLLB / M2M-100)"),
    "normalize": ("none", "per-score normalisation before fusion: 'none', 'clip' or 'entity-max'"),
    "ner_candidates": (None, "NER-predicted target spans as candidates: None, 'add' (to the others) or 'only'"),
    "ner_candidate_labels": ("any", "which NER spans are candidates: 'any' or 'match' (a source entity's label)"),
    "lowercase_word_label": (None, LOWERCASE_WORD_LABEL_HELP),
    "alignment_mode": ("aligned", "'aligned' or 'distinct' (both bounded by 1) or 'links' (published link count)"),
    "threshold": (0.2, "fused scores below this are never chosen"),
    "constraint": ("<=1", "projections per entity: '<=n', '=n' or '>=n'"),
    "solver": (None, "solver name (default: 'exact' for ilp, 'greedy' for greedy)"),
    "progress": (False, "show a progress bar"),
}

#: Named presets: name -> (method it is meant for, options).
PRESETS: dict[str, dict[str, Any]] = {
    # Easy-Label-Projection's published code: punctuation words removed before the
    # runs are built, gaps of one word filled, the longest group kept, no length filter.
    "garcia2022": {
        "merge_distance": 1,
        "merge_only_if_not_first_word_aligned": False,
        "length_ratio_threshold": 0.0,
        "top_k": 1,
        "keep": "longest",
        "drop_punctuation_runs": True,
        "ignore_punctuation_links": True,
    },
    # The reimplementation of Politov et al. (2025): ratio > 0.8, gap 1, every run kept.
    "politov2025": {
        "merge_distance": 1,
        "merge_only_if_not_first_word_aligned": False,
        "length_ratio_threshold": 0.8,
        "top_k": None,
        "keep": "longest",
        "drop_punctuation_runs": False,
        "ignore_punctuation_links": False,
    },
    # Politov et al. (2025) candidate matching with alignment scores only (link count).
    "politov2025-ilp": {
        "weights": {"alignment": 1.0},
        "alignment_mode": "links",
        "threshold": 0.0,
        "constraint": "<=1",
    },
    # Offline default: alignment + string similarity; an entity's only verbatim copy
    # in the target scores 1 (the maximum). How it was chosen: docs/benchmarks.md#defaults.
    "offline": {
        "weights": {"alignment": 1.0, "string": 0.25},
        "alignment_mode": "aligned",
        "threshold": 0.2,
        "constraint": "<=1",
        "exact_match_score": 1.0,
    },
}

# Model-based fusion presets of Politov et al. (2025): align, ner, nmt, align_ner, ... (see xlner.project.fusion).
from xlner.project.fusion import FUSION_PRESETS  # noqa: E402

PRESETS.update(FUSION_PRESETS)


#: The preset a method uses when none is named: the offline defaults, everywhere
#: (API, CLI, pipelines, config files).
DEFAULT_PRESETS: dict[str, str] = dict(recipe.PRESETS)


def method_options(method: str) -> dict[str, tuple[Any, str]]:
    """The options (default, description) that ``method`` accepts."""
    if method not in METHODS:
        raise XlnerError(f"unknown projection method {method!r}: known {', '.join(METHODS)}")
    return HEURISTIC_OPTIONS if method == "heuristic" else MATCHING_OPTIONS


def resolve_options(method: str, options: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults of ``method``, then the preset named by ``preset=``, then explicit options.

    Raises :class:`XlnerError` naming the valid options when one is unknown.
    """
    known = method_options(method)
    options = dict(options)
    resolved = {name: default for name, (default, _) in known.items()}
    preset = options.pop("preset", None) or DEFAULT_PRESETS.get(method)
    layers = []
    if preset is not None:
        if preset not in PRESETS:
            raise XlnerError(f"unknown preset {preset!r}: known {', '.join(PRESETS)}")
        layers.append((f"preset {preset!r}", PRESETS[preset]))
    layers.append(("options", options))
    for where, layer in layers:
        unknown = sorted(set(layer) - set(known))
        if unknown:
            raise XlnerError(
                f"unknown option(s) {', '.join(unknown)} for method {method!r} in {where}; "
                f"valid: preset, {', '.join(known)}"
            )
        from xlner.project.validate import check_options  # types and bounds (xlner.project.validate)

        resolved.update(check_options(method, layer, where))
    return resolved


def describe_methods() -> str:
    """Help text listing methods, their options with defaults, and presets."""
    lines = ["Methods:"]
    lines += [f"  {name}: {text}" for name, text in METHODS.items()]
    for title, table in (("heuristic", HEURISTIC_OPTIONS), ("ilp / greedy", MATCHING_OPTIONS)):
        lines.append(f"Options of {title}:")
        lines += [f"  {name} (default {default!r}): {text}" for name, (default, text) in table.items()]
    lines.append("Presets: " + ", ".join(PRESETS))
    lines.append("Without preset=: " + ", ".join(f"{m} uses {p!r}" for m, p in DEFAULT_PRESETS.items()))
    return "\n".join(lines)
