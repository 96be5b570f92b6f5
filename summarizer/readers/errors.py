"""The one exception readers raise: why a source could not be turned into text, in one line."""

from __future__ import annotations

from ..errors import InputError


class ReadError(InputError):
    """A source that cannot be read; the message is one line the CLI prints after the source.

    `skippable` is True where the caller should print a note and go on instead of failing the
    run: a binary file met in a folder walk is not something the user asked for by name.
    """

    def __init__(self, message: str, skippable: bool = False):
        super().__init__(message)
        self.skippable = skippable


class BinaryData(ReadError):
    """The bytes are not text in any plausible encoding; `read` decides whether that is skippable."""


class TooLarge(ReadError):
    """More bytes than --max-input-size allows: a file, stdin or a URL's body, refused as soon as
    the limit is passed (a server can answer 413 for this class)."""

    def __init__(self, limit: int):
        super().__init__(f"larger than --max-input-size ({describe_size(limit)})")
        self.limit = limit


def describe_size(n: int) -> str:
    """A byte count as --max-input-size counts it (powers of 1000): 100 MB, 2 GB, 1,500 bytes."""
    for unit, name in ((10**9, "GB"), (10**6, "MB"), (10**3, "KB")):
        if n >= unit and n % unit == 0:
            return f"{n // unit} {name}"
    return f"{n:,} bytes"
