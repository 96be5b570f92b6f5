"""What every command shares at the edge: exit codes, the one-line messages on stderr, and
opening the summarizer (or the torch model) with its failure said in one line."""

from __future__ import annotations

import os
import sys
import traceback
from typing import TYPE_CHECKING, Any, Mapping

from ..config import Layer
from ..errors import SummarizerError
from ..readers import ReadError, ReadLimits, discover, read

if TYPE_CHECKING:
    from ..api import Summarizer
    from ..models.loading import LoadedModel
    from ..readers import Document

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_PIPE, EXIT_INTERRUPTED, EXIT_TERMINATED = 141, 130, 143
URL_TIMEOUT_VARIABLE = "SUMMARIZER_URL_TIMEOUT"


def say(message: str) -> None:
    """A line on stderr, prefixed with the program's name, as Unix tools write them."""
    print(f"summarize: {message}", file=sys.stderr, flush=True)


def error(message: str) -> None:
    say(f"error: {message}")


def unexpected(exc: BaseException, debug: bool) -> int:
    """An error nobody planned for: the traceback with --debug, else one line."""
    if debug:
        traceback.print_exception(exc)
    else:
        first = (str(exc).strip().splitlines() or [""])[0]
        error(f"unexpected {type(exc).__name__}{': ' + first if first else ''} (rerun with --debug for the traceback)")
    return EXIT_FAILED


def open_summarizer(layers: tuple[Layer | Mapping[str, Any], ...], quiet: bool = True,
                    weights: bool = True) -> "Summarizer | int":
    """The API's Summarizer for these layers, or the exit code after saying in one line why
    there is none. `weights=False` only describes the model (a driver whose workers run it)."""
    from ..api import Summarizer

    try:
        summarizer = Summarizer.from_layers(layers, weights=weights, progress_bars=not quiet and sys.stderr.isatty())
    except SummarizerError as exc:
        error(str(exc))
        return exc.exit_code
    if summarizer.note and not quiet:
        say(f"note: {summarizer.note}")
    return summarizer


def load_weights(model: str, device: str, dtype: str) -> "LoadedModel | int":
    """The torch model for the attention commands, or the exit code after saying why not."""
    from ..device import resolve
    from ..models.loading import load_model

    try:
        return load_model(model, resolve(device, dtype), progress_bars=sys.stderr.isatty())
    except SummarizerError as exc:
        error(str(exc))
        return exc.exit_code


def read_limits() -> ReadLimits | None:
    """How inputs are read (the size limit is added from the settings).
    SUMMARIZER_URL_TIMEOUT (seconds) bounds each download; it is an environment variable, not a
    flag, as only tests and unusual networks need to change it."""
    value = os.environ.get(URL_TIMEOUT_VARIABLE, "").strip()
    if not value:
        return ReadLimits()
    try:
        timeout = float(value)
    except ValueError:
        timeout = 0.0
    if not 0 < timeout < float("inf"):
        error(f"{URL_TIMEOUT_VARIABLE}={value!r} is not a number of seconds above 0")
        return None
    return ReadLimits(timeout=timeout)


def read_one(path: str, what: str = "") -> "Document | None":
    """The one input `path` names (a file, an http(s) URL, or - for stdin), through the
    summarizer's readers; None after saying in one line why there is none (`what` names the
    input in that line: "summary", "source")."""
    name = f"{what} {path}" if what else path
    limits = read_limits()
    if limits is None:
        return None
    listing = discover([path])
    if listing.errors or len(listing.sources) != 1:
        problem = listing.errors[0].message if listing.errors else "name one file (or a URL, or -), not a folder"
        error(f"{name}: {problem}")
        return None
    try:
        return read(listing.sources[0], limits=limits)
    except ReadError as exc:
        error(f"{name}: {exc}")
        return None
