"""The from-scratch attention beyond T5: BART, Pegasus, mBART (scaled dot-product) and mT5,
the families it refuses, and cross-attention weights for every family.

The models are built in memory. BART-family models are drawn at init_std 0.1: at the default
0.02 a random BART writes the same tokens whatever the input, so "same tokens" would hold
even with a broken cross-attention; `assert_varied` checks every output depends on its input.
"""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from transformers import (
    BartConfig, BartForConditionalGeneration, LEDConfig, LEDForConditionalGeneration, LongT5Config,
    LongT5ForConditionalGeneration, MarianConfig, MarianMTModel, MBartConfig, MBartForConditionalGeneration,
    MT5Config, MT5ForConditionalGeneration, PegasusConfig, PegasusForConditionalGeneration, PegasusXConfig,
    PegasusXForConditionalGeneration, T5Config, T5ForConditionalGeneration, UMT5Config, UMT5ForConditionalGeneration,
)  # fmt: skip
from transformers.models.bart.modeling_bart import BartAttention

from test_attention import (  # noqa: F401 -- one_thread: the autouse fixture, for this file too
    TINY, assert_layers_match, assert_same_tokens, assert_varied, generate, library_attention, one_thread, padded_batch,
)  # fmt: skip

from summarizer.attention import (
    SCRATCH_LAYERS, ScratchAttention, ScratchBartAttention, ScratchT5Attention, attention_impl, attention_layers,
    current_attention, set_attention,
)  # fmt: skip
from summarizer.attention_map import cross_attention_map, cross_attention_weights
from summarizer.compare import compare_attention, make_inputs
from summarizer.models.families import FAMILIES
from summarizer.models.loading import load_model

BART_SHAPE = dict(
    vocab_size=300, d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4,
    decoder_attention_heads=4, encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=64,
    dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, init_std=0.1,
)  # fmt: skip
BART_IDS = dict(pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2)
T5_SHAPE = {**TINY, "num_layers": 2, "num_decoder_layers": 2, "dropout_rate": 0.0}
T5_IDS = dict(pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
SCRATCH = {  # family: (config, model, ids and shape, our layer)
    "bart": (BartConfig, BartForConditionalGeneration, {**BART_SHAPE, **BART_IDS}, ScratchBartAttention),
    "mbart": (MBartConfig, MBartForConditionalGeneration, {**BART_SHAPE, **BART_IDS}, ScratchBartAttention),
    "pegasus": (PegasusConfig, PegasusForConditionalGeneration, {**BART_SHAPE, "pad_token_id": 0, "eos_token_id": 1,
                "decoder_start_token_id": 0}, ScratchBartAttention),
    "mt5": (MT5Config, MT5ForConditionalGeneration, {**T5_SHAPE, **T5_IDS, "feed_forward_proj": "gated-gelu"},
            ScratchT5Attention),
}  # fmt: skip
SMALL = dict(vocab_size=300, d_model=32, encoder_layers=1, decoder_layers=2, encoder_attention_heads=2,
             decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, dropout=0.0)  # fmt: skip
REFUSED = {  # family: (config, model, shape, the reason the user reads)
    "led": (LEDConfig, LEDForConditionalGeneration, {**SMALL, "attention_window": 8, "max_encoder_position_embeddings": 64,
            "max_decoder_position_embeddings": 64, **BART_IDS}, "LED's encoder attention is windowed (Longformer)"),
    "longt5": (LongT5Config, LongT5ForConditionalGeneration, {**T5_SHAPE, **T5_IDS, "encoder_attention_type":
               "transient-global", "local_radius": 4, "global_block_size": 4}, "LongT5's encoder attention is local"),
    "umt5": (UMT5Config, UMT5ForConditionalGeneration, {**T5_SHAPE, **T5_IDS}, "UMT5 learns a position bias in every layer"),
    "pegasus_x": (PegasusXConfig, PegasusXForConditionalGeneration, {**SMALL, "block_size": 8, "num_global_tokens": 4,
                  "max_position_embeddings": 64}, "Pegasus-X's encoder attention is block-local with global tokens"),
    "marian": (MarianConfig, MarianMTModel, {**SMALL, "pad_token_id": 299, "decoder_start_token_id": 299},
               "the from-scratch attention covers T5, mT5, BART, mBART, Pegasus, not model type 'marian'"),
}  # fmt: skip
LIBRARY_IMPLS = ("eager", "sdpa")
TEXT = "the town council met today to vote on a new bridge over the river"


def build(family: str, attn: str = "sdpa", seed: int = 0) -> nn.Module:
    config_class, model_class, kwargs = (SCRATCH.get(family) or REFUSED[family])[:3]
    torch.manual_seed(seed)
    model = model_class(config_class(**kwargs)).eval()
    if model.config._attn_implementation != attn:
        model.set_attn_implementation(attn)
    return model


@pytest.fixture(scope="module")
def models() -> dict[str, nn.Module]:
    """One model per scratch family, on sdpa (as loaded); tests that change one restore it."""
    return {family: build(family) for family in SCRATCH}


# ---------------------------------------------------------------- the seam


def test_scratch_layers_cover_the_families_marked_so():
    assert set(SCRATCH_LAYERS) == {t for family in FAMILIES if family.scratch_attention for t in family.model_types}


@pytest.mark.parametrize("family", SCRATCH)
def test_set_attention_swaps_every_layer_and_back(family):
    model = build(family)
    library = attention_layers(model)
    keys, n_params = list(model.state_dict()), sum(p.numel() for p in model.parameters())
    assert len(library) == 2 + 2 + 2 and not any(isinstance(m, ScratchAttention) for m in library.values())

    assert set_attention(model, "scratch") == len(library)
    swapped = attention_layers(model)
    assert swapped.keys() == library.keys()
    for name, original in library.items():
        assert type(swapped[name]) is SCRATCH[family][3]
        ours, theirs = dict(swapped[name].named_parameters()), dict(original.named_parameters())
        assert ours.keys() == theirs.keys() and all(ours[p] is theirs[p] for p in theirs)  # shared, not copied
    assert list(model.state_dict()) == keys
    assert sum(p.numel() for p in model.parameters()) == n_params
    assert set_attention(model, "scratch") == len(library)  # idempotent: no scratch-around-scratch
    assert attention_layers(model) == swapped

    with attention_impl(model, "hf"):
        assert current_attention(model) == "hf" and attention_layers(model) == library
    assert current_attention(model) == "scratch"  # back to scratch

    assert set_attention(model, "hf") == len(library)
    assert attention_layers(model) == library  # the very same library modules


def test_bart_layer_is_softmax_of_scaled_dot_products():
    """The scratch layer against torch's own scaled_dot_product_attention, no transformers code involved:
    1/sqrt(d_k) scaling, and the causal mask applied by the layer itself when none is given."""
    torch.manual_seed(0)
    library = BartAttention(embed_dim=16, num_heads=2, is_decoder=True, is_causal=True, layer_idx=0).eval()
    ours = ScratchBartAttention(library)
    x = torch.randn(2, 5, 16)
    q, k, v = (proj(x).view(2, 5, 2, 8).transpose(1, 2) for proj in (library.q_proj, library.k_proj, library.v_proj))

    def reference(scale: float) -> torch.Tensor:
        heads = F.scaled_dot_product_attention(q, k, v, is_causal=True, scale=scale)
        return library.out_proj(heads.transpose(1, 2).reshape(2, 5, 16))

    output, weights = ours(x)
    torch.testing.assert_close(output, reference(8**-0.5))
    assert not torch.allclose(output, reference(1.0), atol=1e-3)  # T5's unscaled scores would differ
    assert weights.shape == (2, 2, 5, 5) and (weights.triu(diagonal=1) == 0).all()  # nothing from the future
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(2, 2, 5))


