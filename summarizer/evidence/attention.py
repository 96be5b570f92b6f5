"""The model's own view of where each summary sentence came from: its cross-attention, summed
per sentence.

The decoder is teacher-forced through the summary over what the model reads of the source (its
first window, prefix and special tokens as it summarizes), and each summary sentence's tokens'
attention (the mean over layers and heads) is summed over the source sentences. The sentence
that receives the largest share is the model's attention pick. It is reported beside the text
alignment's evidence and never decides `supported`: attention always falls somewhere, on an
invented sentence as on a copied one, so it cannot say that a source is missing
(benchmarks/bench_evidence.py measures how often the two agree).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..sentences import sentence_spans
from . import Cited, Evidence

if TYPE_CHECKING:
    from ..api import Summarizer


def with_attention(evidence: Evidence, summarizer: "Summarizer", summary: str, source: str) -> Evidence:
    """`evidence` with each sentence's `attention`: the source sentence (in the window the model
    reads) that the sentence's tokens attend to most, its `score` the share of their attention."""
    picks = attention_picks(summarizer, summary, source, [(s.start, s.end) for s in evidence.sentences])
    return replace(evidence, sentences=tuple(replace(s, attention=pick) for s, pick in zip(evidence.sentences, picks)))


def attention_picks(summarizer: "Summarizer", summary: str, source: str,
                    spans: list[tuple[int, int]]) -> list[Cited | None]:
    """For each [start, end) of `summary`, the source sentence its tokens attend to most."""
    from ..attention_map import cross_attention_weights

    model, tokenizer = summarizer._torch_model(), summarizer.model.tokenizer
    plan = summarizer.pipeline.plan(summarizer.settings)
    read = tokenizer(source, add_special_tokens=False, return_offsets_mapping=True)
    ids, places = read.input_ids[: plan.chunker.content_size], read.offset_mapping[: plan.chunker.content_size]
    head, tail = summarizer.model.input_ends
    lead = len(head) + len(plan.prefix_ids)
    written = tokenizer(summary, add_special_tokens=False, return_offsets_mapping=True)
    summary_ids = [*written.input_ids, tokenizer.eos_token_id]
    weights = cross_attention_weights(model, [*head, *plan.prefix_ids, *ids, *tail], summary_ids).mean(dim=(0, 1))
    window_end = places[-1][1] if places else 0
    sentences = [span for span in sentence_spans(source[:window_end]) if span[1] <= window_end]
    owner = [_owner(sentences, start) for start, _ in places]  # source token -> its sentence
    picks: list[Cited | None] = []
    for start, end in spans:
        rows = [i for i, (a, b) in enumerate(written.offset_mapping) if start <= a < end and b > a]
        if not rows or not sentences:
            picks.append(None)
            continue
        mass = weights[rows][:, lead:lead + len(ids)].sum(dim=0)  # attention on the text's own tokens
        shares = [0.0] * len(sentences)
        for token, sentence in enumerate(owner):
            if sentence is not None:
                shares[sentence] += float(mass[token])
        total = float(weights[rows].sum())
        best = max(range(len(sentences)), key=lambda n: shares[n])
        a, b = sentences[best]
        picks.append(Cited(a, b, source[a:b], shares[best] / total if total else 0.0, line=source.count("\n", 0, a) + 1))
    return picks


def _owner(sentences: list[tuple[int, int]], offset: int) -> int | None:
    for n, (start, end) in enumerate(sentences):
        if start <= offset < end:
            return n
    return None
