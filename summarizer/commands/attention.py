"""`summarize compare-attention` and `summarize attention-map`: the from-scratch attention set
against the library's, and the decoder's cross-attention drawn; both print their result on stdout."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, error, load_weights, read_one, say


@dataclass(frozen=True)
class CompareRequest:
    model: str
    device: str = "auto"
    dtype: str = "auto"
    tokens: int = 512
    batch: int = 1
    new_tokens: int = 64
    repeats: int = 3
    fmt: str = "text"


def execute_compare(request: CompareRequest) -> int:
    """`summarize compare-attention`: JSON or a table on stdout (the comparison is the output)."""
    loaded = load_weights(request.model, request.device, request.dtype)
    if isinstance(loaded, int):
        return loaded
    from ..compare import compare_attention, render_comparison

    try:
        result = compare_attention(
            loaded.model, loaded.tokenizer, tokens=request.tokens, batch=request.batch,
            new_tokens=request.new_tokens, model_name=request.model, repeats=request.repeats,
        )
    except ValueError as exc:  # a family whose attention the scratch one cannot replace
        error(str(exc))
        return EXIT_USAGE
    if request.fmt == "json":
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        from rich.console import Console

        render_comparison(result, Console())
    return EXIT_OK if result["tokens_identical"] else EXIT_FAILED


@dataclass(frozen=True)
class MapRequest:
    path: str
    model: str
    layer: int | None = None
    head: int | None = None
    out: Path | None = None
    max_length: int = 32
    device: str = "auto"
    dtype: str = "auto"


def execute_attention_map(request: MapRequest) -> int:
    """`summarize attention-map`: a PNG with --out, else a terminal rendering on stdout."""
    document = read_one(request.path)
    if document is None:
        return EXIT_FAILED
    if not document.text.strip():
        error(f"{document.source}: empty input, nothing to summarize")
        return EXIT_FAILED
    if request.out is not None and request.out.resolve() == Path(request.path).resolve():
        error("--out would overwrite the input")
        return EXIT_USAGE
    loaded = load_weights(request.model, request.device, request.dtype)
    if isinstance(loaded, int):
        return loaded
    from ..attention_map import cross_attention_map, render_terminal, save_png

    defaults = loaded.task_defaults
    try:
        amap = cross_attention_map(
            loaded.model, loaded.tokenizer, document.text, prefix=defaults.get("prefix", ""),
            layer=request.layer, head=request.head, max_new_tokens=request.max_length,
            no_repeat_ngram_size=defaults.get("no_repeat_ngram_size", 0),
        )
    except ValueError as exc:
        error(str(exc))
        return EXIT_USAGE
    if request.out is None:
        from rich.console import Console

        render_terminal(amap, Console())
        return EXIT_OK
    try:
        save_png(amap, request.out)
    except (ImportError, RuntimeError) as exc:
        error(str(exc))
        return EXIT_FAILED
    say(f"wrote {request.out}")
    return EXIT_OK
