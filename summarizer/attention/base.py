"""What every scratch attention layer shares: heads, masks, the key/value cache.

The families differ in how scores are formed (T5 adds a position bias and does not scale,
BART scales by 1/sqrt(d_k)); splitting into heads, masking, and reading and writing the
library's key/value cache are the same for all of them, and live here.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn
from transformers.cache_utils import Cache, EncoderDecoderCache


class ScratchAttention(nn.Module):
    """Base of the scratch layers: built on a library layer, sharing its weights.

    Subclasses take the library's projections as their own attributes (same modules, so the
    state_dict keys stay the same), set `n_heads`, `d_head` and `layer_idx`, and say how to
    project keys and values.
    """

    n_heads: int
    d_head: int
    layer_idx: int | None

    def __init__(self, library: nn.Module):
        super().__init__()
        self.train(library.training)  # a fresh module starts in training mode (dropout on)
        # Kept off the module tree, so parameters() and state_dict() list each weight once.
        self.__dict__["library_module"] = library

    def project_keys_values(self, source: Tensor) -> tuple[Tensor, Tensor]:
        """Keys and values of `source`, (batch, heads, len, d_head) each."""
        raise NotImplementedError

    def split_heads(self, x: Tensor) -> Tensor:
        """(batch, len, heads * d_head) -> (batch, heads, len, d_head): each head attends on its own."""
        return x.view(x.shape[0], x.shape[1], self.n_heads, self.d_head).transpose(1, 2)

    def merge_heads(self, x: Tensor) -> Tensor:
        """(batch, heads, len, d_head) -> (batch, len, heads * d_head): heads side by side for the output projection."""
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
            return self.project_keys_values(source)
        if not is_cross:
            self_cache = cache.self_attention_cache if isinstance(cache, EncoderDecoderCache) else cache
            return self_cache.update(*self.project_keys_values(source), self.layer_idx)
        if cache.is_updated.get(self.layer_idx):
            stored = cache.cross_attention_cache.layers[self.layer_idx]
            return stored.keys, stored.values
        k, v = cache.cross_attention_cache.update(*self.project_keys_values(source), self.layer_idx)
        cache.is_updated[self.layer_idx] = True
        return k, v


def future(q_len: int, k_len: int, device: torch.device) -> Tensor:
    """(q_len, k_len), True where the key comes after the query: what a decoder may not see.

    With a cache the queries are the newest `q_len` of the `k_len` positions.
    """
    key_pos = torch.arange(k_len, device=device)  # (k_len,)
    query_pos = key_pos[k_len - q_len :]  # (q_len,)
    return key_pos[None, :] > query_pos[:, None]


def apply_mask(scores: Tensor, mask: Tensor | None) -> Tensor:
    """Mask `scores` in place, whatever form `config._attn_implementation` gave the mask.

    "eager": a float mask to add, 0 or a very large negative number. "sdpa": a boolean
    keep-mask, or None when nothing needs masking: no padding, and a decoder that relies
    on sdpa's `is_causal` (the layer then applies the causal mask itself).
    """
    if mask is None:
        return scores
    if mask.dtype == torch.bool:  # to additive: a small (batch, 1, q_len, k_len) tensor, then one fast add
        mask = torch.where(mask, 0.0, torch.finfo(scores.dtype).min).to(scores.dtype)
    return scores.add_(mask)
