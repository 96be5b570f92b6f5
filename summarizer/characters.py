"""The characters a text may hold on its way to a tokenizer: one rule for every door.

The Rust tokenizers refuse a str holding a lone surrogate (`\\ud800`, which JSON can carry and
a JavaScript client makes by cutting a string inside an emoji) with a TypeError, and such a
str cannot be written as UTF-8 either. NUL and the noncharacters (U+FDD0-U+FDEF and the last
two code points of every plane) are not interchange text: a tokenizer reads them as <unk>,
and PDF text extraction emits NULs for glyphs it cannot map. Each of them is replaced by
U+FFFD, the replacement character, as a decoder with errors="replace" does: the text is
summarized, never refused for a stray character, and nothing downstream meets a character it
cannot take. The readers (files, uploads, URLs) and the pipeline (the API and the server)
clean with this one function.
"""

from __future__ import annotations

import re
from typing import Iterable, Union

REPLACEMENT = "\ufffd"
_PLANE_ENDS = "".join(chr(plane << 16 | 0xFFFE) + chr(plane << 16 | 0xFFFF) for plane in range(17))
UNFIT = re.compile(f"[\x00\ud800-\udfff\ufdd0-\ufdef{_PLANE_ENDS}]")

Text = Union[str, Iterable[str]]  # the whole text, or its blocks in order


def clean(text: str) -> str:
    """`text` with every lone surrogate, NUL and noncharacter replaced by U+FFFD (the same
    object when there is none, which is a regex scan)."""
    return UNFIT.sub(REPLACEMENT, text) if UNFIT.search(text) else text


def unfit_count(text: str) -> int:
    """How many characters `clean` replaces in `text`."""
    return len(UNFIT.findall(text))


def cleaned(text: Text) -> Text:
    """A str cleaned, or the blocks of a streamed text cleaned one by one as they are read
    (a block of a decoded str never ends inside a character). Blocks that can be read again
    (a reader's stream) still can, cleaned: the evidence reads a document twice."""
    if isinstance(text, str):
        return clean(text)
    if iter(text) is text:  # a one-shot iterator
        return (clean(block) for block in text)
    return _Cleaned(text)


class _Cleaned:
    """Blocks cleaned each time they are iterated."""

    def __init__(self, blocks: Iterable[str]):
        self.blocks = blocks
        self.blank = getattr(blocks, "blank", False)

    def __iter__(self):
        return (clean(block) for block in self.blocks)
