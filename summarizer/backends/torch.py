"""The torch backend: `model.generate()` on padded batches of token ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from ..config import GenerationSettings, RunSettings
    from .loading import LoadedModel


@dataclass
class TorchBackend:
    model: Any
    device: Any
    pad_id: int
    name: str = "torch"

    @classmethod
    def open(cls, loaded: "LoadedModel", settings: "RunSettings") -> "TorchBackend":
        import torch

        if settings.threads:
            torch.set_num_threads(settings.threads)
        if settings.quantize == "int8":
            loaded = _quantized(loaded)
        if settings.attention != "hf":
            from ..attention import set_attention

            set_attention(loaded.model, settings.attention)
        pad = loaded.tokenizer.pad_token_id
        return cls(model=loaded.model, device=loaded.placement.torch_device, pad_id=pad if pad is not None else 0)

    def generate(self, rows: Sequence[Sequence[int]], generation: "GenerationSettings") -> list[list[int]]:
        import torch

        width = max(len(row) for row in rows)
        input_ids = torch.tensor([list(row) + [self.pad_id] * (width - len(row)) for row in rows], device=self.device)
        attention_mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows], device=self.device)
        if generation.seed is not None:
            torch.manual_seed(generation.seed)  # per call: a document's sample does not depend on earlier batches
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids, attention_mask=attention_mask, **generation.generate_kwargs()
            )
        return [row[1:] for row in output.tolist()]


def _quantized(loaded: "LoadedModel") -> "LoadedModel":
    """Dynamic int8: Linear weights stored as int8, activations quantized on the fly (CPU only)."""
    from dataclasses import replace

    import torch

    from . import BackendError

    if loaded.placement.device != "cpu":
        raise BackendError("--quantize int8 on the torch backend runs on the CPU only; add --device cpu")
    model = torch.ao.quantization.quantize_dynamic(loaded.model, {torch.nn.Linear}, dtype=torch.qint8)
    return replace(loaded, model=model)
