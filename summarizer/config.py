"""Settings as frozen dataclasses, layered: built-in defaults < model's own < TOML preset < flags.

The model's `task_specific_params["summarization"]` (what the old transformers pipeline used)
sits between the built-in defaults and anything the user wrote, so a checkpoint that knows how it
likes to summarize gets its way unless the user says otherwise. What the user wrote always wins:
an inherited value that would clash with it (t5-small's min_length 30 under `--max-length 20`)
gives way, and only two values the user set themselves can conflict.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Mapping

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

DEFAULT_MODEL = "google-t5/t5-small"
FORMATS = ("text", "json", "jsonl", "markdown")
ATTENTION_CHOICES = ("hf", "scratch")


class ConfigError(ValueError):
    """Settings that cannot work together; reported before any model loads."""


@dataclass(frozen=True)
class GenerationSettings:
    """How each chunk's summary is generated. Lengths count summary tokens."""

    prefix: str = ""
    max_length: int = 150
    min_length: int = 0
    num_beams: int = 1
    temperature: float = 0.0
    top_k: int = 50
    top_p: float = 1.0
    length_penalty: float = 1.0
    no_repeat_ngram_size: int = 0
    repetition_penalty: float = 1.0
    early_stopping: bool = False
    seed: int | None = None

    @property
    def sampling(self) -> bool:
        return self.temperature > 0

    def generate_kwargs(self) -> dict[str, Any]:
        """Arguments for `model.generate()`; sampling knobs only when sampling is on."""
        kwargs: dict[str, Any] = {
            "max_new_tokens": self.max_length,
            "min_new_tokens": self.min_length,
            "num_beams": self.num_beams,
            "do_sample": self.sampling,
            "length_penalty": self.length_penalty,
            "no_repeat_ngram_size": self.no_repeat_ngram_size,
            "repetition_penalty": self.repetition_penalty,
            "early_stopping": self.early_stopping,
        }
        if self.sampling:
            kwargs.update(temperature=self.temperature, top_k=self.top_k, top_p=self.top_p)
        else:
            kwargs.update(temperature=None, top_k=None, top_p=None)
        return kwargs


@dataclass(frozen=True)
class ChunkSettings:
    """How long documents are cut, and how long the summaries of the pieces are.

    `size` None means the model's own input window. `max_length`/`min_length` bound the
    intermediate summaries of a long document (chunk summaries and reduction levels), which
    are only read by the model's final pass; None means the lengths the model would use by
    itself, so a short final summary (`--max-length 40`) is still made from detailed parts.
    """

    size: int | None = None
    overlap: int = 0
    max_length: int | None = None
    min_length: int | None = None


@dataclass(frozen=True)
class RunSettings:
    """Everything one `summarize` invocation needs besides its inputs."""

    model: str = DEFAULT_MODEL
    device: str = "auto"
    dtype: str = "auto"
    batch_size: int | None = None
    batch_tokens: int | None = None
    threads: int | None = None
    attention: str = "hf"
    backend: str = "torch"
    quantize: str | None = None
    method: str = "t5"
    sentences: int = 3
    strategy: str = "map-reduce"
    whole_sentences: bool = False
    allow_pickle: bool = False
    generation: GenerationSettings = GenerationSettings()
    chunking: ChunkSettings = ChunkSettings()

    @property
    def abstractive(self) -> bool:
        """True when a T5 model writes the summary (False for the extractive baselines)."""
        return self.method == "t5"


_GENERATION_KEYS = {f.name for f in fields(GenerationSettings)}
_CHUNK_KEYS = {"chunk_size": "size", "chunk_overlap": "overlap", "chunk_max_length": "max_length", "chunk_min_length": "min_length"}
_RUN_KEYS = {
    "model", "device", "dtype", "batch_size", "batch_tokens", "threads", "attention", "backend", "quantize",
    "method", "sentences", "strategy", "whole_sentences", "allow_pickle",
}
# What the model's task_specific_params may set; other keys there are not ours to apply.
_MODEL_PARAM_KEYS = {
    "prefix", "max_length", "min_length", "num_beams", "length_penalty",
    "no_repeat_ngram_size", "repetition_penalty", "early_stopping",
}


