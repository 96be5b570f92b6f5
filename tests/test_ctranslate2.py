"""The CTranslate2 backend: conversion cache, settings mapping, and token-for-token parity with torch."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import fields
from pathlib import Path
from types import SimpleNamespace

import pytest

ctranslate2 = pytest.importorskip("ctranslate2")

from helpers import one_torch_thread  # noqa: E402
from summarizer.backends import BackendError, open_backend  # noqa: E402
from summarizer.backends import ctranslate2 as ct2_backend  # noqa: E402
from summarizer.backends.ctranslate2 import CTranslate2Backend, cache_key, compute_type, ct2_options  # noqa: E402
from summarizer.models.loading import Checkpoint, LoadedModel, load_model  # noqa: E402
from summarizer.backends.torch import TorchBackend  # noqa: E402
from summarizer.config import GenerationSettings, RunSettings  # noqa: E402
from summarizer.device import Placement, resolve  # noqa: E402
from tiny_t5 import SAMPLES, build_tiny_t5  # noqa: E402

CPU = Placement("cpu", "float32")
NO_CUDA = ctranslate2.get_cuda_device_count() == 0
PAIRS = 16  # training pairs; the parity checks decode these same inputs


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module", autouse=True)
def _module_setup(tmp_path_factory):
    """Conversions land in this module's own cache, so each test here sees only its own
    conversions; torch runs on one thread."""
    with one_torch_thread(), pytest.MonkeyPatch.context() as patch:
        patch.setenv("SUMMARIZER_CACHE", str(tmp_path_factory.mktemp("summarizer-cache")))
        yield


def _short_sentences() -> list[str]:
    sentences = []
    for path in sorted(SAMPLES.rglob("*")):
        if path.suffix in (".txt", ".md"):
            text = " ".join(path.read_text(encoding="utf-8").split())
            for sentence in re.split(r"(?<=[.!?])\s+", text):
                words = sentence.strip("#*- ").split()
                if len(words) >= 3:
                    sentences.append(" ".join(words[:6]).rstrip(".,;:") + ".")
    return sentences


def _pairs() -> list[tuple[str, str]]:
    """("summarize: A. B.", "A.") for consecutive short sentences of the samples."""
    sentences = _short_sentences()
    return [(f"summarize: {a} {b}", a) for a, b in zip(sentences, sentences[1:])][:PAIRS]


@pytest.fixture(scope="session")
def trained_dir(tmp_path_factory, tiny_model_dir) -> Path:
    """A tiny T5 trained for a few seconds to copy the first of two short sentences.

    Its outputs are peaked, so two runtimes computing the same thing pick the same tokens; a
    random model's near-ties would make token parity a coin toss on rounding.
    """
    import torch
    from transformers import AutoTokenizer, T5Config, T5ForConditionalGeneration

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    config = T5Config(
        vocab_size=len(tokenizer), d_model=48, d_ff=96, d_kv=16, num_heads=4, num_layers=2, num_decoder_layers=2,
        relative_attention_num_buckets=8, relative_attention_max_distance=32, dropout_rate=0.0,
        decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
    )
    sources, targets = zip(*_pairs())
    inputs = tokenizer(list(sources), padding=True, return_tensors="pt")
    labels = tokenizer(list(targets), padding=True, return_tensors="pt").input_ids
    labels[labels == tokenizer.pad_token_id] = -100
    torch.manual_seed(0)
    model = T5ForConditionalGeneration(config)
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(200):
        loss = model(input_ids=inputs.input_ids, attention_mask=inputs.attention_mask, labels=labels).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    out = tmp_path_factory.mktemp("trained-t5")
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)
    return out


def _rows(model_dir: Path) -> list[list[int]]:
    """Encoder inputs as the pipeline builds them: prefix + text + </s>."""
    tokenizer = load_model(str(model_dir), CPU, weights=False).tokenizer
    return [tokenizer(source).input_ids for source, _ in _pairs()]


def _open_ct2(model_dir: Path, placement: Placement = CPU, **run) -> CTranslate2Backend:
    settings = RunSettings(backend="ctranslate2", threads=1, **run)
    return CTranslate2Backend.open(load_model(str(model_dir), placement, weights=False), settings)


@pytest.fixture(scope="module")
def trained(trained_dir):
    torch_backend = TorchBackend.open(load_model(str(trained_dir), CPU), RunSettings())
    return SimpleNamespace(rows=_rows(trained_dir), torch=torch_backend, ct2=_open_ct2(trained_dir))


@pytest.fixture(scope="module")
def random_model(tiny_model_dir):
    torch_backend = TorchBackend.open(load_model(str(tiny_model_dir), CPU), RunSettings())
    return SimpleNamespace(rows=_rows(tiny_model_dir)[:8], torch=torch_backend, ct2=_open_ct2(tiny_model_dir))


def _summary(ids) -> list[int]:
    """Ids through the first </s>: torch pads shorter rows of a batch after it."""
    ids = list(ids)
    return ids[: ids.index(1) + 1] if 1 in ids else ids


def _both(models, generation: GenerationSettings) -> tuple[list[list[int]], list[list[int]]]:
    expected = [_summary(row) for row in models.torch.generate(models.rows, generation)]
    actual = [_summary(row) for row in models.ct2.generate(models.rows, generation)]
    return expected, actual


# --- generation settings: every flag mapped or refused ---------------------------------------

BASELINE = dict(
    beam_size=1, patience=1, num_hypotheses=1, length_penalty=1.0, max_decoding_length=150, min_decoding_length=0,
    no_repeat_ngram_size=0, repetition_penalty=1.0, sampling_topk=1, return_end_token=True, max_input_length=0,
)
BEAMS = dict(num_beams=4, early_stopping=True)
MAPPED = [
    (dict(max_length=20), dict(max_decoding_length=20)),
    (dict(min_length=5), dict(min_decoding_length=5)),
    (BEAMS, dict(beam_size=4)),
    (dict(temperature=0.7), dict(sampling_temperature=0.7, sampling_topk=50, sampling_topp=1.0)),
    (dict(temperature=0.7, top_k=0), dict(sampling_temperature=0.7, sampling_topk=0, sampling_topp=1.0)),
    (dict(temperature=0.7, top_p=0.9), dict(sampling_temperature=0.7, sampling_topk=50, sampling_topp=0.9)),
    (dict(top_k=5, top_p=0.5), {}),  # sampling knobs without sampling: inactive, as in torch
    (dict(length_penalty=2.0, **BEAMS), dict(beam_size=4, length_penalty=2.0)),
    (dict(length_penalty=0.0, **BEAMS), dict(beam_size=4, length_penalty=1e-30)),
    (dict(length_penalty=0.0, num_beams=4, early_stopping=False), dict(beam_size=4, length_penalty=0.0)),
    (dict(no_repeat_ngram_size=3), dict(no_repeat_ngram_size=3)),
    (dict(repetition_penalty=1.3), dict(repetition_penalty=1.3)),
    (dict(early_stopping=True), {}),  # a beam-search flag: greedy decoding has nothing to stop early
    (dict(seed=3), {}),  # applied when the backend opens
    (dict(prefix="summarize: "), {}),  # already in the input ids
    (dict(target_language="de_DE"), {}),  # mBART-50's forced first token: a target prefix, not an option
]
REFUSED = [
    (dict(num_beams=4), "early_stopping"),
    (dict(temperature=0.5, **BEAMS), "--temperature"),
    (dict(repetition_penalty=1.2, **BEAMS), "--repetition-penalty"),
]


def test_the_table_covers_every_generation_setting():
    covered = {key for kwargs, _ in MAPPED + REFUSED for key in kwargs}
    assert covered == {f.name for f in fields(GenerationSettings)}


def test_default_settings_map_to_greedy_decoding():
    assert ct2_options(GenerationSettings()) == BASELINE


@pytest.mark.parametrize("kwargs, changes", MAPPED, ids=lambda v: repr(v) if isinstance(v, dict) else None)
def test_each_setting_maps_to_its_ctranslate2_option(kwargs, changes, random_model):
    settings = GenerationSettings(**kwargs)
    assert ct2_options(settings) == {**BASELINE, **changes}
    # CTranslate2 accepts the options (a misspelt keyword would raise here).
    short = GenerationSettings(**{**kwargs, "max_length": kwargs.get("max_length", 6)})
    assert len(random_model.ct2.generate(random_model.rows[:2], short)) == 2


@pytest.mark.parametrize("kwargs, flag", REFUSED)
def test_settings_without_equivalent_are_refused_naming_the_flag(kwargs, flag):
    with pytest.raises(BackendError, match=re.escape(flag)) as caught:
        ct2_options(GenerationSettings(**kwargs))
    assert "\n" not in str(caught.value)


# --- parity with the torch backend ------------------------------------------------------------

# Beam search with a 2-gram ban is missing on purpose: CTranslate2 renormalizes after the ban and
# transformers does not (see ct2_options), and on the input this model copies worst ("Commmunity")
# the ban removes a likely token, so the two pick different beams.
EXACT = [
    dict(),
    dict(no_repeat_ngram_size=2),
    dict(no_repeat_ngram_size=3),
    dict(min_length=8, no_repeat_ngram_size=2),
    dict(repetition_penalty=1.3),
    dict(**BEAMS),
    dict(length_penalty=2.0, min_length=5, **BEAMS),
    dict(length_penalty=0.0, **BEAMS),
    dict(length_penalty=0.0, num_beams=4, early_stopping=False),
    dict(no_repeat_ngram_size=3, **BEAMS),
]


@pytest.mark.parametrize("kwargs", EXACT, ids=repr)
def test_trained_model_summaries_equal_torch_token_for_token(kwargs, trained):
    expected, actual = _both(trained, GenerationSettings(max_length=40, **kwargs))
    assert actual == expected


@pytest.mark.parametrize("n", [1, 2, 3])
def test_no_repeat_history_starts_with_the_decoder_start_token_as_in_transformers(n, random_model):
    """transformers counts the decoder start token (<pad>) as the first token of the n-gram
    history, CTranslate2 only the generated tokens. A random T5 emits <pad> all the time, so
    here every row depends on the backend restoring transformers' rule."""
    start = random_model.torch.model.config.decoder_start_token_id
    plain = random_model.ct2.generate(random_model.rows, GenerationSettings(max_length=24))
    assert all(start in row for row in plain)
    expected, actual = _both(random_model, GenerationSettings(max_length=24, no_repeat_ngram_size=n))
    assert actual == expected


