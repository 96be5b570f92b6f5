"""A sweep as a picture: ROUGE and summary length against the first swept setting.

A sweep row is one grid point merged with its eval result: `{**point, **aggregate(...)}`,
so `row["temperature"]` is the swept value and `row["rouge1"]["mean"]` its score.
matplotlib is imported lazily (the `plot` extra), and only its object API is used, so no
global pyplot state or display backend is involved.
"""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from ..outputs import write_atomic
from .sweep import format_value

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# (key, label, line style, marker): the metric is told by line style, the group by colour.
METRICS = (("rouge1", "ROUGE-1", "-", "o"), ("rouge2", "ROUGE-2", "--", "s"), ("rougeL", "ROUGE-L", ":", "^"))
Axes = Sequence[tuple[str, Sequence[Any]]]


class PlotUnavailable(ImportError):
    """matplotlib is not installed."""


def _figure_class():
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise PlotUnavailable("plotting a sweep needs matplotlib: pip install 'summarizer[plot]'") from err
    return Figure


def _numeric(values: Sequence[Any]) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _groups(rows: Sequence[dict[str, Any]], axes: Axes) -> list[tuple[str, list[dict[str, Any] | None]]]:
    """One (legend label, rows along the first axis) per combination of the other axes.

    A grid point with no row (it failed) is None, drawn as a gap.
    """
    names = [name for name, _ in axes]
    by_point = {tuple(row[name] for name in names): row for row in rows}
    first_values = axes[0][1]
    result = []
    for rest in itertools.product(*(values for _, values in axes[1:])):
        label = ", ".join(f"{name}={format_value(value)}" for name, value in zip(names[1:], rest))
        result.append((label, [by_point.get((x, *rest)) for x in first_values]))
    return result


def sweep_figure(rows: Sequence[dict[str, Any]], axes: Axes, model: str | None = None) -> Figure:
    """The two-panel Figure (ROUGE with 95% CI bars | mean summary tokens), not yet saved."""
    Figure = _figure_class()
    x_name, x_values = axes[0][0], list(axes[0][1])
    numeric = _numeric(x_values)
    positions = [float(v) for v in x_values] if numeric else list(range(len(x_values)))
    lines = _groups(rows, axes)
    # Nudge the groups apart a little so their error bars do not sit on top of each other.
    span = (max(positions) - min(positions)) or 1.0
    step = span * 0.012 if numeric else 0.06

    figure = Figure(figsize=(11, 5.2), layout="constrained")
    rouge_ax, tokens_ax = figure.subplots(1, 2)
    palette = [f"C{i}" for i in range(10)]
    for g, (label, points) in enumerate(lines):
        offset = (g - (len(lines) - 1) / 2) * step
        xs = [p + offset for p in positions]
        for m, (key, _, style, marker) in enumerate(METRICS):
            colour = palette[g % 10] if len(lines) > 1 else palette[m]
            means = [row[key]["mean"] if row is not None else float("nan") for row in points]
            below = [row[key]["mean"] - row[key]["ci_low"] if row is not None else 0.0 for row in points]
            above = [row[key]["ci_high"] - row[key]["mean"] if row is not None else 0.0 for row in points]
            rouge_ax.errorbar(xs, means, yerr=[below, above], color=colour, linestyle=style, marker=marker,
                              markersize=5, elinewidth=1, alpha=0.9)
        tokens = [row["summary_tokens"] if row is not None else float("nan") for row in points]
        tokens_ax.plot(xs, tokens, color=palette[g % 10], marker="o", markersize=5, label=label or None)

    for ax in (rouge_ax, tokens_ax):
        ax.set_xticks(positions, [format_value(v) for v in x_values])
        ax.set_xlabel(x_name)
        ax.grid(alpha=0.3)
    rouge_ax.set_title("ROUGE (mean, 95% bootstrap CI)")
    rouge_ax.set_ylabel("ROUGE F1 x 100")
    tokens_ax.set_title("Summary length")
    tokens_ax.set_ylabel("mean summary length (tokens)")
    tokens_ax.set_ylim(bottom=0)

    _metric_legend(rouge_ax, single_group=len(lines) == 1)
    if len(lines) > 1:
        # Beside the panels, one entry per line: any number of groups, any label length, no data covered.
        figure.legend(*tokens_ax.get_legend_handles_labels(), loc="outside right center", frameon=False)
    title = f"ROUGE and summary length vs {x_name}"
    documents = rows[0].get("documents") if rows else None
    name = Path(model).name if model and Path(model).is_dir() else model  # a folder's name, not its whole path
    details = ", ".join(part for part in (name, f"{documents} documents" if documents else None) if part)
    figure.suptitle(f"{title} ({details})" if details else title)
    return figure


def _metric_legend(ax, single_group: bool) -> None:
    """Below the ROUGE panel: which line style is which metric (colours belong to the groups)."""
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=f"C{m}" if single_group else "0.3", linestyle=style, marker=marker, label=label)
        for m, (_, label, style, marker) in enumerate(METRICS)
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.14), ncols=3, frameon=False)


def plot_sweep(rows: Sequence[dict[str, Any]], axes: Axes, out: Path, model: str | None = None) -> Path:
    """Draw the sweep to the PNG `out`, written atomically; returns `out`."""
    figure = sweep_figure(rows, axes, model)
    image = io.BytesIO()
    figure.savefig(image, format="png", dpi=110)
    write_atomic(out, image.getvalue())
    return out
