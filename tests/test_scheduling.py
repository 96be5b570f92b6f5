"""Who runs next: the two scheduling policies, and what the pipeline does with a document that
fails, is cancelled or is over its token limit, on the trained tiny T5 with its real backend
(recorded, so the tests can see what each generate() call held)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from helpers import one_torch_thread
from summarizer.backends import open_backend
from summarizer.config import GenerationSettings, build_settings
from summarizer.device import resolve
from summarizer.models.loading import load_model
from summarizer.pipeline import Item, Pipeline
from summarizer.scheduling import ADMIT, FAIR, OLDEST_FIRST, Job, JobQueue

GREEDY = GenerationSettings(max_length=8, num_beams=1)


def queue_of(policy, rows: int = 4) -> JobQueue:
    return JobQueue(lambda generation: rows, GREEDY, policy=policy)


def jobs(queue: JobQueue, doc: int, count: int, length: int = 20) -> None:
    for part in range(count):
        queue.add(Job(doc, part, tuple(range(length)), False, GREEDY))


def docs(*seqs: int) -> list[SimpleNamespace]:
    return [SimpleNamespace(seq=seq) for seq in seqs]


# --- the policies, on their own ---------------------------------------------------------------------

def test_fair_gives_a_new_request_a_batch_of_its_own_kind_not_the_books():
    """A book that has had batches already does not fill the batch of a request that has had
    none; with nobody else waiting, the book's batches are full again."""
    queue = queue_of(FAIR)
    jobs(queue, 0, 12)  # the book
    assert [job.doc for job in queue.next_batch()] == [0] * 4
    assert [job.doc for job in queue.next_batch()] == [0] * 4
    jobs(queue, 1, 1)  # a small request arrives
    jobs(queue, 2, 2)  # and another
    assert sorted(job.doc for job in queue.next_batch()) == [1, 2, 2]
    assert [job.doc for job in queue.next_batch()] == [0] * 4


def test_fair_does_not_let_a_stream_of_small_requests_starve_a_book():
    """Each small request is a newcomer, the least served of all; still the book's turn comes
    every other batch, and the small request that arrives meanwhile rides along in it."""
    queue = queue_of(FAIR)
    jobs(queue, 0, 100)  # the book
    queue.next_batch()
    batches = []
    for small in range(1, 11):  # one small request after another, as a client sends them
        jobs(queue, small, 1)
        batches.append(sorted(job.doc for job in queue.next_batch()))
        if small in {job.doc for job in queue.jobs}:
            batches.append(sorted(job.doc for job in queue.next_batch()))
    with_book = [batch for batch in batches if 0 in batch]
    assert len(with_book) >= len(batches) // 2, batches
    assert all(batch.count(0) >= 3 for batch in with_book), "the book's batches are still nearly full"
    assert not any(small in {job.doc for job in queue.jobs} for small in range(1, 11)), "every small one was served"


def test_fair_mixes_requests_within_a_batch_of_each_others_service():
    queue = queue_of(FAIR)
    jobs(queue, 0, 6)
    queue.next_batch()  # document 0 has had 4 jobs: one batch
    jobs(queue, 1, 6)
    assert [job.doc for job in queue.next_batch()] == [1] * 4, "the least served goes first"
    assert sorted(job.doc for job in queue.next_batch()) == [0, 0, 1, 1], "within a batch of each other: they mix"


def test_fair_admits_what_has_arrived_then_pulls_the_least_served():
    queue = queue_of(FAIR)
    jobs(queue, 0, 8)
    queue.next_batch()
    open_docs = docs(0, 1)
    assert queue.fill(open_docs, admit=True, in_flight=2) is ADMIT
    assert queue.fill(open_docs, admit=False, in_flight=2) is open_docs[1], "the newcomer is pulled first"
    jobs(queue, 1, 8)  # it has a batch's worth waiting, so are the book's: enough for two batches
    assert queue.fill(open_docs, admit=False, in_flight=2) is None


def test_oldest_first_finishes_started_documents_before_admitting():
    queue = queue_of(OLDEST_FIRST)
    open_docs = docs(0, 1)
    assert queue.fill(open_docs, admit=True, in_flight=2) is open_docs[0]
    assert queue.fill([], admit=True, in_flight=2) is ADMIT
    jobs(queue, 1, 3)
    jobs(queue, 0, 6)
    assert [job.doc for job in queue.next_batch()] == [0] * 4, "the oldest document's jobs go first"


def test_a_dropped_document_is_forgotten():
    queue = queue_of(FAIR)
    jobs(queue, 0, 6)
    queue.next_batch()
    assert queue.drop(0) == 2 and not queue.jobs and 0 not in queue.served and 0 not in queue.waiting


