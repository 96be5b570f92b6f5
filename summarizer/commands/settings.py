"""`summarize settings`: the settings a run would use and where each came from; no weights load."""

from __future__ import annotations

from ..config import Layer
from .common import EXIT_OK, open_summarizer


def execute_settings(layers: tuple[Layer, ...], fmt: str) -> int:
    """`summarize settings`: the model described, never run."""
    from ..settings_report import describe_settings, render_settings

    summarizer = open_summarizer(layers, quiet=True, weights=False)
    if isinstance(summarizer, int):
        return summarizer
    render_settings(describe_settings(summarizer), fmt)
    return EXIT_OK
