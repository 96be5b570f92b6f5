"""What evidence costs a run: `summarize` with evidence (the default) over `--no-evidence`.

Two workloads, each a whole process (imports, model loading, generation, evidence, output),
on a random-weight model of t5-small's exact shape with t5-small's own defaults and its
output length forced (min = max), the CTranslate2 backend auto takes, 2 threads:
  speed:  bench_speed.py's workload W, 32 documents of about 480 tokens, 64 output tokens;
  long:   one document of about 500 KB (samples/ prose, repeated: some 125,000 tokens, hundreds
          of chunks reduced over several levels), 16-token chunk and final summaries.
Runs alternate (with, without, with, ...) so load drifts fall on both; the median of
--repeats each. Also the evidence step alone, in-process, on the long document's record.

    python benchmarks/bench_evidence_cost.py [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_speed import NEW_TOKENS, ROOT, make_documents, shaped_model  # noqa: E402

LONG_BYTES = 500_000


def long_document(path: Path) -> None:
    prose = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((ROOT / "samples").rglob("*.txt")))
    copies, parts = 0, []
    while sum(len(part) for part in parts) < LONG_BYTES:
        copies += 1
        parts.append(f"Part {copies}.\n\n{prose}")
    path.write_text("\n\n".join(parts), encoding="utf-8")


def run(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "summarizer", *args, "-q"], check=True, env=env,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env["SUMMARIZER_CACHE"] = str(tmp / "cache")
        model, _ = shaped_model("t5", tmp / "model")
        from transformers import AutoTokenizer

        make_documents(tmp / "docs", AutoTokenizer.from_pretrained(model))
        long_document(tmp / "long.txt")
        common = ["--model", str(model), "--threads", str(args.threads)]
        workloads = {
            "speed (32 x 480 tokens)": [str(tmp / "docs"), *common, "--max-length", str(NEW_TOKENS),
                                        "--min-length", str(NEW_TOKENS)],
            "long (500 KB, one document)": [str(tmp / "long.txt"), *common, "--max-length", "16", "--min-length", "16",
                                          "--chunk-max-length", "16", "--chunk-min-length", "16", "--num-beams", "1"],
        }
        run(workloads["speed (32 x 480 tokens)"][:1] + common + ["--max-length", "4"], env)  # convert once, warm caches
        rows = {}
        for name, workload in workloads.items():
            times: dict[str, list[float]] = {"with": [], "without": []}
            for _ in range(args.repeats):
                times["with"].append(run(workload, env))
                times["without"].append(run([*workload, "--no-evidence"], env))
            rows[name] = {key: statistics.median(values) for key, values in times.items()}
        step = evidence_step(tmp / "long.txt", workloads["long (500 KB, one document)"], env)
    print(f"{'workload':28} {'with s':>8} {'without s':>10} {'with / without':>15}")
    for name, row in rows.items():
        print(f"{name:28} {row['with']:8.2f} {row['without']:10.2f} {row['with'] / row['without']:15.3f}")
    print(f"the evidence step alone on the long document's record: {step * 1000:.0f} ms")
    print(json.dumps({name: round(row["with"] / row["without"], 3) for name, row in rows.items()}))


def evidence_step(path: Path, workload: list[str], env: dict[str, str]) -> float:
    """Seconds `grounded` takes on the long document's summary and trace, in this process."""
    code = (
        "import sys, time, json\n"
        "from summarizer import Summarizer\n"
        "from summarizer.pipeline import grounded\n"
        "from summarizer.strategies import STRATEGIES, Trace\n"
        "args = json.loads(sys.argv[1])\n"
        "s = Summarizer(args['model'], evidence=False, max_length=16, min_length=16, chunk_max_length=16, chunk_min_length=16, num_beams=1)\n"
        "text = open(args['path'], encoding='utf-8').read()\n"
        "record = s.summarize(text)\n"
        "trace = Trace(); trace.parts = list(record.parts); plan = s.pipeline.plan(s.settings)\n"
        "for chunk in plan.chunker.chunks(text, trace.count): trace.spans.append(chunk.span); trace.chunks += 1\n"
        "started = time.perf_counter(); grounded(record.summary, text, trace)\n"
        "print(time.perf_counter() - started)\n"
    )
    model = workload[workload.index("--model") + 1]
    out = subprocess.run([sys.executable, "-c", code, json.dumps({"model": model, "path": str(path)})],
                         check=True, env=env, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
