"""Align a summary sentence with the source sentences that say the same thing.

A source is indexed once: its sentences (the project's splitter), their word keys (text.py), an
inverted index from content word to sentences, and document frequencies. A summary sentence is
scored by how much of its content the chosen source sentences contain: IDF-weighted recall of its
content words (three quarters) and of its word bigrams (a quarter: word order, without failing
the paraphrase that genuine summaries are). Rare words weigh most, so a sentence swapped in from
another story, whose names and topic words the source lacks, scores low even when its function
words and common verbs all occur. Summaries fuse sentences, so up to three source sentences are
chosen greedily, each only when it adds real coverage; a copied sentence is covered wholly by one,
and among full matches the one with the fewest extra words wins (the sentence itself rather than a
longer one containing it). The weights were set on FRANK's validation articles
(benchmarks/bench_evidence.py): more bigram weight flags more genuine highlights and no more swaps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Collection, Sequence

from ..sentences import sentence_spans
from .text import NUMBER, STOP, WORD, Token, keys, tokenize

MAX_EVIDENCE = 3  # summary sentences rarely fuse more than three source sentences
MIN_GAIN = 0.1  # a second or third source sentence must cover a tenth more of the claim
MIN_CITED = 0.1  # a claim whose best source sentence covers less than this alone cites none
_CANDIDATES = 12  # exact scores are computed for this many sentences, ranked by shared rare words
_UNIGRAM_SHARE = 0.75  # weight of content-word recall against bigram recall


@dataclass(eq=False)
class Sentence:
    """One source sentence: where it is in `source`, and the units it can cover a claim with."""

    source: str
    start: int
    end: int
    unigrams: frozenset[str]
    bigrams: frozenset[tuple[str, str]]

    def tokens(self) -> list[Token]:
        """Its tokens, with their offsets: made only for the sentences that are cited."""
        return tokenize(self.source, self.start, self.end)


def content(tokens: Sequence[tuple]) -> frozenset[str]:
    """The keys that carry a claim: words and numbers, not function words or negations
    (`tokens`: Tokens or (key, kind) pairs)."""
    return frozenset(t[0] for t in tokens if t[1] == WORD or t[1] == NUMBER)


def bigrams(tokens: Sequence[tuple]) -> frozenset[tuple[str, str]]:
    """Adjacent key pairs, except those of two function words (`of the`)."""
    return frozenset((a[0], b[0]) for a, b in zip(tokens, tokens[1:]) if not (a[1] == STOP and b[1] == STOP))


class Index:
    """The sentences of `text[start:end]` (offsets into `text`), ready to be searched."""

    def __init__(self, text: str, start: int = 0, end: int | None = None) -> None:
        end = len(text) if end is None else end
        window = text[start:end] if (start, end) != (0, len(text)) else text
        self.sentences: list[Sentence] = []
        self.postings: dict[str, list[int]] = {}
        self.df: dict[str, int] = {}
        for i, (s, e) in enumerate(sentence_spans(window)):
            pairs = keys(text, start + s, start + e)
            sentence = Sentence(text, start + s, start + e, content(pairs), bigrams(pairs))
            self.sentences.append(sentence)
            for key in sentence.unigrams:
                self.postings.setdefault(key, []).append(i)
            for key in {pair[0] for pair in pairs}:
                self.df[key] = self.df.get(key, 0) + 1


class Weights:
    """Inverse document frequency over one or more indexes, log(1 + (n + 1) / (df + 1)) for n
    sentences: what makes a word informative in this source."""

    def __init__(self, indexes: Sequence[Index]) -> None:
        self._indexes = indexes
        self._n = sum(len(index.sentences) for index in indexes)
        self._cache: dict[str, float] = {}

    def __call__(self, key: str) -> float:
        weight = self._cache.get(key)
        if weight is None:
            df = sum(index.df.get(key, 0) for index in self._indexes)
            weight = self._cache[key] = math.log(1.0 + (self._n + 1) / (df + 1))
        return weight


class Claim:
    """What a summary sentence says, as weighted units to be found in the source: its content
    words, and its bigrams weighted by the mean of their two words' weights."""

    def __init__(self, tokens: Sequence[Token], weight: Weights) -> None:
        self.unigrams = {key: weight(key) for key in content(tokens)}
        self.bigrams = {(a, b): (weight(a) + weight(b)) / 2 for a, b in bigrams(tokens)}
        self._total_uni = sum(self.unigrams.values())
        self._total_bi = sum(self.bigrams.values())

    def coverage(self, unigrams: Collection[str], pairs: Collection[tuple[str, str]]) -> float:
        """The weighted share of this claim found among the given units, in [0, 1]."""
        if not self._total_uni:
            return 0.0
        uni = sum(w for k, w in self.unigrams.items() if k in unigrams) / self._total_uni
        if not self._total_bi:
            return uni
        bi = sum(w for p, w in self.bigrams.items() if p in pairs) / self._total_bi
        return _UNIGRAM_SHARE * uni + (1 - _UNIGRAM_SHARE) * bi


@dataclass(frozen=True)
class Match:
    """A source sentence chosen as evidence, with how much of the claim it covers alone."""

    sentence: Sentence
    score: float


def candidates(claim: Claim, indexes: Sequence[Index]) -> list[Sentence]:
    """The source sentences sharing the most rare words with the claim, best first."""
    shared: dict[tuple[int, int], float] = {}
    for n, index in enumerate(indexes):
        for key, weight in claim.unigrams.items():
            for i in index.postings.get(key, ()):
                shared[n, i] = shared.get((n, i), 0.0) + weight
    best = sorted(shared, key=lambda ni: (-shared[ni], ni))[:_CANDIDATES]
    return [indexes[n].sentences[i] for n, i in best]


def support(claim: Claim, pool: Sequence[Sentence], weight: Weights) -> tuple[list[Match], float]:
    """The evidence for a claim among `pool`, best first, and the share of the claim it covers.

    Greedy: the sentence covering most of the claim alone (ties: the one with fewest words outside
    the claim, then the earlier), if it covers at least MIN_CITED; then, while fewer than
    MAX_EVIDENCE, the sentence adding most, if it adds at least MIN_GAIN.
    """
    if not pool:
        return [], 0.0
    alone = {id(s): claim.coverage(s.unigrams, s.bigrams) for s in pool}
    first = max(pool, key=lambda s: (alone[id(s)], _precision(claim, s, weight), -s.start))
    if alone[id(first)] < MIN_CITED:
        return [], alone[id(first)]
    chosen = [first]
    uni, pairs = set(first.unigrams), set(first.bigrams)
    score = alone[id(first)]
    while len(chosen) < MAX_EVIDENCE:
        gains = [
            (claim.coverage(uni | s.unigrams, pairs | s.bigrams) - score, s)
            for s in pool
            if all(s is not c for c in chosen)
        ]
        if not gains:
            break
        gain, best = max(gains, key=lambda g: (g[0], -g[1].start))
        if gain < MIN_GAIN:
            break
        chosen.append(best)
        uni |= best.unigrams
        pairs |= best.bigrams
        score += gain
    return [Match(s, alone[id(s)]) for s in chosen], min(1.0, score)


def _precision(claim: Claim, sentence: Sentence, weight: Weights) -> float:
    """The weighted share of the sentence's own content that the claim contains."""
    total = sum(weight(k) for k in sentence.unigrams)
    if not total:
        return 0.0
    return sum(weight(k) for k in sentence.unigrams if k in claim.unigrams) / total

