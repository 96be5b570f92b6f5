"""`summarize serve`: the summarizer behind an HTTP API and a web page, on FastAPI and uvicorn.

`batcher` feeds every client's request into one pipeline run (one batched queue, requests
taking turns), `app` is the HTTP surface over it, `limits` what a public-facing service bounds,
`server` uvicorn with a grace period and connection guards, `metrics` what an operator alerts
on, `static/` the page. The web stack is the `serve` extra and is imported only by this package.
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
MARGIN = 5.0  # seconds past the grace for the last answers to go out, and for a generate() call to end


def serve(summarizer: "Summarizer", host: str, port: int, limits: "ServeLimits", quiet: bool = False) -> int:
    """Serve until SIGINT or SIGTERM, then: stop accepting, give the requests in flight
    `limits.grace` seconds, answer the rest 503, and return 0. Returns 1 if the model's thread
    died (the server stops at once: a supervisor should start a new one). uvicorn owns the
    signals while it runs."""
    import uvicorn

    from .app import create_app
    from .batcher import Batcher
    from .server import GracefulServer, guarded_protocol
    from .metrics import Metrics

    server: GracefulServer | None = None

    def died() -> None:
        if server is not None:
            server.should_exit = True

    metrics = Metrics(lambda: batcher.load, limits.queue)
    batcher = Batcher(summarizer, capacity=limits.queue, on_batch=metrics.batch, on_death=died)
    app = create_app(summarizer, batcher, limits, metrics)
    config = uvicorn.Config(
        app, host=host, port=port, log_level="warning" if quiet else "info", access_log=not quiet,
        timeout_graceful_shutdown=int(limits.grace + MARGIN), timeout_keep_alive=limits.keep_alive,
        http=guarded_protocol(limits.max_connections, limits.retry_after), server_header=False,
    )
    server = GracefulServer(config, batcher, limits.grace)
    if not quiet:
        where = f"http://{'[' + host + ']' if ':' in host else host}:{port}"
        print(f"summarize: serving {summarizer.name} ({summarizer.model_type}, {summarizer.settings.backend}, "
              f"{summarizer.device}) at {where}/ -- API {where}/v1/summarize, docs {where}/docs", file=sys.stderr)
        if not _loopback(host) and limits.api_key is None:
            print(f"summarize: warning: listening on {host}: anyone who can reach this machine can use the "
                  "model, with no authentication (set --api-key, or put it behind a proxy that authenticates)",
                  file=sys.stderr)
    # uvicorn raises the signal that stopped it again once it has shut down; a stop that
    # answered every request is a clean exit here, so those land in a handler that does nothing.
    stopped = {sig: signal.signal(sig, lambda *_: None) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()
    finally:
        batcher.abort("the server is shutting down")
        batcher.stop(timeout=MARGIN)  # a generate() call in flight is left to the process's exit
        for sig, handler in stopped.items():
            signal.signal(sig, handler)
    if batcher.failure is not None:
        print(f"summarize: error: the model's thread stopped ({batcher.failure}); exiting", file=sys.stderr)
        return 1
    return 0


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