@pytest.mark.parametrize("kwargs", [dict(), dict(min_length=10), dict(repetition_penalty=1.5), dict(**BEAMS)], ids=repr)
def test_random_model_summaries_equal_torch(kwargs, random_model):
    expected, actual = _both(random_model, GenerationSettings(max_length=24, **kwargs))
    assert actual == expected


def _learned(model_dir: Path, backend) -> list[int]:
    """Indexes of the inputs the trained model copies right: there its choices are confident."""
    tokenizer = load_model(str(model_dir), CPU, weights=False).tokenizer
    rows = _rows(model_dir)
    texts = tokenizer.batch_decode(backend.generate(rows, GenerationSettings(max_length=40)), skip_special_tokens=True)
    return [i for i, (text, (_, target)) in enumerate(zip(texts, _pairs())) if text == target]


def test_the_trained_model_learned_its_task(trained_dir, trained):
    """Guards the parity tests: they prove little if the model never became confident."""
    assert len(_learned(trained_dir, trained.ct2)) >= PAIRS - 4


def test_int8_on_cpu_gives_the_same_summaries_where_the_model_is_confident(trained_dir, trained):
    quantized = _open_ct2(trained_dir, quantize="int8")
    learned = _learned(trained_dir, trained.ct2)
    assert _learned(trained_dir, quantized) == learned


