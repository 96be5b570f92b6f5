"""Tiny random-weight checkpoints of every model family summarize supports, as users' folders look.

Each builder trains the family's kind of tokenizer on samples/ (SentencePiece unigram for the
T5s, Pegasus and mBART; byte-level BPE for BART and LED), makes a small config of the family's
own class, and writes both with `save_pretrained`, plus the family's real checkpoint's generation
defaults in `generation_config.json` (and where that checkpoint keeps them, in config.json too),
so a default the product does not honour fails a test. Tests load them only through `--model DIR`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable

from tiny_t5 import WINDOW, _sample_lines, train_tokenizer

# Generation defaults as the real checkpoints ship them (generation_config.json).
BART_LARGE_CNN = {
    "early_stopping": True, "length_penalty": 2.0, "max_length": 142, "min_length": 56,
    "no_repeat_ngram_size": 3, "num_beams": 4,
}
PEGASUS_XSUM = {"length_penalty": 0.6, "max_length": 64, "num_beams": 8}
LED_ARXIV = {
    "early_stopping": True, "length_penalty": 2.0, "max_length": 512, "min_length": 100,
    "no_repeat_ngram_size": 3, "num_beams": 4,
}
LONG_T5_BOOK = {  # pszemraj/long-t5-tglobal-base-16384-book-summary
    "early_stopping": True, "encoder_no_repeat_ngram_size": 4, "length_penalty": 0.8, "max_length": 512,
    "min_length": 8, "no_repeat_ngram_size": 3, "num_beams": 2, "repetition_penalty": 3.5,
}
# Pegasus keys task_specific_params by dataset (google/pegasus-large's config.json, abridged).
PEGASUS_TASKS = {
    "summarization_xsum": {"length_penalty": 0.6, "max_length": 64, "max_position_embeddings": 512},
    "summarization_cnn_dailymail": {"length_penalty": 0.8, "max_length": 128, "max_position_embeddings": 1024},
    "summarization_arxiv": {"length_penalty": 0.8, "max_length": 256, "max_position_embeddings": 1024},
}

POSITIONS = 1024  # as bart-large-cnn's: summaries may be longer than the tiny window, as real ones are
_SMALL_BART = dict(
    d_model=32, encoder_layers=2, decoder_layers=2, encoder_attention_heads=4, decoder_attention_heads=4,
    encoder_ffn_dim=64, decoder_ffn_dim=64, dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
)
_SMALL_T5 = dict(
    d_model=32, d_ff=64, d_kv=8, num_heads=4, num_layers=2, num_decoder_layers=2,
    relative_attention_num_buckets=8, relative_attention_max_distance=32, dropout_rate=0.0,
)


def bpe_tokenizer(vocab_size: int = 600, window: int = WINDOW):
    """A byte-level BPE tokenizer trained on samples/, as BART's and LED's (RobertaTokenizer)."""
    from tokenizers import ByteLevelBPETokenizer
    from transformers import RobertaTokenizer

    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # BART's ids: <s> 0, <pad> 1, </s> 2, <unk> 3
    trainer = ByteLevelBPETokenizer()
    trainer.train_from_iterator(_sample_lines(), vocab_size=vocab_size, special_tokens=specials, show_progress=False)
    model = json.loads(trainer.to_str())["model"]
    merges = [tuple(m) if isinstance(m, list) else tuple(m.split(" ")) for m in model["merges"]]
    return RobertaTokenizer(vocab=model["vocab"], merges=merges, model_max_length=window)


def unigram_vocab(vocab_size: int = 400) -> list[tuple[str, float]]:
    """SentencePiece unigram pieces trained on samples/ (the T5 tokenizer's, minus its specials)."""
    t5 = train_tokenizer(vocab_size)
    pieces = t5.convert_ids_to_tokens(list(range(len(t5))))
    scores = dict(json.loads(t5.backend_tokenizer.to_str())["model"]["vocab"])
    return [(piece, float(scores.get(piece, -10.0))) for piece in pieces if piece not in ("<pad>", "</s>", "<unk>")]


def _write(out_dir: Path, tokenizer, model, generation: dict[str, Any] | None) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out_dir)
    if generation is not None:
        model.generation_config.update(**generation)
    model.save_pretrained(out_dir)
    return out_dir


