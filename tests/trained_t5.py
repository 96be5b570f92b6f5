"""Build a tiny T5 *trained* to "summarize" a text by copying its first sentence.

Random-weight T5s give degenerate output (greedy decoding often repeats the pad token and
decodes to ""), so tests that need a meaningful summary (ROUGE, temperature, backend parity,
strategies told apart, sentence trimming) use this model instead: its outputs are peaked, a
greedy summary of `summarize: A B` is exactly `A`, and it stops by itself with </s>.

The build takes about 18 s on 2 idle cores; `cached_trained_t5` keeps one per recipe, data and
library versions, so a developer's machine builds it once and CI (a clean machine each run)
once per test run.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import tempfile
from importlib import metadata
from pathlib import Path

from tiny_t5 import SAMPLES, WINDOW, train_tokenizer

# Every knob of the build; any change gives a new cache key. Bump data_version when the way
# examples are drawn changes.
RECIPE = {
    "data_version": 1,
    "vocab_size": 400,
    "min_sentence_tokens": 6,
    "max_sentence_tokens": 32,
    "sentences_per_input": {"1": 0.2, "2": 0.6, "3": 0.2},
    "d_model": 48,
    "d_ff": 96,
    "num_heads": 4,
    "num_layers": 2,
    "num_decoder_layers": 2,
    "steps": 400,
    "batch": 32,
    "lr": 1e-2,
    "warmup_steps": 50,
    "threads": 2,
    "seed": 0,
}

# t5-small's own summarization defaults, so the product meets real inherited values.
TASK_PARAMS = {
    "early_stopping": True,
    "length_penalty": 2.0,
    "max_length": 200,
    "min_length": 30,
    "no_repeat_ngram_size": 3,
    "num_beams": 4,
    "prefix": "summarize: ",
}
PREFIX = TASK_PARAMS["prefix"]
CACHE_ENV = "SUMMARIZER_TEST_CACHE"
HELD_OUT_EVERY = 10

# A sentence ends at . ! or ? before a capital or digit, except after a title such as "Dr.".
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])(?<!\b[A-Z][a-z]\.)\s+(?=[A-Z0-9\"'])")
_PARAGRAPH_GAP = re.compile(r"\n\s*\n")


def _sample_texts() -> list[str]:
    return [p.read_text(encoding="utf-8") for p in sorted(SAMPLES.rglob("*")) if p.suffix in (".txt", ".md")]


def sample_sentences() -> list[str]:
    """Every sentence of samples/, each paragraph's lines joined; headings are dropped."""
    sentences: list[str] = []
    for text in _sample_texts():
        for paragraph in _PARAGRAPH_GAP.split(text):
            joined = " ".join(paragraph.split())
            sentences.extend(s for s in _SENTENCE_BREAK.split(joined) if s.endswith((".", "!", "?")))
    return sentences


def training_sentences(tokenizer, recipe: dict = RECIPE) -> list[str]:
    """The sample sentences short enough that a copy of one ends well before 64 tokens."""
    low, high = recipe["min_sentence_tokens"], recipe["max_sentence_tokens"]
    return [s for s in sample_sentences() if low <= len(tokenizer(s, add_special_tokens=False).input_ids) <= high]


