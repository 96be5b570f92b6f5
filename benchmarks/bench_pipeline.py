"""Batched generation vs one chunk at a time, through the real pipeline.

A random-weight model with t5-small's exact shape (speed depends on shape, not on weights),
the tokenizer the tests train on samples/, and every chunk forced to the same output length
(min = max new tokens) so each configuration does the same work. Runs the samples folder
(4 documents of very different lengths) with each batch size and prints seconds and the
speed-up over --batch-size 1 measured in the same run.

    python benchmarks/bench_pipeline.py [--batch-sizes 1 4 8] [--new-tokens 32] [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from tiny_t5 import SAMPLES, T5_SMALL_SHAPE, build_tiny_t5  # noqa: E402

from summarizer.config import build_settings  # noqa: E402
from summarizer.device import resolve  # noqa: E402
from summarizer.readers import collect  # noqa: E402
from summarizer.backends import open_backend
from summarizer.models.loading import load_model
from summarizer.pipeline import Pipeline  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--new-tokens", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    documents = collect([str(SAMPLES)]).documents
    with tempfile.TemporaryDirectory() as tmp:
        model_dir = build_tiny_t5(Path(tmp) / "t5-small-shaped", shape=T5_SMALL_SHAPE, window=512)
        loaded = load_model(str(model_dir), resolve("cpu", "float32"))
        base = build_settings({"max_length": args.new_tokens, "min_length": args.new_tokens, "num_beams": 1, "prefix": "summarize: "})
        results = {}
        for batch_size in args.batch_sizes:
            settings = replace(base, batch_size=batch_size)
            summarizer = Pipeline(settings, loaded, open_backend(loaded, settings))
            list(summarizer.run(documents[:1]))  # warm-up
            times = []
            for _ in range(args.repeats):
                started = time.perf_counter()
                outputs = list(summarizer.run(documents))
                times.append(time.perf_counter() - started)
            chunks = sum(summary.chunks for _, summary in outputs)
            results[batch_size] = {"seconds": statistics.median(times), "chunks": chunks}
    baseline = results[args.batch_sizes[0]]["seconds"]
    for row in results.values():
        row["speedup"] = baseline / row["seconds"]
    if args.json:
        print(json.dumps({"threads": torch.get_num_threads(), "new_tokens": args.new_tokens, "results": results}, indent=2))
        return
    print(f"{len(documents)} documents, {args.new_tokens} forced tokens per chunk, {torch.get_num_threads()} threads, median of {args.repeats}")
    print(f"{'batch':>6} {'chunks':>7} {'seconds':>9} {'speed-up vs batch ' + str(args.batch_sizes[0]):>22}")
    for batch_size, row in results.items():
        print(f"{batch_size:>6} {row['chunks']:>7} {row['seconds']:>9.2f} {row['speedup']:>21.2f}x")


if __name__ == "__main__":
    main()
