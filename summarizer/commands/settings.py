"""`summarize settings`: the settings a run would use and where each came from; no weights load.
With an input, also the lengths its summary would get (word and sentence bounds in tokens)."""

from __future__ import annotations

from ..config import Layer
from ..readers import ReadError, discover, read
from .common import EXIT_FAILED, EXIT_OK, error, open_summarizer, read_limits


def execute_settings(layers: tuple[Layer, ...], fmt: str, path: str | None = None) -> int:
    """`summarize settings [INPUT]`: the model described, never run."""
    from ..settings_report import describe_input, describe_settings, render_settings

    summarizer = open_summarizer(layers, quiet=True, weights=False)
    if isinstance(summarizer, int):
        return summarizer
    described = describe_settings(summarizer)
    if path is not None:
        listing, limits = discover([path]), read_limits()
        if listing.errors or len(listing.sources) != 1 or limits is None:
            if listing.errors:
                error(f"{listing.errors[0].source}: {listing.errors[0].message}")
            elif len(listing.sources) > 1:
                error(f"{path}: name one input (a file, a URL or -), not a folder")
            return EXIT_FAILED
        try:
            document = read(listing.sources[0], limits=limits)
        except ReadError as exc:
            error(f"{path}: {exc}")
            return EXIT_FAILED
        described["input"] = describe_input(summarizer, document.source, document.text)
    render_settings(described, fmt)
    return EXIT_OK
