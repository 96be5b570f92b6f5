"""Tokenize -> chunk -> generate -> report, for many documents at once.

All chunks of all documents share one queue. Batches are cut from it in length order so
padding stays small, and a document is finished (and handed back) as soon as its last chunk
is. A long document's chunk summaries are joined; if the join still exceeds the window it is
chunked and summarized again (hierarchical reduction) until it fits.
"""

from __future__ import annotations

import os
import socket
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator
from urllib.parse import urlparse

from .chunking import boundary_strengths, plan_chunks
from .config import DEFAULT_MODEL, RunSettings, model_defaults
from .device import Placement, default_batch_size, resolve
from .readers import Document
from .report import Summary

MAX_LEVELS = 8
_FOLDER_HINT = "pass --model DIR with a folder saved by save_pretrained (config.json, tokenizer files, weights)"
_FALLBACK_WINDOW = 512


class ModelLoadError(RuntimeError):
    """The model could not be loaded; the message says what to do about it."""


@dataclass(frozen=True)
class LoadedModel:
    name: str
    tokenizer: Any
    model: Any
    placement: Placement

    @property
    def window(self) -> int:
        """Input tokens the model was trained on (T5's relative positions have no hard limit)."""
        limit = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(limit, int) and 0 < limit < 1_000_000:
            return limit
        return getattr(self.model.config, "n_positions", None) or _FALLBACK_WINDOW

    @property
    def task_defaults(self) -> dict[str, Any]:
        return model_defaults(getattr(self.model.config, "task_specific_params", None))


def _quiet_transformers(progress_bars: bool) -> None:
    """Library chatter (length warnings, weight-loading bars) would pollute stderr.

    The hub's download bars come back when asked for: a first run fetching 240 MB should show it.
    """
    from huggingface_hub.utils import enable_progress_bars
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if progress_bars:
        enable_progress_bars()
    warnings.filterwarnings("ignore", module=r"transformers\..*")


