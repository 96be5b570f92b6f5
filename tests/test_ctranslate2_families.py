"""CTranslate2 on every family it converts: greedy token parity with torch, BART's forced
tokens, and the one-line refusal of the families it cannot convert."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

ctranslate2 = pytest.importorskip("ctranslate2")

from families import BUILDERS, build_led, build_long_t5, edit_config  # noqa: E402
from helpers import invoke, one_torch_thread  # noqa: E402
from summarizer.backends import BackendError  # noqa: E402
from summarizer.backends.ctranslate2 import CTranslate2Backend  # noqa: E402
from summarizer.backends.torch import TorchBackend  # noqa: E402
from summarizer.config import GenerationSettings, RunSettings  # noqa: E402
from summarizer.device import Placement  # noqa: E402
from summarizer.models.loading import load_model  # noqa: E402
from trained_bart import RECIPE  # noqa: E402
from trained_t5 import held_out_pairs, training_sentences  # noqa: E402

CPU = Placement("cpu", "float32")
BOS, EOS = 0, 2  # BART's <s> and </s>
PAIRS = 12


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    with one_torch_thread():
        yield


def _open_ct2(model_dir: Path, **generation) -> CTranslate2Backend:
    settings = RunSettings(backend="ctranslate2", threads=1, generation=GenerationSettings(**generation))
    return CTranslate2Backend.open(load_model(str(model_dir), CPU, weights=False), settings)


def _through_eos(ids, eos: int) -> list[int]:
    """Ids through the first end token: torch pads the shorter rows of a batch after it."""
    ids = list(ids)
    return ids[: ids.index(eos) + 1] if eos in ids else ids


# --- a trained BART: forced <s> and </s>, no-repeat n-grams, min length ---------------------


@pytest.fixture(scope="module")
def bart(trained_bart_dir):
    """Held-out inputs "A B" (never seen in training) and both backends over the trained BART."""
    loaded = load_model(str(trained_bart_dir), CPU, weights=False)
    pairs = held_out_pairs(training_sentences(loaded.tokenizer, RECIPE), PAIRS, seed=1)
    return SimpleNamespace(
        pairs=pairs,
        rows=[loaded.tokenizer(f"{a} {b}").input_ids for a, b in pairs],
        tokenizer=loaded.tokenizer,
        torch=TorchBackend.open(load_model(str(trained_bart_dir), CPU), RunSettings()),
        ct2=_open_ct2(trained_bart_dir),
    )


def test_the_trained_bart_copies_the_first_sentence(bart):
    """Guards the parity tests: they prove little if the model is not confident."""
    ids = bart.ct2.generate(bart.rows, GenerationSettings(max_length=48))
    texts = bart.tokenizer.batch_decode(ids, skip_special_tokens=True)
    assert sum(text == first for text, (first, _) in zip(texts, bart.pairs)) >= PAIRS - 2
    assert all(row[0] == BOS and row[-1] == EOS for row in ids)  # the forced <s>, then its own </s>


BEAMS = dict(num_beams=4, early_stopping=True, length_penalty=2.0)
BART_EXACT = [
    dict(max_length=48),
    dict(max_length=48, no_repeat_ngram_size=3),  # bart-large-cnn's n-gram size
    dict(max_length=64, min_length=56, no_repeat_ngram_size=3),  # its min length: </s> held off, then forced
    dict(max_length=10, no_repeat_ngram_size=3),  # cut short: </s> forced as the 10th token
    dict(max_length=24, no_repeat_ngram_size=1),  # the </s> start token is in the history: only the forced one ends
    dict(max_length=1),
    dict(max_length=20, **BEAMS),
    dict(max_length=48, no_repeat_ngram_size=3, **BEAMS),
]


@pytest.mark.parametrize("kwargs", BART_EXACT, ids=repr)
def test_trained_bart_summaries_equal_torch_token_for_token(kwargs, bart):
    generation = GenerationSettings(**kwargs)
    expected = [_through_eos(row, EOS) for row in bart.torch.generate(bart.rows, generation)]
    actual = [_through_eos(row, EOS) for row in bart.ct2.generate(bart.rows, generation)]
    assert actual == expected
    assert all(len(row) <= generation.max_length and row[-1] == EOS for row in actual)
    if generation.max_length > 1:
        assert all(row[0] == BOS for row in actual)
        assert len({tuple(row) for row in actual}) > PAIRS // 2  # not one summary for every input


def test_a_summary_cut_by_max_length_ends_with_the_forced_end_token(bart):
    """transformers forces </s> as the last allowed token, which counts toward max_length."""
    ids = bart.ct2.generate(bart.rows, GenerationSettings(max_length=6))
    assert [len(row) for row in ids] == [6] * PAIRS
    assert all(row[0] == BOS and row[-1] == EOS and EOS not in row[:-1] for row in ids)


def test_the_repetition_penalty_is_refused_for_bart(trained_bart_dir):
    """transformers penalizes BART's </s> start token, and so its end, at every step."""
    with pytest.raises(BackendError, match=r"--repetition-penalty .* BART models.*--backend torch") as caught:
        _open_ct2(trained_bart_dir, repetition_penalty=1.3)
    assert "\n" not in str(caught.value)


