"""Running the CLI in-process, the way Typer's docs test apps."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from summarizer.cli import app

runner = CliRunner()


def invoke(*args: Any, input: str | bytes | None = None):
    """Run `summarize ARGS`; result.stdout and result.stderr are kept apart."""
    return runner.invoke(app, [str(a) for a in args], input=input, catch_exceptions=False)


def summarize_json(*args: Any, input: str | None = None) -> Any:
    result = invoke(*args, "--format", "json", input=input)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)
