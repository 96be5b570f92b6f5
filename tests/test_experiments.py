"""Experiments through the CLI on the trained tiny T5 (it copies a text's first sentence):
eval, predictions, sweeps and their plot, strategies told apart, whole sentences, and the
CTranslate2 backend giving the torch backend's greedy summaries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers import invoke
from summarizer.sentences import is_complete
from trained_t5 import held_out_pairs, training_sentences

GREEDY = ("--num-beams", "1", "--min-length", "0", "--no-repeat-ngram-size", "0", "--max-length", "48")


@pytest.fixture(scope="module")
def model(trained_model_dir) -> str:
    return str(trained_model_dir)


@pytest.fixture(scope="module")
def pairs(trained_model_dir, tmp_path_factory) -> Path:
    """Two-sentence documents whose reference is their first sentence (pairs it never saw)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(trained_model_dir)
    path = tmp_path_factory.mktemp("pairs") / "pairs.jsonl"
    lines = [json.dumps({"id": f"p{i}", "document": f"{a} {b}", "reference": a})
             for i, (a, b) in enumerate(held_out_pairs(training_sentences(tokenizer), 8))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _json(*args):
    result = invoke(*args, "--format", "json")
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def test_eval_scores_the_model_with_intervals_and_settings(model, pairs, tmp_path):
    per_document = tmp_path / "docs.jsonl"
    data = _json("eval", pairs, "--model", model, *GREEDY, "--per-document", per_document)
    assert data["documents"] == 8 and data["model"] == model and data["counted_in"] == "tokens"
    for key in ("rouge1", "rouge2", "rougeL", "rougeLsum"):
        assert data[key]["ci_low"] <= data[key]["mean"] <= data[key]["ci_high"]
    assert data["rouge1"]["mean"] > 80, "the model copies the reference sentence"
    assert data["settings"]["generation"]["num_beams"] == 1 and data["settings"]["strategy"] == "map-reduce"
    rows = [json.loads(line) for line in per_document.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [f"p{i}" for i in range(8)]
    assert {"rouge1", "input_tokens", "summary_tokens", "summary"} <= set(rows[0])


def test_lead_baseline_and_limit(pairs, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    data = _json("eval", pairs, "--method", "lead", "--sentences", "1", "--limit", "3")
    assert data["documents"] == 3
    assert data["counted_in"] == "words", "t5-small's tokenizer is not on disk"
    assert data["rouge1"]["mean"] == 100.0, "the first sentence is the reference"


def test_predictions_are_scored_and_counts_must_match(pairs, tmp_path):
    documents = [json.loads(line) for line in pairs.read_text(encoding="utf-8").splitlines()]
    predictions = tmp_path / "pred.txt"
    predictions.write_text("\n".join(d["reference"] for d in documents) + "\n", encoding="utf-8")
    assert _json("eval", pairs, "--predictions", predictions)["rouge1"]["mean"] == 100.0
    predictions.write_text("\n".join(d["reference"] for d in documents[:-1]) + "\n", encoding="utf-8")
    result = invoke("eval", pairs, "--predictions", predictions)
    assert result.exit_code == 2 and "has 7 lines but" in result.stderr


def test_temperature_sweep_lowers_rouge_and_plots(model, pairs, tmp_path):
    plot = tmp_path / "sweep.png"
    data = _json("eval", pairs, "--model", model, *GREEDY, "--top-k", "0", "--seed", "3",
                 "--sweep", "temperature=0,2.0", "--sweep", "max-length=8,48", "--plot", plot)
    rows = {(row["temperature"], row["max_length"]): row for row in data["rows"]}
    assert len(rows) == 4
    assert rows[(2.0, 48)]["rouge1"]["mean"] < rows[(0.0, 48)]["rouge1"]["mean"] - 20
    assert rows[(0.0, 8)]["summary_tokens"] <= 8 < rows[(0.0, 48)]["summary_tokens"]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_bad_sweep_is_refused_before_the_model_loads(pairs, tmp_path):
    result = invoke("eval", pairs, "--model", tmp_path / "nowhere", "--sweep", "temperature=0,-1")
    assert result.exit_code == 2 and "--temperature cannot be negative" in result.stderr


def test_strategies_are_told_apart(model, tmp_path, trained_model_dir):
    """A long document of many chunks whose reference is its first sentence: truncate reads
    only the first window and copies it; map joins one copy per chunk, far longer."""
    from transformers import AutoTokenizer

    sentences = training_sentences(AutoTokenizer.from_pretrained(trained_model_dir))
    document = " ".join(sentences[:60])
    pairs = tmp_path / "long.jsonl"
    pairs.write_text(json.dumps({"document": document, "reference": sentences[0]}) + "\n", encoding="utf-8")
    scores = {s: _json("eval", pairs, "--model", model, *GREEDY, "--strategy", s) for s in ("truncate", "map", "map-reduce")}
    assert scores["truncate"]["rouge1"]["mean"] > 90
    assert scores["map"]["summary_tokens"] > 3 * scores["truncate"]["summary_tokens"]
    assert scores["map"]["rouge1"]["mean"] < scores["truncate"]["rouge1"]["mean"] - 30
    assert scores["map-reduce"]["summary_tokens"] <= 48


def test_whole_sentences_cut_back_to_the_last_complete_sentence(model, tmp_path, trained_model_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(trained_model_dir)
    first, second = held_out_pairs(training_sentences(tokenizer), 1, seed=5)[0]
    doc = tmp_path / "doc.txt"
    doc.write_text(f"{first} {second}", encoding="utf-8")
    length = len(tokenizer(first, add_special_tokens=False).input_ids)
    base = (doc, "--model", model, "--num-beams", "1", "--no-repeat-ngram-size", "0")
    # Forced past the first sentence (no </s> before min length), stopped mid-way through what
    # follows: the first length at which the forced text does not happen to end on a sentence.
    for extra in range(2, 12):
        forced = _json(*base, "--min-length", length + extra, "--max-length", length + extra)
        if not is_complete(forced["summary"]):
            break
    cut = _json(*base, "--min-length", length + extra, "--max-length", length + extra, "--whole-sentences")
    assert forced["summary"].startswith(first) and not is_complete(forced["summary"])
    assert cut["summary"] == first and cut["summary_tokens"] < forced["summary_tokens"]
    # Ends on a sentence by itself: unchanged.
    natural = _json(*base, "--min-length", "0", "--max-length", "48", "--whole-sentences")
    assert natural["summary"] == first
    # No complete sentence to cut back to: kept, with a warning.
    short = _json(*base, "--min-length", "0", "--max-length", "3", "--whole-sentences")
    assert short["summary"] and "no complete sentence" in short["warning"]


def test_ctranslate2_gives_the_torch_backends_greedy_summaries(model, samples_dir, tmp_path):
    pytest.importorskip("ctranslate2")
    args = (samples_dir / "short.txt", samples_dir / "notes", "--model", model, "--num-beams", "1",
            "--no-repeat-ngram-size", "3", "--max-length", "24", "--min-length", "0")
    torch_rows = _json(*args, "--backend", "torch")
    ct2_rows = _json(*args, "--backend", "ctranslate2")
    assert [r["summary"] for r in ct2_rows] == [r["summary"] for r in torch_rows]
    assert all(r["summary"] for r in torch_rows)

