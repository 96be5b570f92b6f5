"""Bytes to text: UTF-8 first, then byte order marks, a declared charset, and detection.

Text is never refused only because it is not UTF-8; binary data (NUL bytes, or no plausible
encoding at all) is. Detection uses charset-normalizer, which is unsure on short inputs (it
can read "café" in Latin-1 as UTF-16 or as Arabic cp1006): UTF-16/32 are only believed with a
byte order mark, and windows-1252 wins when detection is unsure and it fits, because Western
European text is by far the most common non-UTF-8 input.

The encoding is chosen on the first block (`choose`), so a binary input is refused before the
rest is read, then checked over the whole input block by block (`settle`): where a later block
does not fit, the next rule is chosen on that block, as it would have been on the whole input.
The text is then decoded incrementally (`TextStream`), never held whole.
"""

from __future__ import annotations

import codecs
import re
import string
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Iterator

from ..characters import clean, unfit_count
from .errors import BinaryData

if TYPE_CHECKING:
    from .body import Body

_BOMS = (  # UTF-32 first: its little-endian mark begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
_WIDE = ["utf_16", "utf_16_be", "utf_16_le", "utf_32", "utf_32_be", "utf_32_le"]
_TIE = 0.01  # charset-normalizer scores are floats; closer than this is a tie
_SURE = 0.2  # coherence (how well the text fits a language) from which its guess is trusted
_HIGH_BYTES = bytes(range(0x80, 0x100))
_ASCII_LETTERS = string.ascii_letters.encode()
BOM, DECLARED, UTF8, DETECTED = range(4)  # the rules, in the order they are tried
_NUL = "binary file (contains NUL bytes)"


@dataclass(frozen=True)
class Encoding:
    """The codec a text is decoded with, the rule that chose it, and the note for stderr (None
    when it is UTF-8 or what the sender declared)."""

    codec: str
    rule: int
    note: str | None = None

    @property
    def errors(self) -> str:
        """A guessed encoding replaces what does not fit; a named or verified one must fit."""
        return "replace" if self.rule == DETECTED else "strict"


def choose(sample: bytes, declared: str | None = None, after: int = -1) -> Encoding:
    """The first rule that fits `sample` (the first block, or a later one where the rule chosen
    before did not fit): a byte order mark, the declared charset (an HTTP Content-Type), UTF-8,
    detection. Rules up to `after` are skipped: they failed on an earlier block."""
    if after < BOM:
        for bom, codec, label in _BOMS:
            if sample.startswith(bom):
                if _decodes(sample, codec) is not None:
                    return Encoding(codec, BOM, None if label == "UTF-8" else f"decoded as {label} (byte order mark)")
                break
    misfit = bool(declared) and after >= DECLARED
    if declared and after < DECLARED:
        text = _decodes(sample, declared)
        if text is not None and "\x00" not in text:
            return Encoding(declared, DECLARED)
        misfit = text is None
    mismatch = f"; the declared charset {declared} does not fit" if misfit else ""
    if b"\x00" in sample:
        raise BinaryData(_NUL)
    if after < UTF8 and _decodes(sample, "utf-8") is not None:
        return Encoding("utf-8", UTF8, f"decoded as UTF-8{mismatch}" if mismatch else None)
    encoding = _detect(sample)
    return Encoding(encoding, DETECTED, f"decoded as {_label(encoding)} (detected{mismatch})")


@dataclass(frozen=True)
class Settled:
    """What reading the whole body once told: the encoding it decodes with, whether its text
    is blank (whitespace at most), and how many characters `clean` will replace in it."""

    encoding: Encoding
    blank: bool
    unfit: int = 0


def settle(body: "Body", encoding: Encoding, declared: str | None = None) -> Settled:
    """Read the body once, block by block. Raises BinaryData for NUL characters anywhere but
    in UTF-16/32 with a BOM (where the NULs that remain are cleaned like any unfit character)."""
    while True:
        failed, settled = _check(body.chunks(), encoding)
        if failed is None:
            return settled
        encoding = choose(failed, declared, after=encoding.rule)


def _check(chunks: Iterable[bytes], encoding: Encoding) -> tuple[bytes | None, Settled]:
    """(the block that does not decode, or None; what was learnt of the text)."""
    decoder = codecs.getincrementaldecoder(encoding.codec)(errors=encoding.errors)
    blank, unfit = True, 0
    last = b""
    try:
        for chunk in chunks:
            last = chunk
            blank, unfit = _looked_at(decoder.decode(chunk), encoding, blank, unfit)
        blank, unfit = _looked_at(decoder.decode(b"", final=True), encoding, blank, unfit)
    except UnicodeDecodeError:
        return last, Settled(encoding, blank, unfit)
    return None, Settled(encoding, blank, unfit)


def _looked_at(text: str, encoding: Encoding, blank: bool, unfit: int) -> tuple[bool, int]:
    """Whether the text so far is still blank after `text`, and its unfit characters counted;
    NUL characters are refused as binary."""
    if encoding.rule != BOM and "\x00" in text:
        raise BinaryData(_NUL)
    return blank and (not text or text.isspace()), unfit + unfit_count(text)


class TextStream:
    """A text decoded a block at a time as its bytes are read, each block cleaned. Iterating
    gives str blocks and starts from the beginning each time; `blank` says whether the text is
    whitespace at most (known from `settle`, so nobody reads it only to find that out)."""

    def __init__(self, body: "Body", encoding: Encoding, blank: bool):
        self.body = body
        self.encoding = encoding
        self.blank = blank

    def __iter__(self) -> Iterator[str]:
        # "replace": the bytes were checked against this encoding; only a file changed since
        # could hold something else, and that should not stop a run.
        decoder = codecs.getincrementaldecoder(self.encoding.codec)(errors="replace")
        for chunk in self.body.chunks():
            if text := decoder.decode(chunk):
                yield clean(text)
        if text := decoder.decode(b"", final=True):
            yield clean(text)


def _decodes(sample: bytes, codec: str) -> str | None:
    """`sample` decoded, a character cut off at its end allowed; None if it does not fit."""
    try:
        return codecs.getincrementaldecoder(codec)().decode(sample)
    except (LookupError, UnicodeDecodeError):
        return None


def _samples(sample: bytes) -> list[bytes]:
    """What detection looks at: the sample cut after its last byte that surely ends a character
    (a newline, or an ASCII byte after another: never part of a longer character in UTF-8 or
    the double-byte encodings), since a block may end inside one, which would rule out the right
    encoding. With no such byte in its second half, the sample less 0 to 3 bytes."""
    for end in range(len(sample), len(sample) // 2, -1):
        byte = sample[end - 1]
        if byte == 0x0A or (byte < 0x80 and end >= 2 and sample[end - 2] < 0x80):
            return [sample[:end]]
    return [sample[:len(sample) - cut] for cut in range(min(4, len(sample)))]


def _detect(sample: bytes) -> str:
    """The Python codec name of the most plausible encoding.

    charset-normalizer decides, except where it is unsure: it recognized no language
    (typical of short inputs) and the bytes look like Western European text, or
    windows-1252 fits as well as its first choice. Then windows-1252 it is.
    """
    from charset_normalizer import from_bytes

    found = []
    for data in _samples(sample):
        matches = from_bytes(data, cp_exclusion=_WIDE)
        if matches.best() is not None:
            found.append((matches.best().chaos, -matches.best().coherence, len(found), matches, data))
    if not found:
        raise BinaryData("binary file (no plausible text encoding)")
    *_, matches, data = min(found)
    best = matches.best()
    if best.coherence < _SURE and _looks_western(data):
        return "cp1252"
    for match in matches:
        as_good = match.chaos <= best.chaos + _TIE and match.coherence >= best.coherence - _TIE
        if as_good and "cp1252" in match.could_be_from_charset:
            return "cp1252"
    return best.encoding


def _looks_western(data: bytes) -> bool:
    """Valid windows-1252 with no more non-ASCII bytes than ASCII letters: French, German or
    Spanish text in a Western code page looks so; Cyrillic, Greek or CJK text does not."""
    high = len(data) - len(data.translate(None, _HIGH_BYTES))
    letters = len(data) - len(data.translate(None, _ASCII_LETTERS))
    if high > letters:
        return False
    try:
        data.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


def _label(encoding: str) -> str:
    """The name people know an encoding by: windows-1252 rather than cp1252."""
    name = codecs.lookup(encoding).name
    if name == "iso8859-1":
        return "latin-1"
    return re.sub(r"^cp(125\d)$", r"windows-\1", name)
