"""The one place that decides where the model runs and in which precision.

Everything else asks this module; nothing else looks at `torch.cuda` or `torch.backends.mps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
DTYPE_CHOICES = ("auto", "float32", "float16", "bfloat16")


class DeviceError(ValueError):
    """The requested device or dtype cannot be used on this machine."""


@dataclass(frozen=True)
class Placement:
    """Where and how the model runs: resolved once, reported in every result."""

    device: str
    dtype: str

    @property
    def torch_device(self) -> "torch.device":
        import torch

        return torch.device(self.device)

    @property
    def torch_dtype(self) -> "torch.dtype":
        import torch

        return getattr(torch, self.dtype)


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _mps_available() -> bool:
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _cuda_bf16_supported() -> bool:
    import torch

    return torch.cuda.is_bf16_supported()


def resolve_device(requested: str = "auto") -> str:
    """Pick CUDA, then MPS, then CPU for "auto"; refuse an explicit device that is absent."""
    if requested not in DEVICE_CHOICES:
        raise DeviceError(f"unknown device {requested!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    if requested == "auto":
        if _cuda_available():
            return "cuda"
        if _mps_available():
            return "mps"
        return "cpu"
    if requested == "cuda" and not _cuda_available():
        raise DeviceError("--device cuda was asked for, but torch sees no CUDA GPU; use --device auto or cpu")
    if requested == "mps" and not _mps_available():
        raise DeviceError("--device mps was asked for, but MPS is not available; use --device auto or cpu")
    return requested


def resolve_dtype(requested: str, device: str) -> str:
    """float32 on CPU; on a GPU, bfloat16 where supported (T5 overflows less than in float16)."""
    if requested not in DTYPE_CHOICES:
        raise DeviceError(f"unknown dtype {requested!r}; choose one of {', '.join(DTYPE_CHOICES)}")
    if requested != "auto":
        return requested
    if device == "cuda":
        return "bfloat16" if _cuda_bf16_supported() else "float16"
    if device == "mps":
        return "float16"
    return "float32"


def resolve(device: str = "auto", dtype: str = "auto") -> Placement:
    resolved = resolve_device(device)
    return Placement(device=resolved, dtype=resolve_dtype(dtype, resolved))


def default_batch_size(device: str) -> int:
    """Small batches on CPU (cores, not padding, are the limit); larger ones keep a GPU busy."""
    return 16 if device in ("cuda", "mps") else 8
