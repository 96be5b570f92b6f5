"""Extractive methods through the CLI: no model, no network, same inputs, outputs and keys."""

from __future__ import annotations

import json

import pytest

from helpers import invoke, summarize_json

TEXT = (
    "The city council approved the new transit budget on Monday. "
    "The budget adds twelve buses and extends evening service. "
    "Council members said the transit budget responds to rider surveys. "
    "A local bakery won a prize for its rye bread. "
    "The new buses and the evening service start in March, the council said."
)


@pytest.fixture()
def article(tmp_path):
    path = tmp_path / "article.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_lead_picks_the_first_sentences_offline(article, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    data = summarize_json(article, "--method", "lead", "--sentences", "2")
    assert data["summary"] == "The city council approved the new transit budget on Monday. The budget adds twelve buses and extends evening service."
    assert data["model"] == "lead" and data["counted_in"] == "words"
    assert data["input_tokens"] == len(TEXT.split()) and data["summary_tokens"] == 19
    report = invoke(article, "--method", "lead", "--sentences", "2").stderr
    assert "report, in words" in report and "in tokens" not in report, "the report names the unit it counted"


def test_textrank_leaves_the_off_topic_sentence_out(article, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    data = summarize_json(article, "--method", "textrank", "--sentences", "2")
    assert "bakery" not in data["summary"]
    assert data["summary"].count(".") == 2


def test_token_counts_use_the_models_tokenizer_when_it_is_on_disk(article, tiny_model_dir):
    data = summarize_json(article, "--method", "lead", "--model", tiny_model_dir)
    assert "counted_in" not in data, "tokens, the default unit"
    assert data["input_tokens"] > len(TEXT.split()), "the tiny vocabulary splits words into pieces"


def test_methods_write_output_folders_and_jsonl(article, tmp_path):
    out = tmp_path / "out"
    result = invoke(article, "--method", "lead", "-o", out, "-f", "jsonl", "-q")
    assert result.exit_code == 0, result.stderr
    assert json.loads((out / "article.txt.json").read_text(encoding="utf-8"))["summary"].startswith("The city council")


def test_sentences_must_be_positive(article):
    result = invoke(article, "--method", "lead", "--sentences", "0")
    assert result.exit_code == 2 and "--sentences must be at least 1" in result.stderr
