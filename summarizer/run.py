"""One `summarize` invocation at the edges: inputs in, model loaded, summaries out.

This is where side effects live: reading stdin, writing stdout and output files, drawing
progress and the report on stderr, and turning failures into exit codes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping

from .config import ConfigError, build_settings
from .outputs import output_path, write_atomic
from .readers import DEFAULT_GLOBS, Collected, collect
from .report import Summary, render, render_json_list, report_table

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass(frozen=True)
class Request:
    paths: tuple[str, ...]
    layers: tuple[Mapping[str, Any], ...]
    fmt: str = "text"
    output_dir: Path | None = None
    globs: tuple[str, ...] | None = None
    quiet: bool = False


def _say(message: str) -> None:
    print(f"summarize: {message}", file=sys.stderr, flush=True)


def error(message: str) -> None:
    _say(f"error: {message}")


def _plan_outputs(request: Request, collected: Collected) -> dict[int, Path] | None:
    """Where each document's summary goes; None (after an error) if that would clobber a file."""
    if request.output_dir is None:
        return {}
    if request.output_dir.exists() and not request.output_dir.is_dir():
        error(f"--output-dir {request.output_dir} exists and is not a folder")
        return None
    inputs = {Path(d.source).resolve() for d in collected.documents if d.source != "-"}
    targets: dict[int, Path] = {}
    seen: dict[Path, str] = {}
    for index, document in enumerate(collected.documents):
        target = output_path(request.output_dir, document.relpath, request.fmt)
        resolved = target.resolve()
        if resolved in inputs:
            error(f"writing the summary of {document.source} to {target} would overwrite an input; "
                   "choose another --output-dir")
            return None
        if resolved in seen:
            error(f"{document.source} and {seen[resolved]} would both be written to {target}; "
                   "summarize them in separate runs")
            return None
        seen[resolved] = document.source
        targets[index] = target
    return targets


@contextmanager
def _progress(enabled: bool) -> Iterator[Any]:
    """A transient rich progress bar on stderr, drawn only once there is more than one chunk."""
    from rich.console import Console

    console = Console(stderr=True)
    if not enabled or not console.is_terminal:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(
        TextColumn("summarizing"), BarColumn(), MofNCompleteColumn(), TextColumn("chunks"),
        TimeElapsedColumn(), console=console, transient=True,
    )
    task = bar.add_task("chunks", total=None)

    def update(done: int, total: int) -> None:
        if total > 1 and not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        yield update
    finally:
        bar.stop()


def _load(model: str, device: str, dtype: str, quiet: bool = False):
    """The loaded model, or the exit code after saying in one line why it could not load."""
    from .device import DeviceError, resolve
    from .pipeline import ModelLoadError, load_model

    try:
        placement = resolve(device, dtype)
    except DeviceError as exc:
        error(str(exc))
        return EXIT_USAGE
    try:
        return load_model(model, placement, progress_bars=not quiet and sys.stderr.isatty())
    except ModelLoadError as exc:
        error(str(exc))
        return EXIT_FAILED


