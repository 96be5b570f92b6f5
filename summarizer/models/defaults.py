"""A checkpoint's own summarization defaults, from wherever it keeps them.

Three places, from the oldest to the one transformers 5 reads:
- keys at the top of config.json (`num_beams`, `max_length`...: checkpoints saved before
  generation_config.json existed, bart-large-cnn among them);
- `task_specific_params["summarization"]` in config.json, what the old transformers
  summarization pipeline applied (t5-small keeps its lengths and its `summarize: ` prefix
  there; Pegasus keys it by dataset, `summarization_xsum`, picked by the checkpoint's name);
- generation_config.json, what `model.generate()` uses by itself in transformers 5.
Later places win where they disagree: generation_config.json is the one a checkpoint's author
wrote last and deliberately (a T5 fine-tuned from t5-small still carries t5-small's
task_specific_params in its copied config.json, but its own lengths in generation_config.json).
The layers go under the user's (TOML, flags) in `config.resolve`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..config import Layer

GENERATION_CONFIG = "model: generation_config.json"
TASK_PARAMS = "model: task_specific_params"
CONFIG = "model: config.json"

# Settings a checkpoint may set, by its key; what it calls max_new_tokens is our max_length.
_APPLIED = {
    "max_length": "max_length", "max_new_tokens": "max_length", "min_length": "min_length",
    "min_new_tokens": "min_length", "num_beams": "num_beams", "length_penalty": "length_penalty",
    "no_repeat_ngram_size": "no_repeat_ngram_size", "repetition_penalty": "repetition_penalty",
    "early_stopping": "early_stopping", "prefix": "prefix",
}
_SAMPLING = {"temperature": "temperature", "top_k": "top_k", "top_p": "top_p"}
# Generation keys that only say how the model works (its special tokens), or bookkeeping.
_NOT_SETTINGS = {
    "decoder_start_token_id", "bos_token_id", "eos_token_id", "pad_token_id", "forced_bos_token_id",
    "forced_eos_token_id", "transformers_version", "_from_model_config", "use_cache", "output_attentions",
    "output_hidden_states", "return_dict_in_generate", "output_scores", "do_sample",
    "max_position_embeddings",  # Pegasus's per-dataset input window: the tokenizer already says it
}
# What transformers' GenerationConfig defaults to: a top-level config.json key at this value says
# nothing about the checkpoint (transformers 4 wrote every default into config.json).
_LIBRARY_DEFAULTS = {
    "max_length": 20, "min_length": 0, "num_beams": 1, "length_penalty": 1.0, "no_repeat_ngram_size": 0,
    "repetition_penalty": 1.0, "early_stopping": False, "temperature": 1.0, "top_k": 50, "top_p": 1.0,
    "do_sample": False,
}


@dataclass(frozen=True)
class ModelDefaults:
    """The checkpoint's layers (lowest first) and what it sets that summarize does not apply."""

    layers: tuple[Layer, ...]
    not_applied: Mapping[str, str]  # key -> where the checkpoint sets it

    @property
    def values(self) -> dict[str, Any]:
        """The merged defaults (later layers win), for callers that need no origins."""
        merged: dict[str, Any] = {}
        for layer in self.layers:
            merged.update(layer.values)
        return merged


def model_defaults(config: Mapping[str, Any], generation: Mapping[str, Any] | None, name: str = "") -> ModelDefaults:
    """The defaults in `config` (config.json) and `generation` (generation_config.json, None
    when the checkpoint has none); `name` picks among Pegasus's dataset-keyed params."""
    not_applied: dict[str, str] = {}
    top_level = {key: value for key, value in config.items() if _LIBRARY_DEFAULTS.get(key, object()) != value}
    layers = [
        Layer(CONFIG, _settings(top_level, CONFIG, not_applied, only_known=True)),
        Layer(TASK_PARAMS, _settings(task_params(config.get("task_specific_params"), name), TASK_PARAMS, not_applied)),
        Layer(GENERATION_CONFIG, _settings(generation or {}, GENERATION_CONFIG, not_applied)),
    ]
    return ModelDefaults(tuple(layer for layer in layers if layer.values), not_applied)


def task_params(params: Any, name: str = "") -> dict[str, Any]:
    """`task_specific_params["summarization"]`, else the one dataset-keyed summarization entry
    (`summarization_xsum`...), else the entry whose dataset the checkpoint's name mentions
    (google/pegasus-xsum -> summarization_xsum); none when that is still ambiguous."""
    if not isinstance(params, Mapping):
        return {}
    if isinstance(params.get("summarization"), Mapping):
        return dict(params["summarization"])
    keyed = {key.removeprefix("summarization_"): value for key, value in params.items()
             if key.startswith("summarization_") and isinstance(value, Mapping)}
    if len(keyed) == 1:
        return dict(next(iter(keyed.values())))
    label = _normalized(name.rsplit("/", 1)[-1])
    named = [value for dataset, value in keyed.items() if _normalized(dataset) in label]
    return dict(named[0]) if len(named) == 1 else {}


def _normalized(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def _settings(source: Mapping[str, Any], origin: str, not_applied: dict[str, str], only_known: bool = False) -> dict[str, Any]:
    """Our setting names and values from one place; generation keys we do not apply are noted.
    Sampling knobs count only where that place turns sampling on (`do_sample`)."""
    values: dict[str, Any] = {}
    for key, value in source.items():
        if key in _APPLIED:
            values[_APPLIED[key]] = value
        elif key in _SAMPLING:
            pass
        elif not only_known and key not in _NOT_SETTINGS and value is not None:
            not_applied[key] = origin
    if source.get("do_sample") is True:  # temperature 0 is greedy here; transformers' default is 1
        values.update({ours: source[key] for key, ours in _SAMPLING.items() if key in source})
        values.setdefault("temperature", 1.0)
    return {key: value for key, value in values.items() if value is not None}
