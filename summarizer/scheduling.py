"""Which queued generations run together, and whose work is queued next: two policies.

The pipeline queues one job per model input (a chunk, a reduction chunk, a final pass), asks
the policy what to do while it fills the queue (pull the next input of a started document's
open pass, or admit a new document), and asks it for each batch. Only jobs with equal
generation settings can share a `generate()` call, and --batch-tokens caps a batch's padded
size. Within a document its passes keep their order.

- `OLDEST_FIRST` (a folder, the API): a started document's passes are pulled before a new
  document is admitted, and a batch is the oldest jobs, in the order their documents came. A
  document's last jobs are its shortest (its last chunk, its final pass): a batch sorted by
  length deferred exactly those, and with them the documents, which then finished in bunches
  and all together at the end. New documents are admitted only while fewer than `target` jobs
  wait, which keeps batches full without taking in a whole folder.
- `FAIR` (a server's requests): requests take turns, round robin: the next batch is the turn
  of the request whose last batch is longest ago (a newcomer counts as served by the batch in
  flight, and among equals the one with the fewest jobs generated goes first). A batch takes
  jobs only of requests that have had at most one batch more than the one whose turn it is, the
  least served first. Everything that has arrived is admitted at once (the server bounds how
  much that is). So a small request that arrives while a book is being summarized waits for
  the batch in flight, then runs in a batch of its own kind instead of behind all of the book;
  the book's turn comes next (a stream of small requests, each a newcomer, cannot keep it
  waiting), small requests ride along in its batches, and it has full batches while no one
  else waits. Among the jobs it may take, the batch is the run of neighbours in length, from
  the first `SORT_WINDOW` batches' worth in that order, that includes the job whose turn it is
  and pads least (requests come in all lengths).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Protocol, Sequence

SORT_WINDOW = 2  # batches' worth of candidates that length sorting may reorder
QUEUED_BATCHES = 2  # keep this many batches' worth of jobs waiting


@dataclass(frozen=True)
class Job:
    """One model input. `doc` is the document's admission number (smaller is older), `part`
    its position in its pass; `generation` the settings it is generated with."""

    doc: int
    part: int
    ids: tuple[int, ...]
    final: bool
    generation: Any  # GenerationSettings: hashable, and equal for jobs that may share a batch

    @property
    def age(self) -> tuple[int, int]:
        return self.doc, self.part


class _Admit:
    def __repr__(self) -> str:
        return "ADMIT"


ADMIT = _Admit()  # what `fill` answers when a new document should be taken in


class Started(Protocol):
    """A started document whose current pass still has inputs to queue."""

    seq: int  # its admission number


class Policy(Protocol):
    def fill(self, queue: "JobQueue", open_docs: Sequence[Started], admit: bool, in_flight: int) -> Started | _Admit | None:
        """The document to pull an input from next, ADMIT, or None when the queue holds enough.
        `open_docs` are oldest first; `admit` says whether the feed may have a new document;
        `in_flight` counts the documents started and not finished."""

    def batch(self, queue: "JobQueue") -> list[Job]:
        """The next batch (the queue is not empty)."""


class JobQueue:
    """Waiting jobs, what each document has waiting and has had generated, and the policy
    that orders them."""

    def __init__(self, rows: Callable[[Any], int], usual: Any, batch_tokens: int | None = None,
                 policy: Policy | None = None):
        """`rows(generation)`: jobs per batch for those settings (fewer with more beams);
        `usual`: the settings most jobs have, which size the queue."""
        self.rows = rows
        self.batch_tokens = batch_tokens
        self.target = rows(usual) * QUEUED_BATCHES  # waiting jobs that keep batches full and sortable
        self.policy = policy or OLDEST_FIRST
        self.jobs: list[Job] = []
        self.waiting: Counter[int] = Counter()  # document -> its jobs in the queue
        self.served: Counter[int] = Counter()  # document -> its jobs taken into batches so far
        self.batches = 0  # batches taken so far
        self.turn: dict[int, int] = {}  # document -> the last batch it was in (a newcomer: the one before its first)

    def __len__(self) -> int:
        return len(self.jobs)

    def add(self, job: Job) -> None:
        self.jobs.append(job)
        self.waiting[job.doc] += 1
        self.turn.setdefault(job.doc, self.batches - 1)

    def drop(self, doc: int) -> int:
        """Forget a document (finished, failed or cancelled): its waiting jobs and its history;
        returns how many jobs were waiting."""
        dropped = self.waiting.pop(doc, 0)
        self.served.pop(doc, None)
        self.turn.pop(doc, None)
        if dropped:
            self.jobs = [job for job in self.jobs if job.doc != doc]
        return dropped

    def fill(self, open_docs: Sequence[Started], admit: bool, in_flight: int) -> Started | _Admit | None:
        return self.policy.fill(self, open_docs, admit, in_flight)

    def next_batch(self) -> list[Job]:
        """Take the next batch out of the queue (the queue must not be empty)."""
        batch = self.policy.batch(self)
        taken = {id(job) for job in batch}
        self.jobs = [job for job in self.jobs if id(job) not in taken]
        for job in batch:
            self.waiting[job.doc] -= 1
            self.served[job.doc] += 1
            self.turn[job.doc] = self.batches
        self.batches += 1
        return batch

    def capped(self, jobs: list[Job]) -> list[Job]:
        """The first of `jobs` (at least one) while the padded batch (rows x widest x beams)
        stays within --batch-tokens."""
        if self.batch_tokens is None:
            return jobs
        widest, beams = 0, jobs[0].generation.num_beams
        for count, job in enumerate(jobs):
            widest = max(widest, len(job.ids))
            if count and (count + 1) * widest * beams > self.batch_tokens:
                return jobs[:count]
        return jobs

    def tightest_run(self, candidates: list[Job], anchor: Job) -> list[Job]:
        """From `candidates` (in the policy's order, `anchor` among them), the run of up to a
        batch of neighbours in length that contains `anchor` and has the smallest spread of
        lengths, cut where --batch-tokens (rows x widest x beams) says."""
        rows = self.rows(anchor.generation)
        by_length = sorted(candidates[: rows * SORT_WINDOW], key=lambda job: len(job.ids))
        at = by_length.index(anchor)
        size = min(rows, len(by_length))
        starts = range(max(0, at - size + 1), min(at, len(by_length) - size) + 1)
        start = min(starts, key=lambda s: len(by_length[s + size - 1].ids) - len(by_length[s].ids))
        run = by_length[start : start + size]
        if self.batch_tokens is None:
            return run
        beams = run[0].generation.num_beams
        # Keep the anchor: grow outwards from it while the padded batch stays under the cap.
        first = last = at - start
        while True:
            grown = False
            for lo, hi in ((first - 1, last), (first, last + 1)):  # shorter neighbours first
                if 0 <= lo and hi < len(run) and (hi - lo + 1) * len(run[hi].ids) * beams <= self.batch_tokens:
                    first, last, grown = lo, hi, True
                    break
            if not grown:
                return run[first : last + 1]


class OldestFirst:
    """Started documents first, oldest jobs first: a folder's summaries come out in a steady
    stream, in order, to the last one."""

    def fill(self, queue: JobQueue, open_docs: Sequence[Started], admit: bool, in_flight: int) -> Started | _Admit | None:
        if len(queue) >= queue.target:
            return None
        if open_docs:
            return open_docs[0]
        return ADMIT if admit else None

    def batch(self, queue: JobQueue) -> list[Job]:
        oldest = min(queue.jobs, key=lambda job: job.age)
        group = sorted((job for job in queue.jobs if job.generation == oldest.generation), key=lambda job: job.age)
        return queue.capped(group[: queue.rows(oldest.generation)])


class Fair:
    """Turns across documents: short requests are not queued behind long ones, nor long ones
    behind a stream of short ones."""

    def fill(self, queue: JobQueue, open_docs: Sequence[Started], admit: bool, in_flight: int) -> Started | _Admit | None:
        if admit and in_flight < queue.target:
            return ADMIT
        if not open_docs:
            return None
        # The least served open document is pulled while fewer than `target` jobs wait from
        # documents served no more than it: the jobs its next batches compete with.
        doc = min(open_docs, key=lambda d: (queue.served[d.seq], d.seq))
        served = queue.served[doc.seq]
        ahead = sum(n for other, n in queue.waiting.items() if queue.served[other] <= served)
        return doc if ahead < queue.target else None

    def batch(self, queue: JobQueue) -> list[Job]:
        def least_served(job: Job) -> tuple[int, int, int]:
            return queue.served[job.doc], job.doc, job.part

        first = min(queue.jobs, key=lambda job: (queue.turn[job.doc], *least_served(job)))
        # Only documents within one batch of its service join it: a book that has had hundreds
        # of batches does not fill the batch of a request that has had none.
        ceiling = queue.served[first.doc] + queue.rows(first.generation)
        others = sorted((job for job in queue.jobs if job is not first and job.generation == first.generation
                         and queue.served[job.doc] <= ceiling), key=least_served)
        return queue.tightest_run([first, *others], first)


OLDEST_FIRST = OldestFirst()
FAIR = Fair()
