"""One `summarize` invocation at the edges: inputs in, model loaded, summaries out.

This is where side effects live: reading stdin, files and URLs, writing stdout, output files
and the manifest, drawing progress and the report on stderr, signals, and exit codes.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

from ..config import RunSettings, resolve as resolve_settings
from ..errors import SummarizerError
from ..manifest import Entry, Manifest, Partials
from ..outputs import output_path, remove_stale_temps, write_atomic
from ..readers import DEFAULT_GLOBS, ReadLimits, Source, discover
from ..report import Summary, render, render_json_list, report_table
from .common import (
    EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_PIPE, EXIT_TERMINATED, EXIT_USAGE, error, open_summarizer, read_limits,
    say, unexpected,
)


@dataclass(frozen=True)
class Request:
    paths: tuple[str, ...]
    layers: tuple[Mapping[str, Any], ...]
    fmt: str = "text"
    output_dir: Path | None = None
    globs: tuple[str, ...] | None = None
    quiet: bool = False
    parts: bool = False
    cite: bool = False
    resume: bool = False
    overwrite: bool = False
    debug: bool = False
    engine: str = "local"
    ray_address: str | None = None
    replicas: int | None = None


class Terminated(BaseException):
    """SIGTERM arrived: stop like Ctrl-C, keeping what is finished. A BaseException, like
    KeyboardInterrupt, so that no `except Exception` (a reader's, a library's) can swallow it."""


class CannotWrite(Exception):
    """An output or the manifest could not be written (read-only folder, disk full): the run
    stops, since every later summary would fail the same way."""


# -- outputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """Where each input's summary goes. `written`: the inputs whose output exists as this tool
    wrote it, with the manifest line that did (what --resume may skip)."""

    targets: dict[int, Path]
    manifest: Manifest | None = None
    written: dict[int, Entry] = field(default_factory=dict)


def _plan_outputs(request: Request, sources: list[Source]) -> Plan | None:
    """The plan; None (after an error) if it would clobber a file: an input, another output of
    this run, or a file this tool did not write or that was changed since (without --overwrite)."""
    if request.output_dir is None:
        return Plan({})
    targets = _targets(request.output_dir, sources, request.fmt)
    if targets is None:
        return None
    existing = [index for index, target in targets.items() if target.exists()]
    try:
        manifest = Manifest(request.output_dir)
    except OSError as exc:
        error(f"cannot read {exc.filename or request.output_dir}: {exc.strerror or exc}")
        return None
    written = {index: entry for index in existing if (entry := manifest.written(targets[index])) is not None}
    foreign = [targets[index] for index in existing if index not in written]
    if foreign and not request.overwrite:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        error(f"{foreign[0]}{more} already exist(s) and were not written by summarize (or were changed since); "
              "pass --overwrite to replace them, or choose another --output-dir")
        return None
    stale = remove_stale_temps(targets.values())
    if stale:
        say(f"note: removed {len(stale)} temp file(s) left by a run that was killed")
    return Plan(targets, manifest, written)


def _targets(output_dir: Path, sources: list[Source], fmt: str) -> dict[int, Path] | None:
    """Each input's output file; None (after an error) if one would land on an input or two
    on one file."""
    if output_dir.exists() and not output_dir.is_dir():
        error(f"--output-dir {output_dir} exists and is not a folder")
        return None
    inputs = {Path(s.name).resolve() for s in sources if s.kind == "file"}
    targets: dict[int, Path] = {}
    seen: dict[Path, str] = {}
    for index, source in enumerate(sources):
        target = output_path(output_dir, source.relpath, fmt)
        resolved = target.resolve()
        if resolved in inputs:
            error(f"writing the summary of {source.name} to {target} would overwrite an input; choose another --output-dir")
            return None
        if resolved in seen:
            error(f"{source.name} and {seen[resolved]} would both be written to {target}; summarize them in separate runs")
            return None
        seen[resolved] = source.name
        targets[index] = target
    return targets


def _emit(result: Summary, target: Path | None, request: Request, several: bool, manifest, digest: str, settings: str) -> None:
    if target is not None:
        if result.error is None:
            payload = render(result, _file_format(request.fmt), parts=request.parts, cite=request.cite).encode("utf-8")
            try:
                manifest.record(target, digest, settings, payload)
                write_atomic(target, payload)
            except OSError as exc:
                raise CannotWrite(_write_failure(target, exc)) from exc
    elif request.fmt == "jsonl" or (request.fmt != "json" and result.error is None):
        sys.stdout.write(render(result, request.fmt, with_header=several, parts=request.parts, cite=request.cite))
        sys.stdout.flush()


def _write_failure(target: Path, exc: OSError) -> str:
    """One line: the output, why, and the folder in the way when it is not the output itself."""
    where = exc.filename if exc.filename and Path(exc.filename) in target.parents else None
    reason = f"{where}: {exc.strerror}" if where and exc.strerror else exc.strerror or str(exc)
    return (f"cannot write output {target}: {reason} -- finished summaries are kept; "
            "fix that and rerun the same command with --resume to do the rest")


def _file_format(fmt: str) -> str:
    """How a summary file is rendered: one JSON document per file for both JSON formats."""
    return "json" if fmt == "jsonl" else fmt


# -- progress -----------------------------------------------------------------------------------


@contextmanager
def _progress(enabled: bool, documents: int) -> Iterator[Any]:
    """A transient rich progress bar on stderr: documents done of all, chunks, throughput.
    Drawn only on a terminal, and only once there is more than one chunk or document."""
    from rich.console import Console

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("summarizing"), BarColumn(), MofNCompleteColumn(), TextColumn("docs"),
        TextColumn("{task.fields[chunks]}"), TextColumn("{task.fields[rate]}"), TimeElapsedColumn(),
        console=console, transient=True,
    )
    task = bar.add_task("docs", total=documents, chunks="", rate="")
    started = time.perf_counter()

    def update(docs_done: int, chunks_done: int, chunks_known: int) -> None:
        if (documents > 1 or chunks_known > 1) and not bar.live.is_started:
            bar.start()
        elapsed = time.perf_counter() - started
        rate = f"{docs_done / elapsed:.1f} docs/s" if docs_done and elapsed > 0 else ""
        chunks = f"{chunks_done}/{chunks_known} chunks" if chunks_known else ""  # the ray engine counts documents only
        bar.update(task, completed=docs_done, chunks=chunks, rate=rate)

    try:
        yield update
    finally:
        bar.stop()


# -- the model ----------------------------------------------------------------------------------


def settings_fingerprint(summarizer, rendering: Mapping[str, Any] | None = None) -> str:
    """Everything that changes what a summary says: the model (and its revision), backend,
    precision, method, strategy, every generation and chunking setting, and `rendering`: how
    the file shows it (a text and a markdown summary of notes.md share a file name). Not batch
    sizes, threads or the attention implementation, which change only speed."""
    from dataclasses import asdict

    from ..manifest import fingerprint

    settings: RunSettings = summarizer.settings
    described = asdict(settings)
    for speed_only in ("batch_size", "batch_tokens", "threads", "attention", "device", "allow_pickle", "max_input_size"):
        described.pop(speed_only)
    described["dtype"] = summarizer.dtype
    described["revision"] = summarizer.revision
    described["model_type"] = summarizer.model_type
    described["rendering"] = dict(rendering or {})
    return fingerprint(described)


# -- the run ------------------------------------------------------------------------------------


def execute(request: Request) -> int:
    """Run a request; returns the exit code (0 all done, 1 something failed, 2 usage)."""
    previous = signal.signal(signal.SIGTERM, _terminate) if _main_thread() else None
    try:
        return _execute(request)
    except KeyboardInterrupt:
        _stopped("interrupted", request)
        return EXIT_INTERRUPTED
    except Terminated:
        _stopped("terminated", request)
        return EXIT_TERMINATED
    except SummarizerError as exc:  # an engine that cannot run (Ray missing, a cluster out of reach)
        error(str(exc))
        return exc.exit_code
    except BrokenPipeError:
        # The reader went away (`summarize dir | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_PIPE
    except Exception as exc:  # noqa: BLE001 -- the last line of defence: one line, exit 1
        return unexpected(exc, request.debug)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _terminate(signum, frame) -> None:
    raise Terminated()


def _stopped(how: str, request: Request) -> None:
    hint = " -- finished summaries are kept; rerun the same command with --resume to do the rest" if request.output_dir else ""
    error(f"{how}{hint}")


def _execute(request: Request) -> int:
    listing = discover(request.paths, request.globs or DEFAULT_GLOBS, exclude=request.output_dir)
    for problem in listing.skipped:
        say(f"note: {problem.source}: {problem.message}")
    for problem in listing.errors:
        error(f"{problem.source}: {problem.message}")
    limits = read_limits()
    if limits is None:
        return EXIT_USAGE
    user = resolve_settings(*request.layers).settings  # the size limit is the user's to set, never the model's
    limits = replace(limits, max_bytes=user.max_input_size)
    plan = _plan_outputs(request, listing.sources)
    if plan is None:
        return EXIT_USAGE
    targets, manifest = plan.targets, plan.manifest
    if not listing.sources:
        if not listing.errors:
            error("nothing to summarize")
        return EXIT_FAILED

    alone = _read_alone(request, listing.sources, limits, user)
    if alone is not None and alone[1] is not None:
        return _refused_alone(request, listing.sources[0], alone[1])
    summarizer = open_summarizer(request.layers, request.quiet, weights=request.engine == "local")
    if isinstance(summarizer, int):
        return summarizer
    if request.cite and not summarizer.settings.evidence:
        error("--cite marks each sentence's sources, which --no-evidence turns off; give one of them")
        return EXIT_USAGE
    rendering = {"format": _file_format(request.fmt), "parts": request.parts, "cite": request.cite}
    settings = settings_fingerprint(summarizer, rendering) if manifest is not None else ""
    done = {}
    if request.resume:
        done = {position: entry.input for position, entry in plan.written.items() if entry.settings == settings}
    from ..engines import Prepare

    partials = Partials(request.output_dir, settings, request.resume) if manifest is not None else None
    prepare = Prepare(done, summarizer.name, summarizer.device, limits, {0: alone[0]} if alone else {})
    several = len(listing.sources) > 1
    started = time.perf_counter()
    finished: dict[int, Summary] = {}
    languages: dict[str, str] = {}  # a language the model does not summarize -> the warning said once for it
    resumed = handled = 0
    with _progress(not request.quiet, len(listing.sources)) as progress:
        chunks = [0, 0]

        def on_chunks(done_chunks: int, known: int) -> None:
            chunks[:] = [done_chunks, known]
            if progress:
                progress(handled, done_chunks, known)

        def on_documents(done: int, total: int) -> None:
            if progress:
                progress(done, 0, 0)

        memo_for = (lambda position: partials.memo(targets[position])) if partials is not None else None
        for outcome in _outcomes(request, listing.sources, prepare, summarizer, on_chunks, on_documents, memo_for):
            handled += 1
            _announce(outcome, listing.sources[outcome.position])
            resumed += outcome.resumed
            result = outcome.record
            if result is None:
                continue
            finished[outcome.position] = result
            _warn_language(summarizer, result, languages)
            try:
                _emit(result, targets.get(outcome.position), request, several, manifest, outcome.digest, settings)
            except CannotWrite as exc:
                error(str(exc))
                return EXIT_FAILED
            if partials is not None and result.error is None:
                partials.discard(targets[outcome.position])
            on_chunks(*chunks)
    wall = time.perf_counter() - started

    ordered = [finished[i] for i in sorted(finished)]  # input order, whatever order they finished in
    if request.fmt == "json" and not targets and ordered:
        sys.stdout.write(render(ordered[0], "json", parts=request.parts) if not several else render_json_list(ordered, request.parts))
    if resumed:
        say(f"resumed: {resumed} of {len(listing.sources)} inputs already summarized with these settings, skipped")
    if partials is not None and partials.reused:
        say(f"resumed: {partials.reused} chunk summaries of unfinished documents reused")
    if not request.quiet and request.fmt in ("text", "markdown") and ordered:
        from rich.console import Console

        console = Console(stderr=True)
        console.print(report_table(ordered, wall, console.width))
    # The end of a long run repeats every input that failed, those that could not even be
    # listed included: their first mention may have scrolled away long ago.
    unfinished = [problem.source for problem in listing.errors] + [r.source for r in ordered if r.error is not None]
    if unfinished and len(listing.sources) + len(listing.errors) > 1:
        names = ", ".join(unfinished[:10]) + (f" and {len(unfinished) - 10} more" if len(unfinished) > 10 else "")
        error(f"{len(unfinished)} of {len(listing.sources) + len(listing.errors)} inputs failed: {names}")
    if unfinished:
        return EXIT_FAILED
    return _strict(summarizer, ordered, languages)


def _warn_language(summarizer, record: Summary, warned: dict[str, str]) -> None:
    """The language warning, once per language in a run (a mixed folder hears of each)."""
    line = summarizer.language_warning(record.language)
    if line is not None and record.language not in warned:
        warned[record.language] = line
        say(f"warning: {line}")


def _strict(summarizer, records: list[Summary], languages: dict[str, str]) -> int:
    """Exit 0, or with --strict 1 when a summary carries a warning or an input's language is not
    the model's: a pipeline that must not ship such summaries stops here."""
    flagged = [r.source for r in records if r.warning is not None]
    if not summarizer.settings.strict or not (flagged or languages):
        return EXIT_OK
    what = [f"{len(flagged)} summar{'y' if len(flagged) == 1 else 'ies'} with warnings" if flagged else "",
            f"inputs in {', '.join(sorted(languages))}, which the model does not summarize" if languages else ""]
    error(f"--strict: {' and '.join(w for w in what if w)}")
    return EXIT_FAILED


