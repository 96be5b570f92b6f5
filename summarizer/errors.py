"""Turning an exception into the one line a user reads."""

from __future__ import annotations


def first_line(exc: BaseException) -> str:
    """The message's first line, or the exception's type when it has no message."""
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
