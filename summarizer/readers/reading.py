"""Phase two: read one source into a Document, only when it is asked for.

The format comes from the file's suffix (.pdf, .html/.htm), a URL's content type, or, for
stdin and URLs that do not say, from the first block of bytes. Every input is taken in one
bounded pass (`body`): refused as binary on its first block, as too large as soon as it passes
--max-input-size. A small text is then held; a big one is decoded block by block each time it
is read (`Document.blocks`), so summarizing it never holds it whole.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, Iterable, Iterator

from ..characters import clean, unfit_count
from .body import HELD, Body, take, take_file
from .decoding import Encoding, TextStream, choose, settle
from .discovery import DEFAULT_GLOBS, Problem, Source, discover
from .errors import BinaryData, ReadError
from .fetch import Response, fetch
from .html import html_text
from .limits import ReadLimits
from .pdf import pdf_text

TEXT, HTML, PDF, SNIFF = "text", "html", "pdf", "sniff"  # SNIFF: PDF or HTML if the bytes say so
_SUFFIXES = {".pdf": PDF, ".html": HTML, ".htm": HTML}
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_UNTYPED = (None, "application/octet-stream")  # the server does not know what it sends


@dataclass(frozen=True)
class Document:
    """One text to summarize. `digest` is the sha256 of the raw input bytes (what a resumed
    run compares); `notes` are one-line remarks for stderr, such as a guessed encoding.
    `content` is the text of a small input, or a TextStream that decodes a big one as read."""

    source: str
    content: str | TextStream
    relpath: PurePosixPath
    digest: str
    notes: tuple[str, ...] = ()
    pages: tuple[tuple[int, int], ...] = ()  # a PDF's pages: (number from 1, where its text starts)

    def blocks(self) -> str | TextStream:
        """What the summarizer reads: the text when it is held, else its stream of blocks, so
        memory stays flat whatever the input's size."""
        return self.content

    @property
    def text(self) -> str:
        """The whole text as one str, for what needs it so (an attention map, a cluster's
        rows); bounded by --max-input-size."""
        return self.content if isinstance(self.content, str) else "".join(self.content)


def read(source: Source, stdin: BinaryIO | None = None, limits: ReadLimits = ReadLimits()) -> Document:
    """Read and extract one source; raises ReadError with a one-line reason."""
    notes: tuple[str, ...] = ()
    charset = None
    try:
        if source.kind == "url":
            response = fetch(source.name, limits)
            body, charset = response.body, response.charset
            fmt, encoding = _judge(_url_format(response), charset)(next(body.chunks(), b""))
            if response.url != source.name:
                notes = (f"redirected to {response.url}",)
        elif source.kind == "stdin":
            body, (fmt, encoding) = take(_stdin_reader(stdin), limits.max_bytes, _judge(SNIFF, None))
        else:
            suffix = _SUFFIXES.get(Path(source.name).suffix.lower(), TEXT)
            body, (fmt, encoding) = take_file(source.name, limits.max_bytes, _judge(suffix, None))
        content, more, pages = _extract(body, fmt, encoding, charset)
    except BinaryData as exc:
        raise ReadError(str(exc), skippable=not source.named) from None
    return Document(source.name, content, source.relpath, body.digest, notes + more, pages)


def document_from_bytes(data: bytes, name: str, content_type: str | None = None,
                        limits: ReadLimits = ReadLimits()) -> Document:
    """An upload: bytes already in memory (a server's request body), read as a file of that
    name or that content type would be (PDF, HTML, else text in any encoding)."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind == "application/pdf":
        fmt = PDF
    elif kind in _HTML_TYPES:
        fmt = HTML
    else:
        fmt = _SUFFIXES.get(Path(name).suffix.lower(), SNIFF if kind in _UNTYPED or not kind else TEXT)
    stream = io.BytesIO(data)
    body, (fmt, encoding) = take(stream.read, limits.max_bytes, _judge(fmt, None), announced=len(data))
    content, notes, pages = _extract(body, fmt, encoding, None)
    return Document(name, content, PurePosixPath(Path(name).name or "upload"), body.digest, notes, pages)


def _judge(fmt: str, charset: str | None) -> Callable[[bytes], tuple[str, Encoding | None]]:
    """What the first block says: the format (a sniffed PDF or HTML page), and for text the
    encoding it is decoded with; BinaryData for a binary input, before the rest is read."""

    def judge(first: bytes) -> tuple[str, Encoding | None]:
        if fmt == PDF or (fmt == SNIFF and first.startswith(b"%PDF-")):
            return PDF, None
        encoding = choose(first, charset)
        if fmt == SNIFF:
            head = first[:4096].decode(encoding.codec, errors="replace")
            return (HTML if _looks_like_html(head) else TEXT), encoding
        return fmt, encoding

    return judge


def _extract(body: Body, fmt: str, encoding: Encoding | None,
             charset: str | None) -> tuple[str | TextStream, tuple[str, ...], tuple[tuple[int, int], ...]]:
    """The text in `body` read as `fmt`, notes, and a PDF's pages. No bytes at all is an empty
    text, which the pipeline reports as empty input."""
    if not body.size:
        return "", (), ()
    if fmt == PDF:
        text, notes, pages = pdf_text(body.read())
        return clean(text), notes + _replaced(unfit_count(text)), pages
    settled = settle(body, encoding, charset)
    notes = (settled.encoding.note,) if settled.encoding.note else ()
    notes += _replaced(settled.unfit)
    stream = TextStream(body, settled.encoding, settled.blank)
    if fmt == HTML:
        text, more = html_text("".join(stream))
        return clean(text), notes + more, ()
    if body.size <= HELD:
        return "".join(stream), notes, ()
    return stream, notes, ()


def _replaced(unfit: int) -> tuple[str, ...]:
    """The note for characters `clean` replaced (lone surrogates, NUL, noncharacters)."""
    if not unfit:
        return ()
    return (f"{unfit:,} character{'s' if unfit > 1 else ''} that {'are' if unfit > 1 else 'is'} not text "
            "(NUL, a lone surrogate or a noncharacter) replaced with U+FFFD",)


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


def _stdin_reader(stream: BinaryIO | None) -> Callable[[int], bytes]:
    if stream is None:
        if sys.stdin is None:
            raise ReadError("no stdin to read")
        stream = sys.stdin.buffer
    return getattr(stream, "read1", stream.read)


def read_each(
    sources: Iterable[Source], stdin: BinaryIO | None = None, limits: ReadLimits = ReadLimits()
) -> Iterator[tuple[Source, Document | ReadError]]:
    """Read sources one at a time, as the consumer asks for them: the first document is ready
    while the rest are still unread. A source that fails yields its ReadError in its place."""
    for source in sources:
        try:
            yield source, read(source, stdin, limits)
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
    limits: ReadLimits = ReadLimits(),
) -> Collected:
    """Discover and read everything at once, for callers that need all documents up front."""
    listing = discover(paths, globs, exclude)
    out = Collected(skipped=listing.skipped, errors=listing.errors)
    for source, result in read_each(listing.sources, stdin, limits):
        if isinstance(result, Document):
            out.documents.append(result)
        elif result.skippable:
            out.skipped.append(Problem(source.name, f"{result}, skipped"))
        else:
            out.errors.append(Problem(source.name, str(result)))
    return out