# --- sampling ---------------------------------------------------------------------------------


def _sample(model_dir: Path, rows, **kwargs) -> list[list[int]]:
    generation = GenerationSettings(max_length=16, temperature=1.0, **kwargs)
    return _open_ct2(model_dir, generation=generation).generate(rows, generation)


def test_same_seed_same_samples_other_seed_other_samples(tiny_model_dir, random_model):
    rows = random_model.rows
    assert _sample(tiny_model_dir, rows, seed=7) == _sample(tiny_model_dir, rows, seed=7)
    assert _sample(tiny_model_dir, rows, seed=7) != _sample(tiny_model_dir, rows, seed=8)


def test_top_k_past_the_vocabulary_keeps_every_token(tiny_model_dir, random_model):
    """CTranslate2 rejects a top-k larger than the vocabulary; transformers keeps everything."""
    rows = random_model.rows
    assert _sample(tiny_model_dir, rows, seed=5, top_k=100_000) == _sample(tiny_model_dir, rows, seed=5, top_k=0)


# --- the conversion cache ---------------------------------------------------------------------


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache" / "ctranslate2"


@pytest.fixture
def conversions(monkeypatch) -> list[str]:
    """Every real conversion, observed through the module's converter function."""
    calls: list[str] = []
    convert = ct2_backend.convert_checkpoint

    def counting(source, output_dir, revision):
        calls.append(source)
        convert(source, output_dir, revision)

    monkeypatch.setattr(ct2_backend, "convert_checkpoint", counting)
    return calls


