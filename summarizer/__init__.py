"""Summarize text with encoder-decoder models (T5, BART, Pegasus, LED...): a CLI, a Python API
and an HTTP service over one pipeline.

    from summarizer import Summarizer
    summary = Summarizer("facebook/bart-large-cnn").summarize(text)

The API's names load on first use, so `summarize --help` imports nothing it does not show.
"""

__version__ = "0.2.0"

_API = (
    "Summarizer", "Summary", "Item", "summarize", "check", "SummarizerError", "SettingsError", "ModelLoadError",
    "UnsupportedModel", "InputError",
)
__all__ = [*_API, "__version__"]


def __getattr__(name: str):
    if name in _API:
        from . import api

        return getattr(api, name)
    raise AttributeError(f"module 'summarizer' has no attribute {name!r}")