# ---------------------------------------------------------------- parity


@pytest.mark.parametrize("attn", LIBRARY_IMPLS)
@pytest.mark.parametrize("family", SCRATCH)
def test_layer_outputs_match_on_padded_batch(models, family, attn):
    model = models[family]
    with library_attention(model, attn):
        assert_layers_match(model, padded_batch(model))
        assert_layers_match(model, make_inputs(model, None, 20, 1, 6, seed=1))  # no padding: sdpa passes no mask


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
@pytest.mark.parametrize("family", ["bart", "mbart", "pegasus"])
def test_layer_outputs_bit_identical_to_eager(family, dtype):
    model = build(family, "eager").to(dtype)
    assert_layers_match(model, padded_batch(model), rtol=0, atol=0)


@pytest.mark.parametrize("beams", [1, 4])
@pytest.mark.parametrize("attn", LIBRARY_IMPLS)
@pytest.mark.parametrize("family", SCRATCH)
def test_generate_gives_identical_tokens(models, family, attn, beams):
    model = models[family]
    with library_attention(model, attn):
        assert_same_tokens(model, padded_batch(model), 10, num_beams=beams, no_repeat_ngram_size=1)


@pytest.mark.parametrize("family", ["bart", "pegasus"])
def test_kv_cache_does_not_change_output(models, family):
    model = models[family]
    inputs = padded_batch(model)
    with attention_impl(model, "scratch"):
        cached = generate(model, inputs, 10, use_cache=True, no_repeat_ngram_size=1)
        uncached = generate(model, inputs, 10, use_cache=False, no_repeat_ngram_size=1)
    assert_varied(cached)
    assert torch.equal(cached, uncached)


