"""Fetching one http(s) URL with the standard library, bounded in time and size.

urllib is enough here (one GET, redirects followed, proxies from the environment), so the
project needs no HTTP client dependency.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

from .. import __version__
from .errors import ReadError

USER_AGENT = f"summarizer/{__version__}"
ACCEPT = "text/html, text/plain;q=0.9, application/pdf;q=0.8, text/*;q=0.5"
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class FetchSettings:
    """`timeout` bounds the whole download (seconds); `max_bytes` the size of the body."""

    timeout: float = 20.0
    max_bytes: int = 20 * 2**20


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    data: bytes
    content_type: str | None  # "text/html"; None when the server sent none
    charset: str | None


def fetch(url: str, settings: FetchSettings = FetchSettings()) -> Response:
    """GET `url`; every failure is a ReadError with a one-line reason."""
    import http.client
    import urllib.error
    import urllib.request

    host = urlsplit(url).hostname or url
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": ACCEPT})
    deadline = time.monotonic() + settings.timeout
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout) as response:
            _check_length(response.headers.get("Content-Length"), settings.max_bytes)
            data = _read_capped(response, settings, deadline)
            headers, final = response.headers, response.url
    except urllib.error.HTTPError as exc:
        exc.close()
        raise ReadError(f"HTTP {exc.code} {_phrase(exc.code) or exc.reason}".rstrip()) from None
    except urllib.error.URLError as exc:
        raise _unreachable(host, exc.reason, settings.timeout) from None
    except (OSError, http.client.HTTPException) as exc:
        raise _unreachable(host, exc, settings.timeout) from None
    content_type = headers.get_content_type() if headers.get("Content-Type") else None
    return Response(url=final, data=data, content_type=content_type, charset=headers.get_content_charset())


def _check_length(header: str | None, limit: int) -> None:
    """Refuse before downloading when the server announces a body over the limit."""
    if header is not None and header.strip().isdigit() and int(header) > limit:
        raise ReadError(f"response larger than {_size(limit)}")


def _read_capped(response, settings: FetchSettings, deadline: float) -> bytes:
    """The body, refused as soon as it passes the size limit or the overall deadline.

    The socket timeout alone would let a server that trickles bytes run on for ever.
    """
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read1(_CHUNK):
        size += len(chunk)
        if size > settings.max_bytes:
            raise ReadError(f"response larger than {_size(settings.max_bytes)}")
        if time.monotonic() > deadline:
            raise TimeoutError
        chunks.append(chunk)
    return b"".join(chunks)


def _unreachable(host: str, reason: object, timeout: float) -> ReadError:
    if isinstance(reason, TimeoutError):
        return ReadError(f"timed out after {timeout:g} s")
    if isinstance(reason, OSError) and reason.strerror:
        return ReadError(f"cannot reach {host}: {reason.strerror}")
    return ReadError(f"cannot reach {host}: {' '.join(str(reason).split()) or type(reason).__name__}")


def _phrase(code: int) -> str:
    """The standard reason phrase, which reads the same whatever the server wrote."""
    try:
        return HTTPStatus(code).phrase
    except ValueError:
        return ""


def _size(n: int) -> str:
    if n >= 2**20 and n % 2**20 == 0:
        return f"{n // 2**20} MB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n // 1024} KB"
    return f"{n} bytes"
