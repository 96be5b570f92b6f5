"""Long runs into an --output-dir: killed, interrupted, resumed, run twice at once, or pointed
at files the tool did not write. Real processes for signals, the tiny T5 for the model."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import interruptible, invoke

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ".summarize-manifest.jsonl"
FAST = ("--batch-size", "1", "--threads", "1", "--max-length", "4", "--min-length", "1", "--quiet")


@pytest.fixture(scope="module")
def model(tiny_model_dir) -> str:
    return str(tiny_model_dir)


def write_docs(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"d{i:02d}.txt" for i in range(1, count + 1)]
    for i, path in enumerate(paths, 1):
        path.write_text(f"The bridge number {i} reopened on Monday. Riders were pleased with the ramp.\n", encoding="utf-8")
    return paths


def gate(path: Path) -> Path:
    """A named pipe where an input belongs: reading it blocks, so a run cannot finish before
    the test stops it, however fast the machine. Replaced by a file to let a run through."""
    path.unlink(missing_ok=True)
    os.mkfifo(path)
    return path


def open_gate(path: Path) -> None:
    path.unlink()
    path.write_text("The last bridge reopened too. Riders were pleased.\n", encoding="utf-8")


def start(*args) -> subprocess.Popen:
    """`summarize ARGS` as a real process running this checkout."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "summarizer", *map(str, args)], cwd=ROOT, env=env,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=interruptible,
    )


def wait_until(condition, proc: subprocess.Popen, limit: float = 300) -> None:
    """Poll until `condition()`; a safety net, not a timing assertion."""
    deadline = time.monotonic() + limit
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"the run ended early ({proc.returncode}): {proc.communicate()[1]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("the run made no progress")
        time.sleep(0.02)


def stop(proc: subprocess.Popen, signum: int) -> tuple[int, str]:
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def outputs(out: Path) -> dict[str, tuple[int, int]]:
    """Each summary file's path in `out` -> (inode, mtime_ns): a rewritten file gets a new inode."""
    files = (p for p in out.rglob("*") if p.is_file() and not p.name.startswith("."))
    return {p.relative_to(out).as_posix(): (p.stat().st_ino, p.stat().st_mtime_ns) for p in files}


def manifest_lines(out: Path) -> list[str]:
    path = out / MANIFEST
    return path.read_text(encoding="utf-8").splitlines() if path.exists() else []


def check_consistent(out: Path, temps_allowed: bool = False) -> None:
    """Every manifest line parses; every summary file is whole, as one line says it was written."""
    written = {(entry["output"], entry["digest"]) for entry in map(json.loads, manifest_lines(out))}
    for name in outputs(out):
        assert (name, hashlib.sha256((out / name).read_bytes()).hexdigest()) in written, name
    temps = [p.name for p in out.rglob("*.tmp")]
    assert temps_allowed or not temps, temps
    assert all(name.startswith(".") for name in temps), "a temp file never looks like a summary"


def resume_hint(stderr: str, how: str) -> None:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith(f"summarize: error: {how}") and "--resume" in lines[0]


def test_stopped_runs_keep_their_work_and_resume_redoes_only_what_it_must(model, tmp_path):
    docs, out = tmp_path / "docs", tmp_path / "out"
    write_docs(docs, 12)
    middle, last = gate(docs / "d07.txt"), gate(docs / "d13.txt")
    args = (docs, "--model", model, "--output-dir", out, *FAST)

    # Ctrl-C part-way: exit 130, one line saying how to go on, finished summaries kept whole.
    proc = start(*args)
    wait_until(lambda: len(outputs(out)) >= 2, proc)
    code, err = stop(proc, signal.SIGINT)
    assert code == 130
    resume_hint(err, "interrupted")
    check_consistent(out)
    first = outputs(out)

    # SIGTERM part-way through a resumed run: exit 143; nothing the first run finished is rewritten.
    open_gate(middle)
    proc = start(*args, "--resume")
    wait_until(lambda: len(outputs(out)) >= len(first) + 2, proc)
    code, err = stop(proc, signal.SIGTERM)
    assert code == 143
    resume_hint(err, "terminated")
    check_consistent(out)
    second = outputs(out)
    assert {name: second[name] for name in first} == first

    # SIGKILL part-way through a run with a changed setting, which must redo everything.
    lines = len(manifest_lines(out))
    changed = (docs, "--model", model, "--output-dir", out, *FAST, "--max-length", "5", "--resume")
    proc = start(*changed)
    wait_until(lambda: len(manifest_lines(out)) >= lines + 2, proc)
    code, _ = stop(proc, signal.SIGKILL)
    assert code == -signal.SIGKILL
    check_consistent(out, temps_allowed=True)  # SIGKILL may land inside an atomic write
    third = outputs(out)
    redone = {name for name, stat in third.items() if second.get(name) != stat}
    assert redone, "the killed run finished some summaries"

    # Resuming with the changed setting skips exactly what the killed run finished, redoes the rest.
    open_gate(last)
    result = invoke(*changed)
    assert result.exit_code == 0, result.stderr
    assert f"resumed: {len(redone)} of 13 inputs already summarized" in result.stderr
    check_consistent(out)
    final = outputs(out)
    assert len(final) == 13
    assert {name: final[name] for name in redone} == {name: third[name] for name in redone}
    assert all(final[name] != second.get(name) for name in final), "every summary made with the old setting is redone"

    # A changed input redoes that input only.
    (docs / "d03.txt").write_text("The ferry runs again, and the harbour is busy.\n", encoding="utf-8")
    result = invoke(*changed)
    assert result.exit_code == 0, result.stderr
    assert "resumed: 12 of 13 inputs" in result.stderr
    after = outputs(out)
    assert {name for name in after if after[name] != final[name]} == {"d03.txt"}


