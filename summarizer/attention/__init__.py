"""Attention from scratch, in plain torch, swappable into a loaded model.

Two formulas cover the families it knows (see `t5.py` and `bart.py`):

    T5, mT5:               softmax(Q K^T + B + M) V            relative position bias B, no scaling
    BART, mBART, Pegasus:  softmax(Q K^T / sqrt(d_k) + M) V    positions added before the first layer

`set_attention(model, "scratch")` puts a scratch layer in place of every library attention
layer of the model's family (encoder self, decoder self, decoder cross); it shares the
library layer's weights rather than copying them, so both implementations always see the
same parameters. `set_attention(model, "hf")` puts the library modules back. Families whose
attention is not full attention (LED, LongT5, Pegasus-X) or carries its own twist (UMT5) are
refused, with the reason from `summarizer.models.families`.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from contextlib import contextmanager

from torch import nn

from ..config import ATTENTION_CHOICES
from ..models.families import FAMILIES, family_of
from .bart import ScratchBartAttention
from .base import ScratchAttention, apply_mask
from .t5 import ScratchT5Attention, relative_position_bucket

__all__ = [
    "ATTENTION_CHOICES", "ScratchAttention", "ScratchBartAttention", "ScratchT5Attention", "apply_mask",
    "attention_impl", "attention_layers", "current_attention", "relative_position_bucket", "set_attention",
    "unsupported",
]  # fmt: skip

# model_type -> (transformers module defining the library's attention layer, that class, ours)
SCRATCH_LAYERS: dict[str, tuple[str, str, type[ScratchAttention]]] = {
    "t5": ("t5.modeling_t5", "T5Attention", ScratchT5Attention),
    "mt5": ("mt5.modeling_mt5", "MT5Attention", ScratchT5Attention),
    "bart": ("bart.modeling_bart", "BartAttention", ScratchBartAttention),
    "mbart": ("mbart.modeling_mbart", "MBartAttention", ScratchBartAttention),
    "pegasus": ("pegasus.modeling_pegasus", "PegasusAttention", ScratchBartAttention),
}


def model_type(model: nn.Module) -> str | None:
    """`model.config.model_type` ("t5", "bart", ...), None for a module without a config."""
    return getattr(getattr(model, "config", None), "model_type", None)


def library_class(model: nn.Module) -> type[nn.Module] | None:
    """The library's attention class the scratch layers replace in `model`, if any.

    Imported on demand: the model is loaded already, so its modeling module is too.
    """
    if model_type(model) not in SCRATCH_LAYERS:
        return None
    module, name, _ = SCRATCH_LAYERS[model_type(model)]
    return getattr(importlib.import_module(f"transformers.models.{module}"), name)


def unsupported(model: nn.Module) -> str | None:
    """Why the scratch attention cannot run `model`, as a phrase; None when it can."""
    kind = model_type(model)
    if kind in SCRATCH_LAYERS:
        return None
    if note := family_of(kind).attention_note:
        return note
    covered = ", ".join(family.name for family in FAMILIES if family.scratch_attention)
    what = f"model type {kind!r}" if kind else type(model).__name__
    return f"the from-scratch attention covers {covered}, not {what}"


def attention_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The attention layers of `model` the scratch attention covers, the library's or ours, by module path.

    The swap keeps module paths, so these line up between implementations.
    """
    kinds = tuple(kind for kind in (ScratchAttention, library_class(model)) if kind is not None)
    return {name: module for name, module in model.named_modules() if isinstance(module, kinds)}


def slots(model: nn.Module, kinds: type | tuple[type, ...]) -> list[tuple[nn.Module, str, nn.Module]]:
    """(parent, attribute name, module) for every module of `kinds` in `model`: where a swap goes."""
    return [
        (parent, name, child)
        for parent in model.modules()
        for name, child in parent.named_children()
        if isinstance(child, kinds)
    ]


def set_attention(model: nn.Module, impl: str) -> int:
    """Run every attention layer of `model` on `impl`: "scratch" (this package) or "hf"
    (the library's own, which then follows `model.config._attn_implementation`).

    Swaps modules in place and is reversible and idempotent. Returns the number of
    attention layers now running `impl` (18 for t5-small: 6 encoder self, 6 decoder self,
    6 cross; 36 for bart-large-cnn); "hf" on a family the scratch attention does not cover
    has nothing to put back and returns 0. Raises ValueError, in one line, for "scratch"
    on such a family.
    """
    if impl not in ATTENTION_CHOICES:
        raise ValueError(f"unknown attention implementation {impl!r}: choose one of {', '.join(ATTENTION_CHOICES)}")
    if impl == "hf":
        for parent, name, child in slots(model, ScratchAttention):
            child.library_module.train(child.training)  # model.train()/eval() only reached the swapped-in module
            setattr(parent, name, child.library_module)
        return len(attention_layers(model))

    if reason := unsupported(model):
        raise ValueError(f"--attention scratch: {reason}; use --attention hf")
    library, scratch = library_class(model), SCRATCH_LAYERS[model_type(model)][2]
    found = slots(model, (library, ScratchAttention))
    if not found:
        raise ValueError(f"--attention scratch: {type(model).__name__} has no {library.__name__} layers to replace")
    for parent, name, child in found:
        if isinstance(child, library):
            setattr(parent, name, scratch(child))
    return len(found)


def current_attention(model: nn.Module) -> str:
    """Which implementation `model`'s attention layers run: "hf" or "scratch"."""
    return "scratch" if any(isinstance(m, ScratchAttention) for m in model.modules()) else "hf"


@contextmanager
def attention_impl(model: nn.Module, impl: str) -> Iterator[nn.Module]:
    """Run `model` on `impl` inside a `with` block, then put back whatever it ran before."""
    previous = current_attention(model)
    set_attention(model, impl)
    try:
        yield model
    finally:
        set_attention(model, previous)
