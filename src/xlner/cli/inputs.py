"""Reading a command's inputs and checking its outputs, the same way in every command."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Mapping

from xlner.cli.common import err_console
from xlner.errors import InputError
from xlner.io.atomic import OutputPlan, check_outputs
from xlner.io.text import Corpus, read_corpus
from xlner.tags import DEFAULT_POLICY, POLICIES, check_choice

POLICY_HELP = "Invalid tag sequences (I- after O or another type): repair (read as seqeval does, count printed) or strict (error)."
LABEL_NAMES_HELP = "Names of integer JSONL ner_tags: O,B-PER,I-PER,... or entity types PER,ORG,... or a file (default: label_names.txt / dataset_info.json beside the data)."


def check_policy(policy: str | None) -> str:
    """The ``--policy`` value, lower-cased; ``None`` is the default (repair)."""
    if policy is None:
        return DEFAULT_POLICY
    return check_choice(str(policy), POLICIES, "policy")


def plan_outputs(outputs: Mapping[str, Any], inputs: Mapping[str, Any]) -> OutputPlan:
    """Check every output path against the inputs before any work (see :func:`xlner.io.atomic.check_outputs`).

    Two outputs on standard output (``-o - --details -``) are an error too.
    """
    from xlner.io.atomic import is_stdout

    streamed = [option for option, path in outputs.items() if isinstance(path, (str, Path)) and is_stdout(path)]
    if len(streamed) > 1:
        raise InputError(f"{' and '.join(streamed)} both write to standard output: give one of them a file")
    return check_outputs(outputs, inputs)


def note(message: str) -> None:
    """One plain line on stderr."""
    err_console.print(message, highlight=False, markup=False, soft_wrap=True)


def read_input(
    path: str | Path,
    *,
    format: str | None = "auto",
    labels: bool = True,
    policy: str = DEFAULT_POLICY,
    label_names: Any = None,
    labelled: str | None = None,
    **options: Any,
) -> Corpus:
    """Read a command input (an error when it has no sentence); print the repairs, if any.

    ``labelled``: the option name when labels are required (plain text is
    then an error, a file without any entity a warning).
    """
    corpus = read_corpus(path, format, labels=labels, policy=policy, label_names=label_names, **options)
    check_labels(path, corpus.format, corpus.repairs, lambda: bool(corpus.entities()), labels, labelled)
    return corpus


def check_labels(
    path: Any, format: str, repairs: int, has_entities: Callable[[], bool], labels: bool, labelled: str | None
) -> None:
    """Print the tag repairs of a read input; with ``labelled`` (the option that needs labels), plain text is an
    error and a file without any entity a warning."""
    if labels and repairs:
        note(
            f"note: repaired {repairs} invalid tags in {path} (an I- after O or another type starts an entity, as seqeval reads it; --policy strict to refuse)"
        )
    if labelled and labels:
        if format == "text":
            raise InputError(f"{labelled} needs labels (CoNLL or JSONL), but this is tokenized text without tags", path)
        if not has_entities():
            note(
                f'warning: {path} ({labelled}) has no entity at all: is it labelled? (JSONL needs "spans" or "ner_tags")'
            )


def same_tokens(gold: Corpus, target: Corpus) -> None:
    """Raise a 1-based ``FILE:LINE`` error unless ``gold`` and ``target`` hold the same tokens."""
    from xlner.io.conll import check_same_tokens

    check_same_tokens(gold, target)
