"""How much of one input may be read, and for how long: one size limit for files, stdin and URLs."""

from __future__ import annotations

from dataclasses import dataclass

from ..config import DEFAULT_MAX_INPUT_SIZE


@dataclass(frozen=True)
class ReadLimits:
    """`max_bytes` bounds every input's raw bytes (--max-input-size); `timeout` bounds a URL's
    whole download, in seconds."""

    max_bytes: int = DEFAULT_MAX_INPUT_SIZE
    timeout: float = 20.0
