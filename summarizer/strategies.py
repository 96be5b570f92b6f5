"""How a document becomes one summary: the passes a strategy asks the model for (--strategy).

A strategy is a generator per document. It yields a `Pass` (the inputs to summarize, in document
order, and whether they get the final summary lengths or the intermediate chunk lengths) and
receives the summaries of that pass back, in the same order; what it returns is the summary.
The pipeline runs the passes of all documents through one batched queue, so strategies never
batch, pad or call a backend themselves. A document's text is a str or an iterable of str blocks
(a big input decoded as it is read); every strategy but extract-then-abstract reads it once,
in order, and never holds it whole.

- map-reduce: summarize each chunk, summarize the joined chunk summaries again while they exceed
  the window, then one final pass so `--max-length` bounds the whole summary (LangChain's
  map-reduce ends with one combine call for the same reason).
- map: one summary per chunk, joined in order: a sectioned summary of a long document.
- truncate: the first window only, as the old transformers pipeline did.
- extract-then-abstract: TextRank picks the most central sentences that fit the window, in
  document order, and the model summarizes those once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Generator, Iterable, Iterator, Sequence

if TYPE_CHECKING:
    from .chunker import Chunker, Text
    from .lengths import Measure

STRATEGY_CHOICES = ("map-reduce", "map", "truncate", "extract-then-abstract")


@dataclass
class Pass:
    """Inputs (token id tuples, lazily produced) summarized together as one level."""

    inputs: Iterable[tuple[int, ...]]
    final: bool


@dataclass
class Trace:
    """What a strategy tells the record besides the summary: the input's size as it was read
    (tokens, words, sentence ends), chunks, the chunk summaries, and what went wrong."""

    input_tokens: int = 0
    words: int = 0
    sentence_ends: int = 0
    chunks: int = 0
    parts: list[str] | None = None
    # Where in the text each of `parts` came from: the first pass's chunks' [start, end)
    # characters, so a summary's evidence can be traced through its parts into the text.
    spans: list[tuple[int, int] | None] = field(default_factory=list)
    # extract-then-abstract: the [start, end) characters of the sentences the model read
    extracts: list[tuple[int, int]] = field(default_factory=list)
    truncated: bool = False  # the summary read only the first window of a longer text
    warning: str | None = None

    def count(self, piece: str, tokens: int, sentence_ends: int = 0) -> None:
        from .sentences import count_words

        self.input_tokens += tokens
        self.words += count_words(piece)
        self.sentence_ends += sentence_ends

    def measure(self) -> "Measure":
        """The input as read so far, for the lengths of its final pass."""
        from .lengths import Measure

        return Measure(self.input_tokens, self.words, self.sentence_ends + 1)


Strategy = Generator[Pass, list[str], str]
StrategyFn = Callable[["Text", "Chunker", Trace], Strategy]

MAX_LEVELS = 8


def join(summaries: Sequence[str]) -> str:
    return " ".join(s.strip() for s in summaries if s.strip())


def _counted(inputs: Iterator[tuple[int, ...]], trace: Trace) -> Iterator[tuple[int, ...]]:
    for ids in inputs:
        trace.chunks += 1
        yield ids


def _placed(inputs: Iterable[tuple[int, ...]], trace: Trace) -> Iterator[tuple[int, ...]]:
    """The first pass's chunks, their spans noted in order as they are read."""
    for ids in inputs:
        trace.spans.append(getattr(ids, "span", None))
        yield ids


def _first_two(inputs: Iterator[tuple[int, ...]]) -> tuple[list[tuple[int, ...]], Iterator[tuple[int, ...]]]:
    head = [ids for _, ids in zip(range(2), inputs)]
    return head, inputs


def map_reduce(text: "Text", chunker: "Chunker", trace: Trace) -> Strategy:
    head, rest = _first_two(chunker.chunks(text, trace.count))
    if len(head) < 2:  # fits the window: one generation, as for any short text
        trace.chunks = len(head)
        summaries = yield Pass(_placed(head, trace), final=True)
        trace.parts = summaries
        return summaries[0]
    trace.chunks = 2
    summaries = yield Pass(_placed(_chain(head, _counted(rest, trace)), trace), final=False)
    trace.parts = summaries
    previous = trace.input_tokens
    for _ in range(MAX_LEVELS):
        joined = join(summaries)
        tokens = chunker.count(joined)
        if tokens <= chunker.content_size:
            break
        if tokens >= previous:
            trace.warning = (
                f"chunk summaries ({tokens} tokens) do not shrink below the {chunker.content_size}-token "
                "window; the final pass read only their first window (try a smaller --chunk-max-length)"
            )
            break
        previous = tokens
        summaries = yield Pass(chunker.chunks(joined), final=False)
    else:
        joined = join(summaries)
        trace.warning = f"still over the window after {MAX_LEVELS} reduction levels; the final pass read only the first window"
    first = next(iter(chunker.chunks(joined)), ())
    if not first:  # every chunk summary came out empty: nothing left to summarize
        return ""
    summaries = yield Pass([first], final=True)
    return summaries[0]


def map_each(text: "Text", chunker: "Chunker", trace: Trace) -> Strategy:
    summaries = yield Pass(_placed(_counted(chunker.chunks(text, trace.count), trace), trace), final=True)
    trace.parts = summaries
    return join(summaries)


def truncate(text: "Text", chunker: "Chunker", trace: Trace) -> Strategy:
    chunks = chunker.chunks(text, trace.count)
    first = next(chunks, ())
    for _ in chunks:  # read on only to count every token (input_tokens), in the same one pass
        trace.truncated = True
    trace.chunks = 1
    summaries = yield Pass(_placed([first], trace), final=True)
    trace.parts = summaries
    return summaries[0]


def extract_then_abstract(text: "Text", chunker: "Chunker", trace: Trace) -> Strategy:
    from .chunker import whole
    from .methods.extractive import select_within_budget, textrank_scores
    from .sentences import sentence_spans

    text = whole(text)  # TextRank ranks all sentences at once
    head, rest = _first_two(chunker.chunks(text, trace.count))
    for _ in rest:  # read on only to count every token, word and sentence (input_tokens)
        pass
    if len(head) < 2:
        ids = head[0] if head else ()
    else:
        spans = sentence_spans(text)
        sentences = [text[start:end] for start, end in spans]
        costs = [len(chunker.encode(sentence)[0]) for sentence in sentences]
        keep = select_within_budget(textrank_scores(sentences), costs, chunker.content_size)
        trace.extracts = [spans[i] for i in keep]
        ids = tuple(chunker.encode(" ".join(sentences[i] for i in keep))[0][: chunker.content_size])
    trace.chunks = 1
    summaries = yield Pass([tuple(ids)], final=True)
    trace.parts = summaries
    return summaries[0]


def _chain(head: list[tuple[int, ...]], rest: Iterator[tuple[int, ...]]) -> Iterator[tuple[int, ...]]:
    yield from head
    yield from rest


STRATEGIES: dict[str, StrategyFn] = {
    "map-reduce": map_reduce,
    "map": map_each,
    "truncate": truncate,
    "extract-then-abstract": extract_then_abstract,
}
