"""Command-line arguments, and nothing else: each command turns flags into settings and calls in.

stdout carries only summaries (or JSON); notes, warnings, progress and the report table go to
stderr, so `summarize a.txt > out.txt` and pipes stay clean.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Any, List, Optional

import click
import typer
from typer.core import TyperGroup

from . import __version__
from .config import ATTENTION_CHOICES, DEFAULT_MODEL, FORMATS, ConfigError, build_settings, load_toml
from .device import DEVICE_CHOICES, DTYPE_CHOICES
from .run import EXIT_USAGE, error



def _choices(name: str, values: tuple[str, ...]) -> type[Enum]:
    """A str Enum for Typer, built from the tuple its module owns, so the two never drift."""
    return Enum(name, {value: value for value in values}, type=str)


Format = _choices("Format", FORMATS)
DeviceChoice = _choices("DeviceChoice", DEVICE_CHOICES)
DtypeChoice = _choices("DtypeChoice", DTYPE_CHOICES)
AttentionChoice = _choices("AttentionChoice", ATTENTION_CHOICES)
TableOrJson = _choices("TableOrJson", ("text", "json"))


class DefaultToSummarize(TyperGroup):
    """`summarize FILE` runs the summarize command; named subcommands still work."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0] not in self.commands:
            args = ["summarize", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=DefaultToSummarize,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Summarize text files, folders or stdin with T5 models.",
)

GENERATION = "Generation"
CHUNKING = "Long documents"
RUNTIME = "Model and device"
OUTPUT = "Input and output"


def fail(message: str, code: int) -> typer.Exit:
    error(message)
    return typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"summarize {__version__}")
        raise typer.Exit()


def _value(option: Any) -> Any:
    return option.value if isinstance(option, Enum) else option


def _user_layers(config: Optional[Path], flags: dict[str, Any]) -> list[dict[str, Any]]:
    """TOML preset under flags; both are checked now, before any model loads."""
    layers = [load_toml(config) if config else {}, {k: _value(v) for k, v in flags.items()}]
    build_settings(*layers)
    return layers


@app.command("summarize", help="Summarize FILES and folders (or stdin) with a T5 model.", epilog=(
    "Other commands: `summarize compare-attention` and `summarize attention-map FILE` "
    "(run them with --help)."
))
def summarize_command(
    paths: Optional[List[str]] = typer.Argument(None, help="Files, folders, or - for stdin. Default: stdin.", show_default=False),
    model: Optional[str] = typer.Option(None, "--model", "-m", help=f"Hub id or local folder. (default: {DEFAULT_MODEL})", rich_help_panel=RUNTIME),
    config: Optional[Path] = typer.Option(None, "--config", "-c", help="TOML preset (see configs/); flags override it.", rich_help_panel=RUNTIME),
    max_length: Optional[int] = typer.Option(None, help="Most summary tokens per chunk.", rich_help_panel=GENERATION),
    min_length: Optional[int] = typer.Option(None, help="Fewest summary tokens per chunk.", rich_help_panel=GENERATION),
    num_beams: Optional[int] = typer.Option(None, help="Beam search width (1 = greedy).", rich_help_panel=GENERATION),
    temperature: Optional[float] = typer.Option(None, help="> 0 turns on sampling.", rich_help_panel=GENERATION),
    top_k: Optional[int] = typer.Option(None, help="Sampling: keep the k most likely tokens.", rich_help_panel=GENERATION),
    top_p: Optional[float] = typer.Option(None, help="Sampling: nucleus probability mass.", rich_help_panel=GENERATION),
    length_penalty: Optional[float] = typer.Option(None, help="Beam search: > 1 favours longer summaries.", rich_help_panel=GENERATION),
    no_repeat_ngram_size: Optional[int] = typer.Option(None, help="Forbid repeating n-grams of this size.", rich_help_panel=GENERATION),
    repetition_penalty: Optional[float] = typer.Option(None, help="> 1 discourages repeated tokens.", rich_help_panel=GENERATION),
    seed: Optional[int] = typer.Option(None, help="Random seed: same seed, same output.", rich_help_panel=GENERATION),
    prefix: Optional[str] = typer.Option(None, help='Task prefix, e.g. "summarize: ". (default: the model\'s own)', rich_help_panel=GENERATION),
    chunk_size: Optional[int] = typer.Option(None, help="Tokens per chunk, prefix included. (default: the model's window)", rich_help_panel=CHUNKING),
    chunk_overlap: Optional[int] = typer.Option(None, help="Tokens shared by consecutive chunks. (default: 0)", rich_help_panel=CHUNKING),
    batch_size: Optional[int] = typer.Option(None, help="Chunks per generate() call. (default: 8 on CPU, 16 on GPU)", rich_help_panel=RUNTIME),
    device: Optional[DeviceChoice] = typer.Option(None, help="auto prefers CUDA, then MPS, then CPU. (default: auto)", rich_help_panel=RUNTIME),
    dtype: Optional[DtypeChoice] = typer.Option(None, help="auto: float32 on CPU, half precision on GPU. (default: auto)", rich_help_panel=RUNTIME),
    attention: Optional[AttentionChoice] = typer.Option(None, help="hf: the library's attention; scratch: this project's. (default: hf)", rich_help_panel=RUNTIME),
    output_format: Format = typer.Option(Format.text, "--format", "-f", help="Output format.", rich_help_panel=OUTPUT),
    output_dir: Optional[Path] = typer.Option(None, "--output-dir", "-o", help="Write one summary file per input here, mirroring relative paths.", rich_help_panel=OUTPUT),
    glob: Optional[List[str]] = typer.Option(None, "--glob", "-g", help="File pattern for folders; repeatable. (default: *.txt *.md)", rich_help_panel=OUTPUT),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bars or report table.", rich_help_panel=OUTPUT),
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version and exit."),
) -> None:
    from .run import Request, execute

    flags = dict(
        model=model, max_length=max_length, min_length=min_length, num_beams=num_beams,
        temperature=temperature, top_k=top_k, top_p=top_p, length_penalty=length_penalty,
        no_repeat_ngram_size=no_repeat_ngram_size, repetition_penalty=repetition_penalty, seed=seed,
        prefix=prefix, chunk_size=chunk_size, chunk_overlap=chunk_overlap, batch_size=batch_size,
        device=device, dtype=dtype, attention=attention,
    )
    try:
        layers = _user_layers(config, flags)
    except ConfigError as exc:
        raise fail(str(exc), EXIT_USAGE)
    if not paths:
        if sys.stdin is None or sys.stdin.isatty():
            raise fail("no input: pass files or folders, or pipe text in (see --help)", EXIT_USAGE)
        paths = ["-"]
    request = Request(
        paths=tuple(paths), layers=tuple(layers), fmt=output_format.value,
        output_dir=output_dir, globs=tuple(glob) if glob else None, quiet=quiet,
    )
    raise typer.Exit(execute(request))


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
    from .run import CompareRequest, execute_compare

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
    from .run import MapRequest, execute_attention_map

    raise typer.Exit(execute_attention_map(MapRequest(
        path=path, model=model, layer=layer, head=head, out=out, max_length=max_length,
        device=device.value, dtype=dtype.value,
    )))


def main() -> None:
    app(prog_name="summarize")
