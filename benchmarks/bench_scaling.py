"""Time and peak memory as inputs grow: one text file of 3, 30 and 100 MB; 400 and 4,000 files.

Each run is `summarize` in its own process on the tiny test model (so the model's own memory
is small and what grows with the input shows), greedy, 4 tokens per summary; peak memory is the
process's maximum resident set size (`wait4`'s ru_maxrss); "first s" is when the first summary
reached stdout. Ratios are against the 3 MB file measured in the same run: time per input
token net of start-up, and peak memory (a big file is read as a bounded stream, so its peak
should not grow with its size).

    python benchmarks/bench_scaling.py [--mb 3 30 100] [--files 400 4000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from tiny_t5 import SAMPLES, build_tiny_t5  # noqa: E402

FLAGS = ["--max-length", "4", "--min-length", "4", "--num-beams", "1", "--chunk-max-length", "4", "-q", "-f", "jsonl"]


def corpus_text() -> str:
    return "\n\n".join(p.read_text(encoding="utf-8") for p in sorted(SAMPLES.rglob("*")) if p.suffix in (".txt", ".md"))


def write_megabytes(path: Path, tokenizer, megabytes: float) -> int:
    """A text of at most `megabytes` MB (10**6 bytes): the samples repeated as numbered parts,
    written a part at a time. Returns its tokens (a part's, counted once, times the parts)."""
    unit = corpus_text()
    per_unit = len(tokenizer(unit, add_special_tokens=False).input_ids)
    budget, copies = int(megabytes * 10**6), 0
    with path.open("wb") as out:
        while len(part := f"Part {copies}.\n\n{unit}\n\n".encode()) <= budget:
            out.write(part)
            budget -= len(part)
            copies += 1
    return copies * per_unit


def measure(command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, seconds to the first summary on stdout, peak RSS in MB) of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE)
    process.stdout.readline()
    first = time.perf_counter() - started
    for _ in process.stdout:  # drain, so the process never blocks on a full pipe
        pass
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"{' '.join(command)} exited with {status}")
    return wall, first, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, nargs="+", default=[3, 30, 100])
    parser.add_argument("--files", type=int, nargs="+", default=[400, 4000])
    args = parser.parse_args()
    from transformers import AutoTokenizer

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = build_tiny_t5(tmp / "tiny")
        tokenizer = AutoTokenizer.from_pretrained(model)
        cli = [sys.executable, "-m", "summarizer", "--model", str(model), *FLAGS, "--max-input-size", f"{max(args.mb):g}M"]
        one = tmp / "one.txt"
        one.write_text("One short sentence.", encoding="utf-8")
        measure([*cli, str(one)])  # the first run converts the model for CTranslate2: not start-up
        startup = measure([*cli, str(one)])[0]
        rows = []
        for megabytes in args.mb:
            path = tmp / f"doc{megabytes:g}.txt"
            tokens = write_megabytes(path, tokenizer, megabytes)
            rows.append((f"1 file, {megabytes:g} MB, {tokens:,} tokens", tokens, *measure([*cli, str(path)])))
        paragraphs = [p for p in corpus_text().split("\n\n") if len(p) > 200]
        for count in args.files:
            folder = tmp / f"files{count}"
            folder.mkdir()
            for i in range(count):
                (folder / f"{i:05d}.txt").write_text(paragraphs[i % len(paragraphs)], encoding="utf-8")
            tokens = sum(len(tokenizer(paragraphs[i % len(paragraphs)], add_special_tokens=False).input_ids) for i in range(count))
            rows.append((f"{count:,} files", tokens, *measure([*cli, str(folder)])))
    # Time per token net of start-up (imports, model load: a one-sentence run), so a small
    # input's fixed cost does not flatter the large ones.
    base_rate = (rows[0][2] - startup) / rows[0][1]
    base_peak = rows[0][4]
    print(f"tiny T5, greedy, 4-token summaries; whole process; start-up {startup:.1f} s (a one-sentence run); "
          "time per token net of start-up; ratios against the first row")
    print(f"{'input':<36} {'seconds':>7} {'first s':>7} {'us/token':>8} {'x time/token':>12} {'peak MB':>7} {'x peak':>6}")
    for label, tokens, wall, first, peak in rows:
        rate = (wall - startup) / tokens
        per_token = f"{rate * 1e6:>8.1f} {rate / base_rate:>12.2f}" if wall > 2 * startup else f"{'-':>8} {'-':>12}"  # mostly start-up
        print(f"{label:<36} {wall:>7.1f} {first:>7.1f} {per_token} {peak:>7.0f} {peak / base_peak:>6.2f}")


if __name__ == "__main__":
    main()
