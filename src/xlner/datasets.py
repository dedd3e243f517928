"""NER evaluation data by name: local copies first, the Hugging Face hub otherwise.

>>> load_dataset("masakhane/masakhaner2", "hau", "test", label_map={"DATE": "O"})  # doctest: +SKIP

Known names (aliases in brackets) and their local layout under ``data_dir``
(default :func:`xlner.data.shared_data_dir`):

``masakhane/masakhaner2`` [masakhaner2]
    ``masakhaner2/<iso639-3>/{train,dev,test}.txt``; hub config = language (``bam``).
``unimelb-nlp/wikiann`` [wikiann]
    ``wikiann/<iso639-3>/{train,dev,test}.txt``; hub config = ISO 639-1 code (``sw``).
``google/xtreme`` [xtreme, panx]
    PAN-X, the same WikiANN splits: read from ``wikiann/`` locally; hub config ``PAN-X.sw``.

Languages may be given as ISO 639-1 or 639-3 codes (``sw`` or ``swa``). A
name may also be a path: a CoNLL / JSONL / MMNER file, a folder with
``[<lang>/]<split>.{txt,conll,jsonl}`` files, a folder written by
``datasets.Dataset.save_to_disk`` or (with ``source="hub"``) any folder
``datasets.load_dataset`` reads (parquet, JSON ...). ``source="hub"`` also
accepts any other hub dataset with ``tokens`` and ``ner_tags`` columns.

Label maps (``DATE->O``, ``MISC->O``) are always an explicit argument.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from xlner.errors import InputError, XlnerError
from xlner.tags import LabelMap, TagError, as_label_map, check_choice, tags_to_spans
from xlner.types import Sentence

if TYPE_CHECKING:
    import datasets as hf_datasets

__all__ = ["DATASETS", "describe_dataset", "load_dataset", "resolve_dataset", "sentences_from_hf"]

SOURCES = ("auto", "local", "hub")
_SPLITS = {"train": "train", "dev": "dev", "validation": "dev", "valid": "dev", "test": "test"}
_HUB_SPLITS = {"train": "train", "dev": "validation", "test": "test"}
_EXTENSIONS = (".txt", ".conll", ".jsonl")


@dataclass(frozen=True)
class DatasetInfo:
    """One named data set: hub name, local folder, languages and how a language becomes a hub config."""

    name: str
    title: str
    local: str
    hub_config: Callable[[str], str]  # (iso639-3 or given code) -> hub config name
    hub_languages: tuple[str, ...] = ()  # ISO 639-3 codes on the hub; empty = not enumerated here


_MASAKHANER2_LANGUAGES = tuple(
    "bam bbj ewe fon hau ibo kin lug luo mos nya pcm sna swa tsn twi wol xho yor zul".split()
)

DATASETS: dict[str, DatasetInfo] = {
    info.name: info
    for info in (
        DatasetInfo(
            "masakhane/masakhaner2", "MasakhaNER 2.0", "masakhaner2", lambda lang: lang, _MASAKHANER2_LANGUAGES
        ),
        DatasetInfo("unimelb-nlp/wikiann", "WikiANN", "wikiann", lambda lang: _iso1(lang)),
        DatasetInfo("google/xtreme", "XTREME PAN-X", "wikiann", lambda lang: f"PAN-X.{_iso1(lang)}"),
    )
}
_ALIASES = {
    "masakhaner2": "masakhane/masakhaner2",
    "masakhaner": "masakhane/masakhaner2",
    "wikiann": "unimelb-nlp/wikiann",
    "xtreme": "google/xtreme",
    "panx": "google/xtreme",
    "pan-x": "google/xtreme",
}


def _iso3(code: str) -> str:
    """``sw`` -> ``swa`` via xlner's language table; unknown codes are returned lower-cased."""
    from xlner.translate.languages import language

    code = code.strip().lower()
    code = code[len("pan-x.") :] if code.startswith("pan-x.") else code
    try:
        return language(code).iso3
    except XlnerError:
        return code


def _iso1(code: str) -> str:
    """``swa`` -> ``sw`` (WikiANN's hub configs); codes without an ISO 639-1 form stay as given."""
    from xlner.translate.languages import language

    code = code.strip()
    if code.startswith("PAN-X."):
        return code[len("PAN-X.") :]
    try:
        return language(code).iso1 or code
    except XlnerError:
        return code


def _close(value: str, known: list[str]) -> str:
    close = difflib.get_close_matches(value, known, n=3, cutoff=0.5)
    return f"; did you mean {', '.join(close)}?" if close else ""


