"""Writing summaries to files: atomically, and never over an input."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path, PurePosixPath


_KEPT_SUFFIXES = {"text": (".txt", ".md"), "markdown": (".md",)}


def output_path(output_dir: Path, relpath: PurePosixPath, fmt: str) -> Path:
    """Mirror the input's relative path. JSON formats add `.json`; text keeps a .txt/.md name
    and adds `.txt` to others (report.pdf -> report.pdf.txt), markdown adds `.md` likewise."""
    path = output_dir.joinpath(*relpath.parts)
    if fmt in ("json", "jsonl"):
        return path.with_name(path.name + ".json")
    if path.suffix.lower() not in _KEPT_SUFFIXES[fmt]:
        return path.with_name(path.name + (".md" if fmt == "markdown" else ".txt"))
    return path


def write_atomic(path: Path, data: str | bytes) -> None:
    """Write via a temp file in the same folder and rename, so no half-written file ever exists.

    Text is written as UTF-8.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
