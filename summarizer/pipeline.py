"""Documents in, summary records out: chunk -> batch -> backend -> reduce -> Summary.

Documents arrive as a lazy stream and are pulled only while few jobs wait, so a folder of 100k
files starts producing summaries at once and memory stays flat. The passes every document's
strategy asks for (chunk summaries, reduction levels, final passes) share one queue, and
`scheduling` decides which run together: started documents first, so they finish in a steady
stream. A document is handed back as soon as its strategy returns. Which backend turns token
ids into token ids is not this module's business.

Each item may bring its own settings (a server's per-request lengths or beams); jobs are
batched only with jobs of equal generation settings. A feed with nothing ready yet yields
`IDLE`: the pipeline then generates what it has instead of waiting for more.
"""

from __future__ import annotations

import hashlib
import time
from bisect import insort
from dataclasses import dataclass, field, replace
from itertools import chain, count
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Protocol

from .characters import cleaned
from .chunker import Chunker, whole
from .config import GenerationSettings, RunSettings
from .errors import SettingsError, first_line
from .lengths import Measure, capped, final_lengths, word_bounds
from .report import Summary
from .scheduling import ADMIT, FAIR, OLDEST_FIRST, Job, JobQueue
from .strategies import STRATEGIES, Pass, Trace

if TYPE_CHECKING:
    from .backends import Backend
    from .evidence import Evidence
    from .models.loading import LoadedModel


class _Idle:
    """Yielded by a feed in place of an item: nothing has arrived yet."""

    def __repr__(self) -> str:
        return "IDLE"


IDLE = _Idle()
_END = object()
EMPTY = "empty input, nothing to summarize"
CANCELLED = "cancelled"
TOO_LONG = "more than"  # how a record over its input-token limit begins
# Inputs longer than this are never "too short to summarize" (no one sentence is): longer ones
# are not split into sentences only to find that out.
AS_IS_CHARS = 20_000
# A "sentence" longer than this is a text without punctuation (a transcript, a log line), which
# is summarized like any other; real sentences are far shorter.
ONE_SENTENCE_WORDS = 80
# The longest text whose evidence is checked: five long novels. A longer input (a log, a dump)
# is summarized as usual but not held whole to point into, so memory stays flat.
EVIDENCE_CHARS = 10_000_000


@dataclass(frozen=True)
class Failure:
    """An input that could not be read; it becomes a failed record in its place."""

    source: str
    message: str


class Memo(Protocol):
    """Where a resumable run keeps a document's finished chunk summaries, by job key."""

    def get(self, key: str) -> str | None: ...

    def put(self, key: str, text: str) -> None: ...


@dataclass(frozen=True)
class Item:
    """A text to summarize. `text` is a str or an iterable of str blocks (a streamed input);
    `settings` replaces the pipeline's for this item only (the generation and chunking ones).
    `max_input_tokens`: tokenizing stops, and the item fails, once its text passes that many
    tokens; `max_new_tokens` caps every pass's length (a bound in words included). `cancelled()`: asked between batches; once true, the item's queued work is dropped
    and it comes back as a "cancelled" record. Readers' Documents fit too."""

    source: str
    text: Any
    settings: RunSettings | None = None
    max_input_tokens: int | None = None
    cancelled: Callable[[], bool] | None = None
    max_new_tokens: int | None = None  # the most tokens any of its passes may write, whatever its bounds ask
    pages: tuple[tuple[int, int], ...] = ()  # a PDF's (page number, where its text starts), as a Document has them


@dataclass(frozen=True)
class Plan:
    """What one set of settings means here: the prefix, the chunker, the lengths of each pass."""

    settings: RunSettings
    prefix_ids: tuple[int, ...]
    chunker: Chunker
    final: GenerationSettings
    chunk: GenerationSettings

    def lengths(self, final: bool) -> GenerationSettings:
        return self.final if final else self.chunk


@dataclass
class _Counts:
    """Progress of one run: jobs done (generated or remembered) of those known so far."""

    done: int = 0
    known: int = 0