def resolve_dataset(name: str) -> DatasetInfo:
    """The :class:`DatasetInfo` for a hub name or alias (case-insensitive); unknown -> :class:`XlnerError`."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key in DATASETS:
        return DATASETS[key]
    known = sorted(DATASETS) + sorted(_ALIASES)
    raise XlnerError(
        f"unknown dataset {name!r}: known {', '.join(known)}, a path to a CoNLL/JSONL file or folder, "
        f"or another hub dataset with source='hub'{_close(key, known)}"
    )


def _split(split: str) -> str:
    key = split.strip().lower()
    if key not in _SPLITS:
        raise XlnerError(f"unknown split {split!r}: expected one of {', '.join(_SPLITS)}")
    return _SPLITS[key]


def _local_languages(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else []


def _split_file(folder: Path, split: str) -> Path | None:
    """``folder/<split>.{txt,conll,jsonl}`` (``dev`` also as ``validation``/``valid``), or None."""
    names = [name for name, canonical in _SPLITS.items() if canonical == split]
    for name in names:
        for extension in _EXTENSIONS:
            if (folder / f"{name}{extension}").is_file():
                return folder / f"{name}{extension}"
    return None


def _read_file(path: Path, label_map: LabelMap, policy: str) -> list[Sentence]:
    """A CoNLL, JSONL or MMNER (``IMGID:`` lines) file."""
    from xlner.io import read_lines, read_sentences

    first = next((line for line in read_lines(path)[:50] if line.strip()), "")
    if first.startswith("IMGID:"):
        from xlner.io.mmner import read_mmner

        return read_mmner(path, policy=policy, label_map=label_map)
    return read_sentences(path, policy=policy, label_map=label_map.mapping)


def load_dataset(
    name: str,
    lang: str | None = None,
    split: str = "test",
    *,
    source: str = "auto",
    data_dir: str | Path | None = None,
    label_map: LabelMap | Mapping[str, str] | None = None,
    policy: str = "repair",
) -> list[Sentence]:
    """Load one split of a NER data set as :class:`Sentence` objects with spans.

    ``name``: a known name or alias (see the module doc), a path, or with
    ``source="hub"`` any hub dataset (``lang`` is then its config).
    ``source``: ``auto`` reads the local copy when it exists, else the hub;
    ``local`` / ``hub`` force one. ``split``: ``train``, ``dev``
    (= ``validation``) or ``test``. ``label_map`` relabels or drops spans,
    e.g. ``{"DATE": "O"}``. ``policy``: ``repair`` (default) decodes invalid
    tag sequences as seqeval does (published sets have a few, e.g.
    MasakhaNER 2.0 hau train), ``strict`` raises on them.
    """
    source = check_choice(source, SOURCES, "source")
    split = _split(split)
    mapping = as_label_map(label_map)
    try:
        info = resolve_dataset(name)
    except XlnerError:
        path = Path(name).expanduser()
        if path.exists():
            return _load_path(path, lang, split, source, mapping, policy)
        if source == "hub" and "/" in name:
            return load_hub(name, lang, split, label_map=mapping, policy=policy)
        raise
    if lang is None:
        raise XlnerError(f"{info.name} needs a language, e.g. lang={(info.hub_languages or ('swa',))[0]!r}")
    if source != "hub":
        local_file = _local_file(info, lang, split, data_dir, required=source == "local")
        if local_file is not None:
            return _read_file(local_file, mapping, policy)
    iso3 = _iso3(lang)
    if info.hub_languages and iso3 not in info.hub_languages:
        known = list(info.hub_languages)
        raise XlnerError(f"unknown language {lang!r} for {info.name}: known {', '.join(known)}{_close(iso3, known)}")
    return load_hub(
        info.name, info.hub_config(iso3 if info.hub_languages else lang), split, label_map=mapping, policy=policy
    )


def _local_file(info: DatasetInfo, lang: str, split: str, data_dir: str | Path | None, required: bool) -> Path | None:
    """``<data_dir>/<local folder>/<iso639-3>/<split>.*``; None when absent, unless ``required`` (then an error)."""
    from xlner.data import shared_data_dir

    folder = (Path(data_dir) if data_dir is not None else shared_data_dir()) / info.local
    found = _split_file(folder / _iso3(lang), split)
    if found is not None or not required:
        return found
    langs = _local_languages(folder)
    if not langs:
        raise InputError(f"no local copy of {info.name}: folder not found or empty", folder)
    if _iso3(lang) not in langs:
        raise XlnerError(
            f"no local {info.name} data for language {lang!r}: local languages {', '.join(langs)}{_close(_iso3(lang), langs)}"
        )
    raise InputError(f"no {split} split ({split}.txt, .conll or .jsonl)", folder / _iso3(lang))


def _load_path(
    path: Path, lang: str | None, split: str, source: str, label_map: LabelMap, policy: str
) -> list[Sentence]:
    """A local file or folder given as the dataset name."""
    if path.is_file():
        return _read_file(path, label_map, policy)
    if (path / "dataset_dict.json").is_file() or (path / "state.json").is_file():
        import datasets

        loaded = datasets.load_from_disk(str(path))
        if isinstance(loaded, datasets.DatasetDict):
            loaded = _pick_split(loaded, split, str(path))
        return sentences_from_hf(loaded, label_map=label_map, policy=policy, where=str(path))
    if source == "hub":
        return load_hub(str(path), lang, split, label_map=label_map, policy=policy)
    for folder in ([path / _iso3(lang), path / lang] if lang else []) + [path]:
        found = _split_file(folder, split)
        if found is not None:
            return _read_file(found, label_map, policy)
    raise InputError(
        f"no {split} split found: expected [<lang>/]{split}.txt, .conll or .jsonl, a save_to_disk folder, "
        "or source='hub' for a folder that datasets.load_dataset reads",
        path,
    )


def _pick_split(splits: "hf_datasets.DatasetDict", split: str, where: str) -> "hf_datasets.Dataset":
    for name in (_HUB_SPLITS[split], split):
        if name in splits:
            return splits[name]
    raise XlnerError(f"{where} has no {split!r} split: it has {', '.join(splits)}")


def load_hub(
    name: str,
    config: str | None,
    split: str = "test",
    *,
    label_map: LabelMap | Mapping[str, str] | None = None,
    policy: str = "repair",
    **options: Any,
) -> list[Sentence]:
    """``datasets.load_dataset(name, config, split=...)`` converted by :func:`sentences_from_hf`.

    ``name`` may be a hub name or a local folder ``datasets`` can read;
    ``options`` go to ``datasets.load_dataset`` (``cache_dir``, ``revision`` ...).
    """
    try:
        import datasets
    except ImportError:
        raise XlnerError(
            'loading from the Hugging Face hub needs the datasets library: pip install "datasets>=2.16"'
        ) from None
    hub_split = _HUB_SPLITS[_split(split)]
    try:
        loaded = datasets.load_dataset(name, config, split=hub_split, **options)
    except Exception as error:  # datasets raises many types (ValueError, FileNotFoundError, ConnectionError ...)
        where = name if config is None else f"{name} (config {config!r})"
        raise XlnerError(f"cannot load {where} split {hub_split!r} with the datasets library: {error}") from error
    return sentences_from_hf(loaded, label_map=label_map, policy=policy, where=name)


def sentences_from_hf(
    dataset: "hf_datasets.Dataset",
    *,
    tokens_field: str = "tokens",
    tags_field: str = "ner_tags",
    id_field: str = "id",
    label_map: LabelMap | Mapping[str, str] | None = None,
    policy: str = "repair",
    where: str = "dataset",
) -> list[Sentence]:
    """Convert a ``datasets.Dataset`` of tokens and IOB2 tags to sentences with spans.

    Integer tags are named through the ClassLabel feature of ``tags_field``
    (string tags are used as they are). Sentence ids come from ``id_field``
    when present, else the row index. Errors name ``where`` and the row.
    """
    for field_name in (tokens_field, tags_field):
        if field_name not in dataset.column_names:
            raise XlnerError(f"{where}: no {field_name!r} column (columns: {', '.join(dataset.column_names)})")
    names = _class_names(dataset.features[tags_field])
    mapping = as_label_map(label_map)
    has_id = id_field in dataset.column_names
    sentences = []
    for row, record in enumerate(dataset):
        tokens, tags = list(record[tokens_field]), list(record[tags_field])
        if len(tokens) != len(tags):
            raise InputError(f"row {row}: {len(tokens)} tokens but {len(tags)} tags", where)
        if names is not None:
            try:
                tags = [names[tag] for tag in tags]
            except (IndexError, TypeError):
                raise InputError(
                    f"row {row}: tag ids {tags} outside the {len(names)} ClassLabel names", where
                ) from None
        try:
            spans, _ = tags_to_spans(tags, "iob2", policy)
        except TagError as error:
            raise InputError(f"row {row}, token {error.index}: {error.reason}", where) from None
        sentence_id = str(record[id_field]) if has_id else str(row)
        sentences.append(Sentence(tokens, mapping.apply(spans), sentence_id))
    return sentences


def _class_names(feature: Any) -> list[str] | None:
    """The ClassLabel names of a ``Sequence``/``List`` of ClassLabel, or None for string tags."""
    inner = getattr(feature, "feature", feature)
    names = getattr(inner, "names", None)
    return list(names) if names else None


def describe_dataset(
    name: str,
    lang: str | None = None,
    split: str = "test",
    label_map: LabelMap | Mapping[str, str] | None = None,
) -> str:
    """A one-line description for table headers: ``"MasakhaNER 2.0 hau test (labels: DATE->O)"``."""
    try:
        info = resolve_dataset(name)
        title, code = info.title, _iso3(lang) if lang else None
    except XlnerError:
        title, code = name, lang
    parts = [title] + ([code] if code else []) + [_split(split)]
    return f"{' '.join(parts)} ({as_label_map(label_map).describe()})"
