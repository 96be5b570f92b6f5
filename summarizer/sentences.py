"""Placeholder sentence splitter (replaced by the shared splitter)."""

from __future__ import annotations

import re

_END = re.compile(r"[.!?…][\"'”’)\]]*$")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for match in re.finditer(r"(?<=[.!?])\s+|\n\s*\n", text):
        if text[start:match.start()].strip():
            spans.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def split_sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


def is_complete(sentence: str) -> bool:
    return bool(_END.search(sentence.strip()))
