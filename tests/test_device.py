"""Device and dtype choice with CUDA/MPS availability faked: no GPU is needed to test this."""

from __future__ import annotations

import pytest
import torch

from summarizer.device import DeviceError, default_batch_size, resolve


@pytest.fixture()
def fake(monkeypatch):
    def _fake(cuda=False, mps=False, bf16=True):
        monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
        monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: bf16)
        monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    return _fake


def test_auto_prefers_cuda_then_mps_then_cpu(fake):
    fake(cuda=True, mps=True)
    assert resolve().device == "cuda"
    fake(cuda=False, mps=True)
    assert resolve().device == "mps"
    fake()
    assert resolve().device == "cpu"


def test_auto_dtype_is_float32_on_cpu_and_half_on_gpus(fake):
    fake()
    assert resolve().dtype == "float32"
    fake(cuda=True, bf16=True)
    assert resolve().dtype == "bfloat16"
    fake(cuda=True, bf16=False)
    assert resolve().dtype == "float16"
    fake(mps=True)
    assert resolve().dtype == "float16"


def test_explicit_choices_win(fake):
    fake(cuda=True)
    placement = resolve("cpu", "bfloat16")
    assert (placement.device, placement.dtype) == ("cpu", "bfloat16")
    assert placement.torch_dtype is torch.bfloat16 and placement.torch_device == torch.device("cpu")


def test_absent_devices_are_refused(fake):
    fake()
    with pytest.raises(DeviceError, match="CUDA"):
        resolve("cuda")
    with pytest.raises(DeviceError, match="MPS"):
        resolve("mps")


def test_batch_size_default_follows_the_device_and_the_beams():
    assert default_batch_size("cuda") > default_batch_size("cpu")
    assert default_batch_size("cpu", num_beams=4) * 4 == default_batch_size("cpu") == 32
    assert default_batch_size("cpu", num_beams=64) == 1
