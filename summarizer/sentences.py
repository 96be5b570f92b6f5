"""Placeholder sentence splitter for the evaluation branch; the shared splitter replaces it."""

from __future__ import annotations

import re

_SENTENCE_GAP = re.compile(r"(?<=[.!?])\s+")


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`: split at newlines and after . ! ? followed by whitespace."""
    return [part.strip() for line in text.splitlines() for part in _SENTENCE_GAP.split(line) if part.strip()]
