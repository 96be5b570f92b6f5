"""The torch backend behind the seam: token ids in, token ids out, on the real tiny T5."""

from __future__ import annotations

import pytest
import torch

from summarizer.backends import open_backend
from summarizer.models.loading import load_model
from summarizer.backends.torch import beam_cache
from summarizer.config import build_settings
from summarizer.device import resolve


@pytest.fixture(scope="module")
def loaded(tiny_model_dir):
    return load_model(str(tiny_model_dir), resolve("cpu", "float32"))


def _rows(loaded, n=6):
    texts = ["The bridge reopened on Monday.", "Riders were pleased with the new ramp and the lights.",
             "The library lends seeds to gardeners every spring.", "Buses ran late all winter.",
             "A short one.", "The council met on Tuesday to discuss the budget for next year."]
    eos = loaded.tokenizer.eos_token_id
    return [loaded.tokenizer("summarize: " + t, add_special_tokens=False).input_ids + [eos] for t in texts[:n]]


@pytest.mark.parametrize("attention", ["hf", "scratch"])
def test_beam_search_without_reordering_cross_attention_gives_the_same_tokens(loaded, attention):
    """Beam search reorders the key/value cache after each step; the backend skips the cross-
    attention half (identical for all beams of a document). Same ids as the library's own cache."""
    settings = build_settings({"num_beams": 4, "max_length": 12, "min_length": 12, "attention": attention, "no_repeat_ngram_size": 2})
    backend = open_backend(loaded, settings)
    rows = _rows(loaded)
    ours = backend.generate(rows, settings.generation)
    width = max(map(len, rows))
    ids = torch.tensor([r + [0] * (width - len(r)) for r in rows])
    mask = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in rows])
    with torch.inference_mode():
        library = loaded.model.generate(input_ids=ids, attention_mask=mask, **settings.generation.generate_kwargs())
    assert ours == [row[1:] for row in library.tolist()]
    from summarizer.attention import set_attention

    set_attention(loaded.model, "hf")


def test_beam_cache_keeps_cross_attention_in_place(loaded):
    cache = beam_cache(loaded.model.config)
    cache.cross_attention_cache.update(torch.arange(8.0).view(2, 1, 4, 1), torch.arange(8.0).view(2, 1, 4, 1), 0)
    cache.self_attention_cache.update(torch.arange(8.0).view(2, 1, 4, 1), torch.arange(8.0).view(2, 1, 4, 1), 0)
    cache.reorder_cache(torch.tensor([1, 0]))
    assert cache.cross_attention_cache.layers[0].keys[0, 0, 0, 0] == 0, "cross-attention left alone"
    assert cache.self_attention_cache.layers[0].keys[0, 0, 0, 0] == 4, "self-attention follows the beams"


def test_int8_quantization_swaps_in_int8_linear_layers_and_generates(tiny_model_dir):
    fresh = load_model(str(tiny_model_dir), resolve("cpu", "float32"))
    int8 = build_settings({"num_beams": 1, "max_length": 8, "min_length": 8, "no_repeat_ngram_size": 2, "quantize": "int8", "backend": "torch"})
    rows = _rows(fresh)
    quantized_backend = open_backend(fresh, int8)
    linears = [m for m in quantized_backend.model.modules() if type(m).__name__ == "Linear"]
    assert linears and all(type(m).__module__.startswith("torch.ao.nn.quantized") for m in linears)
    assert type(fresh.model.lm_head).__module__.startswith("torch.nn"), "the float model is left as it was"
    quantized = quantized_backend.generate(rows, int8.generation)
    vocab = fresh.model.config.vocab_size
    assert all(len(q) == 8 and all(0 <= i < vocab for i in q) for q in quantized)


def test_threads_setting_reaches_torch(loaded):
    before = torch.get_num_threads()
    try:
        open_backend(loaded, build_settings({"threads": 1}))
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_quantize_refuses_a_half_precision_dtype():
    from summarizer.config import SettingsError

    with pytest.raises(SettingsError, match="--quantize int8 replaces --dtype float16"):
        build_settings({"quantize": "int8", "dtype": "float16"})


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", ["float32", "bfloat16"])
def test_cuda_generates_what_the_cpu_does(tiny_model_dir, dtype):
    """The same ids on the GPU as on the CPU (float32), and bfloat16 runs through the pipeline."""
    cpu = load_model(str(tiny_model_dir), resolve("cpu", "float32"))
    gpu = load_model(str(tiny_model_dir), resolve("cuda", dtype))
    settings = build_settings({"num_beams": 4, "max_length": 8, "min_length": 8, "early_stopping": True})
    on_cpu = open_backend(cpu, settings).generate(_rows(cpu), settings.generation)
    on_gpu = open_backend(gpu, settings).generate(_rows(gpu), settings.generation)
    assert len(on_gpu) == len(on_cpu) and all(len(row) == 8 for row in on_gpu)
    if dtype == "float32":
        assert on_gpu == on_cpu


def test_a_model_described_without_weights_never_imports_torch(t5_defaults_model_dir, samples_dir):
    """The CTranslate2 backend, a Ray driver and the extractive methods load only the tokenizer and
    config; transformers' Auto classes would import torch (over a second) to give them."""
    import json
    import subprocess
    import sys

    script = (
        "import json, sys; from summarizer.models.loading import load_model; from summarizer.device import resolve\n"
        f"m = load_model({str(t5_defaults_model_dir)!r}, resolve('cpu', 'float32', 'ctranslate2'), weights=False)\n"
        f"text = open({str(samples_dir / 'short.txt')!r}).read()\n"
        "print(json.dumps({'torch': 'torch' in sys.modules, 'ids': m.tokenizer(text).input_ids, 'window': m.window,\n"
        "  'defaults': m.task_defaults, 'vocab': m.config.vocab_size, 'start': m.config.decoder_start_token_id}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True)
    light = json.loads(out.stdout.splitlines()[-1])
    assert light["torch"] is False
    full = load_model(str(t5_defaults_model_dir), resolve("cpu", "float32"))
    assert light["ids"] == full.tokenizer((samples_dir / "short.txt").read_text()).input_ids
    assert light["window"] == full.window and light["defaults"] == full.task_defaults
    assert light["defaults"]["min_length"] == 30, "t5-small's own summarization defaults"
    assert (light["vocab"], light["start"]) == (full.config.vocab_size, full.config.decoder_start_token_id)
