"""Language codes: ISO 639-3 (or 639-1) in, each MT model family's code out.

NLLB-200 wants ``hau_Latn``, M2M-100 wants ``ha`` and OPUS-MT (Marian) has
one model per pair, ``Helsinki-NLP/opus-mt-en-ha``. Users may give any of
``hau``, ``ha`` or ``hau_Latn``; :func:`model_code` returns what the family needs.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from xlner.errors import XlnerError

FAMILIES = ("nllb", "m2m", "marian")


@dataclass(frozen=True)
class Language:
    """One language: ISO 639-3 code, ISO 639-1 code if any, NLLB code if any, M2M-100 code if any."""

    iso3: str
    name: str
    iso1: str | None
    nllb: str | None
    m2m: str | None


def _lang(
    iso3: str, name: str, iso1: str | None, script: str | None = "Latn", m2m: bool = True, nllb3: str | None = None
) -> Language:
    nllb = None if script is None else f"{nllb3 or iso3}_{script}"
    return Language(iso3, name, iso1, nllb, iso1 if (m2m and iso1) else None)


_LANGUAGES = [
    # African languages of MasakhaNER 2.0 / WikiANN
    _lang("bam", "Bambara", "bm", m2m=False),
    _lang("bbj", "Ghomala", None, script=None),
    _lang("ewe", "Ewe", "ee", m2m=False),
    _lang("fon", "Fon", None),
    _lang("hau", "Hausa", "ha"),
    _lang("ibo", "Igbo", "ig"),
    _lang("kin", "Kinyarwanda", "rw", m2m=False),
    _lang("lug", "Luganda", "lg"),
    _lang("luo", "Luo", None),
    _lang("mos", "Mossi", None),
    _lang("pcm", "Nigerian Pidgin", None, script=None),
    _lang("swa", "Swahili", "sw", nllb3="swh"),
    _lang("tsn", "Tswana", "tn"),
    _lang("twi", "Twi", "tw", m2m=False),
    _lang("wol", "Wolof", "wo"),
    _lang("yor", "Yoruba", "yo"),
    _lang("zul", "Zulu", "zu"),
    _lang("xho", "Xhosa", "xh"),
    _lang("nya", "Chichewa", "ny", m2m=False),
    _lang("sna", "Shona", "sn", m2m=False),
    _lang("amh", "Amharic", "am", script="Ethi"),
    _lang("som", "Somali", "so"),
    _lang("lin", "Lingala", "ln"),
    _lang("orm", "Oromo", "om", m2m=False, nllb3="gaz"),
    # European and other high-resource languages
    _lang("eng", "English", "en"),
    _lang("deu", "German", "de"),
    _lang("spa", "Spanish", "es"),
    _lang("ita", "Italian", "it"),
    _lang("fra", "French", "fr"),
    _lang("por", "Portuguese", "pt"),
    _lang("nld", "Dutch", "nl"),
    _lang("rus", "Russian", "ru", script="Cyrl"),
    _lang("ara", "Arabic", "ar", script="Arab", nllb3="arb"),
    _lang("zho", "Chinese", "zh", script="Hans"),
    _lang("jpn", "Japanese", "ja", script="Jpan"),
    _lang("hin", "Hindi", "hi", script="Deva"),
    _lang("fin", "Finnish", "fi"),
    _lang("tur", "Turkish", "tr", m2m=False),
    _lang("pol", "Polish", "pl"),
    _lang("ces", "Czech", "cs"),
    _lang("afr", "Afrikaans", "af"),
]

LANGUAGES: dict[str, Language] = {lang.iso3: lang for lang in _LANGUAGES}
_ALIASES: dict[str, str] = {}
for _l in _LANGUAGES:
    for _alias in (_l.iso3, _l.iso1, _l.nllb, _l.nllb and _l.nllb.split("_")[0]):
        if _alias:
            _ALIASES.setdefault(_alias.lower(), _l.iso3)


def _unknown(code: str, known: list[str], what: str) -> XlnerError:
    close = difflib.get_close_matches(code.lower(), known, n=4, cutoff=0.5)
    hint = f"; close matches: {', '.join(close)}" if close else ""
    return XlnerError(f"unknown language code {code!r} for {what}{hint}")


def language(code: str) -> Language:
    """The :class:`Language` for an ISO 639-3, ISO 639-1 or NLLB code."""
    iso3 = _ALIASES.get(code.strip().lower())
    if iso3 is None:
        raise _unknown(code, sorted(_ALIASES), "xlner's language table (add it to xlner/translate/languages.py)")
    return LANGUAGES[iso3]


def model_code(code: str, family: str) -> str:
    """The code a model family uses for ``code``: ``nllb`` -> ``hau_Latn``, ``m2m`` -> ``ha``, ``marian`` -> ``ha``.

    Raises :class:`XlnerError` naming close matches when the family lacks the language.
    """
    if family not in FAMILIES:
        raise XlnerError(f"unknown model family {family!r}: expected one of {', '.join(FAMILIES)}")
    if family == "nllb" and re.fullmatch(r"[a-z]{3}_[A-Z][a-z]{3}", code.strip()):
        return code.strip()  # already an NLLB code, maybe one missing from the table
    lang = language(code)
    value = {"nllb": lang.nllb, "m2m": lang.m2m, "marian": lang.iso1 or lang.iso3}[family]
    if value is None:
        having = [l for l in LANGUAGES.values() if (l.iso1 or l.iso3 if family == "marian" else getattr(l, family))]
        known = sorted({code for l in having for code in (l.iso3, getattr(l, family, None)) if code})
        raise _unknown(code, known, f"{family} models ({lang.name} is not among their languages)")
    return value


def marian_model(src: str, tgt: str, org: str = "Helsinki-NLP") -> str:
    """The OPUS-MT model name for a pair, e.g. ``Helsinki-NLP/opus-mt-en-de``."""
    return f"{org}/opus-mt-{model_code(src, 'marian')}-{model_code(tgt, 'marian')}"
