"""The installed `summarize` script, run as a user runs it: a real process, real pipes."""

from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys

import pytest

SCRIPT = shutil.which("summarize", path=os.path.dirname(sys.executable)) or shutil.which("summarize")


@pytest.mark.skipif(SCRIPT is None, reason="summarize script not installed (pip install -e .)")
def test_piped_stdin_through_the_installed_script(tiny_model_dir, samples_dir):
    text = (samples_dir / "short.txt").read_text(encoding="utf-8")
    proc = subprocess.run(
        [SCRIPT, "--model", str(tiny_model_dir), "--format", "jsonl"],
        input=text, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert '"source": "-"' in proc.stdout
    assert proc.stdout.count("\n") == 1, "stdout carries only the one JSON line"


def test_python_dash_m_and_a_terminal_with_no_input():
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "summarizer"], stdin=secondary, capture_output=True, text=True, timeout=60,
        )
    finally:
        os.close(primary)
        os.close(secondary)
    assert proc.returncode == 2
    assert "no input" in proc.stderr


def test_usage_names_the_command_a_user_typed():
    proc = subprocess.run(
        [sys.executable, "-m", "summarizer", "--max-length", "many", "report.txt"],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("Usage: summarize [OPTIONS] [paths]...\nTry 'summarize -h' for help.")
    help_text = subprocess.run([sys.executable, "-m", "summarizer", "eval", "--help"], capture_output=True, text=True, timeout=60)
    assert "Usage: summarize eval [OPTIONS]" in help_text.stdout


def test_every_record_reaches_a_pipe_and_exit_codes_survive_the_fast_exit(tmp_path):
    """The script leaves without the interpreter's teardown: every record must still reach the
    pipe, and the command's exit code be kept."""
    folder = tmp_path / "docs"
    folder.mkdir()
    for i in range(300):
        (folder / f"{i:03d}.txt").write_text(f"Document number {i} opens here. It closes there.", encoding="utf-8")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    proc = subprocess.run([sys.executable, "-m", "summarizer", str(folder), "--method", "lead", "-f", "jsonl", "-q"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 300 and proc.stdout.endswith("}\n")
    missing = subprocess.run([sys.executable, "-m", "summarizer", str(folder / "absent.txt"), "--method", "lead"],
                             capture_output=True, text=True, timeout=120, env=env)
    assert missing.returncode == 1 and "no such file" in missing.stderr