# --- the pipeline: one document's trouble is its own ----------------------------------------------

class Recorder:
    """The real backend, with a log of which documents' inputs each generate() call held."""

    def __init__(self, backend):
        self.backend, self.name, self.calls = backend, backend.name, []

    def generate(self, rows, generation):
        self.calls.append(list(rows))
        return self.backend.generate(rows, generation)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    with one_torch_thread():
        yield


@pytest.fixture(scope="module")
def loaded(trained_model_dir):
    return load_model(str(trained_model_dir), resolve("cpu", "float32"))


def pipeline(loaded, **user) -> tuple[Pipeline, Recorder]:
    settings = build_settings({"max_length": 8, "min_length": 0, "chunk_max_length": 8, "chunk_min_length": 0,
                               "num_beams": 1, "backend": "torch", "batch_size": 8, **user}, inherited=loaded.task_defaults)
    recorder = Recorder(open_backend(loaded, settings))
    return Pipeline(settings, loaded, recorder), recorder


def report(samples_dir) -> str:
    """Meeting notes: 1.6 KB, a dozen chunks of 64 tokens."""
    return (samples_dir / "notes" / "meeting.txt").read_text(encoding="utf-8")


def test_a_document_whose_text_fails_while_read_fails_alone(loaded, samples_dir):
    """A streamed text that raises half-way (a file gone bad), or at once, fails its own
    document with one line; the documents around it are summarized."""
    def breaks_after(blocks: int):
        text = report(samples_dir)
        for start in range(0, blocks * 100, 100):
            yield text[start:start + 100]
        raise OSError("Input/output error")

    run, _ = pipeline(loaded, chunk_size=64)
    items = [Item("before", "The council met on Monday. It voted."), Item("late", breaks_after(6)),
             Item("early", breaks_after(0)), Item("after", report(samples_dir))]
    records = {record.source: record for _, record in run.run(items)}
    assert records["late"].error == records["early"].error == "failed: OSError: Input/output error"
    assert records["before"].error is None and records["after"].error is None and records["after"].chunks > 1


def test_a_cancelled_document_is_dropped_between_batches(loaded, samples_dir):
    """Once `cancelled()` is true, no later batch holds the document's inputs; it comes back as a
    "cancelled" record and the others go on."""
    run, recorder = pipeline(loaded, chunk_size=64)
    text, other = report(samples_dir), (samples_dir / "short.txt").read_text(encoding="utf-8")
    plan = run.plan(run.settings)
    head, tail = loaded.input_ends
    rows_of_text = {(*head, *plan.prefix_ids, *ids, *tail) for ids in plan.chunker.chunks(text)}
    cancelled_after: list[int] = []

    def cancelled() -> bool:
        if recorder.calls and not cancelled_after:
            cancelled_after.append(len(recorder.calls))
        return bool(cancelled_after)

    records = dict(run.run([Item("long", text, cancelled=cancelled), Item("other", other * 3)], fair=True))
    assert records[0].error == "cancelled" and records[1].error is None and records[1].chunks > 1
    before, after = recorder.calls[:cancelled_after[0]], recorder.calls[cancelled_after[0]:]
    assert any(tuple(row) in rows_of_text for call in before for row in call)
    assert after and not any(tuple(row) in rows_of_text for call in after for row in call)


def test_tokenizing_stops_at_the_input_token_limit(loaded, samples_dir):
    """An item over its `max_input_tokens` fails with a line naming the limit, and is not
    tokenized to its end (its text is read lazily, so what was read shows it)."""
    read = []

    def blocks():
        text = report(samples_dir) * 200
        for start in range(0, len(text), 1000):
            read.append(start)
            yield text[start:start + 1000]

    run, recorder = pipeline(loaded)
    [(_, record)] = list(run.run([Item("book", blocks(), max_input_tokens=200)]))
    assert record.error == "more than 200 input tokens (--max-input-tokens); tokenizing stopped there"
    assert len(read) < len(report(samples_dir)) * 200 // 1000 // 4, "most of the text was never read"
    assert not recorder.calls


def test_characters_the_tokenizer_cannot_take_are_replaced(loaded):
    """A lone surrogate made the tokenizer raise; NUL and noncharacters are no text. Each is
    replaced with U+FFFD, a held text and a streamed one alike."""
    run, _ = pipeline(loaded)
    odd = "The council met on Monday.\ud800 It voted\x00 to build\uffff a bridge.\udfff"
    records = dict(run.run([Item("held", odd), Item("streamed", iter([odd[:20], odd[20:]]))]))
    assert records[0].error is None and records[1].error is None
    assert records[0].summary and records[0].input_tokens == records[1].input_tokens
