"""Build a tiny BART *trained* to "summarize" a text by copying its first sentence.

The BART counterpart of trained_t5.py, for the tests that need a BART whose greedy output is
peaked and meaningful (CTranslate2 parity, BART's forced <s> and </s>): a greedy summary of
`A B` is exactly `A`. It carries bart-large-cnn's generation defaults (forced <s> after the </s>
start token, 4 beams, no-repeat 3, min length 56) and a byte-level BPE tokenizer, as real BART
checkpoints do.

`cached_trained_bart` keeps one per recipe, data and library versions, like `cached_trained_t5`.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from families import BART_LARGE_CNN, bpe_tokenizer
from tiny_t5 import WINDOW
from trained_t5 import _sample_texts, default_cache_root, is_held_out, training_sentences

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


def _batch(sentences: list[str], recipe: dict, rng: random.Random) -> tuple[list[str], list[str]]:
    """Inputs of 1-3 sentences, targets their first sentence; held-out pairs never lead an input."""
    mix = recipe["sentences_per_input"]
    count = int(rng.choices(list(mix), weights=list(mix.values()))[0])
    inputs, targets = [], []
    while len(inputs) < recipe["batch"]:
        picked = [rng.choice(sentences) for _ in range(count)]
        if count == 1 or not is_held_out(picked[0], picked[1]):
            inputs.append(" ".join(picked))
            targets.append(picked[0])
    return inputs, targets


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


def _train(model, tokenizer, sentences: list[str], recipe: dict) -> None:
    """AdamW, linear warmup then linear decay to zero, as trained_t5 does. The labels are
    <s> A </s>: shifted right behind the </s> start token, they teach the forced <s>."""
    import torch

    rng = random.Random(recipe["seed"])
    steps, warmup = recipe["steps"], recipe["warmup_steps"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], betas=(0.9, 0.98), weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, (steps - step) / (steps - warmup))
    )
    model.train()
    for _ in range(steps):
        inputs, targets = _batch(sentences, recipe, rng)
        batch = tokenizer(inputs, text_target=targets, padding=True, return_tensors="pt")
        batch["labels"][batch["labels"] == tokenizer.pad_token_id] = -100
        model(**batch).loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
    model.eval()


def build_trained_bart(out_dir: Path, *, recipe: dict = RECIPE) -> Path:
    """Train the tokenizer and the model per `recipe`; write both with save_pretrained."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(recipe["threads"])
    try:
        torch.manual_seed(recipe["seed"])
        tokenizer = bpe_tokenizer(recipe["vocab_size"], WINDOW)
        model = _model(len(tokenizer), recipe)
        _train(model, tokenizer, training_sentences(tokenizer, recipe), recipe)
    finally:
        torch.set_num_threads(threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out_dir)
    model.generation_config.update(**GENERATION)
    model.save_pretrained(out_dir)
    return out_dir


def cache_key(recipe: dict = RECIPE) -> str:
    """Changes with anything that changes the built model: recipe, samples, builder code, and
    the versions of the libraries that train it (read from metadata: no heavy import)."""
    digest = hashlib.sha256(json.dumps({"recipe": recipe, "generation": GENERATION}, sort_keys=True).encode())
    for text in _sample_texts():
        digest.update(text.encode())
    for name in ("trained_bart.py", "trained_t5.py", "families.py", "tiny_t5.py"):
        digest.update(Path(__file__).with_name(name).read_bytes())
    for package in ("torch", "transformers", "tokenizers"):
        digest.update(f"{package} {metadata.version(package)}".encode())
    return digest.hexdigest()[:16]


def cached_trained_bart(cache_root: Path | None = None) -> Path:
    """The trained BART's folder under `cache_root` (default: $SUMMARIZER_TEST_CACHE or
    ~/.cache/summarizer-tests), built first when missing, in a temporary folder renamed into
    place so a crashed or concurrent build never leaves a half-written model under the final name."""
    root = Path(cache_root) if cache_root is not None else default_cache_root()
    final = root / f"trained-bart-{cache_key()}"
    if final.is_dir():
        return final
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        build_trained_bart(staging)
        os.rename(staging, final)
    except OSError:
        if not final.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


if __name__ == "__main__":
    print(cached_trained_bart())
