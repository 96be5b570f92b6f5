"""The sweep plot: a real PNG, and a Figure whose lines are the grid's."""

from __future__ import annotations

import sys

import pytest

from summarizer.evaluation.plot import PlotUnavailable, plot_sweep, sweep_figure
from summarizer.evaluation.sweep import grid, parse_sweep

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def fake_rows(axes) -> list[dict]:
    """Plausible results: ROUGE falls with temperature, longer limits give longer summaries."""
    rows = []
    for point in grid(axes):
        t, length = point.get("temperature", 0.0), point.get("max_length", 60)
        base = 40 - 8 * t * t + length / 60

        def score(value: float) -> dict:
            return {"mean": round(value, 2), "ci_low": round(value - 1.5, 2), "ci_high": round(value + 1.5, 2)}

        rows.append({**point, "rouge1": score(base), "rouge2": score(base * 0.45), "rougeL": score(base * 0.7),
                     "rougeLsum": score(base * 0.9), "documents": 50, "input_tokens": 700.0,
                     "summary_tokens": min(length, 55) * (1 + t / 10), "compression_ratio": 12.0,
                     "seconds_per_document": 0.8})
    return rows


def test_plot_is_a_png_written_where_asked(tmp_path):
    pytest.importorskip("matplotlib")
    axes = parse_sweep(["temperature=0,0.3,0.7,1.2", "max-length=30,60,120"])
    out = plot_sweep(fake_rows(axes), axes, tmp_path / "plots" / "sweep.png", model="t5-small")
    assert out == tmp_path / "plots" / "sweep.png"
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert [p.name for p in out.parent.iterdir()] == ["sweep.png"]  # no temp file left behind


def test_two_axes_give_one_line_per_other_setting_and_metric():
    pytest.importorskip("matplotlib")
    axes = parse_sweep(["temperature=0,0.3,0.7,1.2", "max-length=30,60,120"])
    figure = sweep_figure(fake_rows(axes), axes, model="t5-small")
    rouge_ax, tokens_ax = figure.axes
    assert len(rouge_ax.get_lines()) == 3 * 3  # rouge1/2/L for each max_length
    assert len(tokens_ax.get_lines()) == 3
    [legend] = figure.legends
    assert [t.get_text() for t in legend.get_texts()] == ["max_length=30", "max_length=60", "max_length=120"]
    assert [t.get_text() for t in rouge_ax.get_legend().get_texts()] == ["ROUGE-1", "ROUGE-2", "ROUGE-L"]
    assert [t.get_text() for t in tokens_ax.get_xticklabels()] == ["0.0", "0.3", "0.7", "1.2"]
    assert rouge_ax.get_xlabel() == "temperature" and "F1 x 100" in rouge_ax.get_ylabel()
    assert "tokens" in tokens_ax.get_ylabel()
    assert "t5-small" in figure.get_suptitle() and "50 documents" in figure.get_suptitle()
    # The max_length=120 line of summary tokens: one point per temperature, in order.
    ys = list(tokens_ax.get_lines()[2].get_ydata())
    assert ys == pytest.approx([55.0, 56.65, 58.85, 61.6])


def test_one_axis_needs_no_group_legend_and_text_values_are_categories():
    pytest.importorskip("matplotlib")
    axes = parse_sweep(["strategy=map-reduce,map,truncate"])
    figure = sweep_figure(fake_rows(axes), axes)
    rouge_ax, tokens_ax = figure.axes
    assert len(rouge_ax.get_lines()) == 3 and len(tokens_ax.get_lines()) == 1
    assert figure.legends == []
    assert [t.get_text() for t in rouge_ax.get_xticklabels()] == ["map-reduce", "map", "truncate"]


def test_missing_matplotlib_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    axes = parse_sweep(["temperature=0,1"])
    with pytest.raises(PlotUnavailable, match=r"pip install 'summarizer\[plot\]'"):
        plot_sweep(fake_rows(axes), axes, tmp_path / "sweep.png")
    assert issubclass(PlotUnavailable, ImportError)
    assert not (tmp_path / "sweep.png").exists()


def test_a_failed_grid_point_is_a_gap():
    pytest.importorskip("matplotlib")
    axes = parse_sweep(["temperature=0,0.7,1.2", "max-length=30,60"])
    rows = [row for row in fake_rows(axes) if (row["temperature"], row["max_length"]) != (0.7, 60)]
    _, tokens_ax = sweep_figure(rows, axes).axes
    short, long = (list(line.get_ydata()) for line in tokens_ax.get_lines())
    assert short == pytest.approx([30.0, 32.1, 33.6])
    assert long[0] == pytest.approx(55.0) and long[1] != long[1] and long[2] == pytest.approx(61.6)  # NaN: no point