def test_unmappable_settings_are_refused_before_any_conversion(cache, conversions, tiny_model_dir):
    with pytest.raises(BackendError, match="early_stopping"):
        _open_ct2(tiny_model_dir, generation=GenerationSettings(num_beams=4))
    assert conversions == []


def test_converts_once_then_loads_the_cached_copy(cache, conversions, tiny_model_dir, random_model):
    generation = GenerationSettings(max_length=8)
    first = _open_ct2(tiny_model_dir).generate(random_model.rows, generation)
    second = _open_ct2(tiny_model_dir).generate(random_model.rows, generation)
    assert conversions == [str(tiny_model_dir.resolve())]
    assert first == second
    [converted] = list(cache.iterdir())
    assert (converted / "model.bin").is_file()


def test_xdg_cache_home_is_the_default_place(tmp_path, monkeypatch):
    monkeypatch.delenv("SUMMARIZER_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert ct2_backend.cache_root() == tmp_path / "summarizer" / "ctranslate2"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_interrupted_conversions_are_never_loaded_and_are_cleaned_up(cache, conversions, tiny_model_dir, random_model):
    key = cache_key(load_model(str(tiny_model_dir), CPU, weights=False))
    half_written = cache / key
    half_written.mkdir(parents=True)
    (half_written / "config.json").write_text("{}")  # a model folder without model.bin
    host = socket.gethostname()
    abandoned = cache / f".{key}.{host}.{_dead_pid()}.tmp"
    in_progress = cache / f".{key}.{host}.{os.getppid()}.tmp"  # a live process: maybe converting now
    for temp in (abandoned, in_progress):
        temp.mkdir()
        (temp / "model.bin").write_bytes(b"partial")

    ids = _open_ct2(tiny_model_dir).generate(random_model.rows, GenerationSettings(max_length=8))

    assert len(conversions) == 1
    assert (half_written / "model.bin").stat().st_size > len(b"partial")
    assert not abandoned.exists()
    assert in_progress.exists()
    assert ids == _open_ct2(tiny_model_dir).generate(random_model.rows, GenerationSettings(max_length=8))


def test_losing_a_conversion_race_discards_the_copy_and_uses_the_winner(cache, monkeypatch, tiny_model_dir):
    convert = ct2_backend.convert_checkpoint
    key = cache_key(load_model(str(tiny_model_dir), CPU, weights=False))

    def racing(source, output_dir, revision):
        convert(source, output_dir, revision)
        shutil.copytree(output_dir, cache / key)  # another process renames its copy in first

    monkeypatch.setattr(ct2_backend, "convert_checkpoint", racing)
    backend = _open_ct2(tiny_model_dir)
    assert [p.name for p in cache.iterdir()] == [key]
    assert backend.generate([[4, 5, 1]], GenerationSettings(max_length=4))


def test_cache_key_follows_the_folder_contents(tmp_path, tiny_model_dir, conversions, cache):
    folder = tmp_path / "model"
    shutil.copytree(tiny_model_dir, folder)

    def key() -> str:
        return cache_key(load_model(str(folder), CPU, weights=False))

    before = key()
    assert key() == before
    assert before.startswith("model-")
    _open_ct2(folder)
    build_tiny_t5(tmp_path / "other", seed=1)
    shutil.copy2(tmp_path / "other" / "model.safetensors", folder / "model.safetensors")
    weights_changed = key()
    assert weights_changed != before
    _open_ct2(folder)
    assert len(conversions) == 2
    config = folder / "config.json"
    config.write_text(config.read_text().replace('"num_heads": 4', '"num_heads": 2'))
    assert key() not in (before, weights_changed)


def test_hub_models_are_keyed_by_id_and_revision():
    def hub(revision: str) -> LoadedModel:
        checkpoint = Checkpoint("google-t5/t5-small", "google-t5/t5-small", False, {}, None, {}, commit=revision)
        return LoadedModel(checkpoint=checkpoint, tokenizer=None, config=SimpleNamespace(), placement=CPU)

    first, second = cache_key(hub("a" * 40)), cache_key(hub("b" * 40))
    assert first.startswith("google-t5--t5-small-")
    assert first != second
    assert cache_key(hub("a" * 40)) == first


# --- placement, precision and errors ----------------------------------------------------------

CPU_TYPES = {"float32", "int8", "int8_float32"}
GPU_TYPES = {"float32", "float16", "bfloat16", "int8", "int8_float32", "int8_float16", "int8_bfloat16"}


@pytest.mark.parametrize("device, dtype, quantize, supported, expected", [
    ("cpu", "float32", None, CPU_TYPES, "float32"),
    ("cpu", "float32", "int8", CPU_TYPES, "int8_float32"),
    ("cuda", "float16", None, GPU_TYPES, "float16"),
    ("cuda", "bfloat16", None, GPU_TYPES, "bfloat16"),
    ("cuda", "bfloat16", "int8", GPU_TYPES, "int8_bfloat16"),
    ("cuda", "float16", "int8", GPU_TYPES, "int8_float16"),
])
def test_compute_type_follows_placement_and_quantize(device, dtype, quantize, supported, expected):
    assert compute_type(Placement(device, dtype), quantize, supported) == expected


def test_a_precision_the_device_lacks_is_refused_not_swapped():
    with pytest.raises(BackendError, match="--dtype float16: ctranslate2 cannot compute in float16 on this cpu"):
        compute_type(Placement("cpu", "float16"), None, CPU_TYPES)
    with pytest.raises(BackendError, match="--quantize int8 on cuda with bfloat16"):
        compute_type(Placement("cuda", "bfloat16"), "int8", GPU_TYPES - {"int8_bfloat16"})


def test_float16_on_this_cpu_runs_only_if_ctranslate2_supports_it(tiny_model_dir):
    placement = Placement("cpu", "float16")
    if "float16" in ctranslate2.get_supported_compute_types("cpu"):
        assert _open_ct2(tiny_model_dir, placement).generate([[4, 5, 1]], GenerationSettings(max_length=4))
    else:
        with pytest.raises(BackendError, match="--dtype float16"):
            _open_ct2(tiny_model_dir, placement)


def test_mps_is_refused(tiny_model_dir):
    with pytest.raises(BackendError, match="no MPS"):
        _open_ct2(tiny_model_dir, Placement("mps", "float16"))


@pytest.mark.skipif(not NO_CUDA, reason="this machine has a CUDA GPU")
def test_cuda_without_a_gpu_is_refused(tiny_model_dir):
    with pytest.raises(BackendError, match="sees no CUDA GPU"):
        _open_ct2(tiny_model_dir, Placement("cuda", "float16"))


def test_missing_ctranslate2_names_the_extra(monkeypatch, tiny_model_dir):
    monkeypatch.setitem(sys.modules, "ctranslate2", None)  # what an absent package looks like to import
    loaded = load_model(str(tiny_model_dir), CPU, weights=False)
    with pytest.raises(BackendError) as caught:
        open_backend(loaded, RunSettings(backend="ctranslate2"))
    assert str(caught.value) == "the ctranslate2 backend needs the 'fast' extra: pip install 'summarizer[fast]'"


def test_a_model_the_converter_cannot_convert_fails_in_one_line(tmp_path, tiny_model_dir, cache):
    folder = tmp_path / "no-weights"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "model.safetensors").unlink()
    loaded = load_model(str(folder), CPU, weights=False)
    with pytest.raises(BackendError, match=r"^cannot convert model .*no-weights.* for ctranslate2: ") as caught:
        CTranslate2Backend.open(loaded, RunSettings(backend="ctranslate2"))
    assert "\n" not in str(caught.value)
    assert not any(cache.iterdir())  # nothing half-made is left to be loaded later


# --- CUDA (only where a GPU is present) -------------------------------------------------------


@pytest.mark.skipif(NO_CUDA, reason="no CUDA GPU for ctranslate2")
@pytest.mark.parametrize("quantize", [None, "int8"])
def test_cuda_summaries_equal_cpu_on_a_confident_model(quantize, trained_dir, trained):
    placement = resolve("cuda")
    backend = _open_ct2(trained_dir, placement, quantize=quantize)
    generation = GenerationSettings(max_length=40)
    assert backend.generate(trained.rows, generation) == trained.ct2.generate(trained.rows, generation)


@pytest.mark.skipif(NO_CUDA, reason="no CUDA GPU for ctranslate2")
def test_cuda_float32_beams_equal_torch_on_cuda(trained_dir, trained):
    placement = Placement("cuda", "float32")
    gpu = SimpleNamespace(
        rows=trained.rows,
        torch=TorchBackend.open(load_model(str(trained_dir), placement), RunSettings()),
        ct2=_open_ct2(trained_dir, placement),
    )
    expected, actual = _both(gpu, GenerationSettings(max_length=40, **BEAMS))
    assert actual == expected
