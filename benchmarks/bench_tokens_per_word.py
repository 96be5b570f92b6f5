"""Tokens per word of the model families' real tokenizers, and the margin a word bound needs.

A summary bound in words becomes a token budget, `max_new_tokens = ceil(max_words *
doc_tokens_per_word * MARGIN)`, taken from the document's own tokens per word. This measures
both halves on benchmarks/data/tokens/ (chapter 4 of "A Brief History of Debian" in English,
German and French, 14 documents of 50 to 1,300 words each: see benchmarks/data/README.md):

1. tokens per whitespace-separated word of each whole language sample, per tokenizer;
2. the margin: for every document, stretches of 20, 40, 60, 80, 100 and 120 consecutive words
   (one starting every 5 words), each stretch's tokens per word divided by its document's. A
   summary is about such a stretch's size; the budget assumes its words are as dense in
   tokens as its document's, and the percentiles of the ratio say how far that is off when a
   short text happens to hold the names, numbers and long words.

Tokens are counted without the special tokens a tokenizer adds (T5's `</s>`, BART's `<s>` and
`</s>`): the generated summary's own. The tokenizers are not in this repository (third-party,
megabytes each); pass the folder that holds one subfolder per family, each with the family's
files as its checkpoints ship them:

    t5/spiece.model                    T5, Flan-T5, LongT5 (one SentencePiece model, 32,000 pieces)
    bart/tokenizer.json                BART, DistilBART, LED (GPT-2's byte-level BPE, 50,265 entries)
      or bart/vocab.json + merges.txt
    pegasus/tokenizer.json             Pegasus, Pegasus-X (96,103 entries)
      or pegasus/spiece.model
    mt5/spiece.model                   mT5 (250,100)
    mbart50/sentencepiece.bpe.model    mBART-50 (250,054)

A family whose folder is missing is left out of the tables, not estimated.

The files measured for the README (no model hub is reachable here; each is the file its
checkpoints ship, found in a public repository that vendors it, and checked by size, vocabulary
and hash):
- t5/spiece.model: 791,656 bytes, 32,000 pieces, sha256 d60acb128cf7b7f2536e8f38a5b18a05535c9e14c7a355904270e15b0945ea86
  (T5's SentencePiece model, t5-v1_1-xxl's as Stable Diffusion 3's third tokenizer ships it: the
  same file as t5-small's and Flan-T5's, pieces <pad> </s> <unk> ▁ X . first;
  lllyasviel/stable-diffusion-webui-forge, backend/huggingface/stabilityai/
  stable-diffusion-3-medium-diffusers/tokenizer_3/spiece.model, commit dfdcbab685e5).
- bart/tokenizer.json: 50,265 entries, 50,000 merges, sha256 2f1a555a1ee93656b4e6f67aa75d492a843c225e5ef754bae24c36bd85851cd7
  (distilbart-cnn-6-6's, as transformers.js converted it; intel/web-ai-showcase,
  models/Xenova/distilbart-cnn-6-6/tokenizer.json, commit 4c12722548af). It counts the same
  tokens on every sample text as GPT-2's own encoder.json (sha256 196139668be6...) and vocab.bpe.
- pegasus/tokenizer.json: 96,103 entries (Unigram), sha256 fe13c05c79ef947e2661ea0c678a385e6d3994a3ecbfc3e4851660bb991dffc3
  (a pegasus-large fine-tune's; mmcquade11/autonlp-reuters-summarization, tokenizer.json, commit c2101c944ecc;
  its spiece.model there is a Git LFS pointer).
- mT5's spiece.model (4.3 MB) and mBART-50's sentencepiece.bpe.model (5.1 MB), and their
  tokenizer.json files (16-17 MB), are larger than the 4 MiB the repository snapshots reachable
  here keep: not measured.

    python benchmarks/bench_tokens_per_word.py TOKENIZERS_DIR
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path
from collections.abc import Callable

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data" / "tokens"
LANGUAGES = {"en": "English", "de": "German", "fr": "French"}
FAMILIES = {  # folder -> the families that share the tokenizer
    "t5": "T5, Flan-T5, LongT5", "bart": "BART, DistilBART, LED", "pegasus": "Pegasus, Pegasus-X",
    "mt5": "mT5", "mbart50": "mBART-50",
}
STRETCHES = (20, 40, 60, 80, 100, 120)
STEP = 5
PERCENTILES = (50, 90, 95, 99)


def load(folder: Path) -> Callable[[str], int] | None:
    """A function counting a text's tokens with the tokenizer in `folder`, or None if there is none."""
    if (folder / "tokenizer.json").is_file():
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tokenizer.no_truncation()  # a checkpoint's tokenizer.json may cut at its model's window
        tokenizer.no_padding()
        return lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)
    if (folder / "vocab.json").is_file() and (folder / "merges.txt").is_file():
        from tokenizers import ByteLevelBPETokenizer

        bpe = ByteLevelBPETokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
        return lambda text: len(bpe.encode(text).ids)
    models = sorted(folder.glob("*.model"))
    if models:
        import sentencepiece

        processor = sentencepiece.SentencePieceProcessor(model_file=str(models[0]))
        return lambda text: len(processor.encode(text))
    return None


