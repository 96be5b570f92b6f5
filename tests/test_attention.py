"""The scratch T5 attention against the library's, on random-weight models built in memory.

Random T5s at the default init scale collapse onto one repeated token (often the pad token
0) under greedy search, which would make "same tokens" vacuous. Two ways out, both used:
`no_repeat_ngram_size=1` makes each step pick the best token not yet used, so the ids
follow the logits' ranking and differ between inputs; and `initializer_factor=3` (CHAOTIC)
gives sharp, input-dependent attention and varied output without help, but float32 noise
grows so fast through its layers that only a bit-exact match (scratch vs eager) can be
asked of it. Every token test asserts that the output is varied.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest
import torch
from rich.console import Console
from tokenizers import Tokenizer, models, pre_tokenizers, processors
from torch import nn
from transformers import PreTrainedTokenizerFast, T5Config, T5ForConditionalGeneration
from transformers.models.t5.modeling_t5 import T5Attention

from helpers import one_torch_thread
from tiny_t5 import T5_SMALL_SHAPE

from summarizer.attention import (
    ATTENTION_CHOICES,
    ScratchT5Attention,
    attention_impl,
    relative_position_bucket,
    set_attention,
)
from summarizer.attention_map import AttentionMap, bar, cross_attention_map, render_terminal, save_png
from summarizer.compare import (
    LAYER_TYPES,
    attention_outputs,
    compare_attention,
    layer_type,
    make_inputs,
    render_comparison,
)

LIBRARY_IMPLS = ("eager", "sdpa")
TINY = dict(
    vocab_size=300, d_model=32, d_ff=64, d_kv=8, num_heads=4, num_layers=3, num_decoder_layers=3,
    relative_attention_num_buckets=8, relative_attention_max_distance=32,
)  # fmt: skip
WORDS = "the a cat dog sat on mat river bank money flows into town council met today to vote new bridge".split()
CHAOTIC = 3.0  # initializer_factor


def build_t5(shape: dict, attn: str = "sdpa", init: float = 1.0, seed: int = 0) -> T5ForConditionalGeneration:
    config = T5Config(**shape, dropout_rate=0.0, decoder_start_token_id=0, initializer_factor=init)
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config).eval()
    model.set_attn_implementation(attn)
    return model


@contextmanager
def library_attention(model: nn.Module, attn: str):
    previous = model.config._attn_implementation
    model.set_attn_implementation(attn)
    try:
        yield model
    finally:
        model.set_attn_implementation(previous)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Autouse here, and in the attention modules that import it."""
    with one_torch_thread():
        yield


@pytest.fixture(scope="module")
def t5_small() -> T5ForConditionalGeneration:
    """t5-small's exact shape (60M parameters), random weights; built once."""
    return build_t5(T5_SMALL_SHAPE)


@pytest.fixture(scope="module")
def tokenizer() -> PreTrainedTokenizerFast:
    """A word-level tokenizer built in memory: T5's special ids, EOS appended like T5's."""
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2, **{word: i + 3 for i, word in enumerate(WORDS)}}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    backend.post_processor = processors.TemplateProcessing(single="$A </s>", special_tokens=[("</s>", 1)])
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", model_max_length=64
    )


def padded_batch(model, tokens: int = 20, batch: int = 3, new_tokens: int = 6) -> dict:
    """Right-padded rows of decreasing length, plus teacher-forcing decoder ids."""
    inputs = make_inputs(model, None, tokens, batch, new_tokens, seed=0)
    assert (inputs["attention_mask"] == 0).any(), "the batch should carry padding"
    return inputs


def generate(model, inputs: dict, new_tokens: int = 8, **kwargs) -> torch.Tensor:
    prompt = {"input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"]}
    return model.generate(**prompt, max_new_tokens=new_tokens, min_new_tokens=new_tokens, **kwargs)


