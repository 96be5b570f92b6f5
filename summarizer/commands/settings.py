"""`summarize settings`: the settings a run would use and where each came from; no weights load.
With an input, also the lengths its summary would get (word and sentence bounds in tokens)."""

from __future__ import annotations

from ..config import Layer
from .common import EXIT_FAILED, EXIT_OK, open_summarizer, read_one


def execute_settings(layers: tuple[Layer, ...], fmt: str, path: str | None = None) -> int:
    """`summarize settings [INPUT]`: the model described, never run."""
    from ..settings_report import describe_input, describe_settings, render_settings

    summarizer = open_summarizer(layers, quiet=True, weights=False)
    if isinstance(summarizer, int):
        return summarizer
    described = describe_settings(summarizer)
    if path is not None:
        document = read_one(path)
        if document is None:
            return EXIT_FAILED
        described["input"] = describe_input(summarizer, document.source, document.text)
    render_settings(described, fmt)
    return EXIT_OK
