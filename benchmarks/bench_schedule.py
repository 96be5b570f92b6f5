"""When do summaries of a folder of long documents appear? This scheduler against the one before.

Workload: the first chapters of a real book (War and Peace, Project Gutenberg #2600, as plain
text: https://www.gutenberg.org/ebooks/2600.txt.utf-8; the chapters are 555-3,595 words), one
file each, summarized into --output-dir by a random model of t5-small's shape with t5-small's
own defaults. The book is read from --book (not kept in the repository); the chapters are cut
at its "CHAPTER" headings, so the workload is the same from any copy of the text. Each run is a
whole process; the output folder is polled every 50 ms, and each file's first appearance is
taken as its completion time, as a fraction of the run's total time. The baseline is the same
command run by the code of BASELINE_REF, checked out from git into a temporary folder.

Two cases, as the issues measured them:
  greedy: 96 chapters, 32-token chunk and final summaries;
  beams: 24 chapters, 4 beams, the model's own chunk lengths, 32-token final summaries
         (time to the first file; the baseline is stopped after --cap seconds).

    python benchmarks/bench_schedule.py --book war-and-peace.txt [--case greedy|beams|both] [--baseline-ref REF]
        [--side-by-side --threads 1]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from bench_speed import shaped_model  # noqa: E402

BASELINE_REF = "88459dd"  # oldest document first, before its tail streamed
_HEADING = re.compile(r"^\s*(CHAPTER [IVXLC]+|BOOK [A-Z]+\b.*|(FIRST|SECOND) EPILOGUE\b.*)\s*$", re.MULTILINE)


def chapters(book: Path, folder: Path, count: int) -> int:
    """The book's first `count` chapters, a file each, cut at its headings; the Gutenberg
    header and licence, if the copy has them, left out."""
    data = book.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252")  # some copies of the Gutenberg text are in windows-1252
    text = re.split(r"\*\*\* ?START OF TH(?:E|IS) PROJECT GUTENBERG[^\n]*\n", text)[-1]
    text = re.split(r"\*\*\* ?END OF TH(?:E|IS) PROJECT GUTENBERG", text)[0]
    parts = [part.strip() for part in _HEADING.split(text) if part and part.strip() and not _HEADING.fullmatch(part)]
    found = [part for part in parts if len(part.split()) >= 200 and not part.startswith(("CHAPTER", "BOOK", "FIRST", "SECOND"))]
    if len(found) < count:
        raise SystemExit(f"{book}: {len(found)} chapters found, {count} needed")
    folder.mkdir(parents=True, exist_ok=True)
    for index, chapter in enumerate(found[:count]):
        (folder / f"ch{index + 1:03d}.txt").write_text(chapter + "\n", encoding="utf-8")
    return count


def baseline_tree(ref: str, into: Path) -> Path:
    """The package as it was at `ref`, extracted from git."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "summarizer"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def timed_runs(runs: list[tuple[Path, list[str], Path, int, float | None]], env: dict[str, str]) -> list[dict]:
    """Run summarize from each (code, args, output folder, expected files, cap) at once; for
    each, the time each output file appeared, and the total."""
    started = time.perf_counter()
    processes = [subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.path.insert(0, sys.argv.pop(1)); from summarizer.cli import main; main()",
         str(code), *args, "-o", str(out), "-q"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for code, args, out, _, _ in runs]
    seen: list[dict[str, float]] = [{} for _ in runs]
    totals: list[float | None] = [None for _ in runs]
    while None in totals:
        now = time.perf_counter() - started
        for i, ((_, _, out, _, cap), process) in enumerate(zip(runs, processes)):
            if totals[i] is not None:
                continue
            if out.is_dir():
                for entry in os.scandir(out):
                    if entry.name.endswith(".txt") and not entry.name.startswith("."):
                        seen[i].setdefault(entry.name, now)
            if cap is not None and now > cap and process.poll() is None:
                process.kill()
            if process.poll() is not None:
                totals[i] = now
        time.sleep(0.05)
    results = []
    for (_, _, _, expected, _), process, files, total in zip(runs, processes, seen, totals):
        if process.returncode not in (0, -9):
            raise SystemExit(f"run failed: {process.stderr.read().decode()[-2000:]}")
        times = sorted(files.values())
        results.append({"total": total, "times": times, "done": len(times), "expected": expected,
                        "capped": len(times) < expected})
    return results


def share(times: list[float], fraction: float, total: float) -> str:
    index = max(0, int(round(fraction * len(times))) - 1)
    return f"{times[index] / total:.0%}" if times else "-"


def brief(run: dict) -> str:
    total = run["total"]
    return (f"total {total:.1f} s, first {share(run['times'], 1 / run['expected'], total)}, half "
            f"{share(run['times'], 0.5, total)}, 90% {share(run['times'], 0.9, total)}, {run['done']}/{run['expected']}")


def report(label: str, new: dict, old: dict, ref: str) -> None:
    print(f"{label}: {new['expected']} documents")
    print(f"{'scheduler':<26} {'total s':>8} {'first s':>8} {'first':>6} {'half':>6} {'90%':>6} {'done':>9}")
    for name, run in (("this one", new), (f"before ({ref})", old)):
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
    parser.add_argument("--book", type=Path, required=True, help="the book as plain text (War and Peace, Gutenberg #2600)")
    parser.add_argument("--case", choices=["greedy", "beams", "both"], default="both")
    parser.add_argument("--baseline-ref", default=BASELINE_REF)
    parser.add_argument("--cap", type=float, default=300.0, help="stop the beams baseline after this many seconds")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--side-by-side", action="store_true",
                        help="run both schedulers at once (with --threads 1 on 2 cores), so that whatever else runs on "
                             "the machine slows both alike")
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
            count = chapters(args.book, tmp / "greedy", 96)
            cases.append(("greedy, 32-token chunk and final summaries", tmp / "greedy", count, None, [
                "--num-beams", "1", "--max-length", "32", "--min-length", "32", "--chunk-max-length", "32",
                "--chunk-min-length", "32"]))
        if args.case in ("beams", "both"):
            count = chapters(args.book, tmp / "beams", 24)
            cases.append(("4 beams, the model's own chunk lengths, 32-token final summaries", tmp / "beams", count, args.cap, [
                "--num-beams", "4", "--max-length", "32", "--min-length", "32"]))
        for label, docs, count, cap, flags in cases:
            for code in (ROOT, old):  # convert the model once per code version, outside the timing
                timed_runs([(code, [str(next(docs.iterdir())), *common, "--max-length", "2"], tmp / f"warm-{code.name}", 1, None)], env)
            new_run = (ROOT, [str(docs), *common, *flags], tmp / f"new-{docs.name}", count, None)
            old_run = (old, [str(docs), *common, *flags], tmp / f"old-{docs.name}", count, cap)
            if args.side_by_side:
                new, before = timed_runs([new_run, old_run], env)
            else:
                [new] = timed_runs([new_run], env)
                print(f"{label}, this scheduler: {brief(new)}", file=sys.stderr, flush=True)
                [before] = timed_runs([old_run], env)
            print(f"{label}, {args.baseline_ref}: {brief(before)}", file=sys.stderr, flush=True)
            report(label, new, before, args.baseline_ref)


if __name__ == "__main__":
    main()
