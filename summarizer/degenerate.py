"""Summaries that are not summaries: empty, looping, or longer than their input.

A model can fail without an error: a random or undertrained one repeats a token until its
length limit, a real one forced to write 30 tokens about one word invents or loops. Such an
output is still the model's, so it is kept and printed, but its record carries a warning (and
`--strict` fails the run on it), so a pipeline never ships it unseen.
"""

from __future__ import annotations

import re
from collections import Counter

LOOP_SHARE = 0.5  # one n-gram's repeats cover at least this share of the summary's words...
LOOP_REPEATS = 3  # ...and it occurs at least this often
LONGEST_LOOP = 4  # n-grams of 1 to this many words are looked at
_WORD = re.compile(r"\w+|[^\w\s]")


def problems(summary: str, input_tokens: int, summary_tokens: int) -> list[str]:
    """What is wrong with `summary`, one short phrase each (none for a sound summary)."""
    if not summary.strip():
        return ["the summary is empty"]
    found = []
    loop = repeated(summary)
    if loop is not None:
        gram, times = loop
        found.append(f"the summary loops: {gram!r} {times} times")
    if input_tokens and summary_tokens > input_tokens:
        found.append(f"the summary ({summary_tokens} tokens) is longer than its input ({input_tokens} tokens)")
    return found


def repeated(text: str) -> tuple[str, int] | None:
    """The n-gram (of up to LONGEST_LOOP words) whose occurrences make up most of `text`, and
    how often it occurs; None when no n-gram does. Punctuation counts as a word, so `. . . .`
    loops too."""
    words = [w.lower() for w in _WORD.findall(text)]
    best: tuple[int, str, int] | None = None  # (words covered, n-gram, occurrences)
    for n in range(1, LONGEST_LOOP + 1):
        grams = Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))
        if not grams:
            break
        gram, times = grams.most_common(1)[0]
        # Overlapping occurrences (`a a a` holds `a a` twice) cover no more than the words there are.
        covered = min(times * n, len(words))
        if times >= LOOP_REPEATS and covered >= LOOP_SHARE * len(words) and (best is None or covered > best[0]):
            best = covered, " ".join(gram), times
    return (best[1], best[2]) if best else None
