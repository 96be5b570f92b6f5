"""Whole-process speed of `summarize` against the loop a new user writes, on one workload.

Workload W: 32 documents of about 480 tokens each, 64 output tokens forced (min = max), on a
random-weight model with t5-small's exact shape (speed depends on shape, not weights) that
carries t5-small's own summarization defaults. Baseline B: a fresh Python process running
tokenizer -> model.generate() -> decode one document at a time in float32, greedy and with 4
beams. Every run is a separate process, timed from start to exit (imports and model loading
included), so the ratios are what a user waits. Prints one table of ratios against B measured in
the same run, the text identity of greedy float32 against B, and the token agreement of int8
against float32. The first summarize row is the plain command, no backend flag.

`--family bart` runs the same on a random model of distilbart-cnn-12-6's shape (d_model 1024,
12 encoder / 6 decoder layers, vocab 50264) with bart-large-cnn's defaults, on 8 documents of W.

    python benchmarks/bench_speed.py [--family t5|bart] [--threads 2] [--repeats 1] [--device cpu] [--only torch]
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from families import BART_LARGE_CNN, build_bart, edit_config  # noqa: E402
from tiny_t5 import SAMPLES, T5_SMALL_SHAPE, build_tiny_t5  # noqa: E402
from trained_t5 import TASK_PARAMS  # noqa: E402  (t5-small's own summarization defaults)

NEW_TOKENS = 64
DOC_TOKENS = 480
DISTILBART_SHAPE = dict(  # sshleifer/distilbart-cnn-12-6
    vocab_size=50264, d_model=1024, encoder_layers=12, decoder_layers=6, encoder_attention_heads=16,
    decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096,
)

BASELINE = r'''
import json, sys, time
import torch
from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
model_dir, docs_dir, beams, device, out, prefix = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5], sys.argv[6]
tokenizer = AutoTokenizer.from_pretrained(model_dir)
model = AutoModelForSeq2SeqLM.from_pretrained(model_dir).to(device).eval()
import pathlib
summaries = []
for path in sorted(pathlib.Path(docs_dir).glob("*.txt")):
    inputs = tokenizer(prefix + path.read_text(), return_tensors="pt", truncation=True, max_length=512).to(device)
    with torch.no_grad():
        ids = model.generate(**inputs, max_new_tokens=%d, min_new_tokens=%d, num_beams=beams, do_sample=False)
    summaries.append(tokenizer.decode(ids[0], skip_special_tokens=True))
json.dump(summaries, open(out, "w"))
''' % (NEW_TOKENS, NEW_TOKENS)


def make_documents(folder: Path, tokenizer, count: int = 32) -> None:
    """`count` documents of about DOC_TOKENS tokens, cut from the samples at sentence ends."""
    text = " ".join(p.read_text(encoding="utf-8") for p in sorted(SAMPLES.glob("*.txt")) + sorted(SAMPLES.glob("*.md")))
    words = text.split()
    folder.mkdir(parents=True, exist_ok=True)
    start = 0
    for i in range(count):
        end = start + 50
        while len(tokenizer(" ".join(words[start:end]), add_special_tokens=False).input_ids) < DOC_TOKENS - 10:
            end += 5
        (folder / f"doc{i:02d}.txt").write_text(" ".join(words[start:end]), encoding="utf-8")
        start = (end + 1) % max(1, len(words) - 2000)


def varied(model_dir: Path) -> Path:
    """Make the random model's greedy output real text. With tied embeddings a random T5 mostly
    predicts <pad>, and most of t5-small's 32,128 ids are past the benchmark tokenizer's 400
    pieces: both decode to "", and "same text as B" would hold vacuously. Zeroing those rows of
    the embedding gives them a logit of 0, below the best of the real pieces. Same shape, same
    work."""
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    pieces = len(AutoTokenizer.from_pretrained(model_dir))
    model = AutoModelForSeq2SeqLM.from_pretrained(model_dir)
    with torch.no_grad():
        embeddings = model.get_input_embeddings().weight
        embeddings[model.config.pad_token_id].zero_()
        embeddings[pieces:].zero_()
    model.save_pretrained(model_dir)
    return model_dir


def padded_vocabulary(model_dir: Path, size: int) -> Path:
    """Give the benchmark's small tokenizer as many entries as the model has rows, as a real
    checkpoint's has (CTranslate2 converts only a matching vocabulary): unused pieces, never
    produced once `varied` has zeroed their rows."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    tokenizer.add_tokens([f"<unused{i}>" for i in range(len(tokenizer), size)])
    tokenizer.save_pretrained(model_dir)
    return model_dir


def shaped_model(family: str, folder: Path) -> tuple[Path, str]:
    """(model folder, task prefix) for the family's real-shaped random model."""
    if family == "bart":
        model = varied(build_bart(folder, window=512, shape=DISTILBART_SHAPE, generation=BART_LARGE_CNN))
        return padded_vocabulary(model, DISTILBART_SHAPE["vocab_size"]), ""
    model = build_tiny_t5(folder, shape=T5_SMALL_SHAPE, window=512)
    edit_config(model, lambda config: config.update(task_specific_params={"summarization": dict(TASK_PARAMS)}))
    return varied(model), TASK_PARAMS["prefix"]


