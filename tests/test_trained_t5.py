"""The trained tiny T5 does what tests that need meaningful summaries rely on."""

from __future__ import annotations

import shutil

import pytest
import torch
from rouge_score import rouge_scorer

from summarizer.models.loading import load_model
from trained_t5 import CACHE_ENV, cached_trained_t5, held_out_pairs, training_sentences

MAX_LENGTH = 64


@pytest.fixture(scope="module")
def loaded(trained_model_dir):
    return load_model(str(trained_model_dir), weights=True)


@pytest.fixture(scope="module")
def pairs(loaded) -> list[tuple[str, str]]:
    """20 two-sentence inputs the model never saw as such, made of sentences it did see."""
    return held_out_pairs(training_sentences(loaded.tokenizer), 20)


def _generate(loaded, pairs, **options) -> torch.Tensor:
    texts = [f"summarize: {first} {second}" for first, second in pairs]
    batch = loaded.tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        return loaded.model.generate(**batch, max_length=MAX_LENGTH, **options)


def _rouge1(loaded, pairs, outputs) -> list[float]:
    scorer = rouge_scorer.RougeScorer(["rouge1"])
    summaries = loaded.tokenizer.batch_decode(outputs, skip_special_tokens=True)
    return [100 * scorer.score(first, summary)["rouge1"].fmeasure for (first, _), summary in zip(pairs, summaries)]


@pytest.fixture(scope="module")
def greedy(loaded, pairs) -> torch.Tensor:
    return _generate(loaded, pairs, do_sample=False, num_beams=1)


def test_greedy_summary_is_the_first_sentence(loaded, pairs, greedy):
    summaries = [s.strip() for s in loaded.tokenizer.batch_decode(greedy, skip_special_tokens=True)]
    exact = sum(summary == first for summary, (first, _) in zip(summaries, pairs))
    scores = _rouge1(loaded, pairs, greedy)
    assert exact >= 0.8 * len(pairs), list(zip(summaries, pairs))
    assert sum(scores) / len(scores) >= 90


def test_greedy_summary_stops_by_itself_well_before_max_length(loaded, greedy):
    eos = loaded.config.eos_token_id
    for output in greedy.tolist():
        assert eos in output
        assert output.index(eos) < MAX_LENGTH - 16


def test_sampling_at_high_temperature_scores_clearly_lower(loaded, pairs, greedy):
    torch.manual_seed(0)
    sampled = _generate(loaded, pairs, do_sample=True, temperature=1.5, top_k=50)
    greedy_mean = sum(_rouge1(loaded, pairs, greedy)) / len(pairs)
    sampled_mean = sum(_rouge1(loaded, pairs, sampled)) / len(pairs)
    assert sampled_mean < greedy_mean - 30


def test_config_carries_t5_small_summarization_defaults(loaded):
    assert loaded.config.task_specific_params["summarization"] == {
        "early_stopping": True, "length_penalty": 2.0, "max_length": 200, "min_length": 30,
        "no_repeat_ngram_size": 3, "num_beams": 4, "prefix": "summarize: ",
    }
    assert loaded.window == 128
    assert (loaded.config.decoder_start_token_id, loaded.config.pad_token_id, loaded.config.eos_token_id) == (0, 0, 1)


def test_cached_build_is_reused_from_the_env_folder(trained_model_dir, tmp_path, monkeypatch):
    copy = shutil.copytree(trained_model_dir, tmp_path / trained_model_dir.name)
    before = {p.name: p.stat().st_mtime_ns for p in copy.iterdir()}
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert cached_trained_t5() == copy
    assert list(tmp_path.iterdir()) == [copy]
    assert {p.name: p.stat().st_mtime_ns for p in copy.iterdir()} == before
