"""Grounded summaries: the source sentences behind each summary sentence, and what none of them say.

`ground(summary, document)` splits the summary into sentences and, for each, finds the document
sentences that support it (align.py), checks its numbers, names and negations against them
(claims.py), and counts which parts of the document the summary draws on (coverage.py). No model:
text alignment works the same on every backend and costs milliseconds.

A sentence's `score` is the share of its weighted content its evidence covers (align.py); it is
`supported` when that share reaches THRESHOLD and no number, name or negation of it is
contradicted; `unsupported` lists what the source lacks: numbers, names and other words as the
summary writes them, and "negation: not" (a negation the evidence lacks) or "negation dropped:
not" (one the summary leaves out). Evidence holds the source sentences that support the sentence,
best first; for an unsupported sentence, the closest ones it was checked against (none when even
the closest covers less than a tenth of it). Sentences of punctuation alone are skipped.

With `parts` (the chunk summaries of map-reduce, or of --strategy map, each with the document
range it summarized; for truncate, one part: the summary and the range the model read) a final
sentence is traced through them: final sentence -> the part sentences it draws on -> source
sentences inside those parts' ranges. Only those ranges are split and indexed, and only when
first needed, so a 5 MB document costs its parts' text and its cited chunks. Evidence always
points into `document`, never at a part.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass
from typing import Sequence

from ..sentences import sentence_spans
from .align import Claim, Index, Match, Weights, candidates, support
from .claims import unsupported as _unsupported
from .coverage import Coverage, Covered, Pages, Section, coverage as _coverage, sections_of, units as _units
from .text import Token, tokenize

# A sentence is supported when its evidence covers at least this share of its weighted content
# (and no number, name or negation contradicts it). benchmarks/bench_evidence.py, on FRANK's 75
# validation CNN/DailyMail articles: the lowest threshold at which at least 95% of sentences
# swapped in from other articles are flagged in every text form (cased, lowercased-tokenized,
# mixed: 98.2%, 96.9%, 99.1%) while 92.9%, 95.0%, 92.9% of the articles' own highlights stay
# supported. On the 175 test articles: 98.1/97.0/97.0% flagged, 90.0/93.5/90.0% supported.
THRESHOLD = 0.15

_SEPARATOR = "\n\n"

__all__ = ["THRESHOLD", "Cited", "Coverage", "Covered", "Evidence", "Part", "Section", "SentenceEvidence", "ground",
           "sections_of"]


@dataclass(frozen=True)
class Part:
    """An intermediate summary and the [start, end) range of the document it summarized."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Cited:
    """A document sentence that supports a summary sentence: `document[start:end] == text`;
    `score` is the share of the summary sentence it covers alone; `page` is 1-based when known."""

    start: int
    end: int
    text: str
    score: float
    page: int | None = None
    line: int = 1  # the document's line it starts on, from 1

    def to_dict(self) -> dict:
        out = {"start": self.start, "end": self.end, "text": self.text, "score": round(self.score, 3), "line": self.line}
        if self.page is not None:
            out["page"] = self.page
        return out


@dataclass(frozen=True)
class SentenceEvidence:
    """One summary sentence (`summary[start:end] == text`), its evidence (best first) and what it
    says that the evidence does not (`unsupported`, as written in the sentence)."""

    text: str
    start: int
    end: int
    supported: bool
    score: float
    evidence: tuple[Cited, ...]
    unsupported: tuple[str, ...]
    # The source sentence the model's cross-attention favours (`score`: its share), when a model
    # was asked (`summarize check --model`); reported beside the evidence, never deciding.
    attention: Cited | None = None

    def to_dict(self) -> dict:
        out = {
            "text": self.text,
            "start": self.start,
            "end": self.end,
            "supported": self.supported,
            "score": round(self.score, 3),
            "evidence": [cited.to_dict() for cited in self.evidence],
            "unsupported": list(self.unsupported),
        }
        if self.attention is not None:
            out["attention"] = self.attention.to_dict()
        return out


@dataclass(frozen=True)
class Evidence:
    """The evidence for every sentence of a summary, and the document's coverage."""

    sentences: tuple[SentenceEvidence, ...]
    coverage: Coverage

    @property
    def supported(self) -> int:
        return sum(1 for s in self.sentences if s.supported)

    @property
    def total(self) -> int:
        return len(self.sentences)

    @classmethod
    def from_fields(cls, data: dict) -> "Evidence":
        """An Evidence back from `dataclasses.asdict` of one (a record sent between processes)."""
        sentences = tuple(
            SentenceEvidence(**{**s, "evidence": tuple(Cited(**c) for c in s["evidence"]), "unsupported": tuple(s["unsupported"]),
                                "attention": Cited(**s["attention"]) if s.get("attention") else None})
            for s in data["sentences"]
        )
        return cls(sentences, Coverage(tuple(Covered(**unit) for unit in data["coverage"]["units"])))

    def to_dict(self) -> dict:
        return {
            "sentences": [s.to_dict() for s in self.sentences],
            "supported": self.supported,
            "total": self.total,
            "coverage": self.coverage.to_dict(),
        }


