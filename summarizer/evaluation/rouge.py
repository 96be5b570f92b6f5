"""ROUGE against reference summaries, with a bootstrap confidence interval over documents.

Scores come from Google's `rouge-score` package (the reference implementation that published
numbers use), F1 x 100 with Porter stemming. `rouge-score` and numpy are imported lazily.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping, Sequence

from ..sentences import split_sentences

ROUGE_KEYS = ("rouge1", "rouge2", "rougeL", "rougeLsum")


@lru_cache(maxsize=1)
def _scorers():
    """(rouge1/2/L scorer, rougeLsum scorer): built once, the stemmer is not free."""
    from rouge_score.rouge_scorer import RougeScorer

    return RougeScorer(list(ROUGE_KEYS[:3]), use_stemmer=True), RougeScorer(["rougeLsum"], use_stemmer=True)


def sentence_lines(text: str) -> str:
    """One sentence per line, the input ROUGE-Lsum expects.

    Existing line breaks (from `<n>` in published predictions) are sentence breaks whatever
    the splitter makes of them.
    """
    return "\n".join(sentence for line in text.split("\n") for sentence in split_sentences(line))


def score(prediction: str, reference: str) -> dict[str, float]:
    """rouge1, rouge2, rougeL and rougeLsum F1 x 100 of one prediction against its reference.

    ROUGE-1/2/L read the texts as they are (the tokenizer lowercases and keeps only a-z0-9
    runs); only ROUGE-Lsum depends on the sentence splitter.
    """
    plain, summary_level = _scorers()
    scores = plain.score(reference, prediction)
    scores.update(summary_level.score(sentence_lines(reference), sentence_lines(prediction)))
    return {key: scores[key].fmeasure * 100 for key in ROUGE_KEYS}


def bootstrap_ci(
    values: Sequence[float], seed: int = 0, resamples: int = 1000, level: float = 0.95
) -> tuple[float, float, float]:
    """(mean, ci_low, ci_high): the mean and its percentile bootstrap interval.

    Documents are resampled with replacement, `resamples` times, from a seeded generator, so
    the same scores always give the same interval. Written out here because it is five lines
    of numpy and scipy is not a dependency.
    """
    import numpy as np

    if len(values) == 0:
        raise ValueError("no values to bootstrap")
    if resamples < 1:
        raise ValueError(f"resamples must be at least 1 (got {resamples})")
    if not 0 < level < 1:
        raise ValueError(f"level must be between 0 and 1 (got {level})")
    data = np.asarray(values, dtype=float)
    mean = float(data.mean())
    if len(data) == 1:
        return mean, mean, mean
    rng = np.random.default_rng(seed)
    # One resample at a time: memory stays O(documents) on full test sets.
    means = np.array([data[rng.integers(0, len(data), len(data))].mean() for _ in range(resamples)])
    tail = (1 - level) / 2
    low, high = np.quantile(means, [tail, 1 - tail])
    return mean, float(low), float(high)


def aggregate(rows: Sequence[Mapping[str, Any]], seed: int = 0, resamples: int = 1000) -> dict[str, Any]:
    """The eval result from per-document rows (the four ROUGE keys, input_tokens,
    summary_tokens, seconds).

    ROUGE: mean and 95% bootstrap interval, 2 decimals (the same resampled documents for every
    metric). Token counts are means (1 decimal); `compression_ratio` is the mean of the
    per-document input/summary ratios, skipping documents whose summary is empty, and None if
    every summary is empty (2 decimals); `seconds_per_document` is the mean time (3 decimals).
    """
    if not rows:
        raise ValueError("no documents to aggregate")
    result: dict[str, Any] = {}
    for key in ROUGE_KEYS:
        mean, low, high = bootstrap_ci([row[key] for row in rows], seed=seed, resamples=resamples)
        result[key] = {"mean": round(mean, 2), "ci_low": round(low, 2), "ci_high": round(high, 2)}
    ratios = [row["input_tokens"] / row["summary_tokens"] for row in rows if row["summary_tokens"] > 0]
    result.update(
        documents=len(rows),
        input_tokens=round(_mean([row["input_tokens"] for row in rows]), 1),
        summary_tokens=round(_mean([row["summary_tokens"] for row in rows]), 1),
        compression_ratio=round(_mean(ratios), 2) if ratios else None,
        seconds_per_document=round(_mean([row["seconds"] for row in rows]), 3),
    )
    return result


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values)
