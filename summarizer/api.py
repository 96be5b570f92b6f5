"""The Python API, and the one place a summarizer is opened.

    from summarizer import Summarizer
    s = Summarizer("facebook/bart-large-cnn", max_length=60)
    print(s.summarize(text).summary)

The CLI, the HTTP server and the Ray engine's replicas all open their summarizer here, with the
same settings layers (built-in < the model's own < TOML preset < flags or arguments), so a
setting means the same thing through every door. Errors are exceptions with the one-line
messages the CLI prints (`SettingsError`, `ModelLoadError`, `InputError`, all `SummarizerError`);
nothing here prints or exits.
"""

from __future__ import annotations

from contextlib import closing
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping, Sequence

from .config import Bounds, GenerationSettings, Layer, RunSettings, load_toml, resolve
from .errors import InputError, ModelLoadError, SettingsError, SummarizerError, UnsupportedModel
from .pipeline import IDLE, Failure, Item, Pipeline
from .report import Summary

if TYPE_CHECKING:
    from .evidence import Evidence
    from .models.loading import Checkpoint, LoadedModel

__all__ = [
    "Summarizer", "Summary", "Item", "summarize", "check", "SummarizerError", "SettingsError", "ModelLoadError",
    "UnsupportedModel", "InputError",
]

ARGUMENT = "argument"
# What may change from one text (or request) to the next with the same model and backend.
PER_TEXT = frozenset(
    {f.name for f in fields(GenerationSettings)} | {f.name for f in fields(Bounds)}
    | {"chunk_size", "chunk_overlap", "chunk_max_length", "chunk_min_length", "strategy", "whole_sentences", "evidence"}
)


@dataclass
class _Model:
    """What the summarizers derived from one another share: one checkpoint, loaded once, and
    the backends opened over it (one per backend, precision and attention)."""

    checkpoint: "Checkpoint | None"
    loaded: "LoadedModel | None"
    progress_bars: bool = False
    backends: dict[tuple[Any, ...], Any] = field(default_factory=dict)


