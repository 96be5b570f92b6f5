"""Chunker properties on arbitrary input: chunks fit, cover the input in order, overlap as asked."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from summarizer.chunker import pieces
from summarizer.chunking import PARAGRAPH, SENTENCE, WORD, boundary_strengths, plan_chunks
from summarizer.sentences import sentence_spans

FAST = settings(max_examples=200, deadline=None)
_TOKEN = re.compile(r"\w+|[^\w\s]")


def tokenize(text: str) -> list[tuple[int, int]]:
    """Words and single punctuation marks, as character spans: a stand-in for a real tokenizer."""
    return [match.span() for match in _TOKEN.finditer(text)]


_PIECES = list("ab Z9.,!?…\"')\n\n\t\r\u00a0\u3000") + ["Mr.", "U.S.", " . ", "# ", "1. ", "\n- ", "日本語", "é"]
TEXT = st.one_of(st.text(), st.lists(st.sampled_from(_PIECES), max_size=80).map("".join))


@st.composite
def chunk_requests(draw):
    n_tokens = draw(st.integers(0, 3000))
    size = draw(st.integers(2, 600))
    overlap = draw(st.integers(0, max(0, size // 2 - 1)))
    positions = st.integers(1, max(1, n_tokens))
    boundaries = draw(st.dictionaries(positions, st.sampled_from([WORD, SENTENCE, PARAGRAPH]), max_size=200))
    return n_tokens, size, overlap, boundaries


def check_chunks(spans, n_tokens, size, overlap):
    if n_tokens == 0:
        assert spans == []
        return
    assert spans[0][0] == 0 and spans[-1][1] == n_tokens
    for start, end in spans:
        assert 0 < end - start <= size, "no empty chunk, none over the window"
    for (a0, a1), (b0, b1) in zip(spans, spans[1:]):
        assert b0 == a1 - overlap, "consecutive chunks share exactly `overlap` tokens"
        assert a0 < b0 and a1 < b1, "chunks move forward"


@FAST
@given(chunk_requests())
def test_plan_chunks_fits_covers_and_overlaps_exactly(request):
    n_tokens, size, overlap, boundaries = request
    spans = plan_chunks(n_tokens, size, overlap, boundaries)
    check_chunks(spans, n_tokens, size, overlap)
    assert plan_chunks(n_tokens, size, overlap, dict(boundaries)) == spans, "deterministic"


@FAST
@given(chunk_requests())
def test_every_cut_is_the_strongest_boundary_in_reach(request):
    n_tokens, size, overlap, boundaries = request
    spans = plan_chunks(n_tokens, size, overlap, boundaries)
    for start, end in spans[:-1]:
        reach = range(start + size // 2 + 1, start + size + 1)
        strongest = max((boundaries.get(i, 0) for i in reach), default=0)
        assert boundaries.get(end, 0) == strongest
        if strongest == 0:
            assert end == start + size, "without a boundary in reach the cut is hard, at the window's end"


@FAST
@given(TEXT)
def test_boundary_strengths_on_arbitrary_text(text):
    offsets = tokenize(text)
    strengths = boundary_strengths(text, offsets)
    assert strengths == boundary_strengths(text, offsets), "deterministic"
    sentence_ends = {end for _, end in sentence_spans(text)}
    for i in range(1, len(offsets)):
        gap = text[offsets[i - 1][1] : offsets[i][0]]
        if not gap:
            assert i not in strengths, "never a cut inside a word"
        elif re.search(r"\n[ \t\r\f\v]*\n", gap):
            assert strengths[i] == PARAGRAPH
        elif offsets[i - 1][1] in sentence_ends:
            assert strengths[i] == SENTENCE
        else:
            assert strengths[i] == WORD
    assert 0 not in strengths


@FAST
@given(TEXT, st.integers(2, 40), st.data())
def test_chunks_of_arbitrary_text_cover_its_tokens_in_order(text, size, data):
    offsets = tokenize(text)
    overlap = data.draw(st.integers(0, max(0, size // 2 - 1)))
    spans = plan_chunks(len(offsets), size, overlap, boundary_strengths(text, offsets))
    check_chunks(spans, len(offsets), size, overlap)
    pieces = [offsets[start + (overlap if k else 0) : end] for k, (start, end) in enumerate(spans)]
    assert [span for piece in pieces for span in piece] == offsets, "every token once, in order (overlap aside)"


_BLANKS = st.lists(st.sampled_from(["a", "b ", ". ", "\n", "\n\n", " " * 25, "\n" * 30, "\t", "\u3000", "é"]),
                   max_size=100).map("".join)


@FAST
@given(st.one_of(TEXT, _BLANKS), st.integers(2, 40), st.data())
def test_pieces_of_blocks_are_the_pieces_of_the_whole_text(text, size, data):
    """A big input reaches the chunker as blocks cut anywhere: its pieces, and so its chunks,
    are those of the text read whole."""
    blocks, start = [""], 0
    while start < len(text):
        step = data.draw(st.integers(1, 2 * size))
        blocks.append(text[start:start + step])
        start += step
    assert list(pieces(iter(blocks), size)) == list(pieces(text, size))


@FAST
@given(st.one_of(TEXT, _BLANKS), st.integers(2, 40))
def test_each_piece_is_where_it_says_in_the_text(text, size):
    """A piece's start is its place in the text, so what is found in a piece can point back
    into the document as read."""
    for piece, _, at in pieces(text, size):
        assert text[at:at + len(piece)] == piece
