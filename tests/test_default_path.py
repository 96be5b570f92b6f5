"""The plain `summarize ...` command: the fast backend when it can run, documents finished in
order, long documents resumable mid-way, a report that fits 80 columns."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import invoke, summarize_json
from summarizer.config import build_settings
from summarizer.models.loading import load_model
from summarizer.pipeline import Item, Pipeline
from summarizer.backends import open_backend
from summarizer.device import resolve

# --- --backend auto ------------------------------------------------------------------------------


def test_auto_takes_ctranslate2_when_it_can_and_says_nothing(tiny_model_dir, samples_dir):
    result = invoke(samples_dir / "short.txt", "--model", tiny_model_dir, "--max-length", 4, "--format", "json")
    assert result.exit_code == 0 and json.loads(result.stdout)["backend"] == "ctranslate2"
    assert "running on torch" not in result.stderr


@pytest.mark.parametrize("flags, why", [
    (("--attention", "scratch"), "--attention scratch runs on torch only"),
    (("--temperature", 0.7, "--num-beams", 2, "--seed", 1), "--temperature with --num-beams > 1"),
    (("--num-beams", 2, "--no-early-stopping"), "with early_stopping off has no ctranslate2 equivalent"),
])
def test_auto_takes_torch_for_what_ctranslate2_cannot_do_and_says_why_once(tiny_model_dir, samples_dir, flags, why):
    result = invoke(samples_dir / "short.txt", samples_dir / "article.md", "--model", tiny_model_dir,
                    "--max-length", 4, *flags, "--format", "jsonl")
    assert result.exit_code == 0
    assert {json.loads(line)["backend"] for line in result.stdout.splitlines()} == {"torch"}
    notes = [line for line in result.stderr.splitlines() if "running on torch" in line]
    assert len(notes) == 1 and why in notes[0] and notes[0].startswith("summarize: note: ")
    quiet = invoke(samples_dir / "short.txt", "--model", tiny_model_dir, "--max-length", 4, *flags, "-q")
    assert "running on torch" not in quiet.stderr


def test_auto_keeps_the_models_own_settings_rather_than_change_them(tmp_path, samples_dir):
    """A checkpoint that turns early stopping off with beams (as pegasus-xsum does): auto runs
    torch with the checkpoint's settings, instead of running CTranslate2 with other ones."""
    from families import build_pegasus

    pegasus = build_pegasus(tmp_path / "pegasus-xsum")
    shown = json.loads(invoke("settings", "--model", pegasus, "-f", "json").stdout)
    assert shown["backend"] == "torch" and "early_stopping off" in shown["backend_note"]
    assert shown["settings"]["num_beams"] == {"value": 8, "from": "model: generation_config.json"}
    assert shown["settings"]["early_stopping"]["value"] is False


def test_auto_without_ctranslate2_installed_runs_torch(tiny_model_dir, samples_dir, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "ctranslate2" else real(name, *a))
    result = invoke(samples_dir / "short.txt", "--model", tiny_model_dir, "--max-length", 4, "--format", "json")
    assert json.loads(result.stdout)["backend"] == "torch"
    assert "running on torch: ctranslate2 is not installed (pip install 'summarizer[fast]')" in result.stderr


def test_explicit_backends_are_kept_and_named(tiny_model_dir, samples_dir):
    for backend in ("torch", "ctranslate2"):
        assert summarize_json(samples_dir / "short.txt", "--model", tiny_model_dir, "--max-length", 4,
                              "--backend", backend)["backend"] == backend
    refused = invoke(samples_dir / "short.txt", "--model", tiny_model_dir, "--backend", "ctranslate2", "--attention", "scratch")
    assert refused.exit_code == 2 and "--attention scratch runs on the torch backend only" in refused.stderr


# --- the scheduler ---------------------------------------------------------------------------------


class Recorder:
    """The real backend, with a log of what each generate() call held."""

    def __init__(self, backend):
        self.backend, self.name, self.calls = backend, backend.name, []

    def generate(self, rows, generation):
        self.calls.append((len(rows), generation.max_length))
        return self.backend.generate(rows, generation)


@pytest.fixture(scope="module")
def loaded(trained_model_dir):
    """The trained tiny T5: its chunk summaries are text, so every document has a final pass."""
    return load_model(str(trained_model_dir), resolve("cpu", "float32"))


def _chapters(samples_dir: Path, count: int) -> list[str]:
    text = (samples_dir / "long_report.txt").read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n\n") if len(p.split()) > 40]
    return ["\n\n".join(paragraphs[i % len(paragraphs):][:3]) for i in range(count)]


