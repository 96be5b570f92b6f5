"""T5 attention from scratch, in plain torch, swappable into a real T5 model.

    Attention(Q, K, V) = softmax(Q K^T + B + M) V

Q, K and V are linear projections of the hidden states, split into heads. B is T5's
relative position bias: a learned scalar per (head, distance bucket). M is the mask:
0 where a query may look, a very large negative number where it may not (padding, and
the future in the decoder). Compared with "Attention is all you need" T5 drops the
1/sqrt(d_k) scaling (it is folded into the initialisation of the query weights) and
replaces sinusoidal position embeddings with B.

`set_attention(model, "scratch")` puts a `ScratchT5Attention` in place of every
`T5Attention`; it shares the library layer's weights rather than copying them, so both
implementations always see the same parameters. `set_attention(model, "hf")` puts the
library modules back.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from transformers.cache_utils import Cache, EncoderDecoderCache
from transformers.models.t5.modeling_t5 import T5Attention

from .config import ATTENTION_CHOICES


def relative_position_bucket(
    relative_position: Tensor,
    bidirectional: bool,
    num_buckets: int = 32,
    max_distance: int = 128,
) -> Tensor:
    """Map each key-minus-query offset to one of `num_buckets` buckets.

    T5 learns one bias per bucket, not per offset: small distances get a bucket each,
    larger ones share logarithmically wider buckets, and everything at `max_distance` or
    beyond shares the last one, so the model copes with sequences longer than it saw
    in training. The encoder looks both ways and spends half its buckets on each
    direction; the decoder only looks back, so future offsets all land in bucket 0
    (they are masked anyway).
    """
    buckets = torch.zeros_like(relative_position, dtype=torch.long)
    if bidirectional:
        num_buckets //= 2
        buckets += (relative_position > 0).long() * num_buckets  # keys after the query
        distance = relative_position.abs()
    else:
        distance = (-relative_position).clamp(min=0)
    max_exact = num_buckets // 2
    # Clamping below max_exact only avoids log(0); those distances use the exact branch.
    log_ratio = torch.log(distance.clamp(min=max_exact).float() / max_exact) / math.log(max_distance / max_exact)
    log_bucket = (max_exact + (log_ratio * (num_buckets - max_exact)).long()).clamp(max=num_buckets - 1)
    return buckets + torch.where(distance < max_exact, distance.long(), log_bucket)


class ScratchT5Attention(nn.Module):
    """One T5 attention layer (encoder self, decoder self or cross), built on the weights
    of the library layer it replaces.

    It keeps the library's calling convention, `(hidden_states, mask, key_value_states,
    position_bias, cache)` in and `(output, position_bias, weights)` out, so the T5
    blocks around it need no change.
    """

    def __init__(self, library: T5Attention):
        super().__init__()
        # The same Linear/Embedding modules, not copies: parameters are shared, and the
        # state_dict keys (e.g. "encoder.block.0.layer.0.SelfAttention.q.weight") stay the same.
        self.q, self.k, self.v, self.o = library.q, library.k, library.v, library.o
        self.has_relative_attention_bias = library.has_relative_attention_bias
        if self.has_relative_attention_bias:
            self.relative_attention_bias = library.relative_attention_bias
        self.n_heads = library.n_heads
        self.d_head = library.key_value_proj_dim
        self.is_decoder = library.is_decoder
        self.is_causal = library.is_causal
        self.layer_idx = library.layer_idx
        self.num_buckets = library.relative_attention_num_buckets
        self.max_distance = library.relative_attention_max_distance
        self.dropout = library.dropout
        self.train(library.training)  # a fresh module starts in training mode (dropout on)
        # Kept off the module tree, so parameters() and state_dict() list each weight once.
        self.__dict__["library_module"] = library

    def forward(
        self,
        hidden_states: Tensor,
        mask: Tensor | None = None,
        key_value_states: Tensor | None = None,
        position_bias: Tensor | None = None,
        cache: Cache | None = None,
        past_key_values: Cache | None = None,
        **kwargs,
    ) -> tuple[Tensor, Tensor, Tensor]:
        """Attend from `hidden_states` to themselves, or to `key_value_states` (cross-attention).

        `position_bias` is None only in the first layer of a stack: that layer computes it
        and returns it, and the T5 stack hands it to every later layer, which is why only
        the first layer owns `relative_attention_bias`. The bias has no batch dimension;
        the padding mask, which has, comes with every call. No float32 upcast before the
        softmax: torch's softmax kernels already accumulate fp16/bf16 inputs in float32.
        """
        cache = cache if cache is not None else past_key_values  # the cache's name before transformers 5.2x
        is_cross = key_value_states is not None
        source = key_value_states if is_cross else hidden_states
        q = self.split_heads(self.q(hidden_states))  # (batch, heads, q_len, d_head)
        k, v = self.keys_values(source, cache, is_cross)  # (batch, heads, k_len, d_head)
        if position_bias is None:
            causal = self.is_causal and mask is None  # with a mask, the stack has made it causal already
            position_bias = self.compute_bias(is_cross, causal, q.shape[2], k.shape[2], q.dtype, q.device)

        scores = q @ k.transpose(-2, -1)  # (batch, heads, q_len, k_len); no 1/sqrt(d_head) in T5
        scores += position_bias  # (1, heads, q_len, k_len): relative position bias, broadcast over the batch
        scores = apply_mask(scores, mask)  # padding (and, from the stack, causal) mask
        weights = scores.softmax(dim=-1)  # (batch, heads, q_len, k_len)
        del scores  # the largest tensor here: free it before the next allocation
        weights = F.dropout(weights, p=self.dropout, training=self.training)
        output = self.o(self.merge_heads(weights @ v))  # (batch, q_len, d_model)
        return output, position_bias, weights

    def split_heads(self, x: Tensor) -> Tensor:
        """(batch, len, heads * d_head) -> (batch, heads, len, d_head): each head attends on its own."""
        return x.view(x.shape[0], x.shape[1], self.n_heads, self.d_head).transpose(1, 2)

    def merge_heads(self, x: Tensor) -> Tensor:
        """(batch, heads, len, d_head) -> (batch, len, heads * d_head): heads side by side for `o`."""
        return x.transpose(1, 2).reshape(x.shape[0], x.shape[2], self.n_heads * self.d_head)

    def keys_values(self, source: Tensor, cache: Cache | None, is_cross: bool) -> tuple[Tensor, Tensor]:
        """Keys and values for this step, from the cache where possible.

        Decoder self-attention appends this step's keys/values to those of earlier steps,
        so each generated token costs one new projection rather than re-running the whole
        prefix. Cross-attention keys/values come from the encoder output, which does not
        change during generation: project them on the first step and reuse them after.
        The cache is the library's, so beam search can reorder it as usual.
        """
        if cache is None:
            return self.split_heads(self.k(source)), self.split_heads(self.v(source))
        if not is_cross:
            self_cache = cache.self_attention_cache if isinstance(cache, EncoderDecoderCache) else cache
            return self_cache.update(self.split_heads(self.k(source)), self.split_heads(self.v(source)), self.layer_idx)
        if cache.is_updated.get(self.layer_idx):
            stored = cache.cross_attention_cache.layers[self.layer_idx]
            return stored.keys, stored.values
        k, v = cache.cross_attention_cache.update(
            self.split_heads(self.k(source)), self.split_heads(self.v(source)), self.layer_idx
        )
        cache.is_updated[self.layer_idx] = True
        return k, v

    def compute_bias(
        self, is_cross: bool, causal: bool, q_len: int, k_len: int, dtype: torch.dtype, device: torch.device
    ) -> Tensor:
        """Relative position bias, (1, heads, q_len, k_len), with the causal mask folded in if asked.

        Cross-attention has no positions: its bias is zero, as in the library.
        """
        if is_cross:
            return torch.zeros(1, 1, q_len, k_len, dtype=dtype, device=device)
        key_pos = torch.arange(k_len, device=device)  # (k_len,)
        query_pos = key_pos[k_len - q_len :]  # (q_len,); with a cache the queries are the newest positions
        relative_position = key_pos[None, :] - query_pos[:, None]  # (q_len, k_len)
        if self.has_relative_attention_bias:
            bidirectional = not self.is_decoder
            buckets = relative_position_bucket(relative_position, bidirectional, self.num_buckets, self.max_distance)
            bias = self.relative_attention_bias(buckets).permute(2, 0, 1).unsqueeze(0).to(dtype)  # (1, heads, q, k)
            bias = bias.contiguous()  # copied once per stack, so that every layer adds it at full speed
        else:
            bias = torch.zeros(1, 1, q_len, k_len, dtype=dtype, device=device)
        if causal:
            bias = bias.masked_fill(relative_position > 0, torch.finfo(dtype).min)  # no peeking at later tokens
        return bias


def apply_mask(scores: Tensor, mask: Tensor | None) -> Tensor:
    """Mask `scores` in place, whatever form `config._attn_implementation` gave the mask.

    "eager": a float mask to add, 0 or a very large negative number. "sdpa": a boolean
    keep-mask, or None when nothing needs masking: no padding, and a decoder that relies
    on sdpa's `is_causal` (our position bias then carries the causal mask).
    """
    if mask is None:
        return scores
    if mask.dtype == torch.bool:  # to additive: a small (batch, 1, q_len, k_len) tensor, then one fast add
        mask = torch.where(mask, 0.0, torch.finfo(scores.dtype).min).to(scores.dtype)
    return scores.add_(mask)


def set_attention(model: nn.Module, impl: str) -> int:
    """Run every T5 attention layer of `model` on `impl`: "scratch" (this module) or "hf"
    (the library's own, which then follows `model.config._attn_implementation`).

    Swaps modules in place and is reversible and idempotent. Returns the number of
    attention layers now running `impl` (18 for t5-small: 6 encoder self, 6 decoder
    self, 6 cross).
    """
    if impl not in ATTENTION_CHOICES:
        raise ValueError(f"unknown attention implementation {impl!r}: choose one of {', '.join(ATTENTION_CHOICES)}")
    slots = [
        (parent, name, child)
        for parent in model.modules()
        for name, child in parent.named_children()
        if isinstance(child, (T5Attention, ScratchT5Attention))
    ]
    if not slots:
        raise ValueError(
            f"{type(model).__name__} has no T5 attention layers: "
            "the scratch attention only applies to T5 models (t5-small, flan-t5-base, ...)"
        )
    for parent, name, child in slots:
        if impl == "scratch" and isinstance(child, T5Attention):
            setattr(parent, name, ScratchT5Attention(child))
        elif impl == "hf" and isinstance(child, ScratchT5Attention):
            child.library_module.train(child.training)  # model.train()/eval() only reached the swapped-in module
            setattr(parent, name, child.library_module)
    return len(slots)


def current_attention(model: nn.Module) -> str:
    """Which implementation `model`'s T5 attention layers run: "hf" or "scratch"."""
    return "scratch" if any(isinstance(m, ScratchT5Attention) for m in model.modules()) else "hf"


@contextmanager
def attention_impl(model: nn.Module, impl: str) -> Iterator[nn.Module]:
    """Run `model` on `impl` inside a `with` block, then put back whatever it ran before."""
    previous = current_attention(model)
    set_attention(model, impl)
    try:
        yield model
    finally:
        set_attention(model, previous)
