"""The multimodal research harness: CLIP-family encoders built here, config checks, and an end-to-end grid on real data."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from xlner.errors import InputError
from xlner.experiment import export_mclip, load_experiment, parse_config
from xlner.registry import registry

CORPUS = [
    "Barack Obama visited Paris with Angela Merkel .",
    "Die Vereinten Nationen trafen sich in New York am Montag .",
    "El señor Barroso habló en Bruselas con la Comisión Europea .",
    "The European Parliament met in Strasbourg on Tuesday .",
    "Frau Präsidentin , Herr Kommissar , meine Damen und Herren .",
]
CLIP_SPLIT = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def clip_tokenizer(max_length: int):
    """A CLIP tokenizer (lower-cased byte-level BPE with ``</w>`` word ends) whose merges are trained on CORPUS."""
    import transformers
    from tokenizers import Regex, Tokenizer, models, normalizers, pre_tokenizers, trainers

    bpe = Tokenizer(models.BPE(unk_token="<|endoftext|>", end_of_word_suffix="</w>", continuing_subword_prefix=""))
    bpe.normalizer = normalizers.Sequence(
        [normalizers.NFC(), normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    bpe.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(CLIP_SPLIT), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    trainer = trainers.BpeTrainer(
        vocab_size=320,
        special_tokens=["<|startoftext|>", "<|endoftext|>"],
        show_progress=False,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        end_of_word_suffix="</w>",
    )
    bpe.train_from_iterator(CORPUS * 3, trainer)
    model = json.loads(bpe.to_str())["model"]
    vocab = dict(model["vocab"])
    for char in pre_tokenizers.ByteLevel.alphabet():  # as in CLIP: every byte also as a word end
        vocab.setdefault(char + "</w>", len(vocab))
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    return transformers.CLIPTokenizer(vocab=vocab, merges=merges, model_max_length=max_length)


def save_clip_family(folder, kind: str, seed: int = 0) -> str:
    """A random 2-layer CLIPTextModel (77 positions) or OwlViTTextModel (16) with its trained tokenizer."""
    import torch
    import transformers

    torch.manual_seed(seed)
    positions = 77 if kind == "clip" else 16
    tokenizer = clip_tokenizer(positions)
    size = dict(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=positions,
    )
    ids = dict(
        pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id
    )
    if kind == "clip":
        model = transformers.CLIPTextModel(transformers.CLIPTextConfig(vocab_size=len(tokenizer), **size, **ids))
    else:
        model = transformers.OwlViTTextModel(transformers.OwlViTTextConfig(vocab_size=len(tokenizer), **size, **ids))
    tokenizer.save_pretrained(folder)
    model.save_pretrained(folder)
    return str(folder)


@pytest.fixture(scope="module")
def clip_models(tmp_path_factory):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    root = tmp_path_factory.mktemp("clip-family")
    return {kind: save_clip_family(root / kind, kind) for kind in ("clip", "owlvit")}


def direct_hidden(folder: str, cls_name: str, words: list[str], layer: int):
    """Hidden states of one window computed without xlner, and its word ids."""
    import torch
    import transformers

    tokenizer = transformers.AutoTokenizer.from_pretrained(folder)
    model = getattr(transformers, cls_name).from_pretrained(folder).eval()
    encoded = tokenizer(words, is_split_into_words=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model(**encoded, output_hidden_states=True).hidden_states[layer][0].numpy()
    return hidden, encoded.word_ids()


@pytest.mark.hf
@pytest.mark.parametrize(
    "kind,name,cls_name", [("clip", "clip-text", "CLIPTextModel"), ("owlvit", "owlvit-text", "OwlViTTextModel")]
)
def test_clip_family_pooling_windows_and_layers(clip_models, kind, name, cls_name):
    import transformers

    folder = clip_models[kind]
    assert isinstance(transformers.AutoTokenizer.from_pretrained(folder), transformers.CLIPTokenizer)
    words = "Herr Zürich's Obama".split()  # fits in one OWL-ViT window
    encoder = registry.encoders.create(name, name_or_path=folder, layer=1)
    [vectors] = encoder.embed_words([words])
    hidden, word_ids = direct_hidden(folder, cls_name, words, 1)
    assert len(word_ids) <= (77 if kind == "clip" else 16)
    pieces = [p for p, w in enumerate(word_ids) if w == 1]
    assert len(pieces) > 1  # byte-level BPE splits the unseen word into several pieces
    np.testing.assert_allclose(vectors[1], hidden[pieces].mean(axis=0), rtol=1e-4, atol=1e-5)
    [other_layer] = registry.encoders.create(name, name_or_path=folder, layer=2).embed_words([words])
    assert not np.allclose(vectors, other_layer)

    # longer than the context (77 / 16 positions): consecutive windows, each encoded on its own
    long = (CORPUS[0].split() + CORPUS[2].split()) * 8
    [long_vectors] = encoder.embed_words([long])
    windows = encoder._windows(long)
    assert len(windows) > 1 and windows[0][0] == 0 and windows[-1][1] == len(long)
    assert all(a < b for a, b in windows)
    start, end = windows[1]
    [alone] = encoder.embed_words([long[start:end]])
    np.testing.assert_allclose(long_vectors[start:end], alone, rtol=1e-4, atol=1e-5)


@pytest.mark.hf
def test_export_mclip_keeps_the_transformer(tmp_path):
    """A fake M-CLIP checkpoint (transformer.* + LinearTransformation.*) becomes a plain hf encoder with the same vectors."""
    import torch
    import transformers
    from safetensors.torch import save_file
    from test_embed_aligner import save_tiny_model

    base = save_tiny_model(tmp_path / "xlmr", "xlmr")
    xlmr = transformers.AutoModel.from_pretrained(base)
    checkpoint = tmp_path / "mclip"
    checkpoint.mkdir()
    state = {f"transformer.{k}": v.contiguous() for k, v in xlmr.state_dict().items()}
    state["LinearTransformation.weight"] = torch.zeros(8, 32)
    save_file(state, str(checkpoint / "model.safetensors"))
    (checkpoint / "config.json").write_text(json.dumps({"model_type": "M-CLIP", "modelBase": base, "numDims": 8}))
    transformers.AutoTokenizer.from_pretrained(base).save_pretrained(checkpoint)

    out = export_mclip(checkpoint, tmp_path / "exported")
    words = "the small house and the green garden".split()
    [exported] = registry.encoders.create("hf", name_or_path=str(out), layer=2).embed_words([words])
    [original] = registry.encoders.create("hf", name_or_path=base, layer=2).embed_words([words])
    np.testing.assert_allclose(exported, original, rtol=1e-5, atol=1e-6)
    assert export_mclip(checkpoint, tmp_path / "exported") == out  # idempotent

    (checkpoint / "config.json").write_text(json.dumps({"model_type": "M-CLIP"}))
    with pytest.raises(InputError, match="modelBase"):
        export_mclip(checkpoint, tmp_path / "again")


# ---------------------------------------------------------------- configuration

BASE_CONFIG = {
    "output": "out",
    "baseline": "eflomal",
    "encoders": [
        {"name": "eflomal", "type": "aligner", "aligner": "eflomal", "options": {"progress": False}},
        {"name": "clip", "type": "clip-text", "model": "folder", "layers": [1, 2]},
    ],
    "methods": [
        {"name": "ilp", "method": "ilp", "options": {"preset": "offline"}},
        {
            "name": "ilp+enc",
            "method": "ilp",
            "options": {"weights": {"alignment": 1.0, "encoder": 1.0}},
            "baseline_method": "ilp",
        },
    ],
    "datasets": [{"name": "ep", "kind": "parallel", "languages": ["de"], "source": "a", "target": "b"}],
}


def _with(path: tuple, value):
    config = json.loads(json.dumps(BASE_CONFIG))
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    return config


def test_parse_config_and_its_errors():
    config = parse_config(BASE_CONFIG, overrides={"limit": 5, "output": "elsewhere"})
    assert [s.layers for s in config.systems] == [[None], [1, 2]]
    assert [m.uses_encoder for m in config.methods] == [False, True]
    assert config.datasets[0].limit == 5 and str(config.output) == "elsewhere"
    bad = [
        (("baseline",), "nope", "baseline must name"),
        (("encoders", 1, "type"), "clip", "unknown type"),
        (("encoders", 1, "layers"), "8", "layers must be"),
        (("methods", 0, "method"), "ilp2", "method must be"),
        (("methods", 0, "options"), {"wieghts": {}}, "unknown option"),
        (("methods", 1, "alignment"), "clip", "aligner system"),
        (("methods", 1, "baseline_method"), "nope", "baseline_method"),
        (("datasets", 0, "kind"), "conll", "kind must be"),
        (("datasets", 0, "colour"), "red", "unknown key"),
        (("encoders", 1, "name"), "eflomal", "duplicate"),
    ]
    for path, value, message in bad:
        with pytest.raises(InputError, match=message):
            parse_config(_with(path, value), "exp.toml")
    with pytest.raises(InputError, match=r"exp.toml: datasets\[0\] \(ep\): missing"):
        parse_config(_with(("datasets", 0), {"name": "ep", "kind": "translate-test", "languages": ["de"]}), "exp.toml")


def test_yaml_config_reads_like_toml(tmp_path):
    import yaml

    path = tmp_path / "exp.yaml"
    path.write_text(yaml.safe_dump(BASE_CONFIG), encoding="utf-8")
    config = load_experiment(path, device="cuda")
    assert [s.name for s in config.systems] == ["eflomal", "clip"]
    assert config.systems[1].encoder_options["device"] == "cuda"
    assert config.methods[1].baseline_method == "ilp"


def test_shipped_example_config_is_valid():
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "multimodal.toml"
    config = load_experiment(example)
    names = {s.name for s in config.systems}
    assert {"clip-text", "owlvit-text", "m-clip", "mbert", "xlmr", "labse"} <= names
    assert len({lang for d in config.datasets for lang in d.languages}) >= 10
    assert any(m.uses_encoder for m in config.methods)
    assert {s.type for s in config.systems} >= {"clip-text", "owlvit-text", "mclip", "hf"}


# ---------------------------------------------------------------- end to end


def _experiment_toml(tmp_path, models) -> str:
    bam = "{data}/bam-translate-test"
    return f"""
