"""Phase one: turn command-line arguments into a list of sources, by name only.

Nothing here opens a file, so a folder of 100k files is listed in the time a directory walk
takes and the first summary need not wait for the last file to be read. Problems are
returned, not raised, so one bad argument never stops the others: `skipped` are notes
(hidden files, empty folders), `errors` make the run exit non-zero.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterable, Literal
from urllib.parse import unquote, urlsplit

DEFAULT_GLOBS = ("*.txt", "*.md", "*.pdf", "*.html", "*.htm")
STDIN = "-"

Kind = Literal["file", "url", "stdin"]

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_MAX_NAME = 100  # characters per path segment of a URL's output name


@dataclass(frozen=True)
class Source:
    """Something to read. `name` is what the user sees as the source: the path as given or
    walked, the URL, or "-". `relpath` is where its summary goes under --output-dir. `named`
    is True when it was given on the command line, False when a folder walk found it."""

    name: str
    relpath: PurePosixPath
    kind: Kind
    named: bool


@dataclass(frozen=True)
class Problem:
    source: str
    message: str


@dataclass
class Listing:
    sources: list[Source] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)


def discover(
    paths: Iterable[str | Path],
    globs: Iterable[str] = DEFAULT_GLOBS,
    exclude: Path | None = None,
) -> Listing:
    """Expand arguments in the order given; "-" is stdin (once); folder walks skip `exclude`."""
    globs = tuple(globs)
    exclude = exclude.resolve() if exclude is not None else None
    listing = Listing()
    for raw in map(str, paths):
        if raw == STDIN:
            if any(source.kind == "stdin" for source in listing.sources):
                listing.errors.append(Problem(STDIN, "stdin given more than once"))
            else:
                listing.sources.append(Source(STDIN, PurePosixPath("stdin.txt"), "stdin", named=True))
        elif scheme := _SCHEME.match(raw):
            _add_url(raw, scheme.group(1).lower(), listing)
        elif os.path.isdir(raw):
            _walk(Path(raw), globs, listing, exclude)
        elif os.path.exists(raw):
            listing.sources.append(Source(raw, PurePosixPath(Path(raw).name), "file", named=True))
        else:
            listing.errors.append(Problem(raw, "no such file or folder"))
    return listing


def _add_url(url: str, scheme: str, listing: Listing) -> None:
    if scheme not in ("http", "https"):
        listing.errors.append(Problem(url, "only http(s) URLs are supported"))
        return
    try:
        relpath = url_relpath(url)
    except ValueError as exc:
        listing.errors.append(Problem(url, f"not a valid URL ({exc})"))
        return
    listing.sources.append(Source(url, relpath, "url", named=True))


def url_relpath(url: str) -> PurePosixPath:
    """A safe relative file name for a URL's summary: host, then path, ending in .txt.

    https://example.com/news/article?id=3 -> example.com/news/article_id_3.txt. Only ASCII
    letters, digits, ".", "-" and "_" survive, no segment starts with a dot (no hidden files,
    no "..") and each is at most 100 characters, so the name is valid on any file system.
    """
    parts = urlsplit(url)
    if not parts.hostname:
        raise ValueError("no host")
    host = parts.hostname + (f"_{parts.port}" if parts.port else "")
    segments = [unquote(segment) for segment in parts.path.split("/") if segment not in ("", ".", "..")]
    if not segments:
        segments = ["index"]
    if parts.query:
        segments[-1] += f"_{unquote(parts.query)}"
    names = [_safe(segment) for segment in (host, *segments)]
    if not names[-1].endswith(".txt"):
        names[-1] += ".txt"
    return PurePosixPath(*names)


def _safe(segment: str) -> str:
    return _UNSAFE.sub("_", segment).lstrip(".")[:_MAX_NAME] or "_"


def _is_hidden(name: str) -> bool:
    return name.startswith(".") and name not in (".", "..")


def _matches(relpath: PurePosixPath, globs: Iterable[str]) -> bool:
    return any(relpath.match(pattern) for pattern in globs)


def _walk(folder: Path, globs: tuple[str, ...], listing: Listing, exclude: Path | None) -> None:
    """Add matching files under `folder` recursively, in a stable (sorted) order.

    `exclude` (the output folder) is not walked, so a rerun never summarizes summaries.
    """
    found = False
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        for name in sorted(d for d in dirs if _is_hidden(d)):
            listing.skipped.append(Problem(str(root_path / name), "hidden folder, skipped"))
        dirs[:] = sorted(
            d for d in dirs if not _is_hidden(d) and (exclude is None or (root_path / d).resolve() != exclude)
        )
        for name in sorted(files):
            path = root_path / name
            relpath = PurePosixPath(path.relative_to(folder).as_posix())
            if not _matches(relpath, globs):
                continue
            found = True
            if _is_hidden(name):
                listing.skipped.append(Problem(str(path), "hidden file, skipped"))
                continue
            listing.sources.append(Source(str(path), relpath, "file", named=False))
    if not found:
        listing.skipped.append(Problem(str(folder), f"no files matching {', '.join(globs)}"))
