"""Build a tiny BART *trained* to "summarize" a text by copying its first sentence.

The BART counterpart of trained_t5.py, for the tests that need a BART whose greedy output is
peaked and meaningful (CTranslate2 parity, BART's forced <s> and </s>): a greedy summary of
`A B` is exactly `A`. It carries bart-large-cnn's generation defaults (forced <s> after the </s>
start token, 4 beams, no-repeat 3, min length 56) and a byte-level BPE tokenizer, as real BART
checkpoints do.

`cached_trained_bart` keeps one per recipe, data and library versions, like `cached_trained_t5`.
"""

from __future__ import annotations

from pathlib import Path

from families import BART_LARGE_CNN, bpe_tokenizer
from tiny_t5 import WINDOW
from trained_t5 import build_trained, cache_key, cached_build

# Every knob of the build; any change gives a new cache key.
RECIPE = {
    "data_version": 1,
    "vocab_size": 600,
    "min_sentence_tokens": 6,
    "max_sentence_tokens": 32,
    "sentences_per_input": {"1": 0.2, "2": 0.6, "3": 0.2},
    "d_model": 64,
    "ffn_dim": 128,
    "heads": 4,
    "layers": 2,
    "positions": 256,  # room for bart-large-cnn's max_length 142 after a 128-token input window
    "steps": 300,
    "batch": 32,
    "lr": 5e-3,
    "warmup_steps": 30,
    "threads": 1,  # two threads on a busy 2-core machine only spin: 189 s against 35 s
    "seed": 0,
}
GENERATION = {**BART_LARGE_CNN, "forced_bos_token_id": 0}  # bart-large-cnn's generation_config.json


def _model(vocab_size: int, recipe: dict):
    from transformers import BartConfig, BartForConditionalGeneration

    config = BartConfig(
        vocab_size=vocab_size, max_position_embeddings=recipe["positions"], d_model=recipe["d_model"],
        encoder_layers=recipe["layers"], decoder_layers=recipe["layers"],
        encoder_attention_heads=recipe["heads"], decoder_attention_heads=recipe["heads"],
        encoder_ffn_dim=recipe["ffn_dim"], decoder_ffn_dim=recipe["ffn_dim"],
        dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=2,
    )
    return BartForConditionalGeneration(config)


def build_trained_bart(out_dir: Path, *, recipe: dict = RECIPE) -> Path:
    """Trained as trained_t5's model is, without a prefix. The labels are <s> A </s>: shifted
    right behind the </s> start token, they teach the forced <s>."""
    return build_trained(out_dir, recipe, lambda: bpe_tokenizer(recipe["vocab_size"], WINDOW), _model,
                         prefix="", generation=GENERATION)


def cached_trained_bart(cache_root: Path | None = None) -> Path:
    """The trained BART's folder, built once per recipe (see trained_t5.cached_build)."""
    key = cache_key({"recipe": RECIPE, "generation": GENERATION},
                    ("trained_bart.py", "trained_t5.py", "families.py", "tiny_t5.py"))
    return cached_build(f"trained-bart-{key}", build_trained_bart, cache_root)


if __name__ == "__main__":
    print(cached_trained_bart())
