"""`summarize serve`: the server's limits checked, the summarizer opened, then served until stopped."""

from __future__ import annotations

from ..config import Layer
from ..errors import SummarizerError
from .common import EXIT_USAGE, error, open_summarizer


def execute_serve(layers: tuple[Layer, ...], host: str, port: int, max_body: str, queue: int, timeout: float,
                  allow_urls: bool, quiet: bool) -> int:
    """`summarize serve`: open the summarizer, then serve it until SIGINT or SIGTERM."""
    from ..serve import MISSING, serve

    try:
        import fastapi  # noqa: F401 -- the extra's presence, said in one line
        import uvicorn  # noqa: F401

        from ..serve.limits import ServeLimits

        limits = ServeLimits.parse(max_body, queue, timeout, allow_urls)
    except ImportError:
        error(MISSING)
        return EXIT_USAGE
    except SummarizerError as exc:
        error(str(exc))
        return exc.exit_code
    summarizer = open_summarizer(layers, quiet=quiet)
    if isinstance(summarizer, int):
        return summarizer
    return serve(summarizer, host, port, limits, quiet)
