"""What the tool wrote into an --output-dir, so `--resume` can skip finished work and no file
the tool did not write is ever replaced.

The manifest is an append-only JSON-lines file in the output folder. Each summary written adds
one line, appended with a single O_APPEND write and fsync *before* the summary file is renamed
into place: lines of concurrent runs never interleave, a run killed at any moment leaves at most
one torn last line (ignored when read, and ended before the next line is appended), and a
summary file is never present without its line. A line names the output, the input's content
hash, the settings fingerprint and the output's own hash. A file is the tool's when its current
hash is one the manifest lists for it; it is "done" when that line's settings (and the input's
hash, which the caller compares) still match.

Beside it, `.summarize-partial/` keeps the finished chunk summaries of documents not yet
written, one JSON-lines file per output and settings, appended the same crash-safe way, so a
resumed run redoes only the chunks whose batches were in flight when it was killed. A file
goes when its document's summary is written.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

MANIFEST_NAME = ".summarize-manifest.jsonl"
PARTIAL_DIR = ".summarize-partial"


@dataclass(frozen=True)
class Entry:
    output: str
    input: str
    settings: str
    digest: str


def digest_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint(settings: Mapping[str, Any]) -> str:
    """A short stable hash of everything that changes what a summary says."""
    return digest_bytes(json.dumps(settings, sort_keys=True, default=str).encode("utf-8"))[:16]


class Manifest:
    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / MANIFEST_NAME
        # output -> output digest -> the latest line that wrote those bytes. Every version is
        # kept: runs writing the same output at once may rename in another order than they
        # appended, so the file on disk need not be the one the last line names.
        self.entries: dict[str, dict[str, Entry]] = {}
        self._read = 0  # bytes of the file read so far, up to the end of its last whole line
        self.load()

    def load(self) -> None:
        """Read the lines appended since the last load, by this run or another one."""
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self._read)
                data = handle.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1  # a torn last line is read once a newline ends it
        self._read += end
        for line in data[:end].splitlines():
            try:
                entry = Entry(**json.loads(line))
            except (ValueError, TypeError):
                continue  # a torn line from a killed run
            if all(isinstance(value, str) for value in asdict(entry).values()):
                self.entries.setdefault(entry.output, {})[entry.digest] = entry

    def key(self, target: Path) -> str:
        return target.relative_to(self.folder).as_posix()

    def written(self, target: Path) -> Entry | None:
        """The line that wrote `target` as it is now; None if the file is missing, was never
        written by this tool, or was changed since (replacing it would lose someone's work).

        An unknown file sends us back to the manifest once: another run may have written it
        since we read, and its line was appended before its rename, so it is there now."""
        try:
            digest = digest_bytes(target.read_bytes())
        except OSError:
            return None
        key = self.key(target)
        if digest not in self.entries.get(key, {}):
            self.load()
        return self.entries.get(key, {}).get(digest)

    def record(self, target: Path, input_digest: str, settings: str, payload: bytes) -> None:
        """Append the line for an output about to be written (see the module docstring)."""
        entry = Entry(self.key(target), input_digest, settings, digest_bytes(payload))
        self.folder.mkdir(parents=True, exist_ok=True)
        append_line(self.path, asdict(entry))
        self.entries.setdefault(entry.output, {})[entry.digest] = entry


class Partials:
    """The chunk summaries of unfinished documents in one output folder, for one settings
    fingerprint. `memo(target)` is what the pipeline reads and extends for that document."""

    def __init__(self, folder: Path, settings: str, resume: bool):
        self.folder = folder / PARTIAL_DIR
        self.settings = settings
        self.resume = resume
        self.reused = 0  # chunk summaries taken from files a killed run left

    def _prefix(self, target: Path) -> str:
        return digest_bytes(str(target.relative_to(self.folder.parent).as_posix()).encode())[:24]

    def memo(self, target: Path) -> "ChunkMemo":
        """The target's memo: what a killed run left for these settings when resuming, else a
        fresh one (what an earlier run left is discarded)."""
        path = self.folder / f"{self._prefix(target)}-{self.settings}.jsonl"
        if not self.resume:
            self.discard(target)
        return ChunkMemo(path, self)

    def discard(self, target: Path) -> None:
        """Delete the target's files (all settings): its summary is written, or starts afresh."""
        for stale in self.folder.glob(f"{self._prefix(target)}-*.jsonl") if self.folder.is_dir() else ():
            stale.unlink(missing_ok=True)


class ChunkMemo:
    """One document's finished chunk summaries by job key, read once, appended line by line.
    A chunk that repeats within the document is generated once."""

    def __init__(self, path: Path, partials: Partials):
        self.path = path
        self.partials = partials
        self.known: dict[str, str] = {}
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = b""
        for line in data[: data.rfind(b"\n") + 1].splitlines():  # a torn last line is a chunk to redo
            try:
                row = json.loads(line)
                self.known[str(row["key"])] = str(row["text"])
            except (ValueError, KeyError, TypeError):
                continue
        self.left = set(self.known)  # what an earlier run left, not yet reused

    def get(self, key: str) -> str | None:
        if key in self.left:
            self.left.discard(key)
            self.partials.reused += 1
        return self.known.get(key)

    def put(self, key: str, text: str) -> None:
        """Kept without fsync: a killed process's writes survive in the page cache, and a chunk
        lost to a power cut is only redone (an fsync per chunk cost seconds on a long book)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        append_line(self.path, {"key": key, "text": text}, durable=False)
        self.known[key] = text


def append_line(path: Path, row: Mapping[str, Any], durable: bool = True) -> None:
    """One JSON line, appended with a single O_APPEND write (and fsync'd when `durable`):
    concurrent writers never interleave, and a writer killed mid-line leaves a torn line the
    next one ends."""
    line = (json.dumps(row, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o666)
    try:
        if _ends_torn(fd):
            line = b"\n" + line  # end a killed run's torn line, or it would swallow this one
        if os.write(fd, line) != len(line):
            raise OSError(f"short write to {path} (disk full?)")
        if durable:
            os.fsync(fd)
    finally:
        os.close(fd)


def _ends_torn(fd: int) -> bool:
    """True when the file's last byte is not a newline: a writer died mid-line."""
    size = os.fstat(fd).st_size
    return size > 0 and os.pread(fd, 1, size - 1) != b"\n"
