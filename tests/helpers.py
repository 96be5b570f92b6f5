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