@dataclass
class _Doc:
    """One document while its strategy's passes are in flight."""

    seq: int  # admission order: the scheduler's notion of age
    index: int  # position in the input
    source: str
    plan: Plan
    strategy: Any
    trace: Trace
    memo: Memo | None = None
    final: bool = False
    feed: Iterator[tuple[int, ...]] | None = None
    issued: int = 0
    outstanding: int = 0
    outputs: dict[int, str] = field(default_factory=dict)
    levels: int = 0
    seconds: float = 0.0
    final_input: tuple[int, ...] = ()
    notes: list[str] = field(default_factory=list)
    language: str | None = None  # the input's, where it was detected (ISO 639-1)
    target_language: str | None = None  # mBART-50's code for it, when the model writes in its input's language
    text: Any = None  # the text as read, or a stream that reads it again: what the evidence points into
    pages: tuple[tuple[int, int], ...] = ()  # a PDF's (page number, where its text starts)
    limit: int | None = None  # input tokens it may have
    cancelled: Callable[[], bool] | None = None
    most: int | None = None  # tokens any of its passes may write

    def __lt__(self, other: "_Doc") -> bool:  # open passes are kept oldest first
        return self.seq < other.seq


ProgressCallback = Callable[[int, int], None]
BatchCallback = Callable[[int, float], None]  # rows generated together, seconds they took