def execute(request: Request) -> int:
    """Run a request; returns the exit code (0 all done, 1 something failed, 2 usage)."""
    collected = collect(request.paths, request.globs or DEFAULT_GLOBS, exclude=request.output_dir)
    for problem in collected.skipped:
        _say(f"note: {problem.source}: {problem.message}")
    for document in collected.documents:
        for note in document.notes:
            _say(f"note: {document.source}: {note}")
    for problem in collected.errors:
        error(f"{problem.source}: {problem.message}")
    targets = _plan_outputs(request, collected)
    if targets is None:
        return EXIT_USAGE
    if not collected.documents:
        if not collected.errors:
            error("nothing to summarize")
        return EXIT_FAILED

    from .pipeline import Summarizer

    user = build_settings(*request.layers)
    loaded = _load(user.model, user.device, user.dtype, request.quiet)
    if isinstance(loaded, int):
        return loaded
    try:
        settings = build_settings(loaded.task_defaults, *request.layers)
        summarizer = Summarizer(loaded, settings)
    except (ConfigError, ValueError) as exc:
        error(str(exc))
        return EXIT_USAGE

    several = len(collected.documents) > 1
    started = time.perf_counter()
    ok = not collected.errors
    finished: dict[int, Summary] = {}
    try:
        with _progress(not request.quiet) as progress:
            for index, result in summarizer.run(collected.documents, progress):
                finished[index] = result
                if result.error is not None:
                    ok = False
                    error(f"{result.source}: {result.error}")
                elif result.warning:
                    _say(f"warning: {result.source}: {result.warning}")
                if targets:
                    if result.error is None:
                        write_atomic(targets[index], render(result, "json" if request.fmt == "jsonl" else request.fmt))
                elif request.fmt == "jsonl" or (request.fmt != "json" and result.error is None):
                    sys.stdout.write(render(result, request.fmt, with_header=several))
                    sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`summarize dir | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    except OSError as exc:
        error(f"cannot write output: {exc}")
        return EXIT_FAILED
    wall = time.perf_counter() - started

    ordered = [finished[i] for i in sorted(finished)]  # input order, whatever order they finished in
    if request.fmt == "json" and not targets:
        sys.stdout.write(render(ordered[0], "json") if not several else render_json_list(ordered))
    if not request.quiet and request.fmt in ("text", "markdown"):
        from rich.console import Console

        Console(stderr=True).print(report_table(ordered, wall))
    return EXIT_OK if ok else EXIT_FAILED


@dataclass(frozen=True)
class CompareRequest:
    model: str
    device: str = "auto"
    dtype: str = "auto"
    tokens: int = 512
    batch: int = 1
    new_tokens: int = 64
    repeats: int = 3
    fmt: str = "text"


def execute_compare(request: CompareRequest) -> int:
    """`summarize compare-attention`: JSON or a table on stdout (the comparison is the output)."""
    loaded = _load(request.model, request.device, request.dtype)
    if isinstance(loaded, int):
        return loaded
    from .compare import compare_attention, render_comparison

    result = compare_attention(
        loaded.model, loaded.tokenizer, tokens=request.tokens, batch=request.batch,
        new_tokens=request.new_tokens, model_name=request.model, repeats=request.repeats,
    )
    if request.fmt == "json":
        sys.stdout.write(json.dumps(result, indent=2) + "\n")
    else:
        from rich.console import Console

        render_comparison(result, Console())
    return EXIT_OK if result["tokens_identical"] else EXIT_FAILED


@dataclass(frozen=True)
class MapRequest:
    path: str
    model: str
    layer: int | None = None
    head: int | None = None
    out: Path | None = None
    max_length: int = 32
    device: str = "auto"
    dtype: str = "auto"


def execute_attention_map(request: MapRequest) -> int:
    """`summarize attention-map`: a PNG with --out, else a terminal rendering on stdout."""
    collected = collect([request.path])
    for problem in collected.errors:
        error(f"{problem.source}: {problem.message}")
    if not collected.documents:
        return EXIT_FAILED
    document = collected.documents[0]
    if not document.text.strip():
        error(f"{document.source}: empty input, nothing to summarize")
        return EXIT_FAILED
    if request.out is not None and request.out.resolve() == Path(request.path).resolve():
        error("--out would overwrite the input")
        return EXIT_USAGE
    loaded = _load(request.model, request.device, request.dtype)
    if isinstance(loaded, int):
        return loaded
    from .attention_map import cross_attention_map, render_terminal, save_png

    defaults = loaded.task_defaults
    try:
        amap = cross_attention_map(
            loaded.model, loaded.tokenizer, document.text, prefix=defaults.get("prefix", ""),
            layer=request.layer, head=request.head, max_new_tokens=request.max_length,
            no_repeat_ngram_size=defaults.get("no_repeat_ngram_size", 0),
        )
    except ValueError as exc:
        error(str(exc))
        return EXIT_USAGE
    if request.out is None:
        from rich.console import Console

        render_terminal(amap, Console())
        return EXIT_OK
    try:
        save_png(amap, request.out)
    except (ImportError, RuntimeError) as exc:
        error(str(exc))
        return EXIT_FAILED
    _say(f"wrote {request.out}")
    return EXIT_OK