output = "{tmp_path / "out"}"
baseline = "eflomal"
bootstrap_samples = 300

[[encoders]]
name = "eflomal"
type = "aligner"
aligner = "eflomal"
options = {{progress = false}}

[[encoders]]
name = "eflomal-again"   # the same system twice: delta must be exactly 0
type = "aligner"
aligner = "eflomal"
options = {{progress = false}}

[[encoders]]
name = "clip-text"
type = "clip-text"
model = "{models["clip"]}"
layers = [1, 2]
align = {{method = "itermax"}}

[[encoders]]
name = "owlvit-text"
type = "owlvit-text"
model = "{models["owlvit"]}"
layers = [2]
align = {{method = "match"}}

[[methods]]
name = "heuristic"
method = "heuristic"
options = {{preset = "garcia2022"}}

[[methods]]
name = "ilp"
method = "ilp"
options = {{preset = "offline"}}

[[methods]]
name = "ilp+encoder"
method = "ilp"
alignment = "eflomal"
options = {{weights = {{alignment = 1.0, string = 0.25, encoder = 0.5}}}}
baseline_method = "ilp"

[[datasets]]
name = "europarl"
kind = "parallel"
languages = ["de", "es"]
source = "{{data}}/europarl-ner/en.test.conll"
target = "{{data}}/europarl-ner/{{lang}}.test.conll"
limit = 30

