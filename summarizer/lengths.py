"""A summary's length for one document: word and sentence bounds become tokens, and no summary
is longer than what its pass reads.

People ask for "about 100 words" or "3 sentences"; the model counts tokens. A document's own
tokens per word (and per sentence) turn the bounds into the token budget of its final pass,
with a margin for stretches of text that take more tokens per word than the document as a whole
(`MARGIN`, measured by benchmarks/bench_tokens_per_word.py); the summary is then cut back to
the bound in whole words and sentences (`sentences.cut_back`), so the margin costs a few tokens
of generation, never a longer summary.

Budgets are rounded up to a multiple of `STEP` tokens: documents whose budgets differ by a few
tokens then share a batch (only jobs with equal settings do), at the cost of at most STEP - 1
tokens generated and cut.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import Bounds, GenerationSettings

# The 99th percentile, at every stretch of 20-120 words, of (tokens per word of a summary-sized
# stretch of text) / (tokens per word of its document): 1.47 at 20 words, 1.22 at 100, over
# 56,406 stretches of English, German and French through the T5, BART and Pegasus tokenizers
# (benchmarks/bench_tokens_per_word.py).
MARGIN = 1.5
STEP = 8
RATIO_FLOOR = 0.75  # --ratio R asks for about R x the input's words: at least this share of it


@dataclass(frozen=True)
class Measure:
    """What is known of a document when its final pass is queued: its tokens (no prefix, no
    special tokens), words and sentences."""

    tokens: int
    words: int
    sentences: int = 0

    @property
    def tokens_per_word(self) -> float:
        return self.tokens / self.words if self.words else 1.0


@dataclass(frozen=True)
class WordBounds:
    """The bounds in words and sentences that the printed summary is cut back to."""

    max_words: int | None = None
    min_words: int | None = None
    max_sentences: int | None = None


def word_bounds(bounds: "Bounds", measure: Measure) -> WordBounds:
    """`--max-words`, `--min-words` and `--max-sentences` as given; `--ratio` as words of this
    document (at least one)."""
    if bounds.ratio is None:
        return WordBounds(bounds.max_words, bounds.min_words, bounds.max_sentences)
    target = bounds.ratio * measure.words
    return WordBounds(max(1, round(target)), math.floor(RATIO_FLOOR * target), bounds.max_sentences)


def final_lengths(generation: "GenerationSettings", bounds: "Bounds", measure: Measure, reads: int,
                  longest: int | None = None) -> "GenerationSettings":
    """The token lengths of a final pass that reads `reads` tokens of a document measured as
    `measure`: the word and sentence bounds turned into tokens, then `capped`."""
    words = word_bounds(bounds, measure)
    most = []
    if words.max_words is not None:  # + 1: the end token counts among the tokens generated
        most.append(_up(words.max_words * measure.tokens_per_word * MARGIN + 1))
    if words.max_sentences is not None and measure.sentences:
        most.append(_up(words.max_sentences * measure.tokens / measure.sentences * MARGIN + 1))
    max_length = min(most) if most else generation.max_length
    if longest is not None:
        max_length = min(max_length, longest)
    min_length = generation.min_length
    if words.min_words is not None:
        min_length = _up(words.min_words * measure.tokens_per_word)
    elif most:  # the model's own minimum counts tokens the user did not ask for
        min_length = min(min_length, max_length)
    return capped(replace(generation, max_length=max_length, min_length=min(min_length, max_length)), reads)


def capped(generation: "GenerationSettings", reads: int) -> "GenerationSettings":
    """No longer than what the pass reads: the most tokens a pass of `reads` tokens may write,
    rounded down to a multiple of STEP (so that short documents still batch together), and the
    minimum gives way to it, as it gives way to --max-length."""
    if reads <= 0 or generation.max_length <= reads:
        return generation
    most = max(reads - reads % STEP, min(reads, STEP))
    return replace(generation, max_length=most, min_length=min(generation.min_length, most))


def _up(tokens: float) -> int:
    return max(STEP, math.ceil(tokens / STEP) * STEP)
