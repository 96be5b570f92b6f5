"""Build a tiny random-weight T5 checkpoint on disk, the way a user's `--model DIR` looks.

A SentencePiece tokenizer is trained on the texts in samples/ and a small T5Config gets the
same `task_specific_params["summarization"]` shape as t5-small's. Both are written with
`save_pretrained`, so tests load them only through the product's real loading path.
"""

from __future__ import annotations

import io
from pathlib import Path

SAMPLES = Path(__file__).resolve().parent.parent / "samples"
WINDOW = 128
TASK_PARAMS = {
    "prefix": "summarize: ",
    "max_length": 16,
    "min_length": 4,
    "num_beams": 1,
    "no_repeat_ngram_size": 2,
}


def _sample_lines() -> list[str]:
    lines: list[str] = []
    for path in sorted(SAMPLES.rglob("*")):
        if path.suffix in (".txt", ".md"):
            lines.extend(line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    lines.append("summarize: ")
    return lines


# A random model with t5-small's exact shape, for speed work (speed depends on shape, not weights).
T5_SMALL_SHAPE = dict(
    vocab_size=32128, d_model=512, d_ff=2048, d_kv=64, num_heads=8, num_layers=6,
    num_decoder_layers=6, relative_attention_num_buckets=32, relative_attention_max_distance=128,
)


def train_tokenizer(vocab_size: int = 400, window: int = WINDOW):
    """A T5Tokenizer (pad 0, eos 1, unk 2) whose SentencePiece model is trained on samples/."""
    import sentencepiece as spm
    from transformers import T5Tokenizer

    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_sample_lines()), model_writer=proto, vocab_size=vocab_size,
        model_type="unigram", pad_id=0, eos_id=1, unk_id=2, bos_id=-1,
        pad_piece="<pad>", eos_piece="</s>", unk_piece="<unk>", character_coverage=1.0,
        minloglevel=2, num_threads=1,
    )
    processor = spm.SentencePieceProcessor(model_proto=proto.getvalue())
    vocab = [(processor.id_to_piece(i), processor.get_score(i)) for i in range(processor.get_piece_size())]
    return T5Tokenizer(vocab=vocab, extra_ids=0, model_max_length=window)


def build_tiny_t5(out_dir: Path, *, vocab_size: int = 400, seed: int = 0, shape: dict | None = None, window: int = WINDOW) -> Path:
    """Write tokenizer + random-weight model to `out_dir`; `shape` overrides the tiny T5Config."""
    import torch
    from transformers import T5Config, T5ForConditionalGeneration

    tokenizer = train_tokenizer(vocab_size, window)
    dims = dict(
        vocab_size=len(tokenizer), d_model=32, d_ff=64, d_kv=8, num_heads=4, num_layers=2,
        num_decoder_layers=2, relative_attention_num_buckets=8, relative_attention_max_distance=32,
    )
    config = T5Config(
        **{**dims, **(shape or {})}, dropout_rate=0.0, decoder_start_token_id=0, pad_token_id=0,
        eos_token_id=1, task_specific_params={"summarization": dict(TASK_PARAMS)},
    )
    torch.manual_seed(seed)
    model = T5ForConditionalGeneration(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer.save_pretrained(out_dir)
    model.save_pretrained(out_dir)
    return out_dir


if __name__ == "__main__":
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python tests/tiny_t5.py OUT_DIR")
    print(build_tiny_t5(Path(sys.argv[1])))
