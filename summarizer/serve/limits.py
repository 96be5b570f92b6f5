"""What a public-facing service bounds, checked before a request is queued.

Body size, queue length, time per request, and what one request may ask of the model: how
many input tokens (`max_input_tokens`, counted as the pipeline tokenizes; a text far too long
to fit is refused from its length alone), how many tokens a summary or chunk summary may have
(`max_new_tokens`) and how many beams (`max_beams`): their product is what one batch can cost,
and a batch in flight is the one thing no other request can get ahead of. The body limit is
enforced as the bytes arrive (a declared Content-Length over it is refused before any is read),
so a client cannot make the server hold a huge upload in memory.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..config import parse_size
from ..errors import SettingsError

if TYPE_CHECKING:
    from ..config import RunSettings

# Defaults for a 2-core machine and t5-small's shape (README, "Running it for others"):
MAX_INPUT_TOKENS = 20_000  # 40 windows of 512 tokens: alone, within the 300 s timeout at t5-small's own settings
MAX_NEW_TOKENS = 256  # a full batch at 256 tokens is the longest any other request waits behind
MAX_BEAMS = 4  # t5-small's and BART-CNN's own; each beam is a row of the batch
CHARACTERS_PER_TOKEN = 20  # no text of N tokens has more characters than this times N, but for runs of spaces


class LimitError(SettingsError):
    """A request over one of the server's limits (HTTP 422, naming the limit)."""


@dataclass(frozen=True)
class ServeLimits:
    max_body: int = 10 * 10**6  # bytes per request body: a long book as text, a big PDF
    queue: int = 64  # documents waiting or running at once; more get 503
    timeout: float = 300.0  # seconds a request may wait for its summary; then 504, and its work is dropped
    allow_urls: bool = False  # fetch URLs given in requests (off: an SSRF hole otherwise)
    retry_after: int = 5  # seconds a 503 tells the client to wait
    max_input_tokens: int = MAX_INPUT_TOKENS
    max_new_tokens: int | None = None  # None: MAX_NEW_TOKENS, or the server's own lengths when longer
    max_beams: int | None = None  # None: MAX_BEAMS, or the server's own num_beams when more
    grace: float = 30.0  # seconds requests in flight get after SIGTERM; then 503 and exit
    keep_alive: float = 5.0  # seconds an idle connection (or one that never sends a request) stays open
    max_connections: int = 128  # open connections; past them a request is answered 503
    api_key: str | None = field(default=None, repr=False)  # required as a Bearer token on /v1/* when set

    def public(self) -> dict[str, Any]:
        """What /v1/model shows (the key only as whether one is required)."""
        shown = asdict(self)
        shown["api_key"] = self.api_key is not None
        return shown

    @classmethod
    def parse(cls, max_body: str | int, queue: int, timeout: float, allow_urls: bool, *, max_input_tokens: int = MAX_INPUT_TOKENS,
              max_new_tokens: int | None = None, max_beams: int | None = None, grace: float = 30.0,
              keep_alive: float = 5.0, max_connections: int = 128, api_key: str | None = None) -> "ServeLimits":
        if api_key is not None and (not api_key.strip() or any(c.isspace() for c in api_key)):
            raise SettingsError("--api-key (or SUMMARIZER_API_KEY) must be a token without spaces; it is sent as "
                                "'Authorization: Bearer KEY'")
        return cls(max_body=parse_size(max_body, "--max-body-size"), queue=queue, timeout=timeout, allow_urls=allow_urls,
                   max_input_tokens=max_input_tokens, max_new_tokens=max_new_tokens, max_beams=max_beams, grace=grace,
                   keep_alive=keep_alive, max_connections=max_connections, api_key=api_key)

    def fitted(self, settings: "RunSettings") -> "ServeLimits":
        """The limits with their defaults filled in for the server's own settings: a default
        never refuses what the server does unasked (pegasus-xsum's 8 beams, LED's 512-token
        summaries); a limit the operator gave must admit the server's own settings."""
        g = settings.generation
        lengths = max(g.max_length, settings.chunk_generation.max_length)
        fitted = replace(self, max_new_tokens=self.max_new_tokens or max(MAX_NEW_TOKENS, lengths),
                         max_beams=self.max_beams or max(MAX_BEAMS, g.num_beams))
        fitted.check(settings, own=True)
        return fitted

    def check(self, settings: "RunSettings", own: bool = False) -> None:
        """Refuse settings that would make one request cost more than the limits allow."""
        g, chunk = settings.generation, settings.chunk_generation
        for name, value in (("max_length", g.max_length), ("min_length", g.min_length),
                            ("chunk_max_length", chunk.max_length), ("chunk_min_length", chunk.min_length)):
            if value > self.max_new_tokens:
                raise LimitError(_over(f"{name} {value:,}", f"{self.max_new_tokens:,} tokens a summary", "--max-new-tokens", own))
        if g.num_beams > self.max_beams:
            raise LimitError(_over(f"num_beams {g.num_beams:,}", f"{self.max_beams:,} beams", "--max-beams", own))

    def check_length(self, characters: int) -> None:
        """A text far too long for --max-input-tokens, refused before it is tokenized."""
        most = self.max_input_tokens * CHARACTERS_PER_TOKEN
        if characters > most:
            raise LimitError(f"text: {characters:,} characters is far more than this server reads: at most "
                             f"{self.max_input_tokens:,} tokens (--max-input-tokens), and texts over {most:,} "
                             "characters are refused before they are tokenized")


def _over(what: str, limit: str, flag: str, own: bool) -> str:
    if own:
        return f"the server's own {what} is over {flag} ({limit}); raise {flag} or lower the setting"
    return f"{what} is over this server's limit of {limit} ({flag})"


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
        message = f"the request body is larger than {_size(self.max_bytes)} (the server's --max-body-size)"
        await send_error(send, 413, message, [(b"connection", b"close")])


async def send_error(send, status: int, message: str, headers: list[tuple[bytes, bytes]] = ()) -> None:
    """A whole `{"error": ...}` response from ASGI middleware (outside FastAPI's handlers)."""
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def _size(n: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} bytes"
