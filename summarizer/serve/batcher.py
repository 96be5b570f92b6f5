"""One pipeline run behind many clients: requests from every client feed one shared queue.

A thread runs the summarizer's pipeline over an endless feed, with the pipeline's fair policy
(requests take turns; see `scheduling`). The feed hands over whatever requests have arrived
(each an `Item`, with its own settings when the request set any) and says `IDLE` when none
has, so the pipeline generates what it holds instead of waiting; requests arriving while a
batch runs join the next one. The pipeline batches jobs with equal settings, so 16 clients at
once cost about one batch, not 16 generations in a row.

A request that is given up (its client went away, or its timeout passed) is cancelled: the
pipeline drops its queued work between batches, and the load falls. If the thread ever dies,
every waiting request hears why, new ones are refused, and `on_death` is told (the server then
reports itself down and exits non-zero, so a supervisor restarts it).

Work that needs the model outside the pipeline (the attention view's forward pass) is handed
to the same thread with `call`, between batches, so nothing else touches the model meanwhile.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future, InvalidStateError
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Callable, Iterator

from ..errors import SummarizerError, first_line
from ..pipeline import IDLE, Item

if TYPE_CHECKING:
    from ..api import Summarizer

GATHER_SECONDS = 0.005  # after one request, wait this long for the next before generating
IDLE_SECONDS = 0.05  # how often an idle feed wakes to look for work (and for the stop flag)
log = logging.getLogger("summarizer.serve")


class Unavailable(SummarizerError):
    """The server cannot take or finish this request now (HTTP 503): its queue is full, it is
    shutting down, or its model's thread stopped."""


class QueueFull(Unavailable):
    """The shared queue holds as many documents as it may: come back later."""


class Ticket:
    """One submitted document: `future` resolves to its Summary; `cancel` gives it up."""

    def __init__(self) -> None:
        self.future: Future = Future()
        self._cancelled = threading.Event()

    def cancelled(self) -> bool:
        return self._cancelled.is_set()


class Batcher:
    """Submit texts from any thread; a Ticket per text, whose Future resolves to its Summary."""

    def __init__(self, summarizer: "Summarizer", capacity: int = 64,
                 on_batch: Callable[[int, float], None] | None = None, on_death: Callable[[], None] | None = None):
        self.summarizer = summarizer
        self.capacity = capacity
        self.on_batch = on_batch
        self.on_death = on_death
        self.failure: str | None = None  # why the model's thread stopped, if it did
        self._arrivals: queue.Queue[tuple[Any, Any]] = queue.Queue()
        self._pending: dict[int, Ticket] = {}  # the pipeline's positions -> the waiting requests
        self._admitted = 0  # documents in the system: queued, or in the pipeline
        self._lock = threading.Lock()
        self._closed: str | None = None  # why new submissions are refused
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="summarizer-batcher", daemon=True)
        self._thread.start()

    @property
    def load(self) -> int:
        """Documents submitted and not yet finished (or dropped)."""
        return self._admitted

    @property
    def closed(self) -> str | None:
        """Why new submissions are refused (the server is stopping), or None."""
        return self._closed

    @property
    def alive(self) -> bool:
        """Whether the model's thread can still summarize."""
        return self.failure is None and self._thread.is_alive()

    def submit(self, item: Item) -> Ticket:
        """Queue one document; Unavailable (QueueFull) when it cannot be taken now."""
        ticket = Ticket()
        with self._lock:
            if self.failure is not None:
                raise Unavailable(f"the model's thread stopped ({self.failure}); the server is going down")
            if self._closed is not None:
                raise Unavailable(self._closed)
            if self._admitted >= self.capacity:
                raise QueueFull(f"the queue is full ({self.capacity} documents waiting or running); retry shortly")
            self._admitted += 1
        self._arrivals.put((replace(item, cancelled=ticket.cancelled), ticket))
        return ticket

    def cancel(self, ticket: Ticket) -> None:
        """Give a request up: its queued work is dropped before the next batch (the batch in
        flight, if it holds some of it, finishes)."""
        ticket._cancelled.set()

    def call(self, work: Callable[[], Any]) -> Future:
        """Run `work()` on the model's thread between batches; its result (or error) in a Future."""
        future: Future = Future()
        if self._stopping.is_set():  # nobody would run it
            future.set_exception(Unavailable(self._closed or "the server is shutting down"))
            return future
        self._arrivals.put((work, future))
        return future

    def close(self, reason: str) -> None:
        """Refuse new submissions from now on; what was submitted goes on."""
        with self._lock:
            self._closed = self._closed or reason

    def abort(self, reason: str) -> None:
        """Stop now: refuse new submissions, give up every request with `reason` (Unavailable)."""
        self.close(reason)
        for ticket in list(self._pending.values()):
            self.cancel(ticket)
            _resolve(ticket.future, error=Unavailable(reason))
        while True:  # the ones not fed to the pipeline yet
            try:
                subject, ticket = self._arrivals.get_nowait()
            except queue.Empty:
                break
            if callable(subject):
                _resolve(ticket, error=Unavailable(reason))
            else:
                self._given_up(ticket, reason)
        self._stopping.set()

    def stop(self, timeout: float | None = None) -> None:
        """Finish what was submitted, then end the thread (new submissions are refused); wait
        at most `timeout` seconds for it (a generate() call cannot be interrupted)."""
        self.close("the server is shutting down")
        self._stopping.set()
        self._thread.join(timeout)

    # -- the model's thread ------------------------------------------------------------------------

    def _feed(self) -> Iterator[Any]:
        """Requests as they arrive; IDLE when none has; the end once stopping with none left."""
        position = 0
        while True:
            try:
                subject, ticket = self._arrivals.get(timeout=GATHER_SECONDS if self._pending else IDLE_SECONDS)
            except queue.Empty:
                if self._stopping.is_set() and not self._pending:
                    return
                yield IDLE
                continue
            if callable(subject):
                _settle(ticket, subject)
                continue
            if ticket.cancelled():  # its client gave up before it started
                self._given_up(ticket, "cancelled")
                continue
            self._pending[position] = ticket
            position += 1
            yield subject

    def _serve(self) -> None:
        try:
            for position, record in self.summarizer.run(self._feed(), fair=True, on_batch=self.on_batch):
                ticket = self._pending.pop(position)
                self._finished()
                _resolve(ticket.future, record)
        except BaseException as exc:  # noqa: BLE001 -- the pipeline died: say why, everywhere
            self.failure = f"{type(exc).__name__}: {first_line(exc)}"
            log.error("the model's thread stopped; every request from now on is refused", exc_info=exc)
            self.abort(f"the model's thread stopped ({self.failure})")
            if self.on_death is not None:
                self.on_death()

    def _given_up(self, ticket: Ticket, reason: str) -> None:
        self._finished()
        _resolve(ticket.future, error=Unavailable(reason))

    def _finished(self) -> None:
        with self._lock:
            self._admitted -= 1


def _resolve(future: Future, result: Any = None, error: BaseException | None = None) -> None:
    """Settle a Future unless it already is (its waiter gave up and cancelled it)."""
    try:
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)
    except InvalidStateError:
        pass


def _settle(future: Future, work: Callable[[], Any]) -> None:
    try:
        result = work()
    except Exception as exc:  # noqa: BLE001 -- handed to whoever asked
        _resolve(future, error=exc)
        return
    _resolve(future, result)
