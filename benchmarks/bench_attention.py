"""Time generate() with the scratch attention against the library's eager and sdpa paths.

A random-weight model with t5-small's exact shape, or with `--family bart` distilbart-cnn-12-6's
(no download), `--tokens` input tokens (padded rows when batch > 1), exactly `--new-tokens`
output tokens (min = max new tokens), greedy. Each implementation gets a warm-up run, then
`--repeats` timed runs, interleaved (hf, scratch, sdpa, hf, ...) so that a busy machine slows
all three alike; the table shows medians and the ratio to hf measured in the same run. At
batch 1 generate() time goes mostly to the 64 decoder steps, where attention is a small
share; the encoder forward (one pass over all input tokens, 512 x 512 scores per head) is
timed too, as that is where attention's cost shows.

    python benchmarks/bench_attention.py                  # batch 1 and 8, 3 repeats
    python benchmarks/bench_attention.py --batch 1 --repeats 5 --threads 2 --json
    python benchmarks/bench_attention.py --family bart --batch 1   # the scaled dot-product attention
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch
from rich.console import Console
from rich.table import Table
from transformers import BartConfig, BartForConditionalGeneration, T5Config, T5ForConditionalGeneration

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from tiny_t5 import T5_SMALL_SHAPE  # noqa: E402

from summarizer.compare import IMPLEMENTATIONS, make_inputs, running  # noqa: E402


DISTILBART_SHAPE = dict(
    vocab_size=50264, d_model=1024, encoder_layers=12, decoder_layers=6, encoder_attention_heads=16,
    decoder_attention_heads=16, encoder_ffn_dim=4096, decoder_ffn_dim=4096, max_position_embeddings=1024,
)  # distilbart-cnn-12-6's config.json
SHAPE_NAMES = {"t5": "t5-small shape", "bart": "distilbart-cnn-12-6 shape"}


def build_model(family: str, seed: int) -> T5ForConditionalGeneration | BartForConditionalGeneration:
    torch.manual_seed(seed)
    if family == "bart":
        config = BartConfig(**DISTILBART_SHAPE, dropout=0.0, attention_dropout=0.0, activation_dropout=0.0)
        return BartForConditionalGeneration(config).eval()
    config = T5Config(**T5_SMALL_SHAPE, dropout_rate=0.0, decoder_start_token_id=0)
    return T5ForConditionalGeneration(config).eval()


def bench_batch(model, batch: int, tokens: int, new_tokens: int, repeats: int, seed: int) -> dict:
    """Median generate() and encoder-forward seconds per implementation for one batch size."""
    inputs = make_inputs(model, None, tokens, batch, new_tokens, seed)
    prompt = {"input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"]}

    def generate():
        return model.generate(
            **prompt, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False, num_beams=1
        )

    def encode():
        with torch.no_grad():
            return model.get_encoder()(**prompt)

    def seconds(run) -> float:
        start = time.perf_counter()
        run()
        return time.perf_counter() - start

    ids = {}
    times = {impl: [] for impl in IMPLEMENTATIONS}
    encoder_times = {impl: [] for impl in IMPLEMENTATIONS}
    for impl in IMPLEMENTATIONS:
        with running(model, impl):
            ids[impl] = generate()  # warm-up
    for _ in range(repeats):
        for impl in IMPLEMENTATIONS:
            with running(model, impl):
                times[impl].append(seconds(generate))
                encoder_times[impl].append(seconds(encode))
    median = {impl: statistics.median(runs) for impl, runs in times.items()}
    encoder = {impl: statistics.median(runs) for impl, runs in encoder_times.items()}
    return {
        "batch": batch,
        "seconds": {impl: round(median[impl], 4) for impl in IMPLEMENTATIONS},
        "runs": {impl: [round(t, 4) for t in runs] for impl, runs in times.items()},
        "scratch_over_hf": round(median["scratch"] / median["hf"], 3),
        "sdpa_over_hf": round(median["sdpa"] / median["hf"], 3),
        "encoder_seconds": {impl: round(encoder[impl], 4) for impl in IMPLEMENTATIONS},
        "encoder_scratch_over_hf": round(encoder["scratch"] / encoder["hf"], 3),
        "encoder_sdpa_over_hf": round(encoder["sdpa"] / encoder["hf"], 3),
        "tokens_identical": torch.equal(ids["hf"], ids["scratch"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", choices=SHAPE_NAMES, default="t5", help="model shape (default: t5)")
    parser.add_argument("--batch", type=int, nargs="+", default=[1, 8], help="batch sizes (default: 1 8)")
    parser.add_argument("--tokens", type=int, default=512, help="input tokens per row (default: 512)")
    parser.add_argument("--new-tokens", type=int, default=64, help="generated tokens, forced (default: 64)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per implementation (default: 3)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()

    if args.threads:
        torch.set_num_threads(args.threads)
    model = build_model(args.family, args.seed)
    results = [bench_batch(model, b, args.tokens, args.new_tokens, args.repeats, args.seed) for b in args.batch]
    report = {
        "model": f"{SHAPE_NAMES[args.family]}, random weights",
        "device": "cpu",
        "threads": torch.get_num_threads(),
        "tokens": args.tokens,
        "new_tokens": args.new_tokens,
        "repeats": args.repeats,
        "torch": torch.__version__,
        "results": results,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return

    table = Table(
        title=f"{SHAPE_NAMES[args.family]}: {args.tokens} tokens -> {args.new_tokens} new, greedy; "
        f"median seconds of {args.repeats}, {report['threads']} threads; hf = library eager",
        title_justify="left",
    )
    columns = ("batch", "timed", "hf", "scratch", "sdpa", "scratch/hf", "sdpa/hf", "same ids")
    for column in columns:
        table.add_column(column, justify="right")
    for r in results:
        same = "yes" if r["tokens_identical"] else "no"
        for label, s, prefix in (("generate", r["seconds"], ""), ("encoder", r["encoder_seconds"], "encoder_")):
            table.add_row(
                str(r["batch"]), label, f"{s['hf']:.3f}", f"{s['scratch']:.3f}", f"{s['sdpa']:.3f}",
                f"{r[prefix + 'scratch_over_hf']:.3f}", f"{r[prefix + 'sdpa_over_hf']:.3f}", same,
            )  # fmt: skip
    Console().print(table)


if __name__ == "__main__":
    main()