def is_held_out(first: str, second: str) -> bool:
    """One pair in ten is never shown in training, so tests can score the model on new pairs.

    A content hash, not an index, so the split survives reordering of the sample files.
    """
    digest = hashlib.sha256(f"{first}\n{second}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % HELD_OUT_EVERY == 0


def held_out_pairs(sentences: list[str], count: int, seed: int = 0) -> list[tuple[str, str]]:
    """`count` distinct held-out (A, B) pairs of different sentences, drawn reproducibly."""
    pairs = [(a, b) for a in sentences for b in sentences if a != b and is_held_out(a, b)]
    return random.Random(seed).sample(pairs, count)


def _batch(sentences: list[str], recipe: dict, rng: random.Random, prefix: str = PREFIX) -> tuple[list[str], list[str]]:
    """Inputs `prefix` + 1-3 sentences, targets their first sentence; held-out pairs never
    lead an input. One sentence count per batch keeps padding (and so time per step) low."""
    mix = recipe["sentences_per_input"]
    count = int(rng.choices(list(mix), weights=list(mix.values()))[0])
    inputs, targets = [], []
    while len(inputs) < recipe["batch"]:
        picked = [rng.choice(sentences) for _ in range(count)]
        if count == 1 or not is_held_out(picked[0], picked[1]):
            inputs.append(prefix + " ".join(picked))
            targets.append(picked[0])
    return inputs, targets


def _model(vocab_size: int, recipe: dict):
    from transformers import T5Config, T5ForConditionalGeneration

    config = T5Config(
        vocab_size=vocab_size, d_model=recipe["d_model"], d_ff=recipe["d_ff"],
        d_kv=recipe["d_model"] // recipe["num_heads"], num_heads=recipe["num_heads"],
        num_layers=recipe["num_layers"], num_decoder_layers=recipe["num_decoder_layers"],
        dropout_rate=0.0, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
        task_specific_params={"summarization": dict(TASK_PARAMS)},
    )
    return T5ForConditionalGeneration(config)


def train_copying(model, tokenizer, sentences: list[str], recipe: dict, prefix: str = PREFIX) -> None:
    """AdamW with linear warmup then linear decay to zero: a high peak rate learns the copy
    fast, the decay makes the outputs peaked. Shared with trained_bart.py."""
    import torch

    rng = random.Random(recipe["seed"])
    steps, warmup = recipe["steps"], recipe["warmup_steps"]
    optimizer = torch.optim.AdamW(model.parameters(), lr=recipe["lr"], betas=(0.9, 0.98), weight_decay=0.0)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min((step + 1) / warmup, (steps - step) / (steps - warmup))
    )
    model.train()
    for _ in range(steps):
        inputs, targets = _batch(sentences, recipe, rng, prefix)
        batch = tokenizer(inputs, text_target=targets, padding=True, return_tensors="pt")
        batch["labels"][batch["labels"] == tokenizer.pad_token_id] = -100
        model(**batch).loss.backward()
        optimizer.step()
        schedule.step()
        optimizer.zero_grad(set_to_none=True)
    model.eval()


def build_trained(out_dir: Path, recipe: dict, make_tokenizer, make_model, prefix: str = PREFIX,
                  generation: dict | None = None) -> Path:
    """Train `make_model(vocab, recipe)` to copy first sentences with `make_tokenizer()`'s
    tokenizer; write both with save_pretrained (and `generation` into generation_config.json)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(recipe["threads"])
    try:
        torch.manual_seed(recipe["seed"])
        tokenizer = make_tokenizer()
        model = make_model(len(tokenizer), recipe)
        train_copying(model, tokenizer, training_sentences(tokenizer, recipe), recipe, prefix)
    finally:
        torch.set_num_threads(threads)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out_dir)
    if generation:
        model.generation_config.update(**generation)
    model.save_pretrained(out_dir)
    return out_dir


def build_trained_t5(out_dir: Path, *, recipe: dict = RECIPE) -> Path:
    return build_trained(out_dir, recipe, lambda: train_tokenizer(recipe["vocab_size"], WINDOW), _model)


def cache_key(recipe: dict = RECIPE, sources: tuple[str, ...] = ("trained_t5.py", "tiny_t5.py")) -> str:
    """Changes with anything that changes the built model: recipe, samples, builder code, and
    the versions of the libraries that train it (read from metadata: no heavy import)."""
    digest = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode())
    for text in _sample_texts():
        digest.update(text.encode())
    for name in sources:
        digest.update(Path(__file__).with_name(name).read_bytes())
    for package in ("torch", "transformers", "sentencepiece", "tokenizers"):
        digest.update(f"{package} {metadata.version(package)}".encode())
    return digest.hexdigest()[:16]


def default_cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "summarizer-tests")


def cached_build(name: str, build, cache_root: Path | None = None) -> Path:
    """`cache_root/name` (default root: $SUMMARIZER_TEST_CACHE or ~/.cache/summarizer-tests),
    made by `build(folder)` first when missing.

    The build goes to a temporary folder renamed into place, so a crashed or concurrent build
    never leaves a half-written model under the final name.
    """
    root = Path(cache_root) if cache_root is not None else default_cache_root()
    final = root / name
    if final.is_dir():
        return final
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        build(staging)
        os.rename(staging, final)
    except OSError:
        if not final.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return final


def cached_trained_t5(cache_root: Path | None = None) -> Path:
    """The trained T5's folder, built once per recipe (see `cached_build`)."""
    return cached_build(f"trained-t5-{cache_key()}", build_trained_t5, cache_root)


if __name__ == "__main__":
    print(cached_trained_t5())
