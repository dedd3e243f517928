"""Word-alignment benchmark: eflomal speed, and agreement with published alignments.

(a) Time to align Europarl-NER en-de / en-es (799 pairs) with xlner's eflomal,
    without and with the extra parallel text of ``parallel/`` (all corpora of
    the pair), and the time per 1,000 input pairs.
(b) Link precision / recall / F1 of xlner's eflomal (grow-diag-final-and)
    against the alignments published with Easy-Label-Projection
    (``conll-projection/``: CoNLL-2003 English test -> DeepL translations to
    de/es/it; awesome-align, SimAlign itermax, fast_align and mgiza
    grow-diag-final-and). The published alignment is the reference; sentences
    where it points outside the sentences (a few, tokenization differences)
    and ``-DOCSTART-`` lines are left out.

Prints a markdown table and replaces its own section of docs/benchmarks.md
(between ``<!-- alignment:start -->`` and ``<!-- alignment:end -->``)::

    xlner bench alignment            # all of it
    xlner bench alignment --no-write # print only
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import time
from pathlib import Path
from typing import Any

from xlner.align.eflomal import EflomalAligner
from xlner.bench.report import add_output_options, command_line, publish
from xlner.data import shared_data_dir
from xlner.io.conll import read_conll_tokens
from xlner.io.pharaoh import read_pharaoh

#: What this benchmark measures: eflomal on words, grow-diag-final-and (as the published fast_align / mgiza
#: references), not the offline recipe's subword vote.
WORD_LEVEL: dict[str, Any] = {"symmetrization": "grow-diag-final-and", "subword": "none", "subword_vote": False}

REFERENCES = {
    "awesome-align": "DeepL.50000.awesome.test.talp",
    "SimAlign itermax": "DeepL.50000.simalign.test.itermax.talp",
    "fast_align gdfa": "DeepL.50000.fast_align.test.grow_diag_final-and.talp",
    "mgiza gdfa": "DeepL.50000.mgiza.test.grow_diag_final-and.talp",
}


def conll_blocks(path: Path) -> list[list[str]]:
    """First-column tokens of each blank-line separated block (``-DOCSTART-`` blocks kept, for line counts)."""
    blocks = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        tokens = [line.split()[0] for line in block.split("\n") if line.strip()]
        if tokens:
            blocks.append(tokens)
    return blocks


def prf(pred, gold) -> tuple[float, float, float]:
    hits = sum(len(p & g) for p, g in zip(pred, gold))
    n_pred, n_gold = sum(map(len, pred)), sum(map(len, gold))
    precision = hits / n_pred if n_pred else 0.0
    recall = hits / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children (eflomal)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timing(data: Path, langs: list[str]) -> list[str]:
    rows = [
        "| pair | extra parallel pairs | wall time (s) | CPU time (s) | wall s per 1,000 input pairs |",
        "|---|---:|---:|---:|---:|",
    ]
    for lang in langs:
        en = read_conll_tokens(data / "europarl-ner" / "en.test.conll").sentences
        tgt = read_conll_tokens(data / "europarl-ner" / f"{lang}.test.conll").sentences
        pairs = [(s.tokens, t.tokens) for s, t in zip(en, tgt)]
        for extra in ([], [data / "parallel"]):
            aligner = EflomalAligner(extra_parallel=extra, src_lang="en", tgt_lang=lang, progress=False, **WORD_LEVEL)
            started, cpu_started = time.perf_counter(), cpu_seconds()
            n_extra = len(aligner.extra_pairs())
            aligner.align(pairs)
            seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
            rows.append(
                f"| en-{lang} ({len(pairs)} pairs) | {n_extra:,} | {seconds:.1f} | {cpu:.1f} | {1000 * seconds / len(pairs):.1f} |"
            )
            print(rows[-1], flush=True)
    return rows


def agreement(data: Path, langs: list[str]) -> list[str]:
    root = data / "conll-projection"
    src_all = conll_blocks(root / "original" / "en" / "en.conll.test.tsv")
    rows = [
        "| en→ | xlner eflomal | extra pairs | vs | precision | recall | F1 | pairs |",
        "|---|---|---:|---|---:|---:|---:|---:|",
    ]
    for lang in langs:
        tgt_all = conll_blocks(root / "automatic_projections" / f"en2{lang}" / "DeepL.50000.awesome.test.tsv")
        keep = [n for n, s in enumerate(src_all) if s != ["-DOCSTART-"]]
        pairs = [(src_all[n], tgt_all[n]) for n in keep]
        for extra in ([], [data / "parallel"]):
            aligner = EflomalAligner(extra_parallel=extra, src_lang="en", tgt_lang=lang, progress=False, **WORD_LEVEL)
            started = time.perf_counter()
            ours = dict(zip(keep, aligner.align(pairs)))
            seconds = time.perf_counter() - started
            label = f"gdfa ({seconds:.0f} s)"
            for name, file in REFERENCES.items():
                reference = read_pharaoh(root / "automatic_projections" / "alignments" / f"en2{lang}" / file)
                usable = [n for n in keep if all(i < len(src_all[n]) and j < len(tgt_all[n]) for i, j in reference[n])]
                p, r, f = prf([ours[n] for n in usable], [reference[n] for n in usable])
                rows.append(
                    f"| {lang} | {label} | {len(aligner.extra_pairs()):,} | {name} | {p:.3f} | {r:.3f} | {f:.3f} | {len(usable)} |"
                )
                print(rows[-1], flush=True)
    return rows


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (``argv`` as on the command line) and write its section."""
    parser = argparse.ArgumentParser(prog="xlner bench alignment", description=__doc__.split("\n")[0])
    parser.add_argument("--time-langs", nargs="*", default=["de", "es"])
    parser.add_argument("--agreement-langs", nargs="*", default=["de", "es", "it"])
    add_output_options(parser)
    args = parser.parse_args(argv)
    data = shared_data_dir()
    command = command_line("alignment", argv)
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs (shared with other jobs while measured)"
    parts = [
        f"Command: `{command.strip()}`; machine: {machine}; eflomal defaults "
        "(2 samplers, automatic iterations, seed 0, lowercased, grow-diag-final-and).",
        "",
        "### Alignment time, Europarl-NER test (799 pairs)",
        "",
        *timing(data, args.time_langs),
        "",
        "Extra parallel text: every `parallel/*/en-<lang>/*` split (tokenized by `xlner.align.tokenize`). "
        "Wall times were measured while other jobs shared the 2 CPUs; CPU time (reading, tokenizing and both "
        "eflomal directions) is the load-independent figure: on 2 idle cores the wall time is about CPU time / 2.",
        "",
        "### Agreement with published alignments (CoNLL-2003 en test → DeepL de/es/it)",
        "",
        *agreement(data, args.agreement_langs),
        "",
        "The published alignment is the reference (precision = share of xlner's links it also has).",
    ]
    partial = args.time_langs != ["de", "es"] or args.agreement_langs != ["de", "es", "it"]
    publish("alignment", "Word alignment (xlner eflomal)", "\n".join(parts), args, partial)


if __name__ == "__main__":
    main()
