"""Bad and odd inputs through the CLI: each gets its message and exit code, and never stops
the other inputs of the same run from being summarized."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from helpers import invoke, local_server
from test_readers import FRENCH, PAGE, make_pdf, rewrite_pdf

ROOT = Path(__file__).resolve().parent.parent
FAST = ("--batch-size", "4", "--threads", "1", "--max-length", "4", "--min-length", "1", "--quiet")
GOOD = "The old river bridge reopened on Monday after two years of repairs. Riders were pleased.\n"
ENORMOUS_LINE = " ".join(f"word{i % 97} and the bridge" for i in range(400))  # no newline, no full stop


@pytest.fixture(scope="module")
def model(tiny_model_dir) -> str:
    return str(tiny_model_dir)


class Handler(BaseHTTPRequestHandler):
    release = threading.Event()  # set at teardown, so a sleeping /slow handler ends

    def do_GET(self):
        if self.path == "/slow":
            self.release.wait(30)  # the client gave up long ago: nothing to answer
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    with local_server(Handler) as url:
        yield url


# id: (file name or URL path, bytes, exit code, message: the failure, or a note a success prints)
CASES = {
    "latin-1": ("a.txt", FRENCH.encode("latin-1"), 0, "decoded as windows-1252 (detected)"),
    "utf-16": ("a.txt", codecs.BOM_UTF16_LE + FRENCH.encode("utf-16-le"), 0, "decoded as UTF-16 (byte order mark)"),
    "windows-1252-smart-quotes": ("a.txt", "“Yes,” she said — it’s fine… the bridge is open.".encode("cp1252"), 0, "decoded as windows-1252 (detected)"),
    "one-word": ("a.txt", b"bridge", 0, None),
    "one-enormous-line": ("a.txt", ENORMOUS_LINE.encode(), 0, None),
    "pdf": ("a.pdf", make_pdf(["The bridge reopened on Monday.\nRiders were pleased.", "Page two speaks of seeds."]), 0, None),
    "html-with-navigation-and-scripts": ("a.html", PAGE.encode(), 0, None),
    "empty": ("a.txt", b"", 1, "empty input, nothing to summarize"),
    "whitespace-only": ("a.txt", b" \n\t\n   \r\n", 1, "empty input, nothing to summarize"),
    "binary": ("a.txt", bytes(range(256)) * 4, 1, "binary file (contains NUL bytes)"),
    "scanned-pdf": ("a.pdf", rewrite_pdf(b"", blank_pages=2), 1, "no text layer (scanned PDF?); OCR is not supported"),
    "url-404": ("/missing", None, 1, "HTTP 404 Not Found"),
    "slow-url": ("/slow", None, 1, "timed out after 0.5 s"),
    "stdin-at-eof": ("-", b"", 1, "empty input, nothing to summarize"),
}


@pytest.mark.parametrize("name, data, code, message", CASES.values(), ids=CASES.keys())
def test_odd_input_beside_a_good_one(model, server, tmp_path, monkeypatch, name, data, code, message):
    monkeypatch.setenv("SUMMARIZER_URL_TIMEOUT", "0.5")
    good = tmp_path / "good.txt"
    good.write_text(GOOD, encoding="utf-8")
    stdin = None
    if name == "-":
        odd, stdin = "-", data
    elif name.startswith("/"):
        odd = server + name
    else:
        odd = str(tmp_path / name)
        Path(odd).write_bytes(data)

    result = invoke(good, odd, "--model", model, "--format", "jsonl", *FAST, input=stdin)
    assert result.exit_code == code, result.stderr
    rows = {row["source"]: row for row in map(json.loads, result.stdout.splitlines())}
    assert set(rows) == {str(good), odd}
    assert "error" not in rows[str(good)] and rows[str(good)]["summary_tokens"] > 0, "the good file is summarized"
    if code == 0:
        assert "error" not in rows[odd]
        assert rows[odd]["input_tokens"] > 0
        assert message is None or f"note: {odd}: {message}" in result.stderr
    else:
        assert rows[odd]["error"] == message
        assert f"summarize: error: {odd}: {message}" in result.stderr
        assert result.stderr.strip().splitlines()[-1] == f"summarize: error: 1 of 2 inputs failed: {odd}"
    assert "Traceback" not in result.stderr


def test_an_enormous_line_is_cut_into_chunks(model, tmp_path):
    line = tmp_path / "line.txt"
    line.write_text(ENORMOUS_LINE, encoding="utf-8")
    result = invoke(line, "--model", model, "--format", "json", *FAST)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["chunks"] > 4


def test_html_is_summarized_without_navigation_scripts_or_footer(tmp_path):
    """The lead-sentences method repeats its input, so what the readers kept shows through."""
    page = tmp_path / "page.html"
    page.write_text(PAGE, encoding="utf-8")
    result = invoke(page, "--method", "lead", "--sentences", "50", "--format", "json", "--quiet")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)["summary"]
    assert "The old river bridge reopened on Monday" in summary
    for boilerplate in ("SCRIPT_CONTENT", "MORE_SCRIPT", "About us", "Copyright", "color: red"):
        assert boilerplate not in summary


def test_failures_of_a_folder_run_are_listed_at_the_end(model, tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text(GOOD, encoding="utf-8")
    (docs / "b.txt").write_text("   \n", encoding="utf-8")
    (docs / "c.pdf").write_bytes(rewrite_pdf(b"", blank_pages=1))
    (docs / "d.txt").write_text(GOOD.replace("bridge", "ferry"), encoding="utf-8")
    missing = tmp_path / "missing.txt"
    result = invoke(docs, missing, "--model", model, "--format", "jsonl", *FAST)
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"summarize: error: 3 of 5 inputs failed: {missing}, {docs / 'b.txt'}, {docs / 'c.pdf'}"
    )
    rows = {Path(row["source"]).name: row for row in map(json.loads, result.stdout.splitlines())}
    assert {name: "error" in row for name, row in rows.items()} == {"a.txt": False, "b.txt": True, "c.pdf": True, "d.txt": False}


@pytest.mark.parametrize("value", ["soon", "0", "-1", "nan", "inf"])
def test_a_bad_url_timeout_is_a_usage_error(tmp_path, monkeypatch, value):
    monkeypatch.setenv("SUMMARIZER_URL_TIMEOUT", value)
    good = tmp_path / "good.txt"
    good.write_text(GOOD, encoding="utf-8")
    result = invoke(good, "--method", "lead")
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"summarize: error: SUMMARIZER_URL_TIMEOUT={value!r} is not a number of seconds above 0"
    ]


def test_a_closed_stdin_fails_only_itself(model, tmp_path):
    """`summarize good.txt - <&-`: with no stdin at all, `-` fails in one line, good.txt is done."""
    good = tmp_path / "good.txt"
    good.write_text(GOOD, encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "summarizer", str(good), "-", "--model", model, "--format", "jsonl", *FAST],
        cwd=ROOT, capture_output=True, text=True, timeout=300, preexec_fn=lambda: os.close(0),
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 1
    assert "summarize: error: -: no stdin to read" in proc.stderr
    rows = {row["source"]: "error" in row for row in map(json.loads, proc.stdout.splitlines())}
    assert rows == {str(good): False, "-": True}