class Pipeline:
    """Runs documents through one model (or an extractive method) with one set of settings."""

    def __init__(self, settings: RunSettings, model: "LoadedModel | None" = None, backend: "Backend | None" = None):
        self.settings = settings
        self.model = model
        self.backend = backend
        ran = model is not None and settings.abstractive
        self.name = model.name if ran else settings.method
        self.device = model.placement.device if ran else "cpu"
        self.dtype = (settings.quantize or model.placement.dtype) if ran else None
        self.revision = model.revision if ran else None
        self.model_type = model.model_type if ran else None
        self.backend_name = backend.name if ran and backend is not None else None
        self._plans: dict[RunSettings, Plan] = {}
        if not settings.abstractive:
            return
        if model is None:
            raise ValueError("the t5 method needs a loaded model")
        tokenizer = model.tokenizer
        self.eos_id = tokenizer.eos_token_id
        self.pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        self.plan(settings)

    def plan(self, settings: RunSettings) -> Plan:
        """The plan for `settings` (built once per distinct settings); SettingsError when the
        window leaves no room for text."""
        known = self._plans.get(settings)
        if known is not None:
            return known
        tokenizer = self.model.tokenizer
        g, c = settings.generation, settings.chunking
        prefix_ids = tuple(tokenizer(g.prefix, add_special_tokens=False).input_ids) if g.prefix else ()
        window = c.size or self.model.window
        head, tail = self.model.input_ends
        content_size = window - len(head) - len(prefix_ids) - len(tail)  # room for the prefix and special tokens
        if content_size < 8:
            raise SettingsError(f"the input window ({window} tokens) leaves no room for text after the prefix")
        if c.overlap >= content_size // 2:
            raise SettingsError(
                f"--chunk-overlap ({c.overlap}) must be less than half of the {content_size} tokens each chunk holds"
            )
        longest = self.model.checkpoint.longest_summary
        for flag, length in (("--max-length", g.max_length), ("--chunk-max-length", settings.chunk_generation.max_length)):
            if longest is not None and length > longest:
                raise SettingsError(
                    f"{flag} {length} is more than {self.model.family.name} {self.model.name!r} can generate "
                    f"({longest} decoder positions); choose at most {longest}"
                )
        if g.target_language is not None:
            self._check_target_language(g.target_language)
        plan = Plan(settings, prefix_ids, Chunker(tokenizer, content_size, c.overlap), g, settings.chunk_generation)
        self._plans[settings] = plan
        return plan

    def _check_target_language(self, code: str) -> None:
        """--target-language names one of an mBART model's language codes, which become the
        summary's forced first token."""
        if self.model.model_type != "mbart":
            raise SettingsError(f"--target-language applies to mBART models, not to {self.model.family.name} {self.model.name!r}")
        tokenizer = self.model.tokenizer
        if tokenizer.convert_tokens_to_ids(code) in (None, tokenizer.unk_token_id):
            codes = [token for token in getattr(tokenizer, "lang_code_to_id", {})] or sorted(
                token for token in tokenizer.additional_special_tokens if "_" in token)
            raise SettingsError(f"--target-language {code!r} is not a language code of {self.model.name!r}"
                                + (f"; it knows {', '.join(codes[:12])}{' ...' if len(codes) > 12 else ''}" if codes else ""))

    @property
    def batch_size(self) -> int:
        return self._batch_size(self.settings.generation)

    def _batch_size(self, generation: GenerationSettings) -> int:
        if self.settings.batch_size:
            return self.settings.batch_size
        from .device import default_batch_size

        return default_batch_size(self.device, generation.num_beams)

    # -- extractive methods: no model, one record per document ---------------------------------

    def _extractive(self, item: Any) -> Summary:
        from .methods.extractive import lead, textrank
        from .sentences import count_words, cut_back

        started = time.perf_counter()
        settings = getattr(item, "settings", None) or self.settings
        pick = lead if settings.method == "lead" else textrank
        text = whole(cleaned(_text_of(item)))  # the extractive methods rank all sentences at once
        bounds = settings.bounds
        words = word_bounds(bounds, Measure(0, count_words(text)))
        picked = pick(text, min(settings.sentences, bounds.max_sentences or settings.sentences))
        summary, note = cut_back(" ".join(picked), words.max_words, whole_sentences=True)
        count_ = self._counter()
        return Summary(
            source=item.source, summary=summary, input_tokens=count_(text), summary_tokens=count_(summary),
            chunks=1, model=self.name, device="cpu", seconds=time.perf_counter() - started,
            counted_in="tokens" if self.model is not None else "words", warning=note, language=_with_language(text)[1],
            evidence=grounded(summary, text, pages=getattr(item, "pages", ())) if settings.evidence else None,
        )

    def _extracted(self, item: Any) -> Summary:
        if isinstance(item, Failure):
            return self._failure(item)
        try:
            return self._checked(item) or self.as_is(item, getattr(item, "settings", None) or self.settings) or self._extractive(item)
        except Exception as exc:  # noqa: BLE001 -- this document, not the run
            return self._failure(Failure(item.source, _failed(exc)))

    def _counter(self) -> Callable[[str], int]:
        if self.model is None:
            return lambda text: len(text.split())
        tokenizer = self.model.tokenizer
        return lambda text: len(tokenizer(text, add_special_tokens=False).input_ids)

    # -- the abstractive pipeline ----------------------------------------------------------------

    def run(self, items: Iterable[Any], progress: ProgressCallback | None = None,
            memo_for: Callable[[int], Memo | None] | None = None, *, fair: bool = False,
            on_batch: BatchCallback | None = None) -> Iterator[tuple[int, Summary]]:
        """Yield (input position, Summary) per input, in the order documents finish. IDLE in
        `items` holds no position: it only says nothing more has arrived yet. `memo_for(position)`
        gives where an input's chunk summaries are kept for a resumed run (None: nowhere).
        `fair`: take turns across documents (a server's requests) instead of finishing the
        oldest first (a folder); see `scheduling`. `on_batch` hears each generate() call.

        Whatever one document's text or strategy raises fails that document alone, with a
        one-line error in its record; the run goes on."""
        feed = iter(items)
        positions = count()
        if not self.settings.abstractive:
            for item in feed:
                if item is not IDLE:
                    yield next(positions), self._extracted(item)
            return

        docs: dict[int, _Doc] = {}  # by admission number
        open_docs: list[_Doc] = []  # documents whose current pass still has inputs to queue, oldest first
        queue = JobQueue(self._batch_size, self.settings.generation, self.settings.batch_tokens,
                         FAIR if fair else OLDEST_FIRST)
        admitted = count()
        counts = _Counts()
        exhausted = False
        while True:
            for doc in [doc for doc in docs.values() if doc.cancelled is not None and doc.cancelled()]:
                yield doc.index, self._drop(doc, CANCELLED, open_docs, docs, queue, counts)
            # Fill the queue: the policy says whose open pass to pull from, or to admit a new document.
            idle = False
            while (choice := queue.fill(open_docs, admit=not (exhausted or idle), in_flight=len(docs))) is not None:
                if choice is not ADMIT:
                    yield from self._pull(choice, open_docs, docs, queue, counts)
                    continue
                item = next(feed, _END)
                if item is _END or item is IDLE:
                    exhausted, idle = item is _END, item is IDLE
                    continue
                index = next(positions)
                doc, problem = self._admit(next(admitted), index, item, memo_for(index) if memo_for else None)
                if problem is not None:
                    yield index, problem
                    continue
                docs[doc.seq] = doc
                try:
                    step = next(doc.strategy)
                except Exception as exc:  # noqa: BLE001 -- this document's text or strategy, not the run
                    yield index, self._drop(doc, _failed(exc), open_docs, docs, queue, counts)
                    continue
                self._start_pass(doc, step, open_docs)
                if self._over_limit(doc):
                    yield index, self._drop(doc, self._limit_message(doc), open_docs, docs, queue, counts)
            if progress:
                progress(counts.done, counts.known)
            if not len(queue):
                if exhausted and not open_docs:
                    return
                continue  # idle: ask the feed again (it waits for the next item)

            batch = queue.next_batch()
            generation = batch[0].generation
            started = time.perf_counter()
            outcomes = self._generate_or_split([job.ids for job in batch], generation)
            took = time.perf_counter() - started
            if on_batch:
                on_batch(len(batch), took)
            share = took / len(batch)
            counts.done += len(batch)
            for job, outcome in zip(batch, outcomes):
                doc = docs.get(job.doc)
                if doc is None:  # its document already failed on another chunk
                    continue
                if isinstance(outcome, Exception):
                    yield doc.index, self._drop(doc, f"generation failed: {first_line(outcome)}", open_docs, docs, queue, counts)
                    continue
                doc.seconds += share
                if job.final:
                    doc.outputs[job.part] = self._finish_text(outcome, doc, job.generation)
                else:
                    doc.outputs[job.part] = text = self._decode(outcome)
                    if doc.memo is not None:
                        doc.memo.put(self._memo_key(job.ids, generation), text)
                doc.outstanding -= 1
                if doc.outstanding == 0 and doc.feed is None:
                    yield from self._advance(doc, open_docs, docs, queue, counts)
            if progress:
                progress(counts.done, counts.known)

    def _admit(self, seq: int, index: int, item: Any, memo: Memo | None) -> tuple[_Doc | None, Summary | None]:
        """A new document with its plan and strategy, or the record of why it cannot start."""
        if isinstance(item, Failure):
            return None, self._failure(item)
        problem = self._checked(item)
        if problem is not None:
            return None, problem
        settings = getattr(item, "settings", None) or self.settings
        try:
            plan = self.plan(settings)
        except SettingsError as exc:
            return None, self._failure(Failure(item.source, str(exc)))
        try:
            as_is = self.as_is(item, settings, plan)
            text, language = (None, None) if as_is is not None else _with_language(cleaned(_text_of(item)))
        except Exception as exc:  # noqa: BLE001 -- reading this document's text failed, not the run
            return None, self._failure(Failure(item.source, _failed(exc)))
        if as_is is not None:
            return None, as_is
        trace = Trace()
        strategy = STRATEGIES[settings.strategy](text, plan.chunker, trace)
        doc = _Doc(seq, index, item.source, plan, strategy, trace, memo=memo, language=language,
                   text=text if _rereadable(text) else None, pages=getattr(item, "pages", ()),
                   limit=getattr(item, "max_input_tokens", None), cancelled=getattr(item, "cancelled", None),
                   most=getattr(item, "max_new_tokens", None))
        if self.model.model_type == "mbart" and settings.generation.target_language is None and language is not None:
            doc.target_language = self._mbart_code(language)
        return doc, None

    def _pull(self, doc: _Doc, open_docs: list[_Doc], docs: dict[int, _Doc], queue: JobQueue,
              counts: _Counts) -> Iterator[tuple[int, Summary]]:
        """Queue the next input of `doc`'s open pass (or take it from the memo); close the pass
        when its inputs are used up."""
        try:
            ids = next(doc.feed, None)
        except Exception as exc:  # noqa: BLE001 -- chunking or tokenizing this document failed
            yield doc.index, self._drop(doc, _failed(exc), open_docs, docs, queue, counts)
            return
        if self._over_limit(doc):
            yield doc.index, self._drop(doc, self._limit_message(doc), open_docs, docs, queue, counts)
            return
        if ids is None:
            open_docs.remove(doc)
            doc.feed = None
            if doc.issued == 0:  # a pass with no inputs
                yield doc.index, self._drop(doc, EMPTY, open_docs, docs, queue, counts)
            elif doc.outstanding == 0:  # its last job finished (or was remembered) before the feed ran dry
                yield from self._advance(doc, open_docs, docs, queue, counts)
            return
        head, tail = self._input_ends(doc)
        row = (*head, *doc.plan.prefix_ids, *ids, *tail)
        generation = self._lengths(doc, len(ids))
        part = doc.issued
        doc.issued += 1
        counts.known += 1
        if doc.final:
            doc.final_input = row
        remembered = doc.memo.get(self._memo_key(row, generation)) if doc.memo is not None and not doc.final else None
        if remembered is not None:
            doc.outputs[part] = remembered
            counts.done += 1
            return
        queue.add(Job(doc.seq, part, row, doc.final, generation))
        doc.outstanding += 1

    def _lengths(self, doc: _Doc, reads: int) -> GenerationSettings:
        """A job's lengths: never longer than what it reads; a final pass's from the word and
        sentence bounds, turned into tokens by what is known of its document."""
        plan = doc.plan
        longest = min(filter(None, (self.model.checkpoint.longest_summary, doc.most)), default=None)
        if not doc.final:
            generation = capped(plan.chunk, reads)
        else:
            generation = final_lengths(plan.final, plan.settings.bounds, doc.trace.measure(), reads, longest)
        if doc.most is not None and generation.max_length > doc.most:
            generation = replace(generation, max_length=doc.most, min_length=min(generation.min_length, doc.most))
        return replace(generation, target_language=doc.target_language) if doc.target_language else generation

    def _mbart_code(self, language: str) -> str | None:
        """mBART-50's code for a detected language, when this model's tokenizer has it."""
        from .language import mbart_code

        code = mbart_code(language)
        tokenizer = self.model.tokenizer
        return code if code is not None and tokenizer.convert_tokens_to_ids(code) not in (None, tokenizer.unk_token_id) else None

    def _input_ends(self, doc: _Doc) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The special tokens around a document's inputs; an mBART input says its own language
        (the tokenizer's source code is the one it was set up with, en_XX by default)."""
        head, tail = self.model.input_ends
        source = getattr(self.model.tokenizer, "src_lang", None)
        if doc.target_language is None or source is None:
            return head, tail
        tokens = self.model.tokenizer.convert_tokens_to_ids
        swap = {tokens(source): tokens(doc.target_language)}
        return tuple(swap.get(i, i) for i in head), tuple(swap.get(i, i) for i in tail)

    @staticmethod
    def _memo_key(row: tuple[int, ...], generation: GenerationSettings) -> str:
        return hashlib.sha256(repr((row, generation)).encode()).hexdigest()[:32]

    def _start_pass(self, doc: _Doc, step: Pass, open_docs: list[_Doc]) -> None:
        doc.final, doc.feed, doc.issued, doc.outstanding, doc.outputs = step.final, iter(step.inputs), 0, 0, {}
        doc.levels += 1
        insort(open_docs, doc)

    def _advance(self, doc: _Doc, open_docs: list[_Doc], docs: dict[int, _Doc], queue: JobQueue,
                 counts: _Counts) -> Iterator[tuple[int, Summary]]:
        """A pass is done: hand its summaries to the strategy; the record if the strategy is done."""
        summaries = [doc.outputs[i] for i in range(doc.issued)]
        try:
            step = doc.strategy.send(summaries)
        except StopIteration as stop:
            del docs[doc.seq]
            queue.drop(doc.seq)  # the scheduler forgets it
            yield doc.index, self._record(doc, stop.value)
            return
        except Exception as exc:  # noqa: BLE001 -- this document's strategy, not the run
            yield doc.index, self._drop(doc, _failed(exc), open_docs, docs, queue, counts)
            return
        self._start_pass(doc, step, open_docs)

    def _drop(self, doc: _Doc, message: str, open_docs: list[_Doc], docs: dict[int, _Doc], queue: JobQueue,
              counts: _Counts) -> Summary:
        """End a document early (failed, cancelled, over its limit): its queued jobs dropped, its
        strategy closed; the failed record in its place."""
        del docs[doc.seq]
        if doc in open_docs:
            open_docs.remove(doc)
        counts.known -= queue.drop(doc.seq)
        doc.strategy.close()
        return self._end(doc, message)

    @staticmethod
    def _over_limit(doc: _Doc) -> bool:
        return doc.limit is not None and doc.trace.input_tokens > doc.limit

    @staticmethod
    def _limit_message(doc: _Doc) -> str:
        return f"{TOO_LONG} {doc.limit:,} input tokens (--max-input-tokens); tokenizing stopped there"

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

    def _finish_text(self, ids: list[int], doc: _Doc, generation: GenerationSettings) -> str:
        """A final-pass summary cut back to the word and sentence bounds; with --whole-sentences
        or --max-sentences, to its last complete sentence when a bound or the length limit
        stopped it mid-sentence."""
        from .sentences import cut_back

        text = self._decode(ids)
        settings = doc.plan.settings
        words = word_bounds(settings.bounds, doc.trace.measure())
        produced = sum(1 for i in ids if i not in (self.pad_id, self.eos_id))
        text, note = cut_back(text, words.max_words, words.max_sentences, whole_sentences=settings.whole_sentences,
                              stopped=produced >= generation.max_length)
        if note is not None and note not in doc.notes:
            doc.notes.append(note)
        return text

    def _record(self, doc: _Doc, text: str) -> Summary:
        from .degenerate import problems

        trace = doc.trace
        summary_tokens = len(self.model.tokenizer(text, add_special_tokens=False).input_ids) if text else 0
        evidence, skipped = self._evidence(doc, text)
        notes = [*doc.notes, *([trace.warning] if trace.warning else []),
                 *problems(text, trace.input_tokens, summary_tokens)]
        return Summary(
            source=doc.source,
            summary=text,
            input_tokens=trace.input_tokens,
            summary_tokens=summary_tokens,
            chunks=trace.chunks,
            levels=doc.levels,
            model=self.name,
            device=self.device,
            seconds=doc.seconds,
            warning="; ".join(notes) if notes else None,
            parts=tuple(trace.parts) if trace.parts is not None else None,
            model_type=self.model_type,
            backend=self.backend_name,
            language=doc.language,
            evidence=evidence,
            note=skipped,
            final_input=doc.final_input if doc.issued == 1 else (),  # one final pass (not --strategy map's many)
        )

    def _evidence(self, doc: _Doc, summary: str) -> tuple["Evidence | None", str | None]:
        """Where each sentence of the summary comes from in the document as read, traced through
        the passes the strategy made (evidence.ground), and a note when there is none: when the
        text cannot be read again (a one-shot stream) or is too long to hold for it."""
        if not doc.plan.settings.evidence:
            return None, None
        document = None if doc.text is None else doc.text if isinstance(doc.text, str) else _held(doc.text)
        if document is None:
            why = "it came as a stream that cannot be read again" if doc.text is None else (
                f"the text is over {EVIDENCE_CHARS // 10**6} million characters")
            return None, f"no evidence: {why}"
        return grounded(summary, document, doc.trace, doc.pages), None

    def _checked(self, item: Any) -> Summary | None:
        """An input without text fails before any work. A held text is looked at; a stream is
        not read for this: a reader's says whether it was blank (`blank`), any other is found
        empty when its first pass has no inputs."""
        text = _text_of(item)
        blank = not text.strip() if isinstance(text, str) else getattr(text, "blank", False)
        if blank:
            return self._failure(Failure(item.source, EMPTY))
        return None

    def as_is(self, item: Any, settings: RunSettings, plan: Plan | None = None) -> Summary | None:
        """The record of an input too short to summarize (one sentence, or no longer than the
        summary asked for), which is returned as it is, without a model call; None for any
        other. A streamed input is never that short, and is not read for this."""
        from .sentences import count_words, sentence_spans

        text = _text_of(item)
        if not isinstance(text, str) or len(text) > AS_IS_CHARS:
            return None
        document = cleaned(text)  # one character for one: the evidence's spans point into the text as read
        text = document.strip()
        sentences, words = len(sentence_spans(text)), count_words(text)
        bounds = settings.bounds
        tokens = plan.chunker.count(text) if plan is not None else self._counter()(text)
        if sentences <= 1 and words <= ONE_SENTENCE_WORDS:
            reason = "it is a single sentence"
        elif bounds.max_words is not None and words <= bounds.max_words:
            reason = f"its {words} words are within --max-words {bounds.max_words}"
        elif bounds.min_words is not None and words <= bounds.min_words:
            reason = f"its {words} words are no more than --min-words {bounds.min_words}"
        elif bounds.max_sentences is not None and sentences <= bounds.max_sentences:
            reason = f"its {sentences} sentences are within --max-sentences {bounds.max_sentences}"
        elif plan is not None and bounds.min_words is None and tokens <= settings.generation.min_length:
            reason = f"its {tokens} tokens are no more than the summary's minimum length ({settings.generation.min_length})"
        else:
            return None
        return Summary(
            source=item.source, summary=text, input_tokens=tokens, summary_tokens=tokens, chunks=1, levels=0,
            model=self.name, device=self.device, seconds=0.0, model_type=self.model_type, backend=self.backend_name,
            counted_in="tokens" if self.model is not None else "words", note=f"returned as is: {reason}",
            language=_with_language(text)[1],
            evidence=grounded(text, document, pages=getattr(item, "pages", ())) if settings.evidence else None,
        )

    def _end(self, doc: _Doc, message: str) -> Summary:
        return self._failure(Failure(doc.source, message))

    def _failure(self, failure: Failure) -> Summary:
        return failed_record(failure, self.name, self.device, self.model_type, self.backend_name)


def grounded(summary: str, document: str, trace: Trace | None = None, pages: tuple[tuple[int, int], ...] = ()) -> "Evidence":
    """The evidence for `summary` in `document`, traced through what the strategy read: the
    first pass's chunk summaries and their spans (map-reduce, map, truncate), or the sentences
    extract-then-abstract picked; the whole document otherwise."""
    from .evidence import Part, ground, sections_of

    parts: list[Part] = []
    chunks: list[tuple[int, int] | None] = []
    if trace is not None and trace.extracts:
        parts = [Part(document[start:end], start, end) for start, end in trace.extracts]
    elif trace is not None and trace.parts is not None and (trace.chunks > 1 or trace.truncated):
        parts = [Part(text, *span) for text, span in zip(trace.parts, trace.spans) if span is not None]
        chunks = trace.spans if trace.chunks > 1 else []
    return ground(summary, document, parts=parts, sections=sections_of(document, pages, chunks))


def _rereadable(text: Any) -> bool:
    """A str, or blocks that start again from the beginning each time they are iterated."""
    return isinstance(text, str) or iter(text) is not text


def _held(blocks: Any) -> str | None:
    """A streamed text read again whole, for its evidence; None past EVIDENCE_CHARS."""
    held, size = [], 0
    for block in blocks:
        size += len(block)
        if size > EVIDENCE_CHARS:
            return None
        held.append(block)
    return "".join(held)


def _with_language(text: Any) -> tuple[Any, str | None]:
    """The text (as it may be read again) and its language, judged on the text or on a stream's
    first block. A one-shot iterator of blocks gives its first block back in front."""
    from .language import detect

    if isinstance(text, str):
        sample = text
    else:
        blocks = iter(text)
        sample = next(blocks, "")
        if blocks is text:
            text = chain([sample], blocks)
    found = detect(sample)
    return text, found.code if found is not None else None


def _failed(exc: Exception) -> str:
    return f"failed: {type(exc).__name__}: {first_line(exc)}"


def _text_of(item: Any) -> Any:
    """What a strategy reads: the item's `blocks()` when it has them (a reader's Document: its
    text when held, else a stream of blocks decoded as read), else its text."""
    blocks = getattr(item, "blocks", None)
    return blocks() if callable(blocks) else item.text


def failed_record(failure: Failure, model: str, device: str, model_type: str | None = None, backend: str | None = None) -> Summary:
    return Summary(
        source=failure.source, summary="", input_tokens=0, summary_tokens=0, chunks=0,
        model=model, device=device, seconds=0.0, error=failure.message, model_type=model_type, backend=backend,
    )
