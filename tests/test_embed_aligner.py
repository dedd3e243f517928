"""Neural aligner: tiny random-weight models saved to tmp_path (no downloads)."""

from __future__ import annotations

import numpy as np
import pytest

from xlner.align.embed import SimAlignAligner, align_vectors
from xlner.errors import XlnerError
from xlner.registry import registry

CORPUS = [
    "the house is small and the garden is green",
    "das haus ist klein und der garten ist grün",
    "houses and gardens in the small town",
    "häuser und gärten in der kleinen stadt",
]
SENTENCE = "the small house and the green garden".split()


def save_tiny_model(folder, kind):
    """Train a tokenizer on CORPUS and save it with a random 2-layer model of ``kind``."""
    transformers = pytest.importorskip("transformers")
    tokenizers = pytest.importorskip("tokenizers")
    from tokenizers import models, pre_tokenizers, processors, trainers

    if kind == "bert":
        specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]"]
        tok = tokenizers.Tokenizer(models.WordPiece(unk_token="[UNK]"))
        trainer = trainers.WordPieceTrainer(vocab_size=120, special_tokens=specials)
        bos, eos, pad, unk = "[CLS]", "[SEP]", "[PAD]", "[UNK]"
    else:
        specials = ["<pad>", "<unk>", "<s>", "</s>"]
        tok = tokenizers.Tokenizer(models.BPE(unk_token="<unk>"))
        trainer = trainers.BpeTrainer(vocab_size=120, special_tokens=specials)
        bos, eos, pad, unk = "<s>", "</s>", "<pad>", "<unk>"
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.train_from_iterator(CORPUS, trainer)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}", special_tokens=[(bos, tok.token_to_id(bos)), (eos, tok.token_to_id(eos))]
    )
    fast = transformers.PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token=eos, pad_token=pad, unk_token=unk, cls_token=bos, sep_token=eos
    )
    size = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37)
    ids = dict(pad_token_id=tok.token_to_id(pad), bos_token_id=tok.token_to_id(bos), eos_token_id=tok.token_to_id(eos))
    vocab = tok.get_vocab_size()
    if kind == "bert":
        model = transformers.BertModel(transformers.BertConfig(vocab_size=vocab, max_position_embeddings=64, **size))
    elif kind == "xlmr":
        config = transformers.XLMRobertaConfig(vocab_size=vocab, max_position_embeddings=40, **size, **ids)
        model = transformers.XLMRobertaModel(config)
    elif kind == "clip":
        model = transformers.CLIPTextModel(
            transformers.CLIPTextConfig(vocab_size=vocab, max_position_embeddings=77, **size, **ids)
        )
    else:
        config = transformers.OwlViTTextConfig(vocab_size=vocab, max_position_embeddings=16, **size, **ids)
        model = transformers.OwlViTTextModel(config)
    fast.save_pretrained(folder)
    model.save_pretrained(folder)
    return str(folder)


CLASS = {"bert": "hf", "xlmr": "hf", "clip": "clip-text", "owlvit": "owlvit-text"}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    pytest.importorskip("torch")
    root = tmp_path_factory.mktemp("models")
    return {kind: save_tiny_model(root / kind, kind) for kind in CLASS}


@pytest.mark.hf
@pytest.mark.parametrize("kind", list(CLASS))
def test_shapes_and_identity(models, kind):
    encoder = registry.encoders.create(CLASS[kind], name_or_path=models[kind], layer=2, batch_size=2)
    long = (SENTENCE * 6)[:40]  # longer than OWL-ViT's 16 positions and the XLM-R model's 38
    vectors = encoder.embed_words([SENTENCE, [], long, ["grün"]])
    assert [v.shape for v in vectors] == [(7, 32), (0, 32), (40, 32), (1, 32)]
    assert all(v.dtype == np.float32 and np.isfinite(v).all() for v in vectors)
    assert np.abs(vectors[2]).sum(axis=1).min() > 0  # every word of the windowed sentence got a vector
    aligner = SimAlignAligner(encoder, method="argmax")
    identity = frozenset((i, i) for i in range(len(SENTENCE)))
    assert aligner.align([(SENTENCE, SENTENCE)]) == [identity]


