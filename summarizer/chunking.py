"""Split a document's token ids into spans that fit the model's window.

Pure functions on token positions: the caller tokenizes, these decide where to cut. A cut
prefers, within the back half of the window, a paragraph break over a sentence end over a
word gap, so a chunk rarely starts mid-sentence and never mid-word when a gap is in reach.
"""

from __future__ import annotations

import re
from typing import Mapping, Sequence

from .sentences import sentence_spans

WORD, SENTENCE, PARAGRAPH = 1, 2, 3

_PARAGRAPH_GAP = re.compile(r"\n[ \t\r\f\v]*\n")


def boundary_strengths(text: str, offsets: Sequence[tuple[int, int]]) -> dict[int, int]:
    """Map token index i to how good a cut *before* token i is (WORD, SENTENCE or PARAGRAPH).

    `offsets` are the tokenizer's character spans. A cut is possible only where whitespace
    separates token i from token i-1: PARAGRAPH when that gap holds a blank line, SENTENCE when
    a sentence (per the shared splitter) ends right before it, WORD otherwise.
    """
    ends = {end for _, end in sentence_spans(text)}
    strengths: dict[int, int] = {}
    for i in range(1, len(offsets)):
        prev_end, start = offsets[i - 1][1], offsets[i][0]
        gap = text[prev_end:start]
        if not gap or not gap.isspace():
            continue
        if _PARAGRAPH_GAP.search(gap):
            strengths[i] = PARAGRAPH
        elif prev_end in ends:  # a sentence ends on a non-space character, so only here
            strengths[i] = SENTENCE
        else:
            strengths[i] = WORD
    return strengths


def plan_chunks(
    n_tokens: int,
    size: int,
    overlap: int = 0,
    boundaries: Mapping[int, int] | None = None,
) -> list[tuple[int, int]]:
    """Return [start, end) spans covering 0..n_tokens in order, each at most `size` long.

    Consecutive spans share exactly `overlap` tokens. Each cut lands in the back half of its
    window, which keeps chunks at least size/2 long and guarantees progress.
    """
    if size < 2:
        raise ValueError(f"chunk size must be at least 2 tokens (got {size})")
    if not 0 <= overlap < size // 2:
        raise ValueError(f"overlap must be in [0, {size // 2}) for chunks of {size} tokens (got {overlap})")
    if n_tokens <= 0:
        return []
    boundaries = boundaries or {}
    spans: list[tuple[int, int]] = []
    start = 0
    while n_tokens - start > size:
        limit = start + size
        end = _best_cut(boundaries, lo=start + size // 2 + 1, hi=limit)
        spans.append((start, end))
        start = end - overlap
    spans.append((start, n_tokens))
    return spans


def _best_cut(boundaries: Mapping[int, int], lo: int, hi: int) -> int:
    """The strongest boundary in [lo, hi], latest on ties; `hi` (a hard cut) when there is none."""
    best, best_strength = hi, 0
    for position in range(hi, lo - 1, -1):
        strength = boundaries.get(position, 0)
        if strength > best_strength:
            best, best_strength = position, strength
            if strength == PARAGRAPH:
                break
    return best
