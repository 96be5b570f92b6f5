"""How much of a long document's work survives a kill: --resume after SIGKILL half-way.

A file of about a million tokens (samples/ paragraphs, shuffled per copy) is summarized into
--output-dir by a random model of t5-small's shape (or, with --tiny, the tests' tiny T5, whose
own time is so small that reading and tokenizing the book dominate), greedy, 4-token chunk and
final summaries. Three whole processes: a cold run; a run killed with SIGKILL once half of its chunk summaries are kept in
the output folder; and `--resume` after it, timed from start to exit. Prints the resumed run's
time against the cold run's, how many chunk summaries it reused, and whether its summary is
the cold run's.

    python benchmarks/bench_resume.py [--tokens 1000000] [--threads 2] [--tiny]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from tiny_t5 import SAMPLES, build_tiny_t5  # noqa: E402


def book(path: Path, tokens: int, tokenizer) -> int:
    """The samples' paragraphs, shuffled and numbered per copy so that no two chunks are the
    same (a repeated chunk is generated once), until the file holds about `tokens` tokens."""
    import random

    paragraphs = [p for f in sorted(SAMPLES.rglob("*")) if f.suffix in (".txt", ".md")
                  for p in f.read_text(encoding="utf-8").split("\n\n") if p.strip()]
    per_copy = len(tokenizer("\n\n".join(paragraphs), add_special_tokens=False).input_ids)
    copies = max(1, tokens // per_copy)
    rng = random.Random(0)
    parts = []
    for copy in range(copies):
        rng.shuffle(paragraphs)
        parts.extend(f"Part {copy}.{index}. {paragraph}" for index, paragraph in enumerate(paragraphs))
    path.write_text("\n\n".join(parts), encoding="utf-8")
    return len(tokenizer(path.read_text(encoding="utf-8"), add_special_tokens=False).input_ids)


def kept(out: Path) -> int:
    return sum(len(p.read_bytes().splitlines()) for p in (out / ".summarize-partial").glob("*.jsonl"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--tiny", action="store_true", help="the tests' tiny T5 instead of t5-small's shape")
    args = parser.parse_args()
    from transformers import AutoTokenizer

    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "TOKENIZERS_PARALLELISM": "false"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env["SUMMARIZER_CACHE"] = str(tmp / "cache")
        if args.tiny:
            model = build_tiny_t5(tmp / "tiny-t5")
        else:
            from bench_speed import shaped_model

            model, _ = shaped_model("t5", tmp / "t5-small-shaped")
        (tmp / "in").mkdir()
        tokens = book(tmp / "in" / "book.txt", args.tokens, AutoTokenizer.from_pretrained(model))
        flags = ["--model", str(model), "--num-beams", "1", "--max-length", "4", "--min-length", "4",
                 "--chunk-max-length", "4", "--chunk-min-length", "4", "--threads", str(args.threads), "-q", "-f", "json"]
        command = [sys.executable, "-m", "summarizer", str(tmp / "in" / "book.txt"), *flags]
        subprocess.run([*command[:3], str(SAMPLES / "short.txt"), *flags], env=env, check=True, stdout=subprocess.DEVNULL)

        started = time.perf_counter()
        subprocess.run([*command, "-o", str(tmp / "cold")], env=env, check=True)
        cold = time.perf_counter() - started
        cold_record = json.loads((tmp / "cold" / "book.txt.json").read_text(encoding="utf-8"))
        chunks = cold_record["chunks"]

        killed = subprocess.Popen([*command, "-o", str(tmp / "killed")], env=env)
        while kept(tmp / "killed") < chunks // 2:
            if killed.poll() is not None:
                raise SystemExit("the run finished before half of its chunks were kept")
            time.sleep(0.01)
        killed.send_signal(signal.SIGKILL)
        killed.wait()
        kept_total = kept(tmp / "killed")

        started = time.perf_counter()
        resumed_run = subprocess.run([*command, "-o", str(tmp / "killed"), "--resume"], env=env, check=True,
                                     stderr=subprocess.PIPE, text=True)
        resumed = time.perf_counter() - started
        same = json.loads((tmp / "killed" / "book.txt.json").read_text(encoding="utf-8"))["summary"] == cold_record["summary"]
    reused = resumed_run.stderr.split("resumed: ")[-1].split(" chunk")[0] if "chunk summaries" in resumed_run.stderr else "0"
    shape = "the tiny T5" if args.tiny else "t5-small's shape"
    print(f"one file, {tokens:,} tokens, {chunks:,} first-level chunks, {shape}; killed with {kept_total:,} chunk summaries kept")
    print(f"{'run':<28} {'seconds':>8} {'x cold':>7}")
    print(f"{'cold':<28} {cold:>8.1f} {1:>7.2f}")
    print(f"{'--resume after SIGKILL':<28} {resumed:>8.1f} {resumed / cold:>7.2f}")
    print(f"chunk summaries reused: {reused}; summary identical to the cold run's: {'yes' if same else 'no'}")


if __name__ == "__main__":
    main()
