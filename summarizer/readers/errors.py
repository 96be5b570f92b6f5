"""The one exception readers raise: why a source could not be turned into text, in one line."""

from __future__ import annotations


class ReadError(Exception):
    """A source that cannot be read; the message is one line the CLI prints after the source.

    `skippable` is True where the caller should print a note and go on instead of failing the
    run: a binary file met in a folder walk is not something the user asked for by name.
    """

    def __init__(self, message: str, skippable: bool = False):
        super().__init__(message)
        self.skippable = skippable


class BinaryData(ReadError):
    """The bytes are not text in any plausible encoding; `read` decides whether that is skippable."""
