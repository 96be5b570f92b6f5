"""Chunking invariants: every chunk fits, all tokens are covered in order, overlap as asked."""

from __future__ import annotations

import random

import pytest

from summarizer.chunking import PARAGRAPH, SENTENCE, WORD, boundary_strengths, plan_chunks


def _check_invariants(spans, n_tokens, size, overlap):
    assert spans[0][0] == 0 and spans[-1][1] == n_tokens
    for start, end in spans:
        assert 0 < end - start <= size
    for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
        assert b0 == a1 - overlap, "consecutive chunks share exactly `overlap` tokens"
        assert b0 > a0 and b1 > a1, "chunks move forward"
    covered = []
    for i, (start, end) in enumerate(spans):
        covered.extend(range(start + (overlap if i else 0), end))
    assert covered == list(range(n_tokens)), "every token once, in order (overlap aside)"


@pytest.mark.parametrize("seed", range(30))
def test_random_documents_keep_the_invariants(seed):
    rng = random.Random(seed)
    n_tokens = rng.randint(1, 3000)
    size = rng.randint(8, 600)
    overlap = rng.randint(0, size // 2 - 1)
    boundaries = {rng.randint(1, n_tokens): rng.choice([WORD, SENTENCE, PARAGRAPH]) for _ in range(n_tokens // 5)}
    spans = plan_chunks(n_tokens, size, overlap, boundaries)
    _check_invariants(spans, n_tokens, size, overlap)


def test_short_document_is_one_chunk():
    assert plan_chunks(10, 512) == [(0, 10)]
    assert plan_chunks(512, 512) == [(0, 512)]
    assert plan_chunks(0, 512) == []


def test_cuts_prefer_paragraph_over_sentence_over_word():
    boundaries = {60: WORD, 70: SENTENCE, 80: PARAGRAPH, 95: WORD, 98: SENTENCE}
    assert plan_chunks(300, 100, 0, boundaries)[0] == (0, 80)
    del boundaries[80]
    assert plan_chunks(300, 100, 0, boundaries)[0] == (0, 98)


def test_cut_is_hard_without_boundaries_and_ignores_early_ones():
    assert plan_chunks(250, 100)[0] == (0, 100)
    # A paragraph in the front half would make a tiny chunk: not taken.
    assert plan_chunks(250, 100, 0, {10: PARAGRAPH})[0] == (0, 100)


def test_overlap_is_exact():
    spans = plan_chunks(1000, 100, 20)
    assert all(b0 == a1 - 20 for (_, a1), (b0, _) in zip(spans, spans[1:]))


def test_bad_overlap_is_refused():
    with pytest.raises(ValueError, match="overlap"):
        plan_chunks(1000, 100, 50)


def test_boundary_strengths_from_offsets():
    text = "One two. Three!\n\nFour five"
    # token spans: One, two, ., Three, !, Four, five
    offsets = [(0, 3), (4, 7), (7, 8), (9, 14), (14, 15), (17, 21), (22, 26)]
    assert boundary_strengths(text, offsets) == {1: WORD, 3: SENTENCE, 5: PARAGRAPH, 6: WORD}


def test_chunks_of_a_real_tokenization_start_at_sentences(tiny_model_dir, samples_dir):
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = (samples_dir / "long_report.txt").read_text(encoding="utf-8")
    encoded = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    boundaries = boundary_strengths(text, encoded["offset_mapping"])
    spans = plan_chunks(len(encoded.input_ids), 120, 0, boundaries)
    _check_invariants(spans, len(encoded.input_ids), 120, 0)
    starts = [boundaries.get(start, 0) for start, _ in spans[1:]]
    assert sum(s >= SENTENCE for s in starts) >= 0.9 * len(starts), "nearly every chunk starts a sentence"


def test_each_chunk_knows_the_characters_it_came_from(tiny_model_dir, samples_dir):
    """Whole or in blocks, small pieces or large: a chunk's span is the stretch of the text its
    tokens were cut from, so its ids are that stretch's tokens."""
    from transformers import AutoTokenizer

    from summarizer.chunker import Chunker

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    text = "\n\n".join((samples_dir / name).read_text(encoding="utf-8") for name in ("short.txt", "article.md", "long_report.txt"))
    blocks = [text[i:i + 997] for i in range(0, len(text), 997)]
    expected = None
    for source, piece_chars in ((text, 10**9), (text, 2000), (iter(blocks), 3000)):
        chunks = list(Chunker(tokenizer, 100, 10, piece_chars=piece_chars).chunks(source))
        spans = [chunk.span for chunk in chunks]
        assert all(start < end for start, end in spans) and spans == sorted(spans)
        for chunk in chunks:
            start, end = chunk.span
            assert tokenizer.decode(chunk).split() == tokenizer.decode(
                tokenizer(text[start:end], add_special_tokens=False).input_ids).split()
        expected = expected or spans
        assert spans == expected, "the same spans however the text arrives"
