"""The backend seam: token ids in, token ids out.

The pipeline tokenizes, chunks, batches, reduces and reports; a backend only turns a batch of
encoder inputs (prefix + chunk + </s>, unpadded) into generated token ids. Everything above this
seam is the same whichever backend runs, so a new runtime is one small module here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Sequence

if TYPE_CHECKING:
    from ..config import GenerationSettings, RunSettings
    from ..models.loading import LoadedModel

BACKEND_CHOICES = ("torch", "ctranslate2")
QUANTIZE_CHOICES = ("int8",)


class BackendError(ValueError):
    """A setting this backend cannot honour, or a backend that is not installed."""


class Backend(Protocol):
    name: str

    def generate(self, rows: Sequence[Sequence[int]], generation: "GenerationSettings") -> list[list[int]]:
        """Generated ids for each row (decoder start token dropped; may end in </s> or padding)."""
        ...


def open_backend(loaded: "LoadedModel", settings: "RunSettings") -> Backend:
    """The backend `settings.backend` names, over an already loaded tokenizer and config."""
    if settings.backend == "ctranslate2":
        from .ctranslate2 import CTranslate2Backend

        return CTranslate2Backend.open(loaded, settings)
    from .torch import TorchBackend

    return TorchBackend.open(loaded, settings)
