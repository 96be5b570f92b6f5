"""Command-line arguments, and nothing else: each command turns flags into settings and calls in.

stdout carries only summaries (or JSON); notes, warnings, progress and the report table go to
stderr, so `summarize a.txt > out.txt` and pipes stay clean.
"""

from __future__ import annotations

import atexit
import functools
import inspect
import os
import sys
import typing
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Callable, List, Optional

import click
import typer
from typer.core import TyperCommand, TyperGroup

from . import __version__
from .backends import BACKEND_CHOICES, QUANTIZE_CHOICES
from .config import ATTENTION_CHOICES, DEFAULT_MODEL, FORMATS, Layer, build_settings, load_toml
from .device import DEVICE_CHOICES, DTYPE_CHOICES
from .engines import ENGINE_CHOICES
from .errors import SettingsError
from .methods import METHOD_CHOICES
from .serve.limits import MAX_INPUT_TOKENS
from .commands.common import EXIT_USAGE, error
from .strategies import STRATEGY_CHOICES



def _choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    """A str Enum for Typer, built from the tuple its module owns, so the two never drift."""
    return Enum(name, {value: value for value in values}, type=str)


Format = _choices("Format", FORMATS)
DeviceChoice = _choices("DeviceChoice", DEVICE_CHOICES)
DtypeChoice = _choices("DtypeChoice", DTYPE_CHOICES)
AttentionChoice = _choices("AttentionChoice", ATTENTION_CHOICES)
TableOrJson = _choices("TableOrJson", ("text", "json"))
BackendChoice = _choices("BackendChoice", BACKEND_CHOICES)
QuantizeChoice = _choices("QuantizeChoice", QUANTIZE_CHOICES)
MethodChoice = _choices("MethodChoice", METHOD_CHOICES)
StrategyChoice = _choices("StrategyChoice", STRATEGY_CHOICES)
EngineChoice = _choices("EngineChoice", ENGINE_CHOICES)


class DefaultToSummarize(TyperGroup):
    """`summarize FILE` runs the summarize command; named subcommands still work."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = ["summarize", *args]
        return super().parse_args(ctx, args)


class _DefaultContext(typer.Context):
    """The default command's usage and error hints read `summarize ...`, not `summarize summarize ...`."""

    @property
    def command_path(self) -> str:
        return self.parent.command_path if self.parent is not None else super().command_path


class _DefaultCommand(TyperCommand):
    context_class = _DefaultContext


app = typer.Typer(
    cls=DefaultToSummarize,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Summarize text files, folders, URLs or stdin with encoder-decoder models (T5, BART, Pegasus, LED...).",
)

GENERATION = "Generation"
CHUNKING = "Long documents"
RUNTIME = "Model and device"
OUTPUT = "Input and output"
METHOD = "Method"
CLUSTER = "Cluster"
EVAL = "Evaluation"


def fail(message: str, code: int) -> typer.Exit:
    error(message)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"summarize {__version__}")
        raise typer.Exit()


def _value(option: Any) -> Any:
    return option.value if isinstance(option, Enum) else option


