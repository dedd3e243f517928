"""Score fusion: normalisation, weights, the fusion presets, and `xlner project` with model-based scores."""

from __future__ import annotations

import numpy as np
import pytest
from typer.testing import CliRunner

from xlner.cli import app
from xlner.errors import XlnerError
from xlner.project import PRESETS, project_detailed
from xlner.project.candidates import Candidates
from xlner.project.config import FUSION_PRESETS, resolve_options, with_languages
from xlner.project.fusion import fuse, normalise_flat
from xlner.project.scores import PairIndex
from xlner.registry import registry
from xlner.types import SentencePair, Span

runner = CliRunner()


class TableScorer:
    """Scores from a fixed (entities x candidates) table, the same for every sentence."""

    def __init__(self, table):
        self.table = np.asarray(table, dtype=float)

    def score(self, pairs, candidates):
        return [self.table[: len(p.src_spans), : len(c)] for p, c in zip(pairs, candidates)]


registry.scorers.register("test-small")(lambda: TableScorer([[0.01, 0.002]]))
registry.scorers.register("test-big")(lambda: TableScorer([[0.3, 0.5]]))


def _one_pair():
    return SentencePair(["Obama"], ["Obama", "Kano"], [Span(0, 1, "PER")], frozenset({(0, 0)}))


def test_normalisations():
    pairs = [SentencePair(["a", "b"], ["x", "y", "z"], [Span(0, 1, "PER"), Span(1, 2, "LOC")], frozenset())]
    index = PairIndex(pairs, [Candidates.from_ranges([(0, 1), (1, 2)])])
    flat = np.array([0.2, 0.4, -0.5, 2.0])
    np.testing.assert_allclose(normalise_flat(index, flat, "none"), flat)
    np.testing.assert_allclose(normalise_flat(index, flat, "clip"), [0.2, 0.4, 0.0, 1.0])
    np.testing.assert_allclose(normalise_flat(index, flat, "entity-max"), [0.5, 1.0, 0.0, 1.0])
    clipped = {name: normalise_flat(index, values, "clip") for name, values in {"a": flat, "b": np.ones(4)}.items()}
    np.testing.assert_allclose(fuse(clipped, {"a": 1, "b": 3}, 0.5), [0.8, 0.85, 0.75, 1.0])
    with pytest.raises(XlnerError, match="normalize"):
        normalise_flat(index, flat, "zscore")


def test_weights_and_normalisation_decide_the_choice():
    options = dict(
        weights={"test-small": 1.0, "test-big": 1.0}, threshold=0.0, max_words=1, aligned_subranges=False, runs=False
    )
    plain = project_detailed([_one_pair()], "ilp", **options)[0]
    assert plain.spans == [Span(1, 2, "PER")] and plain.scores[0] == pytest.approx((0.002 + 0.5) / 2)
    scaled = project_detailed([_one_pair()], "ilp", normalize="entity-max", **options)[0]
    assert scaled.spans == [Span(0, 1, "PER")] and scaled.scores[0] == pytest.approx((1.0 + 0.6) / 2)
    only_small = project_detailed([_one_pair()], "ilp", **{**options, "weights": {"test-small": 1.0}})[0]
    assert only_small.spans == [Span(0, 1, "PER")]


def test_fusion_presets_are_registered_and_resolve():
    for name in ("align", "ner", "nmt", "align_ner", "align_nmt", "ner_spans_nmt", "all_fusion", "align_ner_per_class"):
        assert name in PRESETS and PRESETS[name] == FUSION_PRESETS[name]
        resolved = resolve_options("ilp", {"preset": name, "threshold": 0.3})
        assert resolved["threshold"] == 0.3 and resolved["weights"] == FUSION_PRESETS[name]["weights"]
    assert set(FUSION_PRESETS["all_fusion"]["weights"]) == {"alignment", "ner", "nmt"}
    assert FUSION_PRESETS["ner_spans_nmt"]["ner_candidates"] == "only"
    assert FUSION_PRESETS["align_ner"]["scorer_options"]["ner"]["mode"] == "any"
    with pytest.raises(XlnerError, match="preset 'all_fusion' is for method ilp or greedy, not 'heuristic'"):
        resolve_options("heuristic", {"preset": "all_fusion"})


