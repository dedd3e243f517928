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
:class:`~xlner.engines.jobs.ProjectStage`) and written as JSONL (real
:class:`~xlner.engines.jobs.WriteStage`) on the local engine and on a fresh
local Ray instance with 1 and 2 workers per stage. Each run is its own
process; peak memory is the largest sum of RSS over the run's process tree
(driver, Ray's raylet/GCS and workers), sampled every 0.1 s. Table in
docs/benchmarks.md, section "scale".
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
    """Shard description -> its synthetic pairs (the base corpus is loaded once per process)."""

    def __call__(self, record: dict[str, Any]) -> dict[str, Any]:
        base = base_pairs()
        rows = [base[n % len(base)] for n in range(record["first"], record["first"] + record["count"])]
        return {
            "index": record["index"],
            "ids": [str(n) for n in range(record["first"], record["first"] + record["count"])],
            "src_tokens": [r[0] for r in rows],
            "tgt_tokens": [r[1] for r in rows],
            "src_spans": [r[2] for r in rows],
            "alignments": [r[3] for r in rows],
        }


def run_one(size: int, engine: str, workers: int, shard_size: int, method: str, folder: Path) -> dict[str, Any]:
    """One measured run in this process: returns sentences/s and the driver's peak RSS."""
    import resource

    from xlner.bench.scale import (
        SyntheticRead,  # by its module name, not __main__, so Ray workers can import it
    )
    from xlner.engines import RayOptions, Stage, failure_of, run_stages
    from xlner.engines.jobs import ProjectStage, WriteStage
    from xlner.pipeline import Context

    shards = [
        {"index": k, "first": first, "count": min(shard_size, size - first)}
        for k, first in enumerate(range(0, size, shard_size))
    ]
    paths = {s["index"]: str(folder / f"synthetic-{s['index']:05d}.jsonl") for s in shards}
    ctx = Context(use_cache=False)
    stages = [
        Stage("read", SyntheticRead()),
        Stage("project", ProjectStage(method, {}, ctx)),
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
    parser.add_argument("--run-one", nargs=3, metavar=("SIZE", "ENGINE", "WORKERS"), help=argparse.SUPPRESS)
    parser.add_argument("--folder", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_one:
        size, engine, workers = args.run_one
        print(
            json.dumps(run_one(int(size), engine, int(workers), args.shard_size, args.method, args.folder)), flush=True
        )
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