def test_two_runs_into_one_folder_at_once_corrupt_nothing(model, tmp_path):
    docs, out = tmp_path / "docs", tmp_path / "out"
    write_docs(docs, 6)
    runs = [start(docs, "--model", model, "--output-dir", out, *FAST, "--max-length", length) for length in ("4", "6")]
    for proc in runs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    check_consistent(out)
    assert len(outputs(out)) == 6
    lines = manifest_lines(out)
    assert len(lines) == 12 and len({json.loads(line)["settings"] for line in lines}) == 2
    again = invoke(docs, "--model", model, "--output-dir", out, *FAST, "--max-length", "6", "--resume")
    assert again.exit_code == 0, again.stderr


def test_a_file_the_tool_did_not_write_stops_the_run_before_any_work(model, tmp_path):
    docs, out = tmp_path / "docs", tmp_path / "out"
    write_docs(docs, 2)
    out.mkdir()
    (out / "d02.txt").write_text("my own notes\n", encoding="utf-8")
    for extra in ((), ("--resume",)):
        result = invoke(docs, "--model", model, "--output-dir", out, *FAST, *extra)
        assert result.exit_code == 2
        assert "d02.txt" in result.stderr and "--overwrite" in result.stderr
        assert (out / "d02.txt").read_text(encoding="utf-8") == "my own notes\n"
        assert sorted(p.name for p in out.iterdir()) == ["d02.txt"], "nothing was summarized"

    result = invoke(docs, "--model", model, "--output-dir", out, *FAST, "--overwrite")
    assert result.exit_code == 0, result.stderr
    assert (out / "d02.txt").read_text(encoding="utf-8") != "my own notes\n"
    check_consistent(out)


def test_a_summary_another_run_wrote_after_this_one_read_the_manifest_is_still_the_tools(tmp_path):
    """Two runs share a folder: what one writes after the other has read the manifest must not
    look foreign to that other (its line is appended before the rename, so a re-read finds it)."""
    from summarizer.manifest import Manifest
    from summarizer.outputs import write_atomic

    target = tmp_path / "a.txt"
    this_run, other_run = Manifest(tmp_path), Manifest(tmp_path)
    for version in (b"first summary", b"second summary"):
        other_run.record(target, f"input of {version!r}", "settings", version)
        write_atomic(target, version)
        assert this_run.written(target).input == f"input of {version!r}"
    target.write_bytes(b"edited by hand")
    assert this_run.written(target) is None


def test_a_summary_edited_since_the_tool_wrote_it_is_not_replaced(model, tmp_path):
    docs, out = tmp_path / "docs", tmp_path / "out"
    write_docs(docs, 2)
    assert invoke(docs, "--model", model, "--output-dir", out, *FAST).exit_code == 0
    (out / "d01.txt").write_text("corrected by hand\n", encoding="utf-8")
    result = invoke(docs, "--model", model, "--output-dir", out, *FAST)
    assert result.exit_code == 2 and "--overwrite" in result.stderr
    assert (out / "d01.txt").read_text(encoding="utf-8") == "corrected by hand\n"
    assert invoke(docs, "--model", model, "--output-dir", out, *FAST, "--resume").exit_code == 2
    assert (out / "d01.txt").read_text(encoding="utf-8") == "corrected by hand\n"


