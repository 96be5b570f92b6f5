"""What the tool wrote into an --output-dir, so `--resume` can skip finished work and no file
the tool did not write is ever replaced.

The manifest is an append-only JSON-lines file in the output folder. Each summary written adds
one line, appended with a single O_APPEND write and fsync *before* the summary file is renamed
into place: lines of concurrent runs never interleave, a run killed at any moment leaves at most
one torn last line (ignored when read), and a summary file is never present without its line.
A line names the output, the input's content hash, the settings fingerprint and the output's
own hash; an output is "done" only when all three still match.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

MANIFEST_NAME = ".summarize-manifest.jsonl"


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
        self.entries: dict[str, Entry] = {}
        self._load()

    def _load(self) -> None:
        try:
            lines = self.path.read_bytes().splitlines()
        except FileNotFoundError:
            return
        for line in lines:
            try:
                entry = Entry(**json.loads(line))
            except (ValueError, TypeError):
                continue  # a torn last line from a killed run
            self.entries[entry.output] = entry

    def key(self, target: Path) -> str:
        return target.relative_to(self.folder).as_posix()

    def owns(self, target: Path) -> bool:
        """True when this tool wrote `target` (so replacing it loses nothing of the user's)."""
        return self.key(target) in self.entries

    def finished(self, target: Path, settings: str) -> bool:
        """The output exists as written, made with these settings (from the input whose digest
        its entry holds: the caller compares that with the input's digest now)."""
        entry = self.entries.get(self.key(target))
        if entry is None or entry.settings != settings:
            return False
        try:
            return digest_bytes(target.read_bytes()) == entry.digest
        except OSError:
            return False

    def record(self, target: Path, input_digest: str, settings: str, payload: bytes) -> None:
        """Append the line for an output about to be written (see the module docstring)."""
        entry = Entry(self.key(target), input_digest, settings, digest_bytes(payload))
        line = (json.dumps(entry.__dict__, sort_keys=True) + "\n").encode("utf-8")
        self.folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        self.entries[entry.output] = entry
