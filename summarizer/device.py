"""The one place that decides where the model runs and in which precision.

Everything else asks this module; nothing else looks at `torch.cuda` or `torch.backends.mps`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import SettingsError

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
DTYPE_CHOICES = ("auto", "float32", "float16", "bfloat16")


class DeviceError(SettingsError):
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


def _cuda_available(backend: str = "torch") -> bool:
    """Asked of the runtime that will use the GPU, so the ctranslate2 backend never imports
    torch (a second of start-up) and never picks a GPU its own CUDA build cannot use."""
    if backend == "ctranslate2":
        try:
            import ctranslate2
        except ImportError:  # opening the backend says which extra to install
            return False
        return ctranslate2.get_cuda_device_count() > 0
    import torch

    return torch.cuda.is_available()


def torch_gpu_only() -> bool:
    """True where torch sees a CUDA GPU and ctranslate2 does not (its CUDA build does not match
    the machine's): `--backend auto` then takes torch on the GPU over CTranslate2 on the CPU.
    A CPU build of torch says so in torch/version.py, read without importing torch (1.3 s)."""
    import importlib.util
    import re

    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.submodule_search_locations:
        return False
    version = Path(next(iter(spec.submodule_search_locations))) / "version.py"
    try:
        cpu_build = re.search(r"^cuda\b.*=\s*None\s*$", version.read_text(encoding="utf-8"), re.M) is not None
    except OSError:
        cpu_build = False
    if cpu_build or _cuda_available("ctranslate2"):
        return False
    return _cuda_available("torch")


def _mps_available(backend: str = "torch") -> bool:
    if backend == "ctranslate2":
        return False  # CTranslate2 has no MPS support
    import torch

    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _cuda_bf16_supported(backend: str = "torch") -> bool:
    if backend == "ctranslate2":
        import ctranslate2

        return "bfloat16" in ctranslate2.get_supported_compute_types("cuda")
    import torch

    return torch.cuda.is_bf16_supported()


def resolve_device(requested: str = "auto", backend: str = "torch") -> str:
    """Pick CUDA, then MPS, then CPU for "auto"; refuse an explicit device that is absent."""
    if requested not in DEVICE_CHOICES:
        raise DeviceError(f"unknown device {requested!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    if requested == "auto":
        if _cuda_available(backend):
            return "cuda"
        if _mps_available(backend):
            return "mps"
        return "cpu"
    if requested == "cuda" and not _cuda_available(backend):
        raise DeviceError(f"--device cuda was asked for, but {_runtime(backend)} sees no CUDA GPU; use --device auto or cpu")
    if requested == "mps" and not _mps_available(backend):
        raise DeviceError(f"--device mps was asked for, but MPS is not available to {_runtime(backend)}; use --device auto or cpu")
    return requested


def _runtime(backend: str) -> str:
    return "ctranslate2" if backend == "ctranslate2" else "torch"


def resolve_dtype(requested: str, device: str, backend: str = "torch") -> str:
    """float32 on CPU; on a GPU, bfloat16 where supported (T5 overflows less than in float16)."""
    if requested not in DTYPE_CHOICES:
        raise DeviceError(f"unknown dtype {requested!r}; choose one of {', '.join(DTYPE_CHOICES)}")
    if requested != "auto":
        return requested
    if device == "cuda":
        return "bfloat16" if _cuda_bf16_supported(backend) else "float16"
    if device == "mps":
        return "float16"
    return "float32"


def resolve(device: str = "auto", dtype: str = "auto", backend: str = "torch") -> Placement:
    resolved = resolve_device(device, backend)
    return Placement(device=resolved, dtype=resolve_dtype(dtype, resolved, backend))


def default_batch_size(device: str, num_beams: int = 1) -> int:
    """Chunks per generate() call: 32 sequences (rows x beams) on a CPU, 64 on a GPU.

    Decoding one token streams every decoder weight from memory once per step whatever the
    batch, so more rows per call amortize it (bench_speed: greedy batch 32 beats 8 by 15% on
    2 cores); with beams each row is `num_beams` sequences, so fewer rows fill the same budget.
    """
    sequences = 64 if device in ("cuda", "mps") else 32
    return max(1, sequences // max(1, num_beams))
