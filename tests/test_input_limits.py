"""Inputs that never end or are too big to hold: the real CLI in a subprocess under an
address-space cap, so a regression fails here instead of eating the machine's memory."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from helpers import interruptible

ROOT = Path(__file__).resolve().parent.parent
CAP = 3 * 2**30  # address space per process: far above a run's needs, far below the machine's
FAST = ("--backend", "torch", "--batch-size", "8", "--threads", "1", "--max-length", "4", "--min-length", "1", "--quiet")
PARAGRAPH = "The old river bridge reopened on Monday after two years of repairs. Riders were pleased.\n\n"


@pytest.fixture(scope="module")
def model(tiny_model_dir) -> str:
    return str(tiny_model_dir)


def _capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (CAP, CAP))
    interruptible()


def start(*args, stdin=subprocess.DEVNULL) -> subprocess.Popen:
    """`summarize ARGS` as a real process running this checkout, its memory capped."""
    return subprocess.Popen(
        [sys.executable, "-m", "summarizer", *map(str, args)], cwd=ROOT, stdin=stdin,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=_capped,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    """Its exit code, stdout and stderr; a run that goes on is killed and fails the test."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"still running after {timeout} s")
    return proc.returncode, out, err


def errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("summarize: error:")]


def test_endless_devices_are_refused_as_binary_on_their_first_block(model):
    """`summarize /dev/zero`, a typo away from a real path: one line each, not all memory."""
    code, out, err = finish(start("/dev/zero", "/dev/urandom", "--model", model, *FAST))
    assert (code, out) == (1, "")
    assert errors(err)[:2] == [f"summarize: error: {device}: binary file (contains NUL bytes)"
                               for device in ("/dev/zero", "/dev/urandom")]


def test_a_lone_input_is_refused_before_any_model_loads(tmp_path):
    """With one input, it is read first: `summarize /dev/zero` says why at once, instead of
    after the seconds a model takes to load (here there is no model at all to load)."""
    code, out, err = finish(start("/dev/zero", "--model", tmp_path / "no-such-model", "-f", "json", "--quiet"))
    assert code == 1
    assert errors(err) == ["summarize: error: /dev/zero: binary file (contains NUL bytes)"]
    assert json.loads(out)["error"] == "binary file (contains NUL bytes)"


def test_a_sparse_multi_gigabyte_file_in_a_folder_is_skipped_as_binary(model, tmp_path):
    (tmp_path / "good.txt").write_text(PARAGRAPH, encoding="utf-8")
    with open(tmp_path / "zeros.txt", "wb") as sparse:
        sparse.truncate(8 * 10**9)  # no disk used; reading it whole would take 8 GB
    code, out, err = finish(start(tmp_path, "--model", model, "--format", "jsonl", *FAST))
    assert code == 0, err
    assert f"note: {tmp_path / 'zeros.txt'}: binary file (contains NUL bytes), skipped" in err
    assert [json.loads(line)["source"] for line in out.splitlines()] == [str(tmp_path / "good.txt")]


