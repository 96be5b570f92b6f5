"""The model families summarize knows, and what differs between them.

A family is read off a checkpoint's `model_type` (config.json). Families differ in what the rest
of the tool must know before it runs one: whether CTranslate2 can convert it, whether the
from-scratch attention can replace its attention, which config key bounds its input window, and
the one family-specific input LED needs (global attention on the first token). Defaults and
special tokens are not listed here: every checkpoint carries its own (see `defaults`).

An encoder-decoder of a type not listed still runs on the torch backend, as "other"; a model
that is not an encoder-decoder (GPT-2, BERT) is refused by `loading`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Family:
    """What the tool must know of one family of encoder-decoder summarizers."""

    name: str  # as people write it: "BART", "Pegasus"
    model_types: tuple[str, ...]  # config.json's model_type values
    ctranslate2: bool = False  # CTranslate2 4.x converts and runs it
    scratch_attention: bool = False  # --attention scratch can replace its attention
    position_keys: tuple[str, ...] = ()  # config keys that bound the encoder's input, in order
    decoder_position_keys: tuple[str, ...] = ()  # config keys that bound a summary's length (learned positions)
    global_first_token: bool = False  # LED: the first token attends to, and is attended by, all
    attention_note: str = ""  # why --attention scratch cannot apply, when it cannot


_T5_POSITIONS = ("n_positions",)
_BART_POSITIONS = ("max_position_embeddings",)
_BART = dict(position_keys=_BART_POSITIONS, decoder_position_keys=_BART_POSITIONS)

FAMILIES: tuple[Family, ...] = (
    Family("T5", ("t5",), ctranslate2=True, scratch_attention=True, position_keys=_T5_POSITIONS),
    Family("mT5", ("mt5",), ctranslate2=True, scratch_attention=True, position_keys=_T5_POSITIONS),
    Family("UMT5", ("umt5",), ctranslate2=True, position_keys=_T5_POSITIONS,
           attention_note="UMT5 learns a position bias in every layer"),
    Family("LongT5", ("longt5",), position_keys=_T5_POSITIONS,
           attention_note="LongT5's encoder attention is local and transient-global, not full attention"),
    Family("BART", ("bart",), ctranslate2=True, scratch_attention=True, **_BART),
    Family("mBART", ("mbart",), ctranslate2=True, scratch_attention=True, **_BART),
    Family("Pegasus", ("pegasus",), ctranslate2=True, scratch_attention=True, **_BART),
    Family("Pegasus-X", ("pegasus_x",), **_BART,
           attention_note="Pegasus-X's encoder attention is block-local with global tokens"),
    Family("LED", ("led",), position_keys=("max_encoder_position_embeddings",),
           decoder_position_keys=("max_decoder_position_embeddings",), global_first_token=True,
           attention_note="LED's encoder attention is windowed (Longformer), not full attention"),
)
OTHER = Family("other encoder-decoder", ())

_BY_TYPE = {model_type: family for family in FAMILIES for model_type in family.model_types}


def family_of(model_type: str | None) -> Family:
    """The family of a config's `model_type`; OTHER for an encoder-decoder we have no entry for."""
    return _BY_TYPE.get(model_type or "", OTHER)


def ctranslate2_types() -> tuple[str, ...]:
    """The model types the CTranslate2 backend converts."""
    return tuple(t for family in FAMILIES if family.ctranslate2 for t in family.model_types)