class Summarizer:
    """A model loaded once, with settings, that summarizes texts, many texts, or files.

    `Summarizer(model=None, *, config=None, **settings)`: `model` is a hub id or a folder
    (default t5-small); `config` a TOML preset; `settings` the flags' names with underscores
    (`max_length=60`, `num_beams=4`, `backend="ctranslate2"`, `strategy="map"`...).
    """

    def __init__(self, model: str | None = None, *, config: str | Path | None = None, progress_bars: bool = False,
                 **settings: Any):
        layers = [Layer(f"preset: {config}", load_toml(Path(config)))] if config is not None else []
        layers.append(Layer(ARGUMENT, {"model": model, **settings}))
        self._open(tuple(layers), weights=True, shared=None, progress_bars=progress_bars)

    @classmethod
    def from_layers(cls, layers: Sequence[Layer | Mapping[str, Any]], *, weights: bool = True,
                    progress_bars: bool = False) -> "Summarizer":
        """The CLI's door: layers as the flags and preset gave them. `weights=False` describes
        the model without loading weights or a backend (a Ray driver, whose workers run it)."""
        summarizer = cls.__new__(cls)
        summarizer._open(tuple(layers), weights=weights, shared=None, progress_bars=progress_bars)
        return summarizer

    def derive(self, layer: Layer | Mapping[str, Any]) -> "Summarizer":
        """The same model with one more settings layer on top (a sweep's grid point): loaded
        weights and opened backends are shared, a backend or precision not yet open opens."""
        summarizer = type(self).__new__(type(self))
        summarizer._open((*self.layers, layer), weights=self._weights, shared=self._model, progress_bars=False)
        return summarizer

    def _open(self, layers: tuple[Layer | Mapping[str, Any], ...], weights: bool, shared: _Model | None,
              progress_bars: bool) -> None:
        from .backends import BackendError, choose_backend

        self.layers = layers
        self._weights = weights
        user = resolve(*layers)  # impossible settings fail before anything loads
        if not user.settings.abstractive:
            self._model = shared or _Model(None, cached_tokenizer(user.settings.model))
            self.resolved = user
            self.note = None
            self.pipeline = Pipeline(self.resolved.settings, self._model.loaded)
            return
        if shared is None or shared.checkpoint is None or shared.checkpoint.name != user.settings.model:
            from .models.loading import describe

            shared = _Model(describe(user.settings.model), None, progress_bars)
        self._model = shared
        resolved = resolve(*layers, inherited=shared.checkpoint.defaults.layers)
        auto = resolved.settings.backend == "auto"
        backend, reason = choose_backend(resolved.settings, shared.checkpoint)
        settings = replace(resolved.settings, backend=backend)
        try:
            loaded = self._loaded(settings, weights)
            opened = self._backend(loaded, settings) if weights else None
        except BackendError as exc:  # auto's CTranslate2 could not convert or place the model
            if not (auto and backend == "ctranslate2"):
                raise
            settings, reason = replace(settings, backend="torch"), str(exc)
            loaded = self._loaded(settings, weights)
            opened = self._backend(loaded, settings) if weights else None
        origin = resolved.origins["backend"]
        self.resolved = replace(resolved, settings=settings, origins={**resolved.origins, "backend": f"{origin}: auto" if auto else origin})
        self.note = f"running on torch: {reason}" if reason else None
        self.pipeline = Pipeline(settings, loaded, opened)

    def _loaded(self, settings: RunSettings, weights: bool) -> "LoadedModel":
        """The shared model, with torch weights once a torch backend needs them."""
        from .device import resolve as place
        from .models.loading import load_model

        shared = self._model
        placement = place(settings.device, settings.dtype, settings.backend)
        torch_weights = weights and settings.backend == "torch"
        loaded = shared.loaded
        if loaded is None or loaded.placement != placement or (torch_weights and loaded.model is None):
            loaded = load_model(
                settings.model, placement, progress_bars=shared.progress_bars, weights=torch_weights,
                allow_pickle=settings.allow_pickle, checkpoint=shared.checkpoint,
            )
            shared.loaded = loaded
        return loaded

    def _backend(self, loaded: "LoadedModel", settings: RunSettings):
        from .backends import open_backend

        key = (settings.backend, settings.quantize, settings.attention, settings.threads, loaded.placement)
        if key not in self._model.backends:
            self._model.backends[key] = open_backend(loaded, settings)
        return self._model.backends[key]

    # -- what was opened ---------------------------------------------------------------------------

    @property
    def settings(self) -> RunSettings:
        """The settings in force; `backend` is the one that runs (auto resolved)."""
        return self.resolved.settings

    @property
    def origins(self) -> Mapping[str, str]:
        """Where each setting's value came from: "built-in", "model: generation_config.json",
        "preset: FILE", "flag", "argument"..."""
        return self.resolved.origins

    @property
    def model(self) -> "LoadedModel | None":
        return self.pipeline.model

    @property
    def checkpoint(self) -> "Checkpoint | None":
        """What the model's files say about it (family, defaults); None for extractive methods."""
        return self._model.checkpoint

    name = property(lambda self: self.pipeline.name, doc="the model (or extractive method) that runs")
    device = property(lambda self: self.pipeline.device)
    dtype = property(lambda self: self.pipeline.dtype)
    revision = property(lambda self: self.pipeline.revision)
    model_type = property(lambda self: self.pipeline.model_type)

    # -- summarizing -------------------------------------------------------------------------------

    def run(self, items: Iterable[Any], progress: Callable[[int, int], None] | None = None,
            memo_for: Callable[[int], Any] | None = None, *, fair: bool = False,
            on_batch: Callable[[int, float], None] | None = None) -> Iterator[tuple[int, Summary]]:
        """(input position, Summary) per item as documents finish, whatever their order: the
        streaming primitive the CLI's engines and the server build on. Items are str, `Item`s,
        or anything with `source` and `text`; `IDLE` means nothing more has arrived yet.
        `memo_for(position)` keeps an input's chunk summaries for a resumed run. `fair` takes
        turns across items (a server's requests) instead of finishing the oldest first;
        `on_batch(rows, seconds)` hears each generate() call. Closing the iterator stops the
        work and closes `items`."""
        return self.pipeline.run((_item(x, position) for position, x in _numbered(items)), progress, memo_for,
                                 fair=fair, on_batch=on_batch)

    def per_text(self, **settings: Any) -> RunSettings | None:
        """The settings for one text (or request) that changes `settings` (generation, chunking,
        strategy); None when it changes nothing. Refuses what needs another model or backend."""
        settings = {key: value for key, value in settings.items() if value is not None}
        if not settings:
            return None
        other = sorted(set(settings) - PER_TEXT)
        if other:
            raise SettingsError(
                f"{', '.join(other)} cannot change from one text to the next: it needs another model, "
                "backend or method (open another Summarizer)"
            )
        derived = resolve(*self.layers, Layer(ARGUMENT, settings), inherited=self._inherited()).settings
        derived = replace(derived, backend=self.settings.backend)
        if derived.backend == "ctranslate2":
            from .backends.ctranslate2 import check

            for generation in (derived.generation, derived.chunk_generation):
                check(self.checkpoint, generation)  # what CTranslate2 cannot do is refused before it is queued
        if derived.abstractive:
            self.pipeline.plan(derived)  # a window too small for the prefix is refused here
        return derived

    def _inherited(self) -> tuple[Layer, ...]:
        checkpoint = self._model.checkpoint
        return checkpoint.defaults.layers if checkpoint is not None and self.settings.abstractive else ()

    def summarize(self, text: str, *, source: str = "text", **settings: Any) -> Summary:
        """One text's Summary; InputError for an empty text, SummarizerError when generation failed."""
        if not isinstance(text, str):
            raise InputError(f"{source}: expected text (a str), got {type(text).__name__}")
        if not text.strip():
            raise InputError(f"{source}: empty input, nothing to summarize")
        record = next(self.summarize_many([Item(source, text)], **settings))
        if record.error is not None:
            raise SummarizerError(f"{source}: {record.error}")
        return record

    def summarize_many(self, texts: Iterable[Any], progress: Callable[[int, int], None] | None = None,
                       **settings: Any) -> Iterator[Summary]:
        """A Summary per text, in input order, all batched together. Texts are str, `Item`s or
        anything with `source` and `text`; one that fails gives a record with `error` set.
        `progress(done, known)` hears chunks generated of those known so far."""
        per_text = self.per_text(**settings)
        items = texts if per_text is None else (_with_settings(_item(x, i), per_text) for i, x in _numbered(texts))
        waiting: dict[int, Summary] = {}
        position = 0
        # Closed with this generator (a caller that stops early): no more generation, and
        # `texts` closed (a file walk's open file is released).
        with closing(self.run(items, progress)) as records:
            for index, record in records:
                waiting[index] = record
                while position in waiting:
                    yield waiting.pop(position)
                    position += 1

    def summarize_files(self, paths: Iterable[str | Path], *, globs: Sequence[str] | None = None,
                        **settings: Any) -> Iterator[Summary]:
        """A Summary per file, URL or "-" (stdin), folders walked (with `globs`), in order, read
        one at a time as the model asks for more: text in any encoding, PDF, HTML. An input over
        `max_input_size` bytes gives a record whose `error` says so; the others go on."""
        from .readers import DEFAULT_GLOBS, ReadError, ReadLimits, discover, read

        limits = ReadLimits(max_bytes=self.settings.max_input_size)

        def documents() -> Iterator[Any]:
            for path in paths:
                listing = discover([str(path)], globs or DEFAULT_GLOBS)
                for problem in listing.errors:
                    yield Failure(problem.source, problem.message)
                for source in listing.sources:
                    try:
                        yield read(source, limits=limits)
                    except ReadError as exc:
                        if not exc.skippable:
                            yield Failure(source.name, str(exc))

        return self.summarize_many(documents(), **settings)


    def language_warning(self, language: str | None) -> str | None:
        """The one line to say when an input in `language` (a record's) goes through a model that
        summarizes other languages; None when it fits, or nothing is known to the contrary."""
        checkpoint = self.checkpoint
        if language is None or checkpoint is None or not self.settings.abstractive:
            return None
        from .language import NAMES, Language, mismatch_warning

        return mismatch_warning(Language(language, NAMES.get(language, language), 1.0), checkpoint)

    def attention(self, record: Summary) -> dict[str, Any]:
        """The decoder's cross-attention for `record`'s summary over what its final pass read
        (the document itself when it fit one window, else the chunk summaries the last pass
        summarized): `source_tokens`, `summary_tokens`, and `weights`, a tensor of shape
        (decoder layers, heads, summary tokens, source tokens), each row summing to 1. Needs
        the torch weights, loaded on first use when another backend runs."""
        if not record.final_input or self.model is None:
            raise InputError(f"{record.source}: no model pass to show attention for")
        from .attention_map import cross_attention_weights

        tokenizer = self.model.tokenizer
        summary_ids = tokenizer(record.summary, add_special_tokens=False).input_ids + [tokenizer.eos_token_id]
        weights = cross_attention_weights(self._torch_model(), list(record.final_input), summary_ids)
        return {
            "source_tokens": tokenizer.convert_ids_to_tokens(list(record.final_input)),
            "summary_tokens": tokenizer.convert_ids_to_tokens(summary_ids),
            "weights": weights,
            "read": "the document" if record.levels <= 1 and record.chunks <= 1 else "the input of the final pass",
        }

    def _torch_model(self) -> Any:
        if self.model.model is not None:
            return self.model.model
        return self._loaded(replace(self.settings, backend="torch"), weights=True).model


