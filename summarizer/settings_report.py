"""`summarize settings`: the settings a run would use, each with the place its value came from.

The model is described, not loaded (its JSON files and tokenizer: no weights, no torch), so
"why is my summary always 56 tokens or longer?" is answered in a second: bart-large-cnn's own
generation_config.json says min_length 56.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

from .config import SETTING_NAMES

if TYPE_CHECKING:
    from .api import Summarizer


def describe_settings(summarizer: "Summarizer") -> dict[str, Any]:
    """The JSON form: the model, the backend chosen, every setting's value and origin, and what
    the checkpoint sets that summarize does not apply."""
    settings, origins = summarizer.settings, summarizer.origins
    flat = _flat(settings)
    model = summarizer.model
    described: dict[str, Any] = {
        "model": summarizer.name,
        "model_type": summarizer.model_type,
        "family": model.family.name if model is not None and settings.abstractive else None,
        "window": model.window if model is not None and settings.abstractive else None,
        "backend": settings.backend if settings.abstractive else None,
        "backend_note": summarizer.note,
        "settings": {name: {"value": flat[name], "from": origins[name]} for name in SETTING_NAMES},
    }
    checkpoint = summarizer.checkpoint
    if checkpoint is not None and settings.abstractive:
        described["not_applied"] = dict(checkpoint.defaults.not_applied)
    return described


def describe_input(summarizer: "Summarizer", source: str, text: str) -> dict[str, Any]:
    """How long the summary of `text` may be: its size as the model counts it, and the word and
    sentence bounds turned into the final pass's tokens (for a document of one window; a longer
    one's final pass reads its chunk summaries, and only the budget from the bounds applies)."""
    from .lengths import MARGIN, STEP, Measure, final_lengths, word_bounds
    from .pipeline import Item
    from .strategies import Trace

    settings = summarizer.settings
    described: dict[str, Any] = {"source": source}
    if not settings.abstractive:  # an extractive method counts words, and picks whole sentences
        from .sentences import count_words

        count = count_words(text)
        words = word_bounds(settings.bounds, Measure(count, count))
        return {**described, "words": count, "max_words": words.max_words, "max_sentences": words.max_sentences}
    plan = summarizer.pipeline.plan(settings)
    trace = Trace()
    chunks = sum(1 for _ in plan.chunker.chunks(text, trace.count))
    measure = trace.measure()
    one_window = chunks <= 1 or settings.strategy in ("truncate", "extract-then-abstract")
    reads = min(measure.tokens, plan.chunker.content_size) if one_window else 0
    lengths = final_lengths(plan.final, settings.bounds, measure, reads, summarizer.model.checkpoint.longest_summary)
    words = word_bounds(settings.bounds, measure)
    as_is = summarizer.pipeline.as_is(Item(source, text), settings, plan)
    return {
        **described, "tokens": measure.tokens, "words": measure.words, "sentences": measure.sentences,
        "tokens_per_word": round(measure.tokens_per_word, 3), "chunks": chunks,
        "max_length": lengths.max_length, "min_length": lengths.min_length,
        "max_words": words.max_words, "min_words": words.min_words, "max_sentences": words.max_sentences,
        "margin": MARGIN, "step": STEP, "as_is": as_is.note if as_is is not None else None,
    }


def _flat(settings) -> dict[str, Any]:
    from dataclasses import asdict

    data = asdict(settings)
    generation, chunking, bounds = data.pop("generation"), data.pop("chunking"), data.pop("bounds")
    chunk = {f"chunk_{key}": value for key, value in chunking.items()}
    return {**data, **generation, **bounds, **chunk}


def render_settings(described: dict[str, Any], fmt: str) -> None:
    """JSON or a table on stdout: it is what the command is for."""
    if fmt == "json":
        sys.stdout.write(json.dumps(described, indent=2, ensure_ascii=False) + "\n")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    if described["model_type"] is not None:
        console.print(
            f"model {escape(described['model'])}: {described['family']} ({described['model_type']}), "
            f"window {described['window']} tokens, backend {described['backend']}",
            highlight=False,
        )
    if described["backend_note"]:
        console.print(f"  {escape(described['backend_note'])}", highlight=False)
    table = Table(box=None, pad_edge=False, show_edge=False)
    table.add_column("setting", no_wrap=True)
    table.add_column("value", overflow="fold")
    table.add_column("from", overflow="fold")
    for name, row in described["settings"].items():
        value = row["value"]
        shown = "-" if value is None else json.dumps(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
        table.add_row(name.replace("_", "-"), escape(shown), escape(row["from"]))
    console.print(table)
    not_applied = described.get("not_applied")
    if not_applied:
        keys = ", ".join(f"{key} ({origin})" for key, origin in not_applied.items())
        console.print(f"the checkpoint also sets, and summarize does not apply: {escape(keys)}", highlight=False)
    if "input" in described:
        import textwrap

        for line in _input_lines(described["input"]):
            indent = " " * (len(line) - len(line.lstrip()) + 2)
            console.print(escape(textwrap.fill(line, width=console.width - 1, subsequent_indent=indent)), highlight=False)


def _input_lines(found: dict[str, Any]) -> list[str]:
    """The lengths an input's summary would get, in words a reader follows."""
    if "tokens" not in found:  # an extractive method: sentences picked, then cut back to the words
        sentences = found["max_sentences"] or "--sentences"
        words = f", cut back to {found['max_words']} words" if found["max_words"] is not None else ""
        return [f"for {found['source']} ({found['words']:,} words): at most {sentences} sentences{words}"]
    chunks = f"{found['chunks']} chunks" if found["chunks"] != 1 else "1 chunk"
    lines = [f"for {found['source']}: {found['tokens']:,} tokens, {found['words']:,} words, {found['sentences']:,} "
             f"sentence{'s' if found['sentences'] != 1 else ''} ({found['tokens_per_word']:.2f} tokens per word), {chunks}"]
    if found["as_is"]:
        return [*lines, f"  {found['as_is']} (no model call)"]
    bounds = []
    if found["max_words"] is not None:
        bounds.append(f"{found['max_words']} words x {found['tokens_per_word']:.2f} tokens per word")
    if found["max_sentences"] is not None:
        per_sentence = found["tokens"] / max(found["sentences"], 1)
        bounds.append(f"{found['max_sentences']} sentences x {per_sentence:.1f} tokens per sentence")
    if bounds:
        lines.append(f"  max-length {found['max_length']} tokens: {' or '.join(bounds)} x margin {found['margin']:g}, "
                     f"+ 1 for the end token, rounded up to a multiple of {found['step']}{' (the smaller)' if len(bounds) > 1 else ''}; "
                     "the summary is then cut back to the bound in whole words and sentences")
    else:
        lines.append(f"  max-length {found['max_length']} tokens")
    if found["min_words"] is not None:
        lines.append(f"  min-length {found['min_length']} tokens: {found['min_words']} words x {found['tokens_per_word']:.2f} "
                     f"tokens per word, rounded up to a multiple of {found['step']}")
    else:
        lines.append(f"  min-length {found['min_length']} tokens")
    if found["chunks"] > 1:
        lines.append("  (the final pass reads the chunk summaries; no pass writes more tokens than it reads)")
    return lines
