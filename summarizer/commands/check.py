"""`summarize check SUMMARY --source DOC`: any summary (a model's, a language model's, a
person's) tested against its source, sentence by sentence.

The exit code is the verdict, so it can gate a pipeline: 0 every sentence is supported, 1 some
sentence is not, 2 the check could not be made (a usage error, an input that cannot be read, an
empty summary or source).
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from ..errors import SummarizerError
from .common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, error, read_one, unexpected


@dataclass(frozen=True)
class CheckRequest:
    summary: str  # a file, or - for stdin
    source: str  # a file or an http(s) URL
    model: str | None = None
    fmt: str = "text"
    debug: bool = False


def execute_check(request: CheckRequest) -> int:
    try:
        return _execute(request)
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    except SummarizerError as exc:
        error(str(exc))
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 -- the last line of defence: one line
        unexpected(exc, request.debug)
        return EXIT_USAGE


def _execute(request: CheckRequest) -> int:
    from ..api import check
    from ..report import render_check

    if request.summary == "-" and request.source == "-":
        error("the summary and the source cannot both come from stdin")
        return EXIT_USAGE
    summary, source = _read(request.summary, "summary"), _read(request.source, "source")
    if summary is None or source is None:
        return EXIT_USAGE
    evidence = check(summary.text, source.text, model=request.model, pages=source.pages)
    if request.fmt == "json":
        sys.stdout.write(json.dumps(evidence.to_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        import shutil

        width = shutil.get_terminal_size().columns - 1 if sys.stdout.isatty() else None
        sys.stdout.write(render_check(evidence, width))
    return EXIT_OK if evidence.supported == evidence.total else EXIT_FAILED


def _read(path: str, what: str):
    """The summary or the source, read; None after saying in one line why there is none."""
    document = read_one(path, what)
    if document is not None and not document.text.strip():
        error(f"{what} {path}: empty, nothing to check")
        return None
    return document
