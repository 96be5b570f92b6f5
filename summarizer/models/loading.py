"""Finding and loading a checkpoint: the local cache first, then the hub, with one-line errors.

Shared by every backend. `describe` reads what a checkpoint says about itself (config.json,
generation_config.json, tokenizer_config.json) without torch or weights: enough for `summarize
settings`, for choosing a backend, and for a driver whose workers run the model. `load_model`
adds the tokenizer, and the torch weights when the torch backend runs (CTranslate2 converts its
own).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import socket
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Mapping
from urllib.parse import urlparse

from ..config import DEFAULT_MODEL
from ..device import Placement, resolve
from ..errors import ModelLoadError, UnsupportedModel, first_line
from .defaults import ModelDefaults, model_defaults
from .families import FAMILIES, OTHER, Family, family_of

_FOLDER_HINT = "pass --model DIR with a folder saved by save_pretrained (config.json, tokenizer files, weights)"
_FALLBACK_WINDOW = 512
# Tokenizer classes by the name tokenizer_config.json gives, imported from their own modules:
# transformers' AutoTokenizer imports torch (1.3 s of a 2.9 s start here) even when no weights
# load, which the CTranslate2 backend, a Ray driver and `summarize settings` never need.
_TOKENIZERS = {
    "T5Tokenizer": "transformers.models.t5.tokenization_t5",
    "RobertaTokenizer": "transformers.models.roberta.tokenization_roberta",
    "BartTokenizer": "transformers.models.roberta.tokenization_roberta:RobertaTokenizer",
    "LEDTokenizer": "transformers.models.roberta.tokenization_roberta:RobertaTokenizer",
    "PegasusTokenizer": "transformers.models.pegasus.tokenization_pegasus",
    "MBartTokenizer": "transformers.models.mbart.tokenization_mbart",
    "MBart50Tokenizer": "transformers.models.mbart50.tokenization_mbart50",
    "TokenizersBackend": "transformers.tokenization_utils_tokenizers",
}
# What a model type's checkpoints use when tokenizer_config.json does not name a class.
_FAMILY_TOKENIZERS = {
    "t5": "T5Tokenizer", "mt5": "T5Tokenizer", "longt5": "T5Tokenizer", "umt5": "TokenizersBackend",
    "bart": "RobertaTokenizer", "led": "RobertaTokenizer", "pegasus": "PegasusTokenizer",
    "pegasus_x": "PegasusTokenizer", "mbart": "MBartTokenizer",
}
_SPECIAL_TOKENS = ("decoder_start_token_id", "bos_token_id", "eos_token_id", "pad_token_id", "forced_bos_token_id",
                   "forced_eos_token_id")
_SUPPORTED = ", ".join(family.name for family in FAMILIES)


@dataclass(frozen=True)
class Checkpoint:
    """What a checkpoint says about itself in its JSON files: no tokenizer, no weights, no torch."""

    name: str  # as the user gave it
    source: str  # the folder (absolute) or the hub id
    is_dir: bool
    config: Mapping[str, Any]  # config.json as written
    generation: Mapping[str, Any] | None  # generation_config.json, if the checkpoint has one
    tokenizer_config: Mapping[str, Any]
    commit: str | None = None  # the hub commit its files came from

    @property
    def model_type(self) -> str:
        return str(self.config.get("model_type") or "unknown")

    @property
    def family(self) -> Family:
        return family_of(self.model_type)

    @cached_property
    def defaults(self) -> ModelDefaults:
        """The checkpoint's own settings; a folder's real name (not `./` or a trailing slash)
        is what picks among Pegasus's dataset-keyed ones."""
        return model_defaults(self.config, self.generation, Path(self.source).name if self.is_dir else self.name)

    @property
    def special_tokens(self) -> dict[str, int]:
        """Start, end, padding and forced tokens, generation_config.json over config.json."""
        tokens = {key: self.config.get(key) for key in _SPECIAL_TOKENS}
        tokens.update({key: value for key, value in (self.generation or {}).items() if key in _SPECIAL_TOKENS})
        return {key: value for key, value in tokens.items() if isinstance(value, int)}

    def window(self, tokenizer_limit: Any = None) -> int:
        """Input tokens per pass: the tokenizer's `model_max_length`, else the config's position
        limit, and never more than that limit (BART has 1024 learned positions whatever its
        tokenizer says); 512 for T5, whose relative positions have none (what T5 was trained on)."""
        limit = tokenizer_limit if tokenizer_limit is not None else self.tokenizer_config.get("model_max_length")
        positions = next((value for key in self.family.position_keys
                          if isinstance(value := self.config.get(key), int) and value > 0), None)
        if isinstance(limit, (int, float)) and 0 < limit < 1_000_000:
            return min(int(limit), positions or int(limit))
        return positions or _FALLBACK_WINDOW

    @property
    def longest_summary(self) -> int | None:
        """Tokens the decoder has positions for (BART's learned ones); None for T5's relative ones."""
        for key in self.family.decoder_position_keys:
            value = self.config.get(key)
            if isinstance(value, int) and value > 0:
                return value
        return None

    @cached_property
    def revision(self) -> str:
        """Which weights these are: the hub commit, or for a folder a hash of its files' names,
        sizes and modification times (cheap, and changes whenever a file is rewritten)."""
        if not self.is_dir:
            return self.commit or "unknown"
        folder = Path(self.source)
        stats = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file())
        return hashlib.sha256(repr(stats).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class LoadedModel:
    """A checkpoint's tokenizer and config, and its torch weights unless asked to skip them."""

    checkpoint: Checkpoint
    tokenizer: Any
    config: Any  # the model's transformers config with weights; config.json's values without
    placement: Placement
    model: Any = None

    @property
    def name(self) -> str:
        return self.checkpoint.name

    @property
    def model_type(self) -> str:
        return self.checkpoint.model_type

    @property
    def family(self) -> Family:
        return self.checkpoint.family

    @property
    def defaults(self) -> ModelDefaults:
        return self.checkpoint.defaults

    @property
    def task_defaults(self) -> dict[str, Any]:
        """The model's own settings, merged (where each came from: `defaults.layers`)."""
        return self.defaults.values

    @property
    def window(self) -> int:
        return self.checkpoint.window(getattr(self.tokenizer, "model_max_length", None))

    @cached_property
    def input_ends(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The special tokens the tokenizer puts around an input, (before, after): T5's and
        Pegasus's `</s>` after, BART's and LED's `<s>` before and `</s>` after, mBART's `</s>`
        and language code after. Read off the tokenizer, as the model was trained with them."""
        plain = list(self.tokenizer("summary of a text", add_special_tokens=False).input_ids)
        full = list(self.tokenizer("summary of a text").input_ids)
        for start in range(len(full) - len(plain) + 1):
            if full[start:start + len(plain)] == plain:
                return tuple(full[:start]), tuple(full[start + len(plain):])
        eos = self.tokenizer.eos_token_id
        return (), (eos,) if eos is not None else ()

    @property
    def revision(self) -> str:
        return self.checkpoint.revision


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



def _looks_like_path(name: str) -> bool:
    """Hub ids are `name` or `org/name`; anything else is meant as a folder."""
    return Path(name).expanduser().exists() or name.startswith(("/", ".", "~")) or name.count("/") > 1


def _pickle_refusal(name: str) -> ModelLoadError:
    return ModelLoadError(
        f"cannot load model {name!r}: it has only pickle (.bin) weights, and unpickling can run "
        "arbitrary code -- convert it to safetensors, or pass --allow-pickle if you trust its source"
    )


def _only_pickle(folder: Path) -> bool:
    return not any(folder.glob("*.safetensors")) and any(folder.glob("*.bin"))


def describe(name: str, local_only: bool = False) -> Checkpoint:
    """Read a checkpoint's JSON files from a folder or a hub id (cache first, then the hub;
    never, with `local_only`), and refuse what is not an encoder-decoder summarizer."""
    path = Path(name).expanduser()
    is_dir = path.is_dir()
    if not is_dir and _looks_like_path(name):
        raise ModelLoadError(f"cannot load model {name!r}: no such folder -- {_FOLDER_HINT}, or a hub id like {DEFAULT_MODEL!r}")
    if is_dir and not (path / "config.json").is_file():
        raise ModelLoadError(f"cannot load model {name!r}: the folder has no config.json -- {_FOLDER_HINT}")
    checkpoint = _with_hub(name, is_dir, local_only, lambda local: _read_json_files(name, path, is_dir, local))
    if not (checkpoint.config.get("is_encoder_decoder") or checkpoint.family is not OTHER):
        raise UnsupportedModel(
            f"cannot use model {name!r}: it is a {checkpoint.model_type} model, not an encoder-decoder "
            f"summarizer -- summarize runs {_SUPPORTED} and other encoder-decoder (seq2seq) checkpoints"
        )
    return checkpoint


def _read_json_files(name: str, path: Path, is_dir: bool, local_only: bool) -> Checkpoint:
    if is_dir:
        folder, commit = path.resolve(), None
    else:
        from huggingface_hub import hf_hub_download

        config_file = Path(hf_hub_download(name, "config.json", local_files_only=local_only))
        folder, commit = config_file.parent, config_file.parent.name  # the cache keeps snapshots/<commit>/
        for optional in ("generation_config.json", "tokenizer_config.json"):
            try:
                hf_hub_download(name, optional, local_files_only=local_only)
            except OSError:  # this checkpoint has none (or it is not cached: the library will say)
                pass
    return Checkpoint(
        name=name, source=str(folder) if is_dir else name, is_dir=is_dir, config=_json(folder / "config.json"),
        generation=_json(folder / "generation_config.json", required=False),
        tokenizer_config=_json(folder / "tokenizer_config.json", required=False) or {}, commit=commit,
    )


def _json(path: Path, required: bool = True) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        if required:
            raise
        return None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path.name} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path.name} is not a JSON object")
    return data


def _with_hub(name: str, is_dir: bool, local_only: bool, load):
    """`load(local_only=True)`; on a cache miss, `load(local_only=False)` when the hub is
    reachable. Every failure becomes one ModelLoadError line naming the model."""
    try:
        try:
            return load(True)
        except OSError:
            if is_dir or local_only or _offline_mode():
                raise
            if not _hub_reachable():
                raise ModelLoadError(
                    f"cannot load model {name!r}: it is not in the local cache and the model hub is "
                    f"unreachable -- connect to the internet once so the cache fills, or {_FOLDER_HINT}"
                ) from None
            return load(False)
    except ModelLoadError:
        raise
    except (OSError, ValueError, KeyError, ImportError) as exc:
        if "safetensors" in str(exc) and ".bin" in str(exc):  # a hub checkpoint with only .bin weights
            raise _pickle_refusal(name) from None
        hint = _FOLDER_HINT if is_dir else f"check the id, or connect to the internet once so the cache fills, or {_FOLDER_HINT}"
        raise ModelLoadError(f"cannot load model {name!r}: {first_line(exc)} -- {hint}") from None


def _tokenizer_class(checkpoint: Checkpoint) -> Any:
    """The checkpoint's tokenizer class, imported without torch where we know its module;
    AutoTokenizer (which imports torch) for the others."""
    named = str(checkpoint.tokenizer_config.get("tokenizer_class") or _FAMILY_TOKENIZERS.get(checkpoint.model_type, ""))
    target = _TOKENIZERS.get(named.removesuffix("Fast"))
    if target is None:
        from transformers import AutoTokenizer

        return AutoTokenizer
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute or named.removesuffix("Fast"))


def load_model(
    name: str, placement: Placement | None = None, progress_bars: bool = False, weights: bool = True,
    local_only: bool = False, allow_pickle: bool = False, checkpoint: Checkpoint | None = None,
) -> LoadedModel:
    """Describe the checkpoint, then load its tokenizer and (with `weights`) the torch seq2seq
    model, cache first, then the hub (never, with `local_only`). Only safetensors weights load
    unless `allow_pickle`; remote code never runs."""
    placement = placement or resolve()
    _quiet_transformers(progress_bars)
    checkpoint = checkpoint or describe(name, local_only)
    if checkpoint.is_dir and not allow_pickle and _only_pickle(Path(checkpoint.source)):
        raise _pickle_refusal(name)

    def _load(local_only: bool):
        options = dict(local_files_only=local_only, trust_remote_code=False)
        tokenizer = _tokenizer_class(checkpoint).from_pretrained(checkpoint.source, **options)
        if not weights:
            config = SimpleNamespace(**{"is_encoder_decoder": True, **checkpoint.config, **checkpoint.special_tokens})
            return tokenizer, config, None
        from transformers import AutoModelForSeq2SeqLM

        model = AutoModelForSeq2SeqLM.from_pretrained(
            checkpoint.source, dtype=placement.torch_dtype, use_safetensors=None if allow_pickle else True, **options
        )
        return tokenizer, model.config, model

    tokenizer, config, model = _with_hub(name, checkpoint.is_dir, local_only, _load)
    if model is not None:
        model.to(placement.torch_device)
        model.eval()
    return LoadedModel(checkpoint=checkpoint, tokenizer=tokenizer, config=config, placement=placement, model=model)
