"""Translation backends: language codes, HF seq2seq plumbing on tiny random models, file and CTranslate2 backends, detok."""

from __future__ import annotations

import json

import pytest

from xlner.errors import InputError, XlnerError
from xlner.registry import registry
from xlner.translate.base import length_sorted_batches
from xlner.translate.detok import detokenize, detokenize_with_offsets, tokenize, tokenize_with_offsets
from xlner.translate.hf import load_seq2seq as REAL_LOAD
from xlner.translate.languages import language, marian_model, model_code

pytest.importorskip("transformers")
from tiny_models import tiny_m2m100, tiny_marian, tiny_nllb  # noqa: E402

# ---------------------------------------------------------------- language codes


@pytest.mark.parametrize(
    "code, family, expected",
    [
        ("hau", "nllb", "hau_Latn"),
        ("ha", "nllb", "hau_Latn"),
        ("swa", "nllb", "swh_Latn"),
        ("bam", "nllb", "bam_Latn"),
        ("amh", "nllb", "amh_Ethi"),
        ("hau", "m2m", "ha"),
        ("yo", "m2m", "yo"),
        ("deu", "m2m", "de"),
        ("hau_Latn", "m2m", "ha"),
        ("eng", "marian", "en"),
        ("kab_Latn", "nllb", "kab_Latn"),
    ],
)
def test_model_codes(code, family, expected):
    assert model_code(code, family) == expected


def test_marian_model_names():
    assert marian_model("eng", "deu") == "Helsinki-NLP/opus-mt-en-de"
    assert marian_model("en", "hau") == "Helsinki-NLP/opus-mt-en-ha"


def test_language_missing_from_family_names_close_matches():
    with pytest.raises(XlnerError, match="Bambara is not among") as info:
        model_code("bam", "m2m")
    assert "close matches" in str(info.value)
    with pytest.raises(XlnerError, match="close matches: .*hau"):
        language("hua")


def test_length_sorted_batches_cover_every_item_once_longest_first():
    items = ["a", "abcd", "ab", "abcdef", "abc"]
    batches = list(length_sorted_batches(items, 2))
    assert [len(batch) for _, batch in batches] == [2, 2, 1]
    assert sorted(i for indices, _ in batches for i in indices) == list(range(5))
    assert batches[0][1] == ["abcdef", "abcd"]


# ---------------------------------------------------------------- detok


def test_detokenize_offsets_point_at_the_words():
    tokens = ["Barack", "Obama", "visited", "Paris", ",", "France", "(", "2009", ")", "."]
    text, offsets = detokenize_with_offsets(tokens, "eng")
    assert text == "Barack Obama visited Paris, France (2009)."
    assert [text[a:b] for a, b in offsets] == tokens
    assert tokenize(text, "eng") == tokens


@pytest.mark.parametrize("method", ["moses", "regex", "whitespace"])
def test_tokenize_offsets(method):
    text = "Dirisa Tarawele ye Bamako taa, ka kuma."
    words = tokenize_with_offsets(text, "bam", method)
    assert [w for w, _, _ in words] == tokenize(text, "bam", method)
    assert all(text[a:b] == w for w, a, b in words)


def test_unknown_tokenizer():
    with pytest.raises(XlnerError, match="unknown tokenizer"):
        detokenize(["a"], "eng", "spaces")


# ---------------------------------------------------------------- Hugging Face


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mt")
    return {"m2m": tiny_m2m100(folder), "nllb": tiny_nllb(folder), "marian": tiny_marian(folder)}


def _spy_generate(translator):
    calls = []
    original = translator.model.generate

    def generate(**kwargs):
        out = original(**kwargs)
        calls.append((kwargs, out))
        return out

    translator.model.generate = generate
    return calls


@pytest.mark.parametrize(
    "family, src_token, tgt_token", [("nllb", "eng_Latn", "hau_Latn"), ("m2m", "__en__", "__ha__")]
)
def test_hf_language_codes_reach_generate(models, family, src_token, tgt_token):
    translator = registry.translators.create("hf", model=str(models[family]), beam_size=2, max_length=8, batch_size=2)
    assert translator.family == family
    calls = _spy_generate(translator)
    sentences = ["Kano", "Barack Obama visited Paris .", "A yi magana da shugaban kasa a Abuja ."]
    out = translator.translate(sentences, "eng", "hau")
    assert len(out) == 3 and all(isinstance(t, str) for t in out)
    tok = translator.tokenizer
    src_id, tgt_id = tok.convert_tokens_to_ids(src_token), tok.convert_tokens_to_ids(tgt_token)
    assert [len(kwargs["input_ids"]) for kwargs, _ in calls] == [2, 1]  # batches of 2, longest first
    for kwargs, generated in calls:
        assert kwargs["forced_bos_token_id"] == tgt_id
        assert kwargs["num_beams"] == 2 and kwargs["max_new_tokens"] == 8
        assert (kwargs["input_ids"] == src_id).any(dim=1).all()  # source language token in every input
        assert (generated[:, 1] == tgt_id).all()  # the forced target language is the first generated token