def ground(
    summary: str, document: str, *, parts: Sequence[Part] = (), sections: Sequence[Section] = ()
) -> Evidence:
    """The evidence in `document` for each sentence of `summary` (see the module docstring)."""
    _check_ranges(document, parts, "part")
    _check_ranges(document, sections, "section")
    source = _Traced(document, parts) if parts else _Whole(document)
    pages = Pages(sections)
    found = []
    for start, end in sentence_spans(summary):
        tokens = tokenize(summary, start, end)
        if not tokens:
            continue  # punctuation alone ("." of a tokenized text): no claim to ground
        indexes, weight = source.search(summary, tokens)
        claim = Claim(tokens, weight)
        matches, overlap = support(claim, candidates(claim, indexes), weight)
        source_keys = indexes[0].df if len(indexes) == 1 else set().union(*(index.df for index in indexes))
        cited = [(m.sentence.source, m.sentence.tokens()) for m in matches]
        items, contradicted = _unsupported(summary, tokens, cited, source_keys)
        found.append(
            SentenceEvidence(
                text=summary[start:end],
                start=start,
                end=end,
                supported=bool(matches) and overlap >= THRESHOLD and not contradicted,
                score=overlap,
                evidence=tuple(_cite(document, m, pages) for m in matches),
                unsupported=tuple(items),
            )
        )
    units = [Section(f"chunk {n}", p.start, p.end, "chunk") for n, p in enumerate(parts, 1)]
    cited = [[c.start for c in s.evidence] if s.supported else [] for s in found]  # made-up ones cover nothing
    cover = _coverage(_units(list(sections) or units, len(document)), cited)
    return Evidence(tuple(found), cover)


def _cite(document: str, match: Match, pages: Pages) -> Cited:
    s = match.sentence
    return Cited(s.start, s.end, document[s.start:s.end], match.score, pages(s.start), document.count("\n", 0, s.start) + 1)


class _Whole:
    """The whole document as one index: for summaries made from the document in one pass."""

    def __init__(self, document: str) -> None:
        self._indexes = [Index(document)]
        self._weight = Weights(self._indexes)

    def search(self, summary: str, tokens: Sequence[Token]) -> tuple[list[Index], Weights]:
        return self._indexes, self._weight


class _Traced:
    """The document seen through its parts: a summary sentence is searched for in the ranges of
    the parts whose sentences it draws on, each range indexed on first use.

    When no part sentence shares enough with the summary sentence (the reduce pass wrote it from
    several parts, or invented it), the ranges searched are those holding most of its rarest
    words, found by plain substring search over the document: C-speed, no index of the whole.
    """

    _FALLBACK = 2  # ranges searched when tracing finds no part sentence
    _RARE = 3  # the sentence's words looked for in the document, rarest first
    _MAX_HITS = 500  # a word found this often says nothing about where the sentence comes from

    def __init__(self, document: str, parts: Sequence[Part]) -> None:
        self._document = document
        self._parts = parts
        # The parts' texts as one index: a blank line between them always ends a sentence.
        joined = _SEPARATOR.join(part.text for part in parts)
        self._offsets = list(itertools.accumulate((len(p.text) + len(_SEPARATOR) for p in parts[:-1]), initial=0))
        self._summaries = [Index(joined)]
        self._weight = Weights(self._summaries)
        self._ranges: dict[int, Index] = {}
        self._by_start = sorted(range(len(parts)), key=lambda n: parts[n].start)
        self._starts = [parts[n].start for n in self._by_start]

    def search(self, summary: str, tokens: Sequence[Token]) -> tuple[list[Index], Weights]:
        claim = Claim(tokens, self._weight)
        matches, _ = support(claim, candidates(claim, self._summaries), self._weight)
        traced = {self._owner(m.sentence.start) for m in matches} or self._holding(summary, tokens, claim)
        indexes = [self._range(n) for n in sorted(traced)]
        return indexes, Weights(indexes)

    def _holding(self, summary: str, tokens: Sequence[Token], claim: Claim) -> set[int]:
        """The parts whose ranges hold most of the sentence's rarest words."""
        weights = {summary[t.start:t.end]: claim.unigrams[t.key] for t in tokens if t.key in claim.unigrams}
        words = sorted(weights, key=lambda w: (-weights[w], w))[: self._RARE]
        votes: dict[int, int] = {}
        for word in words:
            found: set[int] = set()
            for variant in {word, word.lower(), word.capitalize()}:
                at, hits = self._document.find(variant), 0
                while at != -1 and hits < self._MAX_HITS:
                    found.update(self._parts_at(at))
                    at, hits = self._document.find(variant, at + len(variant)), hits + 1
            for n in found:
                votes[n] = votes.get(n, 0) + 1
        return set(sorted(votes, key=lambda n: (-votes[n], n))[: self._FALLBACK])

    def _owner(self, offset: int) -> int:
        """The part whose text holds `offset` of the joined texts."""
        return bisect.bisect_right(self._offsets, offset) - 1

    def _parts_at(self, offset: int) -> list[int]:
        """The parts whose ranges hold `offset` (chunks overlap their neighbours at most)."""
        i = bisect.bisect_right(self._starts, offset)
        return [n for n in self._by_start[max(0, i - 2):i] if offset < self._parts[n].end]

    def _range(self, n: int) -> Index:
        if n not in self._ranges:
            part = self._parts[n]
            self._ranges[n] = Index(self._document, part.start, part.end)
        return self._ranges[n]


def _check_ranges(document: str, ranges: Sequence[Part] | Sequence[Section], what: str) -> None:
    for n, r in enumerate(ranges, 1):
        if not 0 <= r.start <= r.end <= len(document):
            raise ValueError(
                f"{what} {n} covers [{r.start}, {r.end}), outside the document's {len(document)} characters"
            )
