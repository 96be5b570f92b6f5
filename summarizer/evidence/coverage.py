"""Which parts of a document a summary draws on: per heading, page or chunk, else per fifth.

A summary of a long document that only retells its opening looks fine sentence by sentence;
counting the citations per section shows it at a glance.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

KINDS = ("heading", "page", "chunk")  # the sections coverage is counted by, first present wins
_FIFTHS = 5


@dataclass(frozen=True)
class Section:
    """A stretch of the document a reader knows: `kind` is "chunk", "page" or "heading"; `label` is
    how to show it ("chunk 3", "page 2", "## Results"); [start, end) are character offsets."""

    label: str
    start: int
    end: int
    kind: str
    number: int | None = None  # a page's own number (a PDF's pages without text have no section)


def sections_of(document: str, pages: Sequence[tuple[int, int]] = (),
                chunks: Sequence[tuple[int, int] | None] = ()) -> list[Section]:
    """The sections a reader knows of `document`: a PDF's pages ((number, start) as the reader
    found them), Markdown headings (`# ...` lines, each up to the next), and the chunks a long
    document was cut into ([start, end) spans)."""
    found = [Section(f"page {number}", start, end, "page", number)
             for (number, start), end in zip(pages, [*(start for _, start in pages[1:]), len(document)])]
    starts = [m.start() for m in _HEADING.finditer(document)]
    found += [Section(document[a:document.index("\n", a) if "\n" in document[a:b] else b].strip(), a, b, "heading")
              for a, b in zip(starts, [*starts[1:], len(document)])]
    found += [Section(f"chunk {n}", span[0], span[1], "chunk") for n, span in enumerate(chunks, 1) if span is not None]
    return found


_HEADING = re.compile(r"^[ \t]{0,3}#{1,6}[ \t]+\S", re.MULTILINE)


@dataclass(frozen=True)
class Covered:
    """One section and how many supported summary sentences cite a source sentence inside it."""

    label: str
    start: int
    end: int
    kind: str
    sentences: int

    def to_dict(self) -> dict:
        return {"label": self.label, "start": self.start, "end": self.end, "kind": self.kind, "sentences": self.sentences}


@dataclass(frozen=True)
class Coverage:
    """Citations per section, in document order."""

    units: tuple[Covered, ...]

    @property
    def cited(self) -> int:
        """How many sections at least one summary sentence cites."""
        return sum(1 for unit in self.units if unit.sentences)

    @property
    def total(self) -> int:
        return len(self.units)

    @property
    def share(self) -> float:
        """The share of sections cited, in [0, 1] (0 for an empty document)."""
        return self.cited / self.total if self.units else 0.0

    def to_dict(self) -> dict:
        return {
            "by": self.units[0].kind if self.units else None,
            "units": [unit.to_dict() for unit in self.units],
            "cited": self.cited,
            "total": self.total,
            "share": round(self.share, 3),
        }


def units(sections: Sequence[Section], length: int) -> list[Section]:
    """The sections to count by: the headings if any, else the pages, else the chunks, else the
    document's five fifths by character position (labelled "0-20%" ... "80-100%")."""
    for kind in KINDS:
        chosen = sorted((s for s in sections if s.kind == kind), key=lambda s: (s.start, s.end))
        if chosen:
            return chosen
    if not length:
        return []
    cuts = [round(length * i / _FIFTHS) for i in range(_FIFTHS + 1)]
    return [
        Section(f"{100 * i // _FIFTHS}-{100 * (i + 1) // _FIFTHS}%", cuts[i], cuts[i + 1], "position")
        for i in range(_FIFTHS)
    ]


def coverage(sections: Sequence[Section], cited: Iterable[Sequence[int]]) -> Coverage:
    """Count, per section, the summary sentences citing a source sentence that starts inside it
    (`cited`: the start offsets of each summary sentence's evidence)."""
    counts = [0] * len(sections)
    for starts in cited:
        for n, section in enumerate(sections):
            if any(section.start <= start < section.end for start in starts):
                counts[n] += 1
    return Coverage(tuple(Covered(s.label, s.start, s.end, s.kind, c) for s, c in zip(sections, counts)))


class Pages:
    """The page a document offset falls on: a "page" section's own number, else its place
    among the page sections (by start), from 1."""

    def __init__(self, sections: Sequence[Section]) -> None:
        pages = sorted((s for s in sections if s.kind == "page"), key=lambda s: s.start)
        self._starts = [s.start for s in pages]
        self._ends = [s.end for s in pages]
        self._numbers = [s.number if s.number is not None else n for n, s in enumerate(pages, 1)]

    def __call__(self, offset: int) -> int | None:
        n = bisect.bisect_right(self._starts, offset) - 1
        if n < 0 or offset >= self._ends[n]:
            return None
        return self._numbers[n]
