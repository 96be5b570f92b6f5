"""The numbers of a run and their renderings: text, JSON, JSON lines, Markdown, rich table.

Renderers are pure (result in, string out) so the CLI decides where each string goes: summaries
to stdout or files, the report table to stderr.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from .evidence import Evidence


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
    evidence: "Evidence | None" = None  # each summary sentence's source sentences; None: not checked
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
        if self.evidence is not None:
            grounded = self.evidence.to_dict()
            data.update(evidence=grounded["sentences"], supported=grounded["supported"], sentences=grounded["total"],
                        coverage=grounded["coverage"])
        elif self.error is None:
            data["evidence"] = None  # not checked (--no-evidence)
        if self.error is not None:
            data["error"] = self.error
        if self.warning is not None:
            data["warning"] = self.warning
        if self.note is not None:
            data["note"] = self.note
        return data


def render(summary: Summary, fmt: str, *, with_header: bool = False, parts: bool = False, cite: bool = False) -> str:
    """One document as it appears on stdout or in its output file; `cite` marks each sentence's
    sources in text and Markdown (JSON always carries the evidence)."""
    if fmt == "json":
        return json.dumps(summary.to_dict(parts), ensure_ascii=False, indent=2) + "\n"
    if fmt == "jsonl":
        return json.dumps(summary.to_dict(parts), ensure_ascii=False) + "\n"
    text = cited(summary, markdown=fmt == "markdown") if cite else summary.summary
    if fmt == "markdown":
        return f"## {summary.source}\n\n{text}\n\n"
    if with_header:
        return f"==> {summary.source} <==\n{text}\n\n"
    return text + "\n"


def render_json_list(summaries: Sequence[Summary], parts: bool = False) -> str:
    return json.dumps([s.to_dict(parts) for s in summaries], ensure_ascii=False, indent=2) + "\n"


def format_ratio(ratio: float | None) -> str:
    return f"{ratio:.1f}x" if ratio is not None else "n/a"


def report_table(summaries: Sequence[Summary], wall_seconds: float, width: int = 80):
    """A rich Table: per document tokens in and out, ratio, chunks, time, language, and how many
    summary sentences the source supports; the title names the unit and the run's output rate.

    Each row stays on one line of a `width`-column terminal: the numbers are kept whole and
    source names too long for what is left are shortened from the left (`…/short.txt`). A
    summary with a warning (it loops, is empty, or is longer than its input) is marked `!`."""
    from rich.table import Table

    done = [s for s in summaries if s.error is None]
    total_in = sum(s.input_tokens for s in done)
    total_out = sum(s.summary_tokens for s in done)
    unit = done[0].counted_in if done else "tokens"  # "words" when an extractive method had no tokenizer
    rate = _rate(total_out, wall_seconds)
    title = f"summarize report, in {unit}{'' if rate == '-' else f' ({rate} out per second)'}"
    table = Table(title=title, title_justify="left", show_footer=len(summaries) > 1)
    checked = [s.evidence for s in done if s.evidence is not None]
    columns = [
        ("source", "total", "left"),
        ("in", str(total_in), "right"),
        ("out", str(total_out), "right"),
        ("ratio", format_ratio(total_in / total_out if total_out else None), "right"),
        ("chunks", str(sum(s.chunks for s in done)), "right"),
        ("s", f"{wall_seconds:.2f}", "right"),
        ("lang", "", "left"),
        ("supported", f"{sum(e.supported for e in checked)}/{sum(e.total for e in checked)}" if checked else "-", "right"),
    ]
    rows = [
        (s.source, "-", "-", "failed", "-", "-", "-", "-") if s.error is not None else (
            f"! {s.source}" if s.warning else s.source, str(s.input_tokens), str(s.summary_tokens),
            format_ratio(s.compression_ratio), str(s.chunks), f"{s.seconds:.2f}", s.language or "-",
            f"{s.evidence.supported}/{s.evidence.total}" if s.evidence is not None else "-",
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


# -- evidence, for people ----------------------------------------------------------------------


NOTHING_LIKE_IT = "no sentence of the source says it"


def cited(summary: Summary, markdown: bool = False) -> str:
    """The summary with each sentence's sources marked (`[2][5]`, Markdown footnotes `[^2]`), an
    unsupported sentence marked `[?]`, then the numbered source sentences, quoted, with their
    line (or page), and what each unsupported sentence says that the source does not."""
    evidence = summary.evidence
    if evidence is None:
        return summary.summary
    numbers: dict[tuple[int, int], int] = {}
    sources, doubts, out, at = [], [], [], 0
    # Footnote labels are the document's own, so several documents in one Markdown file keep theirs apart.
    slug = re.sub(r"[^0-9A-Za-z]+", "-", summary.source.rsplit("/", 1)[-1]).strip("-").lower() or "source"
    for n, sentence in enumerate(evidence.sentences, 1):
        out.append(summary.summary[at:sentence.end])
        at = sentence.end
        marks = []
        if not sentence.supported:
            label = f"{slug}-q{n}" if markdown else "?"
            marks.append(f"[^{label}]" if markdown else "[?]")
            # A sentence nothing in the source resembles: listing its every word would be noise.
            missing = ", ".join(sentence.unsupported) if sentence.evidence and sentence.unsupported else NOTHING_LIKE_IT
            doubts.append((label, f'"{_flat(sentence.text)}" is not supported by the source: {missing}'))
        for source in sentence.evidence:
            key = (source.start, source.end)
            if key not in numbers:
                numbers[key] = len(numbers) + 1
                where = f"page {source.page}" if source.page is not None else f"line {source.line}"
                sources.append((numbers[key], f'{where}: "{_flat(source.text)}"'))
            marks.append(f"[^{slug}-{numbers[key]}]" if markdown else f"[{numbers[key]}]")
        out.append("".join(marks))
    out.append(summary.summary[at:])
    notes = [f"[^{slug}-{n}]: {line}" if markdown else f"[{n}] {line}" for n, line in sources]
    notes += [f"[^{label}]: {line}" if markdown else f"[?] {line}" for label, line in doubts]
    return "".join(out).rstrip() + ("\n\n" + "\n".join(notes) if notes else "")


def render_check(evidence: "Evidence", width: int | None = None) -> str:
    """`summarize check`'s text output: each summary sentence with its verdict and score, what it
    says that the source does not, and its evidence (line or page, quoted); then the totals.
    With `width` (a terminal's), long lines wrap under their own indent."""
    lines = []
    for n, sentence in enumerate(evidence.sentences, 1):
        verdict = "supported" if sentence.supported else "NOT SUPPORTED"
        lines.append(f"{n}. {verdict} ({sentence.score:.2f}): {_flat(sentence.text)}")
        if not sentence.supported and not sentence.evidence:
            lines.append(f"   {NOTHING_LIKE_IT}")
        elif sentence.unsupported:
            lines.append(f"   not in the source: {', '.join(sentence.unsupported)}")
        for source in sentence.evidence:
            where = f"page {source.page}" if source.page is not None else f"line {source.line}"
            lines.append(f'   {where}: "{_flat(source.text)}"')
    coverage = evidence.coverage
    drawn = ", ".join(unit.label for unit in coverage.units if unit.sentences)
    parts = {"chunk": "chunks", "page": "pages", "heading": "sections", "position": "fifths"}.get(
        coverage.units[0].kind if coverage.units else "", "parts")
    lines.append(f"{evidence.supported} of {evidence.total} sentences supported; the summary draws on "
                 f"{coverage.cited} of {coverage.total} {parts} of the source{f' ({drawn})' if drawn else ''}")
    if width:
        import textwrap

        lines = [textwrap.fill(line, width, subsequent_indent=" " * (len(line) - len(line.lstrip()) + 3)) for line in lines]
    return "\n".join(lines) + "\n"


def _flat(text: str) -> str:
    return " ".join(text.split())


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