@pytest.mark.parametrize("family", ["bart", "pegasus"])
def test_compare_attention_on_the_bart_family(models, family):
    model = models[family]
    result = compare_attention(model, None, tokens=16, batch=2, new_tokens=5, repeats=1)
    assert max(result["max_abs_diff"].values()) == 0.0  # against eager, which it matches bit for bit
    assert result["tokens_identical"] is True
    assert model.config._attn_implementation == "sdpa" and current_attention(model) == "hf"


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("attn", LIBRARY_IMPLS)
@pytest.mark.parametrize("family", ["bart", "pegasus"])
def test_cuda_parity(family, attn):
    model = build(family, attn).cuda()
    inputs = padded_batch(model)
    assert_layers_match(model, inputs)
    assert_same_tokens(model, inputs, 10, num_beams=4, no_repeat_ngram_size=1)
    half = build(family, attn).cuda().half()
    assert_layers_match(half, padded_batch(half), rtol=1e-2, atol=1e-2)


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize("family", REFUSED)
def test_scratch_refused_with_the_family_and_why(family):
    model = build(family, "eager")
    before = dict(model.named_modules())
    with pytest.raises(ValueError) as refused:
        set_attention(model, "scratch")
    message = str(refused.value)
    assert message.startswith("--attention scratch: ") and REFUSED[family][3] in message
    assert message.endswith("; use --attention hf") and "\n" not in message
    assert dict(model.named_modules()) == before and current_attention(model) == "hf"
    assert set_attention(model, "hf") == 0  # nothing of ours to put back
    with pytest.raises(ValueError, match=rf"^compare-attention: {re.escape(REFUSED[family][3])}"):
        compare_attention(model, None, tokens=8, new_tokens=2, repeats=1)


# ---------------------------------------------------------------- cross-attention weights


@pytest.mark.parametrize("family", ["bart", "pegasus", "mt5", "led", "longt5"])
def test_cross_attention_weights_are_those_seen_while_generating(family):
    """Teacher-forced weights, row i, equal what the decoder attended to at the step that produced token i."""
    model = build(family, "eager")
    source = make_inputs(model, None, 12, 1, 1, seed=0)["input_ids"]
    extra = {}
    if family == "led":  # as summarize runs LED: global attention on the first token
        extra["global_attention_mask"] = torch.zeros_like(source)
        extra["global_attention_mask"][:, 0] = 1
    with torch.no_grad():
        out = model.generate(input_ids=source, **extra, max_new_tokens=6, min_new_tokens=6, no_repeat_ngram_size=1,
                             output_attentions=True, return_dict_in_generate=True)  # fmt: skip
    # cross_attentions: per step, per layer, (batch, heads, 1, source_len)
    seen = torch.stack([torch.cat(layers)[:, :, 0] for layers in out.cross_attentions], dim=2)
    weights = cross_attention_weights(model, source[0].tolist(), out.sequences[0, 1:].tolist())
    assert weights.shape[0] == 2 and weights.shape[2:] == (6, 12)  # (layers, heads, summary_len, source_len)
    assert weights.shape == seen.shape
    torch.testing.assert_close(weights, seen, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(weights.shape[:3]))
    assert not torch.allclose(weights[:, :, 0], weights[:, :, -1])  # each step looks somewhere of its own


def test_cross_attention_weights_leave_the_model_as_it_was():
    bart = build("bart", "sdpa")
    set_attention(bart, "scratch")
    weights = cross_attention_weights(bart, [5, 6, 7, 8, 2], [0, 9, 10])
    assert weights.shape == (2, 4, 3, 5) and weights.dtype == torch.float32
    assert current_attention(bart) == "scratch" and bart.config._attn_implementation == "sdpa"
    assert cross_attention_weights(bart, [5, 6, 2], []).shape == (2, 4, 0, 3)

    t5 = T5ForConditionalGeneration(T5Config(**TINY, decoder_start_token_id=0)).eval()
    t5.set_attn_implementation("sdpa")
    t5.decoder.set_attn_implementation("eager")  # as the CPU backend leaves a T5: decoder eager, encoder sdpa
    cross_attention_weights(t5, [5, 6, 1], [7])
    assert (t5.encoder.config._attn_implementation, t5.decoder.config._attn_implementation) == ("sdpa", "eager")


@pytest.fixture(scope="module")
def bart(bart_model_dir):
    return load_model(str(bart_model_dir))


def test_cross_attention_map_on_bart_is_the_weights_of_one_layer(bart):
    amap = cross_attention_map(bart.model, bart.tokenizer, TEXT, max_new_tokens=6, no_repeat_ngram_size=1)
    source_ids = bart.tokenizer(TEXT)["input_ids"]
    assert amap.source_tokens == bart.tokenizer.convert_ids_to_tokens(source_ids)
    assert (amap.layer, amap.head) == (1, None) and 1 <= len(amap.summary_tokens) <= 6
    summary_ids = bart.tokenizer.convert_tokens_to_ids(amap.summary_tokens)
    expected = cross_attention_weights(bart.model, source_ids, summary_ids)[1].mean(dim=0)
    torch.testing.assert_close(torch.tensor(amap.weights), expected)
    one_head = cross_attention_map(bart.model, bart.tokenizer, TEXT, layer=0, head=3, max_new_tokens=6,
                                   no_repeat_ngram_size=1)  # fmt: skip
    assert one_head.summary_tokens == amap.summary_tokens
    torch.testing.assert_close(
        torch.tensor(one_head.weights), cross_attention_weights(bart.model, source_ids, summary_ids)[0, 3]
    )
    with pytest.raises(ValueError, match="layer must be between 0 and 1"):
        cross_attention_map(bart.model, bart.tokenizer, TEXT, layer=2)
    with pytest.raises(ValueError, match="head must be between 0 and 3"):
        cross_attention_map(bart.model, bart.tokenizer, TEXT, head=4)