# --- the other families, random weights -----------------------------------------------------

TEXTS = [
    "The quick brown fox jumps over the lazy dog.",
    "Summaries are short. They say what matters most in a text.",
    "A model reads the input and writes a summary of it, token by token.",
    "Hello world.",
]
FAMILY_TOKENS = {  # decoder start, forced first, forced last
    "pegasus": ("<pad>", None, "</s>"),
    "mbart": ("</s>", "en_XX", "</s>"),
    "flan-t5": ("<pad>", None, None),
    "mt5": ("<pad>", None, None),
    "umt5": ("<pad>", None, None),
}
# What the real checkpoints' config.json has and the tiny builders leave at the default
# (google/pegasus-xsum, facebook/mbart-large-cc25): the converter must scale their embeddings.
REAL_CONFIG = {"pegasus": {"scale_embedding": True}, "mbart": {"scale_embedding": True}}


@pytest.mark.parametrize("family", list(FAMILY_TOKENS))
def test_each_family_converts_and_decodes_as_torch(family, tmp_path):
    """min = max length and no repeated token keep a random model from emitting one token
    (or </s>) throughout, so equal ids mean equal computations."""
    folder = edit_config(BUILDERS[family](tmp_path / family), lambda data: data.update(REAL_CONFIG.get(family, {})))
    ct2 = _open_ct2(folder)
    assert (ct2.start_token, ct2.forced_bos_token, ct2.forced_eos_token) == FAMILY_TOKENS[family]
    tokenizer = ct2.tokenizer
    rows = [tokenizer(text).input_ids for text in TEXTS]
    torch_backend = TorchBackend.open(load_model(str(folder), CPU), RunSettings())
    generation = GenerationSettings(max_length=12, min_length=12, no_repeat_ngram_size=1)
    expected = [_through_eos(row, tokenizer.eos_token_id) for row in torch_backend.generate(rows, generation)]
    actual = [_through_eos(row, tokenizer.eos_token_id) for row in ct2.generate(rows, generation)]
    assert actual == expected
    assert all(len(set(row)) > 6 for row in actual)
    if FAMILY_TOKENS[family][1] is not None:
        assert {row[0] for row in actual} == {tokenizer.convert_tokens_to_ids(FAMILY_TOKENS[family][1])}


# --- the command line -------------------------------------------------------------------------


@pytest.fixture
def text_file(tmp_path) -> Path:
    path = tmp_path / "doc.txt"
    path.write_text(" ".join(TEXTS), encoding="utf-8")
    return path


@pytest.mark.parametrize("family, build", [("LED", build_led), ("LongT5", build_long_t5)])
def test_families_without_a_converter_are_refused_in_one_line(family, build, tmp_path, text_file, monkeypatch):
    monkeypatch.setenv("SUMMARIZER_CACHE", str(tmp_path / "cache"))
    folder = build(tmp_path / family)
    result = invoke(text_file, "--model", folder, "--backend", "ctranslate2")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"cannot run {family} models" in lines[0] and "--backend torch" in lines[0]
    assert not (tmp_path / "cache").exists()  # refused before any conversion


def _summary(*args) -> dict:
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_summarize_runs_bart_on_ctranslate2_end_to_end(trained_bart_dir, bart, tmp_path):
    first, second = bart.pairs[0]
    document = tmp_path / "doc.txt"
    document.write_text(f"{first} {second}\n", encoding="utf-8")
    defaults = _summary(document, "--model", trained_bart_dir, "--backend", "ctranslate2")
    assert (defaults["backend"], defaults["model_type"]) == ("ctranslate2", "bart")
    assert defaults["summary"].startswith(first[:10])
    greedy = ("--num-beams", "1", "--min-length", "0", "--no-repeat-ngram-size", "3")
    on_ct2 = _summary(document, "--model", trained_bart_dir, "--backend", "ctranslate2", *greedy)
    on_torch = _summary(document, "--model", trained_bart_dir, "--backend", "torch", *greedy)
    assert on_ct2["summary"] == on_torch["summary"] == first
