"""Which source tokens did the summary look at? Decoder cross-attention, as a map.

Row i of the map is the cross-attention of the decoder step that produced summary token
i: a distribution over the source tokens (each row sums to 1).
"""

from __future__ import annotations

import os
import io
from dataclasses import dataclass
from pathlib import Path

import torch
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text
from torch import nn

from .attention import attention_impl
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
    overridden); the source is truncated to the tokenizer's `model_max_length`.

    The weights come from one teacher-forced pass over the generated summary, run on the
    scratch attention, which hands back its weights whatever `attn_implementation` the
    model was loaded with (the library's sdpa path returns none). The model's attention
    is restored afterwards.
    """
    if not hasattr(model, "decoder") or not hasattr(model.decoder, "block"):
        raise ValueError(f"attention maps need a T5 encoder-decoder model, not {type(model).__name__}")
    decoder_layers = len(model.decoder.block)
    heads = model.config.num_heads
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
    generation_kwargs = {**generation_kwargs, "do_sample": False, "num_beams": 1}
    summary = model.generate(**source, max_new_tokens=max_new_tokens, **generation_kwargs)  # (1, 1 + summary_len)

    captured = []

    def keep_weights(module, args, output) -> None:
        captured.append(output[2])  # (1, heads, summary_len, source_len)

    with attention_impl(model, "scratch"):
        hook = model.decoder.block[layer].layer[1].EncDecAttention.register_forward_hook(keep_weights)
        try:
            # Step i reads summary tokens < i + 1 and predicts token i + 1: drop the last input.
            model(**source, decoder_input_ids=summary[:, :-1])
        finally:
            hook.remove()
    weights = captured[0][0].float()  # (heads, summary_len, source_len)
    weights = weights.mean(dim=0) if head is None else weights[head]  # (summary_len, source_len)
    return AttentionMap(
        source_tokens=tokenizer.convert_ids_to_tokens(source["input_ids"][0].tolist()),
        summary_tokens=tokenizer.convert_ids_to_tokens(summary[0, 1:].tolist()),
        weights=weights.cpu().tolist(),
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
