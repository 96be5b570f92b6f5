"""The torch backend: `model.generate()` on padded batches of token ids."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

if TYPE_CHECKING:
    from ..config import GenerationSettings, RunSettings
    from ..models.loading import LoadedModel


# What a checkpoint's generation_config.json says about its special tokens: these are how the
# model works (BART's forced <s>, Pegasus's pad as the start token), not defaults to override.
SPECIAL_TOKENS = (
    "decoder_start_token_id", "bos_token_id", "eos_token_id", "pad_token_id", "forced_bos_token_id",
    "forced_eos_token_id",
)


@dataclass
class TorchBackend:
    model: Any
    device: Any
    pad_id: int
    global_first_token: bool = False
    token_id: Any = None  # the tokenizer's token -> id, for a target language's forced first token
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
            from . import BackendError

            try:
                set_attention(loaded.model, settings.attention)
            except ValueError as exc:  # a family whose attention the scratch one cannot replace
                raise BackendError(str(exc)) from None
        elif loaded.placement.device == "cpu":
            _eager_decoder(loaded.model)
        _own_special_tokens_only(loaded.model)
        pad = loaded.tokenizer.pad_token_id
        return cls(
            model=loaded.model, device=loaded.placement.torch_device, pad_id=pad if pad is not None else 0,
            global_first_token=loaded.family.global_first_token, token_id=loaded.tokenizer.convert_tokens_to_ids,
        )

    def generate(self, rows: Sequence[Sequence[int]], generation: "GenerationSettings") -> list[list[int]]:
        import torch

        width = max(len(row) for row in rows)
        input_ids = torch.tensor([list(row) + [self.pad_id] * (width - len(row)) for row in rows], device=self.device)
        attention_mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in rows], device=self.device)
        if generation.seed is not None:
            torch.manual_seed(generation.seed)  # per call: a document's sample does not depend on earlier batches
        extra = {_cache_argument(): beam_cache(self.model.config)} if generation.num_beams > 1 else {}
        if self.global_first_token:  # LED's summarization recipe: global attention on the first token
            extra["global_attention_mask"] = torch.zeros_like(attention_mask)
            extra["global_attention_mask"][:, 0] = 1
        with torch.inference_mode():
            output = self.model.generate(
                input_ids=input_ids, attention_mask=attention_mask, generation_config=self._config(generation), **extra
            )
        return [row[1:] for row in output.tolist()]

    def _config(self, generation: "GenerationSettings") -> Any:
        """Our settings (generate() takes the special tokens from the model's own config)."""
        from transformers import GenerationConfig

        kwargs = {key: value for key, value in generation.generate_kwargs().items() if value is not None}
        if generation.target_language:  # mBART-50: the target language code is the forced first token
            kwargs["forced_bos_token_id"] = self.token_id(generation.target_language)
        return GenerationConfig(**kwargs)


def _own_special_tokens_only(model: Any) -> None:
    """Keep only the special tokens of the checkpoint's generation config on the model.

    generate() fills every field the passed config leaves unset from `model.generation_config`:
    a `min_length` 56 or LongT5's `encoder_no_repeat_ngram_size` there would still apply under
    our settings, though `summarize settings` lists the latter as not applied."""
    from transformers import GenerationConfig

    own = model.generation_config
    special = {key: value for key in SPECIAL_TOKENS if (value := getattr(own, key, None)) is not None}
    model.generation_config = GenerationConfig(**special)


def _eager_decoder(model: Any) -> None:
    """Decode with the library's eager attention on a CPU, keeping sdpa for the encoder.

    Each decoder step attends with one query token, and torch's CPU flash kernel (what sdpa
    runs there) is slower at that shape than eager's two matmuls: on t5-small's shape, 32
    documents x 64 tokens, the decoder took 10% less time, with the same token ids
    (benchmarks/bench_speed.py). The encoder's long queries are faster with sdpa.
    """
    decoder = getattr(model, "decoder", None)
    if decoder is not None and getattr(model.config, "_attn_implementation", None) == "sdpa":
        decoder.set_attn_implementation("eager")


def _quantized(loaded: "LoadedModel") -> "LoadedModel":
    """Dynamic int8: Linear weights stored as int8, activations quantized on the fly (CPU only)."""
    import warnings
    from dataclasses import replace

    import torch

    from . import BackendError

    if loaded.placement.device != "cpu":
        raise BackendError("--quantize int8 on the torch backend runs on the CPU only; add --device cpu")
    with warnings.catch_warnings():  # torch marks eager quantization deprecated in favour of torchao
        warnings.simplefilter("ignore")
        model = torch.ao.quantization.quantize_dynamic(loaded.model, {torch.nn.Linear}, dtype=torch.qint8, inplace=False)
    return replace(loaded, model=model)


def beam_cache(config: Any) -> Any:
    """A key/value cache for beam search that does not reorder the cross-attention half.

    After every step beam search gathers the cache along the beam axis so each beam keeps its
    history. The cross-attention keys and values are projections of the encoder output, which
    is the same for every beam of a document, so gathering them copies identical data: at 16
    documents x 4 beams x 512 tokens on t5-small that is about 800 MB moved per generated token,
    which is why larger beam batches got slower. Only the decoder's self-attention is reordered.
    """
    from transformers.cache_utils import DynamicCache, EncoderDecoderCache

    global _BeamCache
    if _BeamCache is None:
        class _BeamCache(EncoderDecoderCache):  # noqa: N801 -- built on first use: transformers loads lazily
            def reorder_cache(self, beam_idx):
                self.self_attention_cache.reorder_cache(beam_idx)

    decoder = config.get_text_config(decoder=True)
    return _BeamCache(DynamicCache(config=decoder), DynamicCache(config=decoder))


_BeamCache = None


def _cache_argument() -> str:
    """What generate() calls its cache: `cache` in newer transformers 5 releases (which warn
    about the old name), `past_key_values` before."""
    from transformers.generation import utils

    return getattr(utils, "ALL_CACHE_NAMES", ["past_key_values"])[0]
