"""`summarize serve`: the summarizer behind an HTTP API and a web page, on FastAPI and uvicorn.

`batcher` feeds every client's request into one pipeline run (one batched queue), `app` is the
HTTP surface over it, `limits` what a public-facing service bounds, `static/` the page. The
web stack is the `serve` extra and is imported only by this package.
"""

from __future__ import annotations

import ipaddress
import signal
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..api import Summarizer
    from .limits import ServeLimits

MISSING = "summarize serve needs the 'serve' extra: pip install 'summarizer[serve]'"


def serve(summarizer: "Summarizer", host: str, port: int, limits: "ServeLimits", quiet: bool = False) -> int:
    """Serve until SIGINT or SIGTERM: then stop accepting, finish the requests in flight, and
    return 0. uvicorn owns the signals while it runs."""
    import uvicorn

    from .app import create_app
    from .batcher import Batcher

    batcher = Batcher(summarizer, capacity=limits.queue)
    app = create_app(summarizer, batcher, limits)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning" if quiet else "info", access_log=not quiet,
        timeout_graceful_shutdown=int(limits.timeout) + 5, server_header=False,
    )
    server = uvicorn.Server(config)
    if not quiet:
        where = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        print(f"summarize: serving {summarizer.name} ({summarizer.model_type}, {summarizer.settings.backend}, "
              f"{summarizer.device}) at {where}/ -- API {where}/v1/summarize, docs {where}/docs", file=sys.stderr)
        if not _loopback(host):
            print(f"summarize: warning: listening on {host}: anyone who can reach this machine can use the "
                  "model, with no authentication (put it behind a proxy that authenticates)", file=sys.stderr)
    # uvicorn raises the signal that stopped it again once it has shut down; a stop that
    # finished every request is a clean exit here, so those land in a handler that does nothing.
    stopped = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    finally:
        batcher.stop()
        for sig, handler in stopped.items():
            signal.signal(sig, handler)
    return 0


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
