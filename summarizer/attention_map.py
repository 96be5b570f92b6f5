"""Which source tokens did the summary look at? Decoder cross-attention, as a map.

Row i of the map is the cross-attention of the decoder step that produced summary token
i: a distribution over the source tokens (each row sums to 1). The weights come from the
library's own attention, so the map works for every family, LED and LongT5 included.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text
from torch import nn

from .attention import attention_impl
from .models.families import family_of
from .outputs import write_atomic

EIGHTHS = " ▏▎▍▌▋▊▉"


@dataclass(frozen=True)
class AttentionMap:
    """Cross-attention weights, `weights[i][j]`: how much summary token i attended to source token j."""

    source_tokens: list[str]
    summary_tokens: list[str]
    weights: list[list[float]]  # [summary_len][source_len]
    layer: int  # decoder layer the weights come from
    head: int | None  # None: mean over heads


def decoder_shape(model: nn.Module) -> tuple[int, int]:
    """(decoder layers, heads per layer) of an encoder-decoder, from its config (BART's keys or T5's)."""
    config = getattr(model, "config", None)

    def first(*keys: str) -> int | None:
        return next((getattr(config, key) for key in keys if getattr(config, key, None) is not None), None)

    layers, heads = first("decoder_layers", "num_decoder_layers"), first("decoder_attention_heads", "num_heads")
    if not getattr(config, "is_encoder_decoder", False) or layers is None or heads is None:
        raise ValueError(f"attention maps need an encoder-decoder model, not {type(model).__name__}")
    return layers, heads


@contextmanager
def eager_attention(model: nn.Module) -> Iterator[nn.Module]:
    """The library's eager attention inside a `with` block (sdpa returns no weights), then as before.

    Each sub-model keeps its own setting (the CPU backend runs a T5 decoder on eager and its
    encoder on sdpa): they are put back parent first, so a parent's reset cannot undo a child's.
    """
    saved = [(m, m.config._attn_implementation) for m in model.modules() if hasattr(m, "set_attn_implementation")]
    if all(impl == "eager" for _, impl in saved):
        yield model
        return
    model.set_attn_implementation("eager")
    try:
        yield model
    finally:
        for module, impl in saved:
            module.set_attn_implementation(impl)


def family_inputs(model: nn.Module, input_ids: torch.Tensor) -> dict[str, torch.Tensor]:
    """What the family needs beside the ids: LED's global attention on the first token, as the backend gives it."""
    if not family_of(model.config.model_type).global_first_token:
        return {}
    global_attention_mask = torch.zeros_like(input_ids)
    global_attention_mask[:, 0] = 1
    return {"global_attention_mask": global_attention_mask}


@torch.no_grad()
def cross_attention_weights(model: nn.Module, source_ids: list[int], summary_ids: list[int]) -> torch.Tensor:
    """Decoder cross-attention of every layer and head, for ids tokenized and generated already.

    Returns a float32 CPU tensor of shape (layers, heads, len(summary_ids), len(source_ids)):
    `weights[l, h, i, j]` is how much head h of decoder layer l, at the step that produced
    summary token i, attended to source token j; each row sums to 1. `summary_ids` are the
    generated tokens after the decoder start token (what generate() returns, minus its first
    id). The pass is teacher-forced: the decoder reads the start token and summary tokens
    < i, as it did when it produced token i.

    Works for every family: it runs the library's own attention, eager, with
    `output_attentions=True` (LED also gets its global attention on the first token, as
    when it summarizes), whatever the model ran before; its attention layers and
    `attn_implementation` are put back afterwards.
    """
    device = next(model.parameters()).device
    start = model.generation_config.decoder_start_token_id
    start = model.config.decoder_start_token_id if start is None else start
    if start is None:
        raise ValueError(f"{type(model).__name__} has no decoder_start_token_id to start the decoder with")
    input_ids = torch.tensor([source_ids], device=device)  # (1, source_len)
    inputs = {"input_ids": input_ids, "attention_mask": torch.ones_like(input_ids), **family_inputs(model, input_ids)}
    # Step i reads the start token and summary tokens < i, and predicts token i: drop the last one.
    decoder_input_ids = torch.tensor([[start, *summary_ids[:-1]]], device=device)  # (1, summary_len), 1 if empty
    with attention_impl(model, "hf"), eager_attention(model):
        output = model(**inputs, decoder_input_ids=decoder_input_ids, output_attentions=True, use_cache=False)
    weights = torch.stack(output.cross_attentions)[:, 0]  # (layers, heads, summary_len, source_len)
    return weights[:, :, : len(summary_ids)].float().cpu()


