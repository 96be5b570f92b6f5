"""Long-document strategies and what --max-length means, on a tiny T5 carrying t5-small's own
summarization defaults (min_length 30, max_length 200, 4 beams, no-repeat 3, length penalty 2)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from helpers import invoke, summarize_json

from summarizer.backends import open_backend
from summarizer.models.loading import load_model
from summarizer.config import build_settings
from summarizer.device import resolve
from summarizer.pipeline import Pipeline


@pytest.fixture(scope="module")
def model(t5_defaults_model_dir) -> str:
    return str(t5_defaults_model_dir)


@pytest.fixture(scope="module")
def loaded(t5_defaults_model_dir):
    return load_model(str(t5_defaults_model_dir), resolve("cpu", "float32"))


def _summarizer(loaded, **user):
    settings = build_settings(user, inherited=loaded.task_defaults)
    return Pipeline(settings, loaded, open_backend(loaded, settings))


def _run(summarizer, texts):
    items = [SimpleNamespace(source=f"doc{i}", text=text) for i, text in enumerate(texts)]
    return dict(summarizer.run(items))


def test_short_max_length_wins_over_the_models_min_length(model, samples_dir):
    """t5-small's min_length 30 yields to a user's --max-length 12 instead of refusing it."""
    data = summarize_json(samples_dir / "notes" / "meeting.txt", "--model", model, "--max-length", 12)
    assert 0 < data["summary_tokens"] <= 12
    per_chunk = summarize_json(samples_dir / "notes" / "meeting.txt", "--model", model, "--max-length", 12, "--strategy", "map", "--parts")
    assert per_chunk["chunks"] > 1
    assert all(len(part.split()) <= 12 for part in per_chunk["parts"])


def test_two_user_values_can_still_conflict(model, samples_dir):
    result = invoke(samples_dir / "short.txt", "--model", model, "--max-length", 12, "--min-length", 20)
    assert result.exit_code == 2 and "--min-length (20) is larger than --max-length (12)" in result.stderr


def test_map_reduce_bounds_the_whole_summary_and_map_does_not(model, samples_dir):
    text = samples_dir / "long_report.txt"
    reduced = summarize_json(text, "--model", model, "--max-length", 20, "--num-beams", 1)
    mapped = summarize_json(text, "--model", model, "--max-length", 20, "--num-beams", 1, "--strategy", "map")
    assert reduced["chunks"] == mapped["chunks"] > 5
    assert 0 < reduced["summary_tokens"] <= 20
    assert reduced["levels"] >= 2, "chunk summaries, then the final pass"
    assert mapped["summary_tokens"] > 20 and mapped["levels"] == 1


def test_a_one_chunk_document_is_one_generation(loaded):
    text = "The bridge reopened on Monday. Riders were pleased with the new ramp."
    reduced = _run(_summarizer(loaded, max_length=20, num_beams=1), [text])[0]
    mapped = _run(_summarizer(loaded, max_length=20, num_beams=1, strategy="map"), [text])[0]
    assert reduced.chunks == reduced.levels == 1
    assert reduced.summary == mapped.summary


def test_chunk_max_length_changes_the_parts_not_the_bound(loaded, samples_dir):
    text = (samples_dir / "article.md").read_text(encoding="utf-8")
    short = _run(_summarizer(loaded, max_length=10, num_beams=1, chunk_max_length=4, chunk_min_length=4), [text])[0]
    long = _run(_summarizer(loaded, max_length=10, num_beams=1, chunk_max_length=16, chunk_min_length=16), [text])[0]
    count = lambda s: len(loaded.tokenizer(s, add_special_tokens=False).input_ids)  # noqa: E731
    assert max(count(p) for p in short.parts) <= 4 < min(count(p) for p in long.parts)
    assert short.summary_tokens <= 10 and long.summary_tokens <= 10


def test_truncate_reads_only_the_first_window(loaded, samples_dir):
    text = (samples_dir / "long_report.txt").read_text(encoding="utf-8")
    whole = _run(_summarizer(loaded, max_length=8, num_beams=1, strategy="truncate"), [text])[0]
    assert whole.chunks == whole.levels == 1
    assert whole.input_tokens > 1000, "the record still counts the whole document"
    assert whole.summary_tokens <= 8
    # The summary depends only on the first window: text appended at the end changes nothing.
    longer = text + "\n\nAn appended paragraph that truncate never reads."
    assert _run(_summarizer(loaded, max_length=8, num_beams=1, strategy="truncate"), [longer])[0].summary == whole.summary


def test_extract_then_abstract_is_one_final_generation(loaded, samples_dir):
    text = (samples_dir / "long_report.txt").read_text(encoding="utf-8")
    result = _run(_summarizer(loaded, max_length=8, num_beams=1, strategy="extract-then-abstract"), [text])[0]
    assert result.error is None and result.levels == 1 and 0 < result.summary_tokens <= 8


class Recorder:
    """The real backend, with a log of each generate() call: (rows, max_length)."""

    def __init__(self, backend):
        self.backend, self.calls, self.name = backend, [], backend.name

    def generate(self, rows, generation):
        self.calls.append((len(rows), generation.max_length))
        return self.backend.generate(rows, generation)


def test_the_queue_batches_across_documents_levels_and_final_passes(loaded, samples_dir):
    texts = [(samples_dir / name).read_text(encoding="utf-8") for name in ("article.md", "notes/meeting.txt", "short.txt")]
    settings = build_settings({"max_length": 6, "chunk_max_length": 12, "num_beams": 1, "batch_size": 8}, inherited=loaded.task_defaults)
    recorder = Recorder(open_backend(loaded, settings))
    batched = _run(Pipeline(settings, loaded, recorder), texts)
    finals = [rows for rows, length in recorder.calls if length == 6]
    assert any(rows > 1 for rows in finals), "final passes of different documents share a batch"
    chunk_rows = sum(rows for rows, length in recorder.calls if length == 12)
    assert chunk_rows > 8 and len([1 for _, length in recorder.calls if length == 12]) < chunk_rows, "chunks are batched"
    one_at_a_time = _run(_summarizer(loaded, max_length=6, chunk_max_length=12, num_beams=1, batch_size=1), texts)
    assert [batched[i].summary for i in range(3)] == [one_at_a_time[i].summary for i in range(3)]


def test_parts_come_in_json_only_when_asked(model, samples_dir):
    plain = summarize_json(samples_dir / "article.md", "--model", model, "--max-length", 8)
    with_parts = summarize_json(samples_dir / "article.md", "--model", model, "--max-length", 8, "--parts")
    assert "parts" not in plain
    assert len(with_parts["parts"]) == with_parts["chunks"] > 1


def test_sampling_without_beams_means_one_beam():
    inherited = {"num_beams": 4, "min_length": 30, "max_length": 200}
    assert build_settings({"temperature": 0.7}, inherited=inherited).generation.num_beams == 1
    assert build_settings({"temperature": 0.7, "num_beams": 3}, inherited=inherited).generation.num_beams == 3
    assert build_settings({}, inherited=inherited).generation.num_beams == 4


def test_inherited_lengths_give_way_to_the_users():
    inherited = {"min_length": 30, "max_length": 200}
    lowered = build_settings({"max_length": 12}, inherited=inherited).generation
    assert (lowered.min_length, lowered.max_length) == (12, 12)
    raised = build_settings({"min_length": 250}, inherited=inherited).generation
    assert (raised.min_length, raised.max_length) == (250, 250)
    chunks = build_settings({"max_length": 12}, inherited=inherited).chunking
    assert (chunks.min_length, chunks.max_length) == (30, 200), "intermediate summaries keep the model's lengths"


def test_strategy_and_lengths_from_toml(model, samples_dir, tmp_path):
    preset = tmp_path / "p.toml"
    preset.write_text('strategy = "map"\n[chunking]\nchunk_max_length = 5\n', encoding="utf-8")
    data = summarize_json(samples_dir / "article.md", "--model", model, "--config", preset, "--max-length", 5, "--num-beams", 1)
    assert data["levels"] == 1 and data["chunks"] > 1


def test_bad_strategy_value_in_toml_is_a_usage_error(samples_dir, tmp_path):
    preset = tmp_path / "p.toml"
    preset.write_text('strategy = "summarize-harder"\n', encoding="utf-8")
    result = invoke(samples_dir / "short.txt", "--config", preset)
    assert result.exit_code == 2 and "--strategy must be one of" in result.stderr


def test_documents_are_pulled_lazily(loaded):
    """The first summary comes out after a bounded number of inputs are read, however many
    there are: a folder of 100k files starts at once and memory stays flat."""
    pulled = []

    def documents():
        for i in range(100_000):
            pulled.append(i)
            yield SimpleNamespace(source=f"doc{i}", text=f"Report number {i} was filed on time.")

    summarizer = _summarizer(loaded, max_length=4, num_beams=1, batch_size=4)
    first = next(summarizer.run(documents()))
    assert first[1].error is None
    assert len(pulled) <= 4 * 4 + 1, "at most the look-ahead window of batches is read ahead"


def test_a_huge_document_is_chunked_in_pieces_exactly_as_a_whole(loaded, samples_dir):
    from summarizer.chunker import Chunker

    text = "\n\n".join((samples_dir / "long_report.txt").read_text(encoding="utf-8") for _ in range(3))
    whole = Chunker(loaded.tokenizer, 100, 10, piece_chars=10**9)
    pieces = Chunker(loaded.tokenizer, 100, 10, piece_chars=3000)
    counted = []
    assert list(pieces.chunks(text, lambda piece, tokens, ends: counted.append((tokens, ends)))) == list(whole.chunks(text))
    assert len(counted) > 10 and sum(tokens for tokens, _ in counted) == len(whole.encode(text)[0])
    whole_ends = []
    list(whole.chunks(text, lambda piece, tokens, ends: whole_ends.append(ends)))
    assert abs(sum(ends for _, ends in counted) - sum(whole_ends)) <= len(counted), "each seam may hide one sentence end"


def test_a_pass_whose_jobs_finish_before_its_feed_is_drained_still_completes(loaded, samples_dir):
    """With a small look-ahead a document's jobs can all be generated before the pipeline
    learns that its feed is exhausted; the document must still finish, not fail as empty."""
    texts = [(samples_dir / "notes" / "meeting.txt").read_text(encoding="utf-8")] * 3 + ["One line only."] * 5
    results = _run(_summarizer(loaded, max_length=4, chunk_max_length=4, num_beams=1, batch_size=1), texts)
    assert all(r.error is None for r in results.values()), [r.error for r in results.values()]
