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