def test_an_endless_pipe_is_refused_once_it_passes_the_limit(model):
    """`yes ... | summarize`: refused after 5 MB arrive, however long the model would take."""
    writer = subprocess.Popen(
        [sys.executable, "-c", f"import sys\nwhile True: sys.stdout.write({PARAGRAPH!r} * 100)"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, preexec_fn=_capped,
    )
    try:
        proc = start("--model", model, "--max-input-size", "5M", *FAST, stdin=writer.stdout)
        writer.stdout.close()  # the reader's end is summarize's now
        code, out, err = finish(proc)
    finally:
        writer.kill()
        writer.wait()
    assert (code, out) == (1, "")
    assert errors(err) == ["summarize: error: -: larger than --max-input-size (5 MB)"]


def test_a_file_just_over_the_limit_fails_alone_and_one_at_the_limit_is_summarized(model, tmp_path):
    limit = 100_000
    text = PARAGRAPH * (limit // len(PARAGRAPH) + 1)
    at, over = tmp_path / "at.txt", tmp_path / "over.txt"
    at.write_bytes(text.encode()[:limit])
    over.write_bytes(text.encode()[: limit + 1])
    code, out, err = finish(start(over, at, "--model", model, "--max-input-size", "100K", "--format", "jsonl", *FAST))
    assert code == 1
    rows = {Path(row["source"]).name: row for row in map(json.loads, out.splitlines())}
    assert rows["over.txt"]["error"] == "larger than --max-input-size (100 KB)"
    assert "error" not in rows["at.txt"] and rows["at.txt"]["input_tokens"] > 10_000
    assert f"summarize: error: {over}: larger than --max-input-size (100 KB)" in errors(err)


@pytest.mark.parametrize("signum, code, how", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_a_signal_stops_a_run_that_is_reading_an_endless_stdin(model, tmp_path, signum, code, how):
    out = tmp_path / "out"
    proc = start("-", "--model", model, "--max-input-size", "10G", "--output-dir", out, *FAST, stdin=subprocess.PIPE)
    written = [0]

    def feed() -> None:
        try:
            while True:
                proc.stdin.write(PARAGRAPH * 1000)
                written[0] += len(PARAGRAPH) * 1000
        except (BrokenPipeError, ValueError, OSError):
            pass

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    deadline = time.monotonic() + 120
    while written[0] < 8 * 10**6:  # far past a pipe's buffer: the run is reading
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the run never read its stdin"
        time.sleep(0.05)
    proc.send_signal(signum)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the signal did not stop the read")
    feeder.join(10)
    err = proc.stderr.read()
    try:
        proc.stdin.close()
    except BrokenPipeError:
        pass
    assert proc.returncode == code, err
    assert errors(err) == [f"summarize: error: {how} -- finished summaries are kept; "
                           "rerun the same command with --resume to do the rest"]
    assert not [p for p in out.rglob("*") if not p.name.startswith(".summarize-manifest")], "nothing half-written"


def test_the_api_refuses_an_input_over_max_input_size_and_goes_on(tmp_path):
    from summarizer import Summarizer

    big, small = tmp_path / "big.txt", tmp_path / "small.txt"
    big.write_text(PARAGRAPH * 20, encoding="utf-8")
    small.write_text(PARAGRAPH, encoding="utf-8")
    records = list(Summarizer(method="lead", max_input_size="1K").summarize_files([big, small]))
    assert [(Path(r.source).name, r.error) for r in records] == [
        ("big.txt", "larger than --max-input-size (1 KB)"), ("small.txt", None),
    ]


def test_a_streamed_file_is_cut_into_the_chunks_of_its_whole_text(tiny_model_dir, samples_dir, tmp_path):
    """A file of a few MB is read block by block; its chunks are those of the same text read
    whole, with multi-byte characters, CRLF line ends, long blank runs and an enormous word
    across block and piece boundaries."""
    from transformers import AutoTokenizer

    from summarizer.chunker import Chunker
    from summarizer.readers import discover, read
    from summarizer.sentences import count_words
    from summarizer.strategies import Trace

    report = (samples_dir / "long_report.txt").read_text(encoding="utf-8")
    parts = [report, "Ünïcödé “quotes” — naïve café. " * 3000, "\r\n".join(report.splitlines()), "\n" * 70_000,
             " " * 100_001, "word" * 40_000]
    text = "\n\n".join(parts * 4)
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8", newline="")
    [source] = discover([path]).sources
    document = read(source)
    assert not isinstance(document.blocks(), str), "a file this big is streamed, not held"
    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    for chunker in (Chunker(tokenizer, 120, 10), Chunker(tokenizer, 120, 10, piece_chars=7_000)):
        trace = Trace()
        assert list(chunker.chunks(document.blocks(), trace.count)) == list(chunker.chunks(text))
        assert trace.input_tokens == chunker.count(document.blocks()) == chunker.count(text)
        pieces = len(text) // chunker.piece_chars + 1
        assert 0 <= trace.words - count_words(text) <= pieces, "words are counted as read (a hard cut splits a word)"