def documents(language: str) -> list[str]:
    """The language's documents: blocks separated by a blank line, without their `# ` title."""
    blocks = (DATA / f"{language}.txt").read_text(encoding="utf-8").split("\n\n")
    return ["\n".join(line for line in block.splitlines() if not line.startswith("# ")) for block in blocks if block.strip()]


def ratios(count: Callable[[str], int], docs: list[str]) -> dict[int, list[float]]:
    """Per stretch length, every stretch's tokens per word over its document's."""
    out: dict[int, list[float]] = {n: [] for n in STRETCHES}
    for doc in docs:
        words = doc.split()
        per_word = count(doc) / len(words)
        for n in STRETCHES:
            for start in range(0, len(words) - n + 1, STEP):
                out[n].append(count(" ".join(words[start:start + n])) / n / per_word)
    return out


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if p < 100 else max(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("tokenizers", type=Path, help="folder with one subfolder per family (see above)")
    args = parser.parse_args()

    counters = {name: count for name in FAMILIES if (count := load(args.tokenizers / name)) is not None}
    missing = [FAMILIES[name] for name in FAMILIES if name not in counters]
    docs = {language: documents(language) for language in LANGUAGES}
    words = {language: sum(len(d.split()) for d in docs[language]) for language in LANGUAGES}
    print("Sample: " + ", ".join(f"{LANGUAGES[l]} {words[l]:,} words in {len(docs[l])} documents" for l in LANGUAGES))
    if missing:
        print("Not measured (no tokenizer in the folder): " + ", ".join(missing))

    print("\nTokens per word (whitespace-separated words, no special tokens):\n")
    print("| tokenizer | " + " | ".join(LANGUAGES.values()) + " |")
    print("|---|" + "---|" * len(LANGUAGES))
    for name, count in counters.items():
        cells = [f"{sum(count(d) for d in docs[l]) / words[l]:.2f}" for l in LANGUAGES]
        print(f"| {FAMILIES[name]} | " + " | ".join(cells) + " |")

    print(f"\nMargin: a stretch's tokens per word over its document's ({', '.join(map(str, STRETCHES))}-word "
          f"stretches, one every {STEP} words), percentiles:\n")
    print("| tokenizer | language | stretches | " + " | ".join(f"p{p}" for p in PERCENTILES) + " | max |")
    print("|---|---|---|" + "---|" * (len(PERCENTILES) + 1))
    pooled: dict[int, list[float]] = {n: [] for n in STRETCHES}
    for name, count in counters.items():
        for language in LANGUAGES:
            by_length = ratios(count, docs[language])
            values = [r for n in STRETCHES for r in by_length[n]]
            for n in STRETCHES:
                pooled[n].extend(by_length[n])
            print(f"| {FAMILIES[name]} | {LANGUAGES[language]} | {len(values)} | "
                  + " | ".join(f"{percentile(values, p):.3f}" for p in PERCENTILES) + f" | {max(values):.3f} |")

    everything = [r for n in STRETCHES for r in pooled[n]]
    if not everything:
        sys.exit("no tokenizer found: nothing measured")
    print("\nBy stretch length, all tokenizers and languages together:\n")
    print("| words | stretches | " + " | ".join(f"p{p}" for p in PERCENTILES) + " | max |")
    print("|---|---|" + "---|" * (len(PERCENTILES) + 1))
    for n in STRETCHES:
        print(f"| {n} | {len(pooled[n])} | " + " | ".join(f"{percentile(pooled[n], p):.3f}" for p in PERCENTILES)
              + f" | {max(pooled[n]):.3f} |")
    print(f"| all | {len(everything)} | " + " | ".join(f"{percentile(everything, p):.3f}" for p in PERCENTILES)
          + f" | {max(everything):.3f} |")
    worst = max(STRETCHES, key=lambda n: percentile(pooled[n], 99))
    print(f"\nThe 99th percentile is highest for {worst}-word stretches ({percentile(pooled[worst], 99):.3f}); over "
          f"all stretches together it is {percentile(everything, 99):.3f}.")

if __name__ == "__main__":
    main()
