"""Text to window-sized chunks of token ids, lazily: a 1-million-token file never sits in memory
as one tokenization, nor as one str.

A text is a str or an iterable of str blocks (a big input decoded as it is read). It is
tokenized in pieces of about `piece_chars` characters, cut at a paragraph break (else a
sentence end, else a space) so the pieces tokenize as the whole text would; chunks are planned
over the pieces as they come, carrying the unfinished tail into the next piece, which gives the
same cuts as planning over the whole text at once. The pieces, and so the cuts, are the same
whether the text comes whole or in blocks of any size.
"""

from __future__ import annotations

import re
from typing import Any, Callable, Iterable, Iterator, Union

from .chunking import PARAGRAPH, SENTENCE, WORD, boundary_strengths, plan_chunks

PIECE_CHARS = 50_000
_SPACE = re.compile(r"\s+")

Text = Union[str, Iterable[str]]  # the whole text, or its blocks in order


class Chunk(tuple):
    """A chunk's token ids (it is the tuple), and `span`: the [start, end) characters of the
    text they were cut from, so whatever is said of the chunk can point back into the text
    (None where the tokenizer gives no offsets)."""

    span: tuple[int, int] | None

    def __new__(cls, ids: Iterable[int], span: tuple[int, int] | None = None) -> "Chunk":
        chunk = super().__new__(cls, ids)
        chunk.span = span
        return chunk


def whole(text: Text) -> str:
    """The text as one str, for what ranks or parses all of it at once (TextRank, the
    extractive methods); bounded by --max-input-size."""
    return text if isinstance(text, str) else "".join(text)


class Chunker:
    """Tokenizes with the model's tokenizer and cuts into chunks of `content_size` ids."""

    def __init__(self, tokenizer: Any, content_size: int, overlap: int = 0, piece_chars: int = PIECE_CHARS):
        self.tokenizer = tokenizer
        self.content_size = content_size
        self.overlap = overlap
        self.piece_chars = piece_chars

    def encode(self, text: str) -> tuple[list[int], dict[int, int], list[tuple[int, int]] | None]:
        """Token ids (no special tokens), the cut strength before each token, and each token's
        characters in `text` (None where the tokenizer gives no offsets)."""
        encoded = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = encoded.get("offset_mapping")
        return list(encoded.input_ids), boundary_strengths(text, offsets) if offsets else {}, offsets

    def count(self, text: Text) -> int:
        """Tokens in `text`, counted piece by piece."""
        return sum(len(self.tokenizer(piece, add_special_tokens=False).input_ids) for piece, _, _ in pieces(text, self.piece_chars))

    def split(self, ids: list[int], boundaries: dict[int, int]) -> Iterator[tuple[int, ...]]:
        for start, end in plan_chunks(len(ids), self.content_size, self.overlap, boundaries):
            yield tuple(ids[start:end])

    def chunks(self, text: Text, on_piece: "Callable[[str, int, int], None] | None" = None) -> Iterator[Chunk]:
        """Chunks of `text` in order, each with its span of characters in `text`, produced as
        the text is tokenized (`on_piece` hears of each piece as it is tokenized: its text, its
        tokens, and its sentence ends)."""
        carry: list[int] = []
        carry_bounds: dict[int, int] = {}
        carry_places: list[tuple[int, int]] | None = []
        for piece, seam, at in pieces(text, self.piece_chars):
            ids, bounds, offsets = self.encode(piece)
            if on_piece is not None:
                on_piece(piece, len(ids), sum(1 for strength in bounds.values() if strength >= SENTENCE))
            if carry and ids and seam:
                bounds[0] = seam
            ids = carry + ids
            bounds = {**carry_bounds, **{i + len(carry): s for i, s in bounds.items()}}
            places = None if offsets is None or carry_places is None else carry_places + [(at + a, at + b) for a, b in offsets]
            spans = plan_chunks(len(ids), self.content_size, self.overlap, bounds)
            for start, end in spans[:-1]:
                yield Chunk(ids[start:end], _span(places, start, end))
            if not spans:
                carry, carry_bounds, carry_places = [], {}, [] if places is not None else None
                continue
            tail = spans[-1][0]
            carry = ids[tail:]
            carry_bounds = {i - tail: s for i, s in bounds.items() if i > tail}
            carry_places = places[tail:] if places is not None else None
        if carry:
            yield Chunk(carry, _span(carry_places, 0, len(carry)))


def _span(places: list[tuple[int, int]] | None, start: int, end: int) -> tuple[int, int] | None:
    """The characters of tokens [start, end), from their places in the text."""
    if not places or end <= start:
        return None
    return places[start][0], max(b for _, b in places[start:end])


def pieces(text: Text, size: int) -> Iterator[tuple[str, int, int]]:
    """(piece, strength of the cut before it, where it starts in the text) covering `text`;
    whitespace at the cuts dropped.

    A piece is cut only once `size` characters past its start are in hand (or the text ended),
    and the cut looks no further (but for the whitespace after a paragraph break), so blocks
    give the pieces the whole text would, while at most a piece and a block are held.
    """
    blocks = iter((text,) if isinstance(text, str) else text)
    held, seam, at = "", 0, 0  # `at`: where held[0] is in the text
    while True:
        held = _fill(held, blocks, size + 1)
        if len(held) <= size:
            yield held, seam, at
            return
        cut, gap_end, strength = _cut(held, size // 2, size)
        yield held[:cut], seam, at
        held, seam, at = held[gap_end:], strength, at + gap_end
        while strength == PARAGRAPH and not held:  # the blank run goes on into the next blocks
            block = next(blocks, None)
            if block is None:
                break
            skipped = _skip_space(block, 0)
            held, at = block[skipped:], at + skipped


def _fill(held: str, blocks: Iterator[str], size: int) -> str:
    """`held` with blocks appended until it is `size` characters long or the text ends."""
    parts, length = [held], len(held)
    while length < size and (block := next(blocks, None)) is not None:
        parts.append(block)
        length += len(block)
    return "".join(parts)


def _cut(text: str, lo: int, hi: int) -> tuple[int, int, int]:
    """Where to end a piece in text[lo:hi]: (piece end, next piece start, cut strength)."""
    window = text[lo:hi]
    paragraph = window.rfind("\n\n")
    if paragraph >= 0:
        return lo + paragraph, _skip_space(text, lo + paragraph), PARAGRAPH
    spaces = list(_SPACE.finditer(window))
    for match in reversed(spaces):
        if window[max(0, match.start() - 1):match.start()] in (".", "!", "?"):
            return lo + match.start(), lo + match.end(), SENTENCE
    if spaces:
        return lo + spaces[-1].start(), lo + spaces[-1].end(), WORD
    return hi, hi, 0  # one enormous word: a hard cut


def _skip_space(text: str, position: int) -> int:
    match = _SPACE.match(text, position)
    return match.end() if match else position
