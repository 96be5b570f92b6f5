"""One pipeline run behind many clients: requests from every client feed one shared queue.

A thread runs the summarizer's pipeline over an endless feed. The feed hands over whatever
requests have arrived (each an `Item`, with its own settings when the request set any) and says
`IDLE` when none has, so the pipeline generates what it holds instead of waiting; requests
arriving while a batch runs join the next one. The pipeline batches jobs with equal settings,
so 16 clients at once cost about one batch, not 16 generations in a row.

Work that needs the model outside the pipeline (the attention view's forward pass) is handed
to the same thread with `call`, between batches, so nothing else touches the model meanwhile.
"""

from __future__ import annotations

import queue
import threading
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..errors import SummarizerError
from ..pipeline import IDLE, Item

if TYPE_CHECKING:
    from ..api import Summarizer
    from ..report import Summary

GATHER_SECONDS = 0.005  # after one request, wait this long for the next before generating
IDLE_SECONDS = 0.05  # how often an idle feed wakes to look for work (and for the stop flag)


class QueueFull(SummarizerError):
    """The shared queue holds as many documents as it may: come back later (HTTP 503)."""


class Batcher:
    """Submit texts from any thread; a Future per text resolves to its Summary."""

    def __init__(self, summarizer: "Summarizer", capacity: int = 64):
        self.summarizer = summarizer
        self.capacity = capacity
        self._arrivals: queue.Queue[tuple[Item, Future] | tuple[Callable[[], Any], Future]] = queue.Queue()
        self._pending: dict[int, Future] = {}  # the pipeline's positions -> the waiting requests
        self._admitted = 0  # documents in the system: queued, or in the pipeline
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="summarizer-batcher", daemon=True)
        self._thread.start()

    @property
    def load(self) -> int:
        """Documents submitted and not yet finished."""
        return self._admitted

    def submit(self, item: Item) -> "Future[Summary]":
        """Queue one document; QueueFull when `capacity` are already waiting or running."""
        future: Future = Future()
        with self._lock:
            if self._stopping.is_set():
                raise QueueFull("the server is shutting down")
            if self._admitted >= self.capacity:
                raise QueueFull(f"the queue is full ({self.capacity} documents waiting or running); retry shortly")
            self._admitted += 1
        self._arrivals.put((item, future))
        return future

    def call(self, work: Callable[[], Any]) -> Future:
        """Run `work()` on the model's thread between batches; its result (or error) in a Future."""
        future: Future = Future()
        self._arrivals.put((work, future))
        return future

    def stop(self, timeout: float | None = None) -> None:
        """Finish what was submitted, then end the thread (new submissions are refused)."""
        self._stopping.set()
        self._thread.join(timeout)

    # -- the model's thread ------------------------------------------------------------------------

    def _feed(self) -> Iterator[Any]:
        """Requests as they arrive; IDLE when none has; the end once stopping with none left."""
        position = 0
        while True:
            try:
                arrival = self._arrivals.get(timeout=GATHER_SECONDS if self._pending else IDLE_SECONDS)
            except queue.Empty:
                if self._stopping.is_set() and not self._pending:
                    return
                yield IDLE
                continue
            subject, future = arrival
            if callable(subject):
                _settle(future, subject)
                continue
            if not future.set_running_or_notify_cancel():  # its client gave up before it started
                self._finished()
                continue
            self._pending[position] = future
            position += 1
            yield subject

    def _serve(self) -> None:
        try:
            for position, record in self.summarizer.run(self._feed()):
                future = self._pending.pop(position)
                self._finished()
                future.set_result(record)
        except BaseException as exc:  # noqa: BLE001 -- the pipeline died: every waiting request hears why
            for future in self._pending.values():
                future.set_exception(exc)
            self._pending.clear()
            raise

    def _finished(self) -> None:
        with self._lock:
            self._admitted -= 1


def _settle(future: Future, work: Callable[[], Any]) -> None:
    try:
        future.set_result(work())
    except Exception as exc:  # noqa: BLE001 -- handed to whoever asked
        future.set_exception(exc)
