"""Finding and loading a checkpoint: the local cache first, then the hub, with one-line errors.

Shared by every backend: the tokenizer and config always come from the transformers folder or
hub id; the torch backend also loads the weights here, the CTranslate2 backend converts them.
"""

from __future__ import annotations

import json
import os
import socket
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlparse

from ..config import DEFAULT_MODEL, model_defaults
from ..errors import first_line
from ..device import Placement, resolve
from .families import Family, family_of

_FOLDER_HINT = "pass --model DIR with a folder saved by save_pretrained (config.json, tokenizer files, weights)"
_FALLBACK_WINDOW = 512


class ModelLoadError(RuntimeError):
    """The model could not be loaded; the message says what to do about it."""


@dataclass(frozen=True)
class LoadedModel:
    """A checkpoint's tokenizer and config, and its torch weights unless asked to skip them."""

    name: str
    tokenizer: Any
    config: Any
    placement: Placement
    model: Any = None

    @property
    def model_type(self) -> str:
        return getattr(self.config, "model_type", None) or "unknown"

    @property
    def family(self) -> Family:
        return family_of(self.model_type)

    @property
    def window(self) -> int:
        """Input tokens per pass: the tokenizer's `model_max_length`, else the config's position
        limit (T5's relative positions have none, so 512, what T5 was trained on)."""
        limit = getattr(self.tokenizer, "model_max_length", None)
        if isinstance(limit, int) and 0 < limit < 1_000_000:
            return limit
        for key in self.family.position_keys:
            value = getattr(self.config, key, None)
            if isinstance(value, int) and value > 0:
                return value
        return _FALLBACK_WINDOW

    @property
    def task_defaults(self) -> dict[str, Any]:
        return model_defaults(getattr(self.config, "task_specific_params", None))

    @property
    def revision(self) -> str:
        """Which weights these are: the hub commit, or for a folder a hash of its files' names,
        sizes and modification times (cheap, and changes whenever a file is rewritten)."""
        commit = getattr(self.config, "_commit_hash", None)
        folder = Path(self.name).expanduser()
        if not folder.is_dir():
            return commit or "unknown"
        import hashlib

        stats = sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir() if p.is_file())
        return hashlib.sha256(repr(stats).encode()).hexdigest()[:16]


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


_T5_FAMILY = ("t5", "mt5")
_T5_DEFAULTS = {"is_encoder_decoder": True, "vocab_size": 32128, "decoder_start_token_id": 0}  # T5Config's


def _t5_without_torch(source: str, is_dir: bool, local_only: bool) -> tuple[Any, Any] | None:
    """(tokenizer, config) of a T5-family checkpoint without importing torch; None for others.

    transformers' AutoConfig and AutoTokenizer import torch (1.3 s of a 2.9 s start here) even
    when no weights load, and the CTranslate2 backend, a Ray driver and the extractive methods'
    token counts need neither torch nor the weights. The config is config.json as written (over
    T5Config's defaults for the few keys read); the tokenizer is T5's own class, the one
    AutoTokenizer picks for these model types. Other model types take the Auto path.
    """
    if is_dir:
        config_file = Path(source) / "config.json"
    else:
        from huggingface_hub import hf_hub_download

        config_file = Path(hf_hub_download(source, "config.json", local_files_only=local_only))
    data = json.loads(config_file.read_text(encoding="utf-8"))
    if data.get("model_type") not in _T5_FAMILY:
        return None
    from transformers.models.t5.tokenization_t5 import T5Tokenizer

    tokenizer = T5Tokenizer.from_pretrained(source, local_files_only=local_only)
    commit = None if is_dir else config_file.parent.name  # the hub cache keeps files under snapshots/<commit>/
    return tokenizer, SimpleNamespace(**{**_T5_DEFAULTS, **data, "_commit_hash": commit})


def load_model(
    name: str, placement: Placement | None = None, progress_bars: bool = False, weights: bool = True,
    local_only: bool = False, allow_pickle: bool = False,
) -> LoadedModel:
    """Load tokenizer, config and (with `weights`) the torch seq2seq model from a folder or a
    hub id, cache first, then the hub (never, with `local_only`). Only safetensors weights
    load unless `allow_pickle`; remote code never runs."""
    placement = placement or resolve()
    _quiet_transformers(progress_bars)

    path = Path(name).expanduser()
    is_dir = path.is_dir()
    if not is_dir and _looks_like_path(name):
        raise ModelLoadError(f"cannot load model {name!r}: no such folder -- {_FOLDER_HINT}, or a hub id like {DEFAULT_MODEL!r}")
    if is_dir and not (path / "config.json").is_file():
        raise ModelLoadError(f"cannot load model {name!r}: the folder has no config.json -- {_FOLDER_HINT}")
    if is_dir and not allow_pickle and _only_pickle(path):
        raise _pickle_refusal(name)
    source = str(path) if is_dir else name

    def _load(local_only: bool):
        if not weights:
            described = _t5_without_torch(source, is_dir, local_only)
            if described is not None:
                return (*described, None)
        from transformers import AutoConfig, AutoModelForSeq2SeqLM, AutoTokenizer

        options = dict(local_files_only=local_only, trust_remote_code=False)
        tokenizer = AutoTokenizer.from_pretrained(source, **options)
        if not weights:
            return tokenizer, AutoConfig.from_pretrained(source, **options), None
        model = AutoModelForSeq2SeqLM.from_pretrained(
            source, dtype=placement.torch_dtype, use_safetensors=None if allow_pickle else True, **options
        )
        return tokenizer, model.config, model

    try:
        try:
            tokenizer, config, model = _load(local_only=True)
        except OSError:
            if is_dir or local_only or _offline_mode():
                raise
            if not _hub_reachable():
                raise ModelLoadError(
                    f"cannot load model {name!r}: it is not in the local cache and the model hub is "
                    f"unreachable -- connect to the internet once so the cache fills, or {_FOLDER_HINT}"
                ) from None
            tokenizer, config, model = _load(local_only=False)
    except ModelLoadError:
        raise
    except (OSError, ValueError, KeyError, ImportError) as exc:
        if not allow_pickle and "safetensors" in str(exc) and ".bin" in str(exc):
            raise _pickle_refusal(name) from None
        hint = _FOLDER_HINT if is_dir else f"check the id, or connect to the internet once so the cache fills, or {_FOLDER_HINT}"
        raise ModelLoadError(f"cannot load model {name!r}: {first_line(exc)} -- {hint}") from None

    if not getattr(config, "is_encoder_decoder", False):
        raise ModelLoadError(f"cannot use model {name!r}: it is not an encoder-decoder (T5-style) model")
    if model is not None:
        model.to(placement.torch_device)
        model.eval()
    return LoadedModel(name=name, tokenizer=tokenizer, config=config, placement=placement, model=model)
