"""The errors a user can meet, one family for every door (CLI, Python API, server).

Each message is one line that says what went wrong and what to do; `exit_code` is what the
command line exits with, and the server maps the same classes to HTTP statuses.
"""

from __future__ import annotations


class SummarizerError(Exception):
    """Anything summarize refuses or fails at, with a one-line message."""

    exit_code = 1


class SettingsError(SummarizerError, ValueError):
    """Settings that cannot work together or on this machine; found before any model loads
    where that is possible."""

    exit_code = 2


class ModelLoadError(SummarizerError, RuntimeError):
    """The model could not be loaded; the message says what to do about it."""


class UnsupportedModel(ModelLoadError):
    """A checkpoint that is not an encoder-decoder summarizer (GPT-2, BERT): a usage error."""

    exit_code = 2


class InputError(SummarizerError):
    """An input that cannot be turned into text to summarize."""


def first_line(exc: BaseException) -> str:
    """The message's first line, or the exception's type when it has no message."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
