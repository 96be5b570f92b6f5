"""Running the CLI in-process, the way Typer's docs test apps; a local HTTP server for URL tests;
`summarize serve` run for real, and requests to it."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from typing import Any, Iterator

from typer.testing import CliRunner

from summarizer.cli import app

runner = CliRunner()


@contextmanager
def one_torch_thread() -> Iterator[None]:
    """Torch on one thread while a module's tests run: on models this small a second thread only
    spins, and on a busy 2-core machine it spins against the other process (one greedy batch
    took 11 s on two threads, 0.04 s on one)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def invoke(*args: Any, input: str | bytes | None = None):
    """Run `summarize ARGS`; result.stdout and result.stderr are kept apart."""
    return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)


def summarize_json(*args: Any, input: str | None = None) -> Any:
    result = invoke(*args, "--format", "json", input=input)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def interruptible() -> None:
    """A child process's Ctrl-C as from a terminal (its `preexec_fn`): a test run started in the
    background by a shell hands its children SIGINT ignored, and Python then never turns it
    into KeyboardInterrupt."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


@contextmanager
def local_server(handler) -> Iterator[str]:
    """Serve `handler` on 127.0.0.1 (a free port) in a thread; yields the base URL.

    At exit `handler.release` is set (a slow route waits on it) before the server closes.
    """
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        handler.release.set()
        httpd.shutdown()
        httpd.server_close()


def request(base: str, path: str, body: Any = None, headers: dict[str, str] | None = None, method: str | None = None,
            timeout: float = 60) -> tuple[int, Any, Any]:
    """(status, JSON body, headers) of a request to a test server; errors are answers too. `body` is JSON, or bytes as they are."""
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json", **(headers or {})} if data is not None else dict(headers or {})
    http_request = urllib.request.Request(base + path, data=data, headers=sent, method=method)
    try:
        with urllib.request.urlopen(http_request, timeout=timeout) as response:
            raw = response.read()
            return response.status, _json_or_text(raw, response.headers), response.headers
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, _json_or_text(exc.read(), exc.headers), exc.headers


def _json_or_text(raw: bytes, headers) -> Any:
    return json.loads(raw) if "json" in (headers.get("content-type") or "") else raw.decode()


@contextmanager
def running_server(*args: Any, timeout: float = 120.0, env: dict[str, str] | None = None,
                   launcher: str | None = None) -> Iterator[str]:
    """`summarize serve ARGS` in a subprocess on 127.0.0.1 and a free port; yields its base URL
    once /healthz answers, and stops it (SIGTERM, then SIGKILL) at exit. The process is in
    `running_server.process` while it runs (the last one started; `running_server.processes[base]`
    for each), for tests that signal it; `running_server.log(base)` reads what it wrote on stderr
    so far (kept in a file: a pipe nobody reads would fill and block the server). `env` is added to the environment; `launcher` is Python code run instead
    of `python -m summarizer` (with the same arguments), for a test that must change the
    process before the server starts."""
    import os
    import socket
    import subprocess
    import sys
    import tempfile
    import time

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    start = [sys.executable, "-c", launcher] if launcher is not None else [sys.executable, "-m", "summarizer"]
    command = [*start, "serve", "--host", "127.0.0.1", "--port", str(port), *map(str, args)]
    log = tempfile.NamedTemporaryFile(prefix="summarize-serve-", suffix=".log", delete=False)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log,
                               env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})})
    base = f"http://127.0.0.1:{port}"
    running_server.process = running_server.processes[base] = process
    running_server.logs[base] = log.name
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"summarize serve exited {process.returncode}: {running_server.log(base)[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("summarize serve did not answer /healthz in time") from None
                time.sleep(0.2)
        yield base
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()
        os.unlink(log.name)
        del running_server.processes[base], running_server.logs[base]


def _server_log(base: str) -> str:
    with open(running_server.logs[base], encoding="utf-8", errors="replace") as log:
        return log.read()


running_server.processes = {}
running_server.logs = {}
running_server.log = _server_log
