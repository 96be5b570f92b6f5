"""Turn command-line paths (files, folders, "-") into documents to summarize.

Only this module touches input files and stdin. Problems are returned, not raised, so one bad
file never stops the others: `skipped` are notes (hidden or binary files met in a folder walk),
`errors` make the run exit non-zero (a named file that is missing, unreadable or binary).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Iterable

DEFAULT_GLOBS = ("*.txt", "*.md")
STDIN = "-"
_SNIFF_BYTES = 8192


@dataclass(frozen=True)
class Document:
    """One text to summarize. `relpath` is where its summary goes under --output-dir."""

    source: str
    text: str
    relpath: PurePosixPath


@dataclass(frozen=True)
class Problem:
    source: str
    message: str


@dataclass
class Collected:
    documents: list[Document] = field(default_factory=list)
    skipped: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)


class NotText(ValueError):
    """The bytes are not UTF-8 text."""


def decode_text(data: bytes) -> str:
    """UTF-8 (a BOM is dropped); NUL bytes or invalid UTF-8 mean this is not a text file."""
    if b"\x00" in data[:_SNIFF_BYTES]:
        raise NotText("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NotText(f"not UTF-8 text (bad byte at offset {exc.start})") from None


def _is_hidden(name: str) -> bool:
    return name.startswith(".") and name not in (".", "..")


def _matches(relpath: PurePosixPath, globs: Iterable[str]) -> bool:
    return any(relpath.match(pattern) for pattern in globs)


def _walk(folder: Path, globs: tuple[str, ...], out: Collected, exclude: Path | None) -> None:
    """Recursively add matching text files under `folder`, in a stable (sorted) order.

    `exclude` (the output folder) is not walked, so a rerun never summarizes summaries.
    """
    found = False
    for root, dirs, files in os.walk(folder):
        root_path = Path(root)
        for name in sorted(d for d in dirs if _is_hidden(d)):
            out.skipped.append(Problem(str(root_path / name), "hidden folder, skipped"))
        dirs[:] = sorted(
            d for d in dirs if not _is_hidden(d) and (exclude is None or (root_path / d).resolve() != exclude)
        )
        for name in sorted(files):
            path = root_path / name
            rel = PurePosixPath(path.relative_to(folder).as_posix())
            if not _matches(rel, globs):
                continue
            found = True
            if _is_hidden(name):
                out.skipped.append(Problem(str(path), "hidden file, skipped"))
                continue
            try:
                text = decode_text(path.read_bytes())
            except NotText as exc:
                out.skipped.append(Problem(str(path), f"{exc}, skipped"))
                continue
            except OSError as exc:
                out.errors.append(Problem(str(path), f"cannot read: {exc.strerror or exc}"))
                continue
            out.documents.append(Document(source=str(path), text=text, relpath=rel))
    if not found:
        out.skipped.append(Problem(str(folder), f"no files matching {', '.join(globs)}"))


def read_stdin(stream: BinaryIO | None = None) -> Document:
    stream = stream if stream is not None else sys.stdin.buffer
    data = stream.read()
    try:
        text = decode_text(data)
    except NotText:
        text = data.decode("utf-8", errors="replace")
    return Document(source=STDIN, text=text, relpath=PurePosixPath("stdin.txt"))


def collect(
    paths: Iterable[str],
    globs: Iterable[str] = DEFAULT_GLOBS,
    stdin: BinaryIO | None = None,
    exclude: Path | None = None,
) -> Collected:
    """Expand paths in the order given; "-" reads stdin (once); folder walks skip `exclude`."""
    globs = tuple(globs)
    exclude = exclude.resolve() if exclude is not None else None
    out = Collected()
    stdin_used = False
    for raw in paths:
        if raw == STDIN:
            if stdin_used:
                out.errors.append(Problem(STDIN, "stdin given more than once"))
                continue
            stdin_used = True
            out.documents.append(read_stdin(stdin))
            continue
        path = Path(raw)
        if path.is_dir():
            _walk(path, globs, out, exclude)
            continue
        try:
            text = decode_text(path.read_bytes())
        except FileNotFoundError:
            out.errors.append(Problem(raw, "no such file or folder"))
            continue
        except (NotText, OSError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            out.errors.append(Problem(raw, f"cannot summarize: {reason}"))
            continue
        out.documents.append(Document(source=raw, text=text, relpath=PurePosixPath(path.name)))
    return out
