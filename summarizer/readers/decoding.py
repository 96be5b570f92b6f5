"""Bytes to text: UTF-8 first, then byte order marks, a declared charset, and detection.

Text is never refused only because it is not UTF-8; binary data (NUL bytes, or no plausible
encoding at all) is. Detection uses charset-normalizer, which is unsure on short inputs (it
can read "café" in Latin-1 as UTF-16 or as Arabic cp1006): UTF-16/32 are only believed with a
byte order mark, and windows-1252 wins when detection is unsure and it fits, because Western
European text is by far the most common non-UTF-8 input.
"""

from __future__ import annotations

import codecs
import re
import string

from .errors import BinaryData

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


def decode(data: bytes, declared: str | None = None) -> tuple[str, str | None]:
    """The text, and a one-line note when its encoding was not UTF-8 or was guessed.

    `declared` is a charset the sender named (an HTTP Content-Type); it is used when the bytes
    fit it, and detection takes over when they do not.
    """
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                break
            return text, None if label == "UTF-8" else f"decoded as {label} (byte order mark)"
    mismatch = ""
    if declared:
        try:
            text = data.decode(declared)
        except (LookupError, UnicodeDecodeError):
            mismatch = f"; the declared charset {declared} does not fit"
        else:
            if "\x00" not in text:
                return text, None
    if b"\x00" in data:
        raise BinaryData("binary file (contains NUL bytes)")
    try:
        return data.decode("utf-8"), (f"decoded as UTF-8{mismatch}" if mismatch else None)
    except UnicodeDecodeError:
        pass
    encoding = _detect(data)
    return data.decode(encoding, errors="replace"), f"decoded as {_label(encoding)} (detected{mismatch})"


def _detect(data: bytes) -> str:
    """The Python codec name of the most plausible encoding.

    charset-normalizer decides, except where it is unsure: it recognized no language
    (typical of short inputs) and the bytes look like Western European text, or
    windows-1252 fits as well as its first choice. Then windows-1252 it is.
    """
    from charset_normalizer import from_bytes

    matches = from_bytes(data, cp_exclusion=_WIDE)
    best = matches.best()
    if best is None:
        raise BinaryData("binary file (no plausible text encoding)")
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
