"""The Python API: the same summarizer the CLI opens, as a library a notebook or service calls."""

from __future__ import annotations

import json

import pytest

import summarizer
from helpers import summarize_json
from summarizer import InputError, ModelLoadError, SettingsError, Summarizer, Summary, SummarizerError, UnsupportedModel
from trained_t5 import held_out_pairs, training_sentences


@pytest.fixture(scope="module")
def copier(trained_model_dir) -> Summarizer:
    """The trained tiny T5 (it copies a text's first sentence), greedy, loaded once."""
    return Summarizer(str(trained_model_dir), num_beams=1, max_length=48, min_length=0)


@pytest.fixture(scope="module")
def pairs(copier) -> list[tuple[str, str]]:
    return held_out_pairs(training_sentences(copier.model.tokenizer), 8)


def test_one_text_gives_the_record_the_cli_prints(copier, trained_model_dir, pairs, tmp_path):
    first, second = pairs[0]
    record = copier.summarize(f"{first} {second}")
    assert isinstance(record, Summary) and record.summary == first
    document = tmp_path / "doc.txt"
    document.write_text(f"{first} {second}", encoding="utf-8")
    cli = summarize_json(document, "--model", trained_model_dir, "--num-beams", 1, "--max-length", 48, "--min-length", 0)
    api = record.to_dict()
    for row in (cli, api):
        row.pop("seconds"), row.pop("source")
    assert api == cli
    assert json.loads(json.dumps(record.to_dict())) == record.to_dict(), "to_dict is plain JSON"


def test_many_texts_come_back_in_input_order_batched_together(copier, pairs):
    texts = [f"{first} {second}" for first, second in pairs]
    texts[3] = " ".join([texts[3]] * 12)  # a long one, which finishes after the short ones after it
    calls: list[tuple[int, int]] = []
    records = list(copier.summarize_many(texts, progress=lambda done, known: calls.append((done, known))))
    assert [r.summary for i, r in enumerate(records) if i != 3] == [first for i, (first, _) in enumerate(pairs) if i != 3]
    assert records[3].chunks > 1 and records[3].levels > 1
    assert calls and calls[-1][0] == calls[-1][1] > len(texts), "progress counts every chunk generated"
    alone = [copier.summarize(text).summary for text in texts[:3]]
    assert alone == [r.summary for r in records[:3]], "batching does not change a greedy summary"


def test_settings_per_call_and_what_cannot_change_per_call(copier, pairs):
    first, second = pairs[1]
    short = copier.summarize(f"{first} {second}", max_length=4)
    assert short.summary_tokens <= 4 < copier.summarize(f"{first} {second}").summary_tokens
    with pytest.raises(SettingsError, match="backend cannot change from one text to the next"):
        copier.summarize(first, backend="torch")
    with pytest.raises(SettingsError, match="--num-beams must be at least 1"):
        copier.summarize(first, num_beams=0)
    assert copier.settings.generation.max_length == 48, "a call's settings are its own"


def test_closing_summarize_many_early_stops_the_work_behind_it(copier, pairs, monkeypatch):
    """A caller that stops after the first record: no generate() call after the close, and the
    texts it passed are closed too (a file walk's open file would be released)."""
    calls = []
    backend = copier.pipeline.backend
    generate = backend.generate
    monkeypatch.setattr(backend, "generate", lambda rows, settings: calls.append(len(rows)) or generate(rows, settings))
    closed = []

    def texts():
        try:
            for i in range(10_000):
                first, second = pairs[i % len(pairs)]
                yield f"{first} {second}"
        finally:
            closed.append(True)

    records = copier.summarize_many(texts())
    assert next(records).summary == pairs[0][0]
    made = len(calls)
    records.close()
    assert closed == [True] and len(calls) == made
    assert sum(calls) < 100, "only the look-ahead of a few batches was generated, not 10,000 texts"


def test_text_the_tokenizer_cannot_take_is_cleaned(copier, pairs):
    """A lone surrogate (which made the tokenizer raise), NUL and noncharacters are replaced
    with U+FFFD: the text is summarized, as the server and the readers do."""
    first, second = pairs[4]
    record = copier.summarize(f"{first} {second}\ud800\x00\uffff")
    assert record.summary == first


def test_files_folders_and_formats_through_the_same_readers(copier, pairs, tmp_path):
    first, second = pairs[2]
    (tmp_path / "a.txt").write_text(f"{first} {second}", encoding="cp1252")
    (tmp_path / "b.html").write_text(f"<html><body><article><p>{first} {second}</p></article></body></html>", encoding="utf-8")
    records = list(copier.summarize_files([tmp_path / "a.txt", tmp_path, tmp_path / "missing.txt"]))
    assert [r.source for r in records] == [str(tmp_path / "a.txt"), str(tmp_path / "a.txt"), str(tmp_path / "b.html"),
                                           str(tmp_path / "missing.txt")]
    assert records[0].summary == records[2].summary == first
    assert records[3].error == "no such file or folder"


def test_errors_are_exceptions_with_the_clis_one_line_messages(tmp_path, trained_model_dir):
    with pytest.raises(SettingsError, match=r"--min-length \(9\) is larger than --max-length \(3\)") as caught:
        Summarizer(str(trained_model_dir), max_length=3, min_length=9)
    assert caught.value.exit_code == 2 and isinstance(caught.value, SummarizerError)
    with pytest.raises(ModelLoadError, match="no such folder"):
        Summarizer(str(tmp_path / "nowhere"))
    with pytest.raises(InputError, match="empty input"):
        Summarizer(str(trained_model_dir)).summarize("   \n")


def test_a_model_that_is_not_a_summarizer_is_refused_by_type(tmp_path):
    from families import build_gpt2

    with pytest.raises(UnsupportedModel, match="it is a gpt2 model, not an encoder-decoder summarizer") as caught:
        Summarizer(str(build_gpt2(tmp_path / "gpt2")))
    assert caught.value.exit_code == 2


def test_one_off_summarize_and_extractive_methods(trained_model_dir, pairs):
    first, second = pairs[3]
    assert summarizer.summarize(f"{first} {second}", model=str(trained_model_dir), num_beams=1).summary == first
    lead = Summarizer(method="lead", sentences=1).summarize(f"{first} {second}")
    assert lead.summary == first and lead.model == "lead"


def test_settings_know_where_each_value_came_from(t5_defaults_model_dir, tmp_path):
    preset = tmp_path / "p.toml"
    preset.write_text("[generation]\nnum_beams = 2\n", encoding="utf-8")
    opened = Summarizer(str(t5_defaults_model_dir), config=preset, max_length=20)
    assert opened.origins["max_length"] == "argument"
    assert opened.origins["num_beams"] == f"preset: {preset}"
    assert opened.origins["prefix"] == "model: task_specific_params"
    assert opened.origins["min_length"].startswith("model: task_specific_params, lowered to --max-length")
    assert opened.settings.generation.min_length == 20
