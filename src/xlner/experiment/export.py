"""M-CLIP checkpoints exported as plain ``hf`` encoder folders."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from xlner.errors import InputError, XlnerError


def export_mclip(checkpoint: str | Path, out: str | Path, base: str | None = None) -> Path:
    """Save the XLM-R transformer of an M-CLIP text encoder as a plain ``hf`` model folder (idempotent).

    M-CLIP checkpoints (e.g. ``M-CLIP/XLM-Roberta-Large-Vit-B-32``) hold a
    ``MultilingualCLIP`` model: ``transformer.*`` (an XLM-R model whose
    architecture is the config's ``modelBase``) and ``LinearTransformation.*``
    (the projection of the pooled sentence vector into CLIP space, which word
    alignment does not use and which is dropped). ``checkpoint``: a folder or
    a hub name (downloaded with ``huggingface_hub``); ``base``: the XLM-R
    config to use instead of ``modelBase``.
    """
    import torch  # noqa: F401
    import transformers

    out = Path(out)
    if (out / "config.json").is_file():
        return out
    folder = Path(checkpoint)
    if not folder.is_dir():
        try:
            from huggingface_hub import snapshot_download

            folder = Path(snapshot_download(str(checkpoint)))
        except Exception as error:
            raise XlnerError(
                f"cannot find M-CLIP checkpoint {checkpoint!r} ({type(error).__name__}: {error})"
            ) from None
    config_file = folder / "config.json"
    if not config_file.is_file():
        raise InputError("not an M-CLIP checkpoint: config.json missing", folder)
    meta = json.loads(config_file.read_text(encoding="utf-8"))
    base = base or meta.get("modelBase")
    if not base:
        raise InputError("config.json has no modelBase (the XLM-R architecture); pass base=", config_file)
    state = _load_state_dict(folder)
    weights = {k[len("transformer.") :]: v for k, v in state.items() if k.startswith("transformer.")}
    if not weights:
        raise InputError("no transformer.* weights in the checkpoint", folder)
    model = transformers.AutoModel.from_config(transformers.AutoConfig.from_pretrained(base))
    missing, unexpected = model.load_state_dict(weights, strict=False)
    missing = [k for k in missing if not k.startswith("pooler.")]  # M-CLIP mean-pools; its pooler may be absent
    if missing or unexpected:
        raise XlnerError(f"M-CLIP weights do not fit {base!r}: missing {missing[:5]}, unexpected {unexpected[:5]}")
    tokenizer_source = (
        folder if (folder / "tokenizer.json").is_file() or (folder / "sentencepiece.bpe.model").is_file() else base
    )
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(tokenizer_source))
    out.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
    return out


def _load_state_dict(folder: Path) -> dict[str, Any]:
    import torch

    files = sorted(folder.glob("*.safetensors"))
    if files:
        from safetensors.torch import load_file

        return {k: v for f in files for k, v in load_file(str(f)).items()}
    files = sorted(folder.glob("pytorch_model*.bin"))
    if not files:
        raise InputError("no *.safetensors or pytorch_model*.bin weights", folder)
    return {k: v for f in files for k, v in torch.load(str(f), map_location="cpu", weights_only=True).items()}
