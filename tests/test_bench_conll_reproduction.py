"""`xlner bench conll-reproduction`: the re-implementation of the published heuristic and the comparison."""

from __future__ import annotations

import pytest

from xlner.bench import conll_reproduction as cr
from xlner.errors import InputError
from xlner.types import Span


def spans(src_spans, tgt_tokens, links):
    return cr.published_heuristic(src_spans, tgt_tokens, frozenset(links))


def test_published_behaviour_minimal_cases():
    # punctuation words are removed before grouping (xlner keeps ", Franco")
    assert spans([Span(0, 1, "PER")], [",", "Franco"], {(0, 0), (0, 1)}).spans == [Span(1, 2, "PER")]
    # one-word gap filled only when the joint extent is at most 3 words
    assert spans([Span(0, 3, "ORG")], ["a", "x", "b"], {(0, 0), (2, 2)}).spans == [Span(0, 3, "ORG")]
    ref = spans([Span(0, 4, "ORG")], ["a", "b", "x", "c", "d"], {(0, 0), (1, 1), (2, 3), (3, 4)})
    assert ref.spans == [Span(0, 2, "ORG")] and "merge" in ref.events
    # a projection left of the previous entity's one is a "collision": equal lengths -> the earlier is dropped
    ref = spans([Span(0, 1, "LOC"), Span(2, 3, "MISC")], ["b", "y", "a"], {(0, 2), (2, 0)})
    assert ref.spans == [Span(0, 1, "MISC")] and "false collision" in ref.events
    # true overlap, different labels: the longer projection stays
    ref = spans([Span(0, 2, "LOC"), Span(3, 4, "PER")], ["a", "b", "c"], {(0, 0), (1, 1), (3, 1)})
    assert ref.spans == [Span(0, 2, "LOC")] and "overlap" in ref.events


def test_read_blocks_reports_file_and_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("Peter B-PER\n\nlonely\n", encoding="utf-8")
    with pytest.raises(InputError, match="bad.tsv:3"):
        cr.read_blocks(path)


def test_reference_reproduces_published_files_on_a_slice(shared_data):
    root = shared_data / "conll-projection"
    source = cr.read_blocks(root / "original" / "en" / "en.conll.test.tsv")
    files = {(d, mt, al): (tsv, talp) for d, mt, al, tsv, talp in cr.published_files(root, cr.DIRECTIONS)}
    assert len(files) == 21
    for key in [("en2de", "DeepL", "fast_align"), ("en2it", "DeepL", "awesome"), ("en2es", "m2m100", "awesome")]:
        result = cr.compare_file(source, *files[key], *key, limit=800)
        assert result.sentences == 800
        assert result.reference_same == result.sentences, key  # the published labels, exactly
        assert 0.8 <= result.xlner_same / result.sentences <= 1.0
        assert sum(result.causes.values()) == result.sentences - result.xlner_same
        assert "unexplained" not in result.causes and "reference also differs" not in result.causes
