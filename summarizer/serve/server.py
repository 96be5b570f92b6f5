"""uvicorn, with what a shared server needs added: a grace period when told to stop, idle
connections closed from their start, and a cap on open connections.

`GracefulServer`: on SIGTERM or Ctrl-C uvicorn stops accepting and waits for the requests in
flight; here they get `grace` seconds, then every request still waiting is answered 503 (the
batcher gives them up) and the server exits, where uvicorn alone would wait for a book.

uvicorn's `timeout_keep_alive` closes a connection that is idle after a response; one that
connects and sends nothing (or trickles a request's headers forever) is held until the client
gives up. Here the same timer also starts when a connection opens and stops only when a whole
request has arrived. Past `max_connections` open connections a request is answered 503 in the
API's `{"error": ...}` shape (uvicorn's own `limit_concurrency` answers in plain text), and the
connection closed. The protocol is uvicorn's pure-Python h11 one, the same on every machine.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from .limits import send_error

if TYPE_CHECKING:
    from .batcher import Batcher


class GracefulServer(uvicorn.Server):
    def __init__(self, config: uvicorn.Config, batcher: "Batcher", grace: float):
        super().__init__(config)
        self.batcher, self.grace = batcher, grace

    async def shutdown(self, sockets=None) -> None:
        self.batcher.close("the server is shutting down")
        reason = f"the server is shutting down (its {self.grace:g} s grace period ended before this summary was made)"
        deadline = asyncio.get_running_loop().call_later(self.grace, self.batcher.abort, reason)
        try:
            await super().shutdown(sockets)
        finally:
            deadline.cancel()


def guarded_protocol(max_connections: int, retry_after: int) -> type[H11Protocol]:
    message = (f"too many open connections (this server's --max-connections is {max_connections}); "
               "close idle ones or retry shortly")

    async def refuse(scope, receive, send) -> None:
        await send_error(send, 503, message, [(b"retry-after", str(retry_after).encode()), (b"connection", b"close")])

    class Guarded(H11Protocol):
        def connection_made(self, transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            if len(self.connections) > max_connections:
                self.app = refuse
            self.timeout_keep_alive_task = self.loop.call_later(self.timeout_keep_alive, self.timeout_keep_alive_handler)

    return Guarded
