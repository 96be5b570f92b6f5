"""`summarize eval` at the edges: pairs in, the same pipeline as `summarize`, scores out.

The model is loaded once; each grid point of a sweep builds its settings over it (and opens
the backend it names, once per backend and precision). The result (a table, or JSON) goes to
stdout, since it is what the command is for; notes and errors go to stderr.
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from ..config import Layer, build_settings
from ..errors import SettingsError, SummarizerError
from ..pipeline import Item
from ..commands.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, error, unexpected

_SPEED_ONLY = ("batch_size", "batch_tokens", "threads", "attention", "device", "allow_pickle")


@dataclass(frozen=True)
class EvalRequest:
    pairs: Path
    layers: tuple[Mapping[str, Any], ...]
    predictions: Path | None = None
    sweeps: tuple[str, ...] = ()
    plot: Path | None = None
    per_document: Path | None = None
    limit: int | None = None
    fmt: str = "text"
    quiet: bool = False
    debug: bool = False


def execute_eval(request: EvalRequest) -> int:
    try:
        return _execute(request)
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as exc:  # noqa: BLE001 -- one line, exit 1 (traceback with --debug)
        return unexpected(exc, request.debug)


def _execute(request: EvalRequest) -> int:
    from .pairs import PairsError, check_counts, load_pairs, load_predictions
    from .sweep import SweepError, grid, parse_sweep

    try:
        pairs = load_pairs(request.pairs)
        predictions = None
        if request.predictions is not None:
            predictions = load_predictions(request.predictions)
            check_counts(pairs, predictions, str(request.pairs), str(request.predictions))
        if request.limit is not None:
            pairs = pairs[: request.limit]
            predictions = predictions[: request.limit] if predictions is not None else None
        axes = parse_sweep(list(request.sweeps))
        points = grid(axes) if axes else [{}]
        for point in points:  # every grid point is checked before the model loads
            build_settings(*request.layers, point)
    except (PairsError, SweepError, SettingsError) as exc:
        error(str(exc))
        return EXIT_USAGE

    user = build_settings(*request.layers)
    per_document: list[dict[str, Any]] = []
    results = []
    if predictions is not None:
        counter, unit = _counter(user.model)
        rows = [_scored(pair, text, counter(pair.document), counter(text), 0.0, unit) for pair, text in zip(pairs, predictions)]
        results.append(_result(rows, model=None, settings=None))
        per_document.extend(rows)
    else:
        run = _Runner(request)
        if run.failed is not None:
            return run.failed
        for point in points:
            outcome = run.evaluate(pairs, point)
            if isinstance(outcome, int):
                return outcome
            rows, settings = outcome
            results.append({**point, **_result(rows, model=run.model_name, settings=settings)})
            per_document.extend({**point, **row} for row in rows)
    if request.per_document is not None:
        from ..outputs import write_atomic

        write_atomic(request.per_document, "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in per_document))
    return _show(request, axes, results)


def _show(request: EvalRequest, axes: Sequence[tuple[str, Sequence[Any]]], results: list[dict[str, Any]]) -> int:
    if request.plot is not None:
        from .plot import PlotUnavailable, plot_sweep

        try:
            plot_sweep(results, axes, request.plot, model=results[0].get("model"))
        except PlotUnavailable as exc:
            error(str(exc))
            return EXIT_FAILED
        print(f"summarize: wrote {request.plot}", file=sys.stderr)
    if request.fmt == "json":
        payload: Any = {"rows": results} if axes else results[0]
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        return EXIT_OK
    from rich.console import Console

    from .report import eval_table, sweep_table

    Console().print(sweep_table(results, axes) if axes else eval_table(results[0]))
    return EXIT_OK


class _Runner:
    """One model, loaded once, summarizing the pairs under each grid point's settings."""

    def __init__(self, request: EvalRequest):
        from ..api import Summarizer

        self.request = request
        self.failed: int | None = None
        try:
            self.base = Summarizer.from_layers(request.layers, progress_bars=not request.quiet and sys.stderr.isatty())
        except SummarizerError as exc:
            error(str(exc))
            self.failed = exc.exit_code
            return
        self.model_name = self.base.name

    def evaluate(self, pairs, point: Mapping[str, Any]):
        try:
            summarizer = self.base.derive(Layer("sweep", point)) if point else self.base
        except SummarizerError as exc:
            error(str(exc))
            return exc.exit_code
        started = time.perf_counter()
        records = dict(summarizer.run([Item(pair.id, pair.document) for pair in pairs]))
        if not self.request.quiet:
            print(f"summarize: {_describe(point)}{len(pairs)} documents in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        rows = []
        for index, pair in enumerate(pairs):
            record = records[index]
            if record.error is not None:
                error(f"{pair.id}: {record.error}")
                return EXIT_FAILED
            rows.append(_scored(pair, record.summary, record.input_tokens, record.summary_tokens, record.seconds, record.counted_in))
        return rows, _settings_dict(summarizer.settings)


def _describe(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{key}={value}" for key, value in point.items()) + ": " if point else ""


def _scored(
    pair, prediction: str, input_tokens: int, summary_tokens: int, seconds: float, counted_in: str
) -> dict[str, Any]:
    from .rouge import score

    scores = {key: round(value, 4) for key, value in score(prediction, pair.reference).items()}
    return {"id": pair.id, **scores, "input_tokens": input_tokens, "summary_tokens": summary_tokens,
            "counted_in": counted_in, "seconds": round(seconds, 4), "summary": prediction}


def _result(rows: list[dict[str, Any]], model: str | None, settings: dict[str, Any] | None) -> dict[str, Any]:
    from .rouge import aggregate

    return {**aggregate(rows), "counted_in": rows[0]["counted_in"], "model": model, "settings": settings}


def _settings_dict(settings) -> dict[str, Any]:
    described = asdict(settings)
    for key in _SPEED_ONLY:
        described.pop(key, None)
    return described


def _counter(model: str):
    """(count, unit): token counts with the model's tokenizer when it is on disk, else words."""
    from ..api import cached_tokenizer

    loaded = cached_tokenizer(model)
    if loaded is None:
        return (lambda text: len(text.split())), "words"
    tokenizer = loaded.tokenizer
    return (lambda text: len(tokenizer(text, add_special_tokens=False).input_ids)), "tokens"
