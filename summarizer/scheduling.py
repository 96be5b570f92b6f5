"""Which queued generations run together: started documents first, batches full, padding low.

The pipeline queues one job per model input (a chunk, a reduction chunk, a final pass) and asks
for the next batch. Jobs go oldest document first: a document's later passes (reductions, final
pass) go ahead of newer documents' chunks, so documents finish in a steady stream, in about the
order they arrived, instead of all together at the end. The pipeline admits new documents only
while fewer than `target` jobs wait, which keeps batches full without taking in a whole folder.

Only jobs with equal generation settings can share a `generate()` call. Among those, the batch
is the run of `batch_size` neighbours in length, from the oldest `SORT_WINDOW` batches' worth
of candidates, that includes the oldest job and pads least.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

SORT_WINDOW = 2  # batches' worth of the oldest candidates that length sorting may reorder
QUEUED_BATCHES = 2  # admit new documents while fewer than this many batches' worth of jobs wait


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


class JobQueue:
    """Waiting jobs and the rule that batches them."""

    def __init__(self, rows: Callable[[Any], int], usual: Any, batch_tokens: int | None = None):
        """`rows(generation)`: jobs per batch for those settings (fewer with more beams);
        `usual`: the settings most jobs have, which size the queue."""
        self.rows = rows
        self.batch_tokens = batch_tokens
        self.target = rows(usual) * QUEUED_BATCHES  # waiting jobs that keep batches full and sortable
        self.jobs: list[Job] = []

    def __len__(self) -> int:
        return len(self.jobs)

    def add(self, job: Job) -> None:
        self.jobs.append(job)

    def drop(self, doc: int) -> int:
        """Forget a failed document's jobs; returns how many there were."""
        kept = [job for job in self.jobs if job.doc != doc]
        dropped = len(self.jobs) - len(kept)
        self.jobs = kept
        return dropped

    def next_batch(self) -> list[Job]:
        """Take the next batch out of the queue (the queue must not be empty)."""
        oldest = min(self.jobs, key=lambda job: job.age)
        rows = self.rows(oldest.generation)
        group = sorted((job for job in self.jobs if job.generation == oldest.generation), key=lambda job: job.age)
        window = sorted(group[: rows * SORT_WINDOW], key=lambda job: len(job.ids))
        batch = self._tightest_run(window, window.index(oldest), rows)
        taken = {id(job) for job in batch}
        self.jobs = [job for job in self.jobs if id(job) not in taken]
        return batch

    def _tightest_run(self, by_length: list[Job], anchor: int, rows: int) -> list[Job]:
        """The run of up to `rows` neighbours that contains `by_length[anchor]` and has the
        smallest spread of lengths, cut where --batch-tokens (rows x widest x beams) says."""
        size = min(rows, len(by_length))
        starts = range(max(0, anchor - size + 1), min(anchor, len(by_length) - size) + 1)
        start = min(starts, key=lambda s: len(by_length[s + size - 1].ids) - len(by_length[s].ids))
        run = by_length[start : start + size]
        if self.batch_tokens is None:
            return run
        beams = run[0].generation.num_beams
        # Keep the anchor: grow outwards from it while the padded batch stays under the cap.
        first = last = anchor - start
        while True:
            grown = False
            for lo, hi in ((first - 1, last), (first, last + 1)):  # shorter neighbours first
                if 0 <= lo and hi < len(run) and (hi - lo + 1) * len(run[hi].ids) * beams <= self.batch_tokens:
                    first, last, grown = lo, hi, True
                    break
            if not grown:
                return run[first : last + 1]
