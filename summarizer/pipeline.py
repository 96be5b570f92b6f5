"""Documents in, summary records out: chunk -> batch -> backend -> reduce -> Summary.

Documents arrive as a lazy stream and are pulled only while the queue is short, so a folder of
100k files starts producing summaries at once and memory stays flat. The passes every document's
strategy asks for (chunk summaries, reduction levels, final passes) share one queue; batches are
cut from it in length order among jobs that share generation lengths, so padding stays small, and
a document is handed back as soon as its strategy returns. Which backend turns token ids into
token ids is not this module's business.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator

from .chunker import Chunker
from .config import GenerationSettings, RunSettings
from .errors import first_line
from .report import Summary
from .strategies import STRATEGIES, Pass, Trace

if TYPE_CHECKING:
    from .backends import Backend
    from .models.loading import LoadedModel

LOOKAHEAD_BATCHES = 4  # queue this many batches' worth of chunks before generating, for length sorting
MAX_WAIT_ROUNDS = 8  # a job passed over this many times is batched next, so no document starves


@dataclass(frozen=True)
class Failure:
    """An input that could not be read; it becomes a failed record in its place."""

    source: str
    message: str


class Item:
    """What the pipeline reads of an input: `source` and `text` (readers' Document fits)."""

    source: str
    text: str


@dataclass
class _Doc:
    """One document while its strategy's passes are in flight."""

    index: int
    source: str
    strategy: Any
    trace: Trace
    final: bool = False
    feed: Iterator[tuple[int, ...]] | None = None
    issued: int = 0
    outstanding: int = 0
    outputs: dict[int, str] = field(default_factory=dict)
    levels: int = 0
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Job:
    doc: int
    part: int
    ids: tuple[int, ...]
    final: bool
    queued: int


ProgressCallback = Callable[[int, int], None]


class Summarizer:
    """Runs documents through one model (or an extractive method) with one set of settings."""

    def __init__(self, settings: RunSettings, model: "LoadedModel | None" = None, backend: "Backend | None" = None):
        self.settings = settings
        self.model = model
        self.backend = backend
        self.name = model.name if model is not None and settings.abstractive else settings.method
        self.device = model.placement.device if model is not None and settings.abstractive else "cpu"
        self.dtype = (settings.quantize or model.placement.dtype) if model is not None and settings.abstractive else None
        self.revision = model.revision if model is not None and settings.abstractive else None
        if not settings.abstractive:
            return
        if model is None:
            raise ValueError("the t5 method needs a loaded model")
        tokenizer = model.tokenizer
        prefix = settings.generation.prefix
        self.prefix_ids = tokenizer(prefix, add_special_tokens=False).input_ids if prefix else []
        self.eos_id = tokenizer.eos_token_id
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        window = settings.chunking.size or model.window
        content_size = window - len(self.prefix_ids) - 1  # room for the prefix and </s>
        if content_size < 8:
            raise ValueError(f"the input window ({window} tokens) leaves no room for text after the prefix")
        if settings.chunking.overlap >= content_size // 2:
            raise ValueError(
                f"--chunk-overlap ({settings.chunking.overlap}) must be less than half of the "
                f"{content_size} tokens each chunk holds"
            )
        self.chunker = Chunker(tokenizer, content_size, settings.chunking.overlap)
        self.batch_size = settings.batch_size or _default_batch_size(self.device, settings.generation.num_beams)
        g, c = settings.generation, settings.chunking
        self.lengths = {
            True: g,
            False: replace(g, max_length=c.max_length or g.max_length, min_length=c.min_length if c.min_length is not None else g.min_length),
        }

    # -- extractive methods: no model, one record per document ---------------------------------

    def _extractive(self, index: int, item: Item) -> Summary:
        from .methods.extractive import lead, textrank

        started = time.perf_counter()
        pick = lead if self.settings.method == "lead" else textrank
        summary = " ".join(pick(item.text, self.settings.sentences))
        count = self._counter()
        return Summary(
            source=item.source, summary=summary, input_tokens=count(item.text), summary_tokens=count(summary),
            chunks=1, model=self.name, device="cpu", seconds=time.perf_counter() - started,
            counted_in="tokens" if self.model is not None else "words",
        )

    def _counter(self) -> Callable[[str], int]:
        if self.model is None:
            return lambda text: len(text.split())
        tokenizer = self.model.tokenizer
        return lambda text: len(tokenizer(text, add_special_tokens=False).input_ids)

    # -- the abstractive pipeline ----------------------------------------------------------------

    def run(self, items: Iterable[Item | Failure], progress: ProgressCallback | None = None) -> Iterator[tuple[int, Summary]]:
        """Yield (input position, Summary) per input, in the order documents finish."""
        feed = enumerate(items)
        if not self.settings.abstractive:
            for index, item in feed:
                yield index, self._failure(item) if isinstance(item, Failure) else self._checked(item) or self._extractive(index, item)
            return

        docs: dict[int, _Doc] = {}
        open_docs: list[_Doc] = []  # documents whose current pass still has inputs to queue
        queue: list[_Job] = []
        rounds = done = known = 0
        exhausted = False
        lookahead = self.batch_size * LOOKAHEAD_BATCHES
        while True:
            # Fill the queue: finish queuing open passes first, then start new documents.
            while len(queue) < lookahead and (open_docs or not exhausted):
                if open_docs:
                    doc = open_docs[0]
                    ids = next(doc.feed, None)
                    if ids is None:
                        open_docs.pop(0)
                        doc.feed = None
                        if doc.issued == 0:  # a pass with no inputs
                            yield doc.index, self._end(docs.pop(doc.index), "empty input, nothing to summarize")
                        elif doc.outstanding == 0:  # its last job finished before the feed ran dry
                            result = self._advance(doc, open_docs)
                            if result is not None:
                                del docs[doc.index]
                                yield doc.index, result
                        continue
                    queue.append(_Job(doc.index, doc.issued, (*self.prefix_ids, *ids, *self._eos()), doc.final, rounds))
                    doc.issued += 1
                    doc.outstanding += 1
                    known += 1
                    continue
                try:
                    index, item = next(feed)
                except StopIteration:
                    exhausted = True
                    break
                if isinstance(item, Failure):
                    yield index, self._failure(item)
                    continue
                problem = self._checked(item)
                if problem is not None:
                    yield index, problem
                    continue
                trace = Trace()
                doc = _Doc(index, item.source, STRATEGIES[self.settings.strategy](item.text, self.chunker, trace), trace)
                docs[index] = doc
                self._start_pass(doc, next(doc.strategy), open_docs)
            if progress:
                progress(done, known)
            if not queue:
                if exhausted and not open_docs:
                    return
                continue

            batch = self._next_batch(queue, rounds)
            rounds += 1
            batch_ids = {id(job) for job in batch}
            queue = [job for job in queue if id(job) not in batch_ids]
            started = time.perf_counter()
            outcomes = self._generate_or_split([job.ids for job in batch], self.lengths[batch[0].final])
            share = (time.perf_counter() - started) / len(batch)
            done += len(batch)
            for job, outcome in zip(batch, outcomes):
                doc = docs.get(job.doc)
                if doc is None:  # its document already failed on another chunk
                    continue
                if isinstance(outcome, Exception):
                    docs.pop(job.doc)
                    if doc in open_docs:
                        open_docs.remove(doc)
                    dropped = [other for other in queue if other.doc == job.doc]
                    queue = [other for other in queue if other.doc != job.doc]
                    known -= len(dropped)
                    doc.strategy.close()
                    yield job.doc, self._end(doc, f"generation failed: {first_line(outcome)}")
                    continue
                doc.seconds += share
                doc.outputs[job.part] = self._finish_text(outcome, doc) if job.final else self._decode(outcome)
                doc.outstanding -= 1
                if doc.outstanding == 0 and doc.feed is None:
                    result = self._advance(doc, open_docs)
                    if result is not None:
                        del docs[doc.index]
                        yield doc.index, result
            if progress:
                progress(done, known)

    def _eos(self) -> tuple[int, ...]:
        return (self.eos_id,) if self.eos_id is not None else ()

    def _start_pass(self, doc: _Doc, step: Pass, open_docs: list[_Doc], front: bool = False) -> None:
        doc.final, doc.feed, doc.issued, doc.outstanding, doc.outputs = step.final, iter(step.inputs), 0, 0, {}
        doc.levels += 1
        if front:
            open_docs.insert(0, doc)
        else:
            open_docs.append(doc)

    def _advance(self, doc: _Doc, open_docs: list[_Doc]) -> Summary | None:
        """A pass is done: hand its summaries to the strategy; a record if the strategy is done."""
        summaries = [doc.outputs[i] for i in range(doc.issued)]
        try:
            step = doc.strategy.send(summaries)
        except StopIteration as stop:
            return self._record(doc, stop.value)
        self._start_pass(doc, step, open_docs, front=True)  # finish started documents first
        return None

    def _next_batch(self, queue: list[_Job], rounds: int) -> list[_Job]:
        """Jobs of one generation-length group, neighbours in length; the oldest job goes next
        once it has waited MAX_WAIT_ROUNDS rounds."""
        oldest = min(queue, key=lambda job: job.queued)
        if rounds - oldest.queued >= MAX_WAIT_ROUNDS:
            final, anchor = oldest.final, oldest
        else:
            finals = sum(job.final for job in queue)
            final, anchor = finals * 2 >= len(queue), None
        group = sorted((job for job in queue if job.final == final), key=lambda job: len(job.ids))
        start = group.index(anchor) if anchor is not None else 0
        beams = self.lengths[final].num_beams
        batch: list[_Job] = []
        for job in group[start:] + group[:start][::-1]:
            width = max([len(job.ids)] + [len(j.ids) for j in batch])
            if batch and (len(batch) >= self.batch_size or (
                self.settings.batch_tokens is not None and (len(batch) + 1) * width * beams > self.settings.batch_tokens
            )):
                break
            batch.append(job)
        return batch

    def _generate_or_split(self, rows: list[tuple[int, ...]], generation: GenerationSettings) -> list[list[int] | Exception]:
        """Generate a batch; if that fails (say, out of memory), retry its rows one at a time,
        so a chunk that cannot be done fails only its own document."""
        try:
            return self.backend.generate(rows, generation)
        except (RuntimeError, ValueError, IndexError) as exc:
            if len(rows) == 1:
                return [exc]
            return [outcome for row in rows for outcome in self._generate_or_split([row], generation)]

    def _decode(self, ids: list[int]) -> str:
        return self.model.tokenizer.decode(ids, skip_special_tokens=True, clean_up_tokenization_spaces=True)

    def _finish_text(self, ids: list[int], doc: _Doc) -> str:
        """A final-pass summary; with --whole-sentences, cut back to its last complete sentence
        when the length limit stopped it mid-sentence."""
        text = self._decode(ids)
        if not self.settings.whole_sentences:
            return text
        produced = sum(1 for i in ids if i not in (self.pad_id, self.eos_id))
        if produced < self.settings.generation.max_length:
            return text
        from .sentences import cut_to_complete

        cut = cut_to_complete(text)
        if cut is None:
            doc.notes.append("the summary stopped at --max-length mid-sentence and has no complete sentence to cut back to; kept as is")
            return text
        return cut

    def _record(self, doc: _Doc, text: str) -> Summary:
        trace = doc.trace
        notes = [*doc.notes, *([trace.warning] if trace.warning else [])]
        return Summary(
            source=doc.source,
            summary=text,
            input_tokens=trace.input_tokens,
            summary_tokens=len(self.model.tokenizer(text, add_special_tokens=False).input_ids) if text else 0,
            chunks=trace.chunks,
            levels=doc.levels,
            model=self.name,
            device=self.device,
            seconds=doc.seconds,
            warning="; ".join(notes) if notes else None,
            parts=tuple(trace.parts) if trace.parts is not None else None,
        )

    def _checked(self, item: Item) -> Summary | None:
        if not item.text.strip():
            return self._failure(Failure(item.source, "empty input, nothing to summarize"))
        return None

    def _end(self, doc: _Doc, message: str) -> Summary:
        return self._failure(Failure(doc.source, message))

    def _failure(self, failure: Failure) -> Summary:
        return failed_record(failure, self.name, self.device)


def failed_record(failure: Failure, model: str, device: str) -> Summary:
    return Summary(
        source=failure.source, summary="", input_tokens=0, summary_tokens=0, chunks=0,
        model=model, device=device, seconds=0.0, error=failure.message,
    )


def _default_batch_size(device: str, num_beams: int) -> int:
    from .device import default_batch_size

    return default_batch_size(device, num_beams)