def check(summary: str, source: str, *, model: str | None = None, pages: Sequence[tuple[int, int]] = ()) -> "Evidence":
    """The evidence in `source` for each sentence of `summary`, whoever wrote it: the source
    sentences behind it, whether it is supported, and what it says that they do not
    (`evidence.Evidence`; `to_dict()` is what `summarize check --format json` prints). No model
    is needed; with `model` (a hub id or folder of any family here) its cross-attention is added
    as a second signal, over what the model reads of `source` in one window. `pages` are a PDF's
    (page number, where its text starts), as a reader's Document has them."""
    from .characters import clean
    from .evidence import ground, sections_of

    for what, text in (("summary", summary), ("source", source)):
        if not isinstance(text, str):
            raise InputError(f"{what}: expected text (a str), got {type(text).__name__}")
        if not text.strip():
            raise InputError(f"{what}: empty, nothing to check")
    # As every text that comes in: a lone surrogate would fail the JSON; one for one, so spans hold.
    summary, source = clean(summary), clean(source)
    evidence = ground(summary, source, sections=sections_of(source, pages))
    if model is not None:
        from .evidence.attention import with_attention

        evidence = with_attention(evidence, Summarizer(model, backend="torch"), summary, source)
    return evidence


def summarize(text: str, **settings: Any) -> Summary:
    """Summarize one text with a summarizer opened for it (`model=` and any setting). For more
    than one text, open a `Summarizer` once: loading the model is most of a one-off call."""
    return Summarizer(**settings).summarize(text)


def _numbered(items: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    position = 0
    for item in items:
        yield position, item
        if item is not IDLE:
            position += 1


def _item(item: Any, position: int) -> Any:
    """A str becomes an Item named by its position; anything else passes as it is."""
    if isinstance(item, str):
        return Item(f"text {position + 1}", item)
    return item


def _with_settings(item: Any, settings: RunSettings) -> Any:
    if item is IDLE or isinstance(item, Failure) or getattr(item, "settings", None) is not None:
        return item
    if isinstance(item, Item):
        return replace(item, settings=settings)
    from .pipeline import _text_of

    return Item(item.source, _text_of(item), settings, pages=getattr(item, "pages", ()))


def cached_tokenizer(model: str) -> "LoadedModel | None":
    """The model's tokenizer when it is on disk (extractive methods count tokens with it), else None."""
    from .device import resolve as place
    from .models.loading import load_model

    try:
        return load_model(model, place("cpu", "float32"), weights=False, local_only=True)
    except ModelLoadError:
        return None
