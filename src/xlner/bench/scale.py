"""Projection throughput and peak memory of the engines as the corpus grows.

    xlner bench scale [--sizes 10000 100000 1000000] [--shard-size 10000] [--method heuristic] [--runs local ray:1 ray:2]

The corpus is synthetic but built from real text: sentence ``n`` is pair
``n mod P`` of the en-de human translations in ../shared/data/parallel
(whitespace tokens), with synthetic entities (runs of capitalised English
words after the first, labels by hash) and a cheap deterministic alignment
(a word identical on both sides and unique there is linked; every other
English word gets the diagonal link), so the benchmark measures the engine
and the projection, not an aligner. The default method is the cheapest
(``heuristic``), so the engines' own overhead weighs most. Each shard is generated, projected (real
:class:`~xlner.pipeline.ProjectStep`) and written as JSONL (real
:class:`~xlner.engines.jobs.WriteStage`) on the local engine and on a fresh
local Ray instance with 1 and 2 workers per stage. Each run is its own
process; peak memory is the largest sum of RSS over the run's process tree
(driver, Ray's raylet/GCS and workers), sampled every 0.1 s. Table in
docs/benchmarks.md, section "scale".

``--cli`` measures ``xlner project`` itself on files instead: the same
synthetic pairs written as a source CoNLL file, a tokenized target text file
and a Pharaoh ``--alignment`` file (so no aligner runs), projected to CoNLL
in a fresh process per size; peak memory is that process's maximum RSS and
the time its wall time. Tables in docs/benchmarks.md, sections
"scale-project-METHOD".

    xlner bench scale --cli [--sizes 10000 100000 1000000] [--method heuristic] [--work-dir DIR]
                            [--long-target WORDS ...] [--long-line WORDS ...]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlner.bench.report import add_output_options, command_line, markdown_table, publish
from xlner.cli.project import CHUNK_SIZE
from xlner.project.candidates import LONG_TARGET

SIZES = [10_000, 100_000, 1_000_000]
RUNS = ["local", "ray:1", "ray:2"]
LABELS = ("PER", "ORG", "LOC")
MAX_BASE_PAIRS = 20_000


@functools.lru_cache(maxsize=1)
def base_pairs() -> list[tuple[list[str], list[str], list[list[Any]], list[list[int]]]]:
    """(en tokens, de tokens, synthetic spans, alignment) for up to MAX_BASE_PAIRS real en-de pairs (cached per process)."""
    from xlner.data import shared_data_dir

    root = shared_data_dir() / "parallel"
    out = []
    for en_file in sorted(root.glob("*/en-de/*.en")):
        de_file = en_file.with_suffix(".de")
        if not de_file.is_file():
            continue
        en_lines = en_file.read_text(encoding="utf-8").splitlines()
        de_lines = de_file.read_text(encoding="utf-8").splitlines()
        for en_line, de_line in zip(en_lines, de_lines):
            en, de = en_line.split(), de_line.split()
            if 3 <= len(en) <= 60 and 3 <= len(de) <= 60:
                out.append((en, de, synthetic_spans(en), synthetic_alignment(en, de)))
            if len(out) >= MAX_BASE_PAIRS:
                return out
    if not out:
        raise SystemExit(f"no en-de parallel text under {root}")
    return out


def synthetic_spans(tokens: list[str]) -> list[list[Any]]:
    """Runs of capitalised words after the first word, labelled by a hash of their text."""
    spans, k = [], 1
    while k < len(tokens):
        if tokens[k][:1].isupper():
            end = k
            while end < len(tokens) and tokens[end][:1].isupper():
                end += 1
            label = LABELS[zlib.crc32(" ".join(tokens[k:end]).encode()) % len(LABELS)]
            spans.append([k, end, label])
            k = end
        else:
            k += 1
    return spans


def synthetic_alignment(src: list[str], tgt: list[str]) -> list[list[int]]:
    """Identical unique words linked, every other source word linked to the diagonal."""
    positions: dict[str, list[int]] = {}
    for j, word in enumerate(tgt):
        positions.setdefault(word, []).append(j)
    links = []
    for i, word in enumerate(src):
        same = positions.get(word, [])
        j = same[0] if len(same) == 1 else round(i * (len(tgt) - 1) / max(1, len(src) - 1))
        links.append([i, j])
    return links


@dataclass
class SyntheticRead:
    """Shard description -> a :class:`xlner.pipeline.Batch` of synthetic aligned pairs (base corpus loaded once per process)."""

    def __call__(self, record: dict[str, Any]) -> Any:
        from xlner.pipeline import Batch
        from xlner.types import Sentence, SentencePair, spans_from_json

        base = base_pairs()
        numbers = range(record["first"], record["first"] + record["count"])
        rows = [base[n % len(base)] for n in numbers]
        batch = Batch([Sentence(r[1], [], str(n)) for n, r in zip(numbers, rows)], index=int(record["index"]))
        batch.pairs = [
            SentencePair(r[0], r[1], spans_from_json(r[2]), frozenset((i, j) for i, j in r[3]), id=str(n))
            for n, r in zip(numbers, rows)
        ]
        return batch


def run_one(size: int, engine: str, workers: int, shard_size: int, method: str, folder: Path) -> dict[str, Any]:
    """One measured run in this process: returns sentences/s and the driver's peak RSS."""
    import resource

    from xlner.bench.scale import (
        SyntheticRead,  # by its module name, not __main__, so Ray workers can import it
    )
    from xlner.engines import RayOptions, Stage, failure_of, run_stages
    from xlner.engines.jobs import WriteStage
    from xlner.pipeline import ProjectStep

    shards = [
        {"index": k, "first": first, "count": min(shard_size, size - first)}
        for k, first in enumerate(range(0, size, shard_size))
    ]
    paths = {s["index"]: str(folder / f"synthetic-{s['index']:05d}.jsonl") for s in shards}
    stages = [
        Stage("read", SyntheticRead()),
        Stage("project", ProjectStep(method, {})),
        Stage("write", WriteStage(paths, "jsonl", 0.0)),
    ]
    options = RayOptions(num_cpus=2, workers=workers)
    if engine == "ray":
        from xlner.engines.ray import init_ray

        init_ray(options)  # startup is not part of the measured time
    base_pairs()
    started = time.perf_counter()
    records = run_stages(shards, stages, engine=engine, retries=0, ray_options=options)
    seconds = time.perf_counter() - started
    failures = [f.describe() for f in map(failure_of, records) if f is not None]
    written = sum(r.get("sentences", 0) for r in records)
    return {
        "size": size,
        "engine": engine,
        "workers": workers,
        "seconds": seconds,
        "sentences": written,
        "failures": failures,
        "driver_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _tree_rss_mb(root: int) -> float:
    """Sum of RSS over ``root`` and its descendants (Linux /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid, ppid = int(entry), int(fields[1])
        children.setdefault(ppid, []).append(pid)
        rss[pid] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total / 2**20


def measure(size: int, run: str, shard_size: int, method: str) -> dict[str, Any]:
    """Run one configuration in a fresh process, sampling its process tree's memory."""
    engine, _, workers = run.partition(":")
    with tempfile.TemporaryDirectory(prefix="xlner-scale-") as tmp:
        command = [
            sys.executable,
            "-m",
            "xlner.bench.scale",
            "--run-one",
            str(size),
            engine,
            workers or "1",
            "--shard-size",
            str(shard_size),
            "--method",
            method,
            "--folder",
            tmp,
        ]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        peak = 0.0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.is_set():
                peak = max(peak, _tree_rss_mb(process.pid))
                done.wait(0.1)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        stdout, _ = process.communicate()
        done.set()
        sampler.join()
        if process.returncode != 0:
            raise SystemExit(f"{run} on {size} sentences failed (exit {process.returncode})")
        result = json.loads(stdout.strip().splitlines()[-1])
    result["tree_peak_mb"] = peak
    result["run"] = run
    return result


def write_inputs(size: int, folder: Path) -> dict[str, Path]:
    """The first ``size`` synthetic pairs as ``xlner project`` inputs: source CoNLL, target text, Pharaoh links."""
    from xlner.tags import spans_to_tags
    from xlner.types import Span

    base = base_pairs()
    paths = {name: folder / f"{size}.{name}" for name in ("src.conll", "tgt.txt", "links.pharaoh")}
    with (
        open(paths["src.conll"], "w", encoding="utf-8") as src,
        open(paths["tgt.txt"], "w", encoding="utf-8") as tgt,
        open(paths["links.pharaoh"], "w", encoding="utf-8") as links,
    ):
        for n in range(size):
            en, de, spans, alignment = base[n % len(base)]
            tags = spans_to_tags([Span(a, b, label) for a, b, label in spans], len(en))
            src.write("".join(f"{token}\t{tag}\n" for token, tag in zip(en, tags)) + "\n")
            tgt.write(" ".join(de) + "\n")
            links.write(" ".join(f"{i}-{j}" for i, j in sorted(map(tuple, alignment))) + "\n")
    return paths


def write_long_input(n_words: int, folder: Path) -> dict[str, Path]:
    """One pair: the first synthetic pair's source, and a target of ``n_words`` words (the target sentences end to end).

    The source words keep their synthetic links into the first target
    sentence; the last source word is also linked to the last target word.
    """
    from xlner.tags import spans_to_tags
    from xlner.types import Span

    base = base_pairs()
    en, de, spans, alignment = next(row for row in base if row[2])
    words: list[str] = []
    k = 0
    while len(words) < n_words:
        words += base[k % len(base)][1]
        k += 1
    del words[n_words:]
    words[: len(de)] = de
    links = sorted({*map(tuple, alignment), (len(en) - 1, n_words - 1)})
    tags = spans_to_tags([Span(a, b, label) for a, b, label in spans], len(en))
    paths = {name: folder / f"long.{name}" for name in ("src.conll", "tgt.txt", "links.pharaoh")}
    paths["src.conll"].write_text("".join(f"{t}\t{g}\n" for t, g in zip(en, tags)) + "\n", encoding="utf-8")
    paths["tgt.txt"].write_text(" ".join(words) + "\n", encoding="utf-8")
    paths["links.pharaoh"].write_text(" ".join(f"{i}-{j}" for i, j in links) + "\n", encoding="utf-8")
    return paths


def write_long_line(n_words: int, folder: Path) -> dict[str, Path]:
    """One pair: synthetic pairs joined end to end on both sides (spans and links shifted) to ``n_words`` target words."""
    from xlner.tags import spans_to_tags
    from xlner.types import Span

    base = base_pairs()
    en: list[str] = []
    de: list[str] = []
    spans: list[Span] = []
    links: list[tuple[int, int]] = []
    k = 0
    while len(de) < n_words:
        src, tgt, pair_spans, alignment = base[k % len(base)]
        spans += [Span(a + len(en), b + len(en), label) for a, b, label in pair_spans]
        links += [(i + len(en), j + len(de)) for i, j in sorted(map(tuple, alignment))]
        en += src
        de += tgt
        k += 1
    paths = {name: folder / f"line.{name}" for name in ("src.conll", "tgt.txt", "links.pharaoh")}
    tags = spans_to_tags(spans, len(en))
    paths["src.conll"].write_text("".join(f"{t}\t{g}\n" for t, g in zip(en, tags)) + "\n", encoding="utf-8")
    paths["tgt.txt"].write_text(" ".join(de) + "\n", encoding="utf-8")
    paths["links.pharaoh"].write_text(" ".join(f"{i}-{j}" for i, j in links) + "\n", encoding="utf-8")
    return paths


def measure_cli(
    size: int, method: str, work_dir: Path | None, long_target: int | None = None, line: bool = False
) -> dict[str, Any]:
    """``xlner project`` on ``size`` synthetic pairs in a fresh process; or one pair of a ``long_target``-word
    target (``line``: both sides joined, else one source sentence)."""
    import re
    import shutil

    if work_dir is not None:
        work_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlner-scale-cli-", dir=work_dir) as tmp:
        folder = Path(tmp)
        if long_target:
            paths = (write_long_line if line else write_long_input)(long_target, folder)
        else:
            paths = write_inputs(size, folder)
        output = folder / "out.conll"
        xlner = shutil.which("xlner", path=str(Path(sys.executable).parent)) or "xlner"
        command = [xlner, "project", "-s", str(paths["src.conll"]), "-t", str(paths["tgt.txt"])]
        command += ["--alignment", str(paths["links.pharaoh"]), "--method", method, "-o", str(output)]
        started = time.perf_counter()
        env = {**os.environ, "COLUMNS": "400"}  # the summary line unwrapped
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
        assert process.stdout is not None  # stdout=PIPE
        printed = process.stdout.read()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            raise SystemExit(f"xlner project on {size} pairs failed (exit {process.returncode}):\n{printed}")
        found = re.search(r"project ([0-9.]+) ms", printed)
        input_mb = sum(path.stat().st_size for path in paths.values()) / 2**20
    return {
        "size": size,
        "long_target": long_target,
        "line": line,
        "method": method,
        "seconds": seconds,
        "project_seconds": float(found.group(1)) / 1000 if found else float("nan"),
        "peak_mb": usage.ru_maxrss / 1024,
        "input_mb": input_mb,
    }


def render_cli(results: list[dict[str, Any]], command: str, method: str) -> str:
    """The markdown of ``--cli`` results (memory and time relative to the smallest size)."""
    first = next(r for r in results if not r["long_target"])
    rows = [
        [
            f"{r['size']:,}" if not r["long_target"] else f"1 ({_long_kind(r)} of {r['long_target']:,} words)",
            f"{r['input_mb']:.1f}",
            f"{r['seconds']:.1f}",
            f"{r['project_seconds']:.1f}",
            f"{r['size'] / r['seconds']:,.0f}" if not r["long_target"] else "-",
            f"{(r['seconds'] / r['size']) / (first['seconds'] / first['size']):.2f}" if not r["long_target"] else "-",
            f"{r['peak_mb']:.0f}",
            f"{r['peak_mb'] / first['peak_mb']:.2f}",
        ]
        for r in results
    ]
    table = markdown_table(
        [
            "sentence pairs",
            "input files (MB)",
            "wall seconds",
            "projecting (s)",
            "pairs/s",
            f"time per pair vs {first['size']:,}",
            "peak RSS (MB)",
            f"peak RSS vs {first['size']:,}",
        ],
        rows,
    )
    return (
        f"Command: `{command}`\n\n`xlner project --method {method}` end to end in a fresh process per size: synthetic "
        "en-de pairs from ../shared/data/parallel (as in the section above) read from a source CoNLL file, a target "
        "text file and a Pharaoh `--alignment` file (no aligner runs), written as CoNLL. Wall time includes "
        'start-up, the checking pass over every input and writing; "projecting" is the time inside projection '
        "(as `xlner project` prints it). Peak RSS is the process's maximum resident set. `xlner project` checks "
        "every input in one pass first (errors name FILE:LINE before any work), then reads, projects and writes "
        f"{CHUNK_SIZE:,} pairs at a time into the output's temporary file (xlner.project.stream); with an aligner "
        "instead of `--alignment`, the aligner (eflomal) aligns the whole input at once and holds its token lists "
        "until it is done, and projection after it streams the same way. "
        f"{os.cpu_count()} CPU cores shared with other jobs.{_long_note(results)}\n\n{table}\n"
    )


def _long_kind(result: dict[str, Any]) -> str:
    return "line" if result.get("line") else "target"


def _long_note(results: list[dict[str, Any]]) -> str:
    if not any(r["long_target"] for r in results):
        return ""
    return (
        f" Targets over {LONG_TARGET:,} words are cut into pieces after clause ends where no link or entity "
        "crosses (xlner.project.pieces); a piece still over that keeps only candidates near the alignment "
        '(xlner.project.candidates). A "target of N words" row is one pair that cannot be cut: the first '
        "synthetic pair with an entity as the source and N words of target sentences end to end as the target "
        "(links into its first sentence, and the last source word also to the last target word), so it measures "
        'the candidate cap. A "line of N words" row is one pair that is cut: synthetic pairs joined end to end on '
        "both sides (entities, spans and links throughout) until the target has N words."
    )


def render(results: list[dict[str, Any]], command: str, shard_size: int, method: str) -> str:
    baseline = {r["size"]: r["sentences"] / r["seconds"] for r in results if r["run"] == "local"}
    rows = []
    for r in results:
        rate = r["sentences"] / r["seconds"]
        overhead = (
            f"{(baseline[r['size']] / rate - 1) * 100:+.0f}%" if r["size"] in baseline and r["run"] != "local" else "-"
        )
        rows.append(
            [
                f"{r['size']:,}",
                r["run"],
                f"{r['seconds']:.1f}",
                f"{rate:,.0f}",
                overhead,
                f"{r['driver_peak_mb']:.0f}",
                f"{r['tree_peak_mb']:.0f}",
            ]
        )
    table = markdown_table(
        [
            "sentences",
            "engine",
            "seconds",
            "sentences/s",
            "time vs local",
            "driver peak RSS (MB)",
            "all processes peak RSS (MB)",
        ],
        rows,
    )
    cpu = os.cpu_count()
    return (
        f"Command: `{command}`\n\nProjection only (method `{method}`, shards of {shard_size:,} synthetic en-de pairs from "
        f"../shared/data/parallel; read -> project -> write JSONL), {cpu} CPU cores shared with other jobs, Ray {_ray_version()} "
        'local instance with `num_cpus=2` (startup not timed). "ray:N" = N workers per stage. "all processes" sums RSS over '
        "the driver and every process it started (Ray's GCS, raylet and workers; shared object-store pages count once per "
        f"process that maps them).\n\n{table}\n"
    )


def _ray_version() -> str:
    try:
        import ray

        return ray.__version__
    except ImportError:
        return "(not installed)"


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark (``argv`` as on the command line) and write its section."""
    parser = argparse.ArgumentParser(prog="xlner bench scale", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=SIZES)
    parser.add_argument("--runs", nargs="+", default=RUNS, help="local, ray:1, ray:2 (engine:workers)")
    parser.add_argument("--shard-size", type=int, default=10_000)
    parser.add_argument(
        "--method",
        default="heuristic",
        help="projection method (default heuristic: the cheapest, so engine overhead shows most)",
    )
    add_output_options(parser)
    parser.add_argument("--cli", action="store_true", help="measure `xlner project` on files instead of the engines")
    parser.add_argument(
        "--long-target",
        nargs="*",
        type=int,
        default=[],
        metavar="WORDS",
        help="with --cli: also one pair whose target has WORDS words (candidate cap of long targets)",
    )
    parser.add_argument(
        "--long-line",
        nargs="*",
        type=int,
        default=[],
        metavar="WORDS",
        help="with --cli: also one pair of synthetic pairs joined end to end to WORDS target words (pieces)",
    )
    parser.add_argument("--work-dir", type=Path, help="folder for the --cli input and output files (default: temp)")
    parser.add_argument("--run-one", nargs=3, metavar=("SIZE", "ENGINE", "WORKERS"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_one:
        size, engine, workers = args.run_one
        print(
            json.dumps(run_one(int(size), engine, int(workers), args.shard_size, args.method, args.folder)), flush=True
        )
        return
    if args.cli:
        cli_results = []
        cases = [(n, None, False) for n in args.sizes] + [(1, n, False) for n in args.long_target]
        for size, long_target, line in cases + [(1, n, True) for n in args.long_line]:
            result = measure_cli(size, args.method, args.work_dir, long_target, line)
            print(
                f"{size:>9,} {args.method} {result['seconds']:8.1f} s (projecting {result['project_seconds']:.1f} s) "
                f"peak {result['peak_mb']:.0f} MB",
                flush=True,
            )
            cli_results.append(result)
        markdown = render_cli(cli_results, command_line("scale", argv), args.method)
        title = f"Scale: `xlner project` memory and time, streaming (`{args.method}`, synthetic en-de)"
        publish(f"scale-project-{args.method}", title, markdown, args)
        return
    results = []
    for size in args.sizes:
        for run in args.runs:
            result = measure(size, run, args.shard_size, args.method)
            print(
                f"{size:>9,} {run:<6} {result['seconds']:8.1f} s {result['sentences'] / result['seconds']:9,.0f} sent/s "
                f"peak {result['tree_peak_mb']:.0f} MB",
                flush=True,
            )
            if result["failures"]:
                raise SystemExit("failed shards:\n" + "\n".join(result["failures"]))
            results.append(result)
    markdown = render(results, command_line("scale", argv), args.shard_size, args.method)
    partial = args.sizes != SIZES or args.runs != RUNS
    publish("scale", "Scale: projection throughput and memory, local vs Ray (synthetic en-de)", markdown, args, partial)


if __name__ == "__main__":
    main()
