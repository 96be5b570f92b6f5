"""`GET /metrics`: what an operator alerts on, in Prometheus' text format (prometheus-client).

Requests by route and status, and their latency; the queue's depth; per generate() call, how
many inputs it held and how long it took; the input and output tokens of every summary made.
A registry of its own per app, so two servers in one process (the tests) never share counts.
The label `route` is the route's template (`/v1/attention/{view}`), never the raw path, so a
client cannot grow the label set: anything unrouted is `unmatched`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

if TYPE_CHECKING:
    from ..report import Summary

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
ROWS_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128)


class Metrics:
    def __init__(self, load: Callable[[], int], capacity: int):
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter("summarizer_requests", "HTTP requests answered, by route, method and status.",
                                ["route", "method", "status"], registry=r)
        self.latency = Histogram("summarizer_request_seconds", "Time from a request's arrival to its answer.", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=r)
        Gauge("summarizer_queue_documents", "Documents waiting or being summarized.", registry=r).set_function(load)
        Gauge("summarizer_queue_capacity", "Documents the queue holds at most (--queue-size).", registry=r).set(capacity)
        self.batch_rows = Histogram("summarizer_batch_rows", "Inputs per generate() call.", buckets=ROWS_BUCKETS, registry=r)
        self.batch_seconds = Histogram("summarizer_generation_seconds", "Seconds per generate() call.",
                                       buckets=LATENCY_BUCKETS, registry=r)
        self.input_tokens = Counter("summarizer_input_tokens", "Input tokens of the summaries made.", registry=r)
        self.output_tokens = Counter("summarizer_output_tokens", "Tokens of the summaries made.", registry=r)
        self.summaries = Counter("summarizer_documents", "Documents finished, by outcome.", ["outcome"], registry=r)

    def batch(self, rows: int, seconds: float) -> None:
        """One generate() call (from the model's thread; prometheus-client is thread-safe)."""
        self.batch_rows.observe(rows)
        self.batch_seconds.observe(seconds)

    def summary(self, record: "Summary") -> None:
        self.summaries.labels("failed" if record.error is not None else "summarized").inc()
        self.input_tokens.inc(record.input_tokens)
        self.output_tokens.inc(record.summary_tokens)

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class Measured:
    """ASGI middleware: every response counted by route and status, and timed."""

    def __init__(self, app, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500  # what the client gets when the app raised before answering

        async def watched(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watched)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            method = scope["method"] if scope["method"] in METHODS else "other"
            self.metrics.requests.labels(route, method, str(status)).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)
