"""What a public-facing service bounds: body size, queue length, time per request.

The body limit is enforced as the bytes arrive (a declared Content-Length over it is refused
before any is read), so a client cannot make the server hold a huge upload in memory.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

from ..config import parse_size


@dataclass(frozen=True)
class ServeLimits:
    max_body: int = 10 * 10**6  # bytes per request body: a long book as text, a big PDF
    queue: int = 64  # documents waiting or running at once; more get 503
    timeout: float = 300.0  # seconds a request may wait for its summary; then 504
    allow_urls: bool = False  # fetch URLs given in requests (off: an SSRF hole otherwise)
    retry_after: int = 5  # seconds a 503 tells the client to wait

    def public(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def parse(cls, max_body: str | int, queue: int, timeout: float, allow_urls: bool) -> "ServeLimits":
        return cls(max_body=parse_size(max_body, "--max-body-size"), queue=queue, timeout=timeout, allow_urls=allow_urls)


class _TooLarge(Exception):
    pass


class BodyLimit:
    """ASGI middleware: 413 for a request body over `max_bytes`, declared or streamed."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send)
        received = 0
        started = False

        async def counted():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def watched(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send) -> None:
        body = json.dumps({"error": f"the request body is larger than {_size(self.max_bytes)} (the server's --max-body-size)"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": body})


def _size(n: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"
