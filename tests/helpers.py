"""Running the CLI in-process, the way Typer's docs test apps; a local HTTP server for URL tests."""

from __future__ import annotations

import json
import threading
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


@contextmanager
def running_server(*args: Any, timeout: float = 120.0) -> Iterator[str]:
    """`summarize serve ARGS` in a subprocess on 127.0.0.1 and a free port; yields its base URL
    once /healthz answers, and stops it (SIGTERM, then SIGKILL) at exit. The process is in
    `running_server.process` while it runs, for tests that signal it."""
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "summarizer", "serve", "--host", "127.0.0.1", "--port", str(port), *map(str, args)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    running_server.process = process
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"summarize serve exited {process.returncode}: {process.stderr.read().decode()[-2000:]}")
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
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stdout.close()
        process.stderr.close()
