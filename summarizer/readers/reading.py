"""Phase two: read one source into a Document, only when it is asked for.

The format comes from the file's suffix (.pdf, .html/.htm), a URL's content type, or, for
stdin and URLs that do not say, from the bytes themselves.
"""

from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterable, Iterator

from .decoding import decode
from .discovery import DEFAULT_GLOBS, Problem, Source, discover
from .errors import BinaryData, ReadError
from .fetch import FetchSettings, Response, fetch
from .html import html_text
from .pdf import pdf_text

TEXT, HTML, PDF, SNIFF = "text", "html", "pdf", "sniff"  # SNIFF: PDF or HTML if the bytes say so
_SUFFIXES = {".pdf": PDF, ".html": HTML, ".htm": HTML}
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_UNTYPED = (None, "application/octet-stream")  # the server does not know what it sends


@dataclass(frozen=True)
class Document:
    """One text to summarize. `digest` is the sha256 of the raw input bytes (what a resumed
    run compares); `notes` are one-line remarks for stderr, such as a guessed encoding."""

    source: str
    text: str
    relpath: PurePosixPath
    digest: str
    notes: tuple[str, ...] = ()


def read(source: Source, stdin: BinaryIO | None = None, fetch_settings: FetchSettings = FetchSettings()) -> Document:
    """Read and extract one source; raises ReadError with a one-line reason."""
    notes: tuple[str, ...] = ()
    charset = None
    if source.kind == "url":
        response = fetch(source.name, fetch_settings)
        data, fmt, charset = response.data, _url_format(response), response.charset
        if response.url != source.name:
            notes = (f"redirected to {response.url}",)
    elif source.kind == "stdin":
        data, fmt = _read_stdin(stdin), SNIFF
    else:
        data, fmt = _read_file(source.name), _SUFFIXES.get(Path(source.name).suffix.lower(), TEXT)
    try:
        text, more = _extract(data, fmt, charset)
    except BinaryData as exc:
        raise ReadError(str(exc), skippable=not source.named) from None
    return Document(source.name, text, source.relpath, hashlib.sha256(data).hexdigest(), notes + more)


def _extract(data: bytes, fmt: str, charset: str | None = None) -> tuple[str, tuple[str, ...]]:
    """The text in `data` read as `fmt`, and notes. No bytes at all is an empty text, which the
    pipeline reports as empty input."""
    if not data:
        return "", ()
    if fmt == PDF or (fmt == SNIFF and data.startswith(b"%PDF-")):
        return pdf_text(data)
    text, note = decode(data, charset)
    notes = (note,) if note else ()
    if fmt == HTML or (fmt == SNIFF and _looks_like_html(text)):
        text, more = html_text(text)
        notes += more
    return text, notes


def _looks_like_html(text: str) -> bool:
    return text[:1024].lstrip().lower().startswith(("<!doctype html", "<html"))


def _url_format(response: Response) -> str:
    """How to read a response, from its content type; anything but text, HTML and PDF is refused."""
    kind = response.content_type
    if kind in _UNTYPED:
        return SNIFF
    if kind == "application/pdf":
        return PDF
    if kind in _HTML_TYPES:
        return HTML
    if kind.startswith("text/"):
        return SNIFF
    raise ReadError(f"not text (content type {kind})")


def _read_file(name: str) -> bytes:
    try:
        return Path(name).read_bytes()
    except FileNotFoundError:
        raise ReadError("no such file or folder") from None
    except OSError as exc:
        raise ReadError(f"cannot read: {exc.strerror or exc}") from None


def _read_stdin(stream: BinaryIO | None) -> bytes:
    if stream is None:
        if sys.stdin is None:
            raise ReadError("no stdin to read")
        stream = sys.stdin.buffer
    return stream.read()


def read_each(
    sources: Iterable[Source], stdin: BinaryIO | None = None, fetch_settings: FetchSettings = FetchSettings()
) -> Iterator[tuple[Source, Document | ReadError]]:
    """Read sources one at a time, as the consumer asks for them: the first document is ready
    while the rest are still unread. A source that fails yields its ReadError in its place."""
    for source in sources:
        try:
            yield source, read(source, stdin, fetch_settings)
        except ReadError as exc:
            yield source, exc


@dataclass
class Collected:
    documents: list[Document] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)


def collect(
    paths: Iterable[str | Path],
    globs: Iterable[str] = DEFAULT_GLOBS,
    stdin: BinaryIO | None = None,
    exclude: Path | None = None,
    fetch_settings: FetchSettings = FetchSettings(),
) -> Collected:
    """Discover and read everything at once, for callers that need all documents up front."""
    listing = discover(paths, globs, exclude)
    out = Collected(skipped=listing.skipped, errors=listing.errors)
    for source, result in read_each(listing.sources, stdin, fetch_settings):
        if isinstance(result, Document):
            out.documents.append(result)
        elif result.skippable:
            out.skipped.append(Problem(source.name, f"{result}, skipped"))
        else:
            out.errors.append(Problem(source.name, str(result)))
    return out