# Settings flags, shared by `summarize` and `summarize eval` (one definition each).
Model = Annotated[Optional[str], typer.Option("--model", "-m", help=f"Hub id or local folder. (default: {DEFAULT_MODEL})", rich_help_panel=RUNTIME)]
ConfigFile = Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML preset (see configs/); flags override it.", rich_help_panel=RUNTIME)]
MaxLength = Annotated[Optional[int], typer.Option(help="Most tokens in the summary (per chunk with --strategy map).", rich_help_panel=GENERATION)]
MinLength = Annotated[Optional[int], typer.Option(help="Fewest tokens in the summary (per chunk with --strategy map).", rich_help_panel=GENERATION)]
NumBeams = Annotated[Optional[int], typer.Option(help="Beam search width (1 = greedy).", rich_help_panel=GENERATION)]
Temperature = Annotated[Optional[float], typer.Option(help="> 0 turns on sampling (1 beam unless --num-beams says otherwise).", rich_help_panel=GENERATION)]
TopK = Annotated[Optional[int], typer.Option(help="Sampling: keep the k most likely tokens.", rich_help_panel=GENERATION)]
TopP = Annotated[Optional[float], typer.Option(help="Sampling: nucleus probability mass.", rich_help_panel=GENERATION)]
LengthPenalty = Annotated[Optional[float], typer.Option(help="Beam search: > 1 favours longer summaries.", rich_help_panel=GENERATION)]
NoRepeat = Annotated[Optional[int], typer.Option(help="Forbid repeating n-grams of this size.", rich_help_panel=GENERATION)]
RepetitionPenalty = Annotated[Optional[float], typer.Option(help="> 1 discourages repeated tokens.", rich_help_panel=GENERATION)]
Seed = Annotated[Optional[int], typer.Option(help="Random seed: same seed, same output.", rich_help_panel=GENERATION)]
Prefix = Annotated[Optional[str], typer.Option(help='Task prefix, e.g. "summarize: ". (default: the model\'s own)', rich_help_panel=GENERATION)]
EarlyStopping = Annotated[Optional[bool], typer.Option("--early-stopping/--no-early-stopping", help="Beam search: stop once num_beams summaries are finished. (default: the model's own, else off)", rich_help_panel=GENERATION, show_default=False)]
MaxWords = Annotated[Optional[int], typer.Option(help="Most words in the summary, cut back to whole words.", rich_help_panel=GENERATION)]
MinWords = Annotated[Optional[int], typer.Option(help="Fewest words in the summary, where the input allows.", rich_help_panel=GENERATION)]
MaxSentences = Annotated[Optional[int], typer.Option(help="Most sentences in the summary, never cut mid-sentence.", rich_help_panel=GENERATION)]
Ratio = Annotated[Optional[float], typer.Option(help="A summary of about this share of the input's words (0.1 = a tenth).", rich_help_panel=GENERATION)]
TargetLanguage = Annotated[Optional[str], typer.Option(help="mBART: the language code to write in (de_DE). (default: the input's)", rich_help_panel=GENERATION)]
Evidence = Annotated[Optional[bool], typer.Option("--evidence/--no-evidence", help="Find each summary sentence's source sentences (JSON's evidence, --cite). (default: on)", rich_help_panel=OUTPUT, show_default=False)]
Strict = Annotated[bool, typer.Option("--strict", help="Exit 1 when a summary has a warning (loops, is empty or longer than its input) or the input's language is not the model's.", rich_help_panel=OUTPUT)]
WholeSentences = Annotated[bool, typer.Option("--whole-sentences", help="Cut a summary stopped by --max-length back to its last complete sentence.", rich_help_panel=GENERATION)]
Method = Annotated[Optional[MethodChoice], typer.Option(help="t5, or an extractive baseline that needs no model. (default: t5)", rich_help_panel=METHOD)]
Sentences = Annotated[Optional[int], typer.Option(help="Sentences an extractive method picks. (default: 3)", rich_help_panel=METHOD)]
Strategy = Annotated[Optional[StrategyChoice], typer.Option(help="How a long document becomes one summary. (default: map-reduce)", rich_help_panel=CHUNKING)]
ChunkSize = Annotated[Optional[int], typer.Option(help="Tokens per chunk, prefix included. (default: the model's window)", rich_help_panel=CHUNKING)]
ChunkOverlap = Annotated[Optional[int], typer.Option(help="Tokens shared by consecutive chunks. (default: 0)", rich_help_panel=CHUNKING)]
ChunkMaxLength = Annotated[Optional[int], typer.Option(help="Most tokens per intermediate chunk summary. (default: the model's max length)", rich_help_panel=CHUNKING)]
ChunkMinLength = Annotated[Optional[int], typer.Option(help="Fewest tokens per intermediate chunk summary. (default: the model's min length)", rich_help_panel=CHUNKING)]
Backend = Annotated[Optional[BackendChoice], typer.Option(help="auto: ctranslate2 (faster on a CPU; pip install 'summarizer\\[fast]') when it can run the model and settings, else torch. (default: auto)", rich_help_panel=RUNTIME)]
Quantize = Annotated[Optional[QuantizeChoice], typer.Option(help="int8 weights: faster on CPU, slightly different output.", rich_help_panel=RUNTIME)]
BatchSize = Annotated[Optional[int], typer.Option(help="Chunks per generate() call. (default: 32 on CPU, 64 on GPU, divided by --num-beams)", rich_help_panel=RUNTIME)]
BatchTokens = Annotated[Optional[int], typer.Option(help="Most padded input tokens x beams per generate() call.", rich_help_panel=RUNTIME)]
Threads = Annotated[Optional[int], typer.Option(help="CPU threads for the model. (default: the backend's)", rich_help_panel=RUNTIME)]
Device = Annotated[Optional[DeviceChoice], typer.Option(help="auto prefers CUDA, then MPS, then CPU. (default: auto)", rich_help_panel=RUNTIME)]
Dtype = Annotated[Optional[DtypeChoice], typer.Option(help="auto: float32 on CPU, half precision on GPU. (default: auto)", rich_help_panel=RUNTIME)]
Attention = Annotated[Optional[AttentionChoice], typer.Option(help="hf: the library's attention; scratch: this project's. (default: hf)", rich_help_panel=RUNTIME)]
MaxInputSize = Annotated[Optional[str], typer.Option(help="Refuse a file, stdin or URL larger than this (K, M, G: powers of 1000). (default: 100M)", rich_help_panel=OUTPUT, metavar="SIZE")]
AllowPickle = Annotated[bool, typer.Option("--allow-pickle", help="Accept pickle (.bin) weights, which can run code when loaded.", rich_help_panel=RUNTIME)]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or report table.", rich_help_panel=OUTPUT)]
Debug = Annotated[bool, typer.Option("--debug", help="Show the traceback of an unexpected error.", rich_help_panel=OUTPUT)]

