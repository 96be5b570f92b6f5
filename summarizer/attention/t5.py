"""T5 attention from scratch, in plain torch, swappable into a real T5 or mT5 model.

    Attention(Q, K, V) = softmax(Q K^T + B + M) V

Q, K and V are linear projections of the hidden states, split into heads. B is T5's
relative position bias: a learned scalar per (head, distance bucket). M is the mask:
0 where a query may look, a very large negative number where it may not (padding, and
the future in the decoder). Compared with "Attention is all you need" T5 drops the
1/sqrt(d_k) scaling (it is folded into the initialisation of the query weights) and
replaces sinusoidal position embeddings with B.

mT5's attention class is a copy of T5's, attribute for attribute, so the same layer serves both.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import Tensor
from transformers.cache_utils import Cache

from .base import ScratchAttention, apply_mask

if TYPE_CHECKING:
    from transformers.models.t5.modeling_t5 import T5Attention


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


class ScratchT5Attention(ScratchAttention):
    """One T5 attention layer (encoder self, decoder self or cross), built on the weights
    of the library layer it replaces.

    It keeps the library's calling convention, `(hidden_states, mask, key_value_states,
    position_bias, cache)` in and `(output, position_bias, weights)` out, so the T5
    blocks around it need no change.
    """

    def __init__(self, library: T5Attention):
        super().__init__(library)
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

    def project_keys_values(self, source: Tensor) -> tuple[Tensor, Tensor]:
        return self.split_heads(self.k(source)), self.split_heads(self.v(source))

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