[[datasets]]
name = "masakhaner2"
kind = "translate-test"
languages = ["bam"]
dataset = "masakhaner2"
limit = 30
label_map = {{DATE = "O"}}
translator = "file"
translator_options = {{path = "{bam}/devil-in-details/data/final/nllb/accalign/masakhaner/test-translate-bam-en.jsonl", field = "tokens"}}
tokenizer = "whitespace"
tagger = "gold"
tagger_options = {{path = "{bam}/transalign/sample_data/test-translate-bam-en-preds.txt"}}
"""


@pytest.mark.hf
@pytest.mark.shared_data
@pytest.mark.slow
def test_experiment_end_to_end_on_real_data(tmp_path, clip_models, shared_data):
    import time

    from typer.testing import CliRunner

    from xlner.cli import app
    from xlner.experiment import run_experiment
    from xlner.io import read_sentences

    config_file = tmp_path / "exp.toml"
    config_file.write_text(_experiment_toml(tmp_path, clip_models), encoding="utf-8")
    started = time.perf_counter()
    result = CliRunner().invoke(app, ["experiment", str(config_file)])
    first = time.perf_counter() - started
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert (out / "plot.png").stat().st_size > 1000
    data = json.loads((out / "results.json").read_text())
    cells = data["cells"]
    tasks = ["europarl:de", "europarl:es", "masakhaner2:bam"]
    # eflomal x2 systems x 2 methods (no encoder score) + clip 2 layers x 3 methods + owlvit 1 layer x 3, per task
    assert len(cells) == 3 * (2 * 2 + 2 * 3 + 3)
    assert sorted({c["task"] for c in cells}) == tasks
    for c in cells:
        assert 0.0 <= c["f1"] <= 1.0
        if c["system"] == "eflomal":
            assert c["delta"] is None
        else:
            assert c["low"] - 1e-12 <= c["delta"] <= c["high"] + 1e-12
            assert c["significant"] == (c["low"] > 0 or c["high"] < 0)
    again = [c for c in cells if c["system"] == "eflomal-again"]
    assert again and all(c["delta"] == 0.0 and c["low"] == 0.0 == c["high"] and not c["significant"] for c in again)
    encoder_score = [c for c in cells if c["method"] == "ilp+encoder"]
    assert all(c["versus"] == "eflomal, ilp" for c in encoder_score)

    # the F1 of the baseline cell is the span F1 of the projection, recomputed here
    gold = read_sentences(shared_data / "europarl-ner" / "de.test.conll")[:30]
    base = next(c for c in cells if (c["system"], c["task"], c["method"]) == ("eflomal", "europarl:de", "ilp"))
    assert 0.2 < base["f1"] < 1.0 and base["sentences"] == 30
    assert base["f1"] == pytest.approx(2 * base["precision"] * base["recall"] / (base["precision"] + base["recall"]))
    assert sum(len(s.spans) for s in gold) > 0

    # one table: a header with every task, one row per (system, layer, method)
    markdown = (out / "results.md").read_text()
    table = [line for line in markdown.splitlines() if line.startswith("|")]
    assert table[0] == "| system | layer | method | " + " | ".join(tasks) + " | mean F1 |"
    assert len(table) == 2 + 2 * 2 + 2 * 3 + 3
    assert re.search(r"\| clip-text \| 1 \| ilp \| \d\.\d{3} [+-]\d\.\d{3} \[[+-]\d\.\d{3}, [+-]\d\.\d{3}\]", markdown)
    assert any(
        re.match(r"owlvit-text \(layer 2\), ilp: helps on \d/3 languages \(significant on \d", s)
        for s in data["summary"]
    )
    assert "clip-text (layer" in result.output

    # resumable: a second run reads every model step from the cache and gives the same numbers
    started = time.perf_counter()
    second = run_experiment(load_experiment(config_file))
    assert [(c["f1"], c["delta"]) for c in second["cells"]] == [(c["f1"], c["delta"]) for c in cells]
    assert time.perf_counter() - started < first
    assert any((out / "cache" / "align").iterdir())
    assert not (out / "cache" / "project").exists()  # projection takes milliseconds: not cached
