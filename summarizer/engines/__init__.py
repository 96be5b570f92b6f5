"""Where the record-making functions run: in this process ("local") or on a Ray cluster ("ray").

Both engines run the same two steps per input: `Prepare` (read it, or skip it when --resume
finds its summary done) and the pipeline's `Summarizer.run` (documents in, records out). An
engine only decides where those run, and hands back one `Outcome` per input, so outputs,
manifest, progress and exit codes never depend on the engine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

from ..errors import SummarizerError
from ..readers import ReadLimits

if TYPE_CHECKING:
    from ..readers import Document, Source
    from ..report import Summary

ENGINE_CHOICES = ("local", "ray")


class EngineError(SummarizerError):
    """The engine cannot run (Ray missing, a cluster out of reach, no model on the workers).

    The message is one line for the CLI; `code` is the exit code: 2 where this installation
    cannot do what was asked (as for --device cuda without CUDA), 1 where it tried and failed.
    """

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.exit_code = code


@dataclass(frozen=True)
class Outcome:
    """One input's result. `record` None: nothing to write (resumed, or a skippable input)."""

    position: int
    record: "Summary | None"
    digest: str = ""
    notes: tuple[str, ...] = ()
    resumed: bool = False


@dataclass(frozen=True)
class Prepare:
    """Read one source, or decide it needs no work. Plain data, so cluster workers can run it.

    `done` maps a source's position to the input digest its finished summary was made from
    (what --resume found valid in the manifest); `limits` bound every input's size (and a
    URL's download time); `ready` holds documents read already (a run's only input is read
    before the model loads).
    """

    done: Mapping[int, str] = field(default_factory=dict)
    model: str = ""
    device: str = ""
    limits: ReadLimits = ReadLimits()
    ready: "Mapping[int, Document]" = field(default_factory=dict)

    def __call__(self, position: int, source: "Source") -> "tuple[Document | None, Outcome | None]":
        """(document to summarize, None) or (None, the outcome without summarizing)."""
        from ..pipeline import Failure, failed_record
        from ..readers import ReadError, read

        try:
            document = self.ready.get(position) or read(source, limits=self.limits)
        except ReadError as exc:
            if exc.skippable:
                return None, Outcome(position, None, notes=(f"{exc}, skipped",))
            return None, Outcome(position, failed_record(Failure(source.name, str(exc)), self.model, self.device))
        if self.done.get(position) == document.digest:
            return None, Outcome(position, None, document.digest, resumed=True)
        return document, None