def test_languages_are_added_only_for_the_translation_score():
    assert with_languages("ilp", {"preset": "nmt"}, "en", "hau") == {
        "preset": "nmt",
        "src_lang": "en",
        "tgt_lang": "hau",
    }
    assert with_languages("ilp", {"preset": "nmt", "tgt_lang": "ha"}, "en", "hau")["tgt_lang"] == "ha"
    assert with_languages("ilp", {"preset": "offline"}, "en", "hau") == {"preset": "offline"}
    assert with_languages("heuristic", {}, "en", "hau") == {}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    pytest.importorskip("transformers")
    from tiny_models import tiny_m2m100, tiny_token_classifier

    folder = tmp_path_factory.mktemp("fusion-models")
    return {"ner": str(tiny_token_classifier(folder)), "nmt": str(tiny_m2m100(folder))}


def test_every_fusion_preset_runs_with_tiny_models(tiny):
    from xlner.project.scorers.ner import ner_candidates

    pairs = [
        SentencePair(
            "Barack Obama visited Paris .".split(),
            "Barack Obama ya ziyarci Kano a Paris .".split(),
            [Span(0, 2, "PER"), Span(3, 4, "LOC")],
            frozenset({(0, 0), (1, 1), (2, 3), (3, 6)}),
        ),
        SentencePair(
            "Angela Merkel".split(), "Angela Merkel".split(), [Span(0, 2, "PER")], frozenset({(0, 0), (1, 1)})
        ),
    ]
    models = dict(ner_model=tiny["ner"], nmt_model=tiny["nmt"], src_lang="en", tgt_lang="ha")
    for name in FUSION_PRESETS:
        results = project_detailed(pairs, "ilp", preset=name, **models)
        for pair, result in zip(pairs, results):
            assert len(result.spans) == len(result.scores) == len(result.sources) <= len(pair.src_spans)
            assert all(0 <= s.start < s.end <= len(pair.tgt_tokens) for s in result.spans)
            assert all(s.label == pair.src_spans[e].label for s, e in zip(result.spans, result.sources))
            assert all(not a.overlaps(b) for a, b in zip(result.spans, result.spans[1:]))
    predicted = ner_candidates(pairs, tiny["ner"])
    for pair, result, cands in zip(pairs, project_detailed(pairs, "ilp", preset="ner_spans_nmt", **models), predicted):
        assert all((s.start, s.end) in cands.spans() for s in result.spans)
    aligned = project_detailed(pairs, "ilp", preset="align")
    assert aligned[1].spans == [Span(0, 2, "PER")]


def _first_sentences(path, n):
    blocks = path.read_text(encoding="utf-8").strip("\n").split("\n\n")
    return "\n\n".join(blocks[:n]) + "\n"


@pytest.mark.shared_data
def test_cli_project_with_model_scores_on_europarl(shared_data, tmp_path, tiny):
    from xlner.io import read_sentences

    for lang in ("en", "de"):
        text = _first_sentences(shared_data / "europarl-ner" / f"{lang}.test.conll", 10)
        (tmp_path / f"{lang}.conll").write_text(text, encoding="utf-8")
    base = [
        "project",
        "-s",
        str(tmp_path / "en.conll"),
        "-t",
        str(tmp_path / "de.conll"),
        "--src-lang",
        "en",
        "--tgt-lang",
        "de",
        "--option",
        f"ner_model={tiny['ner']}",
        "--option",
        f"nmt_model={tiny['nmt']}",
        "--option",
        "src_lang=en",
        "--option",
        "tgt_lang=de",
    ]
    runs = {
        "preset": ["--preset", "all_fusion"],
        "weights": [
            "--option",
            "weights={alignment: 1, ner: 0.5, nmt: 0.5, string: 0.25}",
            "--option",
            "normalize=clip",
        ],
    }
    source = read_sentences(tmp_path / "en.conll")
    target = read_sentences(tmp_path / "de.conll")
    for name, extra in runs.items():
        out = tmp_path / f"{name}.conll"
        result = runner.invoke(app, base + extra + ["-o", str(out)])
        assert result.exit_code == 0, result.output
        projected = read_sentences(out)
        assert [s.tokens for s in projected] == [t.tokens for t in target]
        for src, sent in zip(source, projected):
            assert len(sent.spans) <= len(src.spans)
            assert {s.label for s in sent.spans} <= {s.label for s in src.spans}
        assert sum(len(s.spans) for s in projected) > 0
