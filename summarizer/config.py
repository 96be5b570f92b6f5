"""Settings as frozen dataclasses, layered: built-in defaults < model's own < TOML preset < flags.

Each layer is a `Layer`: values and the place they came from, so `summarize settings` can say
where every value in force was set. The model's own defaults (read by `models.defaults` from
wherever its checkpoint keeps them) sit between the built-in defaults and anything the user
wrote, so a checkpoint that knows how it likes to summarize gets its way unless the user says
otherwise. What the user wrote always wins: an inherited value that would clash with it
(t5-small's min_length 30 under `--max-length 20`) gives way, and only two values the user set
themselves can conflict.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from .errors import SettingsError

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

DEFAULT_MODEL = "google-t5/t5-small"
FORMATS = ("text", "json", "jsonl", "markdown")
ATTENTION_CHOICES = ("hf", "scratch")
BUILT_IN = "built-in"
# 100 MB: twenty times the longest books (the Bible is 4.5 MB of text), so no real document
# meets it, while an endless pipe is refused within a second at pipe speed, within a minute
# from a producer that writes 2 MB/s. Days of summarizing on a CPU lie far below it.
DEFAULT_MAX_INPUT_SIZE = 100 * 10**6
# The largest count a setting may hold: what the C and C++ code under torch and CTranslate2
# takes as an int (a bigger one is an OverflowError deep inside generate()).
MOST = 2**31 - 1
MOST_SEED = 2**32 - 1  # CTranslate2 seeds with an unsigned 32-bit int (torch takes more)


@dataclass(frozen=True)
class Layer:
    """Settings from one place: `origin` says which ("flag", "preset: brief.toml", "model:
    generation_config.json"); `values` maps setting names (flag names with underscores) to
    values, None meaning "not set here"."""

    origin: str
    values: Mapping[str, Any]


@dataclass(frozen=True)
class Resolved:
    """The settings in force and, for each setting name, the layer its value came from."""

    settings: "RunSettings"
    origins: Mapping[str, str]


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
    early_stopping: bool | str = False  # True, False, or "never" (canonical beam search), as transformers has it
    seed: int | None = None
    # mBART-50's target language code (de_DE); None: the input's language where it is detected
    target_language: str | None = None

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
class Bounds:
    """The printed summary's length in the units people ask for. A document turns them into a
    token budget from its own tokens per word (`lengths`), and the summary is cut back to whole
    words and sentences within them (`sentences.cut_back`). `ratio` asks for about that share
    of the input's words."""

    max_words: int | None = None
    min_words: int | None = None
    max_sentences: int | None = None
    ratio: float | None = None

    @property
    def set(self) -> bool:
        return any(value is not None for value in (self.max_words, self.min_words, self.max_sentences, self.ratio))


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
    backend: str = "auto"
    quantize: str | None = None
    method: str = "t5"
    sentences: int = 3
    strategy: str = "map-reduce"
    whole_sentences: bool = False
    allow_pickle: bool = False
    max_input_size: int = DEFAULT_MAX_INPUT_SIZE
    strict: bool = False  # a record with a warning (a looping or empty summary...) fails the run
    evidence: bool = True  # each summary sentence's source sentences in the record (summarizer.evidence)
    generation: GenerationSettings = GenerationSettings()
    chunking: ChunkSettings = ChunkSettings()
    bounds: Bounds = Bounds()

    @property
    def chunk_generation(self) -> GenerationSettings:
        """How intermediate summaries (chunks, reduction levels) are generated: the chunk lengths."""
        c = self.chunking
        return replace(self.generation, max_length=c.max_length or self.generation.max_length,
                       min_length=self.generation.min_length if c.min_length is None else c.min_length)

    @property
    def abstractive(self) -> bool:
        """True when a T5 model writes the summary (False for the extractive baselines)."""
        return self.method == "t5"


_GENERATION_KEYS = {f.name for f in fields(GenerationSettings)}
_BOUND_KEYS = {f.name for f in fields(Bounds)}
_CHUNK_KEYS = {"chunk_size": "size", "chunk_overlap": "overlap", "chunk_max_length": "max_length", "chunk_min_length": "min_length"}
_RUN_KEYS = {
    "model", "device", "dtype", "batch_size", "batch_tokens", "threads", "attention", "backend", "quantize",
    "method", "sentences", "strategy", "whole_sentences", "allow_pickle", "max_input_size", "strict", "evidence",
}
SETTING_NAMES = (  # every setting, in the order `summarize settings` lists them
    "model", "method", "strategy", "backend", "quantize", "device", "dtype", "attention",
    *(f.name for f in fields(GenerationSettings)), *(f.name for f in fields(Bounds)), "whole_sentences",
    "chunk_size", "chunk_overlap", "chunk_max_length", "chunk_min_length",
    "batch_size", "batch_tokens", "threads", "sentences", "max_input_size", "allow_pickle", "strict", "evidence",
)
# A summary's length is asked for in tokens or in words and sentences; within one layer (the
# flags, a preset) only one of each pair may be given, and a later layer's replaces an earlier's.
_LENGTH_UNITS = (
    ("max_length", ("max_words", "max_sentences", "ratio")),
    ("min_length", ("min_words", "ratio")),
)
_SIZE = re.compile(r"(?i)^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$")
_UNITS = {"": 1, "k": 10**3, "m": 10**6, "g": 10**9, "t": 10**12}


def load_toml(path: Path) -> dict[str, Any]:
    """Read a preset and flatten it to flag names: top level, [generation] and [chunking]."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"cannot read config file {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path} is not valid TOML: {exc}") from None

    flat: dict[str, Any] = {}
    for key, value in data.items():
        if key == "generation" and isinstance(value, dict):
            section_keys = _GENERATION_KEYS | _BOUND_KEYS
            unknown = set(value) - section_keys
        elif key == "chunking" and isinstance(value, dict):
            unknown = set(value) - set(_CHUNK_KEYS)
            section_keys = set(_CHUNK_KEYS)
        elif key in _RUN_KEYS:
            flat[key] = value
            continue
        else:
            raise SettingsError(
                f"{path}: unknown setting {key!r}; top-level keys are {', '.join(sorted(_RUN_KEYS))}, "
                "plus [generation] and [chunking] tables"
            )
        if unknown:
            raise SettingsError(
                f"{path}: unknown [{key}] setting(s) {', '.join(sorted(unknown))}; "
                f"known: {', '.join(sorted(section_keys))}"
            )
        flat.update(value)
    return flat


def parse_size(value: Any, flag: str = "--max-input-size") -> int:
    """Bytes from `12345`, `"500K"`, `"100M"`, `"2G"` (powers of 1000, as `ls -h --si` and disk
    makers count; a trailing "B" or "iB" is accepted and counted the same)."""
    if isinstance(value, bool):
        raise SettingsError(f"{flag} must be a size such as 100M, not {value!r}")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(str(value))
        if not match:
            raise SettingsError(f"{flag} must be a size such as 500K, 100M or 2G (got {value!r})")
        size = int(float(match[1]) * _UNITS[match[2].lower()])
    if size < 1:
        raise SettingsError(f"{flag} must be at least 1 byte (got {value!r})")
    return size


def _layer(layer: Layer | Mapping[str, Any], origin: str) -> Layer:
    return layer if isinstance(layer, Layer) else Layer(origin, layer)


def _merge(layers: Sequence[Layer]) -> tuple[dict[str, Any], dict[str, str]]:
    """Later layers win; a None value is "not set here". Returns values and their origins."""
    merged: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for layer in layers:
        for key, value in layer.values.items():
            if value is not None:
                merged[key], origins[key] = value, layer.origin
    return merged, origins


def build_settings(*layers: Layer | Mapping[str, Any], inherited: Layer | Mapping[str, Any] | Sequence[Layer] | None = None) -> "RunSettings":
    """The settings in force; see `resolve`."""
    return resolve(*layers, inherited=inherited).settings


def resolve(*layers: Layer | Mapping[str, Any], inherited: Layer | Mapping[str, Any] | Sequence[Layer] | None = None) -> Resolved:
    """Merge the user's layers (TOML, then flags; later wins; None means "not set here") over
    what is inherited (built-in defaults, then the model's own layers, lowest first).

    An inherited value never makes the user's settings impossible: it gives way instead.
    """
    user_layers = _one_unit_each([_layer(layer, "setting") for layer in layers])
    user, user_origins = _merge(user_layers)
    unknown = set(user) - _GENERATION_KEYS - _BOUND_KEYS - set(_CHUNK_KEYS) - _RUN_KEYS
    if unknown:
        raise SettingsError(f"unknown setting(s): {', '.join(sorted(unknown))}")
    if isinstance(inherited, (Layer, Mapping)):
        inherited = [_layer(inherited, "model")]
    defaults = GenerationSettings()
    built_in = Layer(BUILT_IN, {"max_length": defaults.max_length, "min_length": defaults.min_length})
    base, base_origins = _merge([built_in, *(inherited or ())])
    merged, origins = {**base, **user}, {**base_origins, **user_origins}
    _yield_to_user(merged, user, base, origins, base_origins)
    if "max_input_size" in merged:
        merged["max_input_size"] = parse_size(merged["max_input_size"])
    try:
        generation = GenerationSettings(**{k: merged[k] for k in _GENERATION_KEYS if k in merged})
        chunking = ChunkSettings(**{_CHUNK_KEYS[k]: merged[k] for k in _CHUNK_KEYS if k in merged})
        bounds = Bounds(**{k: merged[k] for k in _BOUND_KEYS if k in merged})
        settings = RunSettings(
            generation=generation,
            chunking=chunking,
            bounds=bounds,
            **{k: merged[k] for k in _RUN_KEYS if k in merged},
        )
    except TypeError as exc:
        raise SettingsError(str(exc)) from None
    validate(settings)
    return Resolved(settings, {name: origins.get(name, BUILT_IN) for name in SETTING_NAMES})


def _one_unit_each(layers: list[Layer]) -> list[Layer]:
    """Each layer asks for a summary's length in one unit: `--max-words` and `--max-length`
    together are refused; a later layer's unit replaces an earlier layer's (a flag's words over
    a preset's tokens), so the two never meet in the merged settings."""
    for tokens, units in _LENGTH_UNITS:
        latest = {"tokens": -1, "units": -1}
        for index, layer in enumerate(layers):
            given = {key for key, value in layer.values.items() if value is not None}
            if tokens in given and given & set(units):
                other = sorted(given & set(units))[0]
                raise SettingsError(
                    f"--{other.replace('_', '-')} and --{tokens.replace('_', '-')} both set the summary's length; give one of them"
                )
            if tokens in given:
                latest["tokens"] = index
            if given & set(units):
                latest["units"] = index
        if min(latest.values()) >= 0:
            drop = {tokens} if latest["units"] > latest["tokens"] else set(units)
            layers = [Layer(layer.origin, {key: value for key, value in layer.values.items() if key not in drop})
                      if index < max(latest.values()) else layer for index, layer in enumerate(layers)]
    return layers


def _yield_to_user(merged: dict[str, Any], user: Mapping[str, Any], base: Mapping[str, Any], origins: dict[str, str],
                   base_origins: Mapping[str, str]) -> None:
    """Adjust inherited values (in place) that would clash with what the user set, saying so
    in their origins."""
    def give_way(key: str, value: Any, why: str) -> None:
        merged[key] = value
        origins[key] = f"{origins.get(key, BUILT_IN)}, {why}"

    _yield_lengths(merged, user, ("min_length", "max_length"), give_way)
    for tokens, units in _LENGTH_UNITS:  # a bound in words or sentences becomes tokens per document
        asked = [unit for unit in units if unit in user]
        if asked:
            origins[tokens] = f"{origins.get(tokens, BUILT_IN)}, replaced per document by --{asked[0].replace('_', '-')}"
    temperature = merged.get("temperature")
    if isinstance(temperature, (int, float)) and temperature > 0 and "num_beams" not in user and merged.get("num_beams", 1) != 1:
        give_way("num_beams", 1, "1 for sampling")  # sampling asked for, beams only inherited: plain sampling
    # Intermediate summaries default to the lengths the model would use by itself.
    for chunk_key, key in (("chunk_max_length", "max_length"), ("chunk_min_length", "min_length")):
        if chunk_key not in merged:
            merged[chunk_key] = base[key]
            origins[chunk_key] = f"{base_origins.get(key, BUILT_IN)} (the {key.replace('_', ' ')} the model would use)"
    _yield_lengths(merged, user, ("chunk_min_length", "chunk_max_length"), give_way)


def _yield_lengths(merged: dict[str, Any], user: Mapping[str, Any], keys: tuple[str, str], give_way) -> None:
    """A min length above the max: the one the user did not set moves to meet the other."""
    low, high = keys
    values = merged.get(low), merged.get(high)
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in values) or values[0] <= values[1]:
        return
    if low not in user:
        give_way(low, values[1], f"lowered to --{high.replace('_', '-')}")
    elif high not in user:
        give_way(high, values[0], f"raised to --{low.replace('_', '-')}")


def _check_type(name: str, value: Any, kind: type | tuple[type, ...], most: int | None = MOST) -> None:
    """TOML can carry any type; a bool is an int to Python but never a length or a rate. A
    count is at most MOST; a real number is finite (JSON and Python parse NaN and Infinity,
    and every comparison with NaN is false, so it would pass every range check below)."""
    if isinstance(value, bool) or not isinstance(value, kind):
        raise SettingsError(f"{name} must be a number, not {_shown(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number, not {value}")
    if most is not None and isinstance(value, int) and abs(value) > most:
        raise SettingsError(f"{name} must be at most {most:,} (got {_shown(value)})")


def _shown(value: Any) -> str:
    """A value for a one-line message: a 5000-digit number or a long string cut short."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**40:
        return f"a number of {value.bit_length():,} bits"  # repr of a 5000-digit int raises
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text):,} characters)"


def _validate_bounds(b: Bounds) -> None:
    for flag, value, least in (("--max-words", b.max_words, 1), ("--min-words", b.min_words, 0),
                               ("--max-sentences", b.max_sentences, 1)):
        if value is not None:
            _check_type(flag, value, int)
            if value < least:
                raise SettingsError(f"{flag} must be at least {least} (got {value})")
    if b.min_words is not None and b.max_words is not None and b.min_words > b.max_words:
        raise SettingsError(f"--min-words ({b.min_words}) is larger than --max-words ({b.max_words})")
    if b.ratio is not None:
        _check_type("--ratio", b.ratio, (int, float))
        if not 0 < b.ratio < 1:
            raise SettingsError(f"--ratio must be between 0 and 1, a share of the input's length (got {b.ratio})")
        if b.max_words is not None or b.min_words is not None:
            raise SettingsError("--ratio and --max-words / --min-words both set the summary's length in words; give one of them")


def validate(settings: RunSettings) -> None:
    """Refuse impossible combinations with a message that names the flag."""
    g, c = settings.generation, settings.chunking
    for name in ("max_length", "min_length", "num_beams", "top_k", "no_repeat_ngram_size"):
        _check_type(f"--{name.replace('_', '-')}", getattr(g, name), int)
    for name in ("temperature", "top_p", "length_penalty", "repetition_penalty"):
        _check_type(f"--{name.replace('_', '-')}", getattr(g, name), (int, float))
    if not isinstance(g.prefix, str):
        raise SettingsError(f"prefix must be a string, not {g.prefix!r}")
    if g.seed is not None:
        if isinstance(g.seed, bool) or not isinstance(g.seed, int) or not 0 <= g.seed <= MOST_SEED:
            raise SettingsError(f"--seed must be a whole number from 0 to {MOST_SEED:,} (got {_shown(g.seed)})")
    if g.max_length < 1:
        raise SettingsError(f"--max-length must be at least 1 (got {g.max_length})")
    if g.min_length < 0:
        raise SettingsError(f"--min-length cannot be negative (got {g.min_length})")
    if g.min_length > g.max_length:
        raise SettingsError(f"--min-length ({g.min_length}) is larger than --max-length ({g.max_length})")
    if g.num_beams < 1:
        raise SettingsError(f"--num-beams must be at least 1 (got {g.num_beams})")
    if g.temperature < 0:
        raise SettingsError(f"--temperature cannot be negative (got {g.temperature}); 0 means greedy/beam search")
    if g.top_k < 0:
        raise SettingsError(f"--top-k cannot be negative (got {g.top_k})")
    if not 0 < g.top_p <= 1:
        raise SettingsError(f"--top-p must be in (0, 1] (got {g.top_p})")
    if g.repetition_penalty <= 0:
        raise SettingsError(f"--repetition-penalty must be positive (got {g.repetition_penalty})")
    if g.no_repeat_ngram_size < 0:
        raise SettingsError(f"--no-repeat-ngram-size cannot be negative (got {g.no_repeat_ngram_size})")
    _validate_bounds(settings.bounds)
    for flag, value in (("--strict", settings.strict), ("--evidence", settings.evidence)):
        if not isinstance(value, bool):
            raise SettingsError(f"{flag} must be true or false, not {value!r}")
    if g.target_language is not None and not (isinstance(g.target_language, str) and g.target_language.strip()):
        raise SettingsError(f"--target-language must be a language code such as de_DE (got {g.target_language!r})")
    for flag, value in (("--chunk-max-length", c.max_length), ("--chunk-min-length", c.min_length)):
        if value is not None:
            _check_type(flag, value, int)
    if c.max_length is not None and c.max_length < 1:
        raise SettingsError(f"--chunk-max-length must be at least 1 (got {c.max_length})")
    if c.min_length is not None and c.min_length < 0:
        raise SettingsError(f"--chunk-min-length cannot be negative (got {c.min_length})")
    if c.max_length is not None and c.min_length is not None and c.min_length > c.max_length:
        raise SettingsError(f"--chunk-min-length ({c.min_length}) is larger than --chunk-max-length ({c.max_length})")
    if c.size is not None:
        _check_type("--chunk-size", c.size, int)
        if c.size < 8:
            raise SettingsError(f"--chunk-size must be at least 8 tokens (got {c.size})")
    _check_type("--chunk-overlap", c.overlap, int)
    if c.overlap < 0:
        raise SettingsError(f"--chunk-overlap cannot be negative (got {c.overlap})")
    if c.size is not None and c.overlap >= c.size // 2:
        raise SettingsError(f"--chunk-overlap ({c.overlap}) must be less than half of --chunk-size ({c.size})")
    for flag, value in (("--batch-size", settings.batch_size), ("--batch-tokens", settings.batch_tokens),
                        ("--threads", settings.threads), ("--sentences", settings.sentences)):
        if value is not None:
            _check_type(flag, value, int)
            if value < 1:
                raise SettingsError(f"{flag} must be at least 1 (got {value})")
    _check_type("--max-input-size", settings.max_input_size, int, most=None)
    if not (isinstance(g.early_stopping, bool) or g.early_stopping == "never"):
        raise SettingsError(f"early_stopping must be true, false or \"never\" (got {g.early_stopping!r})")
    for flag, value in (("--whole-sentences", settings.whole_sentences), ("--allow-pickle", settings.allow_pickle)):
        if not isinstance(value, bool):
            raise SettingsError(f"{flag} must be true or false, not {value!r}")
    from .backends import BACKEND_CHOICES, QUANTIZE_CHOICES
    from .device import DEVICE_CHOICES, DTYPE_CHOICES
    from .methods import METHOD_CHOICES
    from .strategies import STRATEGY_CHOICES

    for flag, value, choices in (("--backend", settings.backend, BACKEND_CHOICES), ("--method", settings.method, METHOD_CHOICES),
                                 ("--strategy", settings.strategy, STRATEGY_CHOICES)):
        if value not in choices:
            raise SettingsError(f"{flag} must be one of {', '.join(choices)} (got {value!r})")
    if settings.quantize is not None and settings.quantize not in QUANTIZE_CHOICES:
        raise SettingsError(f"--quantize must be one of {', '.join(QUANTIZE_CHOICES)} (got {settings.quantize!r})")
    if settings.quantize is not None and settings.dtype not in ("auto", "float32"):
        raise SettingsError(f"--quantize {settings.quantize} replaces --dtype {settings.dtype}; give one of them")

    if settings.device not in DEVICE_CHOICES:
        raise SettingsError(f"device must be one of {', '.join(DEVICE_CHOICES)} (got {settings.device!r})")
    if settings.dtype not in DTYPE_CHOICES:
        raise SettingsError(f"dtype must be one of {', '.join(DTYPE_CHOICES)} (got {settings.dtype!r})")
    if settings.attention not in ATTENTION_CHOICES:
        raise SettingsError(f"attention must be one of {', '.join(ATTENTION_CHOICES)} (got {settings.attention!r})")
    if settings.attention != "hf" and settings.backend == "ctranslate2":
        raise SettingsError(f"--attention {settings.attention} runs on the torch backend only; use --backend torch (or auto)")
    if not isinstance(settings.model, str) or not settings.model:
        raise SettingsError("model must be a hub id or a folder path")
