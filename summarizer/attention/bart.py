"""BART's attention from scratch, in plain torch: the textbook one, also mBART's and Pegasus's.

    Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k) + M) V

exactly "Attention is all you need": Q, K and V are linear projections (with biases) of
the hidden states, split into heads of d_k = d_model / heads dimensions; the dot products
are divided by sqrt(d_k) so that their spread does not grow with d_k and push the softmax
into saturation. M is the mask, as in T5: 0 where a query may look, a very large negative
number where it may not (padding, and the future in decoder self-attention).

No position term in here, unlike T5's bias B: BART and mBART add learned position
embeddings, Pegasus sinusoidal ones, to the token embeddings before the first layer, so
attention itself sees content only. The three libraries' attention classes are copies of
one another (BartAttention, MBartAttention, PegasusAttention), so one layer serves all three.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch.nn.functional as F
from torch import Tensor
from transformers.cache_utils import Cache

from .base import ScratchAttention, apply_mask, future

if TYPE_CHECKING:
    from transformers.models.bart.modeling_bart import BartAttention


class ScratchBartAttention(ScratchAttention):
    """One BART attention layer (encoder self, decoder self or cross), built on the weights
    of the library layer it replaces.

    It keeps the library's calling convention, `(hidden_states, key_value_states, cache,
    attention_mask)` in and `(output, weights)` out, so the layers around it need no change.
    """

    def __init__(self, library: BartAttention):
        super().__init__(library)
        # The same Linear modules, not copies: parameters are shared, and the state_dict keys
        # (e.g. "model.encoder.layers.0.self_attn.q_proj.weight") stay the same, in the same order.
        self.k_proj, self.v_proj, self.q_proj = library.k_proj, library.v_proj, library.q_proj
        self.out_proj = library.out_proj
        self.n_heads = library.num_heads
        self.d_head = library.head_dim
        self.scale = library.scaling  # 1 / sqrt(d_head)
        self.is_decoder = library.is_decoder
        self.is_causal = library.is_causal  # decoder self-attention only
        self.layer_idx = library.layer_idx
        self.dropout = library.dropout

    def forward(
        self,
        hidden_states: Tensor,
        key_value_states: Tensor | None = None,
        cache: Cache | None = None,
        attention_mask: Tensor | None = None,
        past_key_values: Cache | None = None,
        **kwargs,
    ) -> tuple[Tensor, Tensor]:
        """Attend from `hidden_states` to themselves, or to `key_value_states` (cross-attention).

        The mask comes built from the layers around: additive with the causal part folded in
        (eager), or a boolean keep-mask, or None where sdpa would rely on its `is_causal`;
        then this layer masks the future itself.
        """
        cache = cache if cache is not None else past_key_values  # the cache's name before transformers 5.2x
        is_cross = key_value_states is not None
        source = key_value_states if is_cross else hidden_states
        q = self.split_heads(self.q_proj(hidden_states))  # (batch, heads, q_len, d_head)
        k, v = self.keys_values(source, cache, is_cross)  # (batch, heads, k_len, d_head)

        scores = q @ k.transpose(-2, -1)  # (batch, heads, q_len, k_len)
        scores *= self.scale  # / sqrt(d_head); the library scales the scores, not Q, and so do we: bit-identical
        if attention_mask is None and self.is_causal:
            attention_mask = ~future(q.shape[2], k.shape[2], q.device)  # (q_len, k_len) keep-mask: no peeking
        scores = apply_mask(scores, attention_mask)  # padding (and causal) mask
        weights = scores.softmax(dim=-1)  # (batch, heads, q_len, k_len)
        del scores  # the largest tensor here: free it before the next allocation
        weights = F.dropout(weights, p=self.dropout, training=self.training)
        output = self.out_proj(self.merge_heads(weights @ v))  # (batch, q_len, d_model)
        return output, weights

    def project_keys_values(self, source: Tensor) -> tuple[Tensor, Tensor]:
        return self.split_heads(self.k_proj(source)), self.split_heads(self.v_proj(source))
