"""When do summaries of a folder of long documents appear? This scheduler against the one before.

Workload: book chapters (six of 800-2,300 words cut from samples/, each repeated), summarized
into --output-dir by a random model of t5-small's shape with t5-small's own defaults. Each run is
a whole process; the output folder is polled every 50 ms, and each file's first appearance is
taken as its completion time, as a fraction of the run's total time. The baseline is the same
command run by the code of BASELINE_REF (the commit before the oldest-document-first
scheduler), checked out from git into a temporary folder.

Two cases, as the issue measured them:
  greedy: 96 chapters, 32-token chunk and final summaries;
  beams: 24 chapters, 4 beams, the model's own chunk lengths, 32-token final summaries
         (time to the first file; the baseline is stopped after --cap seconds).

    python benchmarks/bench_schedule.py [--case greedy|beams|both] [--baseline-ref REF] [--cap 300]
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

from bench_speed import shaped_model  # noqa: E402

BASELINE_REF = "9de38a6"  # the last commit with the lookahead scheduler
CHAPTER_WORDS = (800, 1100, 1400, 1700, 2000, 2300)


def chapters(folder: Path, copies: int) -> int:
    """Six chapters of CHAPTER_WORDS words from the samples' prose, each `copies` times."""
    words = " ".join(
        p.read_text(encoding="utf-8") for p in sorted((ROOT / "samples").rglob("*")) if p.suffix in (".txt", ".md")
    ).split()
    folder.mkdir(parents=True, exist_ok=True)
    count = 0
    for copy in range(copies):
        start = 0
        for index, size in enumerate(CHAPTER_WORDS):
            text = " ".join(words[(start + k) % len(words)] for k in range(size))
            paragraphs = [" ".join(text.split()[i:i + 120]) for i in range(0, size, 120)]
            (folder / f"ch{copy:02d}-{index}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
            start += size
            count += 1
    return count


def baseline_tree(ref: str, into: Path) -> Path:
    """The package as it was at `ref`, extracted from git."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "summarizer"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def timed_run(code: Path, args: list[str], out: Path, expected: int, env: dict[str, str], cap: float | None) -> dict:
    """Run summarize from `code`; the time each output file appeared, and the total."""
    command = [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv.pop(1)); from summarizer.cli import main; main()",
               str(code), *args, "-o", str(out), "-q"]
    seen: dict[str, float] = {}
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while process.poll() is None:
        now = time.perf_counter() - started
        if out.is_dir():
            for entry in os.scandir(out):
                if entry.name.endswith(".txt") and not entry.name.startswith("."):
                    seen.setdefault(entry.name, now)
        if cap is not None and now > cap:
            process.kill()
            process.wait()
            break
        time.sleep(0.05)
    total = time.perf_counter() - started
    if process.returncode not in (0, -9):
        raise SystemExit(f"run failed: {process.stderr.read().decode()[-2000:]}")
    times = sorted(seen.values())
    return {"total": total, "times": times, "done": len(times), "expected": expected, "capped": len(times) < expected}


def share(times: list[float], fraction: float, total: float) -> str:
    index = max(0, int(round(fraction * len(times))) - 1)
    return f"{times[index] / total:.0%}" if times else "-"


def report(label: str, new: dict, old: dict) -> None:
    print(f"{label}: {new['expected']} documents")
    print(f"{'scheduler':<26} {'total s':>8} {'first s':>8} {'first':>6} {'half':>6} {'90%':>6} {'done':>9}")
    for name, run in (("oldest document first", new), (f"before ({BASELINE_REF})", old)):
        first = run["times"][0] if run["times"] else float("nan")
        total = run["total"]
        print(f"{name:<26} {total:>8.1f} {first:>8.1f} {share(run['times'], 1 / run['expected'], total):>6} "
              f"{share(run['times'], 0.5, total):>6} {share(run['times'], 0.9, total):>6} "
              f"{run['done']:>4}/{run['expected']}{' (stopped)' if run['capped'] else ''}")
    if not (new["capped"] or old["capped"]):
        print(f"total time, new / before: {new['total'] / old['total']:.2f}")
    print("completion curve (share of files written at 10% steps of each run's total time):")
    for name, run in (("new", new), ("before", old)):
        curve = [sum(t <= run["total"] * step / 10 for t in run["times"]) / run["expected"] for step in range(1, 11)]
        print(f"  {name:<7} " + " ".join(f"{c:>4.0%}" for c in curve))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=["greedy", "beams", "both"], default="both")
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    parser.add_argument("--cap", type=float, default=300.0, help="stop the beams baseline after this many seconds")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "TOKENIZERS_PARALLELISM": "false"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env["SUMMARIZER_CACHE"] = str(tmp / "cache")
        model, _ = shaped_model("t5", tmp / "t5-small-shaped")
        old = baseline_tree(args.baseline_ref, tmp / "before")
        common = ["--model", str(model), "--backend", "ctranslate2", "--threads", str(args.threads)]
        cases = []
        if args.case in ("greedy", "both"):
            count = chapters(tmp / "greedy", 16)
            cases.append(("greedy, 32-token chunk and final summaries", tmp / "greedy", count, None, [
                "--num-beams", "1", "--max-length", "32", "--min-length", "32", "--chunk-max-length", "32",
                "--chunk-min-length", "32"]))
        if args.case in ("beams", "both"):
            count = chapters(tmp / "beams", 4)
            cases.append(("4 beams, the model's own chunk lengths, 32-token final summaries", tmp / "beams", count, args.cap, [
                "--num-beams", "4", "--max-length", "32", "--min-length", "32"]))
        for label, docs, count, cap, flags in cases:
            for code in (ROOT, old):  # convert the model once per code version, outside the timing
                timed_run(code, [str(next(docs.iterdir())), *common, "--max-length", "2"], tmp / f"warm-{code.name}", 1, env, None)
            new = timed_run(ROOT, [str(docs), *common, *flags], tmp / f"new-{docs.name}", count, env, None)
            before = timed_run(old, [str(docs), *common, *flags], tmp / f"old-{docs.name}", count, env, cap)
            report(label, new, before)


if __name__ == "__main__":
    main()
