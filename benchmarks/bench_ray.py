"""The ray engine with 1, 2, ... model replicas on this machine, against the local engine.

A random-weight model with t5-small's exact shape (speed depends on shape, not weights) and a
512-token window, the tokenizer the tests train on samples/, every chunk forced to the same
output length (min = max new tokens) so each configuration does the same work, and a folder
of documents cut from samples/. One local Ray (all CPUs) serves every configuration; each
run starts its replicas afresh (a model load each), as a real run does. Prints wall seconds,
seconds to the first finished document, and the speed-up over the first replica count,
measured in the same run.

    python benchmarks/bench_ray.py [--replicas 1 2] [--documents 40] [--new-tokens 32] [--threads N] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from tiny_t5 import SAMPLES, T5_SMALL_SHAPE, build_tiny_t5  # noqa: E402

from summarizer.engines import Prepare  # noqa: E402
from summarizer.engines.ray import run_on_ray  # noqa: E402
from summarizer.readers import discover  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--documents", type=int, default=40)
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--threads", type=int, default=0, help="torch threads per replica (0: its share of the CPUs)")
    parser.add_argument("--no-local", action="store_true", help="skip the local engine's run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import ray

    with tempfile.TemporaryDirectory() as tmp:
        model = str(build_tiny_t5(Path(tmp) / "t5-small-shaped", shape=T5_SMALL_SHAPE, window=512))
        sources = discover([str(_documents(Path(tmp) / "docs", args.documents))]).sources
        layers = ({
            "model": model, "device": "cpu", "dtype": "float32", "num_beams": 1, "prefix": "summarize: ",
            "max_length": args.new_tokens, "min_length": args.new_tokens, **({"threads": args.threads} if args.threads else {}),
        },)
        results = {}
        if not args.no_local:
            results["local"] = _timed(lambda: _local(sources, layers))
        ray.init(  # workers import this checkout, wherever the script is run from
            include_dashboard=False, log_to_driver=False, logging_level="ERROR",
            runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
        )
        try:
            for count in args.replicas:
                results[f"ray x{count}"] = _timed(lambda: run_on_ray(sources, Prepare(), layers, None, replicas=count))
        finally:
            ray.shutdown()
    baseline = results[f"ray x{args.replicas[0]}"]["seconds"]
    for row in results.values():
        row["speedup"] = baseline / row["seconds"]
    if args.json:
        print(json.dumps({"cpus": os.cpu_count(), "threads": args.threads, "documents": args.documents,
                          "new_tokens": args.new_tokens, "results": results}, indent=2))
        return
    threads = f"{args.threads} torch threads per replica" if args.threads else "each replica's share of the CPUs as threads"
    print(f"{args.documents} documents, {results[f'ray x{args.replicas[0]}']['chunks']} chunks, "
          f"{args.new_tokens} forced tokens per chunk, {os.cpu_count()} CPUs, {threads}, load average {os.getloadavg()[0]:.1f}")
    print(f"{'engine':>8} {'seconds':>8} {'first doc s':>12} {'docs/s':>7} {'speed-up vs ray x' + str(args.replicas[0]):>21}")
    for name, row in results.items():
        print(f"{name:>8} {row['seconds']:>8.1f} {row['first']:>12.1f} {args.documents / row['seconds']:>7.2f} {row['speedup']:>20.2f}x")


def _documents(folder: Path, count: int) -> Path:
    """`count` documents of 150 to 900 words cut from the samples: one to three chunks each."""
    words = " ".join(path.read_text(encoding="utf-8") for path in sorted(SAMPLES.glob("*.*")) if path.suffix in (".txt", ".md")).split()
    rng = random.Random(0)
    folder.mkdir(parents=True)
    for i in range(count):
        n = rng.choice([150, 300, 600, 900])
        start = rng.randrange(len(words) - n)
        (folder / f"doc{i:03d}.txt").write_text(" ".join(words[start:start + n]) + "\n", encoding="utf-8")
    return folder


def _local(sources, layers):
    """The local engine, as `summarize --engine local` runs it."""
    from summarizer.engines.local import run_local
    from summarizer.commands.common import open_summarizer

    summarizer = open_summarizer(layers)
    return run_local(sources, Prepare(), summarizer)


def _timed(run) -> dict:
    started = time.perf_counter()
    first = None
    chunks = 0
    for outcome in run():
        first = first if first is not None else time.perf_counter() - started
        chunks += outcome.record.chunks if outcome.record is not None else 0
    return {"seconds": time.perf_counter() - started, "first": first, "chunks": chunks}


if __name__ == "__main__":
    main()