def _hub_reachable(timeout: float = 3.0) -> bool:
    """A quick TCP probe, so an offline run fails in seconds instead of minutes of retries.

    Behind a proxy a direct connection proves nothing, so then the library is left to try.
    """
    if any(os.environ.get(var) for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    host = urlparse(endpoint).hostname or "huggingface.co"
    port = urlparse(endpoint).port or 443
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _offline_mode() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _looks_like_path(name: str) -> bool:
    """Hub ids are `name` or `org/name`; anything else is meant as a folder."""
    return Path(name).expanduser().exists() or name.startswith(("/", ".", "~")) or name.count("/") > 1


def load_model(name: str, placement: Placement | None = None, progress_bars: bool = False) -> LoadedModel:
    """Load tokenizer and seq2seq model from a folder or a hub id (cache first, then the hub)."""
    placement = placement or resolve()
    _quiet_transformers(progress_bars)
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

    path = Path(name).expanduser()
    is_dir = path.is_dir()
    if not is_dir and _looks_like_path(name):
        raise ModelLoadError(f"cannot load model {name!r}: no such folder -- {_FOLDER_HINT}, or a hub id like {DEFAULT_MODEL!r}")
    if is_dir and not (path / "config.json").is_file():
        raise ModelLoadError(f"cannot load model {name!r}: the folder has no config.json -- {_FOLDER_HINT}")
    source = str(path) if is_dir else name

    def _load(local_only: bool):
        options = dict(local_files_only=local_only, trust_remote_code=False)
        tokenizer = AutoTokenizer.from_pretrained(source, **options)
        model = AutoModelForSeq2SeqLM.from_pretrained(
            source, dtype=placement.torch_dtype, use_safetensors=None if is_dir else True, **options
        )
        return tokenizer, model

    try:
        try:
            tokenizer, model = _load(local_only=True)
        except OSError:
            if is_dir or _offline_mode():
                raise
            if not _hub_reachable():
                raise ModelLoadError(
                    f"cannot load model {name!r}: it is not in the local cache and the model hub is "
                    f"unreachable -- connect to the internet once so the cache fills, or {_FOLDER_HINT}"
                ) from None
            tokenizer, model = _load(local_only=False)
    except ModelLoadError:
        raise
    except (OSError, ValueError, KeyError, ImportError) as exc:
        hint = _FOLDER_HINT if is_dir else f"check the id, or connect to the internet once so the cache fills, or {_FOLDER_HINT}"
        raise ModelLoadError(f"cannot load model {name!r}: {_first_line(exc)} -- {hint}") from None

    if not getattr(model.config, "is_encoder_decoder", False):
        raise ModelLoadError(f"cannot use model {name!r}: it is not an encoder-decoder (T5-style) model")
    model.to(placement.torch_device)
    model.eval()
    return LoadedModel(name=name, tokenizer=tokenizer, model=model, placement=placement)


@dataclass
class _DocState:
    """Book-keeping for one document while its chunks are in flight."""

    index: int
    document: Document
    input_tokens: int
    chunks: int
    level: int = 0
    outstanding: int = 0
    previous_tokens: int = 0
    parts: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0
    summary_tokens: int = 0
    note: str | None = None


@dataclass(frozen=True)
class _Job:
    doc: int
    part: int
    ids: tuple[int, ...]


ProgressCallback = Callable[[int, int], None]


class Summarizer:
    """Runs documents through one loaded model with one set of settings."""

    def __init__(self, loaded: LoadedModel, settings: RunSettings):
        self.loaded = loaded
        self.settings = settings
        tokenizer = loaded.tokenizer
        self.prefix_ids = tokenizer(settings.generation.prefix, add_special_tokens=False).input_ids if settings.generation.prefix else []
        window = settings.chunking.size or loaded.window
        self.content_size = window - len(self.prefix_ids) - 1  # room for the prefix and </s>
        if self.content_size < 8:
            raise ValueError(f"the input window ({window} tokens) leaves no room for text after the prefix")
        if settings.chunking.overlap >= self.content_size // 2:
            raise ValueError(
                f"--chunk-overlap ({settings.chunking.overlap}) must be less than half of the "
                f"{self.content_size} tokens each chunk holds"
            )
        self.batch_size = settings.batch_size or default_batch_size(loaded.placement.device)
        if settings.attention != "hf":
            from .attention import set_attention

            set_attention(loaded.model, settings.attention)

    def _encode(self, text: str) -> tuple[list[int], dict[int, int]]:
        encoded = self.loaded.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = encoded.get("offset_mapping")
        boundaries = boundary_strengths(text, offsets) if offsets else {}
        return list(encoded.input_ids), boundaries

    def _jobs(self, state: _DocState, ids: list[int], boundaries: dict[int, int]) -> list[_Job]:
        spans = plan_chunks(len(ids), self.content_size, self.settings.chunking.overlap, boundaries)
        state.outstanding = len(spans)
        state.parts = {}
        return [_Job(state.index, part, tuple(ids[a:b])) for part, (a, b) in enumerate(spans)]

    def run(self, documents: Iterable[Document], progress: ProgressCallback | None = None) -> Iterator[tuple[int, Summary]]:
        """Yield (input position, Summary) per document, in the order documents finish."""
        import torch

        if self.settings.generation.seed is not None:
            torch.manual_seed(self.settings.generation.seed)

        by_index: dict[int, _DocState] = {}
        queue: list[_Job] = []
        for index, document in enumerate(documents):
            ids, boundaries = self._encode(document.text)
            if not ids:
                yield index, self._failed(document, "empty input, nothing to summarize")
                continue
            state = _DocState(index, document, input_tokens=len(ids), chunks=0)
            jobs = self._jobs(state, ids, boundaries)
            state.chunks = len(jobs)
            state.previous_tokens = len(ids)
            by_index[index] = state
            queue.extend(jobs)

        total = len(queue)
        done = 0
        if progress:
            progress(done, total)
        while queue:
            queue.sort(key=lambda job: len(job.ids))
            batch, queue = queue[: self.batch_size], queue[self.batch_size :]
            started = time.perf_counter()
            outcomes = self._generate_or_split([job.ids for job in batch])
            share = (time.perf_counter() - started) / len(batch)
            done += len(batch)
            for job, outcome in zip(batch, outcomes):
                state = by_index.get(job.doc)
                if state is None:  # its document already failed on another chunk
                    continue
                if isinstance(outcome, Exception):
                    del by_index[job.doc]
                    remaining = [other for other in queue if other.doc != job.doc]
                    total -= len(queue) - len(remaining)
                    queue = remaining
                    yield job.doc, self._failed(state.document, f"generation failed: {_first_line(outcome)}")
                    continue
                state.seconds += share
                state.parts[job.part] = outcome
                state.outstanding -= 1
                if state.outstanding == 0:
                    new_jobs = self._advance(state)
                    if new_jobs:
                        queue.extend(new_jobs)
                        total += len(new_jobs)
                    else:
                        yield state.index, self._finished(state)
            if progress:
                progress(done, total)

    def _advance(self, state: _DocState) -> list[_Job]:
        """A level is done: keep the joined summaries if they fit, else queue another level."""
        joined = " ".join(state.parts[i].strip() for i in sorted(state.parts) if state.parts[i].strip())
        state.parts = {0: joined}
        ids, boundaries = self._encode(joined)
        state.summary_tokens = len(ids)
        if len(ids) <= self.content_size:
            return []
        if len(ids) >= state.previous_tokens or state.level + 1 >= MAX_LEVELS:
            state.note = (
                f"chunk summaries ({len(ids)} tokens) do not shrink below the {self.content_size}-token "
                "window; kept them joined (try a smaller --max-length)"
            )
            return []
        state.level += 1
        state.previous_tokens = len(ids)
        return self._jobs(state, ids, boundaries)

    def _generate_or_split(self, batch: list[tuple[int, ...]]) -> list[str | Exception]:
        """Generate a batch; if that fails (say, out of memory), retry its chunks one at a
        time, so a chunk that cannot be done fails only its own document."""
        try:
            return self._generate(batch)
        except (RuntimeError, ValueError, IndexError) as exc:
            if len(batch) == 1:
                return [exc]
            return [outcome for ids in batch for outcome in self._generate_or_split([ids])]

    def _generate(self, batch: list[tuple[int, ...]]) -> list[str]:
        import torch

        tokenizer, model = self.loaded.tokenizer, self.loaded.model
        eos = tokenizer.eos_token_id
        rows = [list(self.prefix_ids) + list(ids) + ([eos] if eos is not None else []) for ids in batch]
        width = max(len(row) for row in rows)
        pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
        device = self.loaded.placement.torch_device
        input_ids = torch.tensor([row + [pad] * (width - len(row)) for row in rows], device=device)
        attention_mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows], device=device)
        with torch.inference_mode():
            output = model.generate(
                input_ids=input_ids, attention_mask=attention_mask, **self.settings.generation.generate_kwargs()
            )
        return tokenizer.batch_decode(output, skip_special_tokens=True, clean_up_tokenization_spaces=True)

    def _finished(self, state: _DocState) -> Summary:
        text = state.parts[0]
        return Summary(
            source=state.document.source,
            summary=text,
            input_tokens=state.input_tokens,
            summary_tokens=state.summary_tokens,
            chunks=state.chunks,
            levels=state.level + 1,
            model=self.loaded.name,
            device=self.loaded.placement.device,
            seconds=state.seconds,
            warning=state.note,
        )

    def _failed(self, document: Document, message: str) -> Summary:
        return Summary(
            source=document.source, summary="", input_tokens=0, summary_tokens=0, chunks=0,
            model=self.loaded.name, device=self.loaded.placement.device, seconds=0.0, error=message,
        )
