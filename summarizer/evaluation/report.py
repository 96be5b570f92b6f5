"""Rich tables for `summarize eval`: one result, or one row per sweep grid point.

Pure: result in, `rich.table.Table` out; the CLI prints it (to stderr, like the run report).
Sweep rows are grid points merged with their eval results, as in `plot`.
"""

from __future__ import annotations

from typing import Any, Sequence

from rich import box
from rich.table import Table
from rich.text import Text

from ..report import format_ratio
from .rouge import ROUGE_KEYS
from .sweep import format_value

ROUGE_LABELS = {"rouge1": "ROUGE-1", "rouge2": "ROUGE-2", "rougeL": "ROUGE-L", "rougeLsum": "ROUGE-Lsum"}
_SHORT_LABELS = {"rouge1": "R-1", "rouge2": "R-2", "rougeL": "R-L", "rougeLsum": "R-Lsum"}


def eval_table(result: dict[str, Any]) -> Table:
    """One row per ROUGE metric (mean and 95% CI), the run's other means in the caption."""
    table = Table(
        title=f"ROUGE F1 x 100 over {result['documents']} documents", title_justify="left",
        caption=_caption(result), caption_justify="left",
    )
    table.add_column("metric")
    table.add_column("mean", justify="right")
    table.add_column("95% CI", justify="right")
    for key in ROUGE_KEYS:
        score = result[key]
        table.add_row(ROUGE_LABELS[key], f"{score['mean']:.2f}", f"{score['ci_low']:.2f} - {score['ci_high']:.2f}")
    return table


def _caption(result: dict[str, Any]) -> str:
    return (
        f"mean {result.get('counted_in', 'tokens')} in {result['input_tokens']:.1f}, out {result['summary_tokens']:.1f}\n"
        f"compression {format_ratio(result['compression_ratio'])}, "
        f"{_seconds(result['seconds_per_document'])} s/document"
    )


def _seconds(value: float) -> str:
    """Two decimals, three below 0.1 s, so a fast model does not read as taking no time."""
    return f"{value:.2f}" if value >= 0.1 else f"{value:.3f}"


def sweep_table(rows: Sequence[dict[str, Any]], axes: Sequence[tuple[str, Sequence[Any]]]) -> Table:
    """One row per grid point: the swept values, ROUGE means, summary length, ratio, time.

    The best mean of each ROUGE metric is bold, so the winning settings stand out.
    """
    names = [name for name, _ in axes]
    documents = rows[0]["documents"] if rows else 0
    table = Table(
        title=f"sweep: ROUGE F1 x 100, means over {documents} documents", title_justify="left",
        box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True,  # room for the swept values
    )
    for name in names:
        table.add_column(name.replace("_", " "), overflow="fold")
    for key in ROUGE_KEYS:
        table.add_column(_SHORT_LABELS[key], justify="right", no_wrap=True)
    for header in (rows[0].get("counted_in", "tokens") if rows else "tokens", "ratio", "s/doc"):
        table.add_column(header, justify="right", no_wrap=True)
    best = {key: max((row[key]["mean"] for row in rows), default=None) for key in ROUGE_KEYS}
    for row in rows:
        scores = [
            Text(f"{row[key]['mean']:.2f}", style="bold" if row[key]["mean"] == best[key] else "")
            for key in ROUGE_KEYS
        ]
        table.add_row(
            *(format_value(row[name]) for name in names),
            *scores,
            f"{row['summary_tokens']:.1f}",
            format_ratio(row["compression_ratio"]),
            _seconds(row["seconds_per_document"]),
        )
    return table
