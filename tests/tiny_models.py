"""Tiny random-weight models with tokenizers trained here, saved to a folder.

Nothing is downloaded: each builder trains a tokenizer on a few sentences,
builds a model from a small config and ``save_pretrained``s both, so tests load
them through the same ``from_pretrained`` path as a hub name. Reuse freely.
"""

from __future__ import annotations

import json
from pathlib import Path

CORPUS = [
    "Barack Obama visited Paris with Angela Merkel .",
    "The United Nations met in New York on Monday .",
    "Dirisa Tarawele ye Bamako taa ka kuma .",
    "Aliko Dangote ya ziyarci Kano a ranar Litinin .",
    "Microsoft and Google opened offices in Nairobi .",
    "A yi magana da shugaban kasa a Abuja .",
    "Mali jamana ka ɲɛmɔgɔ ye kuma fɔ .",
    "Ọ bịara Lagos n'ụbọchị Mọnde .",
]

# A few language codes of each family, enough for tests; real models carry all of them.
M2M_TEST_CODES = ["en", "ha", "yo", "sw", "ig", "de", "es", "fr"]


def _torch_seed(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def _train_sentencepiece(folder: Path, vocab_size: int = 120) -> Path:
    import sentencepiece as spm

    folder.mkdir(parents=True, exist_ok=True)
    text = folder / "corpus.txt"
    text.write_text("\n".join(CORPUS * 4) + "\n", encoding="utf-8")
    prefix = folder / "spm"
    spm.SentencePieceTrainer.train(
        input=str(text),
        model_prefix=str(prefix),
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=1.0,
        hard_vocab_limit=False,
        minloglevel=2,
        bos_id=-1,
        eos_id=-1,
        unk_id=0,
    )
    return prefix.with_suffix(".model")


def _seq2seq_config(vocab_size: int, pad: int, bos: int, eos: int, decoder_start: int):
    from transformers import M2M100Config

    return M2M100Config(
        vocab_size=vocab_size,
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=128,
        pad_token_id=pad,
        bos_token_id=bos,
        eos_token_id=eos,
        decoder_start_token_id=decoder_start,
        scale_embedding=True,
    )


def tiny_m2m100(folder: Path, seed: int = 0) -> Path:
    """An M2M-100 with a trained SentencePiece vocabulary and the ``__xx__`` language tokens; returns its folder."""
    from transformers import M2M100ForConditionalGeneration, M2M100Tokenizer

    _torch_seed(seed)
    work = Path(folder) / "m2m-build"
    spm_file = _train_sentencepiece(work)
    import sentencepiece as spm

    sp = spm.SentencePieceProcessor(model_file=str(spm_file))
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for i in range(sp.get_piece_size()):
        vocab.setdefault(sp.id_to_piece(i), len(vocab))
    vocab_file = work / "vocab.json"
    vocab_file.write_text(json.dumps(vocab), encoding="utf-8")
    tokenizer = M2M100Tokenizer(str(vocab_file), str(spm_file), language_codes="m2m100")
    size = max(len(tokenizer), max(tokenizer.lang_token_to_id.values()) + 1)  # language ids follow the vocab
    config = _seq2seq_config(
        size, tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.eos_token_id
    )
    model = M2M100ForConditionalGeneration(config)
    out = Path(folder) / "tiny-m2m100"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def tiny_nllb(folder: Path, seed: int = 0) -> Path:
    """An NLLB-200-style model: M2M-100 architecture with an NLLB tokenizer (``hau_Latn`` tokens); returns its folder."""
    from transformers import M2M100ForConditionalGeneration, NllbTokenizer

    _torch_seed(seed)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for char in sorted({c for line in CORPUS for c in line.replace(" ", "▁")} | {"▁"}):
        vocab.setdefault(char, len(vocab))
    tokenizer = NllbTokenizer(vocab=vocab, merges=[])
    config = _seq2seq_config(
        len(tokenizer), tokenizer.pad_token_id, tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.eos_token_id
    )
    model = M2M100ForConditionalGeneration(config)
    out = Path(folder) / "tiny-nllb"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def tiny_marian(folder: Path, seed: int = 0) -> Path:
    """A Marian (OPUS-MT style) model with one trained SentencePiece model for both sides; returns its folder."""
    import sentencepiece as spm
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    _torch_seed(seed)
    work = Path(folder) / "marian-build"
    spm_file = _train_sentencepiece(work)
    sp = spm.SentencePieceProcessor(model_file=str(spm_file))
    vocab = {"</s>": 0, "<unk>": 1, "<pad>": 2}
    for i in range(sp.get_piece_size()):
        vocab.setdefault(sp.id_to_piece(i), len(vocab))
    (work / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tokenizer = MarianTokenizer(str(spm_file), str(spm_file), str(work / "vocab.json"))
    config = MarianConfig(
        vocab_size=len(tokenizer),
        d_model=16,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=32,
        decoder_ffn_dim=32,
        max_position_embeddings=64,
        pad_token_id=tokenizer.pad_token_id,
        eos_token_id=tokenizer.eos_token_id,
        decoder_start_token_id=tokenizer.pad_token_id,
    )
    out = Path(folder) / "tiny-marian"
    MarianMTModel(config).save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def tiny_token_classifier(folder: Path, labels: list[str] | None = None, seed: int = 0) -> Path:
    """A BERT token classifier with a trained WordPiece vocabulary and ``id2label``; returns its folder."""
    from tokenizers import BertWordPieceTokenizer
    from transformers import BertConfig, BertForTokenClassification, BertTokenizer

    _torch_seed(seed)
    labels = labels or ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    work = Path(folder) / "bert-build"
    work.mkdir(parents=True, exist_ok=True)
    trainer = BertWordPieceTokenizer(lowercase=False)
    trainer.train_from_iterator(CORPUS * 4, vocab_size=150, min_frequency=1, show_progress=False)
    trainer.save_model(str(work))
    tokenizer = BertTokenizer(str(work / "vocab.txt"), do_lower_case=False)
    config = BertConfig(
        vocab_size=len(tokenizer),
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
        id2label=dict(enumerate(labels)),
        label2id={l: i for i, l in enumerate(labels)},
    )
    model = BertForTokenClassification(config)
    out = Path(folder) / "tiny-bert-ner"
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