def test_hf_marian_needs_no_language_tokens(models):
    translator = registry.translators.create("hf", model=str(models["marian"]), beam_size=2, max_length=6, batch_size=2)
    assert translator.family == "marian"
    calls = _spy_generate(translator)
    assert len(translator.translate(["Kano", "Barack Obama ."], "eng", "deu")) == 2
    assert all("forced_bos_token_id" not in kwargs for kwargs, _ in calls)
    with pytest.raises(XlnerError, match="unknown language code"):
        translator.translate(["Kano"], "eng", "xyzzy")


def test_opus_mt_picks_the_model_of_each_pair(models, monkeypatch):
    import xlner.translate.hf as hf

    loaded = []

    def fake_load(name, device="cpu", fp16=None):  # every pair gets the tiny Marian model
        loaded.append(name)
        return REAL_LOAD(str(models["marian"]), device, fp16)

    monkeypatch.setattr(hf, "load_seq2seq", fake_load)
    translator = registry.translators.create("hf", model="opus-mt", max_length=4)
    assert loaded == []  # nothing loaded before the languages are known
    translator.translate(["Kano"], "eng", "deu")
    translator.translate(["Kano"], "hau", "eng")
    translator.translate(["Abuja"], "eng", "deu")
    assert loaded == ["Helsinki-NLP/opus-mt-en-de", "Helsinki-NLP/opus-mt-ha-en"]


def test_hf_output_order_matches_input_order(models, monkeypatch):
    translator = registry.translators.create("hf", model=str(models["nllb"]), beam_size=1, max_length=4, batch_size=2)
    sentences = ["bb", "a", "dddd", "ccc"]
    monkeypatch.setattr(translator, "_generate", lambda tok, net, batch, opts: [f"<{s}>" for s in batch])
    assert translator.translate(sentences, "eng", "deu") == ["<bb>", "<a>", "<dddd>", "<ccc>"]


def test_hf_real_generation_keeps_input_order(models):
    translator = registry.translators.create("hf", model=str(models["nllb"]), beam_size=1, max_length=6, batch_size=1)
    sentences = ["Kano", "Barack Obama visited Paris with Angela Merkel .", "Abuja"]
    single = [translator.translate([s], "eng", "yor")[0] for s in sentences]
    assert translator.translate(sentences, "eng", "yor") == single


def test_hf_unknown_language_for_the_family(models):
    translator = registry.translators.create("hf", model=str(models["m2m"]), max_length=4)
    with pytest.raises(XlnerError, match="Bambara"):
        translator.translate(["a"], "bam", "eng")


def test_hf_missing_model_is_one_clear_error(tmp_path):
    name = str(tmp_path / "no-such-model")  # a hub name would try the network (slow retries) in this sandbox
    with pytest.raises(XlnerError) as info:
        registry.translators.create("hf", model=name)
    message = str(info.value)
    assert name in message and "HF_HUB_OFFLINE=1" in message and "local folder" in message


# ---------------------------------------------------------------- file


def test_file_translator_lines(tmp_path):
    path = tmp_path / "en.txt"
    path.write_text("first\nsecond\n", encoding="utf-8")
    translator = registry.translators.create("file", path=path)
    assert translator.translate(["a", "b"], "bam", "eng") == ["first", "second"]
    with pytest.raises(InputError, match="has 2 lines but the input has 3 sentences"):
        translator.translate(["a", "b", "c"], "bam", "eng")


def test_file_translator_jsonl_by_id(tmp_path):
    path = tmp_path / "t.jsonl"
    records = [
        {"id": "1", "translation": {"en": "one"}},
        {"id": "0", "translation": ["ze", "ro"]},
        {"id": 2, "translation": "two"},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    translator = registry.translators.create("file", translations=path)
    assert translator.translate(["x", "y", "z"], "bam", "eng", ids=["0", "1", "2"]) == ["ze ro", "one", "two"]
    with pytest.raises(InputError, match="no translation for sentence id"):
        translator.translate(["x"], "bam", "eng", ids=["7"])
    with pytest.raises(InputError, match="no translation into 'deu'"):
        translator.translate(["x"], "bam", "deu", ids=["1"])


def test_file_translator_bad_json_names_the_line(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "0", "translation": "a"}\n{oops\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"t\.jsonl:2: invalid JSON"):
        registry.translators.create("file", path=path).translate(["a", "b"], "bam", "eng")


def test_file_translator_needs_a_file(tmp_path):
    with pytest.raises(XlnerError, match="--translations"):
        registry.translators.create("file")
    with pytest.raises(InputError, match="not found"):
        registry.translators.create("file", path=tmp_path / "missing.txt")


# ---------------------------------------------------------------- CTranslate2


def test_ctranslate2_converts_and_forces_the_target_language(models, tmp_path):
    pytest.importorskip("ctranslate2")
    from xlner.translate.ctranslate2 import convert_model

    folder = convert_model(models["nllb"], tmp_path / "ct2")
    translator = registry.translators.create("ctranslate2", model=str(folder), beam_size=1, max_length=6)
    assert translator.family == "nllb"
    calls = []
    real = translator.translator

    class Spy:
        def translate_batch(self, source, **options):
            calls.append((source, options))
            return real.translate_batch(source, **options)

    translator.translator = Spy()
    out = translator.translate(["Kano", "Barack Obama ."], "eng", "hau")
    assert len(out) == 2
    ((source, options),) = calls
    assert options["target_prefix"] == [["hau_Latn"], ["hau_Latn"]]
    assert all("eng_Latn" in tokens for tokens in source)
