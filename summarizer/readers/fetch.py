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
from .body import Body, take
from .errors import ReadError, TooLarge
from .limits import ReadLimits

USER_AGENT = f"summarizer/{__version__}"
ACCEPT = "text/html, text/plain;q=0.9, application/pdf;q=0.8, text/*;q=0.5"


@dataclass(frozen=True)
class Response:
    url: str  # after redirects
    body: Body
    content_type: str | None  # "text/html"; None when the server sent none
    charset: str | None


def fetch(url: str, limits: ReadLimits = ReadLimits()) -> Response:
    """GET `url`; every failure is a ReadError with a one-line reason. The body is taken as any
    stream is (bounded by `limits.max_bytes`, spooled when big), within `limits.timeout`."""
    import http.client
    import urllib.error
    import urllib.request

    host = urlsplit(url).hostname or url
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": ACCEPT})
    deadline = time.monotonic() + limits.timeout
    try:
        with urllib.request.urlopen(request, timeout=limits.timeout) as response:
            _check_length(response.headers.get("Content-Length"), limits.max_bytes)
            body, _ = take(response.read1, limits.max_bytes, lambda first: None, tick=lambda: _check_deadline(deadline))
            headers, final = response.headers, response.url
    except urllib.error.HTTPError as exc:
        exc.close()
        raise ReadError(f"HTTP {exc.code} {_phrase(exc.code) or exc.reason}".rstrip()) from None
    except urllib.error.URLError as exc:
        raise _unreachable(host, exc.reason, limits.timeout) from None
    except (OSError, http.client.HTTPException) as exc:
        raise _unreachable(host, exc, limits.timeout) from None
    content_type = headers.get_content_type() if headers.get("Content-Type") else None
    return Response(url=final, body=body, content_type=content_type, charset=headers.get_content_charset())


def _check_length(header: str | None, limit: int) -> None:
    """Refuse before downloading when the server announces a body over the limit."""
    if header is not None and header.strip().isdigit() and int(header) > limit:
        raise TooLarge(limit)


def _check_deadline(deadline: float) -> None:
    """The socket timeout alone would let a server that trickles bytes run on for ever."""
    if time.monotonic() > deadline:
        raise TimeoutError


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