def test_started_documents_finish_first_in_a_steady_stream(loaded, samples_dir):
    """A document's final pass is batched before newer documents' chunks, so records come out
    one after another as the run goes, not all at the end."""
    settings = build_settings({"max_length": 3, "min_length": 3, "chunk_max_length": 5, "chunk_min_length": 5,
                               "num_beams": 1, "batch_size": 4, "backend": "torch", "prefix": "summarize: "})
    recorder = Recorder(open_backend(loaded, settings))
    pipeline = Pipeline(settings, loaded, recorder)
    texts = _chapters(samples_dir, 12)
    finished_at: dict[int, int] = {}
    for index, record in pipeline.run(Item(f"doc{i}", text) for i, text in enumerate(texts)):
        assert record.error is None and record.chunks > 1 and record.levels > 1
        finished_at[index] = len(recorder.calls)
    total = len(recorder.calls)
    first_final = next(i for i, (_, length) in enumerate(recorder.calls) if length == 3)
    chunks_of_first = -(-sum(1 for _ in pipeline.plan(settings).chunker.chunks(texts[0])) // 4)
    assert first_final <= chunks_of_first + 1, "the first document's final pass runs as soon as its chunks are done"
    assert min(finished_at.values()) <= total * 0.25, "the first record comes early"
    ordered = [finished_at[i] for i in range(len(texts))]
    assert sum(a <= b for a, b in zip(ordered, ordered[1:])) >= len(texts) - 2, "documents finish about in order"
    assert sorted(ordered)[len(texts) // 2] <= total * 0.75, "half of them are done before the last quarter"


def test_batches_stay_full_while_documents_wait(loaded, samples_dir):
    """Chunk and final summaries of the same length share batches: every batch but the last is
    full although later documents are admitted only as batches need them."""
    settings = build_settings({"max_length": 4, "min_length": 4, "chunk_max_length": 4, "chunk_min_length": 4,
                               "num_beams": 1, "batch_size": 4, "backend": "torch", "prefix": "summarize: "})
    recorder = Recorder(open_backend(loaded, settings))
    records = dict(Pipeline(settings, loaded, recorder).run(Item(f"d{i}", t) for i, t in enumerate(_chapters(samples_dir, 8))))
    assert len(records) == 8 and all(record.levels > 1 for record in records.values())
    rows = [rows for rows, _ in recorder.calls]
    assert all(count == 4 for count in rows[:-2]), rows


# --- resuming a long document mid-way ----------------------------------------------------------------


def test_a_killed_long_document_resumes_from_its_finished_chunks(tiny_model_dir, samples_dir, tmp_path):
    """SIGKILL half-way through a long document: --resume reuses the chunk summaries it had
    finished (kept beside the manifest) and writes the summary an uninterrupted run writes."""
    book = tmp_path / "in" / "book.txt"
    book.parent.mkdir()
    book.write_text((samples_dir / "long_report.txt").read_text(encoding="utf-8") * 2, encoding="utf-8")
    flags = ["--model", str(tiny_model_dir), "--max-length", 6, "--min-length", 6, "--num-beams", 1,
             "--batch-size", 2, "--backend", "torch", "--threads", 1, "-q"]
    whole = summarize_json(book, *flags)

    out = tmp_path / "out"
    command = [sys.executable, "-m", "summarizer", str(book), "-o", str(out), *map(str, flags)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    partial = out / ".summarize-partial"
    deadline = time.monotonic() + 120
    while sum(len(p.read_bytes().splitlines()) for p in partial.glob("*.jsonl")) < 30:
        assert process.poll() is None and time.monotonic() < deadline, "the run ended before it could be killed"
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not (out / "book.txt").exists()

    resumed = invoke(book, "-o", out, *flags[:-1], "--resume")
    assert resumed.exit_code == 0, resumed.stderr
    reused = int(resumed.stderr.split("resumed: ")[1].split(" chunk summaries")[0])
    assert 30 <= reused < whole["chunks"]
    assert (out / "book.txt").read_text(encoding="utf-8").strip() == whole["summary"]
    assert not list(partial.glob("*.jsonl")), "a written document's chunk summaries are cleaned up"


def test_chunk_summaries_are_not_reused_without_resume_or_with_other_settings(tiny_model_dir, samples_dir, tmp_path):
    from summarizer.manifest import PARTIAL_DIR, Partials

    target = tmp_path / "out" / "a.txt"
    target.parent.mkdir()
    memo = Partials(target.parent, "settings-1", resume=True).memo(target)
    memo.put("key", "kept")
    assert Partials(target.parent, "settings-1", resume=True).memo(target).get("key") == "kept"
    assert Partials(target.parent, "settings-2", resume=True).memo(target).get("key") is None
    assert Partials(target.parent, "settings-1", resume=False).memo(target).get("key") is None, "a fresh run starts afresh"
    assert not list((target.parent / PARTIAL_DIR).glob("*"))


# --- the report at 80 columns ------------------------------------------------------------------------


def test_report_rows_fit_80_columns_with_names_shortened_from_the_left(tiny_model_dir, samples_dir, tmp_path):
    deep = tmp_path / "a-rather-long-folder-name" / "another-one" / "short.txt"
    deep.parent.mkdir(parents=True)
    deep.write_text((samples_dir / "short.txt").read_text(encoding="utf-8"), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "summarizer", str(deep), str(samples_dir / "short.txt"), "--model", str(tiny_model_dir),
         "--max-length", "4"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "80"}, timeout=300,
    )
    table = result.stderr[result.stderr.index("summarize report"):].splitlines()
    assert all(len(line) <= 80 for line in table), "\n".join(table)
    rows = [line for line in table if "short.txt" in line]
    assert len(rows) == 2 and all("…/" in row for row in rows), "long names lose their leading folders first"
    assert all(row.split("│")[2].strip().isdigit() for row in rows), "token counts are whole"
