"""Extractive baselines: summaries made of the document's own sentences, with no model.

`lead` takes the first sentences (news puts the gist up front, so it is a hard baseline to beat);
`textrank` takes the sentences most similar to the rest of the document. Ties always go to the
earlier sentence, so equal scores fall back to lead order and every result is reproducible.
"""

from __future__ import annotations

from typing import Sequence

from ..sentences import split_sentences

_DAMPING = 0.85
_MAX_ITERATIONS = 200
_TOLERANCE = 1e-10
_NO_LINK = 1e-9  # total similarity below this is rounding noise: the sentence links nowhere
_TIE_DIGITS = 9  # scores equal to this many significant digits tie, whatever the float noise


def lead(text: str, n: int = 3) -> list[str]:
    """The first `n` sentences of `text`."""
    _check_count(n)
    return split_sentences(text)[:n]


def textrank(text: str, n: int = 3) -> list[str]:
    """The `n` most central sentences of `text` (see `textrank_scores`), in document order."""
    _check_count(n)
    sentences = split_sentences(text)
    chosen = sorted(_ranking(textrank_scores(sentences))[:n])
    return [sentences[i] for i in chosen]


def textrank_scores(sentences: Sequence[str]) -> list[float]:
    """PageRank of each sentence in a graph weighted by TF-IDF cosine similarity; sums to 1.

    Sentences without a content word (stop words, punctuation) link to nothing; when no sentence
    has one, every score is equal, which `textrank` turns into lead order.
    """
    n = len(sentences)
    if n == 0:
        return []
    from sklearn.feature_extraction.text import TfidfVectorizer

    try:
        vectors = TfidfVectorizer(stop_words="english").fit_transform(sentences)
    except ValueError as error:
        if "empty vocabulary" not in str(error):
            raise
        return [1.0 / n] * n  # nothing but stop words and punctuation: no edges at all
    return _pagerank(vectors)  # rows are L2-normalized, so dot products are cosines


def select_within_budget(scores: Sequence[float], costs: Sequence[int], budget: int) -> list[int]:
    """Indices, in document order, of the best-scoring items whose costs fit in `budget`.

    Greedy by score (earlier first on ties); an item that no longer fits is skipped, so a cheaper
    one further down the ranking can still take the room.
    """
    if len(scores) != len(costs):
        raise ValueError(f"got {len(scores)} scores but {len(costs)} costs; need one per sentence")
    if budget < 0:
        raise ValueError(f"budget must be at least 0 (got {budget})")
    chosen, spent = [], 0
    for i in _ranking(scores):
        if spent + costs[i] <= budget:
            chosen.append(i)
            spent += costs[i]
    return sorted(chosen)


def _pagerank(vectors) -> list[float]:
    """PageRank over the graph W = V·Vᵀ without its diagonal, for L2-normalized rows V.

    numpy on V itself rather than networkx on W: W has a weight for every pair of sentences, which
    networkx would hold as n² Python objects, while W·r = V(Vᵀr) - diag(V·Vᵀ)·r costs one pass
    over V's non-zero entries, so a book-length document stays cheap.
    """
    import numpy as np

    n = vectors.shape[0]
    self_weight = np.asarray(vectors.multiply(vectors).sum(axis=1)).ravel()

    def weigh(x):  # W @ x (W is symmetric)
        return vectors @ (vectors.T @ x) - self_weight * x

    out_weight = weigh(np.ones(n))
    dangling = out_weight < _NO_LINK
    inverse_out = np.divide(1.0, out_weight, out=np.zeros(n), where=~dangling)
    rank = np.full(n, 1.0 / n)
    for _ in range(_MAX_ITERATIONS):
        spread = rank[dangling].sum() / n  # a sentence that links nowhere links everywhere
        new = (1 - _DAMPING) / n + _DAMPING * (weigh(rank * inverse_out) + spread)
        converged = np.abs(new - rank).sum() < _TOLERANCE
        rank = new
        if converged:
            break
    return rank.tolist()


def _ranking(scores: Sequence[float]) -> list[int]:
    """Indices from best score to worst, earlier first on ties."""
    return sorted(range(len(scores)), key=lambda i: (-float(f"{scores[i]:.{_TIE_DIGITS}g}"), i))


def _check_count(n: int) -> None:
    if n < 1:
        raise ValueError(f"the number of sentences must be at least 1 (got {n})")