def test_a_changed_format_is_a_changed_setting(model, tmp_path):
    """notes.md's text and markdown summaries share the name notes.md: --resume must not take
    one for the other."""
    docs, out = tmp_path / "docs", tmp_path / "out"
    docs.mkdir()
    (docs / "notes.md").write_text("The library lends seeds to gardeners every spring.\n", encoding="utf-8")
    assert invoke(docs, "--model", model, "--output-dir", out, *FAST).exit_code == 0
    result = invoke(docs, "--model", model, "--output-dir", out, *FAST, "--format", "markdown", "--resume")
    assert result.exit_code == 0, result.stderr
    assert "resumed" not in result.stderr
    assert (out / "notes.md").read_text(encoding="utf-8").startswith("## ")


def test_parts_are_a_changed_setting(model, tmp_path):
    docs, out = tmp_path / "docs", tmp_path / "out"
    write_docs(docs, 1)
    args = (docs, "--model", model, "--output-dir", out, *FAST, "--format", "json", "--chunk-size", "16")
    assert invoke(*args).exit_code == 0
    assert invoke(*args, "--parts", "--resume").exit_code == 0
    assert "parts" in json.loads((out / "d01.txt.json").read_text(encoding="utf-8"))


def test_a_torn_manifest_line_does_not_swallow_the_next(model, tmp_path):
    """A run killed while appending leaves a line without its newline; the next line written
    must still be a line of its own, or its summary would look foreign to every later run."""
    docs, out = tmp_path / "docs", tmp_path / "out"
    paths = write_docs(docs, 2)
    assert invoke(docs, "--model", model, "--output-dir", out, *FAST).exit_code == 0
    with open(out / MANIFEST, "ab") as manifest:
        manifest.write(b'{"digest": "5e1f')
    paths[0].write_text("A changed first document about ferries.\n", encoding="utf-8")
    result = invoke(docs, "--model", model, "--output-dir", out, *FAST, "--resume")
    assert result.exit_code == 0, result.stderr
    assert "resumed: 1 of 2" in result.stderr
    result = invoke(docs, "--model", model, "--output-dir", out, *FAST, "--resume")
    assert result.exit_code == 0, result.stderr
    assert "resumed: 2 of 2" in result.stderr


def write_atomic_in_a_process(target: Path, replace: str) -> subprocess.Popen:
    """A process in the middle of the real write_atomic: `replace` stands in for the rename."""
    code = (
        "import os, signal, sys, time\nfrom pathlib import Path\nfrom summarizer import outputs\n"
        f"os.replace = lambda *args: {replace}\noutputs.write_atomic(Path(sys.argv[1]), 'half of a summary')\n"
    )
    return subprocess.Popen([sys.executable, "-c", code, str(target)], cwd=ROOT, stdout=subprocess.PIPE, text=True)


def test_temp_files_of_killed_writers_are_removed_and_live_ones_kept(model, tmp_path):
    docs, out = tmp_path / "docs", tmp_path / "out"
    write_docs(docs, 2)
    killed = write_atomic_in_a_process(out / "d01.txt", "os.kill(os.getpid(), signal.SIGKILL)")
    killed.wait(timeout=60)
    live = write_atomic_in_a_process(out / "d02.txt", "print('ready', flush=True) or time.sleep(600)")
    try:
        assert live.stdout.readline() == "ready\n"
        left = {p.name for p in out.iterdir()}
        assert len(left) == 2 and all(name.startswith(".") and name.endswith(".tmp") for name in left)
        result = invoke(docs, "--model", model, "--output-dir", out, *FAST)
        assert result.exit_code == 0, result.stderr
        assert "removed 1 temp file" in result.stderr
        temps = [p.name for p in out.iterdir() if p.name.endswith(".tmp")]
        assert temps == [name for name in left if name.startswith(".d02.txt.")], "the live writer's temp file stays"
    finally:
        live.kill()
        live.wait()
    check_consistent(out, temps_allowed=True)
    assert sorted(outputs(out)) == ["d01.txt", "d02.txt"]