def _seeded(seed: int) -> None:
    import torch

    torch.manual_seed(seed)


def build_bart(out_dir: Path, *, seed: int = 0, window: int = WINDOW, generation: dict | None = BART_LARGE_CNN,
               shape: dict | None = None, top_level: bool = False) -> Path:
    """A tiny BART (the bart-large-cnn / distilbart kind): forced <s> after the </s> start token.
    `top_level` also writes the defaults at the top of config.json, as old checkpoints have them."""
    from transformers import BartConfig, BartForConditionalGeneration

    tokenizer = bpe_tokenizer(window=window)
    config = BartConfig(
        max_position_embeddings=POSITIONS, **{"vocab_size": len(tokenizer), **_SMALL_BART, **(shape or {})},
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2, forced_eos_token_id=2,
    )
    _seeded(seed)
    generation = {"forced_bos_token_id": 0, **generation} if generation is not None else None  # as bart-large-cnn's
    folder = _write(out_dir, tokenizer, BartForConditionalGeneration(config), generation)
    if top_level and generation:
        edit_config(folder, lambda data: data.update(generation))
    return folder


def build_pegasus(out_dir: Path, *, seed: int = 0, window: int = WINDOW, generation: dict | None = PEGASUS_XSUM,
                  tasks: dict | None = PEGASUS_TASKS, shape: dict | None = None) -> Path:
    """A tiny Pegasus (pegasus-xsum's defaults): pad is the decoder start token."""
    from transformers import PegasusConfig, PegasusForConditionalGeneration, PegasusTokenizer

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<mask_1>", 0.0), ("<mask_2>", 0.0), ("<unk>", 0.0)] + unigram_vocab()
    tokenizer = PegasusTokenizer(vocab=vocab, offset=0, model_max_length=window)
    config = PegasusConfig(
        max_position_embeddings=POSITIONS, **{"vocab_size": len(tokenizer), **_SMALL_BART, **(shape or {})},
        pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, forced_eos_token_id=1,
        task_specific_params=tasks,
    )
    _seeded(seed)
    return _write(out_dir, tokenizer, PegasusForConditionalGeneration(config), generation)


def build_led(out_dir: Path, *, seed: int = 0, window: int = 1024, generation: dict | None = LED_ARXIV) -> Path:
    """A tiny LED (led-large-16384-arxiv's defaults), windowed attention of 16 tokens."""
    from transformers import LEDConfig, LEDForConditionalGeneration

    tokenizer = bpe_tokenizer(window=window)
    config = LEDConfig(
        vocab_size=len(tokenizer), max_encoder_position_embeddings=window, max_decoder_position_embeddings=POSITIONS,
        attention_window=16, **_SMALL_BART, pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
    )
    _seeded(seed)
    return _write(out_dir, tokenizer, LEDForConditionalGeneration(config), generation)


def build_long_t5(out_dir: Path, *, seed: int = 0, window: int = 1024, generation: dict | None = LONG_T5_BOOK) -> Path:
    """A tiny LongT5 with transient-global attention (the book-summary checkpoint's defaults)."""
    from transformers import LongT5Config, LongT5ForConditionalGeneration

    tokenizer = train_tokenizer(window=window)
    config = LongT5Config(
        vocab_size=len(tokenizer), **_SMALL_T5, encoder_attention_type="transient-global", local_radius=8,
        global_block_size=4, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
    )
    _seeded(seed)
    return _write(out_dir, tokenizer, LongT5ForConditionalGeneration(config), generation)


def build_pegasus_x(out_dir: Path, *, seed: int = 0, window: int = 1024, generation: dict | None = PEGASUS_XSUM) -> Path:
    """A tiny Pegasus-X (block-local attention with global tokens, for long inputs)."""
    from transformers import PegasusTokenizer, PegasusXConfig, PegasusXForConditionalGeneration

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<mask_1>", 0.0), ("<mask_2>", 0.0), ("<unk>", 0.0)] + unigram_vocab()
    tokenizer = PegasusTokenizer(vocab=vocab, offset=0, model_max_length=window)
    config = PegasusXConfig(
        vocab_size=len(tokenizer), max_position_embeddings=POSITIONS, **_SMALL_BART, block_size=16, num_global_tokens=4,
        stagger_local_blocks=True, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, forced_eos_token_id=1,
    )
    _seeded(seed)
    return _write(out_dir, tokenizer, PegasusXForConditionalGeneration(config), generation)