def timed(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1, help="runs per row (median)")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", choices=["torch", "ctranslate2"], help="skip the other backend's rows")
    parser.add_argument("--family", choices=["t5", "bart"], default="t5", help="t5-small's shape, or distilbart's")
    parser.add_argument("--documents", type=int, help="documents in W (default: 32, 8 for bart); hundreds on a GPU, "
                                                       "so that start-up does not dominate")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()

    from transformers import AutoTokenizer

    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads),
           "SUMMARIZER_CACHE": "", "TOKENIZERS_PARALLELISM": "false"}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        env["SUMMARIZER_CACHE"] = str(tmp / "cache")
        model, prefix = shaped_model(args.family, tmp / f"{args.family}-shaped")
        documents = args.documents or (8 if args.family == "bart" else 32)
        make_documents(tmp / "docs", AutoTokenizer.from_pretrained(model), documents)
        base = [sys.executable, "-c", BASELINE, str(model), str(tmp / "docs")]
        # The settings B's generate() uses: a T5 keeps its defaults in task_specific_params, which
        # generate() ignores; BART keeps them in generation_config.json, which it applies.
        matching = ["--no-repeat-ngram-size", "0", "--length-penalty", "1.0"] if args.family == "t5" else []
        forced = ["--max-length", str(NEW_TOKENS), "--min-length", str(NEW_TOKENS), "--prefix", prefix, *matching,
                  "--device", args.device, "--threads", str(args.threads), "-q", "-f", "json"]
        cli = [sys.executable, "-m", "summarizer", str(tmp / "docs"), "--model", str(model), *forced]

        def run(command: list[str], out: Path | None = None) -> float:
            times = []
            for _ in range(args.repeats):
                if out is None:
                    times.append(timed(command, env))
                else:
                    started = time.perf_counter()
                    with out.open("w") as handle:
                        subprocess.run(command, check=True, env=env, stdout=handle)
                    times.append(time.perf_counter() - started)
            return statistics.median(times)

        rows: list[dict] = []
        b_greedy = run([*base, "1", args.device, str(tmp / "b1.json"), prefix])
        b_beams = run([*base, "4", args.device, str(tmp / "b4.json"), prefix])
        rows.append({"run": "B: one document at a time, float32", "greedy_s": b_greedy, "beams_s": b_beams})
        print(f"B: {b_greedy:.1f} s greedy, {b_beams:.1f} s 4 beams", file=sys.stderr)
        # The plain command: the backend auto picks, with the model's own early stopping.
        plan = [] if args.only else [("summarize (no backend flag)", [])]
        if args.only != "ctranslate2":
            plan += [("summarize, torch float32", ["--backend", "torch", "--dtype", "float32"]),
                     ("summarize, torch int8", ["--backend", "torch", "--quantize", "int8"])]
        if args.only != "torch":
            subprocess.run([*cli, "--backend", "ctranslate2", "--num-beams", "1"], check=True, env=env, stdout=subprocess.DEVNULL)  # convert once, outside the timing
            # CTranslate2's beam search always stops once num_beams hypotheses are finished.
            plan += [("summarize, ctranslate2 float32", ["--backend", "ctranslate2", "--dtype", "float32", "--early-stopping"]),
                     ("summarize, ctranslate2 int8", ["--backend", "ctranslate2", "--quantize", "int8", "--early-stopping"])]
        outputs = {}
        for label, flags in plan:
            if "int8" in label and args.device != "cpu":  # int8 is a CPU option: bfloat16 on a GPU
                flags = [f for f in flags if f not in ("--quantize", "int8")] + ["--dtype", "bfloat16"]
                label = label.replace("int8", "bfloat16")
            greedy_out, beams_out = tmp / f"{len(outputs)}g.json", tmp / f"{len(outputs)}b.json"
            greedy = run([*cli, *flags, "--num-beams", "1"], greedy_out)
            beams = run([*cli, *flags, "--num-beams", "4"], beams_out)
            outputs[label] = [r["summary"] for r in json.loads(greedy_out.read_text())]
            rows.append({"run": label, "greedy_s": greedy, "beams_s": beams})
            print(f"{label}: {greedy:.1f} s greedy, {beams:.1f} s 4 beams", file=sys.stderr)
        baseline_texts = json.loads((tmp / "b1.json").read_text())

    for row in rows:
        row["greedy_x"] = b_greedy / row["greedy_s"]
        row["beams_x"] = b_beams / row["beams_s"]
    if not all(baseline_texts):
        raise SystemExit("B produced empty summaries: the identity check would be vacuous")
    identical = {label: texts == baseline_texts for label, texts in outputs.items()}
    agreement = {}
    for label, texts in outputs.items():
        reference = outputs.get(label.replace("int8", "float32").replace("bfloat16", "float32"))
        if ("int8" in label or "bfloat16" in label) and reference:
            words = [(a.split(), b.split()) for a, b in zip(texts, reference)]
            same = sum(x == y for a, b in words for x, y in zip(a, b))
            agreement[label] = same / max(1, sum(max(len(a), len(b)) for a, b in words))
    shape = "distilbart-cnn-12-6" if args.family == "bart" else "t5-small"
    print(f"W: {documents} documents x ~{DOC_TOKENS} tokens, {NEW_TOKENS} forced output tokens, {shape} shape, "
          f"{args.threads} threads, {args.device}; whole process, median of {args.repeats}")
    print(f"{'run':<40} {'greedy s':>9} {'x B':>6} {'4-beam s':>9} {'x B':>6}")
    for row in rows:
        print(f"{row['run']:<40} {row['greedy_s']:>9.1f} {row['greedy_x']:>6.2f} {row['beams_s']:>9.1f} {row['beams_x']:>6.2f}")
    for label, same in identical.items():
        print(f"greedy text identical to B: {label}: {'yes' if same else 'no'}")
    for label, share in agreement.items():
        print(f"word agreement with float32 (greedy): {label}: {share:.1%}")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "identical": identical, "agreement": agreement}, indent=2))


if __name__ == "__main__":
    main()