def test_summary_files_get_the_umask_permissions(model, tmp_path):
    docs, out = tmp_path / "docs", tmp_path / "out"
    write_docs(docs, 1)
    umask = os.umask(0o022)
    try:
        assert invoke(docs, "--model", model, "--output-dir", out, *FAST).exit_code == 0
    finally:
        os.umask(umask)
    assert (out / "d01.txt").stat().st_mode & 0o777 == 0o644, "readable by others, like a file made with >"


def test_an_output_that_cannot_be_written_stops_with_one_line(model, tmp_path):
    docs, out = tmp_path / "docs", tmp_path / "out"
    write_docs(docs, 1)
    (docs / "sub").mkdir()
    (docs / "sub" / "b.txt").write_text("The library lends seeds to gardeners every spring. " * 20, encoding="utf-8")  # done last
    out.mkdir()
    (out / "sub").write_text("a file where the tool needs a folder\n", encoding="utf-8")
    result = invoke(docs, "--model", model, "--output-dir", out, *FAST)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert lines[0].startswith(f"summarize: error: cannot write output {out / 'sub' / 'b.txt'}: ")
    assert "--resume" in lines[0]
    assert (out / "d01.txt").is_file(), "what was finished is kept"

    (out / "sub").unlink()
    result = invoke(docs, "--model", model, "--output-dir", out, *FAST, "--resume")
    assert result.exit_code == 0, result.stderr
    assert "resumed: 1 of 2" in result.stderr
    assert (out / "sub" / "b.txt").is_file()
    check_consistent(out)


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(model, tmp_path, monkeypatch):
    import summarizer.commands.summarize

    def broken_render(*args, **kwargs):
        raise RuntimeError("render exploded\nsecond line")

    monkeypatch.setattr(summarizer.commands.summarize, "render", broken_render)
    docs = tmp_path / "docs"
    write_docs(docs, 1)
    result = invoke(docs, "--model", model, *FAST)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "summarize: error: unexpected RuntimeError: render exploded (rerun with --debug for the traceback)"
    ]
    result = invoke(docs, "--model", model, *FAST, "--debug")
    assert result.exit_code == 1
    assert "Traceback (most recent call last)" in result.stderr and "in broken_render" in result.stderr


def test_sigterm_while_a_pdf_is_parsed_stops_the_run(model, tmp_path, monkeypatch):
    """No library's `except Exception` may swallow SIGTERM: the signal lands while pypdf is
    working (inside the reader's catch-all) and the run must still stop with 143."""
    import pypdf

    from test_readers import PDF

    real = pypdf.PdfReader

    def reader_hit_by_sigterm(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return real(*args, **kwargs)

    monkeypatch.setattr(pypdf, "PdfReader", reader_hit_by_sigterm)
    handler = signal.getsignal(signal.SIGTERM)
    docs = tmp_path / "docs"
    write_docs(docs, 1)
    (docs / "z.pdf").write_bytes(PDF)
    result = invoke(docs / "z.pdf", docs / "d01.txt", "--model", model, *FAST)
    assert result.exit_code == 143
    assert "terminated" in result.stderr and "not a readable PDF" not in result.stderr
    assert signal.getsignal(signal.SIGTERM) == handler, "the run's handler is gone again"


@pytest.fixture(scope="module")
def pickled_model(tiny_model_dir, tmp_path_factory) -> Path:
    """The tiny T5 with its weights as a pickle (pytorch_model.bin) only, as old checkpoints are."""
    import shutil

    import torch
    from safetensors.torch import load_file

    folder = tmp_path_factory.mktemp("pickled") / "tiny-t5-bin"
    shutil.copytree(tiny_model_dir, folder, ignore=shutil.ignore_patterns("*.safetensors"))
    torch.save(load_file(tiny_model_dir / "model.safetensors"), folder / "pytorch_model.bin")
    return folder


def test_pickle_weights_are_refused_unless_allowed(model, pickled_model, tmp_path):
    docs = tmp_path / "docs"
    write_docs(docs, 1)
    refused = invoke(docs, "--model", pickled_model, *FAST)
    assert refused.exit_code == 1
    lines = refused.stderr.strip().splitlines()
    assert len(lines) == 1 and "arbitrary code" in lines[0] and "--allow-pickle" in lines[0]
    assert refused.stdout == ""

    allowed = invoke(docs, "--model", pickled_model, *FAST, "--allow-pickle", "--format", "json")
    same = invoke(docs, "--model", model, *FAST, "--format", "json")
    assert allowed.exit_code == 0, allowed.stderr
    assert json.loads(allowed.stdout)["summary"] == json.loads(same.stdout)["summary"], "the same weights"