@torch.no_grad()
def cross_attention_map(
    model: nn.Module,
    tokenizer,
    text: str,
    *,
    prefix: str = "",
    layer: int | None = None,
    head: int | None = None,
    max_new_tokens: int = 32,
    **generation_kwargs,
) -> AttentionMap:
    """Summarize `text` greedily and return the decoder's cross-attention over the source.

    `layer` picks a decoder layer, 0-based (default: the last one, closest to the output
    and usually the most readable); `head` picks one head (default: the mean over heads).
    Generation is greedy (`do_sample` and `num_beams` in `generation_kwargs` are
    overridden); the source is truncated to the tokenizer's `model_max_length`. The weights
    come from `cross_attention_weights`, so any family works and the model's attention is
    as before when it returns.
    """
    decoder_layers, heads = decoder_shape(model)
    if layer is None:
        layer = decoder_layers - 1
    if not 0 <= layer < decoder_layers:
        raise ValueError(
            f"layer must be between 0 and {decoder_layers - 1} ({decoder_layers} decoder layers), got {layer}"
        )
    if head is not None and not 0 <= head < heads:
        raise ValueError(f"head must be between 0 and {heads - 1} ({heads} attention heads), got {head}")

    device = next(model.parameters()).device
    encoded = tokenizer(prefix + text, return_tensors="pt", truncation=True)
    source = {key: encoded[key].to(device) for key in ("input_ids", "attention_mask")}  # (1, source_len)
    source.update(family_inputs(model, source["input_ids"]))
    generation_kwargs = {**generation_kwargs, "do_sample": False, "num_beams": 1}
    summary = model.generate(**source, max_new_tokens=max_new_tokens, **generation_kwargs)  # (1, 1 + summary_len)

    source_ids, summary_ids = source["input_ids"][0].tolist(), summary[0, 1:].tolist()
    weights = cross_attention_weights(model, source_ids, summary_ids)[layer]  # (heads, summary_len, source_len)
    weights = weights.mean(dim=0) if head is None else weights[head]  # (summary_len, source_len)
    return AttentionMap(
        source_tokens=tokenizer.convert_ids_to_tokens(source_ids),
        summary_tokens=tokenizer.convert_ids_to_tokens(summary_ids),
        weights=weights.tolist(),
        layer=layer,
        head=head,
    )


def describe(amap: AttentionMap) -> str:
    """Which weights these are, in words."""
    heads = "mean over heads" if amap.head is None else f"head {amap.head}"
    return f"cross-attention, decoder layer {amap.layer} (0-based), {heads}"


def save_png(amap: AttentionMap, path: str | os.PathLike) -> Path:
    """Draw the map as a heatmap PNG at `path`, tokens on the axes; returns the path.

    Rendered in memory, then written atomically, so an interrupted run never leaves a
    half-written image behind.
    """
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError("saving an attention map as PNG needs matplotlib: pip install 'summarizer[plot]'") from err

    path = Path(path)
    rows, cols = len(amap.summary_tokens), len(amap.source_tokens)
    figure = Figure(figsize=(min(4 + 0.25 * cols, 40), min(2 + 0.25 * rows, 40)), layout="constrained")
    axes = figure.add_subplot()
    image = axes.imshow(amap.weights, aspect="auto", cmap="viridis", vmin=0.0)
    axes.set_xticks(range(cols), amap.source_tokens, rotation=90, fontsize=7)
    axes.set_yticks(range(rows), amap.summary_tokens, fontsize=7)
    axes.set_xlabel("source tokens")
    axes.set_ylabel("summary tokens")
    axes.set_title(describe(amap))
    figure.colorbar(image, ax=axes, label="attention weight")

    image_bytes = io.BytesIO()
    figure.savefig(image_bytes, format="png", dpi=120)
    write_atomic(path, image_bytes.getvalue())
    return path


def bar(fraction: float, width: int = 4) -> str:
    """A bar `width` cells wide, filled to `fraction` in eighths of a cell."""
    full, part = divmod(round(min(max(fraction, 0.0), 1.0) * width * 8), 8)
    return ("█" * full + EIGHTHS[part].strip()).ljust(width)


def render_terminal(amap: AttentionMap, console: Console, top: int = 3) -> None:
    """For each summary token, the `top` source tokens it attended to most.

    Bars are relative to the row's strongest weight, so they stay readable when attention
    is spread thin over a long source; the numbers are the weights themselves.
    """
    table = Table(title=describe(amap), title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("summary token", style="bold", no_wrap=True, overflow="ellipsis")
    for rank in range(1, top + 1):
        table.add_column(f"source #{rank}", no_wrap=True, overflow="ellipsis")
    for token, row in zip(amap.summary_tokens, amap.weights):
        best = sorted(range(len(row)), key=row.__getitem__, reverse=True)[:top]
        cells = []
        for j in best:
            cell = Text(bar(row[j] / row[best[0]]) + " ", style="cyan")
            cell.append(f"{amap.source_tokens[j]} {row[j]:.2f}", style="default")
            cells.append(cell)
        table.add_row(Text(token), *cells)
    console.print(table)
