"""The local engine: prepare and summarize in this process, streaming."""

from __future__ import annotations

from itertools import count
from typing import TYPE_CHECKING, Any, Callable, Iterator, Sequence

from . import Outcome, Prepare

if TYPE_CHECKING:
    from ..api import Summarizer
    from ..readers import Source


def run_local(
    sources: Sequence["Source"], prepare: Prepare, summarizer: "Summarizer",
    progress: Callable[[int, int], None] | None = None, memo_for: Callable[[int], Any] | None = None,
) -> Iterator[Outcome]:
    """Outcomes as inputs finish. Inputs are read only as the pipeline asks for more, so the
    first summaries come out while later files are still unread. `memo_for(position)` keeps an
    input's chunk summaries where a resumed run finds them."""
    aside: list[Outcome] = []  # inputs that needed no summarizing, handed back between records
    documents: dict[int, tuple[int, Any]] = {}  # the pipeline's item index -> (position, document)
    indices = count()

    def items():
        for position, source in enumerate(sources):
            document, outcome = prepare(position, source)
            if outcome is not None:
                aside.append(outcome)
                continue
            documents[next(indices)] = (position, document)
            yield document

    remembered = (lambda index: memo_for(documents[index][0])) if memo_for is not None else None
    for index, record in summarizer.run(items(), progress, remembered):
        yield from _drain(aside)
        position, document = documents.pop(index)
        yield Outcome(position, record, document.digest, document.notes)
    yield from _drain(aside)


def _drain(aside: list[Outcome]) -> Iterator[Outcome]:
    while aside:
        yield aside.pop(0)
