"""The numbers of a run and their renderings: text, JSON, JSON lines, Markdown, rich table.

Renderers are pure (result in, string out) so the CLI decides where each string goes: summaries
to stdout or files, the report table to stderr.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Sequence


@dataclass(frozen=True)
class Summary:
    """One document's outcome. `error` set means it failed and `summary` is empty."""

    source: str
    summary: str
    input_tokens: int
    summary_tokens: int
    chunks: int
    model: str
    device: str
    seconds: float
    levels: int = 1
    error: str | None = None
    warning: str | None = None
    parts: tuple[str, ...] | None = None
    counted_in: str = "tokens"
    model_type: str | None = None  # the family's config model_type ("t5", "bart"...); None for extractive methods
    backend: str | None = None  # the backend that ran ("torch", "ctranslate2"); None without a model
    note: str | None = None  # something worth knowing that is not a problem (an input returned as is)
    language: str | None = None  # the input's language (ISO 639-1), where it was detected
    # What the final pass read (prefix, ids, </s>): for showing its attention; not part of the JSON.
    final_input: tuple[int, ...] = field(default=(), compare=False, repr=False)

    @property
    def compression_ratio(self) -> float | None:
        """input_tokens / summary_tokens; None when the summary is empty (nothing to divide by)."""
        if self.summary_tokens == 0:
            return None
        return self.input_tokens / self.summary_tokens

    def to_dict(self, parts: bool = False) -> dict[str, Any]:
        """The JSON record; `parts` adds the chunk summaries (in document order)."""
        ratio = self.compression_ratio
        data: dict[str, Any] = {
            "source": self.source,
            "summary": self.summary,
            "input_tokens": self.input_tokens,
            "summary_tokens": self.summary_tokens,
            "compression_ratio": round(ratio, 3) if ratio is not None else None,
            "chunks": self.chunks,
            "levels": self.levels,
            "model": self.model,
            "model_type": self.model_type,
            "backend": self.backend,
            "device": self.device,
            "seconds": round(self.seconds, 3),
        }
        if self.counted_in != "tokens":
            data["counted_in"] = self.counted_in
        if parts and self.parts is not None:
            data["parts"] = list(self.parts)
        data["language"] = self.language
        if self.error is not None:
            data["error"] = self.error
        if self.warning is not None:
            data["warning"] = self.warning
        if self.note is not None:
            data["note"] = self.note
        return data


def render(summary: Summary, fmt: str, *, with_header: bool = False, parts: bool = False) -> str:
    """One document as it appears on stdout or in its output file."""
    if fmt == "json":
        return json.dumps(summary.to_dict(parts), ensure_ascii=False, indent=2) + "\n"
    if fmt == "jsonl":
        return json.dumps(summary.to_dict(parts), ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return f"## {summary.source}\n\n{summary.summary}\n\n"
    if with_header:
        return f"==> {summary.source} <==\n{summary.summary}\n\n"
    return summary.summary + "\n"


def render_json_list(summaries: Sequence[Summary], parts: bool = False) -> str:
    return json.dumps([s.to_dict(parts) for s in summaries], ensure_ascii=False, indent=2) + "\n"


def format_ratio(ratio: float | None) -> str:
    return f"{ratio:.1f}x" if ratio is not None else "n/a"


def report_table(summaries: Sequence[Summary], wall_seconds: float, width: int = 80):
    """A rich Table: per document tokens in/out, ratio, chunks, time and language; the title has
    the run's output tokens per second.

    Each row stays on one line of a `width`-column terminal: the numbers are kept whole and
    source names too long for what is left are shortened from the left (`…/short.txt`). A
    summary with a warning (it loops, is empty, or is longer than its input) is marked `!`."""
    from rich.table import Table

    done = [s for s in summaries if s.error is None]
    total_in = sum(s.input_tokens for s in done)
    total_out = sum(s.summary_tokens for s in done)
    unit = done[0].counted_in if done else "tokens"  # "words" when an extractive method had no tokenizer
    rate = _rate(total_out, wall_seconds)
    title = f"summarize report{'' if rate == '-' else f': {rate} {unit} out per second'}"
    table = Table(title=title, title_justify="left", show_footer=len(summaries) > 1)
    columns = [
        ("source", "total", "left"),
        (f"{unit} in", str(total_in), "right"),
        (f"{unit} out", str(total_out), "right"),
        ("ratio", format_ratio(total_in / total_out if total_out else None), "right"),
        ("chunks", str(sum(s.chunks for s in done)), "right"),
        ("seconds", f"{wall_seconds:.2f}", "right"),
        ("lang", "", "left"),
    ]
    rows = [
        (s.source, "-", "-", "failed", "-", "-", "-") if s.error is not None else (
            f"! {s.source}" if s.warning else s.source, str(s.input_tokens), str(s.summary_tokens),
            format_ratio(s.compression_ratio), str(s.chunks), f"{s.seconds:.2f}", s.language or "-",
        )
        for s in summaries
    ]
    numbers = sum(max(len(header), len(footer), *(len(row[i]) for row in rows)) for i, (header, footer, _) in enumerate(columns) if i)
    room = max(8, width - numbers - (3 * len(columns) + 1))  # each column pads 1 + 1 and has a border
    for header, footer, justify in columns:
        table.add_column(header, footer=footer if header != "source" else shorten_left(footer, room), justify=justify, no_wrap=True)
    for s, row in zip(summaries, rows):
        marked = row[0].startswith("! ") and s.error is None
        name = "! " + shorten_left(row[0][2:], room - 2) if marked else shorten_left(row[0], room)
        table.add_row(name, *row[1:], style="red" if s.error is not None else "yellow" if marked else None)
    if any(s.warning and s.error is None for s in summaries):
        table.caption, table.caption_justify = "! a summary with a warning (said above)", "left"
    return table


def shorten_left(name: str, width: int) -> str:
    """`name` in at most `width` characters: leading folders give way first (…/short.txt),
    then the start of the name itself."""
    if len(name) <= width:
        return name
    parts = name.split("/")
    while len(parts) > 1 and len("…/" + "/".join(parts[1:])) > width:
        parts = parts[1:]
    if len(parts) > 1:
        return "…/" + "/".join(parts[1:])
    return "…" + name[len(name) - width + 1:]


def _rate(tokens: int, seconds: float) -> str:
    return f"{tokens / seconds:.1f}" if seconds > 0 else "-"