@pytest.mark.hf
def test_windows_split_at_word_boundaries(models):
    encoder = registry.encoders.create("owlvit-text", name_or_path=models["owlvit"], layer=1)
    long = (SENTENCE * 6)[:40]
    windows = encoder._windows(long)
    assert len(windows) > 2 and windows[0][0] == 0 and windows[-1][1] == 40
    assert all(a < b and b == c for (a, b), (c, _) in zip(windows, windows[1:]))
    a, b = windows[1]
    whole = encoder.embed_words([long])[0]
    alone = encoder.embed_words([long[a:b]])[0]
    np.testing.assert_allclose(whole[a:b], alone, atol=1e-5)


@pytest.mark.hf
def test_pooling_and_layers(models):
    words = ["greenhouses", "the"]
    mean = registry.encoders.create("hf", name_or_path=models["bert"], layer=2, pooling="mean")
    first = registry.encoders.create("hf", name_or_path=models["bert"], layer=2, pooling="first")
    mean._load()
    pieces = mean._tokenizer
    n_pieces = len(pieces(["greenhouses"], is_split_into_words=True, add_special_tokens=False)["input_ids"])
    m, f = mean.embed_words([words])[0], first.embed_words([words])[0]
    single = len(pieces(["the"], is_split_into_words=True, add_special_tokens=False)["input_ids"]) == 1
    assert single and np.allclose(m[1], f[1])  # one-piece word: same vector
    assert n_pieces > 1 and not np.allclose(m[0], f[0])  # several pieces: mean differs from first
    layer0 = registry.encoders.create("hf", name_or_path=models["bert"], layer=0).embed_words([words])[0]
    last = registry.encoders.create("hf", name_or_path=models["bert"], layer=-1).embed_words([words])[0]
    assert not np.allclose(layer0, m) and np.allclose(last, m, atol=1e-6)  # -1 is layer 2 of 2
    with pytest.raises(XlnerError, match="layer 5 out of range"):
        registry.encoders.create("hf", name_or_path=models["bert"], layer=5).embed_words([words])


@pytest.mark.hf
def test_registry_and_missing_model(models, tmp_path):
    aligner = registry.aligners.create("simalign", encoder=models["xlmr"], layer=1, method="itermax", progress=False)
    sentence = SENTENCE[:5]
    assert aligner.align([(sentence, sentence)]) == [frozenset((i, i) for i in range(5))]
    assert aligner.config()["encoder"]["layer"] == 1
    with pytest.raises(XlnerError, match=r"cannot load model .*missing.*HF_HUB_OFFLINE=1"):
        registry.aligners.create("simalign", encoder=str(tmp_path / "missing")).align([(["a"], ["b"])])


def test_methods_on_hand_made_vectors():
    # src 0 and 1 both point at tgt 0 (src 1 less so); src 2 matches tgt 1.
    src = np.array([[1.0, 0.0, 0.0], [0.9, 0.2, 0.0], [0.0, 0.0, 1.0]])
    tgt = np.array([[1.0, 0.0, 0.0], [0.0, 0.1, 1.0]])
    # argmax: row 1's best is col 0 but col 0's best is row 0 -> not mutual.
    assert align_vectors(src, tgt, "argmax") == frozenset({(0, 0), (2, 1)})
    # itermax: round 2 damps col 0 for the unaligned row 1 -> (1, 0) becomes mutual.
    assert align_vectors(src, tgt, "itermax") == frozenset({(0, 0), (1, 0), (2, 1)})
    # match: one-to-one; best total pairs 0-0 and 2-1, row 1 left out.
    assert align_vectors(src, tgt, "match") == frozenset({(0, 0), (2, 1)})
    # softmax on dot products with scale 10: row/column softmax both > 0.1 only on clear links.
    assert align_vectors(10 * src, tgt, "softmax", softmax_threshold=0.1) == frozenset({(0, 0), (1, 0), (2, 1)})
    assert align_vectors(src[:0], tgt, "itermax") == frozenset()
    with pytest.raises(XlnerError, match="unknown alignment method"):
        align_vectors(src, tgt, "greedy")


def test_distortion_breaks_ties_towards_the_diagonal():
    same = np.ones((3, 4))
    assert align_vectors(same, np.ones((3, 4)), "match", distortion=0.5) == frozenset({(0, 0), (1, 1), (2, 2)})
