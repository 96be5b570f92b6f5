"""The Ray engine: the local engine's two steps, spread over a Ray cluster with Ray Data.

The driver lists the inputs; Ray Data reads them as a dataset (a read step of tasks calls
`Prepare` on each source) and hands the documents in batches to a pool of actors, one model
replica each, loaded once, that run `Summarizer.run` over a whole batch at a time (so the
pipeline batches chunks across its documents). Rows stream back to the driver as batches
finish and become `Outcome`s again, so outputs, manifest, --resume and exit codes are run.py's,
as with the local engine.

Ray is imported only inside `run_on_ray`: `summarize --help` and local runs never load it.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import PurePosixPath
from typing import Any, Callable, Iterator, Mapping, Sequence

from ..config import build_settings
from ..errors import SummarizerError, first_line
from ..quiet import quiet_native_stderr
from ..pipeline import Failure, failed_record
from ..readers import Document, Source
from ..report import Summary
from . import EngineError, Outcome, Prepare

MISSING_RAY = "the ray engine needs the 'ray' extra: pip install 'summarizer[ray]'"
REPLICA_FAILED = "a Ray worker could not open the model"
LOST = "no result came back from the Ray cluster: its batch failed, retries included (the Ray logs say why)"
RETRIES = 3  # worker deaths a batch survives (actor restarts, call and read retries); then its documents fail
CALLS_PER_REPLICA = 4  # cut the inputs into at least this many batches per replica, to balance the load
MAX_BATCH = 32  # documents per actor call at most, so finished summaries come back steadily


@dataclass(frozen=True)
class _Plan:
    """How the work is spread: model replicas, what each reserves, documents per call."""

    replicas: int
    cpus: int
    gpus: int
    batch: int


def run_on_ray(
    sources: Sequence[Source], prepare: Prepare, layers: tuple[Mapping[str, Any], ...],
    progress: Callable[[int, int], None] | None = None, address: str | None = None,
    replicas: int | None = None,
) -> Iterator[Outcome]:
    """Outcomes as batches finish on the cluster; `progress(documents done, documents)`.

    Without `address`, a Ray of our own runs for this call and is shut down after it; with
    one ("auto", "ray://host:port") the driver joins that cluster and leaves it running.
    Relative paths (inputs, --model DIR) mean what they mean here: workers run in this
    process's folder, which must exist at the same path on every node (a shared file system).

    Fault tolerance is Ray's, set explicitly: a dead replica restarts (`max_restarts`) and
    its calls are retried (`max_task_retries`), read tasks are retried (`max_retries`), each
    RETRIES times. A batch that still fails loses only its own documents: they come back as
    failed records, and every other batch completes (`DataContext.max_errored_blocks = -1`).
    """
    ray = _import_ray()
    with _connected(ray, address), _quiet_data(), _worker_errors_unprinted():
        plan = _plan(ray, layers, replicas, len(sources))
        rows = iter(_dataset(ray, sources, prepare, layers, plan).iter_rows())
        seen: set[int] = set()
        for row in _started(rows):
            outcome = _outcome_from_json(row["outcome"])
            seen.add(outcome.position)
            if progress:
                progress(len(seen), len(sources))
            yield outcome
        yield from _lost(sources, seen, prepare)


def _import_ray():
    try:
        import ray
        import ray.data  # noqa: F401 -- the engine needs Ray Data, not just Ray core
    except ImportError:
        raise EngineError(MISSING_RAY, code=2) from None
    return ray


# -- the cluster ---------------------------------------------------------------------------------


@contextmanager
def _connected(ray, address: str | None) -> Iterator[None]:
    """Start a Ray for the run (shut down after), or join `address` (left running; only this
    driver disconnects). A process already connected (a notebook, the tests) is used as is."""
    if ray.is_initialized():
        yield
        return
    options: dict[str, Any] = {"log_to_driver": False, "logging_level": "ERROR"}
    if address is None:
        options["include_dashboard"] = False
    try:
        ray.init(address=address, **options)  # an address nobody answers: Ray retries, and says so
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = f"the Ray cluster at {address}" if address else "a local Ray"
        raise EngineError(f"cannot start or reach {where}: {first_line(exc)}") from None
    try:
        yield
    finally:
        ray.shutdown()


@contextmanager
def _quiet_data() -> Iterator[None]:
    """Ray Data without progress bars or console logs (our progress is the callback; its logs
    stay in the session's ray-data.log), and tolerant of batches that fail for good."""
    from ray.data import DataContext

    context = DataContext.get_current()
    saved = context.enable_progress_bars, context.max_errored_blocks
    context.enable_progress_bars = False
    context.max_errored_blocks = -1
    consoles = [h for h in logging.getLogger("ray.data").handlers
                if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]
    levels = [h.level for h in consoles]
    for handler in consoles:
        handler.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        context.enable_progress_bars, context.max_errored_blocks = saved
        for handler, level in zip(consoles, levels):
            handler.setLevel(level)


@contextmanager
def _worker_errors_unprinted() -> Iterator[None]:
    """Ray's driver prints what its workers report (task retries, their tracebacks) on stderr,
    from a thread of its own, whatever `log_to_driver` says; the run reports failures itself,
    one line each, and Ray's logs keep the details. Ray has no switch for it, so this swaps
    the function that thread prints with."""
    from ray._private import worker

    printer = worker.print_to_stdstream
    worker.print_to_stdstream = lambda data, ignore_prefix: None
    try:
        yield
    finally:
        worker.print_to_stdstream = printer


def _started(rows: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The result rows; execution starts (replicas come up) quietly with the first one, and a
    run that cannot go on at all (no replica can open the model) ends in one line."""
    try:
        with quiet_native_stderr():
            first = next(rows, None)
        if first is None:
            return
        yield first
        yield from rows
    except Exception as exc:  # noqa: BLE001 -- what failed on a worker comes back in Ray's types
        reason = _start_failure(exc)
        if reason is None:
            raise
        raise EngineError(reason) from None


def _start_failure(exc: Exception) -> str | None:
    """Why the replicas could not start, if that is what `exc` says: the last line of the
    traceback of the replica's __init__ (Ray hands it over as text, not as the exception)."""
    if not getattr(exc, "actor_init_failed", False):
        return None
    kind, _, message = str(exc).strip().splitlines()[-1].partition(": ")
    if kind.endswith(ReplicaError.__name__):
        return message
    return f"{REPLICA_FAILED}: {kind.rsplit('.', 1)[-1]}: {message}"


def _plan(ray, layers: tuple[Mapping[str, Any], ...], replicas: int | None, documents: int) -> _Plan:
    """One GPU per replica where the cluster has GPUs (and the model can use one), else an
    equal share of the CPUs each (torch uses that many threads: Ray sets OMP_NUM_THREADS);
    by default one replica per GPU, else one."""
    settings = build_settings(*layers)
    resources = ray.cluster_resources()
    on_gpus = settings.abstractive and settings.device in ("auto", "cuda")
    gpus = int(resources.get("GPU", 0)) if on_gpus else 0
    count = replicas or max(gpus, 1)
    if gpus:
        cpus = 1
    else:
        largest = max((node["Resources"].get("CPU", 0) for node in ray.nodes() if node["Alive"]), default=1)
        cpus = max(1, min(int(resources.get("CPU", 1)) // count, int(largest)))
    batch = max(1, min(MAX_BATCH, -(-documents // (count * CALLS_PER_REPLICA))))
    return _Plan(count, cpus, 1 if gpus else 0, batch)


def _dataset(ray, sources: Sequence[Source], prepare: Prepare, layers, plan: _Plan):
    """sources -> read step (tasks: `prepare`) -> replicas (actors: `Summarizer.run`) -> rows.

    Reading reserves no CPU, so it runs beside replicas that hold all of them; it is light
    next to the model, and at most two read tasks per replica run at once."""
    cwd = os.getcwd()
    items = [_item(position, source, prepare) for position, source in enumerate(sources)]
    blocks = -(-len(items) // plan.batch)
    with warnings.catch_warnings():
        # Ray 2.60 deprecates retry settings passed this way, and has no other way to pass them.
        warnings.filterwarnings("ignore", message="`ray_remote_args` is deprecated")
        return (
            ray.data.from_items(items, override_num_blocks=blocks)
            .map_batches(
                _read_batch, fn_kwargs={"prepare": prepare, "cwd": cwd}, batch_size=plan.batch,
                compute=ray.data.TaskPoolStrategy(size=2 * plan.replicas), num_cpus=0, max_retries=RETRIES,
            )
            .map_batches(
                Replica, fn_constructor_kwargs={"layers": layers, "cwd": cwd}, batch_size=plan.batch,
                compute=ray.data.ActorPoolStrategy(size=plan.replicas), num_cpus=plan.cpus, num_gpus=plan.gpus,
                max_restarts=RETRIES, max_task_retries=RETRIES,
            )
        )


def _item(position: int, source: Source, prepare: Prepare) -> dict[str, Any]:
    """One input as a dataset row. Stdin exists only here, so the driver reads it itself."""
    document = outcome = ""
    if source.kind == "stdin":
        found, done = prepare(position, source)
        document = _document_to_json(found) if found is not None else ""
        outcome = _outcome_to_json(done) if done is not None else ""
    return {
        "position": position, "name": source.name, "relpath": str(source.relpath), "kind": source.kind,
        "named": source.named, "document": document, "outcome": outcome,
    }


def _lost(sources: Sequence[Source], seen: set[int], prepare: Prepare) -> Iterator[Outcome]:
    """A failed record for each input whose batch failed for good, so the run lists it."""
    for position, source in enumerate(sources):
        if position not in seen:
            failure = Failure(source.name, LOST)
            yield Outcome(position, failed_record(failure, prepare.model, prepare.device))


# -- on the workers ------------------------------------------------------------------------------


def _read_batch(batch: dict[str, Any], prepare: Prepare, cwd: str) -> dict[str, list]:
    """The read step: each row's document, or its outcome when it needs no summarizing."""
    _enter(cwd)
    documents, outcomes = [], []
    for position, name, relpath, kind, named, document, outcome in zip(
        batch["position"], batch["name"], batch["relpath"], batch["kind"], batch["named"],
        batch["document"], batch["outcome"],
    ):
        if not (document or outcome):
            found, done = prepare(int(position), Source(str(name), PurePosixPath(str(relpath)), str(kind), bool(named)))
            document = _document_to_json(found) if found is not None else ""
            outcome = _outcome_to_json(done) if done is not None else ""
        documents.append(document)
        outcomes.append(outcome)
    return {"position": [int(p) for p in batch["position"]], "document": documents, "outcome": outcomes}


class ReplicaError(RuntimeError):
    """A replica could not open the model; the message says why, in one line."""


class Replica:
    """One model replica (a Ray actor): opens the Summarizer once, then summarizes batches."""

    def __init__(self, layers: tuple[Mapping[str, Any], ...], cwd: str):
        from ..api import Summarizer

        _enter(cwd)
        try:
            self.summarizer = Summarizer.from_layers(layers)
        except SummarizerError as exc:
            raise ReplicaError(f"{REPLICA_FAILED}: {exc}") from None

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        """Rows that reading resolved pass through; the others' documents go through the
        pipeline together, in one `Summarizer.run`."""
        outcomes: dict[int, str] = {}
        pending: list[tuple[int, Document]] = []
        for position, document, outcome in zip(batch["position"], batch["document"], batch["outcome"]):
            if outcome:
                outcomes[int(position)] = str(outcome)
            else:
                pending.append((int(position), _document_from_json(str(document))))
        for index, record in self.summarizer.run(document for _, document in pending):
            position, document = pending[index]
            outcomes[position] = _outcome_to_json(Outcome(position, record, document.digest, document.notes))
        return {"position": list(outcomes), "outcome": list(outcomes.values())}


def _enter(cwd: str) -> None:
    """Work in the driver's folder where this node has it, so relative paths agree."""
    if os.getcwd() != cwd and os.path.isdir(cwd):
        os.chdir(cwd)


# -- rows <-> objects (JSON strings: one Arrow type per column, whatever the values) ------------


def _document_to_json(document: Document) -> str:
    return json.dumps({
        "source": document.source, "text": document.text, "relpath": str(document.relpath),
        "digest": document.digest, "notes": list(document.notes), "pages": [list(page) for page in document.pages],
    })


def _document_from_json(text: str) -> Document:
    data = json.loads(text)
    return Document(data["source"], data["text"], PurePosixPath(data["relpath"]), data["digest"], tuple(data["notes"]),
                    tuple(tuple(page) for page in data["pages"]))


def _outcome_to_json(outcome: Outcome) -> str:
    record = asdict(outcome.record) if outcome.record is not None else None
    return json.dumps({
        "position": outcome.position, "record": record, "digest": outcome.digest,
        "notes": list(outcome.notes), "resumed": outcome.resumed,
    })


def _outcome_from_json(text: str) -> Outcome:
    data = json.loads(text)
    record = data["record"]
    if record is not None:
        from ..evidence import Evidence

        parts, evidence = record["parts"], record["evidence"]
        record = Summary(**{**record, "parts": tuple(parts) if parts is not None else None,
                            "evidence": Evidence.from_fields(evidence) if evidence is not None else None})
    return Outcome(data["position"], record, data["digest"], tuple(data["notes"]), data["resumed"])