def assert_layers_match(model, inputs: dict, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    with attention_impl(model, "hf"):
        library = attention_outputs(model, **inputs)
    with attention_impl(model, "scratch"):
        scratch = attention_outputs(model, **inputs)
    modules = dict(model.named_modules())
    assert {layer_type(name, modules[name]) for name in library} == set(LAYER_TYPES)
    assert library.keys() == scratch.keys()
    for name in library:
        torch.testing.assert_close(scratch[name], library[name], rtol=rtol, atol=atol, msg=lambda m: f"{name}: {m}")


def assert_varied(ids: torch.Tensor) -> None:
    """Guard against vacuous token comparisons: a collapsed model repeats one token for any input."""
    generated = ids[:, 1:]
    assert generated.unique().numel() > 2, f"degenerate output {ids.tolist()}"
    assert not (generated == generated[0]).all(), f"output does not depend on the input {ids.tolist()}"


def assert_same_tokens(model, inputs: dict, new_tokens: int, **kwargs) -> None:
    with attention_impl(model, "hf"):
        expected = generate(model, inputs, new_tokens, **kwargs)
    with attention_impl(model, "scratch"):
        ids = generate(model, inputs, new_tokens, **kwargs)
    assert_varied(ids)
    assert torch.equal(ids, expected)


# ---------------------------------------------------------------- relative positions


def test_bidirectional_buckets_by_hand():
    # 32 buckets split 16 per direction; 8 exact (distance 0-7), then 8 log-spaced up to 128:
    # bucket = 8 + floor(log(d / 8) / log(128 / 8) * 8), capped at 15. Keys after the query add 16.
    #   d=16: 8 + floor(log 2 / log 16 * 8) = 8 + 2 = 10;  d=32: 8 + 4 = 12;  d=64: 8 + 6 = 14
    #   d=20: 8 + floor(0.330 * 8) = 10;  d=128 -> 16, capped at 15;  d=1000 -> 15
    relative = torch.tensor([0, -1, 1, -7, 7, -8, -16, 16, -20, -32, 32, -64, -128, 128, -1000, 1000])
    expected = torch.tensor([0, 1, 17, 7, 23, 8, 10, 26, 10, 12, 28, 14, 15, 31, 15, 31])
    assert torch.equal(relative_position_bucket(relative, bidirectional=True), expected)


def test_causal_buckets_by_hand():
    # The decoder only looks back: all 32 buckets for the past, 16 exact (distance 0-15), then
    # 16 + floor(log(d / 16) / log(128 / 16) * 16), capped at 31. Future offsets share bucket 0.
    #   d=32: 16 + floor(16 / 3) = 21;  d=64: 16 + floor(32 / 3) = 26;  d=100: 16 + floor(14.1) = 30
    relative = torch.tensor([3, 1, 0, -1, -15, -16, -32, -64, -100, -128, -5000])
    expected = torch.tensor([0, 0, 0, 1, 15, 16, 21, 26, 30, 31, 31])
    assert torch.equal(relative_position_bucket(relative, bidirectional=False), expected)


@pytest.mark.parametrize("bidirectional", [True, False])
@pytest.mark.parametrize("num_buckets,max_distance", [(32, 128), (8, 32)])
def test_buckets_agree_with_library(bidirectional, num_buckets, max_distance):
    relative = torch.arange(-600, 600)[None, :] - torch.arange(4)[:, None]
    ours = relative_position_bucket(relative, bidirectional, num_buckets, max_distance)
    theirs = T5Attention._relative_position_bucket(relative, bidirectional, num_buckets, max_distance)
    assert torch.equal(ours, theirs)
    assert ours.min() >= 0 and ours.max() < num_buckets


# ---------------------------------------------------------------- the seam


def test_set_attention_swaps_every_layer_and_back():
    model = build_t5(TINY)
    library = {name: m for name, m in model.named_modules() if isinstance(m, T5Attention)}
    keys = list(model.state_dict())
    n_params = sum(p.numel() for p in model.parameters())

    assert set_attention(model, "scratch") == len(library) == 3 + 3 + 3  # encoder self, decoder self, cross
    swapped = dict(model.named_modules())
    for name, original in library.items():
        scratch = swapped[name]
        assert isinstance(scratch, ScratchT5Attention)
        assert scratch.q.weight is original.q.weight and scratch.o.weight is original.o.weight  # shared, not copied
        if original.has_relative_attention_bias:
            assert scratch.relative_attention_bias.weight is original.relative_attention_bias.weight
    assert list(model.state_dict()) == keys
    assert sum(p.numel() for p in model.parameters()) == n_params
    assert set_attention(model, "scratch") == len(library)  # idempotent: no scratch-around-scratch

    with attention_impl(model, "hf"):
        assert isinstance(model.decoder.block[1].layer[1].EncDecAttention, T5Attention)
    assert isinstance(model.decoder.block[1].layer[1].EncDecAttention, ScratchT5Attention)  # back to scratch

    assert set_attention(model, "hf") == len(library)
    restored = dict(model.named_modules())
    assert all(restored[name] is original for name, original in library.items())


def test_weights_shared_through_dtype_change_and_train_mode():
    model = build_t5(TINY)
    set_attention(model, "scratch")
    model.to(torch.bfloat16).train()
    set_attention(model, "hf")
    attention = model.encoder.block[0].layer[0].SelfAttention
    assert isinstance(attention, T5Attention)
    assert attention.q.weight.dtype == torch.bfloat16
    assert attention.training, "model.train() while swapped must reach the restored library layer"


def test_set_attention_rejects_unknown_impl_and_unknown_models():
    with pytest.raises(ValueError, match="choose one of hf, scratch"):
        set_attention(build_t5(TINY), "flash")
    with pytest.raises(ValueError, match="covers T5, mT5, BART, mBART, Pegasus, not Sequential; use --attention hf"):
        set_attention(nn.Sequential(nn.Linear(4, 4)), "scratch")
    assert set_attention(nn.Sequential(nn.Linear(4, 4)), "hf") == 0  # nothing to put back
    assert ATTENTION_CHOICES == ("hf", "scratch")


# ---------------------------------------------------------------- parity


@pytest.mark.parametrize("attn", LIBRARY_IMPLS)
def test_tiny_layer_outputs_match_on_padded_batch(attn):
    model = build_t5(TINY, attn)
    assert_layers_match(model, padded_batch(model))
    assert_layers_match(model, make_inputs(model, None, 20, 1, 6, seed=1))  # no padding: sdpa passes mask=None


@pytest.mark.parametrize("attn", LIBRARY_IMPLS)
def test_t5_small_layer_outputs_match_on_padded_batch(t5_small, attn):
    with library_attention(t5_small, attn):
        assert_layers_match(t5_small, padded_batch(t5_small, tokens=24, batch=2))


@pytest.mark.parametrize("attn", LIBRARY_IMPLS)
@pytest.mark.parametrize("beams", [1, 4])
def test_tiny_generate_gives_identical_tokens(attn, beams):
    model = build_t5(TINY, attn)
    assert_same_tokens(model, padded_batch(model), 12, num_beams=beams, no_repeat_ngram_size=1)


@pytest.mark.parametrize("attn", LIBRARY_IMPLS)
@pytest.mark.parametrize("beams", [1, 4])
def test_t5_small_generate_gives_identical_tokens(t5_small, attn, beams):
    with library_attention(t5_small, attn):
        inputs = padded_batch(t5_small, tokens=24, batch=2)
        assert_same_tokens(t5_small, inputs, 6, num_beams=beams, no_repeat_ngram_size=1)


@pytest.mark.parametrize("beams", [1, 4])
def test_chaotic_model_generates_bit_identical_tokens_to_eager(beams):
    model = build_t5(TINY, "eager", init=CHAOTIC)
    assert_same_tokens(model, padded_batch(model), 12, num_beams=beams)


@pytest.mark.parametrize("attn", LIBRARY_IMPLS)
def test_kv_cache_does_not_change_output(attn):
    model = build_t5(TINY, attn)
    inputs = padded_batch(model)
    with attention_impl(model, "scratch"):
        cached = generate(model, inputs, 12, use_cache=True, no_repeat_ngram_size=1)
        uncached = generate(model, inputs, 12, use_cache=False, no_repeat_ngram_size=1)
    assert_varied(cached)
    assert torch.equal(cached, uncached)


def test_sampling_with_same_seed_matches_library():
    model = build_t5(TINY, "eager", init=CHAOTIC)
    inputs = padded_batch(model)
    runs = {}
    for impl in ATTENTION_CHOICES:
        with attention_impl(model, impl):
            torch.manual_seed(1234)
            runs[impl] = generate(model, inputs, 12, do_sample=True, top_k=50)
    assert_varied(runs["scratch"])
    assert torch.equal(runs["scratch"], runs["hf"])


def test_gradients_match_library():
    """Training through the scratch attention updates the shared weights exactly as the library would."""
    model = build_t5(TINY, "eager")
    inputs = padded_batch(model)
    labels = inputs["decoder_input_ids"][:, 1:].contiguous()
    grads = {}
    for impl in ATTENTION_CHOICES:
        model.zero_grad()
        with attention_impl(model, impl):
            model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"], labels=labels).loss.backward()
        grads[impl] = {name: p.grad.clone() for name, p in model.named_parameters()}
    assert grads["scratch"].keys() == grads["hf"].keys()
    for name, grad in grads["hf"].items():
        torch.testing.assert_close(grads["scratch"][name], grad, rtol=1e-4, atol=1e-6, msg=lambda m: f"{name}: {m}")
    assert grads["hf"]["encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight"].abs().sum() > 0


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_matches_eager_exactly(dtype):
    model = build_t5(TINY, "eager").to(dtype)
    inputs = padded_batch(model)
    assert_layers_match(model, inputs, rtol=0, atol=0)
    assert_same_tokens(model, inputs, 8, num_beams=2, no_repeat_ngram_size=1)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("attn", LIBRARY_IMPLS)
def test_cuda_parity(attn):
    model = build_t5(TINY, attn).cuda()
    inputs = padded_batch(model)
    assert_layers_match(model, inputs)
    assert_same_tokens(model, inputs, 12, num_beams=4, no_repeat_ngram_size=1)
    half = build_t5(TINY, attn).cuda().half()
    assert_layers_match(half, padded_batch(half), rtol=1e-2, atol=1e-2)
    with attention_impl(half, "scratch"):
        assert_varied(generate(half, padded_batch(half), 12, no_repeat_ngram_size=1))


# ---------------------------------------------------------------- compare


def test_make_inputs_pads_rows_and_keeps_special_ids_out(tokenizer):
    model = build_t5({**TINY, "vocab_size": len(tokenizer)})
    inputs = make_inputs(model, tokenizer, tokens=12, batch=3, new_tokens=4, seed=0)
    ids, mask = inputs["input_ids"], inputs["attention_mask"]
    lengths = mask.sum(dim=1).tolist()
    assert ids.shape == (3, 12) and lengths[0] == 12 and lengths == sorted(lengths, reverse=True) and lengths[-1] < 12
    for row, length in zip(ids.tolist(), lengths):
        assert row[length - 1] == tokenizer.eos_token_id  # ends like tokenized text
        assert not set(row[: length - 1]) & set(tokenizer.all_special_ids)
        assert set(row[length:]) <= {tokenizer.pad_token_id}
    assert inputs["decoder_input_ids"].shape == (3, 4) and (inputs["decoder_input_ids"][:, 0] == 0).all()


def test_compare_attention_reports_parity_and_restores_model():
    model = build_t5(TINY, "sdpa")
    library_modules = [m for m in model.modules() if isinstance(m, T5Attention)]
    result = compare_attention(model, None, tokens=16, batch=2, new_tokens=5, model_name="tiny", repeats=1)

    expected_keys = {"model", "device", "dtype", "tokens", "batch", "new_tokens", "max_abs_diff", "tokens_identical"}
    assert expected_keys <= set(result)
    assert (result["model"], result["device"], result["dtype"]) == ("tiny", "cpu", "float32")
    assert set(result["max_abs_diff"]) == set(LAYER_TYPES)
    assert max(result["max_abs_diff"].values()) < 1e-5
    assert result["tokens_identical"] is True
    assert set(result["implementations"]) == {"hf", "scratch", "sdpa"}
    for row in result["implementations"].values():
        assert row["seconds"] > 0
        assert row["peak_mb"] > 0  # CPU: profiler-measured tensor allocations

    assert model.config._attn_implementation == "sdpa"
    assert [m for m in model.modules() if isinstance(m, (T5Attention, ScratchT5Attention))] == library_modules

    console = Console(record=True, width=120)
    render_comparison(result, console)
    text = console.export_text()
    assert "scratch" in text and "sdpa" in text and "encoder_self" in text and "yes" in text


# ---------------------------------------------------------------- attention map


@pytest.fixture(scope="module")
def tiny_for_map(tokenizer) -> T5ForConditionalGeneration:
    return build_t5({**TINY, "vocab_size": len(tokenizer)})


TEXT = "the town council met today to vote on a new bridge over the river"


def test_cross_attention_map_shapes_and_rows(tiny_for_map, tokenizer):
    amap = cross_attention_map(tiny_for_map, tokenizer, TEXT, prefix="the ", max_new_tokens=7)
    assert isinstance(amap, AttentionMap)
    assert amap.source_tokens[0] == "the" and amap.source_tokens[-1] == "</s>"
    assert len(amap.source_tokens) == len(TEXT.split()) + 2
    assert 1 <= len(amap.summary_tokens) <= 7
    assert len(amap.weights) == len(amap.summary_tokens)
    assert all(len(row) == len(amap.source_tokens) for row in amap.weights)
    assert all(abs(sum(row) - 1) < 1e-4 for row in amap.weights)  # a distribution over the source
    assert (amap.layer, amap.head) == (2, None)  # default: last decoder layer, mean over heads
    assert isinstance(tiny_for_map.decoder.block[2].layer[1].EncDecAttention, T5Attention)  # restored

    one_head = cross_attention_map(tiny_for_map, tokenizer, TEXT, layer=0, head=3, max_new_tokens=7)
    assert (one_head.layer, one_head.head) == (0, 3)
    default = cross_attention_map(tiny_for_map, tokenizer, TEXT, max_new_tokens=7)
    assert one_head.summary_tokens == default.summary_tokens  # layer/head choose the view, not the summary
    assert one_head.weights != amap.weights


@pytest.mark.parametrize(
    "kwargs,message", [({"layer": 3}, "layer must be between 0 and 2"), ({"head": -1}, "head must be between 0 and 3")]
)
def test_cross_attention_map_validates_layer_and_head(tiny_for_map, tokenizer, kwargs, message):
    with pytest.raises(ValueError, match=message):
        cross_attention_map(tiny_for_map, tokenizer, TEXT, **kwargs)


def test_cross_attention_map_rejects_non_encoder_decoder_models(tokenizer):
    with pytest.raises(ValueError, match="need an encoder-decoder model, not Linear"):
        cross_attention_map(nn.Linear(2, 2), tokenizer, TEXT)


def test_save_png_writes_image_atomically(tiny_for_map, tokenizer, tmp_path):
    pytest.importorskip("matplotlib")
    amap = cross_attention_map(tiny_for_map, tokenizer, TEXT, max_new_tokens=5)
    out = save_png(amap, tmp_path / "maps" / "attention.png")
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert [p.name for p in out.parent.iterdir()] == ["attention.png"]  # no temp file left behind


def test_render_terminal_lists_top_source_tokens(tiny_for_map, tokenizer):
    amap = cross_attention_map(tiny_for_map, tokenizer, TEXT, max_new_tokens=5)
    console = Console(record=True, width=160)
    render_terminal(amap, console)
    text = console.export_text()
    assert "decoder layer 2" in text
    for token in amap.summary_tokens:
        assert token in text
    best = max(range(len(amap.source_tokens)), key=amap.weights[0].__getitem__)
    assert amap.source_tokens[best] in text
    assert "████" in text  # each row's strongest source gets a full bar
    assert (bar(1.0), bar(0.5), bar(0.0)) == ("████", "██  ", "    ")
