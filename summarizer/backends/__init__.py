"""The backend seam: token ids in, token ids out.

The pipeline tokenizes, chunks, batches, reduces and reports; a backend only turns a batch of
encoder inputs (prefix + chunk + </s>, unpadded) into generated token ids. Everything above this
seam is the same whichever backend runs, so a new runtime is one small module here.

`--backend auto` (the default) takes CTranslate2, the faster one on a CPU, whenever it can run
the model with every setting in force, and torch otherwise; `choose_backend` says why not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Sequence

from ..errors import SettingsError

if TYPE_CHECKING:
    from ..config import GenerationSettings, RunSettings
    from ..models.loading import Checkpoint, LoadedModel

BACKEND_CHOICES = ("auto", "torch", "ctranslate2")
QUANTIZE_CHOICES = ("int8",)


class BackendError(SettingsError):
    """A setting this backend cannot honour, or a backend that is not installed."""


class Backend(Protocol):
    name: str

    def generate(self, rows: Sequence[Sequence[int]], generation: "GenerationSettings") -> list[list[int]]:
        """Generated ids for each row (decoder start token dropped; may end in </s> or padding)."""
        ...


def choose_backend(settings: "RunSettings", checkpoint: "Checkpoint") -> tuple[str, str | None]:
    """(backend to run, why auto took torch): the named backend, or for "auto" CTranslate2
    unless something in force rules it out. The model's own defaults count like any setting:
    auto takes torch rather than change what the checkpoint asks for."""
    if settings.backend != "auto":
        return settings.backend, None
    reason = _ctranslate2_obstacle(settings, checkpoint)
    return ("torch", reason) if reason else ("ctranslate2", None)


def _ctranslate2_obstacle(settings: "RunSettings", checkpoint: "Checkpoint") -> str | None:
    import importlib.util

    from ..device import torch_gpu_only
    from .ctranslate2 import check

    if importlib.util.find_spec("ctranslate2") is None:
        return "ctranslate2 is not installed (pip install 'summarizer[fast]')"
    if not checkpoint.family.ctranslate2:
        return f"ctranslate2 cannot run {checkpoint.family.name} models"
    if settings.attention != "hf":
        return f"--attention {settings.attention} runs on torch only"
    if settings.device == "mps":
        return "ctranslate2 has no MPS support"
    if settings.device in ("auto", "cuda") and torch_gpu_only():
        return "torch sees a CUDA GPU that ctranslate2 cannot use"
    for generation in (settings.generation, settings.chunk_generation):
        try:
            check(checkpoint, generation)
        except BackendError as exc:
            return str(exc).split("; use --backend torch")[0].split("; add --")[0]
    return None


def open_backend(loaded: "LoadedModel", settings: "RunSettings") -> Backend:
    """The backend `settings.backend` names (auto: `choose_backend`'s), over an already loaded
    tokenizer and config (and the torch weights, for torch)."""
    if choose_backend(settings, loaded.checkpoint)[0] == "ctranslate2":
        from .ctranslate2 import CTranslate2Backend

        return CTranslate2Backend.open(loaded, settings)
    from .torch import TorchBackend

    return TorchBackend.open(loaded, settings)
