"""Tag sequences <-> spans, tag-scheme detection and label maps.

Schemes read: ``iob1``, ``iob2``, ``bioes`` and ``bilou`` (``L``/``U`` are
``E``/``S``); ``auto`` picks one per file with :func:`detect_scheme`. Tags are
written in IOB2 only (:func:`spans_to_tags`).

Invalid sequences (``I-PER`` after ``O``, ``I-LOC`` after ``B-PER``, a BIOES
entity that never ends, ...) follow a policy:

``strict``
    raise :class:`TagError`, which carries the position of the bad tag so a
    reader can name ``FILE:LINE``.
``repair``
    decode as seqeval's default chunker does: a stray ``I-X`` (or ``E-X``)
    starts a new entity, an unended entity ends where the next one starts;
    each such fix counts as one repair.

Prefixes outside the scheme (``X-PER``, ``E-PER`` in IOB2) and tags without a
label (``B``, ``I-``) are errors under both policies. IOB1 has no invalid
sequences here: ``I-X`` after ``O`` or another type starts an entity, and a
``B-X`` is accepted anywhere (strict IOB1 puts it only right after an ``X``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping, Sequence

from xlner.errors import InputError
from xlner.types import Span

SCHEMES = ("iob1", "iob2", "bioes", "bilou")
POLICIES = ("strict", "repair")
DEFAULT_POLICY = "repair"  # what every command uses unless --policy strict
REPAIR_HINT = "rerun with --policy repair"

# Prefixes each scheme accepts, with the canonical prefix (B, I, E, S) they stand for.
_PREFIXES: dict[str, dict[str, str]] = {
    "iob1": {"B": "B", "I": "I"},
    "iob2": {"B": "B", "I": "I"},
    "bioes": {"B": "B", "I": "I", "E": "E", "S": "S"},
    "bilou": {"B": "B", "I": "I", "L": "E", "U": "S"},
}


class TagError(InputError):
    """An invalid tag at position ``index`` of its sequence (no file known yet)."""

    def __init__(self, message: str, index: int, repairable: bool = False):
        super().__init__(message)
        self.index = index
        self.repairable = repairable  # policy="repair" would have fixed it


def _split(tag: str, prefixes: Mapping[str, str], scheme: str, index: int) -> tuple[str, str]:
    """``'B-PER'`` -> ``('B', 'PER')`` with the canonical prefix; ``'O'`` -> ``('O', '')``."""
    if tag == "O":
        return "O", ""
    if len(tag) < 3 or tag[1] != "-" or tag[0] not in prefixes:
        allowed = ", ".join(f"{p}-" for p in prefixes)
        raise TagError(f"unknown tag {tag!r}: expected O or a label prefixed by {allowed} ({scheme.upper()})", index)
    return prefixes[tag[0]], tag[2:]


def check_choice(value: str, choices: Sequence[str], what: str) -> str:
    """Return ``value`` lower-cased if it is one of ``choices``, else raise :class:`InputError`."""
    lowered = value.lower()
    if lowered not in choices:
        raise InputError(f"unknown {what} {value!r}: expected one of {', '.join(choices)}")
    return lowered


def tags_to_spans(tags: Sequence[str], scheme: str = "iob2", policy: str = "strict") -> tuple[list[Span], int]:
    """Decode one sentence's tags into spans; return ``(spans, number_of_repairs)``.

    ``scheme`` is one of :data:`SCHEMES` or ``"auto"`` (detected from this
    sequence alone; readers detect over a whole file instead).
    """
    scheme = detect_scheme([tags]) if scheme == "auto" else check_choice(scheme, SCHEMES, "tag scheme")
    policy = check_choice(policy, POLICIES, "policy")
    prefixes = _PREFIXES[scheme]
    must_end = scheme in ("bioes", "bilou")  # B/I must be closed by E (L)
    end_name = "L" if scheme == "bilou" else "E"
    spans: list[Span] = []
    repairs = 0
    start = -1  # start of the open entity, -1 when none
    label = ""
    prev = "O"

    def problem(message: str, index: int) -> None:
        nonlocal repairs
        if policy == "strict":
            raise TagError(message, index, repairable=True)
        repairs += 1

    for i, tag in enumerate(tags):
        prefix, lab = _split(tag, prefixes, scheme, i)
        continuing = start >= 0 and lab == label and prefix in ("I", "E")
        if start >= 0 and not continuing:
            if must_end:
                problem(f"{prev} is not closed by {end_name}-{label} before {tag}", i)
            spans.append(Span(start, i, label))
            start = -1
        if prefix == "B":
            start, label = i, lab
        elif prefix in ("I", "E") and not continuing:
            if scheme != "iob1":
                problem(f"{tag} after {prev}: an entity must start with B-{lab}", i)
            start, label = i, lab
        elif prefix == "S":
            start, label = i, lab
        if prefix in ("E", "S"):
            spans.append(Span(start, i + 1, label))
            start = -1
        prev = tag
    if start >= 0:
        if must_end:
            problem(f"{prev} is not closed by {end_name}-{label} at the end of the sentence", len(tags) - 1)
        spans.append(Span(start, len(tags), label))
    return spans, repairs


def detect_scheme(tag_sequences: Iterable[Sequence[str]]) -> str:
    """Guess the scheme of some tag sequences (for example a whole file).

    Rules: any ``E-``/``S-`` prefix -> ``bioes``; any ``L-``/``U-`` ->
    ``bilou`` (both kinds -> error); otherwise ``iob1`` when some ``I-X``
    starts an entity (after ``O`` or another type) *and* every ``B-X`` directly
    follows an ``X`` entity, as IOB1 uses ``B`` only between two adjacent
    entities; otherwise ``iob2``. A file with no entities is ``iob2``.
    IOB1 and repaired IOB2 decode to the same spans, so a wrong guess between
    them changes only whether stray ``I-`` tags count as errors.
    """
    prefixes: set[str] = set()
    i_starts = False
    iob2_style_b = False
    for tags in tag_sequences:
        prev_label = ""  # label of the previous tag, "" after O
        for tag in tags:
            if tag == "O":
                prev_label = ""
                continue
            prefix, label = tag[:1], tag[2:]
            prefixes.add(prefix)
            if prefix == "I" and label != prev_label:
                i_starts = True
            elif prefix == "B" and label != prev_label:
                iob2_style_b = True
            prev_label = label
    bioes = bool(prefixes & {"E", "S"})
    bilou = bool(prefixes & {"L", "U"})
    if bioes and bilou:
        raise InputError("tags mix BIOES (E-, S-) and BILOU (L-, U-) prefixes")
    if bioes:
        return "bioes"
    if bilou:
        return "bilou"
    if i_starts and not iob2_style_b:
        return "iob1"
    return "iob2"


def spans_to_tags(spans: Iterable[Span], n_tokens: int) -> list[str]:
    """IOB2 tags for ``n_tokens`` tokens; raises :class:`InputError` on overlapping or out-of-range spans."""
    tags = ["O"] * n_tokens
    for span in sorted(spans):
        if span.end > n_tokens:
            raise InputError(f"span [{span.start}, {span.end}) {span.label} is outside the {n_tokens} tokens")
        if any(tag != "O" for tag in tags[span.start : span.end]):
            raise InputError(f"span [{span.start}, {span.end}) {span.label} overlaps another span")
        if not span.label or span.label == "O" or any(c.isspace() for c in span.label):
            raise InputError(f"span [{span.start}, {span.end}) has an invalid label {span.label!r}")
        tags[span.start] = "B-" + span.label
        for k in range(span.start + 1, span.end):
            tags[k] = "I-" + span.label
    return tags


@dataclass(frozen=True)
class LabelMap:
    """An explicit relabelling of spans: ``{old: new}``, ``new == "O"`` drops the span.

    Maps apply to decoded spans. For drops (``--ignore MISC``) this equals
    replacing the tags by ``O`` before decoding; for renames (``GPE=LOC``) it
    differs only on invalid sequences such as ``B-GPE I-LOC``.
    """

    mapping: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_options(cls, ignore: Iterable[str] = (), maps: Iterable[str] = ()) -> "LabelMap":
        """Build from CLI options: ``ignore=["MISC"]``, ``maps=["DATE=O", "GPE=LOC"]``."""
        mapping: dict[str, str] = {}
        for label in ignore:
            mapping[_label(label, "--ignore")] = "O"
        for item in maps:
            old, sep, new = item.partition("=")
            if not sep:
                raise InputError(f"bad label map {item!r}: expected OLD=NEW, e.g. DATE=O or GPE=LOC")
            mapping[_label(old, "--map")] = _label(new, "--map")
        return cls(mapping)

    def __bool__(self) -> bool:
        return bool(self.mapping)

    def label(self, label: str) -> str:
        """The mapped label (``"O"`` when dropped)."""
        return self.mapping.get(label, label)

    def apply(self, spans: Iterable[Span]) -> list[Span]:
        """Relabel spans, dropping those mapped to ``O``."""
        if not self.mapping:
            return list(spans)
        out = []
        for span in spans:
            new = self.mapping.get(span.label, span.label)
            if new != "O":
                out.append(span if new == span.label else Span(span.start, span.end, new))
        return out

    def describe(self) -> str:
        """``"labels: MISC->O, DATE->O"`` or ``"labels: as given"``."""
        if not self.mapping:
            return "labels: as given"
        return "labels: " + ", ".join(f"{old}->{new}" for old, new in self.mapping.items())


def _label(text: str, option: str) -> str:
    text = text.strip()
    if not text or any(c.isspace() for c in text):
        raise InputError(f"bad label {text!r} in {option}: expected a label such as MISC")
    return text


def as_label_map(value: "LabelMap | Mapping[str, str] | None") -> LabelMap:
    """Accept a :class:`LabelMap`, a plain ``{old: new}`` dict or ``None``."""
    if value is None:
        return LabelMap()
    if isinstance(value, LabelMap):
        return value
    return LabelMap(dict(value))