# Every settings option, by parameter name: (annotation, default). Defined once, given to each
# command that takes settings (summarize, eval, settings, serve) by `with_settings`.
SETTING_OPTIONS: dict[str, tuple[Any, Any]] = {
    "model": (Model, None), "config": (ConfigFile, None),
    "max_length": (MaxLength, None), "min_length": (MinLength, None), "max_words": (MaxWords, None),
    "min_words": (MinWords, None), "max_sentences": (MaxSentences, None), "ratio": (Ratio, None), "num_beams": (NumBeams, None),
    "temperature": (Temperature, None), "top_k": (TopK, None), "top_p": (TopP, None),
    "length_penalty": (LengthPenalty, None), "no_repeat_ngram_size": (NoRepeat, None),
    "repetition_penalty": (RepetitionPenalty, None), "early_stopping": (EarlyStopping, None), "seed": (Seed, None),
    "prefix": (Prefix, None), "target_language": (TargetLanguage, None), "whole_sentences": (WholeSentences, False),
    "strict": (Strict, False), "evidence": (Evidence, None),
    "method": (Method, None), "sentences": (Sentences, None),
    "strategy": (Strategy, None), "chunk_size": (ChunkSize, None), "chunk_overlap": (ChunkOverlap, None),
    "chunk_max_length": (ChunkMaxLength, None), "chunk_min_length": (ChunkMinLength, None),
    "backend": (Backend, None), "quantize": (Quantize, None), "batch_size": (BatchSize, None),
    "batch_tokens": (BatchTokens, None), "threads": (Threads, None), "device": (Device, None), "dtype": (Dtype, None),
    "attention": (Attention, None), "allow_pickle": (AllowPickle, False), "max_input_size": (MaxInputSize, None),
}
SETTING_FLAGS = tuple(name for name in SETTING_OPTIONS if name != "config")


def with_settings(command: Callable[..., None]) -> Callable[..., None]:
    """Add every settings option to `command`, which receives them as one dict, `flags`.

    Typer reads a command's options from its signature, so without this each of the four
    commands that take settings would list all thirty of them in its own."""
    hints = typing.get_type_hints(command, include_extras=True)  # this module's annotations are strings
    own = [p.replace(annotation=hints.get(p.name, p.annotation)) for p in inspect.signature(command).parameters.values()
           if p.name != "flags"]
    shared = [inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation)
              for name, (annotation, default) in SETTING_OPTIONS.items()]

    @functools.wraps(command)
    def wrapper(**values: Any) -> None:
        return command(flags={name: values.pop(name) for name in SETTING_OPTIONS}, **values)

    wrapper.__signature__ = inspect.Signature([p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own] + shared)
    return wrapper


ON_SWITCHES = ("whole_sentences", "allow_pickle", "strict")  # flags that can only turn a setting on


def _settings_layers(values: dict[str, Any]) -> tuple[Layer, ...]:
    """The user's layers (TOML preset, then flags), checked now, before any model loads.
    A boolean flag left off is "not set", so a preset can still turn it on."""
    config = values["config"]
    flags = {name: _value(values[name]) for name in SETTING_FLAGS}
    for name in ON_SWITCHES:
        flags[name] = flags[name] or None
    try:
        layers = (Layer(f"preset: {config}", load_toml(config) if config else {}), Layer("flag", flags))
        build_settings(*layers)
    except SettingsError as exc:
        raise fail(str(exc), EXIT_USAGE)
    return layers


