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
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids, attention_mask=attention_mask, **generation.generate_kwargs()
            )
        return [row[1:] for row in output.tolist()]