def load_toml(path: Path) -> dict[str, Any]:
    """Read a preset and flatten it to flag names: top level, [generation] and [chunking]."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None

    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key == "generation" and isinstance(value, dict):
            unknown = set(value) - _GENERATION_KEYS
            section_keys = _GENERATION_KEYS
        elif key == "chunking" and isinstance(value, dict):
            unknown = set(value) - set(_CHUNK_KEYS)
            section_keys = set(_CHUNK_KEYS)
        elif key in _RUN_KEYS:
            flat[key] = value
            continue
        else:
            raise ConfigError(
                f"{path}: unknown setting {key!r}; top-level keys are {', '.join(sorted(_RUN_KEYS))}, "
                "plus [generation] and [chunking] tables"
            )
        if unknown:
            raise ConfigError(
                f"{path}: unknown [{key}] setting(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(section_keys))}"
            )
        flat.update(value)
    return flat


def model_defaults(task_specific_params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The checkpoint's own summarization settings, as the old pipeline applied them."""
    params = (task_specific_params or {}).get("summarization") or {}
    return {key: value for key, value in params.items() if key in _MODEL_PARAM_KEYS}


def _merge(layers: tuple[Mapping[str, Any], ...]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for layer in layers:
        merged.update({key: value for key, value in layer.items() if value is not None})
    return merged


def build_settings(*layers: Mapping[str, Any], inherited: Mapping[str, Any] | None = None) -> RunSettings:
    """Merge the user's layers (TOML, then flags; later wins; None means "not set here") over
    what is inherited (built-in defaults, then the model's own `inherited` values).

    An inherited value never makes the user's settings impossible: it gives way instead.
    """
    user = _merge(layers)
    unknown = set(user) - _GENERATION_KEYS - set(_CHUNK_KEYS) - _RUN_KEYS
    if unknown:
        raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    defaults = GenerationSettings()
    base = {"max_length": defaults.max_length, "min_length": defaults.min_length, **_merge((inherited or {},))}
    merged = {**base, **user}
    _yield_to_user(merged, user, base)
    try:
        generation = GenerationSettings(**{k: merged[k] for k in _GENERATION_KEYS if k in merged})
        chunking = ChunkSettings(**{_CHUNK_KEYS[k]: merged[k] for k in _CHUNK_KEYS if k in merged})
        settings = RunSettings(
            generation=generation,
            chunking=chunking,
            **{k: merged[k] for k in _RUN_KEYS if k in merged},
        )
    except TypeError as exc:
        raise ConfigError(str(exc)) from None
    validate(settings)
    return settings


def _yield_to_user(merged: dict[str, Any], user: Mapping[str, Any], base: Mapping[str, Any]) -> None:
    """Adjust inherited values (in place) that would clash with what the user set."""
    numbers = all(isinstance(merged.get(k), int) and not isinstance(merged.get(k), bool) for k in ("max_length", "min_length"))
    if numbers and merged["min_length"] > merged["max_length"]:
        if "min_length" not in user:
            merged["min_length"] = merged["max_length"]
        elif "max_length" not in user:
            merged["max_length"] = merged["min_length"]
    temperature = merged.get("temperature")
    if isinstance(temperature, (int, float)) and temperature > 0 and "num_beams" not in user:
        merged["num_beams"] = 1  # sampling asked for, beams only inherited: plain sampling
    # Intermediate summaries default to the lengths the model would use by itself.
    chunk_max = merged.setdefault("chunk_max_length", base["max_length"])
    chunk_min = merged.setdefault("chunk_min_length", base["min_length"])
    if all(isinstance(v, int) and not isinstance(v, bool) for v in (chunk_max, chunk_min)) and chunk_min > chunk_max:
        if "chunk_min_length" not in user:
            merged["chunk_min_length"] = chunk_max
        elif "chunk_max_length" not in user:
            merged["chunk_max_length"] = chunk_min


def _check_type(name: str, value: Any, kind: type | tuple[type, ...]) -> None:
    """TOML can carry any type; a bool is an int to Python but never a length or a rate."""
    if isinstance(value, bool) or not isinstance(value, kind):
        raise ConfigError(f"{name} must be a number, not {value!r}")


def validate(settings: RunSettings) -> None:
    """Refuse impossible combinations with a message that names the flag."""
    g, c = settings.generation, settings.chunking
    for name in ("max_length", "min_length", "num_beams", "top_k", "no_repeat_ngram_size"):
        _check_type(f"--{name.replace('_', '-')}", getattr(g, name), int)
    for name in ("temperature", "top_p", "length_penalty", "repetition_penalty"):
        _check_type(f"--{name.replace('_', '-')}", getattr(g, name), (int, float))
    if not isinstance(g.prefix, str):
        raise ConfigError(f"prefix must be a string, not {g.prefix!r}")
    if g.seed is not None:
        _check_type("--seed", g.seed, int)
    if g.max_length < 1:
        raise ConfigError(f"--max-length must be at least 1 (got {g.max_length})")
    if g.min_length < 0:
        raise ConfigError(f"--min-length cannot be negative (got {g.min_length})")
    if g.min_length > g.max_length:
        raise ConfigError(f"--min-length ({g.min_length}) is larger than --max-length ({g.max_length})")
    if g.num_beams < 1:
        raise ConfigError(f"--num-beams must be at least 1 (got {g.num_beams})")
    if g.temperature < 0:
        raise ConfigError(f"--temperature cannot be negative (got {g.temperature}); 0 means greedy/beam search")
    if g.top_k < 0:
        raise ConfigError(f"--top-k cannot be negative (got {g.top_k})")
    if not 0 < g.top_p <= 1:
        raise ConfigError(f"--top-p must be in (0, 1] (got {g.top_p})")
    if g.repetition_penalty <= 0:
        raise ConfigError(f"--repetition-penalty must be positive (got {g.repetition_penalty})")
    if g.no_repeat_ngram_size < 0:
        raise ConfigError(f"--no-repeat-ngram-size cannot be negative (got {g.no_repeat_ngram_size})")
    for flag, value in (("--chunk-max-length", c.max_length), ("--chunk-min-length", c.min_length)):
        if value is not None:
            _check_type(flag, value, int)
    if c.max_length is not None and c.max_length < 1:
        raise ConfigError(f"--chunk-max-length must be at least 1 (got {c.max_length})")
    if c.min_length is not None and c.min_length < 0:
        raise ConfigError(f"--chunk-min-length cannot be negative (got {c.min_length})")
    if c.max_length is not None and c.min_length is not None and c.min_length > c.max_length:
        raise ConfigError(f"--chunk-min-length ({c.min_length}) is larger than --chunk-max-length ({c.max_length})")
    if c.size is not None:
        _check_type("--chunk-size", c.size, int)
        if c.size < 8:
            raise ConfigError(f"--chunk-size must be at least 8 tokens (got {c.size})")
    _check_type("--chunk-overlap", c.overlap, int)
    if c.overlap < 0:
        raise ConfigError(f"--chunk-overlap cannot be negative (got {c.overlap})")
    if c.size is not None and c.overlap >= c.size // 2:
        raise ConfigError(f"--chunk-overlap ({c.overlap}) must be less than half of --chunk-size ({c.size})")
    for flag, value in (("--batch-size", settings.batch_size), ("--batch-tokens", settings.batch_tokens),
                        ("--threads", settings.threads), ("--sentences", settings.sentences)):
        if value is not None:
            _check_type(flag, value, int)
            if value < 1:
                raise ConfigError(f"{flag} must be at least 1 (got {value})")
    for flag, value in (("--whole-sentences", settings.whole_sentences), ("--allow-pickle", settings.allow_pickle)):
        if not isinstance(value, bool):
            raise ConfigError(f"{flag} must be true or false, not {value!r}")
    from .backends import BACKEND_CHOICES, QUANTIZE_CHOICES
    from .device import DEVICE_CHOICES, DTYPE_CHOICES
    from .methods import METHOD_CHOICES
    from .strategies import STRATEGY_CHOICES

    for flag, value, choices in (("--backend", settings.backend, BACKEND_CHOICES), ("--method", settings.method, METHOD_CHOICES),
                                 ("--strategy", settings.strategy, STRATEGY_CHOICES)):
        if value not in choices:
            raise ConfigError(f"{flag} must be one of {', '.join(choices)} (got {value!r})")
    if settings.quantize is not None and settings.quantize not in QUANTIZE_CHOICES:
        raise ConfigError(f"--quantize must be one of {', '.join(QUANTIZE_CHOICES)} (got {settings.quantize!r})")
    if settings.quantize is not None and settings.dtype not in ("auto", "float32"):
        raise ConfigError(f"--quantize {settings.quantize} replaces --dtype {settings.dtype}; give one of them")

    if settings.device not in DEVICE_CHOICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICE_CHOICES)} (got {settings.device!r})")
    if settings.dtype not in DTYPE_CHOICES:
        raise ConfigError(f"dtype must be one of {', '.join(DTYPE_CHOICES)} (got {settings.dtype!r})")
    if settings.attention not in ATTENTION_CHOICES:
        raise ConfigError(f"attention must be one of {', '.join(ATTENTION_CHOICES)} (got {settings.attention!r})")
    if not isinstance(settings.model, str) or not settings.model:
        raise ConfigError("model must be a hub id or a folder path")
