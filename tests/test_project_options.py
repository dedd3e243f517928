"""Projection options resolved once (xlner.project.config.resolve): typed options, presets per method, derived facts."""

from __future__ import annotations

import subprocess
import sys

import pytest

from xlner.errors import XlnerError
from xlner.project import PRESETS, presets, project, resolve
from xlner.project.config import (
    HEURISTIC_OPTIONS,
    MATCHING_OPTIONS,
    HeuristicOptions,
    MatchingOptions,
    resolve_options,
    scorer_factory_options,
)
from xlner.project.solve import GreedySolver
from xlner.registry import registry
from xlner.types import SentencePair, Span


def _pair() -> SentencePair:
    return SentencePair(["Prodi"], ["Herr", "Prodi"], [Span(0, 1, "PER")], frozenset({(0, 1)}))


def test_options_are_typed_and_the_tables_follow_them():
    heuristic, matching = resolve("heuristic"), resolve("greedy", {"threshold": "0.5"})
    assert isinstance(heuristic.options, HeuristicOptions) and isinstance(matching.options, MatchingOptions)
    assert matching.options.threshold == 0.5 and matching.as_dict()["threshold"] == 0.5
    assert list(heuristic.as_dict()) == list(HEURISTIC_OPTIONS)
    assert list(matching.as_dict()) == list(MATCHING_OPTIONS)
    assert resolve_options("greedy", {"threshold": "0.5"}) == matching.as_dict()
    one, two = resolve("ilp"), resolve("ilp")
    one.options.weights["alignment"] = 9.0
    assert two.options.weights["alignment"] == 1.0 and MATCHING_OPTIONS["weights"][0]["alignment"] == 1.0


def test_presets_know_their_method():
    assert presets("heuristic") == ["garcia2022", "politov2025"]
    assert "offline" in presets("ilp") and presets("ilp") == presets("greedy")
    assert set(presets("heuristic")) | set(presets("ilp")) == set(PRESETS)
    with pytest.raises(XlnerError, match=r"preset 'offline' is for method ilp or greedy, not 'heuristic'.*garcia2022"):
        project([_pair()], "heuristic", preset="offline")
    with pytest.raises(XlnerError, match="preset 'garcia2022' is for method heuristic, not 'ilp'"):
        resolve("ilp", {"preset": "garcia2022"})
    with pytest.raises(XlnerError, match="unknown preset 'ofline'; did you mean offline"):
        resolve("ilp", {"preset": "ofline"})
    with pytest.raises(XlnerError, match="did you mean threshold"):
        resolve("ilp", {"treshold": 0.3})


def test_derived_facts():
    offline = resolve("ilp")
    assert (offline.preset, offline.scorers, offline.solver, offline.loads_model) == (
        "offline",
        ("alignment", "string"),
        "exact",
        False,
    )
    assert offline.scorer_options["alignment"] == {"mode": "aligned"} and offline.languages == ()
    heuristic = resolve("heuristic", {"preset": "politov2025"})
    assert (heuristic.scorers, heuristic.solver, heuristic.loads_model, heuristic.languages) == ((), None, False, ())
    assert resolve("greedy").solver == "greedy" and resolve("ilp", {"solver": "pairwise"}).solver == "pairwise"
    ner = resolve("ilp", {"preset": "ner", "ner_model": "m", "device": "cuda"})
    assert ner.loads_model and ner.models == {"ner": "m"} and ner.device == "cuda"
    assert ner.scorer_options["ner"] == {"model": "m", "device": "cuda", "mode": "label"}
    # a model named for a scorer that does not run loads nothing; NER candidates load the NER model
    assert not resolve("ilp", {"ner_model": "m"}).loads_model
    assert resolve("ilp", {"ner_model": "m", "ner_candidates": "add"}).models == {"ner_candidates": "m"}


def test_languages_are_filled_only_where_a_scorer_needs_them():
    nmt = resolve("ilp", {"preset": "nmt", "tgt_lang": "ha"}, src_lang="en", tgt_lang="hau")
    assert nmt.languages == ("src_lang", "tgt_lang")
    assert (nmt.options.src_lang, nmt.options.tgt_lang) == ("en", "ha")
    assert nmt.given == {"preset": "nmt", "tgt_lang": "ha", "src_lang": "en"}
    assert nmt.scorer_options["nmt"]["src_lang"] == "en" and nmt.scorer_options["nmt"]["tgt_lang"] == "ha"
    offline = resolve("ilp", {}, src_lang="en", tgt_lang="de")
    assert offline.given == {} and offline.options.src_lang is None


def test_scorer_factory_options():
    got = scorer_factory_options(
        {"alignment": 1.0, "nmt": 1.0, "mine": 1.0},
        {"alignment": {"mode": "links"}, "nmt": {"direction": "forward"}, "unused": {"x": 1}},
        alignment_mode="distinct",
        nmt_model="m",
        src_lang="en",
    )
    assert got == {
        "alignment": {"mode": "links"},
        "nmt": {"model": "m", "device": "cpu", "src_lang": "en", "tgt_lang": None, "direction": "forward"},
        "mine": {},
    }


def test_solver_options_reach_the_solver():
    seen = []

    def recording(**options):
        seen.append(options)
        return GreedySolver()

    registry.solvers.register("test-recording")(recording)
    entities = [Span(0, 1, "PER"), Span(2, 3, "PER")]
    pair = SentencePair(["Prodi", "and", "Monti"], ["Prodi", "y", "Monti"], entities, frozenset({(0, 0), (2, 2)}))
    spans = project([pair], "ilp", solver="test-recording", solver_options={"tag": 7})
    assert spans == [[Span(0, 1, "PER"), Span(2, 3, "PER")]] and seen == [{"tag": 7}]
    assert project([pair], "ilp", solver_options={"method": "highs"}) == project([pair], "ilp")
    with pytest.raises(XlnerError, match="solver_options: unknown option.*metod.*did you mean method"):
        project([pair], "ilp", solver_options={"metod": "highs"})
    with pytest.raises(XlnerError, match="solver_options"):
        project([pair], "ilp", solver_options="method=highs")


def test_model_scorers_are_one_subpackage_the_registry_loads_on_first_use():
    code = (
        "import sys, xlner.project\n"
        "assert 'xlner.project.scorers' not in sys.modules\n"
        "from xlner.registry import registry\n"
        "names = registry.scorers.names()\n"
        "assert {'alignment', 'string', 'ner', 'nmt', 'encoder'} <= set(names), names\n"
        "assert registry.scorers.get('ner').__module__ == 'xlner.project.scorers.ner'\n"
        "assert 'torch' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _imports(module: str) -> set[str]:
    """Modules that ``module``'s source imports, at any depth of its code."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(module)
    assert spec is not None and spec.origin is not None
    tree = ast.parse(open(spec.origin, encoding="utf-8").read())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def test_options_module_imports_neither_fusion_nor_the_scorers():
    assert not {
        m for m in _imports("xlner.project.config") if m.startswith(("xlner.project.fusion", "xlner.project.scor"))
    }
    assert not {m for m in _imports("xlner.project.validate") if m.startswith("xlner.project.config")}
    above = ("xlner.pipeline", "xlner.engines", "xlner.marker_steps", "xlner.experiment", "xlner.checks")
    above += ("xlner.api", "xlner.report", "xlner.cli", "xlner.bench")
    assert not {m for m in _imports("xlner.project.markers") if m.startswith(above)}