@app.command("summarize", cls=_DefaultCommand, help="Summarize FILES, folders and URLs (or stdin) with a T5, BART, Pegasus, LED... model.", epilog=(
    "Other commands: `summarize settings`, `summarize check SUMMARY --source DOC`, `summarize eval PAIRS`, `summarize serve`, "
    "`summarize compare-attention` and `summarize attention-map FILE` (run them with --help)."
))
@with_settings
def summarize_command(
    paths: Optional[List[str]] = typer.Argument(None, help="Files, folders, http(s) URLs, or - for stdin. Default: stdin.", show_default=False),
    *, flags: dict[str, Any],
    output_format: Format = typer.Option(Format.text, "--format", "-f", help="Output format.", rich_help_panel=OUTPUT),
    output_dir: Optional[Path] = typer.Option(None, "--output-dir", "-o", help="Write one summary file per input here, mirroring relative paths.", rich_help_panel=OUTPUT),
    glob: Optional[List[str]] = typer.Option(None, "--glob", "-g", help="File pattern for folders; repeatable. (default: *.txt *.md *.pdf *.html *.htm)", rich_help_panel=OUTPUT),
    parts: bool = typer.Option(False, "--parts", help="JSON: add the chunk summaries as `parts`.", rich_help_panel=OUTPUT),
    cite: bool = typer.Option(False, "--cite", help="Text and Markdown: mark each sentence's source sentences ([1], [?] when none supports it) and list them, quoted.", rich_help_panel=OUTPUT),
    resume: bool = typer.Option(False, "--resume", help="With --output-dir: skip inputs already summarized with the same settings.", rich_help_panel=OUTPUT),
    overwrite: bool = typer.Option(False, "--overwrite", help="With --output-dir: replace files this tool did not write.", rich_help_panel=OUTPUT),
    engine: EngineChoice = typer.Option(EngineChoice.local, help="local, or ray (a Ray cluster; pip install 'summarizer\\[ray]').", rich_help_panel=CLUSTER),
    ray_address: Optional[str] = typer.Option(None, help="Ray cluster address (auto, ray://host:port). (default: start a local Ray)", rich_help_panel=CLUSTER),
    replicas: Optional[int] = typer.Option(None, min=1, help="Model replicas (Ray actors). (default: 1 per GPU, else 1)", rich_help_panel=CLUSTER),
    quiet: Quiet = False, debug: Debug = False,
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    from .commands.summarize import Request, execute

    layers = _settings_layers(flags)
    if not paths:
        if sys.stdin is None or sys.stdin.isatty():
            raise fail("no input: pass files, folders or URLs, or pipe text in (see --help)", EXIT_USAGE)
        paths = ["-"]
    if (resume or overwrite) and output_dir is None:
        raise fail("--resume and --overwrite need --output-dir", EXIT_USAGE)
    if engine.value == "local" and (ray_address or replicas):
        raise fail("--ray-address and --replicas need --engine ray", EXIT_USAGE)
    request = Request(
        paths=tuple(paths), layers=layers, fmt=output_format.value, output_dir=output_dir,
        globs=tuple(glob) if glob else None, quiet=quiet, parts=parts, cite=cite, resume=resume, overwrite=overwrite,
        debug=debug, engine=engine.value, ray_address=ray_address, replicas=replicas,
    )
    raise typer.Exit(execute(request))


@app.command("eval", help="Score summaries against references with ROUGE (and sweep settings).")
@with_settings
def eval_command(
    pairs: Path = typer.Argument(..., help="JSONL of {document, reference} lines, or a folder of NAME.txt + NAME.ref.txt."),
    *, flags: dict[str, Any],
    predictions: Optional[Path] = typer.Option(None, help="Score these summaries (one per line, <n> = newline) instead of generating.", rich_help_panel=EVAL),
    sweep: Optional[List[str]] = typer.Option(None, help="SETTING=V1,V2,... ; repeatable: the grid of all combinations.", rich_help_panel=EVAL),
    plot: Optional[Path] = typer.Option(None, help="Draw the sweep as a PNG (pip install 'summarizer\\[plot]').", rich_help_panel=EVAL),
    per_document: Optional[Path] = typer.Option(None, help="Write each document's scores and token counts here (JSONL).", rich_help_panel=EVAL),
    limit: Optional[int] = typer.Option(None, min=1, help="Only the first N pairs.", rich_help_panel=EVAL),
    output_format: TableOrJson = typer.Option(TableOrJson.text, "--format", "-f", help="text (a table) or json.", rich_help_panel=OUTPUT),
    quiet: Quiet = False, debug: Debug = False,
) -> None:
    from .evaluation.run import EvalRequest, execute_eval

    layers = _settings_layers(flags)
    if predictions is not None and sweep:
        raise fail("--predictions scores existing summaries; it cannot be swept", EXIT_USAGE)
    if plot is not None and not sweep:
        raise fail("--plot draws a sweep; add --sweep SETTING=V1,V2,...", EXIT_USAGE)
    raise typer.Exit(execute_eval(EvalRequest(
        pairs=pairs, layers=layers, predictions=predictions, sweeps=tuple(sweep or ()), plot=plot,
        per_document=per_document, limit=limit, fmt=output_format.value, quiet=quiet, debug=debug,
    )))


@app.command("settings", help="Show the settings a run would use, and where each value comes from (no weights load); with an input, the lengths its summary would get.")
@with_settings
def settings_command(
    path: Optional[str] = typer.Argument(None, help="An input (file, URL or -): also show the lengths its summary would get.", show_default=False),
    *, flags: dict[str, Any],
    output_format: TableOrJson = typer.Option(TableOrJson.text, "--format", "-f", help="text (a table) or json.", rich_help_panel=OUTPUT),
) -> None:
    from .commands.settings import execute_settings

    raise typer.Exit(execute_settings(_settings_layers(flags), output_format.value, path))


SERVER = "Server"


@app.command("serve", help="Serve the summarizer over HTTP: a JSON API, and a web page at /.")
@with_settings
def serve_command(
    *, flags: dict[str, Any],
    host: str = typer.Option("127.0.0.1", help="Address to listen on. Anything but loopback exposes the model to your network: set --api-key.", rich_help_panel=SERVER),
    port: int = typer.Option(8000, min=0, max=65535, help="Port to listen on (0: any free one).", rich_help_panel=SERVER),
    allow_urls: bool = typer.Option(False, "--allow-urls", help="Let requests name URLs for the server to fetch (off: a server that fetches any URL is an SSRF hole).", rich_help_panel=SERVER),
    max_body_size: str = typer.Option("10M", metavar="SIZE", help="Largest request body (413 past it).", rich_help_panel=SERVER),
    queue_size: int = typer.Option(64, min=1, help="Documents waiting or running at once (503 past it).", rich_help_panel=SERVER),
    timeout: float = typer.Option(300.0, min=1, max=86400, help="Seconds a request may wait for its summary (504 past it; its work is dropped).", rich_help_panel=SERVER),
    max_input_tokens: int = typer.Option(MAX_INPUT_TOKENS, min=1, help="Input tokens one request may have (422 past it).", rich_help_panel=SERVER),
    max_new_tokens: Optional[int] = typer.Option(None, min=1, help="Most tokens a request may ask a summary or chunk summary to have: max_length, min_length, the chunk lengths (422 past it). (default: 256, or the server's own lengths if longer)", rich_help_panel=SERVER),
    max_beams: Optional[int] = typer.Option(None, min=1, help="Most beams a request may ask for (422 past it). (default: 4, or the server's own num_beams if more)", rich_help_panel=SERVER),
    grace: float = typer.Option(30.0, min=0, max=86400, help="Seconds requests in flight get after SIGTERM or Ctrl-C; then the rest are answered 503 and the server exits.", rich_help_panel=SERVER),
    keep_alive: float = typer.Option(5.0, min=0.1, max=3600, help="Seconds an idle connection (or one that sends no request) stays open.", rich_help_panel=SERVER),
    max_connections: int = typer.Option(128, min=1, help="Open connections at once (a request past them is answered 503).", rich_help_panel=SERVER),
    api_key: Optional[str] = typer.Option(None, envvar="SUMMARIZER_API_KEY", show_envvar=True, show_default=False, help="Require 'Authorization: Bearer KEY' on /v1/* (401 without it). Prefer the environment variable: a flag shows in `ps`.", rich_help_panel=SERVER),
    quiet: Quiet = False,
) -> None:
    from .commands.serve import execute_serve

    layers = _settings_layers(flags)
    limits = dict(max_body=max_body_size, queue=queue_size, timeout=timeout, allow_urls=allow_urls,
                  max_input_tokens=max_input_tokens, max_new_tokens=max_new_tokens, max_beams=max_beams, grace=grace,
                  keep_alive=keep_alive, max_connections=max_connections, api_key=api_key)
    raise typer.Exit(execute_serve(layers, host, port, limits, quiet))


@app.command("check", help="Check a summary against its source: the source sentences behind each of its sentences, and what none of them say. Exit 0 when every sentence is supported, 1 when one is not, 2 when the check cannot be made.")
def check_command(
    summary: str = typer.Argument(..., help="The summary: a file, or - for stdin."),
    source: str = typer.Option(..., "--source", "-s", help="The document it summarizes: a file, an http(s) URL, or - for stdin."),
    model: Optional[str] = typer.Option(None, "--model", "-m", help="Also weigh this model's cross-attention (loads its torch weights)."),
    output_format: TableOrJson = typer.Option(TableOrJson.text, "--format", "-f", help="text (each sentence with its verdict) or json."),
    debug: Debug = False,
) -> None:
    from .commands.check import CheckRequest, execute_check

    raise typer.Exit(execute_check(CheckRequest(summary=summary, source=source, model=model, fmt=output_format.value,
                                                debug=debug)))


@app.command("compare-attention", help="Compare the from-scratch attention with the library's on one model.")
def compare_attention_command(
    model: str = typer.Option(DEFAULT_MODEL, "--model", "-m", help="Hub id or local folder."),
    tokens: int = typer.Option(512, min=1, help="Input tokens per sequence."),
    batch: int = typer.Option(1, min=1, help="Sequences per batch (padded to different lengths)."),
    new_tokens: int = typer.Option(64, min=1, help="Generated tokens, forced (min = max)."),
    repeats: int = typer.Option(3, min=1, help="Timed runs per implementation (median)."),
    device: DeviceChoice = typer.Option(DeviceChoice.auto, help="Where to run."),
    dtype: DtypeChoice = typer.Option(DtypeChoice.auto, help="Precision."),
    output_format: TableOrJson = typer.Option(TableOrJson.text, "--format", "-f", help="text (a table) or json."),
) -> None:
    from .commands.attention import CompareRequest, execute_compare

    raise typer.Exit(execute_compare(CompareRequest(
        model=model, device=device.value, dtype=dtype.value, tokens=tokens, batch=batch,
        new_tokens=new_tokens, repeats=repeats, fmt=output_format.value,
    )))


@app.command("attention-map", help="Show which source tokens the summary attended to (decoder cross-attention).")
def attention_map_command(
    path: str = typer.Argument(..., help="A text file, or - for stdin."),
    model: str = typer.Option(DEFAULT_MODEL, "--model", "-m", help="Hub id or local folder."),
    layer: Optional[int] = typer.Option(None, help="Decoder layer, 0-based. (default: the last)"),
    head: Optional[int] = typer.Option(None, help="One head, 0-based. (default: mean over heads)"),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write a heatmap PNG (needs matplotlib: pip install 'summarizer\\[plot]')."),
    max_length: int = typer.Option(32, min=1, help="Most summary tokens."),
    device: DeviceChoice = typer.Option(DeviceChoice.auto, help="Where to run."),
    dtype: DtypeChoice = typer.Option(DtypeChoice.auto, help="Precision."),
) -> None:
    from .commands.attention import MapRequest, execute_attention_map

    raise typer.Exit(execute_attention_map(MapRequest(
        path=path, model=model, layer=layer, head=head, out=out, max_length=max_length,
        device=device.value, dtype=dtype.value,
    )))


def main() -> None:
    """The `summarize` script."""
    atexit.register(_skip_teardown)  # registered first, so it runs after every other exit handler
    try:
        app(prog_name="summarize")
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            _exit_code.append(exc.code or 0)
        raise


_exit_code: list[int] = []


def _skip_teardown() -> None:
    """Leave without the interpreter's teardown once the command has finished cleanly.

    With torch and transformers loaded, freeing every module and the model took 1.0 s of a
    4.7 s one-file run here, after the last summary was written (bench_scaling's "first s").
    By now threads are joined and the other exit handlers have run; outputs were written and
    closed by the command, so only the standard streams need flushing. An uncaught exception
    or a message exit takes the normal way out.
    """
    if not _exit_code:
        return
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a reader that went away, or a closed stream
            pass
    os._exit(_exit_code[0])