def build_t5_variant(out_dir: Path, model_type: str = "flan-t5", *, seed: int = 0, window: int = WINDOW) -> Path:
    """Flan-T5 / T5 v1.1 (gated-GELU T5Config), mT5 or UMT5: no task prefix of their own."""
    from transformers import (MT5Config, MT5ForConditionalGeneration, T5Config, T5ForConditionalGeneration,
                              UMT5Config, UMT5ForConditionalGeneration)

    classes = {
        "flan-t5": (T5Config, T5ForConditionalGeneration), "mt5": (MT5Config, MT5ForConditionalGeneration),
        "umt5": (UMT5Config, UMT5ForConditionalGeneration),
    }
    config_class, model_class = classes[model_type]
    tokenizer = train_tokenizer(window=window)
    config = config_class(
        vocab_size=len(tokenizer), **_SMALL_T5, feed_forward_proj="gated-gelu", tie_word_embeddings=False,
        decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
    )
    _seeded(seed)
    return _write(out_dir, tokenizer, model_class(config), None)


def build_mbart(out_dir: Path, *, seed: int = 0, window: int = WINDOW, generation: dict | None = BART_LARGE_CNN) -> Path:
    """A tiny mBART with English as source and target (en_XX forced at the start)."""
    from transformers import MBartConfig, MBartForConditionalGeneration, MBartTokenizer
    from transformers.models.mbart.tokenization_mbart import FAIRSEQ_LANGUAGE_CODES

    vocab = [("<s>", 0.0), ("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)] + unigram_vocab()
    vocab += [(code, 0.0) for code in FAIRSEQ_LANGUAGE_CODES] + [("<mask>", 0.0)]
    tokenizer = MBartTokenizer(vocab=vocab, src_lang="en_XX", tgt_lang="en_XX", model_max_length=window)
    english = tokenizer.convert_tokens_to_ids("en_XX")
    config = MBartConfig(
        vocab_size=len(tokenizer), max_position_embeddings=POSITIONS, **_SMALL_BART,
        pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
    )
    _seeded(seed)
    generation = {"forced_bos_token_id": english, **(generation or {})}  # transformers 5 keeps it here only
    return _write(out_dir, tokenizer, MBartForConditionalGeneration(config), generation)


def build_gpt2(out_dir: Path) -> Path:
    """Not a summarizer: a decoder-only model, which summarize must refuse by name."""
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = bpe_tokenizer()
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=64, n_embd=32, n_layer=1, n_head=2)
    return _write(out_dir, tokenizer, GPT2LMHeadModel(config), None)


def build_bert(out_dir: Path) -> Path:
    """Not a summarizer: an encoder-only model."""
    from transformers import BertConfig, BertModel

    tokenizer = bpe_tokenizer()
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                        intermediate_size=64, max_position_embeddings=64)
    return _write(out_dir, tokenizer, BertModel(config), None)


def edit_config(folder: Path, change: Callable[[dict], Any], name: str = "config.json") -> Path:
    """Rewrite one of the folder's JSON files in place (a checkpoint as some hub repo has it)."""
    path = folder / name
    data = json.loads(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return folder


BUILDERS: dict[str, Callable[..., Path]] = {
    "bart": build_bart, "pegasus": build_pegasus, "led": build_led, "longt5": build_long_t5,
    "flan-t5": lambda out, **kw: build_t5_variant(out, "flan-t5", **kw),
    "mt5": lambda out, **kw: build_t5_variant(out, "mt5", **kw),
    "umt5": lambda out, **kw: build_t5_variant(out, "umt5", **kw),
    "mbart": build_mbart, "pegasus_x": build_pegasus_x,
}


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 3 or sys.argv[1] not in BUILDERS:
        sys.exit(f"usage: python tests/families.py {{{','.join(BUILDERS)}}} OUT_DIR")
    print(BUILDERS[sys.argv[1]](Path(sys.argv[2])))
