"""Scratch attention against the library's, on one loaded model: same weights, same inputs.

Three questions, answered by `compare_attention`: do the attention layers compute the same
thing (largest absolute difference per layer type), does greedy decoding pick the same
tokens, and what do time and memory look like next to the library's eager attention ("hf")
and its fused `scaled_dot_product_attention` path ("sdpa").
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import torch
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from torch import Tensor, nn

from .attention import attention_impl, attention_layers, unsupported
from .quiet import quiet_native_stderr

LAYER_TYPES = ("encoder_self", "decoder_self", "cross")
IMPLEMENTATIONS = ("hf", "scratch", "sdpa")
T = TypeVar("T")


@contextmanager
def running(model: nn.Module, impl: str) -> Iterator[nn.Module]:
    """Run `model` on "hf" (library, eager), "sdpa" (library, torch's fused kernel) or
    "scratch" inside a `with` block; put back its previous attention afterwards."""
    previous = model.config._attn_implementation
    model.set_attn_implementation({"hf": "eager", "sdpa": "sdpa"}.get(impl, previous))
    try:
        with attention_impl(model, "scratch" if impl == "scratch" else "hf"):
            yield model
    finally:
        model.set_attn_implementation(previous)


CROSS_NAMES = ("EncDecAttention", "encoder_attn")  # T5's, BART's: cross-attention is told apart by its name only


def layer_type(name: str, module: nn.Module) -> str:
    """Which kind of attention the module at `name` is: "encoder_self", "decoder_self" or "cross"."""
    if name.rpartition(".")[2] in CROSS_NAMES:
        return "cross"
    return "decoder_self" if module.is_decoder else "encoder_self"


@torch.no_grad()
def attention_outputs(model: nn.Module, **inputs) -> dict[str, Tensor]:
    """One teacher-forced forward pass; the output of every attention layer, by module path.

    The swap keeps module paths, so the dicts of two implementations line up key by key.
    """
    outputs: dict[str, Tensor] = {}

    def keep(name):
        return lambda module, args, result: outputs.__setitem__(name, result[0].detach())

    hooks = [module.register_forward_hook(keep(name)) for name, module in attention_layers(model).items()]
    try:
        model(**inputs)
    finally:
        for hook in hooks:
            hook.remove()
    return outputs


def max_abs_diff(model: nn.Module, reference: dict[str, Tensor], candidate: dict[str, Tensor]) -> dict[str, float]:
    """Largest |reference - candidate| over the attention layers of each type."""
    modules = dict(model.named_modules())
    worst = dict.fromkeys(LAYER_TYPES, 0.0)
    for name, ref in reference.items():
        kind = layer_type(name, modules[name])
        worst[kind] = max(worst[kind], (ref.float() - candidate[name].float()).abs().max().item())
    return worst


def make_inputs(model: nn.Module, tokenizer, tokens: int, batch: int, new_tokens: int, seed: int) -> dict[str, Tensor]:
    """Random non-special token ids, `batch` rows of `tokens`, each ending in EOS like tokenized text.

    Rows get shorter down the batch (to about half of `tokens`) and are right-padded, so
    the padding mask matters whenever batch > 1. Also returns teacher-forcing decoder ids.
    """
    config = model.config
    vocab = min(len(tokenizer), config.vocab_size) if tokenizer is not None else config.vocab_size
    special = set(tokenizer.all_special_ids) if tokenizer is not None else set()
    special |= {config.pad_token_id, config.eos_token_id, config.decoder_start_token_id}
    allowed = torch.tensor([i for i in range(vocab) if i not in special])
    generator = torch.Generator().manual_seed(seed)

    def sample(*shape: int) -> Tensor:
        return allowed[torch.randint(len(allowed), shape, generator=generator)]

    input_ids = sample(batch, tokens)
    attention_mask = torch.ones_like(input_ids)
    step = tokens // (2 * batch)
    for row in range(batch):
        length = max(1, tokens - row * step)
        input_ids[row, length - 1] = config.eos_token_id
        input_ids[row, length:] = config.pad_token_id
        attention_mask[row, length:] = 0
    decoder_input_ids = torch.cat(
        [torch.full((batch, 1), config.decoder_start_token_id), sample(batch, max(new_tokens - 1, 0))], dim=1
    )
    device = next(model.parameters()).device
    return {
        "input_ids": input_ids.to(device),
        "attention_mask": attention_mask.to(device),
        "decoder_input_ids": decoder_input_ids.to(device),
    }


def peak_memory_mb(run: Callable[[], T], device: torch.device) -> tuple[T, float | None]:
    """Call `run()`; return its result and the peak tensor memory it added, in MiB.

    CUDA: `torch.cuda.max_memory_allocated` above what was allocated before the call.
    CPU: torch keeps no allocator statistics, so the call runs under the torch profiler
    with `profile_memory=True`, and the peak is the highest point of the profiler's running
    total of tensor allocations minus frees, again relative to the start. Either way it
    counts tensor memory only: not the weights (they exist beforehand), not the Python
    heap, not memory the allocator caches. None on CPU if this torch's profiler does not
    expose allocation events.
    """
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        result = run()
        torch.cuda.synchronize(device)
        return result, (torch.cuda.max_memory_allocated(device) - before) / 2**20
    prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True)
    with quiet_native_stderr():
        prof.start()
    try:
        result = run()
    finally:
        with quiet_native_stderr():
            prof.stop()
    try:
        nodes = list(prof.profiler.kineto_results.experimental_event_tree())
    except AttributeError:
        return result, None
    totals = []  # running total of tensor bytes after each allocation or free
    while nodes:
        node = nodes.pop()
        nodes.extend(node.children)
        total = getattr(node.extra_fields, "total_allocated", None)
        if total is not None:
            totals.append(total)
    return result, max(0, *totals) / 2**20 if totals else None


def compare_attention(
    model: nn.Module,
    tokenizer,
    *,
    tokens: int = 512,
    batch: int = 1,
    new_tokens: int = 64,
    model_name: str = "",
    seed: int = 0,
    repeats: int = 3,
) -> dict:
    """Compare the scratch attention with the library's on `model`; returns a JSON-able dict.

    Keys: model, device, dtype, tokens, batch, new_tokens, repeats; `max_abs_diff` per
    layer type (scratch against library eager, one teacher-forced forward on the same
    inputs); `tokens_identical` (greedy generate() of exactly `new_tokens` tokens gives
    the same ids with both); `implementations`: for "hf" (library eager), "scratch" and
    "sdpa" (library, torch's fused kernel), `seconds`, the median generate() time over
    `repeats` runs taken in turn after a warm-up run each, and `peak_mb` from one more run
    (see `peak_memory_mb` for what it measures on CPU and on CUDA). The model's attention
    and `attn_implementation` are as before when it returns. Raises ValueError, in one line,
    on a family the scratch attention does not cover.
    """
    if reason := unsupported(model):
        raise ValueError(f"compare-attention: {reason}, so there is no from-scratch version to compare")
    device = next(model.parameters()).device
    inputs = make_inputs(model, tokenizer, tokens, batch, new_tokens, seed)
    prompt = {"input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"]}

    def generate() -> Tensor:
        return model.generate(
            **prompt, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False, num_beams=1
        )

    def seconds() -> float:
        start = time.perf_counter()
        generate()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - start

    layer_outputs, generated, times, peaks = {}, {}, {impl: [] for impl in IMPLEMENTATIONS}, {}
    for impl in IMPLEMENTATIONS:
        with running(model, impl):
            layer_outputs[impl] = attention_outputs(model, **inputs)
            generated[impl] = generate()  # also the warm-up
    for _ in range(repeats):
        for impl in IMPLEMENTATIONS:  # in turn, so that a busy machine slows all of them alike
            with running(model, impl):
                times[impl].append(seconds())
    for impl in IMPLEMENTATIONS:
        with running(model, impl):
            peaks[impl] = peak_memory_mb(generate, device)[1]

    return {
        "model": model_name or getattr(model.config, "name_or_path", "") or type(model).__name__,
        "device": str(device),
        "dtype": str(next(model.parameters()).dtype).removeprefix("torch."),
        "tokens": tokens,
        "batch": batch,
        "new_tokens": new_tokens,
        "repeats": repeats,
        "max_abs_diff": max_abs_diff(model, layer_outputs["hf"], layer_outputs["scratch"]),
        "tokens_identical": torch.equal(generated["hf"], generated["scratch"]),
        "implementations": {
            impl: {
                "seconds": round(statistics.median(times[impl]), 4),
                "peak_mb": None if peaks[impl] is None else round(peaks[impl], 2),
            }
            for impl in IMPLEMENTATIONS
        },
    }


def render_comparison(result: dict, console: Console) -> None:
    """Print `compare_attention`'s result as two rich tables: speed/memory, then parity."""
    timings = result["implementations"]
    hf_seconds = timings["hf"]["seconds"]
    speed = Table(
        title=f"Attention on {escape(result['model'])} ({result['device']}, {result['dtype']}): "
        f"batch {result['batch']} x {result['tokens']} tokens -> {result['new_tokens']} new tokens, "
        f"median of {result.get('repeats', 1)}",
        title_justify="left",
    )
    speed.add_column("implementation")
    speed.add_column("generate() s", justify="right")
    speed.add_column("vs hf", justify="right")
    speed.add_column("peak MiB", justify="right")
    labels = {"hf": "hf (library, eager)", "scratch": "scratch", "sdpa": "sdpa (library, fused)"}
    for impl, row in timings.items():
        ratio = f"{row['seconds'] / hf_seconds:.2f}x" if hf_seconds else "-"
        peak = "-" if row["peak_mb"] is None else f"{row['peak_mb']:.1f}"
        speed.add_row(labels.get(impl, impl), f"{row['seconds']:.3f}", ratio, peak)
    console.print(speed)

    parity = Table(title="Scratch vs hf, same inputs", title_justify="left")
    parity.add_column("layer type")
    parity.add_column("max |hf - scratch|", justify="right")
    for kind, diff in result["max_abs_diff"].items():
        parity.add_row(kind, f"{diff:.2e}")
    same = "[green]yes[/]" if result["tokens_identical"] else "[red]no[/]"
    parity.add_row("greedy tokens identical", same)
    console.print(parity)
