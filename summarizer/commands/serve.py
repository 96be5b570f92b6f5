"""`summarize serve`: the server's limits checked, the summarizer opened, then served until stopped."""

from __future__ import annotations

from typing import Any

from ..config import Layer
from ..errors import SummarizerError
from .common import EXIT_USAGE, error, open_summarizer


def execute_serve(layers: tuple[Layer, ...], host: str, port: int, limits: dict[str, Any], quiet: bool) -> int:
    """`summarize serve`: check the server's limits, open the summarizer, fit the limits to its
    settings, then serve it until SIGINT or SIGTERM."""
    from ..serve import MISSING, serve

    try:
        import fastapi  # noqa: F401 -- the extra's presence, said in one line
        import prometheus_client  # noqa: F401
        import uvicorn  # noqa: F401

        from ..serve.limits import ServeLimits

        parsed = ServeLimits.parse(**limits)
    except ImportError:
        error(MISSING)
        return EXIT_USAGE
    except SummarizerError as exc:
        error(str(exc))
        return exc.exit_code
    summarizer = open_summarizer(layers, quiet=quiet)
    if isinstance(summarizer, int):
        return summarizer
    try:
        fitted = parsed.fitted(summarizer.settings)
    except SummarizerError as exc:
        error(str(exc))
        return exc.exit_code
    return serve(summarizer, host, port, fitted, quiet)