def _read_alone(request: Request, sources: list[Source], limits: ReadLimits, user: RunSettings):
    """A run of one input reads it before the model loads, so `summarize /dev/zero`, a binary or
    an oversized file is refused at once rather than after the seconds a model takes to load;
    the model could not have started any sooner. (With several inputs the model loads first,
    and each input is read as the model asks for it.) Prepare's (document, outcome), or None."""
    if request.engine != "local" or len(sources) != 1:
        return None
    from ..engines import Prepare

    return Prepare({}, user.model if user.abstractive else user.method, user.device, limits)(0, sources[0])


def _announce(outcome, source: Source) -> None:
    """What an input's outcome says on stderr: its notes, then its error or warning."""
    result = outcome.record
    for note in (*outcome.notes, *([result.note] if result is not None and result.note else [])):
        say(f"note: {source.name}: {note}")
    if result is not None and result.error is not None:
        error(f"{result.source}: {result.error}")
    elif result is not None and result.warning:
        say(f"warning: {result.source}: {result.warning}")


def _refused_alone(request: Request, source: Source, outcome) -> int:
    """The only input could not be read (or was skipped): said as a run would say it, no model
    loaded."""
    _announce(outcome, source)
    if outcome.record is None:
        return EXIT_OK
    if request.fmt in ("json", "jsonl") and request.output_dir is None:
        sys.stdout.write(render(outcome.record, request.fmt, parts=request.parts))
    return EXIT_FAILED


def _outcomes(request: Request, sources: list[Source], prepare, summarizer,
              on_chunks: Callable[[int, int], None], on_documents: Callable[[int, int], None], memo_for=None):
    """One Outcome per input, from the engine the request names. The local engine reports
    chunks (done, known) and keeps chunk summaries with `memo_for` for a resumed run; the ray
    engine reports documents (done, all): its chunks are on the workers, and it resumes whole
    documents."""
    if request.engine == "ray":
        from ..engines.ray import run_on_ray

        return run_on_ray(sources, prepare, request.layers, on_documents, address=request.ray_address, replicas=request.replicas)
    from ..engines.local import run_local

    return run_local(sources, prepare, summarizer, on_chunks, memo_for)


