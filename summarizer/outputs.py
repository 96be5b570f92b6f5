"""Writing summaries to files: atomically, and never over an input."""

from __future__ import annotations

import os
import re
import secrets
from pathlib import Path, PurePosixPath
from typing import Iterable

_TEMP_NAME = re.compile(r"\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.tmp")
_TEMP_NAME_KEEP = 200  # of the target's name in its temp file's, so that one fits in 255 bytes

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

    Text is written as UTF-8. The temp file is created with the umask's permissions, as the
    file itself would be, and its name carries this process's id, so a later run can tell
    a temp file left by a killed run (see `remove_stale_temps`) from one being written now.
    """
    payload = data.encode("utf-8") if isinstance(data, str) else data
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name[:_TEMP_NAME_KEEP]}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def remove_stale_temps(targets: Iterable[Path]) -> list[Path]:
    """Delete the temp files `write_atomic` left beside these targets when its process died
    (SIGKILL, power loss) before renaming them; returns what was deleted.

    Only temp files of these targets whose writer is no longer running go: another run
    writing into the same folder right now keeps its own.
    """
    names: dict[Path, set[str]] = {}
    for target in targets:
        names.setdefault(target.parent, set()).add(target.name[:_TEMP_NAME_KEEP])
    removed: list[Path] = []
    for folder, wanted in names.items():
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            match = _TEMP_NAME.fullmatch(entry.name)
            if match and match["name"] in wanted and not _running(int(match["pid"])) and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)
                removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    """Whether a process with this id runs (this one has written nothing yet when asked)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # it exists, and belongs to someone else
    return True
